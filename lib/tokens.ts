/**
 * `XTokenManager`: a valid OAuth 2.0 access token for a user whenever the app asks, with at most
 * one refresh per rotation of X's single-use refresh tokens, however many requests, processes or
 * instances ask at once.
 *
 * How it stays at one refresh:
 * - a fresh token is read from the app's store and returned (one `store.get`, no lock, no request);
 * - in one process, concurrent callers of a key share one refresh (one promise per key);
 * - across processes, the caller that refreshes holds `lock` (an {@link XTokenLock};
 *   `RedisTokenLock` for several instances) and re-reads the store once it holds it: if another
 *   process rotated meanwhile, its pair is used and nothing is sent to X;
 * - the rotated pair is written to the store before any caller receives the new access token; a
 *   pair the store refuses is kept in memory and written first on this process's next call, so
 *   that this process never sends X the spent refresh token again (another instance, which cannot
 *   see the kept pair, still reads the spent one from the store: docs/tokens.md, "Limits").
 *
 * @packageDocumentation
 */
import type { XTokenSet } from './endpoints';
import { xEndpoints } from './endpoints';
import { redactError, shortText, XLockTimeoutError, XOAuthError, XRefreshTokenRevokedError, XTokenNotFoundError, XTokenStoreError, type XRedactable, type XTokenStoreOperation } from './errors';
import { refreshAccessToken, revokeToken } from './helpers';
import { MAX_TIMEOUT_MS, resolveTimeout } from './http';
import { InProcessTokenLock, type XLockLease, type XTokenLock } from './lock';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A token set as a store may hand it back: {@link XTokenSet}, or the same after a JSON round
 * trip, where `expiresAt` became an ISO string (`JSON.stringify` of a Date) or a number of
 * milliseconds since the epoch, and `undefined` fields disappeared or became `null`.
 */
export interface XStoredTokenSet {
  /** The access token. */
  accessToken: string;
  /** The refresh token, when the sign-in asked for `offline.access`. */
  refreshToken?: string | null | undefined;
  /** `'bearer'`. */
  tokenType?: string | null | undefined;
  /** The lifetime X gave, in seconds. */
  expiresIn?: number | null | undefined;
  /** A Date, an ISO 8601 string, or milliseconds since the epoch. */
  expiresAt?: Date | string | number | null | undefined;
  /** The scopes granted. */
  scope?: readonly string[] | null | undefined;
}

/**
 * Where the app keeps each user's tokens: its database, Redis, a session... `XTokenManager`
 * calls `get` on every `getAccessToken` (and again under the lock before a refresh, a `revoke` or a
 * `store`), `set` after each rotation (before any caller gets the new token; up to 3 attempts) and
 * on `store`, and `delete` when X refused the refresh token or on `revoke`. Each call gets the
 * manager's `timeoutMs`, cut under the lock to what the lock has left: one that fails or has not
 * settled by then is an `XTokenStoreError`.
 *
 * `set` receives an {@link XTokenSet} whose `expiresAt` is a `Date`; a store that serialises it
 * (JSON) may give it back as a string or a number: `get` may return an {@link XStoredTokenSet}.
 * The tokens are credentials: keep the store private (and encrypted at rest where you can).
 *
 * @example
 * ```ts
 * import type { XTokenStore } from 'passport-x';
 *
 * // In memory: one process only, lost on restart. Fine for a demo.
 * const tokens = new Map<string, string>();
 * export const memoryStore: XTokenStore = {
 *   async get(userKey) {
 *     const json = tokens.get(userKey);
 *     return json === undefined ? undefined : JSON.parse(json);
 *   },
 *   async set(userKey, tokenSet) {
 *     tokens.set(userKey, JSON.stringify(tokenSet));
 *   },
 *   async delete(userKey) {
 *     tokens.delete(userKey);
 *   },
 * };
 * ```
 */
export interface XTokenStore {
  /** The user's tokens, or `undefined`/`null` when there are none. */
  get(userKey: string): Promise<XTokenSet | XStoredTokenSet | undefined | null>;
  /** Replaces the user's tokens. */
  set(userKey: string, tokens: XTokenSet): Promise<unknown>;
  /** Forgets the user's tokens. */
  delete(userKey: string): Promise<unknown>;
}

/** Options of {@link XTokenManager}. */
export interface XTokenManagerOptions {
  /** The OAuth 2.0 client ID from the X developer portal (as for `refreshAccessToken`). */
  clientID: string;
  /** The client secret, for a confidential client; leave it out for a public client. */
  clientSecret?: string | undefined;
  /** X's API host (default `https://api.x.com`); the emulator's `baseURL` in tests. */
  baseURL?: string | undefined;
  /**
   * Time-out of each request to X, and of each call to `store`, in ms (default 10,000). A store call
   * that has not settled by then fails with `XTokenStoreError` (`reason: 'timeout'`) and lets go of
   * the key.
   */
  timeoutMs?: number | undefined;
  /** Where the users' tokens live. */
  store: XTokenStore;
  /**
   * What keeps two refreshes of one user apart across processes. Default: an
   * {@link InProcessTokenLock} of this manager, right for one instance. Several instances:
   * `new RedisTokenLock({ client })`.
   */
  lock?: XTokenLock | undefined;
  /** Refresh when the access token expires within this many ms (default 60,000). */
  refreshBeforeMs?: number | undefined;
  /**
   * How long the lock is held at most for a refresh or a `store()`, in ms, counted from the take.
   * It must cover everything done under the lock: the store read, the request to X (`timeoutMs`,
   * cut to what the lock's lease leaves), the write of the new pair, and when X refuses the refresh
   * token, the re-read and the delete. Default `timeoutMs + 5000`. `revoke()`, which makes two
   * requests to X under the lock, holds it `timeoutMs` longer. A holder that dies keeps other
   * processes waiting this long. `lockTtlMs + timeoutMs` must be at most 2^31-1.
   */
  lockTtlMs?: number | undefined;
}

/** The default of {@link XTokenManagerOptions.refreshBeforeMs}. */
export const DEFAULT_REFRESH_BEFORE_MS = 60_000;

/** What {@link XTokenManagerOptions.lockTtlMs} adds to `timeoutMs` by default: the store's read and write. */
export const DEFAULT_LOCK_MARGIN_MS = 5_000;

function optionError(name: string, expected: string): TypeError {
  return new TypeError(`passport-x: XTokenManager needs \`${name}\` to be ${expected}.`);
}

function isFunctionOf(value: unknown, ...names: string[]): boolean {
  return typeof value === 'object' && value !== null && names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function');
}

function checkUserKey(method: string, userKey: unknown): asserts userKey is string {
  if (typeof userKey !== 'string' || userKey === '') throw new TypeError(`passport-x: XTokenManager.${method}() needs userKey to be a non-empty string (the key of the user's tokens in the store).`);
}

/**
 * Reads a token set (what `store.get` returned, or what the app passed to `store()`) into an
 * {@link XTokenSet}, reviving `expiresAt`; throws a TypeError naming the bad field.
 */
function reviveTokenSet(value: unknown, from: 'store' | 'app' = 'store'): XTokenSet {
  // Never quote the value: it holds tokens.
  const bad = (field: string, expected: string): TypeError =>
    new TypeError(
      from === 'store'
        ? `passport-x: XTokenManager: store.get() returned a token set whose \`${field}\` is not ${expected}. Store what XTokenManager passes to store.set().`
        : `passport-x: XTokenManager.store() was given a token set whose \`${field}\` is not ${expected}. Pass the XTokenSet of the sign-in (the strategy's params.tokenSet).`,
    );
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('(whole value)', 'an object');
  const v = value as Record<string, unknown>;
  if (typeof v.accessToken !== 'string' || v.accessToken === '') throw bad('accessToken', 'a non-empty string');
  if (v.refreshToken !== undefined && v.refreshToken !== null && (typeof v.refreshToken !== 'string' || v.refreshToken === '')) throw bad('refreshToken', 'a non-empty string when present');
  let expiresAt: Date | undefined;
  const at = v.expiresAt;
  if (at instanceof Date) expiresAt = at;
  else if (typeof at === 'string' || typeof at === 'number') expiresAt = new Date(at);
  else if (at !== undefined && at !== null) throw bad('expiresAt', 'a Date, an ISO string or milliseconds since the epoch');
  if (expiresAt !== undefined && Number.isNaN(expiresAt.getTime())) throw bad('expiresAt', 'a valid date');
  const expiresIn = typeof v.expiresIn === 'number' ? v.expiresIn : undefined;
  const scope = Array.isArray(v.scope) ? v.scope.filter((s): s is string => typeof s === 'string') : [];
  return {
    accessToken: v.accessToken,
    refreshToken: typeof v.refreshToken === 'string' ? v.refreshToken : undefined,
    tokenType: typeof v.tokenType === 'string' ? v.tokenType : 'bearer',
    expiresIn,
    expiresAt,
    scope,
  };
}

// X's words for a refresh token it no longer takes: "Value passed for the token was invalid." (x-protocol.md).
const DEAD_TOKEN_TEXT = /token was invalid/i;

/** Whether two sets hold the same tokens: a refresh changes the access token, and the refresh token unless X's answer keeps it (RFC 6749 section 6). */
function sameTokens(a: XTokenSet, b: XTokenSet): boolean {
  return a.accessToken === b.accessToken && a.refreshToken === b.refreshToken;
}

/**
 * Whether X's refusal means the refresh token itself is dead (used, revoked, expired): RFC 6749
 * section 5.2 says `invalid_grant`; X answers 400 `invalid_request` "Value passed for the token was
 * invalid.". Any other `invalid_request` is about the request (a parameter missing or refused: the
 * app's set-up), and `invalid_client`/`unauthorized_client` about the app's credentials: none of
 * those is a reason to drop the user's tokens.
 */
function isRefreshTokenRefused(err: unknown): err is XOAuthError {
  if (!(err instanceof XOAuthError)) return false;
  if (err.error === 'invalid_grant') return true;
  return err.error === 'invalid_request' && err.description !== undefined && DEAD_TOKEN_TEXT.test(err.description);
}

/**
 * What {@link XTokenManager.revoke} throws when more than one revocation failed: the first failure,
 * as `revokeToken` threw it, with the later ones in `otherFailures` (non-enumerable: there for the
 * app's handling, not repeated in every log line).
 *
 * @example
 * ```ts
 * import type { XRevokeFailures, XTokenManager } from 'passport-x';
 *
 * declare const tokens: XTokenManager;
 * try {
 *   await tokens.revoke('user-42');
 * } catch (err) {
 *   const others = (err as XRevokeFailures).otherFailures ?? [];
 *   console.error('sign-out failed', err, ...others);
 * }
 * ```
 */
export interface XRevokeFailures {
  /** The failures after the first, in the order the revocations ran (refresh token first). */
  readonly otherFailures?: readonly unknown[];
}

/** `first` with `others` attached as {@link XRevokeFailures.otherFailures}, when there are any and `first` can take them. */
function withOtherFailures(first: unknown, others: unknown[]): unknown {
  if (others.length > 0 && typeof first === 'object' && first !== null && Object.isExtensible(first)) {
    Object.defineProperty(first, 'otherFailures', { value: Object.freeze(others), enumerable: false, configurable: true });
  }
  return first;
}

/** What {@link settledWithin} rejects with when the call has not settled in time. */
const NOT_SETTLED = Symbol('not settled in time');

/**
 * `pending`'s outcome, or a rejection with {@link NOT_SETTLED} after `limitMs`: a store call that
 * never settles must not hold a key (its lock, its shared refresh) forever. The timer is unref'd, so
 * a hung store keeps no process alive. Nothing cancels `pending`: a write may still take effect
 * (see `XTokenManager`'s `#unsettled`).
 */
function settledWithin<T>(pending: Promise<T>, limitMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(NOT_SETTLED), limitMs);
    timer.unref();
    pending.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
  });
}

/** What the store write after a refresh is given of the lock's time, at most (within lockTtlMs - timeoutMs). */
const STORE_WRITE_RESERVE_MS = 2_000;

/** The shortest refresh time-out worth sending (half of timeoutMs when that is less). */
const MIN_REFRESH_TIMEOUT_MS = 1_000;

/** How long to wait before the 2nd and the 3rd attempt to store a rotated pair. */
const STORE_RETRY_DELAYS_MS = [100, 400] as const;

/** The most users a manager keeps a rotated pair for when the store refused it (the oldest is dropped first). */
const MAX_KEPT_PAIRS = 10_000;

/** A rotated pair the store refused: kept in memory until it can be written (see `XTokenManager.#keep`). */
interface KeptPair {
  tokens: XTokenSet;
  /** The refresh token X took in exchange for it: while the store holds it, the store is behind. */
  replaced: string;
}

/**
 * The lock a flight holds, its times on the monotonic clock (`performance.now()`), never the wall
 * clock: a clock stepped back (NTP, a resumed VM) while a refresh holds the lock must not make the
 * lease look longer than Redis keeps the key, or the holder would send a refresh the next holder
 * sends too.
 */
interface LockHold {
  /** When the caller asked for the lock, for the errors' `waitedMs`. */
  askedAt: number;
  /** When the lock may have expired. */
  deadline: number;
}

/** Options of {@link XTokenManager.refresh}. */
export interface XRefreshOptions {
  /**
   * The access token X refused (a 401), which made the app call `refresh()`. When the stored
   * access token is already another one, and fresh, it is the answer: no refresh is sent.
   */
  rejectedAccessToken?: string | undefined;
}

/** `refresh()`'s `rejectedAccessToken`, its options checked: a TypeError names a bad one. */
function rejectedAccessTokenOf(options: unknown): string | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) throw new TypeError('XTokenManager.refresh(): `options` must be an object');
  const rejected = (options as XRefreshOptions).rejectedAccessToken;
  if (rejected !== undefined && (typeof rejected !== 'string' || rejected === '')) throw new TypeError('XTokenManager.refresh(): `rejectedAccessToken` must be a non-empty string (the access token X refused)');
  return rejected;
}

/** One refresh in progress in this process, shared by every caller of its key. */
interface Flight {
  promise: Promise<XTokenSet>;
  /** A forced refresh (`refresh()`) rotates even a fresh pair. */
  forced: boolean;
}

/**
 * Keeps users' OAuth 2.0 access tokens fresh: {@link XTokenManager.getAccessToken} returns a
 * valid token, refreshing it through X (`refreshAccessToken`) when it expires within
 * `refreshBeforeMs`, at most once per rotation whatever the concurrency (see the module notes).
 *
 * The user must have signed in with the `offline.access` scope, and the app must have stored the
 * token set (`XTokenSet`, e.g. from the strategy's `params`) under a key of its choosing (the
 * user's id), with {@link XTokenManager.store}: it writes under the user's lock, so that a refresh
 * running meanwhile cannot overwrite the new sign-in's tokens.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis';
 * import { RedisTokenLock, XTokenManager, XRefreshTokenRevokedError, XTokenNotFoundError, type XTokenSet } from 'passport-x';
 *
 * const client = createClient({ url: process.env.REDIS_URL! });
 * await client.connect();
 * const tokens = new XTokenManager({
 *   clientID: process.env.X_CLIENT_ID!,
 *   clientSecret: process.env.X_CLIENT_SECRET!,
 *   store: {
 *     get: async (userKey) => {
 *       const json = await client.get(`tokens:${userKey}`);
 *       return json === null ? undefined : (JSON.parse(json) as XTokenSet);
 *     },
 *     set: (userKey, tokenSet) => client.set(`tokens:${userKey}`, JSON.stringify(tokenSet)),
 *     delete: (userKey) => client.del(`tokens:${userKey}`),
 *   },
 *   lock: new RedisTokenLock({ client }),
 * });
 *
 * try {
 *   const accessToken = await tokens.getAccessToken('user-42');
 *   await fetch('https://api.x.com/2/users/me', { headers: { authorization: `Bearer ${accessToken}` } });
 * } catch (err) {
 *   if (err instanceof XRefreshTokenRevokedError || err instanceof XTokenNotFoundError) {
 *     // sign the user in again
 *   } else throw err;
 * }
 * ```
 */
export class XTokenManager {
  readonly #clientID: string;
  readonly #clientSecret: string | undefined;
  readonly #baseURL: string | undefined;
  readonly #timeoutMs: number;
  readonly #store: XTokenStore;
  readonly #lock: XTokenLock;
  readonly #refreshBeforeMs: number;
  readonly #lockTtlMs: number;
  readonly #flights = new Map<string, Flight>();
  /**
   * Reads of the store in flight (`getAccessToken`, `refresh()`), by user key, and the last forced
   * refresh (`refresh()`) of that user started meanwhile: a read it overlapped may hold the token
   * it replaces. An entry lives while its reads do.
   */
  readonly #reads = new Map<string, { readers: number; forced?: Promise<XTokenSet> }>();
  /** Rotated pairs the store refused, by user key, oldest first: written before anything else on the next call. */
  readonly #kept = new Map<string, KeptPair>();
  /**
   * Writes and deletes this manager gave up on (not settled within their limit), by user key, with
   * their operation. Nothing cancels them, so each may still take effect: until they settle, no
   * holder of the user's lock here asks anything of the store for that user, and the holder whose
   * call it was keeps the lock (within its lease), so that no later write lands under an earlier one.
   */
  readonly #unsettled = new Map<string, Map<Promise<unknown>, XTokenStoreOperation>>();
  /** Whether the lock is this manager's own (no `lock` option): no other manager or instance takes it. */
  readonly #ownLock: boolean;

  /**
   * Checks the options and builds a manager; it touches neither the store nor X until asked for a
   * token. Create one per process (and share its lock, or an `InProcessTokenLock`, between
   * managers of one store).
   *
   * @param options - see {@link XTokenManagerOptions}; never mutated
   * @throws TypeError naming a bad option; RangeError for a `timeoutMs` that is not whole or above
   * 2^31-1, or a `timeoutMs`/`lockTtlMs` whose `revoke()` lock TTL (`lockTtlMs + timeoutMs`) passes 2^31-1
   */
  constructor(options: XTokenManagerOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('passport-x: XTokenManager needs an options object: { clientID, clientSecret?, store, lock?, ... }.');
    const { clientID, clientSecret, baseURL, store, lock, refreshBeforeMs, lockTtlMs } = options;
    if (typeof clientID !== 'string' || clientID === '') throw optionError('clientID', 'a non-empty string: the OAuth 2.0 client ID from the X developer portal');
    if (clientSecret !== undefined && (typeof clientSecret !== 'string' || clientSecret === '')) {
      throw optionError('clientSecret', 'a non-empty string when given (leave it out for a public client)');
    }
    if (baseURL !== undefined) {
      if (typeof baseURL !== 'string') throw optionError('baseURL', 'a URL string');
      xEndpoints(baseURL); // throws a TypeError naming baseURL when it is not an http(s) URL
    }
    this.#timeoutMs = resolveTimeout(options.timeoutMs);
    if (!isFunctionOf(store, 'get', 'set', 'delete')) throw optionError('store', 'an object with get(userKey), set(userKey, tokenSet) and delete(userKey) methods (each returning a promise)');
    if (lock !== undefined && !isFunctionOf(lock, 'withLock')) throw optionError('lock', 'an XTokenLock (an object with a withLock(key, ttlMs, fn) method), e.g. new RedisTokenLock({ client })');
    if (refreshBeforeMs !== undefined && (typeof refreshBeforeMs !== 'number' || !Number.isFinite(refreshBeforeMs) || refreshBeforeMs < 0)) {
      throw optionError('refreshBeforeMs', 'a number of milliseconds >= 0');
    }
    const defaultLockTtl = Math.ceil(this.#timeoutMs) + DEFAULT_LOCK_MARGIN_MS;
    if (lockTtlMs !== undefined && (typeof lockTtlMs !== 'number' || !Number.isInteger(lockTtlMs) || lockTtlMs <= this.#timeoutMs)) {
      throw optionError('lockTtlMs', `a whole number of milliseconds greater than timeoutMs (${this.#timeoutMs}): the lock must outlast a request to X`);
    }
    const lockTtl = lockTtlMs ?? defaultLockTtl;
    // revoke() asks for the longest TTL, lockTtlMs + timeoutMs; a lock refuses one past Node's longest timer.
    if (lockTtl + this.#timeoutMs > MAX_TIMEOUT_MS) {
      const named = lockTtlMs === undefined ? `\`timeoutMs\` (the default lockTtlMs is timeoutMs + ${DEFAULT_LOCK_MARGIN_MS})` : '`lockTtlMs`';
      throw new RangeError(
        `passport-x: XTokenManager needs ${named} to be smaller: revoke() holds the lock for lockTtlMs + timeoutMs (${lockTtl + this.#timeoutMs} ms here), which must be at most ${MAX_TIMEOUT_MS} ms (about 24.8 days).`,
      );
    }
    this.#clientID = clientID;
    this.#clientSecret = clientSecret;
    this.#baseURL = baseURL;
    this.#store = store;
    this.#lock = lock ?? new InProcessTokenLock();
    this.#ownLock = lock === undefined;
    this.#refreshBeforeMs = refreshBeforeMs ?? DEFAULT_REFRESH_BEFORE_MS;
    this.#lockTtlMs = lockTtl;
  }

  /**
   * A valid access token for `userKey`. When the stored one is fresh (expires in more than
   * `refreshBeforeMs`, or its expiry is unknown), that costs one `store.get` and nothing else;
   * otherwise the token is refreshed once, shared by every concurrent caller.
   *
   * @throws XTokenNotFoundError when nothing usable is stored (sign the user in)
   * @throws XRefreshTokenRevokedError when X refused the refresh token; the stored tokens were deleted, or found already gone (sign the user in again)
   * @throws XLockTimeoutError when another process held the lock too long, or it had too little time left to refresh (retry later)
   * @throws XTokenStoreError when the store failed or did not answer within `timeoutMs` (retry later)
   * @throws XOAuthError, XRequestError, ... when the refresh failed otherwise (X down, time-out, wrong client credentials)
   */
  async getAccessToken(userKey: string): Promise<string> {
    checkUserKey('getAccessToken', userKey);
    return (await this.#freshTokenSet(userKey)).accessToken;
  }

  /**
   * The whole fresh token set for `userKey` (access token, its expiry, scopes, refresh token),
   * under the same rules and at the same cost as {@link XTokenManager.getAccessToken}: for a page
   * that shows when the token expires, or an app that needs the granted scopes.
   *
   * @throws as {@link XTokenManager.getAccessToken}
   */
  async getTokenSet(userKey: string): Promise<XTokenSet> {
    checkUserKey('getTokenSet', userKey);
    return this.#freshTokenSet(userKey);
  }

  async #freshTokenSet(userKey: string): Promise<XTokenSet> {
    // A forced refresh in flight here (refresh(), most likely after X refused the stored access
    // token) is joined: the stored token, fresh or not, may be the one X refused.
    const forced = this.#flights.get(userKey);
    if (forced?.forced) return forced.promise;
    const read = await this.#readWatchingForced(userKey);
    let stored = read.stored;
    if (read.forcedMeanwhile !== undefined) {
      // A forced refresh started while the store answered: what it gave may be the token that
      // refresh replaces. Join it while it runs; once it is over, read again (it stored its pair).
      const started = this.#flights.get(userKey);
      if (started?.forced) return started.promise;
      stored = await this.#read(userKey);
    }
    // A pair this process got from X but could not store is newer than any stored one, fresh or not:
    // the locked path writes it first and answers it (the stored access token may be the very one
    // the app saw X refuse before it called refresh()).
    if (this.#answerable(userKey, stored)) return stored;
    return (this.#flights.get(userKey) ?? this.#startFlight(userKey, stored, false)).promise;
  }

  /**
   * Refreshes `userKey`'s tokens now, whatever their expiry (e.g. after X answered 401 to the
   * access token), and resolves to the new set, already stored. Concurrent calls share one
   * refresh, and `getAccessToken` callers meanwhile wait for it; when another process rotated the
   * tokens since this call read them, its pair is returned and nothing more is sent to X.
   *
   * Pass the access token X refused as `rejectedAccessToken`: when the stored one is already
   * another, fresh one (a refresh by another request finished meanwhile), it is returned and
   * nothing is sent to X, so that each request that saw the same 401 does not rotate once more.
   *
   * @throws as {@link XTokenManager.getAccessToken}
   */
  async refresh(userKey: string, options?: XRefreshOptions): Promise<XTokenSet> {
    checkUserKey('refresh', userKey);
    const rejected = rejectedAccessTokenOf(options);
    for (;;) {
      const running = this.#flights.get(userKey);
      if (running?.forced) return running.promise;
      // A due-token refresh may find a fresh pair and not rotate: let it finish, then rotate from what it stored.
      if (running) {
        await running.promise.catch(() => undefined);
        continue;
      }
      const { stored, forcedMeanwhile } = await this.#readWatchingForced(userKey);
      // A forced refresh of this user started while the store answered: it began after this call,
      // so it is this call's too, even when it is over by now and what the store gave is its pair
      // (with a store whose reads can answer out of order, a pool or a replica): not a second one.
      if (forcedMeanwhile !== undefined) return forcedMeanwhile;
      // Another caller started a refresh while this one read: join or wait for it instead.
      if (this.#flights.has(userKey)) continue;
      // Renewed already since the caller saw X refuse its token: nothing to rotate (a kept pair comes first, through the lock).
      if (rejected !== undefined && stored.accessToken !== rejected && this.#answerable(userKey, stored)) return stored;
      return this.#startFlight(userKey, stored, true).promise;
    }
  }

  /**
   * Stores `tokenSet` as `userKey`'s tokens, holding the user's lock: how a sign-in should save the
   * tokens it got. A refresh of the user running meanwhile, in this process or (with
   * `RedisTokenLock`) another instance, finishes first; the refreshes after it find this set under
   * the lock and use it. So no refresh writes its rotation of the old grant over the newer sign-in's
   * tokens, as it could after a plain `store.set`.
   *
   * It resolves to the user's earlier grants it replaced, read under the same lock: the pair this
   * process kept for the user because the store refused it (see {@link XTokenStoreError}), and the
   * stored set; none that shares a token with `tokenSet` (the same grant), and an empty list when
   * there was nothing else. Those tokens are still live at X: an app that keeps one grant per user
   * revokes them (`revokeToken`, the refresh token first). Each call answers the sets it displaced,
   * so two sign-ins of one user at once each get their own to revoke. A stored value that is no
   * token set (corrupt, or another app's format) is overwritten and not answered.
   *
   * @example
   * ```ts
   * import { revokeToken, type XOAuth2TokenParams, type XTokenManager } from 'passport-x';
   *
   * declare const tokens: XTokenManager;
   * declare const params: XOAuth2TokenParams; // the strategy's verify callback gets it
   * const client = { clientID: process.env.X_CLIENT_ID!, clientSecret: process.env.X_CLIENT_SECRET };
   * for (const earlier of await tokens.store('user-42', params.tokenSet)) {
   *   if (earlier.refreshToken) await revokeToken({ ...client, token: earlier.refreshToken, tokenTypeHint: 'refresh_token' });
   *   await revokeToken({ ...client, token: earlier.accessToken, tokenTypeHint: 'access_token' });
   * }
   * ```
   *
   * @throws TypeError when `userKey` is not a non-empty string, or `tokenSet` is not a token set (naming the field, never its value)
   * @throws XLockTimeoutError when the lock stayed taken too long (`RedisTokenLock`'s `acquireTimeoutMs`), or had no time left for the write; nothing was stored
   * @throws XTokenStoreError when the store failed or did not answer within `timeoutMs` (a write that
   * did not settle in time may still take effect), or when an earlier write or delete for this user
   * that did not settle in time still has not: nothing more was stored
   */
  async store(userKey: string, tokenSet: XTokenSet | XStoredTokenSet): Promise<XTokenSet[]> {
    checkUserKey('store', userKey);
    const tokens = reviveTokenSet(tokenSet, 'app');
    const secrets: XRedactable[] = [tokens.accessToken, tokens.refreshToken].filter((t) => t !== undefined);
    return this.#underLock(userKey, this.#lockTtlMs, undefined, async (hold) => {
      const nothingStored = 'nothing was stored. Retry; if this recurs, check the store.';
      const value = await this.#storeCall(userKey, 'get', () => this.#store.get(userKey), secrets, nothingStored, this.#leaseLimitMs(hold, 'the read before the write', 'nothing was stored. Retry.'));
      let stored: XTokenSet | undefined;
      try {
        stored = value === undefined || value === null ? undefined : reviveTokenSet(value);
      } catch {
        // Not a token set: a plain write would overwrite it too, and it is no grant to answer.
        stored = undefined;
      }
      const kept = this.#kept.get(userKey)?.tokens;
      const maybeStored = 'the tokens may not be stored. Retry (storing the same tokens again is harmless); if this recurs, check the store.';
      await this.#storeCall(userKey, 'set', () => this.#store.set(userKey, tokens), secrets, maybeStored, this.#leaseLimitMs(hold, 'the write', 'nothing was stored. Retry.'));
      this.#kept.delete(userKey);
      const sameGrant = (set: XTokenSet): boolean => set.accessToken === tokens.accessToken || (set.refreshToken !== undefined && set.refreshToken === tokens.refreshToken);
      const replaced: XTokenSet[] = [];
      for (const set of [kept, stored]) {
        if (set !== undefined && !sameGrant(set) && !replaced.some((r) => r.accessToken === set.accessToken)) replaced.push(set);
      }
      return replaced;
    });
  }

  /**
   * Signs `userKey` out at X: revokes the stored refresh token (first, so that it can mint no
   * more access tokens) and access token (`POST /2/oauth2/revoke`, RFC 7009), then deletes them
   * from the store. Waits for a refresh in progress, and holds the lock, so that no refresh
   * stores a new pair behind it. Tries every token even when a revocation fails. A rotated pair
   * this process keeps because the store refused it (see {@link XTokenStoreError}) is revoked too,
   * and forgotten.
   *
   * @returns true when tokens were stored or kept (and are now revoked and deleted), false when there were none
   * @throws the first failure of `revokeToken` (an `XAPIError`, `XOAuthError`, `XRequestError`..., or an
   * `XLockTimeoutError` for a revocation the lock had no time left for); the tokens then stay stored,
   * so that the call can be retried. When both revocations failed, that error
   * carries the other one in its non-enumerable `otherFailures` array (`XRevokeFailures`).
   */
  async revoke(userKey: string): Promise<boolean> {
    checkUserKey('revoke', userKey);
    await this.#flights.get(userKey)?.promise.catch(() => undefined);
    // Two requests to X under the lock.
    const ttlMs = this.#lockTtlMs + Math.ceil(this.#timeoutMs);
    return this.#underLock(userKey, ttlMs, performance.now(), async (hold) => {
      const value = await this.#get(userKey);
      const stored = value === undefined || value === null ? undefined : reviveTokenSet(value);
      // A rotated pair the store refused (kept in this process) is live at X too.
      const kept = this.#kept.get(userKey)?.tokens;
      if (stored === undefined && kept === undefined) return false;
      const sets = [kept, stored].filter((set) => set !== undefined);
      // Refresh tokens first, so that none can mint more access tokens; each token once.
      const tokens = new Map<string, 'refresh_token' | 'access_token'>();
      for (const set of sets) if (set.refreshToken !== undefined) tokens.set(set.refreshToken, 'refresh_token');
      for (const set of sets) if (!tokens.has(set.accessToken)) tokens.set(set.accessToken, 'access_token');
      const client = this.#clientOptions();
      const failures: unknown[] = [];
      for (const [token, tokenTypeHint] of tokens) {
        try {
          // Each revocation within what the lock has left, keeping time for the delete: none outlasts
          // it. One the lock has no time for is a failure like any other: the others are still tried.
          const timeoutMs = this.#requestTimeoutMs(hold, 'a revocation and the store delete after it');
          await revokeToken({ ...client, timeoutMs, token, tokenTypeHint });
        } catch (err) {
          failures.push(err);
        }
      }
      if (failures.length > 0) throw withOtherFailures(failures[0], failures.slice(1));
      this.#kept.delete(userKey);
      if (stored !== undefined) {
        const notDeleted = 'the tokens are revoked at X but still stored. Retry revoke() (revoking them again is harmless).';
        await this.#storeCall(userKey, 'delete', () => this.#store.delete(userKey), [...tokens.keys()], notDeleted, this.#leaseLimitMs(hold, 'the delete', notDeleted));
      }
      return true;
      // Revoking is safe whatever the store holds: an earlier write still unsettled does not stop it.
    }, false);
  }

  #clientOptions(): { clientID: string; clientSecret?: string; baseURL?: string; timeoutMs: number } {
    const options: { clientID: string; clientSecret?: string; baseURL?: string; timeoutMs: number } = { clientID: this.#clientID, timeoutMs: this.#timeoutMs };
    if (this.#clientSecret !== undefined) options.clientSecret = this.#clientSecret;
    if (this.#baseURL !== undefined) options.baseURL = this.#baseURL;
    return options;
  }

  /**
   * One call to the store, within `limitMs` (default `timeoutMs`): its outcome, or an
   * {@link XTokenStoreError} when it rejects (its error, redacted of `secrets`, as the cause) or
   * does not settle in time. `consequence` says what that means for the caller.
   */
  async #storeCall<T>(userKey: string, operation: XTokenStoreOperation, call: () => Promise<T>, secrets: XRedactable[], consequence: string, limitMs = this.#timeoutMs): Promise<T> {
    // Through a promise: a store method that throws instead of rejecting is a failure too.
    const pending = Promise.resolve().then(call);
    try {
      return await settledWithin(pending, limitMs);
    } catch (err) {
      const timedOut = err === NOT_SETTLED;
      const late = timedOut && operation !== 'get';
      if (late) this.#trackUnsettled(userKey, pending, operation);
      const what = timedOut ? `did not settle within ${limitMs} ms (timeoutMs)` : 'failed (its error is the cause)';
      const after = late ? ' The call was not cancelled and may still take effect: until it settles, this manager asks nothing more of the store for this user.' : '';
      throw new XTokenStoreError(`XTokenManager: the token store's ${operation}() ${what}: ${consequence}${after}`, {
        operation,
        reason: timedOut ? 'timeout' : 'failed',
        cause: timedOut ? undefined : redactError(err, secrets),
      });
    }
  }

  /** Keeps `pending`, a write or delete given up on, in {@link XTokenManager.#unsettled} until it settles. */
  #trackUnsettled(userKey: string, pending: Promise<unknown>, operation: XTokenStoreOperation): void {
    let calls = this.#unsettled.get(userKey);
    if (calls === undefined) this.#unsettled.set(userKey, (calls = new Map()));
    const forget = (): void => {
      clearTimeout(giveUp);
      calls.delete(pending);
      if (calls.size === 0 && this.#unsettled.get(userKey) === calls) this.#unsettled.delete(userKey);
    };
    // One that has not settled twice lockTtlMs later is taken for lost (a reply the store's client
    // dropped): waiting for it longer would shut the user out for the process's life.
    const giveUp = setTimeout(forget, 2 * this.#lockTtlMs);
    giveUp.unref();
    calls.set(pending, operation);
    pending.then(forget, forget);
  }

  /**
   * Waits, at most `limitMs`, for the writes and deletes of `userKey` given up on earlier to
   * settle. Resolves to the operation of one still unsettled, or undefined when none is.
   */
  async #stillUnsettled(userKey: string, limitMs: number): Promise<XTokenStoreOperation | undefined> {
    const calls = this.#unsettled.get(userKey);
    if (calls === undefined) return undefined;
    if (limitMs > 0) await settledWithin(Promise.allSettled([...calls.keys()]), limitMs).catch(() => undefined);
    return this.#unsettled.get(userKey)?.values().next().value;
  }

  /**
   * `fn` under `userKey`'s lock (held for at most `ttlMs`), with its {@link LockHold}. Before `fn`,
   * the writes and deletes given up on earlier must have settled (else an {@link XTokenStoreError},
   * nothing done); after it, the lock is kept until those `fn` gave up on have settled, within the
   * lease, so that no other holder (another manager, another instance) writes before them.
   *
   * @param askedAt - when the caller asked for the lock, for the errors' `waitedMs`; default: when `fn` starts
   */
  #underLock<T>(userKey: string, ttlMs: number, askedAt: number | undefined, fn: (hold: LockHold) => Promise<T>, refuseWhileUnsettled = true): Promise<T> {
    return this.#lock.withLock(userKey, ttlMs, async (lease?: XLockLease) => {
      const hold: LockHold = { askedAt: askedAt ?? performance.now(), deadline: this.#lockDeadline(lease, ttlMs) };
      const earlier = await this.#stillUnsettled(userKey, this.#leaseLeftMs(hold));
      if (earlier !== undefined && refuseWhileUnsettled) {
        throw new XTokenStoreError(
          `XTokenManager: an earlier ${earlier}() of the token store for this user did not settle in time, and still has not: nothing was sent to X and nothing was asked of the store, since that call could still take effect over a later one. Retry later; if this recurs, check the store.`,
          { operation: earlier, reason: 'timeout' },
        );
      }
      try {
        return await fn(hold);
      } finally {
        // The manager's own lock: no other holder to keep out, and this manager waits at its next call.
        if (!this.#ownLock) await this.#stillUnsettled(userKey, this.#heldLeftMs(hold));
      }
    });
  }

  /** `store.get`, bounded; nothing was sent to X when it fails. */
  #get(userKey: string, secrets: XRedactable[] = []): Promise<XTokenSet | XStoredTokenSet | undefined | null> {
    return this.#storeCall(userKey, 'get', () => this.#store.get(userKey), secrets, 'nothing was sent to X and nothing changed. Retry; if this recurs, check the store.');
  }

  /** The stored set; XTokenNotFoundError when there is none. `secrets`: the tokens to redact from a store failure. */
  async #read(userKey: string, secrets: XRedactable[] = []): Promise<XTokenSet> {
    const value = await this.#get(userKey, secrets);
    if (value === undefined || value === null) {
      throw new XTokenNotFoundError('XTokenManager: no tokens are stored for this user: sign the user in with OAuth 2.0 (offline.access) and store the token set first.', 'no-entry');
    }
    return reviveTokenSet(value);
  }

  /** Whether `stored` is the answer without the lock: fresh, and no newer pair is kept in this process for `userKey`. */
  #answerable(userKey: string, stored: XTokenSet): boolean {
    return this.#isFresh(stored) && !this.#kept.has(userKey);
  }

  /** Fresh: expires later than `refreshBeforeMs` from now, or X never said when. */
  #isFresh(tokens: XTokenSet): boolean {
    return tokens.expiresAt === undefined || tokens.expiresAt.getTime() - Date.now() > this.#refreshBeforeMs;
  }

  /**
   * The stored set of `userKey` (see {@link #read}), and the forced refresh of that user that started
   * while the store answered, if one did (the last one, should there be several).
   */
  async #readWatchingForced(userKey: string): Promise<{ stored: XTokenSet; forcedMeanwhile: Promise<XTokenSet> | undefined }> {
    let reading = this.#reads.get(userKey);
    if (reading === undefined) this.#reads.set(userKey, (reading = { readers: 0 }));
    reading.readers++;
    // Only what starts from here on counts for this read.
    const before = reading.forced;
    try {
      const stored = await this.#read(userKey);
      return { stored, forcedMeanwhile: reading.forced !== before ? reading.forced : undefined };
    } finally {
      if (--reading.readers === 0 && this.#reads.get(userKey) === reading) this.#reads.delete(userKey);
    }
  }

  #startFlight(userKey: string, seen: XTokenSet, forced: boolean): Flight {
    const promise = this.#underLock(userKey, this.#lockTtlMs, performance.now(), (hold) => this.#rotateOnce(userKey, seen, forced, hold));
    // The reads of this user in flight may hold the token this refresh replaces.
    const reading = forced ? this.#reads.get(userKey) : undefined;
    if (reading !== undefined) reading.forced = promise;
    const flight: Flight = { forced, promise };
    this.#flights.set(userKey, flight);
    const forget = (): void => {
      if (this.#flights.get(userKey) === flight) this.#flights.delete(userKey);
    };
    flight.promise.then(forget, forget);
    return flight;
  }

  /**
   * When the lock this call holds may expire, on the monotonic clock: what its lease's `expiresAt`
   * (the wall clock's) leaves, counted from the moment `fn` starts, or, from a lock that gives none,
   * `lockTtlMs` from then (the latest the lock can have been taken). From then on the wall clock is
   * not read again, so a step of it changes nothing.
   */
  #lockDeadline(lease: XLockLease | undefined, ttlMs = this.#lockTtlMs): number {
    const expiresAt: unknown = (lease as Partial<XLockLease> | undefined)?.expiresAt;
    const now = performance.now();
    return typeof expiresAt === 'number' && !Number.isNaN(expiresAt) ? now + (expiresAt - Date.now()) : now + ttlMs;
  }

  /**
   * The time-out of a request to X sent now under the lock (a refresh, a revocation): `timeoutMs`,
   * cut so that the request and the store call after it end before the lock may expire: a refresh
   * that outlasts the lock lets the next holder send the same refresh token, which X then refuses;
   * a revocation that does, a holder store a pair the delete after it removes unrevoked. One cut too
   * short, though, may be taken by X and its answer lost: below half of `timeoutMs` (at most 1 s)
   * nothing is sent.
   *
   * @param what - the request and the store call after it, for the error's message
   * @throws XLockTimeoutError when the lock has too little time left
   */
  #requestTimeoutMs(hold: LockHold, what: string): number {
    const left = hold.deadline - performance.now();
    // What the store call after X's answer may take, within the margin lockTtlMs leaves over timeoutMs.
    const reserve = Math.min(STORE_WRITE_RESERVE_MS, this.#lockTtlMs - this.#timeoutMs);
    const budget = Math.floor(Math.min(this.#timeoutMs, left - reserve));
    const least = Math.min(MIN_REFRESH_TIMEOUT_MS, Math.ceil(this.#timeoutMs / 2));
    if (budget >= least) return budget;
    const waitedMs = Math.floor(performance.now() - hold.askedAt);
    throw new XLockTimeoutError(
      `XTokenManager: the lock had too little time left (${Math.max(0, Math.floor(left))} ms) for ${what} (at least ${least} ms for the request), after ${waitedMs} ms: that request was not sent to X, and the stored tokens are unchanged. ` +
        'Retry. If this recurs, the lock is taken late (a slow or reconnecting Redis) or the store is slow: raise lockTtlMs.',
      { waitedMs, attempts: 1 },
    );
  }

  /** What the lock has left now, at most `lockTtlMs` (a lock whose lease never ends gives Infinity). */
  #heldLeftMs(hold: LockHold): number {
    return Math.min(this.#lockTtlMs, Math.floor(hold.deadline - performance.now()));
  }

  /** `timeoutMs`, cut to what the lock has left now (0 or less once it has run out). */
  #leaseLeftMs(hold: LockHold): number {
    return Math.min(this.#timeoutMs, Math.floor(hold.deadline - performance.now()));
  }

  /**
   * The time a store call made now under the lock may take: `timeoutMs`, cut to what the lock has
   * left, so that no write or delete lands after the lock expired, over the next holder's.
   *
   * @param what - the store call, for the error's message
   * @param consequence - what the error means for the caller
   * @throws XLockTimeoutError when the lock has no time left; the call is not made
   */
  #leaseLimitMs(hold: LockHold, what: string, consequence: string): number {
    const limitMs = this.#leaseLeftMs(hold);
    if (limitMs > 0) return limitMs;
    const waitedMs = Math.floor(performance.now() - hold.askedAt);
    throw new XLockTimeoutError(`XTokenManager: the lock had no time left for ${what}, after ${waitedMs} ms: ${consequence} If this recurs, the store or X is slow: raise lockTtlMs.`, {
      waitedMs,
      attempts: 1,
    });
  }

  /** Under the lock: re-read, and refresh only if nobody did meanwhile. */
  async #rotateOnce(userKey: string, seen: XTokenSet, forced: boolean, hold: LockHold): Promise<XTokenSet> {
    let current: XTokenSet;
    try {
      current = await this.#read(userKey, [seen.accessToken, seen.refreshToken]);
    } catch (err) {
      // Nothing stored (the user signed out meanwhile): a pair kept for the key must not bring the tokens back.
      if (err instanceof XTokenNotFoundError) this.#kept.delete(userKey);
      throw err;
    }
    // A pair this process got from X but could not store comes first: the stored refresh token is spent.
    const restored = await this.#storeKeptPair(userKey, current, hold);
    if (restored !== undefined) {
      if (this.#isFresh(restored)) return restored;
      current = restored;
    } else {
      // Another process (or an earlier holder here) refreshed while this one waited: use its set.
      if (!sameTokens(current, seen) && this.#isFresh(current)) return current;
      if (!forced && this.#isFresh(current)) return current;
    }
    if (current.refreshToken === undefined) {
      const expired = current.expiresAt !== undefined && current.expiresAt.getTime() <= Date.now();
      // Without a refresh token the access token is all there is: still good until it expires.
      if (!forced && !expired) return current;
      throw new XTokenNotFoundError(
        'XTokenManager: the stored access token cannot be renewed: there is no refresh token (the sign-in did not ask for the offline.access scope). Sign the user in again, with offline.access.',
        'no-refresh-token',
      );
    }
    const replaced = { accessToken: current.accessToken, refreshToken: current.refreshToken };
    let next: XTokenSet;
    try {
      const timeoutMs = this.#requestTimeoutMs(hold, 'a refresh and the store write after it');
      next = await refreshAccessToken({ ...this.#clientOptions(), timeoutMs, refreshToken: replaced.refreshToken });
    } catch (err) {
      if (!isRefreshTokenRefused(err)) throw err;
      return this.#afterRefusal(userKey, current, err, hold);
    }
    // RFC 6749 section 6: without a new refresh token in the answer, the old one stays valid. Section
    // 5.1: an answer without `scope` grants the scopes already granted (X never grants none).
    const rotated: XTokenSet = { ...next, refreshToken: next.refreshToken ?? current.refreshToken, scope: next.scope.length > 0 ? next.scope : current.scope };
    // Stored before any caller sees the new access token: a crash now loses nothing.
    await this.#saveRotated(userKey, rotated, replaced, hold);
    return rotated;
  }

  /**
   * X refused the refresh token of `sent`, the set this holder read. The store is read again before
   * anything is deleted: this holder may have outlived its lock (a pause longer than its lease) while
   * the next holder rotated the pair, or the user signed in again meanwhile, with or without a
   * refresh token. A stored set that differs from `sent` in either token is never deleted: it is
   * returned when usable (not expired); an expired one stays for the next call to refresh, and this
   * call rejects with X's refusal. A pair this process kept for `sent` is written and used instead
   * (none is kept at this point today: one is written or forgotten before any refresh is sent).
   * Only a store that still holds `sent` is cleared. The re-read and the delete are two store
   * calls, not one atomic step across processes (`XTokenStore` has no compare-and-delete); the lease
   * keeps them within this holder's lock.
   */
  async #afterRefusal(userKey: string, sent: XTokenSet, refusal: XOAuthError, hold: LockHold): Promise<XTokenSet> {
    const secrets = [sent.accessToken, sent.refreshToken];
    const value = await this.#get(userKey, secrets);
    const gone = value === undefined || value === null;
    if (gone) {
      // Deleted meanwhile (a sign-out): nothing to delete, and a kept pair must not bring the tokens back.
      this.#kept.delete(userKey);
    } else {
      const latest = reviveTokenSet(value);
      const kept = await this.#storeKeptPair(userKey, latest, hold);
      const other = kept ?? (sameTokens(latest, sent) ? undefined : latest);
      if (other !== undefined) {
        if (other.expiresAt === undefined || other.expiresAt.getTime() > Date.now()) return other;
        throw refusal;
      }
      // A dead refresh token stays dead: drop it, so no caller retries it (no retry loop).
      const notDeleted = 'X refused the stored refresh token (used, revoked or expired), and it could not be deleted: the user must sign in again.';
      await this.#storeCall(userKey, 'delete', () => this.#store.delete(userKey), secrets, notDeleted, this.#leaseLimitMs(hold, 'the delete of the refused tokens', notDeleted));
    }
    throw new XRefreshTokenRevokedError(
      `XTokenManager: X refused the stored refresh token (HTTP ${refusal.status ?? '?'} ${shortText(refusal.error)}${refusal.description ? `: ${shortText(refusal.description)}` : ''}): it was used, revoked or has expired, so the user must sign in again. ` +
        `${gone ? 'No tokens were stored for this user any more (deleted meanwhile, by a sign-out or another instance).' : 'The stored tokens were deleted.'} If this follows a refresh by another instance, the instances do not share a lock: use RedisTokenLock.`,
      { cause: refusal, status: refusal.status },
    );
  }

  /**
   * Stores a pair X issued, `rotated`, which replaced the pair `replaced`: up to 3 attempts, 100 ms
   * then 400 ms apart, a retry only while the lock holds (each bounded by the time it has left).
   * When all fail, the pair is kept in this process (`#keep`) and an
   * {@link XTokenStoreError} (`rotatedPairKept`) is thrown: no caller gets the pair before it is stored.
   */
  async #saveRotated(userKey: string, rotated: XTokenSet, replaced: { accessToken: string; refreshToken: string }, hold: LockHold): Promise<void> {
    const secrets = [rotated.accessToken, rotated.refreshToken, replaced.accessToken, replaced.refreshToken];
    let failure: XTokenStoreError | undefined;
    let attempts = 0;
    for (const wait of [0, ...STORE_RETRY_DELAYS_MS]) {
      if (wait > 0) {
        if (hold.deadline - performance.now() - wait <= 0) break;
        await sleep(wait);
        // An attempt that did not settle in time may still land: none is made before it has.
        if ((await this.#stillUnsettled(userKey, this.#heldLeftMs(hold))) !== undefined) break;
      }
      // Every attempt, the first too, within what the lock has left: a write that lands after the lock
      // expired could cover the next holder's, so none is made once it has run out.
      const limitMs = this.#leaseLeftMs(hold);
      if (limitMs <= 0) break;
      attempts++;
      try {
        await this.#storeCall(userKey, 'set', () => this.#store.set(userKey, rotated), secrets, 'the rotated pair may not be stored.', limitMs);
        this.#kept.delete(userKey);
        return;
      } catch (err) {
        failure = err as XTokenStoreError;
      }
    }
    this.#keep(userKey, rotated, replaced.refreshToken);
    const kept =
      'The new pair is kept in this process, no caller got it, and it is saved on the next call for this user, before anything is sent to X. Retry. If this process ends first, the pair is lost and the user must sign in again.';
    if (failure === undefined) {
      // The lock ran out before the first attempt: writing now could cover the next holder's pair.
      throw new XTokenStoreError(`XTokenManager: X rotated this user's tokens, but the lock had no time left to store the new pair. ${kept}`, { operation: 'set', reason: 'timeout', rotatedPairKept: true });
    }
    throw new XTokenStoreError(
      `XTokenManager: X rotated this user's tokens, but the token store refused to save the new pair (${attempts === 1 ? '1 attempt' : `${attempts} attempts`}; the last ${failure.reason === 'timeout' ? 'did not settle in time' : 'failed: its error is the cause'}). ${kept}`,
      { operation: 'set', reason: failure.reason, rotatedPairKept: true, cause: failure.cause },
    );
  }

  /**
   * Keeps `tokens`, which replaced the refresh token `replaced` at X, for the next call on
   * `userKey`: the newest of at most `MAX_KEPT_PAIRS` keys (the oldest is dropped first).
   */
  #keep(userKey: string, tokens: XTokenSet, replaced: string): void {
    this.#kept.delete(userKey);
    this.#kept.set(userKey, { tokens, replaced });
    if (this.#kept.size > MAX_KEPT_PAIRS) {
      const oldest = this.#kept.keys().next();
      if (!oldest.done) this.#kept.delete(oldest.value);
    }
  }

  /**
   * The pair kept for `userKey` (`#keep`), written to the store now when the store
   * still holds `current`, the pair it replaced; undefined when there is none. A store that holds
   * another pair (another holder's, a new sign-in's, or the kept pair itself, written late) wins:
   * the kept pair is forgotten.
   *
   * @throws XTokenStoreError (`rotatedPairKept`) when the store refuses it again; nothing is sent to X
   */
  async #storeKeptPair(userKey: string, current: XTokenSet, hold: LockHold): Promise<XTokenSet | undefined> {
    const kept = this.#kept.get(userKey);
    if (kept === undefined) return undefined;
    if (current.refreshToken !== kept.replaced) {
      this.#kept.delete(userKey);
      return undefined;
    }
    await this.#saveRotated(userKey, kept.tokens, { accessToken: current.accessToken, refreshToken: kept.replaced }, hold);
    return kept.tokens;
  }
}
