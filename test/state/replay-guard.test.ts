import { expect } from 'chai';
import { createHash } from 'node:crypto';
import nock from 'nock';
import { XReplayGuardError } from '../../lib/errors';
import { XOAuth1Strategy, type XOAuth1StrategyOptions } from '../../lib/oauth1-strategy';
import { XOAuth2PkceStrategy, type XOAuth2StrategyOptions } from '../../lib/oauth2-strategy';
import type { XAuthRequest } from '../../lib/request';
import { EncryptedCookieStateStore } from '../../lib/state/encrypted-cookie';
import { MAX_CLOCK_SKEW_MS, PENDING_TTL_MS } from '../../lib/state/pending';
import { XPkceSessionStore, type PkceStateVerified, type XPkceStateStore } from '../../lib/state/pkce-session';
import {
  DEFAULT_MAX_REPLAY_CLAIMS,
  MemoryReplayGuard,
  REPLAY_GUARD_KEY_PREFIX,
  callbackClaimGuard,
  callbackClaimKey,
  callbackClaimKeys,
  claimCallback,
  claimTtlOf,
  keyFingerprint,
  signInInProgress,
  type CallbackClaim,
  type XReplayGuard,
} from '../../lib/state/replay-guard';
import { XRequestTokenSessionStore, type RequestTokenLoaded, type XRequestTokenStore } from '../../lib/state/request-token-session';
import { failureStatus, XFailureCode } from '../../lib/failure';
import { expectNoSecrets, failureHint } from '../support/assertions';
import { fakeRequest, runStrategy, type StrategyOutcome } from '../support/passport-harness';

const X = 'https://api.x.com';
const CALLBACK = 'http://127.0.0.1:3000/auth/x/callback';
const HOST = { host: '127.0.0.1:3000' };
const CLIENT_ID = 'client-id-claims';
const CLIENT_SECRET = 'client-secret-claims-value';
const CONSUMER_KEY = 'consumer-key-claims';
const CONSUMER_SECRET = 'consumer-secret-claims-value';
const CODE = 'authorization-code-claims-1';
const VERIFIER = 'oauth-verifier-claims-1';
const REQUEST_TOKEN = 'request-token-claims-1';
const REQUEST_SECRET = 'request-secret-claims-1';
const CODE_VERIFIER = 'v'.repeat(43);
const COOKIE_SECRET = 'replay-guard-test-cookie-secret-32+chars';
const TOKEN_ANSWER = JSON.stringify({ token_type: 'bearer', expires_in: 7200, access_token: 'access-token-claims', scope: 'tweet.read users.read' });
const ACCESS_ANSWER = 'oauth_token=42-access-token-claims&oauth_token_secret=access-secret-claims&user_id=42&screen_name=ada';
const IN_PROGRESS = 'This sign-in is already being completed. If nothing happens, sign in again.';

/** A clock the test moves. */
function clock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

/** A guard that answers as told and records every claim. */
function recordingGuard(answer: (key: string, ttlMs: number) => unknown = () => true): XReplayGuard & { calls: Array<[string, number]> } {
  const calls: Array<[string, number]> = [];
  return {
    calls,
    claim(key, ttlMs) {
      calls.push([key, ttlMs]);
      return answer(key, ttlMs) as Promise<boolean>;
    },
  };
}

describe('MemoryReplayGuard', () => {
  it('answers true to the first claim of a key and false to every later one', async () => {
    const guard = new MemoryReplayGuard();
    expect(await guard.claim('k1', 60_000)).to.equal(true);
    expect(await guard.claim('k1', 60_000)).to.equal(false);
    expect(await guard.claim('k1', 60_000)).to.equal(false);
    expect(await guard.claim('k2', 60_000), 'another key').to.equal(true);
  });

  it('answers synchronously through claimNow, sharing its claims with claim', async () => {
    const guard = new MemoryReplayGuard();
    expect(guard.claimNow('k', 60_000)).to.equal(true);
    expect(await guard.claim('k', 60_000)).to.equal(false);
    expect(() => guard.claimNow('', 60_000)).to.throw(TypeError, /`key`/);
  });

  it('gives a key to exactly one of 200 concurrent claimers', async () => {
    const guard = new MemoryReplayGuard();
    const answers = await Promise.all(Array.from({ length: 200 }, () => guard.claim('contended', 60_000)));
    expect(answers.filter((a) => a)).to.have.length(1);
  });

  it('lets a claim expire after its ttlMs, and not a millisecond before', async () => {
    const c = clock();
    const guard = new MemoryReplayGuard({ now: c.now });
    expect(await guard.claim('k', 1000)).to.equal(true);
    c.advance(999);
    expect(await guard.claim('k', 1000)).to.equal(false);
    c.advance(1);
    expect(await guard.claim('k', 1000)).to.equal(true);
    expect(await guard.claim('k', 1000), 'claimed anew').to.equal(false);
  });

  it('expires a short claim on time even behind a longer one', async () => {
    const c = clock();
    const guard = new MemoryReplayGuard({ now: c.now });
    await guard.claim('long', 60_000);
    await guard.claim('short', 1000);
    c.advance(1000);
    expect(await guard.claim('short', 1000)).to.equal(true);
    expect(await guard.claim('long', 60_000)).to.equal(false);
  });

  it('keeps expiries exact long after it was made (times kept relative to its creation)', async () => {
    const c = clock();
    const guard = new MemoryReplayGuard({ now: c.now });
    // 40 days on: past 2^31 ms after the guard's creation, where a small-integer offset would overflow.
    c.advance(40 * 24 * 3600 * 1000);
    expect(await guard.claim('k', 1000)).to.equal(true);
    c.advance(999);
    expect(await guard.claim('k', 1000), '1 ms before expiry').to.equal(false);
    c.advance(1);
    expect(await guard.claim('k', 1000), 'at expiry').to.equal(true);
    // A clock that goes back before the guard's creation (NTP) still compares right.
    const back = clock();
    const early = new MemoryReplayGuard({ now: back.now });
    back.advance(-5000);
    expect(await early.claim('k', 1000)).to.equal(true);
    back.advance(999);
    expect(await early.claim('k', 1000)).to.equal(false);
    back.advance(1);
    expect(await early.claim('k', 1000)).to.equal(true);
  });

  it('prunes expired claims from the oldest end as new ones come, without any timer', async () => {
    const c = clock();
    const guard = new MemoryReplayGuard({ now: c.now });
    const timers: string[] = [];
    const { setTimeout: realTimeout, setInterval: realInterval } = globalThis;
    globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => (timers.push('setTimeout'), realTimeout(...args))) as typeof setTimeout;
    globalThis.setInterval = ((...args: Parameters<typeof setInterval>) => (timers.push('setInterval'), realInterval(...args))) as typeof setInterval;
    try {
      for (let i = 0; i < 500; i++) await guard.claim(`k${i}`, 1000);
    } finally {
      globalThis.setTimeout = realTimeout;
      globalThis.setInterval = realInterval;
    }
    expect(timers, 'no timer').to.deep.equal([]);
    expect(guard.size).to.equal(500);
    c.advance(1000);
    await guard.claim('fresh', 1000);
    expect(guard.size, 'only the new claim is left').to.equal(1);
  });

  it(`keeps at most maxEntries claims (default ${DEFAULT_MAX_REPLAY_CLAIMS}), dropping the oldest`, async () => {
    expect(new MemoryReplayGuard().maxEntries).to.equal(10_000);
    const guard = new MemoryReplayGuard({ maxEntries: 3 });
    for (const key of ['a', 'b', 'c', 'd']) expect(await guard.claim(key, 60_000)).to.equal(true);
    expect(guard.size).to.equal(3);
    expect(await guard.claim('d', 60_000), 'the newest stays').to.equal(false);
    expect(await guard.claim('b', 60_000)).to.equal(false);
    expect(await guard.claim('a', 60_000), 'the oldest was dropped').to.equal(true);
    expect(guard.size).to.equal(3);
  });

  it('stays exact over many evictions (its heap holds the live claims only)', async () => {
    const guard = new MemoryReplayGuard({ maxEntries: 10 });
    for (let i = 0; i < 3000; i++) expect(guard.claimNow(`k${i}`, 60_000)).to.equal(true);
    const internals = guard as unknown as { keys: unknown[]; expiries: number[]; orders: number[] };
    expect(internals.keys.length, 'one heap entry per claim held').to.equal(10);
    expect(internals.expiries.length, 'one expiry per queued key').to.equal(internals.keys.length);
    expect(internals.orders.length, 'one claim order per queued key').to.equal(internals.keys.length);
    expect(guard.size).to.equal(10);
    for (let i = 2990; i < 3000; i++) expect(guard.claimNow(`k${i}`, 60_000), `k${i} still held`).to.equal(false);
    expect(guard.claimNow('k2989', 60_000), 'k2989 was evicted').to.equal(true);
  });

  it('keeps its memory bounded when keys are claimed again behind a long claim', async () => {
    const c = clock();
    const guard = new MemoryReplayGuard({ now: c.now, maxEntries: 4 });
    await guard.claim('long', 3_600_000);
    for (let i = 0; i < 200; i++) {
      expect(await guard.claim('again', 10), `claim ${i}`).to.equal(true);
      c.advance(10);
    }
    const internals = guard as unknown as { keys: unknown[]; expiries: number[] };
    expect(internals.keys.length, 'queued claims: the long one and the last').to.equal(2);
    expect(internals.expiries.length, 'one expiry per queued key').to.equal(internals.keys.length);
    expect(guard.size).to.equal(2);
    expect(await guard.claim('long', 3_600_000), 'the long claim still holds').to.equal(false);
  });

  it('drops expired claims before a live one at its bound, whatever their TTLs (one guard for stores of different ttlMs)', () => {
    const c = clock();
    const guard = new MemoryReplayGuard({ now: c.now, maxEntries: 4 });
    // A claim of a store that keeps sign-ins for an hour (61 minutes), then four of one that keeps them 10 minutes (11).
    expect(guard.claimNow('long', 61 * 60_000)).to.equal(true);
    for (let i = 0; i < 4; i++) {
      expect(guard.claimNow(`short${i}`, 11 * 60_000)).to.equal(true);
      c.advance(1000);
    }
    c.advance(11 * 60_000);
    expect(guard.claimNow('new', 11 * 60_000)).to.equal(true);
    expect(guard.size, 'the four expired claims are gone').to.equal(2);
    expect(guard.claimNow('long', 61 * 60_000), 'the long claim, 49 minutes left, still holds').to.equal(false);
    for (let i = 0; i < 4; i++) expect(guard.claimNow(`short${i}`, 11 * 60_000), `short${i} expired`).to.equal(true);
  });

  it('at its bound with every claim live, drops the one nearest its expiry, not the oldest', () => {
    const c = clock();
    const guard = new MemoryReplayGuard({ now: c.now, maxEntries: 3 });
    expect(guard.claimNow('long', 61 * 60_000)).to.equal(true);
    c.advance(1000);
    expect(guard.claimNow('short-a', 11 * 60_000)).to.equal(true);
    c.advance(1000);
    expect(guard.claimNow('short-b', 11 * 60_000)).to.equal(true);
    c.advance(1000);
    expect(guard.claimNow('short-c', 11 * 60_000)).to.equal(true);
    expect(guard.size).to.equal(3);
    expect(guard.claimNow('long', 61 * 60_000), 'the oldest claim, which expires last, stays').to.equal(false);
    expect(guard.claimNow('short-b', 11 * 60_000)).to.equal(false);
    expect(guard.claimNow('short-c', 11 * 60_000)).to.equal(false);
    expect(guard.claimNow('short-a', 11 * 60_000), 'the claim nearest its expiry was dropped').to.equal(true);
  });

  it('at its bound, never drops the claim it is making, even one that expires before all the others', () => {
    const c = clock();
    const guard = new MemoryReplayGuard({ now: c.now, maxEntries: 3 });
    // Full of claims of a store that keeps sign-ins for an hour (or someone filled it with them).
    for (const key of ['long-a', 'long-b', 'long-c']) expect(guard.claimNow(key, 61 * 60_000)).to.equal(true);
    // Five copies of one callback of a strategy whose claims last 11 minutes: only the first goes on.
    const answers = Array.from({ length: 5 }, () => guard.claimNow('short', 11 * 60_000));
    expect(answers).to.deep.equal([true, false, false, false, false]);
    expect(guard.size).to.equal(3);
    expect(guard.claimNow('long-a', 61 * 60_000), 'the long claim nearest its expiry made room').to.equal(true);
    expect(guard.claimNow('short', 11 * 60_000), 'the short claim made room for long-a, after its copies were refused').to.equal(true);
  });

  it('at its bound, refuses every concurrent copy of a callback through claim() as well', async () => {
    const guard = new MemoryReplayGuard({ maxEntries: 2 });
    expect(await guard.claim('long-a', 61 * 60_000)).to.equal(true);
    expect(await guard.claim('long-b', 61 * 60_000)).to.equal(true);
    const answers = await Promise.all(Array.from({ length: 5 }, () => guard.claim('short', 11 * 60_000)));
    expect(answers.filter(Boolean)).to.have.length(1);
  });

  it('at the default bound, keeps a long claim through an hour of short claims at 3 a second', () => {
    const c = clock();
    const guard = new MemoryReplayGuard({ now: c.now });
    expect(guard.claimNow('long', 61 * 60_000)).to.equal(true);
    // 60 minutes of sign-ins at 3.3 a second on strategies whose claims last 11 minutes: about 2,200 live at a time.
    for (let i = 0; i < 12_000; i++) {
      c.advance(300);
      expect(guard.claimNow(`s${i}`, 11 * 60_000)).to.equal(true);
    }
    expect(guard.size).to.be.at.most(11 * 60_000 / 300 + 1);
    expect(guard.claimNow('long', 61 * 60_000), 'the long claim still holds after an hour').to.equal(false);
  });

  it('rejects a bad key or ttlMs, and refuses bad options, naming them', async () => {
    const guard = new MemoryReplayGuard();
    for (const key of ['', undefined, 42]) {
      let err: unknown;
      await guard.claim(key as string, 1000).catch((e: unknown) => (err = e));
      expect(err).to.be.instanceOf(TypeError).with.property('message').that.match(/`key`/);
    }
    for (const ttl of [0, -1, Number.NaN, Infinity, '1000']) {
      let err: unknown;
      await guard.claim('k', ttl as number).catch((e: unknown) => (err = e));
      expect(err).to.be.instanceOf(RangeError).with.property('message').that.match(/`ttlMs`/);
    }
    expect(() => new MemoryReplayGuard({ maxEntries: 0 })).to.throw(TypeError, /`maxEntries`/);
    expect(() => new MemoryReplayGuard({ maxEntries: 1.5 })).to.throw(TypeError, /`maxEntries`/);
    expect(() => new MemoryReplayGuard({ now: 5 as unknown as () => number })).to.throw(TypeError, /`now`/);
    expect(() => new MemoryReplayGuard(null as unknown as object)).to.throw(TypeError, /options object/);
  });
});

describe('callbackClaimKey', () => {
  const base: CallbackClaim = { protocol: 'oauth2', strategy: 'x-oauth2', client: CLIENT_ID, redirectURI: CALLBACK, handle: 'state-value-1' };

  it('is passport-x:claim: and a base64url SHA-256, the same for the same callback, holding no state or token', () => {
    const key = callbackClaimKey(base);
    expect(key).to.match(new RegExp(`^${REPLAY_GUARD_KEY_PREFIX}[A-Za-z0-9_-]{43}$`));
    expect(callbackClaimKey({ ...base })).to.equal(key);
    expect(key).to.not.include(base.handle).and.not.include(CLIENT_ID);
  });

  it('differs when any part differs, without ambiguity between parts', () => {
    const keys = new Set(
      [
        base,
        { ...base, protocol: 'oauth1' as const },
        { ...base, strategy: 'x-oauth2-other' },
        { ...base, client: 'another-client' },
        { ...base, redirectURI: 'http://127.0.0.1:3000/other' },
        { ...base, redirectURI: undefined },
        { ...base, handle: 'state-value-2' },
        { ...base, strategy: 'x-oauth2","client-id-claims', client: '' },
      ].map(callbackClaimKey),
    );
    expect(keys.size).to.equal(8);
  });

  it('keeps its format, so instances of different versions behind one guard contend for the same key', () => {
    // The base64url SHA-256 of the JSON array of the parts, as every version since the guard's first wrote it.
    const parts = ['oauth2', 'x-oauth2', CLIENT_ID, CALLBACK, 'state-value-1'];
    expect(callbackClaimKey(base)).to.equal(`passport-x:claim:${createHash('sha256').update(JSON.stringify(parts)).digest('base64url')}`);
    const oauth1 = ['oauth1', 'x-oauth1', CLIENT_ID, '', 'request-token'];
    expect(callbackClaimKey({ protocol: 'oauth1', strategy: 'x-oauth1', client: CLIENT_ID, handle: 'request-token' })).to.equal(
      `passport-x:claim:${createHash('sha256').update(JSON.stringify(oauth1)).digest('base64url')}`,
    );
  });
});

describe('callbackClaimKeys', () => {
  // The key's format written out: the base64url SHA-256 of the JSON array of the five parts.
  const expected = (parts: string[]): string => `${REPLAY_GUARD_KEY_PREFIX}${createHash('sha256').update(JSON.stringify(parts)).digest('base64url')}`;

  it('makes the keys of the format callbackClaimKey documents, for handles JSON has to escape too', () => {
    const fixed = { protocol: 'oauth2' as const, strategy: 'x-oauth2 "quoted"', client: CLIENT_ID, redirectURI: CALLBACK };
    const keyOf = callbackClaimKeys(fixed);
    for (const handle of ['state-value-1', '', 'a"b\\c', 'line\nbreak', 'caf\u00e9 \u2028 \ud83d\ude00', '\ud800 lone', '],["x"']) {
      expect(keyOf(handle)).to.equal(expected(['oauth2', 'x-oauth2 "quoted"', CLIENT_ID, CALLBACK, handle]));
      expect(keyOf(handle)).to.equal(callbackClaimKey({ ...fixed, handle }));
    }
    const oauth1 = callbackClaimKeys({ protocol: 'oauth1', strategy: 'x-oauth1', client: CLIENT_ID });
    expect(oauth1('request-token')).to.equal(expected(['oauth1', 'x-oauth1', CLIENT_ID, '', 'request-token']));
  });
});

describe('callbackClaimGuard', () => {
  const fixed = { protocol: 'oauth2' as const, strategy: 'x-oauth2', client: CLIENT_ID, redirectURI: CALLBACK };

  it('gives a strategy without a replayGuard option its own MemoryReplayGuard, keyed by the handle itself (no hash)', async () => {
    const own = callbackClaimGuard(undefined, 'XOAuth2PkceStrategy', fixed);
    const other = callbackClaimGuard(undefined, 'XOAuth2PkceStrategy', fixed);
    expect(own.guard).to.be.instanceOf(MemoryReplayGuard);
    expect(own.guard).to.not.equal(other.guard);
    expect(own.key('state-value-1')).to.equal('state-value-1');
    expect(await own.guard.claim(own.key('state-value-1'), 60_000)).to.equal(true);
    expect(await own.guard.claim(own.key('state-value-1'), 60_000)).to.equal(false);
    expect(await own.guard.claim(own.key('state-value-2'), 60_000)).to.equal(true);
  });

  it('keys the claims in a guard the app gives (shared, or Redis) as callbackClaimKeys does, and refuses what is no guard', () => {
    const guard = new MemoryReplayGuard();
    const given = callbackClaimGuard(guard, 'XOAuth2PkceStrategy', fixed);
    expect(given.guard).to.equal(guard);
    expect(given.key('state-value-1')).to.equal(callbackClaimKeys(fixed)('state-value-1'));
    expect(given.key('state-value-1').startsWith(REPLAY_GUARD_KEY_PREFIX)).to.equal(true);
    expect(() => callbackClaimGuard({}, 'XOAuth2PkceStrategy', fixed)).to.throw(TypeError, /XOAuth2PkceStrategy: `replayGuard` must be an object with a claim/);
    expect(() => callbackClaimGuard(null, 'XOAuth1Strategy', fixed)).to.throw(TypeError, /XOAuth1Strategy: `replayGuard`/);
  });
});

describe('keyFingerprint', () => {
  it('is a safe integer, the same for the same key, and different for keys one character apart', () => {
    const key = callbackClaimKey({ protocol: 'oauth2', strategy: 'x-oauth2', client: CLIENT_ID, redirectURI: CALLBACK, handle: 'state-value-1' });
    const fingerprint = keyFingerprint(key);
    expect(Number.isSafeInteger(fingerprint)).to.equal(true);
    expect(fingerprint).to.be.at.least(0);
    expect(keyFingerprint(`${key}`)).to.equal(fingerprint);
    const near = [`${key.slice(0, -1)}A`, `${key}x`, key.slice(1), 'a', 'b', '\ud800', '\u0100', '\u0001'];
    expect(new Set([fingerprint, ...near.map(keyFingerprint)]).size).to.equal(near.length + 1);
  });

  it('gives 200,000 claim keys and 200,000 short keys 400,000 fingerprints, spread over the high and low bits', () => {
    const seen = new Set<number>();
    let high = 0;
    let odd = 0;
    for (let i = 0; i < 200_000; i++) {
      for (const key of [callbackClaimKey({ protocol: 'oauth2', strategy: 'x-oauth2', client: CLIENT_ID, redirectURI: CALLBACK, handle: `state-${i}` }), `k${i}`]) {
        const f = keyFingerprint(key);
        seen.add(f);
        if (f >= 2 ** 52) high += 1;
        if (f % 2 === 1) odd += 1;
      }
    }
    expect(seen.size).to.equal(400_000);
    // About half of them each way: the top bit and the bottom bit both move.
    expect(high).to.be.within(190_000, 210_000);
    expect(odd).to.be.within(190_000, 210_000);
  });
});

describe('claimTtlOf', () => {
  it("is the store's ttlMs for every built-in store, and 10 minutes for a store that does not say", () => {
    // And a minute more than the store's lifetime, for clocks that disagree (MAX_CLOCK_SKEW_MS).
    expect(MAX_CLOCK_SKEW_MS).to.equal(60_000);
    expect(claimTtlOf(new XPkceSessionStore({ ttlMs: 120_000 }))).to.equal(120_000 + MAX_CLOCK_SKEW_MS);
    expect(claimTtlOf(new XRequestTokenSessionStore({ ttlMs: 90_000 }))).to.equal(90_000 + MAX_CLOCK_SKEW_MS);
    expect(claimTtlOf(new EncryptedCookieStateStore({ secret: COOKIE_SECRET, maxAgeMs: 300_000 }))).to.equal(300_000 + MAX_CLOCK_SKEW_MS);
    expect(claimTtlOf(new XPkceSessionStore())).to.equal(PENDING_TTL_MS + MAX_CLOCK_SKEW_MS);
    expect(claimTtlOf({ verify() {} })).to.equal(PENDING_TTL_MS + MAX_CLOCK_SKEW_MS);
    expect(claimTtlOf({ ttlMs: -5 })).to.equal(PENDING_TTL_MS + MAX_CLOCK_SKEW_MS);
  });

  it('refuses a custom store whose sign-ins would live over an hour (a claim that long would fail every callback on Redis\'s PX), naming store.ttlMs', () => {
    expect(claimTtlOf({ ttlMs: 3_600_000 })).to.equal(3_600_000 + MAX_CLOCK_SKEW_MS);
    for (const ttlMs of [3_600_001, 1e20, Infinity]) expect(() => claimTtlOf({ ttlMs }), String(ttlMs)).to.throw(TypeError, /state store's `ttlMs`.*at most 3600000 ms \(1 hour\)/);
  });

  it('is whole milliseconds, rounded up, for a store that lives a fraction of one: a guard (Redis PX) refuses anything else', () => {
    const ttlMs = (5 * 60_000) / 7;
    expect(new XRequestTokenSessionStore({ ttlMs }).ttlMs).to.equal(ttlMs);
    expect(claimTtlOf(new XRequestTokenSessionStore({ ttlMs }))).to.equal(42_858 + MAX_CLOCK_SKEW_MS);
    expect(claimTtlOf(new XPkceSessionStore({ ttlMs: 0.5 }))).to.equal(1 + MAX_CLOCK_SKEW_MS);
    expect(Number.isInteger(claimTtlOf(new EncryptedCookieStateStore({ secret: COOKIE_SECRET, maxAgeMs: 1000.25 })))).to.equal(true);
  });
});

describe('claimCallback', () => {
  function claimed(guard: XReplayGuard, timeoutMs = 1000): Promise<{ err: XReplayGuardError | null; claimed?: boolean | undefined; sync: boolean }> {
    return new Promise((resolve) => {
      let returned = false;
      claimCallback(guard, 'passport-x:claim:k', 1000, timeoutMs, (err, ok) => resolve({ err, claimed: ok, sync: !returned }));
      returned = true;
    });
  }

  it('calls back asynchronously with the guard\'s answer', async () => {
    expect(await claimed(recordingGuard(async () => true))).to.deep.equal({ err: null, claimed: true, sync: false });
    expect(await claimed(recordingGuard(async () => false))).to.deep.equal({ err: null, claimed: false, sync: false });
  });

  it('turns a rejection, a throw, a non-boolean answer and silence into an XReplayGuardError', async () => {
    const down = new Error('connect ECONNREFUSED 127.0.0.1:6379');
    const rejected = await claimed(recordingGuard(() => Promise.reject(down)));
    expect(rejected.err).to.be.instanceOf(XReplayGuardError).and.include({ code: 'X_REPLAY_GUARD_FAILED', cause: down });
    expect(rejected.err!.message).to.match(/stopped before anything was sent to X/).and.match(/Redis is reachable/);
    const thrown = await claimed(recordingGuard(() => {
      throw down;
    }));
    expect(thrown.err).to.be.instanceOf(XReplayGuardError).and.include({ cause: down });
    expect(thrown.sync, 'even a synchronous throw is reported asynchronously').to.equal(false);
    for (const answer of ['OK', 1, null, undefined]) {
      const odd = await claimed(recordingGuard(async () => answer));
      expect(odd.err).to.be.instanceOf(XReplayGuardError);
      expect(odd.err!.message).to.match(/instead of true or false/);
    }
    const started = Date.now();
    const hung = await claimed(recordingGuard(() => new Promise(() => undefined)), 50);
    expect(hung.err).to.be.instanceOf(XReplayGuardError);
    expect(hung.err!.message).to.match(/did not answer within 50 ms/);
    expect(Date.now() - started).to.be.below(1000);
  });

  it('uses the in-process guard directly, yet honours a subclass that overrides claim()', async () => {
    expect(await claimed(new MemoryReplayGuard())).to.deep.equal({ err: null, claimed: true, sync: false });
    class Refusing extends MemoryReplayGuard {
      override async claim(): Promise<boolean> {
        return false;
      }
    }
    expect(await claimed(new Refusing())).to.deep.equal({ err: null, claimed: false, sync: false });
  });

  it('reports a bad key given to the in-process guard as an XReplayGuardError', async () => {
    const result = await new Promise<{ err: XReplayGuardError | null }>((resolve) => claimCallback(new MemoryReplayGuard(), '', 1000, 1000, (err) => resolve({ err })));
    expect(result.err).to.be.instanceOf(XReplayGuardError);
    expect(result.err!.cause).to.be.instanceOf(TypeError);
  });

  it('calls back once when the guard answers after its time-out', async () => {
    let answer: (v: boolean) => void = () => undefined;
    const calls: unknown[] = [];
    claimCallback(recordingGuard(() => new Promise((r) => (answer = r))), 'k', 1000, 20, (err, ok) => calls.push(err ?? ok));
    await new Promise((r) => setTimeout(r, 60));
    answer(true);
    await new Promise((r) => setTimeout(r, 10));
    expect(calls).to.have.length(1);
    expect(calls[0]).to.be.instanceOf(XReplayGuardError);
  });
});

// ---------------------------------------------------------------------------------------------
// The strategies' claim: the same behaviour over both protocols.

/** A Node-like response for EncryptedCookieStateStore: collects Set-Cookie. */
function fakeResponse(): { setHeader(n: string, v: unknown): void; getHeader(n: string): unknown; appendHeader(n: string, v: string): void; headersSent: boolean; cookies: string[] } {
  const cookies: string[] = [];
  return {
    cookies,
    headersSent: false,
    setHeader: (_n, v) => cookies.splice(0, cookies.length, ...(v as string[])),
    getHeader: () => cookies,
    appendHeader: (_n, v) => void cookies.push(v),
  };
}

/** The `Cookie` header a browser would send back for these Set-Cookie lines. */
function cookieHeader(setCookies: string[]): string {
  return setCookies.map((c) => c.split(';')[0]).join('; ');
}

/** A custom OAuth 2.0 store accepting one state, counting how often it is asked. */
function countingPkceStore(): XPkceStateStore & { verified: number } {
  const store = {
    verified: 0,
    store: (_req: XAuthRequest, _v: string, _s: unknown, _m: unknown, cb: (e: Error | null, h?: string) => void) => cb(null, 'state-claims-1'),
    verify(_req: XAuthRequest, state: string, cb: PkceStateVerified) {
      store.verified++;
      cb(null, state === 'state-claims-1' ? CODE_VERIFIER : false, state === 'state-claims-1' ? undefined : { message: 'unknown state' });
    },
  };
  return store;
}

/** A custom OAuth 1.0a store that knows one request token (never consumed), counting how often it is asked. */
function countingTokenStore(): XRequestTokenStore & { read: number } {
  const store = {
    read: 0,
    get(_req: XAuthRequest, token: string, cb: RequestTokenLoaded) {
      store.read++;
      cb(null, token === REQUEST_TOKEN ? REQUEST_SECRET : false, token === REQUEST_TOKEN ? undefined : { message: 'unknown token' });
    },
    set: (_r: XAuthRequest, _t: string, _s: string, _st: unknown, _m: object, cb: (e?: Error | null) => void) => cb(null),
    destroy: (_r: XAuthRequest, _t: string, cb: (e?: Error | null) => void) => cb(null),
  };
  return store;
}

interface Flow {
  protocol: 'OAuth 2.0' | 'OAuth 1.0a';
  what: 'state' | 'request token';
  /** The path of the exchange at X. */
  exchange: string;
  /** A strategy with these options, over a counting custom store unless `store` is given; no profile request. */
  make(options?: { replayGuard?: XReplayGuard; store?: object; timeoutMs?: number; name?: string }): XOAuth1Strategy | XOAuth2PkceStrategy;
  /** The callback query for a handle. */
  query(handle: string): Record<string, string>;
  /** The handle the counting store knows. */
  handle: string;
  /** Intercepts `times` exchanges at X. */
  nockExchange(times?: number): nock.Scope;
  /** A built-in session store for this protocol. */
  sessionStore(): object;
  /** How often the counting store was asked, given the strategy's store. */
  asked(store: object): number;
  /** The key the strategy claims for `handle` (default options). */
  key(handle: string): string;
  /** Starts a sign-in over `store` and answers the handle and the request's Set-Cookie lines. */
  start(s: XOAuth1Strategy | XOAuth2PkceStrategy, session: Record<string, unknown>): Promise<{ handle: string; setCookies: string[] }>;
}

const FLOWS: Flow[] = [
  {
    protocol: 'OAuth 2.0',
    what: 'state',
    exchange: '/2/oauth2/token',
    make: (o = {}) =>
      new XOAuth2PkceStrategy(
        { clientID: CLIENT_ID, clientSecret: CLIENT_SECRET, callbackURL: CALLBACK, skipUserProfile: true, scope: ['tweet.read'], store: countingPkceStore(), ...o } as XOAuth2StrategyOptions,
        (accessToken, _r, _p, done) => done(null, { accessToken }),
      ),
    query: (state) => ({ code: CODE, state }),
    handle: 'state-claims-1',
    nockExchange: (times = 1) => nock(X).post('/2/oauth2/token').times(times).reply(200, TOKEN_ANSWER, { 'content-type': 'application/json' }),
    sessionStore: () => new XPkceSessionStore(),
    asked: (store) => (store as { verified: number }).verified,
    key: (handle) => callbackClaimKey({ protocol: 'oauth2', strategy: 'x-oauth2', client: CLIENT_ID, redirectURI: CALLBACK, handle }),
    async start(s, session) {
      const res = fakeResponse();
      const req = Object.assign(fakeRequest({ session, headers: HOST }), { res });
      const started = await runStrategy(s, req);
      expect(started.type, started.error?.message).to.equal('redirect');
      return { handle: new URL(started.url!).searchParams.get('state')!, setCookies: res.cookies };
    },
  },
  {
    protocol: 'OAuth 1.0a',
    what: 'request token',
    exchange: '/oauth/access_token',
    make: (o = {}) =>
      new XOAuth1Strategy(
        { consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, callbackURL: CALLBACK, skipExtendedUserProfile: true, store: countingTokenStore() as XRequestTokenStore, ...o } as XOAuth1StrategyOptions,
        (token, _s, _p, done) => done(null, { token }),
      ),
    query: (token) => ({ oauth_token: token, oauth_verifier: VERIFIER }),
    handle: REQUEST_TOKEN,
    nockExchange: (times = 1) => nock(X).post('/oauth/access_token').times(times).reply(200, ACCESS_ANSWER),
    sessionStore: () => new XRequestTokenSessionStore(),
    asked: (store) => (store as { read: number }).read,
    key: (handle) => callbackClaimKey({ protocol: 'oauth1', strategy: 'x-oauth1', client: CONSUMER_KEY, handle }),
    async start(s, session) {
      const scope = nock(X).post('/oauth/request_token').reply(200, `oauth_token=${REQUEST_TOKEN}&oauth_token_secret=${REQUEST_SECRET}&oauth_callback_confirmed=true`);
      const res = fakeResponse();
      const req = Object.assign(fakeRequest({ session, headers: HOST }), { res });
      const started = await runStrategy(s, req);
      expect(started.type, started.error?.message).to.equal('redirect');
      scope.done();
      return { handle: new URL(started.url!).searchParams.get('oauth_token')!, setCookies: res.cookies };
    },
  },
];

function callbackReq(flow: Flow, handle: string, init: { session?: Record<string, unknown> | null; cookie?: string } = {}): XAuthRequest {
  const headers: Record<string, string> = { ...HOST, ...(init.cookie ? { cookie: init.cookie } : {}) };
  return Object.assign(fakeRequest({ session: init.session === undefined ? {} : init.session, query: flow.query(handle), headers }), { res: fakeResponse() });
}

function expectInProgress(outcome: StrategyOutcome, what: string): void {
  expect(outcome).to.include({ type: 'fail', status: 409 });
  const info = outcome.challenge as { message: string; hint: string; code: string };
  expect(info.code).to.equal('X_SIGN_IN_IN_PROGRESS');
  expect(info.message).to.equal(IN_PROGRESS);
  expect(info.hint).to.include(`this callback's ${what}`).and.match(/double click, a reload or Back/);
}

describe("the strategies' claim on a callback", () => {
  // The strategies print each failure's hint once per instance (process.emitWarning); collect ours instead of printing them.
  const warnings: Array<{ message: string; code: string | undefined }> = [];
  const expiredWarnings: string[] = [];
  const emitWarning = process.emitWarning;
  before(() => {
    process.emitWarning = ((warning: string | Error, options?: { code?: string }) => {
      const code = typeof options === 'object' ? options.code : undefined;
      if (code === 'PASSPORT_X_SIGN_IN_IN_PROGRESS') warnings.push({ message: String(warning), code });
      else if (code === 'PASSPORT_X_SIGN_IN_EXPIRED') expiredWarnings.push(String(warning));
      else emitWarning.call(process, warning, options as never);
    }) as typeof process.emitWarning;
  });
  after(() => {
    process.emitWarning = emitWarning;
  });

  for (const flow of FLOWS) {
    describe(flow.protocol, () => {
      it(`lets exactly one of 10 concurrent callbacks with one ${flow.what} go on to X; the others fail 409 X_SIGN_IN_IN_PROGRESS`, async () => {
        const store = flow.protocol === 'OAuth 2.0' ? countingPkceStore() : countingTokenStore();
        const s = flow.make({ store });
        const scope = flow.nockExchange(1);
        const outcomes = await Promise.all(Array.from({ length: 10 }, () => runStrategy(s, callbackReq(flow, flow.handle))));
        scope.done();
        expect(outcomes.filter((o) => o.type === 'success')).to.have.length(1);
        const refused = outcomes.filter((o) => o.type !== 'success');
        expect(refused).to.have.length(9);
        refused.forEach((o) => expectInProgress(o, flow.what));
        expect(flow.asked(store), 'a store that does not consume accepts every copy: the claim stops them').to.equal(10);
      });

      it('lets one of several parallel callbacks through with the session store, each request with its own copy of the session (as express-session loads it)', async () => {
        const s = flow.make({ store: flow.sessionStore() });
        const session: Record<string, unknown> = {};
        const { handle } = await flow.start(s, session);
        const scope = flow.nockExchange(1);
        const outcomes = await Promise.all(Array.from({ length: 5 }, () => runStrategy(s, callbackReq(flow, handle, { session: structuredClone(session) }))));
        scope.done();
        expect(outcomes.map((o) => o.type).sort()).to.deep.equal(['fail', 'fail', 'fail', 'fail', 'success']);
        // Each copy still holds the pending sign-in: the claim, not the session, refuses the other four.
        outcomes.filter((o) => o.type === 'fail').forEach((o) => expectInProgress(o, flow.what));
      });

      it('refuses a replayed EncryptedCookieStateStore cookie before X once its claim is taken', async () => {
        const s = flow.make({ store: new EncryptedCookieStateStore({ secret: COOKIE_SECRET }) });
        const { handle, setCookies } = await flow.start(s, {});
        const cookie = cookieHeader(setCookies);
        const scope = flow.nockExchange(1);
        const first = await runStrategy(s, callbackReq(flow, handle, { session: null, cookie }));
        scope.done();
        expect(first.type, first.error?.message).to.equal('success');
        // The browser (or a thief) still has the cookie: the callback replayed with it never reaches X.
        const outcomes = await Promise.all(Array.from({ length: 3 }, () => runStrategy(s, callbackReq(flow, handle, { session: null, cookie }))));
        outcomes.forEach((o) => expectInProgress(o, flow.what));
      });

      it('claims a cookie callback for as long as the cookie is accepted anywhere: an instance with a shorter maxAgeMs lets no later replay reach X through another', async () => {
        let t = Date.now();
        const now = (): number => t;
        // Two instances sharing one guard (as with RedisReplayGuard), during a deploy that raised maxAgeMs from 10 minutes to an hour.
        const guard = new MemoryReplayGuard({ now });
        const before = flow.make({ replayGuard: guard, store: new EncryptedCookieStateStore({ secret: COOKIE_SECRET, now }) });
        const after = flow.make({ replayGuard: guard, store: new EncryptedCookieStateStore({ secret: COOKIE_SECRET, now, maxAgeMs: 60 * 60_000 }) });
        const { handle, setCookies } = await flow.start(after, {});
        const cookie = cookieHeader(setCookies);
        const scope = flow.nockExchange(1);
        t += 1_000;
        const first = await runStrategy(before, callbackReq(flow, handle, { session: null, cookie }));
        expect(first.type, first.error?.message).to.equal('success');
        scope.done();
        // 15 minutes on: past the first instance's own 10 minutes and a minute, within the cookie's hour.
        t += 15 * 60_000;
        expectInProgress(await runStrategy(after, callbackReq(flow, handle, { session: null, cookie })), flow.what);
        // Past the cookie's hour: no instance accepts it any more, and the claim may lapse.
        t += 46 * 60_000;
        const late = await runStrategy(after, callbackReq(flow, handle, { session: null, cookie }));
        expect(late.type, late.error?.message).to.equal('fail');
      });

      it("claims a hashed key for the store's lifetime and the clock allowance once the store accepted the callback", async () => {
        const guard = recordingGuard(async () => false);
        const outcome = await runStrategy(flow.make({ replayGuard: guard }), callbackReq(flow, flow.handle));
        expectInProgress(outcome, flow.what);
        expect(guard.calls).to.deep.equal([[flow.key(flow.handle), PENDING_TTL_MS + MAX_CLOCK_SKEW_MS]]);
        const cookieStore = new EncryptedCookieStateStore({ secret: COOKIE_SECRET, maxAgeMs: 180_000 });
        const s = flow.make({ replayGuard: guard, store: cookieStore });
        const { handle, setCookies } = await flow.start(s, {});
        await runStrategy(s, callbackReq(flow, handle, { session: null, cookie: cookieHeader(setCookies) }));
        expect(guard.calls[1], "the cookie store's maxAgeMs").to.deep.equal([flow.key(handle), 180_000 + MAX_CLOCK_SKEW_MS]);
      });

      it('claims nothing for a callback the store refuses, so a forged or misdelivered callback cannot burn the real one', async () => {
        const guard = recordingGuard(async () => true);
        const s = flow.make({ replayGuard: guard, store: flow.sessionStore() });
        const session: Record<string, unknown> = {};
        const { handle } = await flow.start(s, session);
        // The victim's callback URL opened in another browser (no pending sign-in there), then a forged handle in the victim's.
        expect(await runStrategy(s, callbackReq(flow, handle, { session: {} }))).to.include({ type: 'fail', status: 403 });
        expect(await runStrategy(s, callbackReq(flow, `${handle}x`, { session }))).to.include({ type: 'fail', status: 403 });
        expect(guard.calls).to.deep.equal([]);
        const scope = flow.nockExchange(1);
        expect((await runStrategy(s, callbackReq(flow, handle, { session }))).type, 'the real callback still completes').to.equal('success');
        scope.done();
        expect(guard.calls).to.have.length(1);
      });

      it("gives a callback retried after X failed the store's answer (already used), not 'in progress'", async () => {
        const s = flow.make({ store: flow.sessionStore() });
        const session: Record<string, unknown> = {};
        const { handle } = await flow.start(s, session);
        const failing = nock(X).post(flow.exchange).reply(503, '');
        expect((await runStrategy(s, callbackReq(flow, handle, { session }))).type).to.equal('error');
        failing.done();
        const retry = await runStrategy(s, callbackReq(flow, handle, { session }));
        expect(retry).to.include({ type: 'fail', status: 403 });
        // The store's refusal (the sign-in was used up by the failed attempt), not the guard's 'in progress'.
        expect(failureHint(retry.challenge, XFailureCode.NO_PENDING_SIGN_IN)).to.match(/already used/);
      });

      it('errors with an XReplayGuardError, sending nothing to X, when the guard fails, and leaks no secret', async () => {
        const down = new Error('Connection is closed.');
        for (const guard of [recordingGuard(() => Promise.reject(down)), recordingGuard(async () => 'OK'), recordingGuard(() => new Promise(() => undefined))]) {
          const outcome = await runStrategy(flow.make({ replayGuard: guard, timeoutMs: 50 }), callbackReq(flow, flow.handle));
          expect(outcome.type).to.equal('error');
          expect(outcome.error).to.be.instanceOf(XReplayGuardError).and.have.property('code', 'X_REPLAY_GUARD_FAILED');
          expectNoSecrets(outcome.error, [CODE, VERIFIER, REQUEST_TOKEN, flow.handle, CLIENT_SECRET, CONSUMER_SECRET]);
        }
        expect(nock.pendingMocks()).to.deep.equal([]);
      });

      it('shares one guard between strategy objects given the same replayGuard, and keeps a default guard per strategy', async () => {
        const shared = new MemoryReplayGuard();
        const scope = flow.nockExchange(1);
        expect((await runStrategy(flow.make({ replayGuard: shared }), callbackReq(flow, flow.handle))).type).to.equal('success');
        expectInProgress(await runStrategy(flow.make({ replayGuard: shared }), callbackReq(flow, flow.handle)), flow.what);
        scope.done();
        // Separate default guards: a test suite that reuses one fixed token per fresh strategy is not refused.
        const again = flow.nockExchange(2);
        for (let i = 0; i < 2; i++) expect((await runStrategy(flow.make(), callbackReq(flow, flow.handle))).type).to.equal('success');
        again.done();
      });

      it('keys the claim on the strategy name and the app, so two strategies do not refuse each other', async () => {
        const shared = new MemoryReplayGuard();
        const scope = flow.nockExchange(2);
        expect((await runStrategy(flow.make({ replayGuard: shared }), callbackReq(flow, flow.handle))).type).to.equal('success');
        expect((await runStrategy(flow.make({ replayGuard: shared, name: 'x-other' }), callbackReq(flow, flow.handle))).type).to.equal('success');
        scope.done();
      });

      describe('when clocks disagree', () => {
        /** A session store or the cookie store, and a guard, on clock `now`. */
        const stores: Array<[string, (now: () => number) => object]> = [
          ['the session store', (now) => (flow.protocol === 'OAuth 2.0' ? new XPkceSessionStore({ now }) : new XRequestTokenSessionStore({ now }))],
          ['the cookie store', (now) => new EncryptedCookieStateStore({ secret: COOKIE_SECRET, now })],
        ];
        for (const [which, storeOn] of stores) {
          it(`refuses, with ${which}, a sign-in dated more than a minute ahead of this clock (set back since): 401 X_SIGN_IN_EXPIRED, nothing sent to X`, async () => {
            const wall = clock();
            const s = flow.make({ store: storeOn(wall.now), replayGuard: new MemoryReplayGuard({ now: wall.now }) });
            const session: Record<string, unknown> = {};
            const { handle, setCookies } = await flow.start(s, session);
            // NTP sets the clock back 5 minutes; the person spends a minute on X's consent page.
            wall.advance(-5 * 60_000 + 60_000);
            const outcome = await runStrategy(s, callbackReq(flow, handle, { session, cookie: cookieHeader(setCookies) }));
            expect(outcome).to.include({ type: 'fail', status: 401 });
            const info = outcome.challenge as { code: string; hint: string };
            expect(info.code).to.equal('X_SIGN_IN_EXPIRED');
            expect(info.hint).to.include('clock').and.include('NTP');
            expect(expiredWarnings.at(-1), 'the diagnosis, logged once').to.include(info.hint);
            expect(nock.pendingMocks()).to.deep.equal([]);
          });

          it(`accepts, with ${which}, a sign-in dated up to a minute ahead, and its claim outlives it: a replay after the clock caught up never reaches X`, async () => {
            const wall = clock();
            const s = flow.make({ store: storeOn(wall.now), replayGuard: new MemoryReplayGuard({ now: wall.now }) });
            const session: Record<string, unknown> = {};
            const { handle, setCookies } = await flow.start(s, session);
            const copy = structuredClone(session);
            wall.advance(-50_000);
            const scope = flow.nockExchange(1);
            const first = await runStrategy(s, callbackReq(flow, handle, { session, cookie: cookieHeader(setCookies) }));
            expect(first.type, first.error?.message).to.equal('success');
            scope.done();
            // Just before the sign-in expires by the clock that dated it: a copy of the session or the cookie replayed.
            wall.advance(50_000 + PENDING_TTL_MS - 1000);
            expectInProgress(await runStrategy(s, callbackReq(flow, handle, { session: copy, cookie: cookieHeader(setCookies) })), flow.what);
          });
        }

        it('claims for as long as an instance whose clock is behind accepts the sign-in (two instances, one guard)', async () => {
          const wall = clock();
          // A's clock is right; B's runs 50 s behind. The guard (Redis in production) keeps real time.
          const behind = () => wall.now() - 50_000;
          const guard = new MemoryReplayGuard({ now: wall.now });
          const a = flow.make({ store: new EncryptedCookieStateStore({ secret: COOKIE_SECRET, now: wall.now }), replayGuard: guard });
          const b = flow.make({ store: new EncryptedCookieStateStore({ secret: COOKIE_SECRET, now: behind }), replayGuard: guard });
          const { handle, setCookies } = await flow.start(a, {});
          const cookie = cookieHeader(setCookies);
          const scope = flow.nockExchange(1);
          wall.advance(1000);
          expect((await runStrategy(a, callbackReq(flow, handle, { session: null, cookie }))).type).to.equal('success');
          scope.done();
          // 10 min 30 s after the start: expired on A, still valid on B (its clock says 9 min 40 s).
          wall.advance(PENDING_TTL_MS + 29_000);
          expectInProgress(await runStrategy(b, callbackReq(flow, handle, { session: null, cookie })), flow.what);
        });
      });

      it('claims nothing for a malformed callback or a Cancel', async () => {
        const guard = recordingGuard();
        const s = flow.make({ replayGuard: guard });
        const malformed = flow.protocol === 'OAuth 2.0' ? { code: CODE } : { oauth_token: REQUEST_TOKEN };
        expect(await runStrategy(s, fakeRequest({ query: malformed, headers: HOST }))).to.include({ type: 'fail', status: 400 });
        const cancel = flow.protocol === 'OAuth 2.0' ? { error: 'access_denied', state: flow.handle } : { denied: REQUEST_TOKEN };
        expect(await runStrategy(s, fakeRequest({ query: cancel, headers: HOST }))).to.include({ type: 'fail', status: 403 });
        expect(guard.calls).to.deep.equal([]);
      });

      it('logs the hint of a refused callback once per strategy', async () => {
        warnings.length = 0;
        const s = flow.make({ replayGuard: recordingGuard(async () => false) });
        for (let i = 0; i < 3; i++) expectInProgress(await runStrategy(s, callbackReq(flow, flow.handle)), flow.what);
        expect(warnings).to.have.length(1);
        expect(warnings[0]!.message).to.include(`passport-x (${flow.protocol === 'OAuth 2.0' ? 'x-oauth2' : 'x-oauth1'}): Another request with this callback's ${flow.what}`);
      });

      it('refuses a replayGuard without a claim method, naming the option', () => {
        for (const bad of [null, 'redis', {}, { claim: 'yes' }]) {
          expect(() => flow.make({ replayGuard: bad as unknown as XReplayGuard })).to.throw(TypeError, /`replayGuard`/);
        }
      });
    });
  }
});

describe('replay guard: a lost claim answers 409', () => {
  it('gives the failure of a lost claim the code the strategies answer 409, whatever it claimed', () => {
    for (const what of ['state', 'request token'] as const) {
      const info = signInInProgress(what, PENDING_TTL_MS);
      expect(info.code).to.equal(XFailureCode.SIGN_IN_IN_PROGRESS);
      expect(failureStatus(info.code)).to.equal(409);
    }
  });
});
