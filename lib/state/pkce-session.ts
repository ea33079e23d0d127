/**
 * The default OAuth 2.0 state store: pending `state` values and their PKCE code verifiers in
 * the server session, behind passport-oauth2's PKCE store interface.
 */
import { createState } from '../pkce';
import type { XAuthRequest } from '../request';
import { addPending, bindingOf, pendingEntry, pendingLimits, pendingMissInfo, requireSession, takePending, metaAndCallback, dropPending, type PendingDropped, type PendingLimits } from './pending';

/** What passport-oauth2 hands a state store along with the request: where the sign-in goes. */
export interface XPkceStateMeta {
  /** The authorization page. */
  authorizationURL: string;
  /** The token endpoint. */
  tokenURL: string;
  /** The app's OAuth 2.0 client ID. */
  clientID: string;
  /** The `redirect_uri` of this sign-in. */
  callbackURL?: string | undefined;
  /**
   * What binds the sign-in to the strategy that started it (its name, client ID and redirect_uri,
   * hashed), set by {@link XOAuth2PkceStrategy} on both legs. A store keeps it with the pending
   * sign-in and accepts the callback only with the same binding, so two strategies sharing a store
   * or a session refuse each other's callbacks.
   */
  binding?: string | undefined;
}

/** Callback of {@link XPkceStateStore.store}: the `state` value to send to X. */
export type PkceStateStored = (err: Error | null, handle?: string) => void;

/**
 * Callback of {@link XPkceStateStore.verify}: the code verifier and the app state given to
 * `passport.authenticate(name, { state })` (passport-oauth2 hands it on as `info.state`), or
 * `false` and `{ message }` saying why the callback is refused.
 */
export type PkceStateVerified = (err: Error | null, codeVerifier?: string | false, info?: unknown) => void;

/**
 * A PKCE state store: passport-oauth2's interface (`store(req, verifier, state, meta, cb)`,
 * `verify(req, state, cb)`), plus an optional `drop` called when the user denies access.
 */
export interface XPkceStateStore {
  /** Remembers `codeVerifier` (and the app `state`, if any) and answers the `state` value to send to X. */
  store(req: XAuthRequest, codeVerifier: string, state: unknown, meta: XPkceStateMeta, callback: PkceStateStored): void;
  /** Looks up, and consumes, the verifier of the `state` X sent back. */
  verify(req: XAuthRequest, providedState: string, callback: PkceStateVerified): void;
  /**
   * Forgets a `state` the user refused on X, or that X answered with an error, and says whether
   * it was pending (`found`): an error callback with a state this session never issued is not trusted.
   */
  drop?(req: XAuthRequest, providedState: string, callback: PendingDropped): void;
  /**
   * How long a pending sign-in lives, in ms. The strategy's replay claim on a callback lasts as
   * long (10 minutes when a store does not say), and a minute more for clocks that disagree,
   * so a store whose sign-ins live longer should say.
   */
  readonly ttlMs?: number | undefined;
}

/** A {@link XPkceStateStore} whose `verify` also takes passport-oauth2's `meta` (arity 4). */
export interface XPkceStateStoreWithMeta {
  /** Remembers `codeVerifier` (and the app `state`, if any) and answers the `state` value to send to X. */
  store(req: XAuthRequest, codeVerifier: string, state: unknown, meta: XPkceStateMeta, callback: PkceStateStored): void;
  /** Looks up, and consumes, the verifier of the `state` X sent back. */
  verify(req: XAuthRequest, providedState: string, meta: XPkceStateMeta, callback: PkceStateVerified): void;
  /**
   * Forgets a `state` the user refused on X, or that X answered with an error, and says whether
   * it was pending (`found`): an error callback with a state this session never issued is not trusted.
   */
  drop?(req: XAuthRequest, providedState: string, callback: PendingDropped): void;
  /**
   * How long a pending sign-in lives, in ms. The strategy's replay claim on a callback lasts as
   * long (10 minutes when a store does not say), and a minute more for clocks that disagree,
   * so a store whose sign-ins live longer should say.
   */
  readonly ttlMs?: number | undefined;
}

/** Options of {@link XPkceSessionStore}. */
export interface XPkceSessionStoreOptions {
  /** Session key (default `'oauth2:x'`). */
  key?: string | undefined;
  /** How long a pending sign-in lives, in ms (default 10 minutes, at most 1 hour). */
  ttlMs?: number | undefined;
  /** How many pending sign-ins a session keeps (default 5). */
  maxPending?: number | undefined;
  /** Clock, ms since the epoch (tests). */
  now?: (() => number) | undefined;
}

/**
 * Keeps pending sign-ins in `req.session[key]`: a fresh 256-bit `state` per sign-in with its
 * code verifier, several at once (two tabs; with Passport 0.6+, pass `keepSessionInfo: true` on
 * the callback route, or to `req.logIn` in a custom callback: login otherwise regenerates the session), each for `ttlMs` (default 10 minutes), found by
 * constant-time comparison and removed on first use, so a replayed callback fails. A wrong
 * `state` removes nothing but expired entries, so a forged callback cannot cancel a real sign-in.
 */
export class XPkceSessionStore implements XPkceStateStore {
  private readonly key: string;
  private readonly limits: PendingLimits;

  constructor(options: XPkceSessionStoreOptions = {}) {
    this.key = options.key ?? 'oauth2:x';
    this.limits = pendingLimits(options, 'XPkceSessionStore');
  }

  /** How long a pending sign-in lives, in ms. */
  get ttlMs(): number {
    return this.limits.ttlMs;
  }

  store(req: XAuthRequest, codeVerifier: string, state: unknown, meta: XPkceStateMeta, callback: PkceStateStored): void {
    const handle = createState();
    try {
      const session = requireSession(req, 'x-oauth2');
      const binding = bindingOf(meta, 'oauth2');
      // The app state must survive the session store's serialisation, as passport-oauth2's own store requires.
      addPending(
        session,
        this.key,
        pendingEntry(handle, codeVerifier, this.limits.now(), binding, state),
        this.limits,
      );
    } catch (err) {
      return callback(err as Error);
    }
    callback(null, handle);
  }

  /**
   * Looks up, and consumes, the verifier of `providedState`. With `meta` (passport-oauth2 passes it
   * to a 4-argument verify), only a sign-in started by the same strategy (name, client ID and
   * redirect_uri) matches: another strategy's pending sign-in is neither returned nor consumed.
   */
  verify(req: XAuthRequest, providedState: string, callback: PkceStateVerified): void;
  verify(req: XAuthRequest, providedState: string, meta: XPkceStateMeta, callback: PkceStateVerified): void;
  verify(req: XAuthRequest, providedState: string, metaOrCallback: XPkceStateMeta | PkceStateVerified, maybeCallback?: PkceStateVerified): void {
    const [meta, callback] = metaAndCallback(metaOrCallback, maybeCallback);
    let session: Record<string, unknown>;
    try {
      session = requireSession(req, 'x-oauth2');
    } catch (err) {
      return callback(err as Error);
    }
    // Taken on lookup, not after the exchange: a second, concurrent use of the callback URL fails too.
    const result = takePending(session, this.key, typeof providedState === 'string' ? providedState : '', this.limits, bindingOf(meta, 'oauth2'));
    if ('miss' in result) return callback(null, false, pendingMissInfo(result.miss, 'state', this.limits.ttlMs));
    const codeVerifier = result.entry.secret;
    // An empty one too (a session written by hand): the strategy would take the callback's third argument, the app state, for its refusal.
    if (typeof codeVerifier !== 'string' || codeVerifier === '') return callback(null, false, pendingMissInfo('unknown', 'state'));
    callback(null, codeVerifier, result.entry.state);
  }

  /** Forgets a pending `state` (the user pressed Cancel); with `meta`, only one started by the same strategy. */
  drop(req: XAuthRequest, providedState: string, callback: PendingDropped): void;
  drop(req: XAuthRequest, providedState: string, meta: XPkceStateMeta, callback: PendingDropped): void;
  drop(
    req: XAuthRequest,
    providedState: string,
    metaOrCallback: XPkceStateMeta | PendingDropped,
    maybeCallback?: PendingDropped,
  ): void {
    const [meta, callback] = metaAndCallback(metaOrCallback, maybeCallback);
    dropPending(req, this.key, providedState, this.limits, bindingOf(meta, 'oauth2'), 'state', callback);
  }
}
