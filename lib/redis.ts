/**
 * Redis adapters for several app instances: {@link RedisReplayGuard} (a callback is claimed once,
 * whichever instance it reaches) and {@link RedisTokenLock} (one instance refreshes a user's
 * tokens at a time).
 *
 * Like connect-redis, they work over a client the app already has, so passport-x has no Redis
 * dependency and the app keeps one connection pool. Supported: node-redis v4+ (`redis` package,
 * `createClient()`/`createCluster()`) and ioredis (`new Redis()`/`new Redis.Cluster()`), told apart
 * by shape (see {@link detectRedisClient}). Only atomic primitives are used: `SET key value NX PX
 * ttl`, a Lua `EVAL` that reads whether a key holds a caller's value (after a `null` SET reply), and
 * one to release a lock by compare-and-delete. Every key is namespaced
 * (`passport-x:` by default), every key has a TTL, and what the app passes as a key is stored as
 * its SHA-256 hash, never as given.
 *
 * Nothing here imports a Redis library: the clients are typed by the few methods used.
 *
 * @packageDocumentation
 */
import { randomString } from './random';
import { s256 } from './pkce';
import { setTimeout as sleep } from 'node:timers/promises';
import { XLockTimeoutError } from './errors';
import { checkWithLockArguments, type XLockLease, type XTokenLock } from './lock';
import { MAX_TIMEOUT_MS } from './http';

/**
 * A node-redis v4+ client (or cluster), by the methods passport-x calls. `createClient()` from
 * the `redis` package fits; so does `createCluster()`.
 */
export interface XNodeRedisClient {
  /** `SET key value NX PX ttl`: resolves `'OK'` when set, `null` when the key existed. */
  set(key: string, value: string, options: { NX: true; PX: number }): Promise<unknown>;
  /** `EVAL script numkeys keys... args...`. */
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  /** Present on every node-redis v4+ client; used to recognise one. */
  sendCommand: unknown;
}

/** An ioredis client (or cluster), by the methods passport-x calls. `new Redis()` fits. */
export interface XIORedisClient {
  /** `SET key value PX ttl NX`: resolves `'OK'` when set, `null` when the key existed. */
  set(key: string, value: string, px: 'PX', ttlMs: number, nx: 'NX'): Promise<unknown>;
  /** `EVAL script numkeys keys... args...`. */
  eval(script: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  /** ioredis's way to register Lua commands; used to recognise an ioredis client. */
  defineCommand: unknown;
}

/** A Redis client the app passes in: node-redis v4+ or ioredis. */
export type XRedisClient = XNodeRedisClient | XIORedisClient;

/** Which client library {@link detectRedisClient} recognised. */
export type XRedisClientKind = 'node-redis' | 'ioredis';

/** The default key prefix of the Redis adapters. */
export const DEFAULT_REDIS_PREFIX = 'passport-x:';

/**
 * Tells a node-redis client from an ioredis one by shape:
 * a client with a `defineCommand` method is ioredis (node-redis has none); otherwise one with a
 * `sendCommand` method (every node-redis v4+ client and cluster has it; node-redis v3 has
 * `send_command` instead) is node-redis v4+. Both must also have `set` and `eval`.
 *
 * @throws TypeError naming `client` when it is neither.
 */
export function detectRedisClient(client: unknown, owner = 'detectRedisClient'): XRedisClientKind {
  const c = client as Record<string, unknown> | null | undefined;
  if (c === null || (typeof c !== 'object' && typeof c !== 'function')) {
    throw new TypeError(`${owner}: client must be a connected node-redis v4+ client (createClient() from "redis") or an ioredis client (new Redis()); got ${c === null ? 'null' : typeof c}.`);
  }
  const hasCommands = typeof c.set === 'function' && typeof c.eval === 'function';
  if (hasCommands && typeof c.defineCommand === 'function') return 'ioredis';
  if (hasCommands && typeof c.sendCommand === 'function') return 'node-redis';
  throw new TypeError(
    `${owner}: client is neither a node-redis v4+ client (createClient() from "redis": it has set, eval and sendCommand) ` +
      'nor an ioredis client (new Redis(): it has set, eval and defineCommand). node-redis v3 and legacyMode clients are not supported.',
  );
}

/** The two commands the adapters need, over either client. */
interface RedisCommands {
  /** `SET key value NX PX ttlMs`; true when set. */
  setNX(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** `EVAL script 1 key ...args`; the script's reply. */
  evalOneKey(script: string, key: string, args: string[]): Promise<unknown>;
}

// Whether the key holds ARGV[1]: 1 or 0. A GET through EVAL, as the clients are typed by `set` and `eval` only.
const HOLDS_SCRIPT = `if redis.call("get", KEYS[1]) == ARGV[1] then return 1 else return 0 end`;

/**
 * `SET key value NX PX ttlMs`, true when this caller holds the key. A `null` reply is checked with
 * a GET: ioredis resends a command whose reply a dropped connection lost (`autoResendUnfulfilledCommands`,
 * on by default), so a SET that Redis applied comes back `null` the second time, the key taken by
 * this very caller. Its value, random per caller, tells the two apart.
 *
 * An EVAL that fails after a `null` SET (a Redis whose ACL forbids scripting) is "not taken": the
 * key exists, so someone holds it. A claim is then refused (nobody gets through twice) and a lock
 * waiter waits and retries (at worst until the key's TTL, if it was its own): safe either way,
 * where an error would fail a sign-in with a 500.
 */
async function takeKey(commands: RedisCommands, key: string, value: string, ttlMs: number): Promise<boolean> {
  if (await commands.setNX(key, value, ttlMs)) return true;
  try {
    return Number(await commands.evalOneKey(HOLDS_SCRIPT, key, [value])) === 1;
  } catch {
    return false;
  }
}

/** A value naming one claim or lock holder: 128 random bits, from the process's CSPRNG pool. */
function holderValue(): string {
  return randomString(16, 'base64url');
}

function commandsFor(client: XRedisClient, kind: XRedisClientKind): RedisCommands {
  if (kind === 'ioredis') {
    const io = client as XIORedisClient;
    return {
      setNX: async (key, value, ttlMs) => (await io.set(key, value, 'PX', ttlMs, 'NX')) === 'OK',
      evalOneKey: (script, key, args) => io.eval(script, 1, key, ...args),
    };
  }
  const nr = client as XNodeRedisClient;
  return {
    // node-redis v4 knows only the flag form; v5+ still accepts it.
    setNX: async (key, value, ttlMs) => (await nr.set(key, value, { NX: true, PX: ttlMs })) === 'OK',
    evalOneKey: (script, key, args) => nr.eval(script, { keys: [key], arguments: args }),
  };
}

/** Options common to the Redis adapters. */
export interface XRedisAdapterOptions {
  /** A connected node-redis v4+ or ioredis client (or cluster); the app owns it (connects and quits it). */
  client: XRedisClient;
  /** Prepended to every key. Default `passport-x:`; give each app its own if several share a Redis. */
  prefix?: string | undefined;
}

function readAdapterOptions(owner: string, options: unknown): { client: XRedisClient; kind: XRedisClientKind; prefix: string } {
  if (options === null || typeof options !== 'object') throw new TypeError(`${owner}: options must be an object with a client, e.g. new ${owner}({ client }).`);
  const { client, prefix } = options as Partial<XRedisAdapterOptions>;
  if (client === undefined) throw new TypeError(`${owner}: options.client is required: a connected node-redis v4+ or ioredis client.`);
  const kind = detectRedisClient(client, owner);
  if (prefix !== undefined && (typeof prefix !== 'string' || prefix === '')) {
    throw new TypeError(`${owner}: options.prefix must be a non-empty string when given (default "${DEFAULT_REDIS_PREFIX}").`);
  }
  return { client, kind, prefix: prefix ?? DEFAULT_REDIS_PREFIX };
}

/** SHA-256 of `text`, base64url: how an app's key is stored, so no secret or user id reaches Redis as given. */
function hashKey(text: string): string {
  return s256(text);
}

function checkTTL(owner: string, name: string, ttlMs: unknown): asserts ttlMs is number {
  // PX takes a positive integer (Redis "SET" doc); anything else is an error from Redis at run time.
  if (typeof ttlMs !== 'number' || !Number.isInteger(ttlMs) || ttlMs < 1) {
    throw new RangeError(`${owner}: ${name} must be a positive whole number of milliseconds (got ${String(ttlMs)}).`);
  }
}

/**
 * A replay guard shared by every instance: `claim(key, ttlMs)` is true for the first caller of a
 * key and false for every other until `ttlMs` has passed (`SET <prefix>claim:<sha256(key)> <128
 * random bits> NX PX ttlMs`; on a `null` reply, an `EVAL` that checks whether the key holds this
 * call's value: a SET that ioredis resent after a lost reply finds the claim it took itself). Pass
 * it as the strategies' `replayGuard` option so that a callback reaching two instances at once
 * goes on to X once.
 *
 * A Redis error on the SET rejects `claim` with the client's error: the caller decides (the
 * strategies refuse the callback rather than risk a second request to X). An error on the EVAL
 * after a `null` SET (a Redis ACL without scripting) is `false`: the key exists, so the claim is
 * taken, and nobody gets through twice.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis';
 * import { RedisReplayGuard } from 'passport-x';
 *
 * const client = createClient({ url: process.env.REDIS_URL! });
 * await client.connect();
 * const replayGuard = new RedisReplayGuard({ client });
 * const first = await replayGuard.claim('some-state', 600_000); // true
 * const again = await replayGuard.claim('some-state', 600_000); // false
 * ```
 */
export class RedisReplayGuard {
  /** Which client library was recognised. */
  readonly clientKind: XRedisClientKind;
  readonly #commands: RedisCommands;
  readonly #prefix: string;

  /**
   * Recognises the client (see {@link detectRedisClient}) and checks the options; sends nothing to
   * Redis until the first `claim`.
   *
   * @param options - `client` (connected; the app owns it) and `prefix` (default `passport-x:`)
   * @throws TypeError naming `client` or `prefix` when either is wrong
   */
  constructor(options: XRedisAdapterOptions) {
    const { client, kind, prefix } = readAdapterOptions('RedisReplayGuard', options);
    this.clientKind = kind;
    this.#commands = commandsFor(client, kind);
    this.#prefix = prefix;
  }

  /**
   * Claims `key` for `ttlMs` milliseconds.
   *
   * @returns true when this call took the claim, false when it was already taken
   */
  async claim(key: string, ttlMs: number): Promise<boolean> {
    if (typeof key !== 'string' || key === '') throw new TypeError('RedisReplayGuard.claim: key must be a non-empty string.');
    checkTTL('RedisReplayGuard.claim', 'ttlMs', ttlMs);
    return takeKey(this.#commands, this.redisKey(key), holderValue(), ttlMs);
  }

  /** The Redis key a claim of `key` is stored under: `<prefix>claim:<sha256(key), base64url>`. */
  redisKey(key: string): string {
    return `${this.#prefix}claim:${hashKey(key)}`;
  }
}

// Deletes the lock only if it still holds this holder's value: the holder whose lock expired
// must not delete the next holder's (redis.io "Distributed Locks with Redis", single instance).
const RELEASE_SCRIPT = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

/** Options of {@link RedisTokenLock}. */
export interface RedisTokenLockOptions extends XRedisAdapterOptions {
  /**
   * How long a waiter keeps trying before it throws {@link XLockTimeoutError}, in ms.
   * Default: twice the `ttlMs` of the call, long enough for the holder to finish or for its lock
   * to expire if it died.
   */
  acquireTimeoutMs?: number | undefined;
  /** The first wait between two attempts, in ms (default 20). It doubles each attempt up to `maxRetryDelayMs`. */
  retryDelayMs?: number | undefined;
  /** The longest wait between two attempts, in ms (default 500). Each wait is jittered to 50-100 % of its value. */
  maxRetryDelayMs?: number | undefined;
}

function readOptionalMs(owner: string, options: Record<string, unknown>, name: string, fallback: number | undefined, min: number): number | undefined {
  const value = options[name];
  if (value === undefined) return fallback;
  // At most Node's longest timer: a longer wait would fire after 1 ms, a busy retry.
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > MAX_TIMEOUT_MS) {
    throw new RangeError(`${owner}: options.${name} must be a number of milliseconds from ${min} to ${MAX_TIMEOUT_MS} when given (got ${String(value)}).`);
  }
  return value;
}

/**
 * An {@link XTokenLock} over Redis, for several app instances: one holder per key at a time,
 * whichever instance it runs in.
 *
 * - Take: `SET <prefix>lock:<sha256(key)> <random value> NX PX ttlMs`. A `null` reply is checked
 *   with an `EVAL` that reads whether the key holds this holder's value (a SET that ioredis resent
 *   after a lost reply), so a holder never waits for its own lock. An `EVAL` that fails there (a
 *   Redis ACL without scripting) counts as "taken by another": the caller waits and retries.
 * - Release: one Lua `EVAL` that deletes the key only if it still holds this holder's random
 *   value, so a holder whose lock expired never deletes the next holder's. A release that fails
 *   or gets no answer within `ttlMs` does not fail the call (the lock expires at its TTL); it is
 *   said in a process warning (`PASSPORT_X_LOCK_RELEASE_FAILED`) once per `RedisTokenLock`
 *   instance: the first failed release of any key warns, later ones stay quiet.
 * - A hung Redis: each command gets `ttlMs` to answer. A take that gets none fails with
 *   {@link XLockTimeoutError}, and a lock its late answer took is released at once.
 * - Wait: a caller that finds the key taken retries with exponential back-off (from
 *   `retryDelayMs`, doubling up to `maxRetryDelayMs`, each wait jittered so that waiters do not
 *   retry in step) and gives up after `acquireTimeoutMs` with {@link XLockTimeoutError}.
 * - A holder that dies (crash, SIGKILL, lost network) keeps the key only until `ttlMs` passes.
 *
 * `fn` must finish within `ttlMs`: the lock is not extended. `XTokenManager` passes a TTL that
 * covers its request time-out.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { RedisTokenLock } from 'passport-x';
 *
 * const lock = new RedisTokenLock({ client: new Redis(process.env.REDIS_URL!) });
 * const result = await lock.withLock('user-1', 15_000, async () => 'done once at a time');
 * ```
 */
export class RedisTokenLock implements XTokenLock {
  /** Which client library was recognised. */
  readonly clientKind: XRedisClientKind;
  readonly #commands: RedisCommands;
  readonly #prefix: string;
  readonly #acquireTimeoutMs: number | undefined;
  readonly #retryDelayMs: number;
  readonly #maxRetryDelayMs: number;
  // The release warning is said once per instance: the first failed release, whatever its key.
  #releaseWarned = false;

  /**
   * Recognises the client (see {@link detectRedisClient}) and checks the options; sends nothing to
   * Redis until the first `withLock`.
   *
   * @param options - `client` (connected; the app owns it), `prefix`, and the waiting policy: `acquireTimeoutMs`, `retryDelayMs`, `maxRetryDelayMs`
   * @throws TypeError naming `client` or `prefix`; RangeError naming a waiting option that is not a number in range, or a `maxRetryDelayMs` below `retryDelayMs`
   */
  constructor(options: RedisTokenLockOptions) {
    const owner = 'RedisTokenLock';
    const { client, kind, prefix } = readAdapterOptions(owner, options);
    const raw = options as unknown as Record<string, unknown>;
    this.clientKind = kind;
    this.#commands = commandsFor(client, kind);
    this.#prefix = prefix;
    this.#acquireTimeoutMs = readOptionalMs(owner, raw, 'acquireTimeoutMs', undefined, 0);
    this.#retryDelayMs = readOptionalMs(owner, raw, 'retryDelayMs', 20, 1) as number;
    this.#maxRetryDelayMs = readOptionalMs(owner, raw, 'maxRetryDelayMs', 500, 1) as number;
    if (this.#maxRetryDelayMs < this.#retryDelayMs) {
      throw new RangeError(`${owner}: options.maxRetryDelayMs (${this.#maxRetryDelayMs}) must be >= options.retryDelayMs (${this.#retryDelayMs}).`);
    }
  }

  /** The Redis key the lock on `key` is stored under: `<prefix>lock:<sha256(key), base64url>`. */
  redisKey(key: string): string {
    return `${this.#prefix}lock:${hashKey(key)}`;
  }

  /**
   * Runs `fn` holding the lock on `key` (taken for `ttlMs`), then releases it. `fn` gets the lease
   * `{ expiresAt }`: when the SET that took the key was sent, plus `ttlMs`. Redis counts the TTL from
   * when it applies the SET, later, so the lock lasts at least that long; a take answered late (a
   * client queuing commands while it reconnects) leaves `fn` that much less time. The time is
   * measured on the monotonic clock and given as the wall clock's when `fn` starts: a step of the
   * wall clock while the take was on its way (NTP, a resumed VM) does not lengthen the lease.
   *
   * @throws XLockTimeoutError when the lock stayed taken for `acquireTimeoutMs` or Redis did not answer the take within `ttlMs` (`fn` did not run)
   * @throws XLockTimeoutError as well when Redis answered the take with an error (its `cause`; the lock is released, should the take have reached Redis)
   * @throws whatever `fn` throws (the lock is released first); never the release's error
   */
  async withLock<T>(key: string, ttlMs: number, fn: (lease?: XLockLease) => Promise<T>): Promise<T> {
    checkWithLockArguments('RedisTokenLock', key, ttlMs, fn);
    const redisKey = this.redisKey(key);
    // The value names this holder, so no other holder can release it.
    const value = holderValue();
    const sentAt = await this.#acquire(redisKey, value, ttlMs);
    let result: T;
    try {
      // What is left of the lease, by the monotonic clock, as a time on the wall clock of now.
      result = await fn({ expiresAt: Date.now() + (sentAt + ttlMs - performance.now()) });
    } catch (err) {
      // Release, then rethrow fn's error: it says more than a failed release would.
      await this.#release(redisKey, value, ttlMs);
      throw err;
    }
    // fn's work is done (a refreshed pair stored): a failed release must not turn it into a failure.
    await this.#release(redisKey, value, ttlMs);
    return result;
  }

  /**
   * Takes the lock; resolves to when the SET that took it was sent, on the monotonic clock
   * (`performance.now()`), as every wait here is measured: a step of the wall clock neither
   * lengthens the lease nor the wait before giving up.
   */
  async #acquire(redisKey: string, value: string, ttlMs: number): Promise<number> {
    const started = performance.now();
    const bound = this.#acquireTimeoutMs ?? 2 * ttlMs;
    let delay = this.#retryDelayMs;
    for (let attempt = 1; ; attempt++) {
      const sentAt = performance.now();
      // A SET answered after the attempt gave up may have taken the key: released at once, not left for its TTL.
      const taking = takeKey(this.#commands, redisKey, value, ttlMs);
      const taken = await answeredWithin(taking, ttlMs, () => {
        void this.#release(redisKey, value, ttlMs);
      }).catch((err: unknown) => {
        const waited = Math.floor(performance.now() - started);
        if (err !== NO_ANSWER) {
          // The SET may have reached Redis before the error (a connection dropped before its answer):
          // released, quietly (this error says it all), so the lock is not left taken for its TTL.
          void this.#release(redisKey, value, ttlMs, true);
          const said = err instanceof Error ? err.message : String(err);
          throw new XLockTimeoutError(
            `RedisTokenLock: Redis answered the command that takes the lock with an error (${said}) after ${waited} ms in all (${attempts(attempt)}); gave up. ` +
              'Check the Redis server and the connection to it (a memory limit with noeviction, a read-only replica after a failover, missing permissions, a dropped connection); retry later.',
            { waitedMs: waited, attempts: attempt, cause: err },
          );
        }
        throw new XLockTimeoutError(
          `RedisTokenLock: Redis did not answer the command that takes the lock within the lock's TTL (${ttlMs} ms), after ${waited} ms in all (${attempts(attempt)}); gave up. ` +
            'Check that the Redis server is up and reachable from this instance (a stopped server, a network partition, or a client that queues commands while it reconnects).',
          { waitedMs: waited, attempts: attempt },
        );
      });
      if (taken) return sentAt;
      const waited = Math.floor(performance.now() - started);
      if (waited >= bound) {
        throw new XLockTimeoutError(
          `RedisTokenLock: the lock stayed taken by another holder for ${waited} ms (${attempts(attempt)}); gave up after acquireTimeoutMs = ${bound} ms. ` +
            'Retry later; if this recurs, the work under the lock takes longer than its TTL allows, or a holder keeps dying.',
          { waitedMs: waited, attempts: attempt },
        );
      }
      await sleep(lockRetryWait(delay, bound - waited));
      delay = nextLockRetryDelay(delay, this.#maxRetryDelayMs);
    }
  }

  /**
   * Releases this holder's lock, if it still holds it. Never throws and waits the lock's TTL at
   * most (by then the key has expired anyway): a Redis that fails or hangs now costs the other
   * holders a wait until the TTL, said in a process warning once per instance, and nothing more.
   * `quiet`: no warning (a release after a take that failed, whose error says it all).
   */
  async #release(redisKey: string, value: string, ttlMs: number, quiet = false): Promise<void> {
    try {
      // A release that finds the key gone or someone else's (fn outlived ttlMs) deletes nothing.
      await answeredWithin(this.#commands.evalOneKey(RELEASE_SCRIPT, redisKey, [value]), ttlMs);
    } catch (err) {
      if (quiet || this.#releaseWarned) return;
      this.#releaseWarned = true;
      const why = err === NO_ANSWER ? `Redis did not answer within the lock's TTL (${ttlMs} ms)` : `Redis answered an error (${err instanceof Error ? err.message : String(err)})`;
      process.emitWarning(
        `passport-x RedisTokenLock: could not release a lock: ${why}. The lock expires at the end of its TTL; until then other holders of that key wait. Check the Redis server and the network to it.`,
        { code: 'PASSPORT_X_LOCK_RELEASE_FAILED' },
      );
    }
  }
}

/** What {@link answeredWithin} rejects with when the command did not answer in time. */
const NO_ANSWER = Symbol('no answer from Redis');

/**
 * `command`'s answer, or a rejection with {@link NO_ANSWER} when it has not come within `limitMs`:
 * a hung Redis must not hang a caller forever. An answer that comes later is let go (`late` runs).
 */
function answeredWithin<T>(command: Promise<T>, limitMs: number, late?: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let over = false;
    const timer = setTimeout(() => {
      over = true;
      reject(NO_ANSWER);
    }, limitMs);
    command.then(
      (answer) => {
        if (over) return late?.();
        clearTimeout(timer);
        resolve(answer);
      },
      (err: unknown) => {
        if (over) return;
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/**
 * The wait before a lock's next attempt: `delay` jittered to 50-100 % so waiters that collided do
 * not collide again (AWS "Exponential backoff and jitter"), never past the `remainingMs` of the
 * waiter's bound, and at least 1 ms. Internal (exported for its tests).
 */
export function lockRetryWait(delay: number, remainingMs: number, random: () => number = Math.random): number {
  return Math.max(1, Math.min(delay * (0.5 + random() / 2), remainingMs));
}

/** The delay after `delay`: doubled, up to `maxDelay`. Internal (exported for its tests). */
export function nextLockRetryDelay(delay: number, maxDelay: number): number {
  return Math.min(delay * 2, maxDelay);
}

function attempts(n: number): string {
  return n === 1 ? '1 attempt' : `${n} attempts`;
}
