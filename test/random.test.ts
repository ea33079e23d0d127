import { expect } from 'chai';
import crypto from 'node:crypto';
import { createNonce } from '../lib/oauth1-signature';
import { createState } from '../lib/pkce';
import { randomString } from '../lib/random';

describe('random: the CSPRNG pool of a sign-in', () => {
  it('hands out values of any size from one 4 KiB draw of crypto.randomFillSync, each byte once', () => {
    const original = crypto.randomFillSync;
    const fills: number[] = [];
    let counter = 0;
    // Each fill numbers its bytes, so every value shows which bytes of which fill it got.
    (crypto as unknown as { randomFillSync: unknown }).randomFillSync = (buffer: Buffer) => {
      fills.push(buffer.length);
      for (let i = 0; i < buffer.length; i++) buffer[i] = (counter + i) & 0xff;
      counter += 7;
      return buffer;
    };
    try {
      // Use up what earlier tests left: single bytes until one draws a fill (at most 4096 of them).
      let drained = 0;
      while (fills.length === 0) {
        expect(++drained).to.be.at.most(4096);
        randomString(1, 'hex');
      }
      // The byte just drawn was byte 0 of the fill: the rest of it, 4095 bytes, fits without another.
      const fill = counter - 7;
      const rest = Buffer.from(randomString(4095, 'hex'), 'hex');
      expect(fills).to.have.length(1);
      expect([...rest.subarray(0, 3)]).to.deep.equal([(fill + 1) & 0xff, (fill + 2) & 0xff, (fill + 3) & 0xff]);
      expect(rest[4094]).to.equal((fill + 4095) & 0xff);
      // Sizes as a sign-in mixes them: a 16-byte nonce and 32-byte verifiers and states.
      const nonce = createNonce();
      expect(nonce).to.match(/^[0-9a-f]{32}$/);
      expect(fills, 'nothing is left: the nonce draws a fresh 4 KiB').to.have.length(2);
      expect(Buffer.from(nonce, 'hex')[0]).to.equal((counter - 7) & 0xff);
      const state = Buffer.from(createState(), 'base64url');
      expect(state).to.have.length(32);
      // The bytes right after the nonce's, in the same fill.
      expect(state[0]).to.equal((counter - 7 + 16) & 0xff);
      expect(fills.every((size) => size === 4096)).to.equal(true);
    } finally {
      (crypto as unknown as { randomFillSync: unknown }).randomFillSync = original;
      // Draw past what the fake filled, so no later test gets its bytes.
      randomString(4096, 'hex');
    }
  });

  it('never repeats a value, across refills and sizes', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 3000; i++) seen.add(i % 3 === 0 ? createNonce() : i % 3 === 1 ? createState() : randomString(16, 'base64url'));
    expect(seen.size).to.equal(3000);
  });

  it('writes hex and unpadded base64url of exactly the bytes asked for', () => {
    for (const bytes of [1, 15, 16, 32, 100]) {
      expect(Buffer.from(randomString(bytes, 'hex'), 'hex')).to.have.length(bytes);
      const b64 = randomString(bytes, 'base64url');
      expect(b64).to.match(/^[A-Za-z0-9_-]+$/);
      expect(Buffer.from(b64, 'base64url')).to.have.length(bytes);
    }
  });
});
