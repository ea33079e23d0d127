/**
 * The default OAuth 1.0a request-token store: pending request tokens in the server session.
 */
import type { XAuthRequest } from '../request';
import { DEFAULT_PENDING_LIMITS, addPending, dropPending, pendingMissMessage, requireSession, takePending, type PendingLimits } from './pending';

/** Callback of {@link XRequestTokenStore.get}: the token secret, or `false` and a failure message. */
export type RequestTokenLoaded = (err: Error | null, tokenSecret?: string | false, info?: { message: string }) => void;

/**
 * A request-token store: passport-oauth1's interface (`get`, `set`, `destroy`), plus an
 * optional `drop` called when the user denies access.
 */
export interface XRequestTokenStore {
  /** Looks up the secret of `token` issued to this request's user agent. */
  get(req: XAuthRequest, token: string, callback: RequestTokenLoaded): void;
  /** Remembers a request token and its secret until the callback. */
  set(req: XAuthRequest, token: string, tokenSecret: string, meta: object, callback: (err?: Error | null) => void): void;
  /** Forgets a request token once used. */
  destroy(req: XAuthRequest, token: string, callback: (err?: Error | null) => void): void;
  /** Forgets a request token the user refused on X. */
  drop?(req: XAuthRequest, token: string, callback: (err?: Error | null) => void): void;
}

/** Options of {@link XRequestTokenSessionStore}. */
export interface XRequestTokenSessionStoreOptions {
  /** Session key (default `'oauth:x'`). */
  key?: string;
  /** How long a pending sign-in lives, in ms (default 10 minutes). */
  ttlMs?: number;
  /** How many pending sign-ins a session keeps (default 5). */
  maxPending?: number;
  /** Clock, ms since the epoch (tests). */
  now?: () => number;
}

/**
 * Keeps pending request tokens in `req.session[key]`: several at once (two tabs both work),
 * each for 10 minutes, found by constant-time comparison and removed on first use, so a
 * replayed callback fails.
 */
export class XRequestTokenSessionStore implements XRequestTokenStore {
  private readonly key: string;
  private readonly limits: PendingLimits;

  constructor(options: XRequestTokenSessionStoreOptions = {}) {
    this.key = options.key ?? 'oauth:x';
    this.limits = {
      ...DEFAULT_PENDING_LIMITS,
      ...(options.ttlMs !== undefined ? { ttlMs: options.ttlMs } : {}),
      ...(options.maxPending !== undefined ? { max: options.maxPending } : {}),
      ...(options.now !== undefined ? { now: options.now } : {}),
    };
  }

  get(req: XAuthRequest, token: string, callback: RequestTokenLoaded): void {
    let session: Record<string, unknown>;
    try {
      session = requireSession(req, 'x-oauth1');
    } catch (err) {
      return callback(err as Error);
    }
    // Taken on lookup, not after the exchange: a second, concurrent use of the callback URL fails too.
    const result = takePending(session, this.key, token, this.limits);
    if ('miss' in result) return callback(null, false, { message: pendingMissMessage(result.miss, 'request token') });
    const secret = result.entry.tokenSecret;
    if (typeof secret !== 'string') return callback(null, false, { message: pendingMissMessage('unknown', 'request token') });
    callback(null, secret);
  }

  set(req: XAuthRequest, token: string, tokenSecret: string, _meta: object, callback: (err?: Error | null) => void): void {
    try {
      const session = requireSession(req, 'x-oauth1');
      addPending(session, this.key, { handle: token, tokenSecret, createdAt: this.limits.now() }, this.limits);
    } catch (err) {
      return callback(err as Error);
    }
    callback(null);
  }

  destroy(_req: XAuthRequest, _token: string, callback: (err?: Error | null) => void): void {
    // Already removed by get().
    callback(null);
  }

  drop(req: XAuthRequest, token: string, callback: (err?: Error | null) => void): void {
    if (req.session && typeof req.session === 'object') dropPending(req.session, this.key, token);
    callback(null);
  }
}
