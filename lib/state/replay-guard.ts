/**
 * The claim that makes a sign-in callback go to X exactly once. A double click, a reload or
 * Back on the callback page sends the same `state` (OAuth 2.0) or `oauth_token` (OAuth 1.0a)
 * several times, often at once: express-session loads a separate copy of the session for each
 * request, and a cookie (EncryptedCookieStateStore) cannot be consumed server-side, so the store
 * alone cannot stop the copies. Once the store has accepted a callback, and before anything goes
 * to X, each strategy claims it in a replay guard; only the request that gets the claim goes on.
 *
 * One instance is right with the default {@link MemoryReplayGuard}; several instances share a
 * guard over Redis (`RedisReplayGuard`) or anything else with an atomic "set if absent".
 */
import { XReplayGuardError } from '../errors';
import { failureInfo, XFailureCode, type XFailureInfo } from '../failure';
import { s256 } from '../pkce';
import { cookieAcceptedFor } from './encrypted-cookie';
import { MAX_CLOCK_SKEW_MS, MAX_PENDING_TTL_MS, PENDING_TTL_MS } from './pending';

/**
 * Claims a key once: `claim` resolves `true` for the first caller of `key` within `ttlMs`, and
 * `false` for every other caller until the key expires. It must be atomic across everything that
 * shares it; and when its client may resend a command whose reply a dropped connection lost (ioredis
 * does), it must answer `true` to that resend of the very call that took the key: in Redis, `SET key
 * <a random value per call> NX PX ttl`, and on a `null` reply, whether the key holds that value. Keys are `passport-x:claim:` and a SHA-256 hash:
 * no secret, state or token is ever handed to a guard.
 *
 * @example
 * ```ts
 * import type { XReplayGuard } from 'passport-x';
 *
 * // Any store with an atomic "set if absent, with expiry" will do; here a Postgres table. An expired
 * // row is taken over by the next claim of its key; delete the rest now and then (a scheduled job):
 * // DELETE FROM sign_in_claims WHERE expires_at < now()
 * declare const db: { query(sql: string, params: unknown[]): Promise<{ rowCount: number | null }> };
 * export const postgresGuard: XReplayGuard = {
 *   async claim(key, ttlMs) {
 *     const result = await db.query(
 *       `INSERT INTO sign_in_claims (key, expires_at) VALUES ($1, now() + $2 * interval '1 millisecond')
 *        ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE sign_in_claims.expires_at < now()`,
 *       [key, ttlMs],
 *     );
 *     return result.rowCount === 1;
 *   },
 * };
 * ```
 */
export interface XReplayGuard {
  /** Resolves `true` when this caller is the first to claim `key` in the last `ttlMs` ms, else `false`; rejects when the guard cannot tell (its store is down). */
  claim(key: string, ttlMs: number): Promise<boolean>;
}

/** The prefix of every key a strategy claims. */
export const REPLAY_GUARD_KEY_PREFIX = 'passport-x:claim:';

/**
 * Default bound of a {@link MemoryReplayGuard}. A claim only has to outlive the few hundred
 * milliseconds of one code exchange to stop a double click; 10,000 claims (about 1.1 MB of heap) is
 * 15 sign-ins a second for the 11 minutes a claim lasts (a pending sign-in's 10 and a minute of clock skew), and a flood of forged
 * callbacks must be faster than that to push out a claim still in use.
 */
export const DEFAULT_MAX_REPLAY_CLAIMS = 10_000;

/** Options of {@link MemoryReplayGuard}. */
export interface MemoryReplayGuardOptions {
  /** How many claims it keeps at most (default {@link DEFAULT_MAX_REPLAY_CLAIMS}); at that bound the held ones nearest their expiry make room for a new claim. */
  maxEntries?: number | undefined;
  /** Clock, ms since the epoch (tests). */
  now?: (() => number) | undefined;
}

/**
 * The in-process replay guard, and each strategy's default: claims in a `Map`, each expiring
 * after its `ttlMs`, at most `maxEntries` of them (at the bound, expired claims go first, then the
 * live ones nearest their expiry, never the claim being made). No timer runs: expired claims are pruned as new ones come, O(log n) per
 * claim, whatever their TTLs, so the guard never keeps a process alive. It keeps a 53-bit fingerprint of each key, not the key
 * (two keys that share one count as one: refused, never let through twice). Right for one process;
 * several instances need a shared guard (`RedisReplayGuard`).
 *
 * @example
 * ```ts
 * import { MemoryReplayGuard, XOAuth2PkceStrategy } from 'passport-x';
 *
 * // Two strategy objects for one X app in one process (each with its own name and callback route): give them one guard.
 * const replayGuard = new MemoryReplayGuard();
 * const options = { clientID: process.env.X_CLIENT_ID!, replayGuard };
 * export const signIn = new XOAuth2PkceStrategy({ ...options, name: 'x-sign-in', callbackURL: 'https://example.com/auth/x/callback' }, (accessToken, refreshToken, profile, done) => done(null, profile));
 * export const connect = new XOAuth2PkceStrategy({ ...options, name: 'x-connect', callbackURL: 'https://example.com/connect/x/callback' }, (accessToken, refreshToken, profile, done) => done(null, profile));
 * ```
 */
export class MemoryReplayGuard implements XReplayGuard {
  /** How many claims it keeps at most. */
  readonly maxEntries: number;
  private readonly now: () => number;
  /**
   * Expiries are kept in ms after this instant (the guard's creation): small whole numbers, which
   * V8 keeps in the Map and the array themselves, where ms since the epoch would each need a heap
   * object (two per claim, with the queue's).
   */
  private readonly epoch: number;
  /**
   * The fingerprint of each claimed key ({@link keyFingerprint}) -> expiry of its claim, in ms after
   * `epoch`. A number where the key was a string: a claim lives minutes, so it outlives the young
   * generation, and a string of some 60 characters kept per claim was most of what a claim cost the
   * garbage collector (copied, promoted, then marked); a number is a fifth of the memory.
   */
  private readonly claims = new Map<number, number>();
  /**
   * The claims ordered by expiry, soonest first: a binary min-heap over three parallel arrays (key,
   * expiry, claim order), no object per claim. Expired claims leave from its top whatever their TTL
   * (one guard may serve strategies whose claims last 11 minutes and others whose last an hour), and
   * at `maxEntries` the live claim nearest its expiry makes room for a new one, the oldest among equals. Every
   * expired claim is pruned before a key is looked up, so no key is ever queued twice: the heap holds
   * exactly the claims of the `Map`.
   */
  private keys: number[] = [];
  private expiries: number[] = [];
  private orders: number[] = [];
  /** The next claim's order: ties of expiry leave in claim order. */
  private order = 0;

  constructor(options: MemoryReplayGuardOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError('MemoryReplayGuard takes an options object (or nothing).');
    const { maxEntries = DEFAULT_MAX_REPLAY_CLAIMS, now } = options;
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new TypeError('MemoryReplayGuard: `maxEntries` must be a positive whole number.');
    if (now !== undefined && typeof now !== 'function') throw new TypeError('MemoryReplayGuard: `now` must be a function returning ms since the epoch.');
    this.maxEntries = maxEntries;
    this.now = now ?? Date.now;
    this.epoch = this.now();
  }

  /** How many claims it holds now, expired ones not yet pruned included. */
  get size(): number {
    return this.claims.size;
  }

  /** Claims `key` for `ttlMs` ms; `true` when nobody holds it. Synchronous inside, so concurrent callers in one process cannot both win. */
  async claim(key: string, ttlMs: number): Promise<boolean> {
    return this.claimNow(key, ttlMs);
  }

  /** {@link claim}, answered synchronously (the strategies use it to spare a promise and a timer per callback). Throws on a bad key or ttlMs. */
  claimNow(key: string, ttlMs: number): boolean {
    checkClaim(key, ttlMs, 'MemoryReplayGuard');
    const now = this.now() - this.epoch;
    this.prune(now);
    const fingerprint = keyFingerprint(key);
    // Pruned above: a claim still in the Map is live.
    if (this.claims.has(fingerprint)) return false;
    // At the bound, the live claim nearest its expiry makes room (the expired ones went first, above),
    // before this one is added: never this claim itself, though it may expire before all the others
    // (a guard full of longer claims), or every copy of its callback would be let through.
    while (this.claims.size >= this.maxEntries) this.claims.delete(this.pop());
    const expiry = now + ttlMs;
    this.claims.set(fingerprint, expiry);
    this.push(fingerprint, expiry);
    return true;
  }

  /** Drops every expired claim, from the top of the heap: O(log n) each, and each claim leaves once. */
  private prune(now: number): void {
    while (this.keys.length > 0 && now >= (this.expiries[0] as number)) this.claims.delete(this.pop());
  }

  /** Whether heap entry `i` leaves before entry `j`: the sooner expiry, or the older claim of two that expire together. */
  private before(i: number, j: number): boolean {
    const a = this.expiries[i] as number;
    const b = this.expiries[j] as number;
    return a < b || (a === b && (this.orders[i] as number) < (this.orders[j] as number));
  }

  private swap(i: number, j: number): void {
    const { keys, expiries, orders } = this;
    const key = keys[i] as number;
    keys[i] = keys[j] as number;
    keys[j] = key;
    const expiry = expiries[i] as number;
    expiries[i] = expiries[j] as number;
    expiries[j] = expiry;
    const order = orders[i] as number;
    orders[i] = orders[j] as number;
    orders[j] = order;
  }

  /** Adds a claim to the heap. A claim's expiry is most often the latest (one TTL): it stays at the bottom, one comparison. */
  private push(key: number, expiry: number): void {
    let i = this.keys.length;
    this.keys.push(key);
    this.expiries.push(expiry);
    this.orders.push(this.order++);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Takes the claim at the top of the heap (the soonest to expire) off it, and answers its key. */
  private pop(): number {
    const top = this.keys[0] as number;
    const last = this.keys.length - 1;
    this.swap(0, last);
    this.keys.pop();
    this.expiries.pop();
    this.orders.pop();
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= last) break;
      const child = left + 1 < last && this.before(left + 1, left) ? left + 1 : left;
      if (!this.before(child, i)) break;
      this.swap(i, child);
      i = child;
    }
    return top;
  }
}

function checkClaim(key: unknown, ttlMs: unknown, who: string): void {
  if (typeof key !== 'string' || key === '') throw new TypeError(`${who}.claim: \`key\` must be a non-empty string.`);
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`${who}.claim: \`ttlMs\` must be a positive number of milliseconds.`);
}

/**
 * A 53-bit fingerprint of a claim key, what {@link MemoryReplayGuard} keeps of it: two lanes of
 * FNV-1a over the key's UTF-16 code units, each with its own offset basis and prime, each finished
 * with MurmurHash3's 32-bit avalanche, joined into one safe integer. Two keys with one fingerprint
 * count as one key: the second is refused as already claimed (a false "sign-in in progress"), never
 * let through twice. With the strategies' keys (a SHA-256 each) and 10,000 claims held, the chance
 * that any two share a fingerprint is about 1 in 180 million.
 */
export function keyFingerprint(key: string): number {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000197);
  }
  // MurmurHash3's fmix32 on each lane: every input bit moves about half the output bits.
  a = Math.imul(a ^ (a >>> 16), 0x85ebca6b);
  a = Math.imul(a ^ (a >>> 13), 0xc2b2ae35);
  a ^= a >>> 16;
  b = Math.imul(b ^ (b >>> 16), 0x85ebca6b);
  b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  b ^= b >>> 16;
  // 32 bits of one lane and 21 of the other: at most 2^53 - 1, a safe integer.
  return (a >>> 0) * 0x200000 + (b >>> 11);
}

/** What identifies one sign-in's callback: the strategy, the app, and the `state` or request token X sent back. */
export interface CallbackClaim {
  /** `'oauth1'` or `'oauth2'`. */
  protocol: 'oauth1' | 'oauth2';
  /** The strategy's name (`'x-oauth2'`). */
  strategy: string;
  /** The consumer key (OAuth 1.0a) or client ID (OAuth 2.0). */
  client: string;
  /** The callback URL as configured (OAuth 2.0's `redirect_uri`), not as resolved from the request, which a client can vary. */
  redirectURI?: string | undefined;
  /** The `state` (OAuth 2.0) or `oauth_token` (OAuth 1.0a), as the callback carries it. */
  handle: string;
}

/**
 * The guard key of a callback: `passport-x:claim:` and the base64url SHA-256 of its parts. A
 * hash, so the guard (Redis) never holds a state or request token; the same for every instance
 * of the app, so they all contend for one key.
 */
export function callbackClaimKey(claim: CallbackClaim): string {
  return callbackClaimKeys(claim)(claim.handle);
}

/**
 * {@link callbackClaimKey} of each handle of one strategy, the same keys: what is fixed (protocol,
 * strategy, client, redirect URI) is written out as JSON once, so a callback only encodes its handle.
 */
export function callbackClaimKeys(claim: Omit<CallbackClaim, 'handle'>): (handle: string) => string {
  const fixed = JSON.stringify([claim.protocol, claim.strategy, claim.client, claim.redirectURI ?? '']);
  // `[a,b,c,d]` -> `[a,b,c,d,` then the handle's JSON and `]`: JSON.stringify of the five parts.
  const head = `${fixed.slice(0, -1)},`;
  return (handle) => REPLAY_GUARD_KEY_PREFIX + s256(`${head}${JSON.stringify(handle)}]`);
}

/**
 * How long a claim lasts: as long as the store keeps a pending sign-in (its `ttlMs`, which every
 * built-in store has, else 10 minutes), and {@link MAX_CLOCK_SKEW_MS} more. Never shorter, or a
 * replayed callback could reach X again: the pending sign-in is checked on the clock of whichever
 * instance gets the callback, the claim on the guard's (the process's, or Redis's).
 *
 * @throws TypeError naming `store.ttlMs` when a custom store says its sign-ins live longer than
 * {@link MAX_PENDING_TTL_MS} (1 hour, as the built-in stores at most): a claim that long is no
 * sign-in's, and past Node's timers or Redis's `PX` every callback would fail
 */
export function claimTtlOf(store: object): number {
  const ttl = (store as { ttlMs?: unknown }).ttlMs;
  if (typeof ttl === 'number' && ttl > MAX_PENDING_TTL_MS) {
    throw new TypeError(`The state store's \`ttlMs\` (how long its pending sign-ins live) must be at most ${MAX_PENDING_TTL_MS} ms (1 hour), as the built-in stores' at most; a sign-in is minutes on X's consent page.`);
  }
  // Whole milliseconds, rounded up: a store may live a fraction of one (ttlMs 5 * 60_000 / 7), and a guard (Redis PX) takes whole ones.
  return Math.ceil(typeof ttl === 'number' && Number.isFinite(ttl) && ttl > 0 ? ttl : PENDING_TTL_MS) + MAX_CLOCK_SKEW_MS;
}

/**
 * A strategy's replay guard and the key of each callback's claim in it. A guard the app gives may
 * be shared (by several strategies, or by every instance through Redis): it gets
 * {@link callbackClaimKeys}' keys, a hash of the strategy, the client and the handle. The default
 * guard is the strategy's own, which nothing else reaches, and keeps a {@link keyFingerprint} of
 * each key, never the key: its key is the handle itself, which spares a SHA-256 per callback.
 */
export function callbackClaimGuard(option: unknown, strategy: string, claim: Omit<CallbackClaim, 'handle'>): { guard: XReplayGuard; key: (handle: string) => string } {
  if (option === undefined) return { guard: new MemoryReplayGuard(), key: ownGuardKey };
  if (typeof option !== 'object' || option === null || typeof (option as XReplayGuard).claim !== 'function') {
    throw new TypeError(`${strategy}: \`replayGuard\` must be an object with a claim(key, ttlMs) method answering a Promise<boolean> (e.g. new RedisReplayGuard({ client })).`);
  }
  return { guard: option as XReplayGuard, key: callbackClaimKeys(claim) };
}

/** The key of a claim in a strategy's own guard: the handle (see {@link callbackClaimGuard}). */
function ownGuardKey(handle: string): string {
  return handle;
}

/**
 * Claims a callback through `guard` and calls back `(null, true)` for the first request,
 * `(null, false)` for every other one, or an {@link XReplayGuardError} when the guard fails,
 * answers something other than a boolean, or does not answer within `timeoutMs`. Always
 * asynchronously, and out of any promise chain.
 */
export function claimCallback(guard: XReplayGuard, key: string, ttlMs: number, timeoutMs: number, done: (err: XReplayGuardError | null, claimed?: boolean) => void): void {
  if (guard instanceof MemoryReplayGuard && guard.claim === MemoryReplayGuard.prototype.claim) {
    // The in-process guard answers at once and cannot hang: no promise, no timer.
    let claimed: boolean;
    try {
      claimed = guard.claimNow(key, ttlMs);
    } catch (err) {
      return process.nextTick(done, guardFailed(err));
    }
    return process.nextTick(done, null, claimed);
  }
  let settled = false;
  const finish = (err: XReplayGuardError | null, claimed?: boolean): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    // Out of the promise chain: a throw in what the strategy does next must not become an unhandled rejection.
    process.nextTick(done, err, claimed);
  };
  const timer = setTimeout(
    () => finish(new XReplayGuardError(`The replay guard did not answer within ${timeoutMs} ms, so the X sign-in was stopped before anything was sent to X. ${GUARD_FIX}`)),
    timeoutMs,
  );
  // A guard that hangs must not keep the process alive either.
  timer.unref();
  let answer: unknown;
  try {
    answer = guard.claim(key, ttlMs);
  } catch (err) {
    return finish(guardFailed(err));
  }
  Promise.resolve(answer).then(
    (claimed: unknown) => {
      if (typeof claimed !== 'boolean') {
        return finish(
          new XReplayGuardError(
            `The replay guard's claim() answered ${claimed === null ? 'null' : typeof claimed} instead of true or false, so the X sign-in was stopped before anything was sent to X. ` +
              'A custom `replayGuard` must resolve true for the first claim of a key and false for every later one.',
          ),
        );
      }
      finish(null, claimed);
    },
    (err: unknown) => finish(guardFailed(err)),
  );
}

const GUARD_FIX =
  'The guard (the strategy\'s `replayGuard` option) must answer for every callback; with RedisReplayGuard, check that Redis is reachable from this instance ' +
  '(the error\'s cause says what the client reported). The user can sign in again once it is back.';

function guardFailed(cause: unknown): XReplayGuardError {
  // The cause's own message stays on `cause`: a custom guard's error is not ours to print.
  return new XReplayGuardError(`The replay guard failed to claim this X sign-in callback, so the sign-in was stopped before anything was sent to X. ${GUARD_FIX}`, cause);
}

/** The failure of every callback but the first: a double click, a reload, Back, or a replay. */
export function signInInProgress(what: 'state' | 'request token', ttlMs: number): XFailureInfo {
  const minutes = Math.max(1, Math.round(ttlMs / 60_000));
  const info = failureInfo(
    XFailureCode.SIGN_IN_IN_PROGRESS,
    'This sign-in is already being completed. If nothing happens, sign in again.',
    `Another request with this callback's ${what} claimed the sign-in first (within the last ${minutes} minute${minutes === 1 ? '' : 's'}): ` +
      'a double click, a reload or Back on the callback page, or a replayed callback. Only the first request goes on to X; this one was refused before anything was sent to it. ' +
      'Nothing to fix when it is occasional. When every sign-in gets it: passport.authenticate() runs twice for the callback route (mounted twice?), ' +
      'or a custom `replayGuard` answers false for keys it never saw.',
  );
  return info;
}

/** How a strategy claims its callbacks. */
export interface CallbackClaimSettings {
  guard: XReplayGuard;
  /** How long a claim lasts: {@link claimTtlOf} the store. */
  ttlMs: number;
  /** Bound on the guard's answer: the strategy's `timeoutMs`. */
  timeoutMs: number;
  /** The guard key of the callback's `state` or request token. */
  key(handle: string): string;
  what: 'state' | 'request token';
  /** Called with the failure of each callback that lost its claim (to log it). */
  onLost(info: XFailureInfo): void;
}

type StoreCallback = (err: Error | null, found?: unknown, info?: unknown) => void;

/** The store's answer to a callback: a refusal passes through; an acceptance is claimed first. */
function claimAccepted(settings: CallbackClaimSettings, req: unknown, handle: unknown, done: StoreCallback, err: Error | null, found: unknown, info: unknown): void {
  if (err || !found) return done(err, found, info);
  const key = settings.key(typeof handle === 'string' ? handle : JSON.stringify(handle) ?? '');
  claimCallback(settings.guard, key, claimTtlFor(settings, req), settings.timeoutMs, (guardErr, first) => claimAnswered(settings, done, found, info, guardErr, first));
}

/**
 * The life of the claim of a callback the store accepted: `ttlMs`, or longer while an
 * `EncryptedCookieStateStore` may accept its cookie again (until the cookie's `exp`, which another
 * instance may have set later than this store's `maxAgeMs`: see {@link cookieAcceptedFor}), and a
 * minute (at most an hour and a minute).
 */
function claimTtlFor(settings: CallbackClaimSettings, req: unknown): number {
  const left = typeof req === 'object' && req !== null ? cookieAcceptedFor(req) : undefined;
  if (left === undefined || !(left > 0)) return settings.ttlMs;
  return Math.max(settings.ttlMs, Math.ceil(Math.min(left, MAX_PENDING_TTL_MS)) + MAX_CLOCK_SKEW_MS);
}

/** The guard's answer: the store's acceptance for the first request, the in-progress failure for every other one. */
function claimAnswered(settings: CallbackClaimSettings, done: StoreCallback, found: unknown, info: unknown, guardErr: XReplayGuardError | null, first: boolean | undefined): void {
  if (guardErr) return done(guardErr);
  if (first) return done(null, found, info);
  const lost = signInInProgress(settings.what, settings.ttlMs);
  settings.onLost(lost);
  done(null, false, lost);
}

/**
 * The store as passport-oauth1/oauth2 see it: the same store, whose look-up (`get` of a
 * request-token store, `verify` of a PKCE state store) also claims the callback once the store
 * has accepted it, and before passport goes on to X. After the store, not before: a callback
 * the store refuses (forged, from another browser, a retry after X failed) keeps the store's
 * answer and cannot burn the claim of a sign-in still under way; and a cookie, which the store
 * can check but not consume, is covered all the same. The look-up keeps its arity (passport
 * dispatches on it); `forward` lists the other methods passport calls, bound to the store.
 */
export function claimingStore(store: object, lookup: 'get' | 'verify', forward: readonly string[], settings: CallbackClaimSettings): object {
  const methods = store as Record<string, unknown>;
  const inner = methods[lookup] as (...args: unknown[]) => void;
  if (typeof inner !== 'function') throw new TypeError(`The \`store\` option must be an object with a ${lookup}(req, ${settings.what === 'state' ? 'state' : 'token'}, callback) method.`);
  const view: Record<string, unknown> = {};
  for (const name of forward) if (typeof methods[name] === 'function') view[name] = (methods[name] as (...args: unknown[]) => void).bind(store);
  const claimed = function (...args: unknown[]): void {
    const handle = args[1];
    const done = args[args.length - 1] as StoreCallback;
    // Per-call closures only pass on to module functions, where V8 keeps the work compiled (see sendToX's NodeExchange).
    const req = args[0];
    args[args.length - 1] = (err: Error | null, found?: unknown, info?: unknown): void => claimAccepted(settings, req, handle, done, err, found, info);
    inner.apply(store, args);
  };
  Object.defineProperty(claimed, 'length', { value: inner.length });
  view[lookup] = claimed;
  return view;
}
