/**
 * The default OAuth 1.0a request-token store: pending request tokens in the server session.
 */
import type { XAuthRequest } from '../request';
import { addPending, bindingOf, pendingEntry, pendingLimits, pendingMissInfo, requireSession, takePending, metaAndCallback, dropPending, type PendingDropped, type PendingLimits } from './pending';

/**
 * Callback of {@link XRequestTokenStore.get}: the token secret and the app state given when the
 * sign-in started (if any), or `false` and a failure message.
 */
export type RequestTokenLoaded = (err: Error | null, tokenSecret?: string | false, infoOrState?: unknown) => void;

/**
 * A request-token store: passport-oauth1's interface (`get`, `set`, `destroy`), plus an
 * optional `drop` called when the user denies access.
 */
export interface XRequestTokenStore {
  /** Looks up the secret of `token` issued to this request's user agent. */
  get(req: XAuthRequest, token: string, callback: RequestTokenLoaded): void;
  /**
   * Remembers a request token, its secret and the app `state` of `passport.authenticate(name, { state })`
   * until the callback (passport-oauth1's six-argument form).
   */
  set(req: XAuthRequest, token: string, tokenSecret: string, state: unknown, meta: object, callback: (err?: Error | null) => void): void;
  /** Forgets a request token once used. */
  destroy(req: XAuthRequest, token: string, callback: (err?: Error | null) => void): void;
  /** Forgets a request token the user refused on X, and says whether it was pending (`found`). */
  drop?(req: XAuthRequest, token: string, callback: PendingDropped): void;
  /**
   * How long a pending sign-in lives, in ms. The strategy's replay claim on a callback lasts as
   * long (10 minutes when a store does not say), and a minute more for clocks that disagree,
   * so a store whose sign-ins live longer should say.
   */
  readonly ttlMs?: number | undefined;
}

/** Options of {@link XRequestTokenSessionStore}. */
export interface XRequestTokenSessionStoreOptions {
  /** Session key (default `'oauth:x'`). */
  key?: string | undefined;
  /** How long a pending sign-in lives, in ms (default 10 minutes, at most 1 hour). */
  ttlMs?: number | undefined;
  /** How many pending sign-ins a session keeps (default 5). */
  maxPending?: number | undefined;
  /** Clock, ms since the epoch (tests). */
  now?: (() => number) | undefined;
}

/**
 * Keeps pending request tokens in `req.session[key]`: several at once (two tabs; with Passport
 * 0.6+, pass `keepSessionInfo: true` on the callback route, or to `req.logIn` in a custom callback:
 * login otherwise regenerates the session),
 * each for `ttlMs` (default 10 minutes), found by constant-time comparison and removed on first use, so a
 * replayed callback fails.
 */
export class XRequestTokenSessionStore implements XRequestTokenStore {
  private readonly key: string;
  private readonly limits: PendingLimits;

  constructor(options: XRequestTokenSessionStoreOptions = {}) {
    this.key = options.key ?? 'oauth:x';
    this.limits = pendingLimits(options, 'XRequestTokenSessionStore');
  }

  /** How long a pending sign-in lives, in ms. */
  get ttlMs(): number {
    return this.limits.ttlMs;
  }

  /**
   * Looks up, and consumes, the secret of request token `token`. With `meta` (passport-oauth1 passes
   * it to a 4-argument get), only a sign-in started by the same strategy (name, consumer key and
   * callback URL) matches: another strategy's pending sign-in is neither returned nor consumed.
   */
  get(req: XAuthRequest, token: string, callback: RequestTokenLoaded): void;
  get(req: XAuthRequest, token: string, meta: object, callback: RequestTokenLoaded): void;
  get(req: XAuthRequest, token: string, metaOrCallback: object | RequestTokenLoaded, maybeCallback?: RequestTokenLoaded): void {
    const [meta, callback] = metaAndCallback(metaOrCallback, maybeCallback);
    let session: Record<string, unknown>;
    try {
      session = requireSession(req, 'x-oauth1');
    } catch (err) {
      return callback(err as Error);
    }
    // Taken on lookup, not after the exchange: a second, concurrent use of the callback URL fails too.
    const result = takePending(session, this.key, token, this.limits, bindingOf(meta, 'oauth1'));
    if ('miss' in result) return callback(null, false, pendingMissInfo(result.miss, 'request token', this.limits.ttlMs));
    const secret = result.entry.secret;
    // An empty one too (a session written by hand): the strategy would take the callback's third argument, the app state, for its refusal.
    if (typeof secret !== 'string' || secret === '') return callback(null, false, pendingMissInfo('unknown', 'request token'));
    callback(null, secret, result.entry.state);
  }

  set(req: XAuthRequest, token: string, tokenSecret: string, state: unknown, meta: object, callback: (err?: Error | null) => void): void {
    try {
      const session = requireSession(req, 'x-oauth1');
      const binding = bindingOf(meta, 'oauth1');
      addPending(
        session,
        this.key,
        pendingEntry(token, tokenSecret, this.limits.now(), binding, state),
        this.limits,
      );
    } catch (err) {
      return callback(err as Error);
    }
    callback(null);
  }

  destroy(_req: XAuthRequest, _token: string, callback: (err?: Error | null) => void): void {
    // Already removed by get().
    callback(null);
  }

  /** Forgets a request token the user refused on X; with `meta`, only one started by the same strategy. */
  drop(req: XAuthRequest, token: string, callback: PendingDropped): void;
  drop(req: XAuthRequest, token: string, meta: object, callback: PendingDropped): void;
  drop(req: XAuthRequest, token: string, metaOrCallback: object | PendingDropped, maybeCallback?: PendingDropped): void {
    const [meta, callback] = metaAndCallback(metaOrCallback, maybeCallback);
    dropPending(req, this.key, token, this.limits, bindingOf(meta, 'oauth1'), 'request token', callback);
  }
}
