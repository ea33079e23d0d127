import { expect } from 'chai';
import crypto from 'node:crypto';
import { CODE_CHALLENGE_METHOD, codeChallengeS256, createCodeVerifier, createState } from '../lib/pkce';

// RFC 7636 Appendix B ("Example for the S256 code_challenge_method").
const RFC7636_VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const RFC7636_CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

describe('PKCE', () => {
  describe('the S256 code challenge', () => {
    it('matches the vector of RFC 7636 Appendix B', () => {
      expect(codeChallengeS256(RFC7636_VERIFIER)).to.equal(RFC7636_CHALLENGE);
    });

    it('is base64url without padding, 43 characters', () => {
      const challenge = codeChallengeS256(createCodeVerifier());
      expect(challenge).to.match(/^[A-Za-z0-9_-]{43}$/);
    });

    it('refuses a verifier RFC 7636 section 4.1 does not allow, without repeating it', () => {
      for (const bad of ['short', 'a'.repeat(42), 'a'.repeat(129), `${'a'.repeat(42)}+`, `${'a'.repeat(42)} `, 42 as unknown as string]) {
        expect(() => codeChallengeS256(bad)).to.throw(TypeError, /43 to 128 characters/);
      }
      try {
        codeChallengeS256(`${'s3cr3t'.repeat(8)}=`);
        expect.fail('should have thrown');
      } catch (err) {
        expect((err as Error).message).to.not.include('s3cr3t');
      }
      expect(codeChallengeS256('a'.repeat(128))).to.match(/^[A-Za-z0-9_-]{43}$/);
    });

    it('is the only method: S256', () => {
      expect(CODE_CHALLENGE_METHOD).to.equal('S256');
    });
  });

  describe('the code verifier', () => {
    it('is 43 base64url characters (32 random bytes)', () => {
      const verifier = createCodeVerifier();
      expect(verifier).to.match(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(verifier, 'base64url')).to.have.length(32);
    });

    it('comes from crypto.randomBytes, not pseudoRandomBytes', () => {
      const original = crypto.randomBytes;
      const pseudo = (crypto as unknown as { pseudoRandomBytes?: unknown }).pseudoRandomBytes;
      let calls = 0;
      const fixed = Buffer.alloc(32, 7);
      (crypto as unknown as { randomBytes: unknown }).randomBytes = (size: number) => {
        calls++;
        expect(size).to.equal(32);
        return fixed;
      };
      (crypto as unknown as { pseudoRandomBytes: unknown }).pseudoRandomBytes = () => {
        throw new Error('pseudoRandomBytes must not be used');
      };
      try {
        expect(createCodeVerifier()).to.equal(fixed.toString('base64url'));
        expect(createState()).to.equal(fixed.toString('base64url'));
        expect(calls).to.equal(2);
      } finally {
        (crypto as unknown as { randomBytes: unknown }).randomBytes = original;
        (crypto as unknown as { pseudoRandomBytes: unknown }).pseudoRandomBytes = pseudo;
      }
    });

    it('differs every time', () => {
      const seen = new Set(Array.from({ length: 200 }, () => createCodeVerifier()));
      expect(seen.size).to.equal(200);
    });
  });

  describe('the state', () => {
    it('carries at least 128 random bits and is URL-safe', () => {
      const state = createState();
      expect(state).to.match(/^[A-Za-z0-9_-]+$/);
      expect(Buffer.from(state, 'base64url').length * 8).to.be.at.least(128);
      expect(new Set(Array.from({ length: 200 }, () => createState())).size).to.equal(200);
    });
  });
});
