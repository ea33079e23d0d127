// The replay claim's cost: the CPU one callback's claim adds (claim the handle in the strategy's
// default in-process MemoryReplayGuard, which keeps a fingerprint of it, and call back), next to
// the CPU of a whole sign-in. The bar: under 2% of a sign-in.
//
//   1. The claim alone: the callback leg with X stubbed out (no I/O, so no noise from it), once
//      through the strategy as shipped and once with its callback leg handed the raw store (no
//      claim), in alternating rounds; the difference per callback is the claim.
//   2. A whole sign-in: start and callback against a minimal stand-in for X in its own process
//      (test/bench/fake-x-server.ts), as test/bench/signin.bench.ts measures it.
//
// Run: `npm run build && npx tsx test/bench/claim.bench.ts` (exits non-zero over the bar), or
// call benchClaim() from another bench and print its rows.
import { resolve } from 'node:path';
import { fakeRequest, runStrategy, type AuthenticatingStrategy } from '../support/passport-harness';
import { harnessSignIn } from './driver';
import { forkBench } from './processes';

// The shipped build, as users run it.
const { XOAuth1Strategy, XOAuth2PkceStrategy } = require(resolve(__dirname, '../../dist/index.js')) as typeof import('../../lib/index');

const KEY = 'bench-consumer-key';
const SECRET = 'bench-consumer-secret';
const CALLBACK = 'http://localhost:3000/auth/x/callback';
const HOST = { host: 'localhost:3000' };
const CODE_VERIFIER = 'v'.repeat(43);

/** Options of {@link benchClaim}. */
export interface ClaimBenchOptions {
  /** Callbacks per round of part 1 (default 5000). */
  callbacks?: number;
  /** Sign-ins per round of part 2 (default 300). */
  signIns?: number;
  /** Rounds of each (default 7). */
  rounds?: number;
}

/** One protocol's figures, microseconds of CPU (user + system) per callback or sign-in. */
export interface ClaimBenchResult {
  protocol: 'OAuth 2.0' | 'OAuth 1.0a';
  /** The callback leg, X stubbed, as shipped (with the claim). */
  callbackWithClaimUs: number;
  /** The same without the claim. */
  callbackWithoutClaimUs: number;
  /** What the claim adds per callback: the median of the rounds' differences. */
  claimUs: number;
  /** A whole sign-in against the stand-in X, with the claim. */
  signInUs: number;
  /** claimUs / signInUs. */
  share: number;
}

/** The bar: the claim adds under 2% to a sign-in's CPU. */
export const CLAIM_SHARE_BAR = 0.02;

type Strategy = AuthenticatingStrategy & Record<string, unknown>;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function cpuPer(n: number, run: (i: number) => Promise<void>): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) await run(i);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n;
}

/** The callback leg of `strategy` for handle number `i`; fails loudly on anything but success. */
function callback(strategy: Strategy, query: (i: number) => Record<string, string>): (i: number) => Promise<void> {
  return async (i) => {
    const outcome = await runStrategy(strategy, fakeRequest({ query: query(i), headers: HOST }));
    if (outcome.type !== 'success') throw new Error(`callback ${i}: ${outcome.type} ${outcome.error?.message ?? JSON.stringify(outcome.challenge)}`);
  };
}

/**
 * Two strategies of one protocol with X stubbed out and a store that accepts every handle: the
 * first as shipped, the second with passport's view of the store replaced by the raw store.
 */
function stubbedPair(protocol: ClaimBenchResult['protocol']): { withClaim: Strategy; withoutClaim: Strategy; query: (i: number) => Record<string, string> } {
  if (protocol === 'OAuth 2.0') {
    const store = {
      store: (_r: unknown, _v: string, _s: unknown, _m: unknown, cb: (e: null, h: string) => void) => cb(null, 'unused'),
      verify: (_r: unknown, _state: string, cb: (e: null, v: string) => void) => cb(null, CODE_VERIFIER),
    };
    const make = (): Strategy => {
      const s = new XOAuth2PkceStrategy({ clientID: KEY, clientSecret: SECRET, callbackURL: CALLBACK, skipUserProfile: true, scope: ['tweet.read'], store }, (accessToken, _r, _p, done) =>
        done(null, { accessToken }),
      ) as unknown as Strategy;
      // X stubbed: the strategy's code exchange answers at once.
      s.exchangeCode = (_code: string, _redirectURI: string, _verifier: string, _extra: unknown, cb: (e: null, at: string, rt: undefined, p: object) => void) =>
        cb(null, 'bench-access', undefined, {});
      return s;
    };
    const withoutClaim = make();
    // The callback leg's look-up straight to the raw store, without the claim.
    withoutClaim.claimingVerify = (req: unknown, state: string, _meta: unknown, cb: (e: null, v: string) => void) => store.verify(req, state, cb);
    return { withClaim: make(), withoutClaim, query: (i) => ({ code: 'bench-code', state: `bench-state-${i}` }) };
  }
  const store = {
    get: (_r: unknown, _token: string, cb: (e: null, s: string) => void) => cb(null, 'bench-request-secret'),
    set: (_r: unknown, _t: string, _s: string, _st: unknown, _m: object, cb: (e: null) => void) => cb(null),
    destroy: (_r: unknown, _t: string, cb: (e: null) => void) => cb(null),
  };
  const make = (): Strategy => {
    const s = new XOAuth1Strategy({ consumerKey: KEY, consumerSecret: SECRET, callbackURL: CALLBACK, skipExtendedUserProfile: true, store }, (token, _s, _p, done) =>
      done(null, { token }),
    ) as unknown as Strategy;
    // X stubbed: the strategy's access-token step answers at once.
    s.exchangeVerifier = (_t: string, _s: string, _v: string, cb: (e: null, t: string, ts: string, p: object) => void) =>
      cb(null, '1-bench-access', 'bench-access-secret', { user_id: '1', screen_name: 'bench' });
    return s;
  };
  const withoutClaim = make();
  // The callback leg's store without the claim.
  withoutClaim.claimingTokenStore = store;
  return { withClaim: make(), withoutClaim, query: (i) => ({ oauth_token: `bench-request-token-${i}`, oauth_verifier: 'bench-verifier' }) };
}

/** A whole sign-in (start and callback, session store) against the stand-in X at `base`. */
function fullSignIn(protocol: ClaimBenchResult['protocol'], base: string): () => Promise<void> {
  const strategy = (
    protocol === 'OAuth 2.0'
      ? new XOAuth2PkceStrategy(
          { clientID: KEY, clientSecret: SECRET, callbackURL: CALLBACK, baseURL: base, authorizationURL: `${base}/i/oauth2/authorize`, userFields: ['id', 'name', 'username', 'profile_image_url'] },
          (_a, _r, profile, done) => done(null, profile),
        )
      : new XOAuth1Strategy({ consumerKey: KEY, consumerSecret: SECRET, callbackURL: CALLBACK, baseURL: base }, (_t, _s, profile, done) => done(null, profile))
  ) as unknown as Strategy;
  return () => harnessSignIn(strategy, protocol === 'OAuth 2.0' ? 'oauth2' : 'oauth1', HOST.host, `${protocol} sign-in`);
}

/** Measures the claim's cost for both protocols. Starts (and stops) the stand-in X itself. */
export async function benchClaim(options: ClaimBenchOptions = {}): Promise<ClaimBenchResult[]> {
  const callbacks = options.callbacks ?? 5000;
  const signIns = options.signIns ?? 300;
  const rounds = options.rounds ?? 7;
  const x = await forkBench('fake-x-server.ts', []);
  try {
    const base = `http://127.0.0.1:${x.port}`;
    const results: ClaimBenchResult[] = [];
    for (const protocol of ['OAuth 2.0', 'OAuth 1.0a'] as const) {
      const { withClaim, withoutClaim, query } = stubbedPair(protocol);
      const runWith = callback(withClaim, query);
      const runWithout = callback(withoutClaim, query);
      // Each round claims fresh handles: the guard fills to its bound and evicts, as in a long run.
      let offset = 0;
      const next = (run: (i: number) => Promise<void>) => async (): Promise<number> => {
        const start = offset;
        offset += callbacks;
        return cpuPer(callbacks, (i) => run(start + i));
      };
      await next(runWith)();
      await next(runWithout)();
      const withs: number[] = [];
      const withouts: number[] = [];
      const diffs: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const w = await next(runWith)();
        const wo = await next(runWithout)();
        withs.push(w);
        withouts.push(wo);
        diffs.push(w - wo);
      }
      const signIn = fullSignIn(protocol, base);
      await cpuPer(50, signIn);
      const signInRounds: number[] = [];
      for (let r = 0; r < rounds; r++) signInRounds.push(await cpuPer(signIns, signIn));
      const signInUs = median(signInRounds);
      const claimUs = Math.max(0, median(diffs));
      results.push({ protocol, callbackWithClaimUs: median(withs), callbackWithoutClaimUs: median(withouts), claimUs, signInUs, share: claimUs / signInUs });
    }
    return results;
  } finally {
    await x.stop();
  }
}

/** The results as label/value rows, for a bench table. */
export function claimRows(results: readonly ClaimBenchResult[]): Array<[string, string]> {
  const us = (v: number): string => `${v.toFixed(1)} us`;
  return results.flatMap((r): Array<[string, string]> => [
    [`${r.protocol}: callback leg, X stubbed, with / without the claim`, `${us(r.callbackWithClaimUs)} / ${us(r.callbackWithoutClaimUs)}`],
    [`${r.protocol}: the claim, CPU per callback`, us(r.claimUs)],
    [`${r.protocol}: a whole sign-in, CPU`, us(r.signInUs)],
    [`${r.protocol}: the claim's share of a sign-in`, `${(r.share * 100).toFixed(2)} % (bar: < ${CLAIM_SHARE_BAR * 100} %)`],
  ]);
}

if (require.main === module) {
  benchClaim({
    callbacks: Number(process.env.BENCH_CALLBACKS ?? 5000),
    signIns: Number(process.env.BENCH_SIGN_INS ?? 300),
    rounds: Number(process.env.BENCH_ROUNDS ?? 7),
  }).then(
    (results) => {
      for (const [k, v] of claimRows(results)) console.log(`${k.padEnd(66)} ${v}`);
      const ok = results.every((r) => r.share < CLAIM_SHARE_BAR);
      console.log(ok ? 'claim bench: PASS' : 'claim bench: FAIL');
      process.exitCode = ok ? 0 : 1;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
