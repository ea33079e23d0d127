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
      expect(() => codeChallengeS256(`${'s3cr3t'.repeat(8)}=`))
        .to.throw(TypeError, /43 to 128 characters/)
        .with.property('message')
        .that.does.not.include('s3cr3t');
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

    it('comes from the CSPRNG (crypto.randomFillSync, 4 KiB at a time), not pseudoRandomBytes', () => {
      const original = crypto.randomFillSync;
      const pseudo = (crypto as unknown as { pseudoRandomBytes?: unknown }).pseudoRandomBytes;
      const sizes: number[] = [];
      const fixed = Buffer.alloc(32, 7).toString('base64url');
      (crypto as unknown as { randomFillSync: unknown }).randomFillSync = (buffer: Buffer) => {
        sizes.push(buffer.length);
        return buffer.fill(7);
      };
      (crypto as unknown as { pseudoRandomBytes: unknown }).pseudoRandomBytes = () => {
        throw new Error('pseudoRandomBytes must not be used');
      };
      try {
        // What is left of the pool drawn before this test comes first: at most 128 values.
        let draws = 0;
        while (createCodeVerifier() !== fixed) expect(++draws).to.be.below(129);
        expect(sizes).to.deep.equal([4096]);
        expect(createState()).to.equal(fixed);
        expect(createCodeVerifier()).to.equal(fixed);
        // 128 values of 32 bytes per 4 KiB: the 129th after a refill draws again.
        for (let i = 3; i < 128; i++) createState();
        expect(sizes).to.deep.equal([4096]);
        createState();
        expect(sizes).to.deep.equal([4096, 4096]);
      } finally {
        (crypto as unknown as { randomFillSync: unknown }).randomFillSync = original;
        (crypto as unknown as { pseudoRandomBytes: unknown }).pseudoRandomBytes = pseudo;
        // Drain what the fake filled, so no later test draws it.
        for (let i = 0; i < 128; i++) createState();
      }
    });

    it('differs every time, across refills of the random pool', () => {
      const seen = new Set(Array.from({ length: 1000 }, (_, i) => (i % 2 ? createCodeVerifier() : createState())));
      expect(seen.size).to.equal(1000);
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
