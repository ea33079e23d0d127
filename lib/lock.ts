/**
 * Locks for work that must run once at a time per key: the {@link XTokenLock} interface that
 * `XTokenManager` takes, and {@link InProcessTokenLock}, its default for one process.
 * `RedisTokenLock` (in `passport-x`, from `lib/redis.ts`) is the one for several processes.
 *
 * @packageDocumentation
 */
import { MAX_TIMEOUT_MS } from './http';

/**
 * What a lock tells the work it runs about its hold on the key: when the hold may end. `fn` uses
 * it to start nothing it cannot finish while it holds the key (`XTokenManager` sends no refresh to
 * X that could outlast the lock).
 */
export interface XLockLease {
  /**
   * Milliseconds since the epoch, on this process's clock, by which the lock may have expired: a
   * conservative time, never later than the real expiry (`RedisTokenLock`: when it sent the SET
   * that took the key, plus `ttlMs`). `Infinity` for a lock that cannot expire (`InProcessTokenLock`).
   */
  readonly expiresAt: number;
}

/**
 * A lock keyed by string: `withLock` runs `fn` while no other holder of the same key runs, and
 * releases the key when `fn` settles. `ttlMs` bounds how long the key stays taken if the holder
 * dies (a distributed lock expires after it); `fn` must finish within it.
 *
 * A lock may pass `fn` an {@link XLockLease} saying when its hold may end; one that passes nothing
 * (the form before leases, still accepted) is taken to hold the key `ttlMs` from when `fn` starts.
 *
 * Implement it over whatever the app's instances share (Redis: `RedisTokenLock`).
 *
 * @example
 * ```ts
 * import type { XLockLease, XTokenLock } from 'passport-x';
 *
 * // One process only: a promise chain per key. It cannot expire: its lease says so.
 * const chains = new Map<string, Promise<unknown>>();
 * const forever: XLockLease = { expiresAt: Infinity };
 * export const lock: XTokenLock = {
 *   async withLock<T>(key: string, _ttlMs: number, fn: (lease?: XLockLease) => Promise<T>): Promise<T> {
 *     const before = chains.get(key) ?? Promise.resolve();
 *     const run = before.then(() => fn(forever), () => fn(forever));
 *     chains.set(key, run.catch(() => undefined));
 *     return run;
 *   },
 * };
 * ```
 */
export interface XTokenLock {
  /**
   * Runs `fn` holding the lock on `key`, and returns (or throws) what `fn` does.
   *
   * @param key - what to lock (e.g. the user's key in the token store)
   * @param ttlMs - how long the lock may be held before it expires on its own: a whole number of milliseconds from 1 to 2^31-1 (`MAX_TIMEOUT_MS`, Node's longest timer)
   * @param fn - the work to run under the lock; given the lock's {@link XLockLease} when the lock knows it
   */
  withLock<T>(key: string, ttlMs: number, fn: (lease?: XLockLease) => Promise<T>): Promise<T>;
}

/** The lease of a lock that cannot expire. */
const NEVER_EXPIRES: XLockLease = Object.freeze({ expiresAt: Infinity });

/** Throws a TypeError/RangeError naming the bad argument of `withLock`. */
export function checkWithLockArguments(owner: string, key: unknown, ttlMs: unknown, fn: unknown): void {
  if (typeof key !== 'string' || key === '') throw new TypeError(`${owner}.withLock: key must be a non-empty string.`);
  // A lock's TTL becomes a timer (a hung command's bound, a waiter's): Node turns a longer delay into 1 ms.
  if (typeof ttlMs !== 'number' || !Number.isInteger(ttlMs) || ttlMs < 1 || ttlMs > MAX_TIMEOUT_MS) {
    throw new RangeError(`${owner}.withLock: ttlMs must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS} (about 24.8 days; got ${String(ttlMs)}).`);
  }
  if (typeof fn !== 'function') throw new TypeError(`${owner}.withLock: fn must be a function returning a promise.`);
}

/**
 * The default {@link XTokenLock}: a first-come-first-served queue per key, in this process's
 * memory. Right for one instance; share one `InProcessTokenLock` between several
 * `XTokenManager`s of one process if they share a store. For several instances, use
 * `RedisTokenLock`.
 *
 * `ttlMs` is checked but not needed: the lock is released when `fn` settles, and a process
 * cannot die while keeping its own lock. So it never expires, and `fn` gets the lease
 * `{ expiresAt: Infinity }`.
 *
 * @example
 * ```ts
 * import { InProcessTokenLock } from 'passport-x';
 *
 * const lock = new InProcessTokenLock();
 * const answer = await lock.withLock('user-1', 15_000, async () => 42);
 * ```
 */
export class InProcessTokenLock implements XTokenLock {
  // The tail of each key's queue; deleted when the queue empties, so the map stays as small as
  // the number of keys in use.
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `fn` once every earlier holder of `key` in this process has finished, with the lease `{ expiresAt: Infinity }`. */
  async withLock<T>(key: string, ttlMs: number, fn: (lease?: XLockLease) => Promise<T>): Promise<T> {
    checkWithLockArguments('InProcessTokenLock', key, ttlMs, fn);
    const before = this.#tails.get(key);
    let release!: () => void;
    const tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#tails.set(key, tail);
    try {
      if (before) await before;
      return await fn(NEVER_EXPIRES);
    } finally {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
      release();
    }
  }

  /** How many keys are locked or waited for now (for tests and metrics). */
  get size(): number {
    return this.#tails.size;
  }
}
