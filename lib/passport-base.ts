/**
 * Typed views of passport-oauth1's and passport-oauth2's strategy classes, and the glue both
 * X strategies share on top of them. Declared here, not taken from `@types/*`, so the published
 * `.d.ts` files need nothing but this package.
 */
import { hasControlCharacter, hasLoneSurrogate, redactError, shortText, XError } from './errors';
import { XFailureCode, failureStatus, failureWithOwnLog, isXFailureInfo, logFailureOnce, type LoggedFailures, type XFailureInfo } from './failure';
import { isSignedIn, type XIncomingRequest } from './request';
import { warnCallbackThrew } from './http';

/** What a verify callback reports: the user, or `false` and a failure info. */
export type XVerifyCallback = (err?: Error | null, user?: unknown, info?: unknown) => void;

/**
 * Passport's own options of `passport.authenticate(name, options)` (passport 0.6/0.7), typed as
 * `@types/passport` types them, so one options object can hold them and a strategy's options.
 */
export interface XPassportOptions {
  /** Save the login in the session (default true). */
  session?: boolean | undefined;
  /** Keep the session's other data when passport regenerates it on login (passport 0.6+). */
  keepSessionInfo?: boolean | undefined;
  /** Redirect here after a successful sign-in. */
  successRedirect?: string | undefined;
  /** Redirect to `req.session.returnTo` after a successful sign-in, else here. */
  successReturnToOrRedirect?: string | undefined;
  /** Redirect here after a refused sign-in. */
  failureRedirect?: string | undefined;
  /** `true`: push the strategy's success message to `req.session.messages`; a string: push that instead. */
  successMessage?: boolean | string | undefined;
  /** `true`: push the failure's short `message` to `req.session.messages`; a string: push that instead. */
  failureMessage?: boolean | string | undefined;
  /** Flash the success message (needs a flash middleware). */
  successFlash?: string | boolean | undefined;
  /** Flash the failure message (needs a flash middleware). */
  failureFlash?: string | boolean | undefined;
  /** Call `next(err)` with an `AuthenticationError` on a refused sign-in instead of answering 401. */
  failWithError?: boolean | undefined;
  /** Put the user on `req[assignProperty]` instead of logging in. */
  assignProperty?: string | undefined;
  /** Set `req.authInfo` (default true). */
  authInfo?: boolean | undefined;
}

/**
 * Per-request options both strategies read, with Passport's own ({@link XPassportOptions}). No
 * index signature: a misspelt option is a type error. At run time passport hands the strategy the
 * whole object, whatever it holds.
 */
export interface XAuthenticateOptions extends XPassportOptions {
  /** Overrides the strategy's `callbackURL` for this request (absolute, or relative to the request's URL). */
  callbackURL?: string | undefined;
  /**
   * App state to carry through the sign-in, any JSON-serialisable value, e.g. `{ returnTo: '/settings' }`;
   * handed back as `info.state` on success, and on a failure once the callback found its pending
   * sign-in (X refused the code or verifier, the verify callback refused the user); not on Cancel,
   * a callback that matched no pending sign-in, or a copy of a callback another request is already
   * completing (409 `X_SIGN_IN_IN_PROGRESS`: that request carries it).
   */
  state?: unknown;
}

/** The actions Passport adds to a strategy for the duration of one `authenticate` call. */
export interface PassportStrategyActions {
  /** Authenticated `user`. */
  success(user: unknown, info?: unknown): void;
  /** Not authenticated. */
  fail(challenge?: unknown, status?: number): void;
  /** Redirect the user agent. */
  redirect(url: string, status?: number): void;
  /** Skip this strategy. */
  pass(): void;
  /** Internal error. */
  error(err: Error): void;
}

/** passport-oauth1's `OAuthStrategy` instance, as passport-x uses it. */
export interface OAuth1StrategyBase extends PassportStrategyActions {
  /** The strategy name for `passport.authenticate(name)`. */
  name: string;
  /** Runs the OAuth 1.0a flow for this request. */
  authenticate(req: XIncomingRequest, options?: XAuthenticateOptions): void;
  /** Loads the user's profile after the access token is obtained. */
  userProfile(token: string, tokenSecret: string, params: Record<string, string>, done: (err: Error | null, profile?: unknown) => void): void;
  /** Extra parameters for the request-token request. */
  requestTokenParams(options: XAuthenticateOptions): Record<string, string>;
  /** Extra parameters for the authorization page. */
  userAuthorizationParams(options: XAuthenticateOptions): Record<string, string>;
}

/** passport-oauth2's `OAuth2Strategy` instance, as passport-x uses it. */
export interface OAuth2StrategyBase extends PassportStrategyActions {
  /** The strategy name for `passport.authenticate(name)`. */
  name: string;
  /** Runs the OAuth 2.0 flow for this request. */
  authenticate(req: XIncomingRequest, options?: XAuthenticateOptions): void;
  /** Loads the user's profile after the access token is obtained. */
  userProfile(accessToken: string, done: (err: Error | null, profile?: unknown) => void): void;
  /** Extra parameters for the authorization page. */
  authorizationParams(options: XAuthenticateOptions): Record<string, string>;
  /** Extra parameters for the token request. */
  tokenParams(options: XAuthenticateOptions): Record<string, string>;
}

/** Constructor of {@link OAuth1StrategyBase}. */
export type OAuth1StrategyConstructor = new (options: Record<string, unknown>, verify: (...args: never[]) => void) => OAuth1StrategyBase;

/** Constructor of {@link OAuth2StrategyBase}. */
export type OAuth2StrategyConstructor = new (options: Record<string, unknown>, verify: (...args: never[]) => void) => OAuth2StrategyBase;

/**
 * Hands a sign-in to the app's verify callback by its arity, as passport-oauth1 and passport-oauth2
 * do (`req` first with `passReqToCallback`; `params` when the callback takes six arguments with
 * `req`, five without), and turns its answer into the strategy's action: `success(user, info)` with
 * the app state as `info.state`, {@link refuseSignIn}, or {@link failSignIn}, also when the callback
 * throws before it answers. The first answer counts: a second call of `done`, or a throw after the
 * first, is a `PASSPORT_X_CALLBACK_THREW` warning, never a second action on the request. A throw from
 * Passport's `success` (the app's custom callback or next middleware, run in this later tick) goes
 * to Passport's `error`, as one from `fail` does, never up into the verify callback (whose `async`
 * function would turn it into an unhandled rejection, ending the process).
 */
export function runVerify(
  actions: PassportStrategyActions & { name: string },
  logged: LoggedFailures,
  refusal: RefusalOf,
  verify: (...args: unknown[]) => void,
  passReqToCallback: boolean | undefined,
  req: unknown,
  credentials: [token: string, secondary: string | undefined],
  params: unknown,
  profile: unknown,
  appState: unknown,
): void {
  let answered = false;
  const verified: XVerifyCallback = (err, user, info) => {
    if (answered) return warnCallbackThrew(new Error('The verify callback called done() a second time.'), ANSWERED_ALREADY);
    answered = true;
    if (err) return failSignIn(actions, logged, refusal, err, appState);
    if (!user) return refuseSignIn(actions, logged, info, undefined, appState);
    guardedAction(actions, 'success', user, appState ? withAppState(info, appState) : info || {});
  };
  const [token, secondary] = credentials;
  try {
    if (passReqToCallback) {
      if (verify.length === 6) verify(req, token, secondary, params, profile, verified);
      else verify(req, token, secondary, profile, verified);
    } else if (verify.length === 5) verify(token, secondary, params, profile, verified);
    else verify(token, secondary, profile, verified);
  } catch (ex) {
    // Thrown after done() answered: the answer stands (the request has it), the throw is reported,
    // without the user's tokens should the app's error quote them.
    if (answered) return warnCallbackThrew(redactError(ex, credentials), `The verify callback threw after calling done(). ${ANSWERED_ALREADY}`);
    answered = true;
    failSignIn(actions, logged, refusal, ex as Error, appState);
  }
}

/** The detail of a warning about the verify callback once it has answered. */
const ANSWERED_ALREADY = 'The sign-in had its answer already, and the request has it: this was ignored, not acted on.';

/**
 * Passport's `success` or `fail` with `first` and `second`. In authenticate()'s own tick a throw from
 * it (the app's code: its custom callback, next middleware, failure redirect or next strategy) goes up
 * to the framework, which answers it once; in a later tick (a store's answer, the replay guard's for a
 * double click's second copy, the verify callback's), where nothing would catch it and it would end
 * the process, it goes to Passport's `error` instead (see {@link errorSignIn}), which calls a custom
 * callback again, with the error.
 */
function guardedAction(actions: PassportStrategyActions, action: 'success', user: unknown, info: unknown): void;
function guardedAction(actions: PassportStrategyActions, action: 'fail', challenge: unknown, status: number | undefined): void;
function guardedAction(actions: PassportStrategyActions, action: 'success' | 'fail', first: unknown, second: unknown): void {
  const act = actions as unknown as Record<typeof action, (first: unknown, second: unknown) => void>;
  if (inRequestTick(actions)) return act[action](first, second);
  try {
    act[action](first, second);
  } catch (err) {
    errorSignIn(actions, err);
  }
}

/**
 * `info` with the app state as its `state`, for Passport's success or fail: always a new value,
 * never the caller's (an app may hand every sign-in the same `info`, or a string, which has no
 * properties to set). An object is copied whole, its prototype and every own property with it (an
 * `Error`'s non-enumerable `message`, a class's getters); a string becomes `{ message, state }`; a
 * number (a status, to Passport's `fail`), a function and, without `appState`, anything stay as they are.
 */
export function withAppState(info: unknown, appState: unknown): unknown {
  if (!appState || typeof info === 'number' || typeof info === 'function') return info;
  if (info !== null && typeof info === 'object') {
    try {
      const copy = Object.create(Object.getPrototypeOf(info) as object | null, Object.getOwnPropertyDescriptors(info)) as Record<string, unknown>;
      Object.defineProperty(copy, 'state', { value: appState, enumerable: true, writable: true, configurable: true });
      return copy;
    } catch {
      // An own `state` that cannot be redefined (a frozen info that has one): its own properties, and ours.
      return { ...(info as object), state: appState };
    }
  }
  return info ? { message: String(info), state: appState } : { state: appState };
}

/** Where each required option comes from, for the error of a missing one. */
const OPTION_SOURCES: Record<string, string> = {
  consumerKey: 'the API Key, in the X developer portal under your app\'s "Keys and tokens" (Consumer Keys)',
  consumerSecret: 'the API Key Secret, in the X developer portal under your app\'s "Keys and tokens" (Consumer Keys)',
  clientID: 'the OAuth 2.0 Client ID, in the X developer portal under your app\'s "Keys and tokens" (OAuth 2.0 Client ID and Client Secret)',
  callbackURL:
    'the absolute URL of your app\'s callback route (e.g. http://127.0.0.1:3000/auth/x/callback), listed exactly as a Callback URI in the X developer portal under your app\'s "User authentication settings"',
};

/** The other protocol's credentials, which a strategy given them instead of its own names. */
const OTHER_PROTOCOL: Record<string, { names: readonly string[]; hint: string }> = {
  XOAuth1Strategy: {
    names: ['clientID', 'clientSecret'],
    hint: '`clientID` and `clientSecret` are OAuth 2.0 credentials: use XOAuth2PkceStrategy with them, or give XOAuth1Strategy the API Key and Secret as `consumerKey` and `consumerSecret`.',
  },
  XOAuth2PkceStrategy: {
    names: ['consumerKey', 'consumerSecret'],
    hint: '`consumerKey` and `consumerSecret` are OAuth 1.0a credentials (the API Key and Secret): use XOAuth1Strategy with them, or give XOAuth2PkceStrategy the OAuth 2.0 Client ID (and Client Secret) as `clientID` (and `clientSecret`).',
  },
};

/**
 * Checks that a required string option is there, throwing a TypeError that names it, says where
 * it comes from, and, when the options hold the other protocol's credentials instead, which
 * strategy takes those. Never quotes a value. Shared by both strategies' constructors.
 */
export function requireStringOption(options: Record<string, unknown>, name: string, strategy: string): void {
  const value = options[name];
  if (typeof value !== 'string' || value === '') {
    const source = OPTION_SOURCES[name];
    const other = OTHER_PROTOCOL[strategy];
    const mixUp = other !== undefined && name !== 'callbackURL' && other.names.some((n) => options[n] !== undefined) ? ` ${other.hint}` : '';
    throw new TypeError(`${strategy} requires the \`${name}\` option (a non-empty string)${source ? `: ${source}` : ''}.${mixUp}`);
  }
  refuseControlCharacters(value, name, strategy);
}

/**
 * Throws a TypeError naming `name` (never quoting the value, which may be a secret) when `value`
 * holds a control character: no key, secret or URL X issues has one, and CR/LF would split an HTTP header.
 */
export function refuseControlCharacters(value: string, name: string, where: string): void {
  if (hasControlCharacter(value)) {
    throw new TypeError(`${where}: the \`${name}\` option contains a control character (CR, LF, NUL, ...); copy it again from the X developer portal.`);
  }
  // A lone UTF-16 surrogate cannot be percent-encoded (URIError) nor sent as UTF-8 unchanged.
  if (hasLoneSurrogate(value)) {
    throw new TypeError(`${where}: the \`${name}\` option is not well-formed Unicode (it holds a lone UTF-16 surrogate); copy it again from the X developer portal.`);
  }
}

/**
 * Both strategies' `_createOAuthError`: passport-x's errors already say what happened and what to
 * do, so they pass through unwrapped; anything else is wrapped with passport's message.
 */
export function oauthErrorOf(message: string, err: unknown): Error {
  if (err instanceof XError) return err;
  return new Error(`${message}: ${err instanceof Error ? err.message : 'unknown error'}`, { cause: err });
}

/** Recognises an error that is X's normal refusal of a grant (a code or verifier X refused), to end the sign-in as a failure instead. */
export type RefusalOf = (err: Error) => XFailureInfo | undefined;

/**
 * Ends a sign-in the strategy refuses: an {@link XFailureInfo} gets the status of its code (400
 * malformed, 401 expired or refused, 403 unknown, forged or denied; 409 for a lost claim, whose
 * code says so) and its hint logged once per strategy instance and code, whoever produced it (the
 * strategy, a state store, the app's verify callback); any other challenge goes to Passport as given.
 * Every refusal of both strategies goes through here, rather than through a wrapper put on each
 * request's `fail` (two closures and a WeakSet entry per request).
 */
export function refuseSignIn(actions: PassportStrategyActions & { name: string }, logged: LoggedFailures, challenge?: unknown, status?: number, appState?: unknown): void {
  challenge = withAppState(challenge, appState);
  const info = isXFailureInfo(challenge) ? challenge : undefined;
  if (info !== undefined) logFailureOnce(logged, actions.name, info);
  guardedAction(actions, 'fail', challenge, info !== undefined ? failureStatus(info.code) : status);
}

/**
 * Passport's `error` with `err`: the framework's error handler (a 500 unless it decides otherwise).
 * In a later tick than authenticate()'s, a throw there, which has nowhere left to go, becomes a
 * process warning (`PASSPORT_X_CALLBACK_THREW`), never an `uncaughtException`.
 */
function errorSignIn(actions: PassportStrategyActions, err: unknown): void {
  const error = err instanceof Error ? err : new TypeError(String(err));
  if (inRequestTick(actions)) return actions.error(error);
  try {
    actions.error(error);
  } catch (again) {
    warnCallbackThrew(again);
  }
}

/** Set on Passport's per-request copy of a strategy while its authenticate() runs (see {@link inRequestTickOf}). */
const IN_REQUEST_TICK = Symbol('passport-x: in authenticate()');

/** Whether `actions` (a strategy's per-request copy) is inside its authenticate() call now. */
function inRequestTick(actions: object): boolean {
  return (actions as Record<symbol, unknown>)[IN_REQUEST_TICK] === true;
}

/**
 * Runs a strategy's authenticate() body, `body.call(strategy, req, options)`, with `strategy`
 * (Passport's per-request copy) marked as inside its authenticate() call: in that tick a throw
 * from Passport's actions goes up to the framework, which answers it once; in a later one (a
 * store's or the replay guard's answer, the verify callback's) {@link refuseSignIn},
 * {@link failSignIn} and {@link runVerify}'s success catch it.
 * No closure per request: the body is a method, called on the strategy.
 */
export function inRequestTickOf<S extends object, R, O>(strategy: S, body: (this: S, req: R, options: O) => void, req: R, options: O): void {
  const marked = strategy as Record<symbol, unknown>;
  marked[IN_REQUEST_TICK] = true;
  try {
    body.call(strategy, req, options);
  } finally {
    marked[IN_REQUEST_TICK] = false;
  }
}

/**
 * What the catch around a store call made in authenticate()'s own tick ends the sign-in with. A store
 * that answers at once (a session store does) runs the sign-in's next step, and Passport's actions,
 * inside that call: a throw after it `answered` came from there (the app's failure handling), not
 * from the store, and is thrown on up to the framework, which answers it once; ending the sign-in
 * again would answer the request a second time. A throw before the store answered is the store's
 * own failure: returned, as an Error, for the sign-in's error path.
 */
export function storeError(answered: boolean, thrown: unknown): Error {
  if (answered) throw thrown;
  return thrown instanceof Error ? thrown : new TypeError(String(thrown));
}

// The refusals of a callback this browser may have used already (no pending sign-in, an unknown state).
// A taken claim (SIGN_IN_IN_PROGRESS) is left out: it is logged where the claim is lost.
const USED_CALLBACK_CODES: ReadonlySet<string> = new Set([XFailureCode.NO_PENDING_SIGN_IN, XFailureCode.CALLBACK_UNKNOWN]);

/**
 * A used callback's refusal for a session that is signed in already (`req.user`, which Passport's
 * session support sets): most likely a reload or Back of the callback it signed in with. Logged
 * under a key of its own, so that it does not use up the one warning a real misconfiguration
 * (the same code, for a session that is not signed in) needs; the hint says so.
 */
export function refusalForSignedIn(req: object, challenge: unknown): unknown {
  if (!isXFailureInfo(challenge) || !USED_CALLBACK_CODES.has(challenge.code)) return challenge;
  if (!isSignedIn(req)) return challenge;
  const hint = `${challenge.hint} This session is signed in already: if this was a reload or Back of the callback it signed in with, there is nothing to fix; otherwise the causes above apply.`;
  // The store's info as it was (its message, its state, fields of a custom store's), with the hint and a log key of its own.
  return Object.assign(failureWithOwnLog(challenge.code, hint, 'signed-in session'), { ...challenge, hint });
}

/** Ends a sign-in with an error (Passport's 500 path), unless `refusal` recognises it as X's normal refusal of a grant: then it is {@link refuseSignIn}'s failure. */
export function failSignIn(actions: PassportStrategyActions & { name: string }, logged: LoggedFailures, refusal: RefusalOf, err: Error, appState?: unknown): void {
  const info = err instanceof Error ? refusal(err) : undefined;
  if (info !== undefined) return refuseSignIn(actions, logged, info, undefined, appState);
  errorSignIn(actions, err);
}

/** X's own words from an error answer, for a developer's hint: one line, control characters removed, at most 200 characters. */
export function xWords(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const line = shortText(text);
  return line === '' ? undefined : line;
}

/** The most characters a callback's token, verifier or code may have: X's are under 100. */
export const MAX_CALLBACK_TOKEN_LENGTH = 1024;

const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

/**
 * Whether a value of the callback's query can be a token, verifier or code X sent: 1 to
 * {@link MAX_CALLBACK_TOKEN_LENGTH} printable ASCII characters, no space. X's are letters, digits
 * and a few marks; anything else did not come from X, and is refused before the pending sign-in is
 * used or X is asked (a huge verifier would go out in the `Authorization` header, and X's front end
 * would answer an HTML 431 instead of a refusal).
 */
export function isCallbackToken(value: string): boolean {
  return value.length <= MAX_CALLBACK_TOKEN_LENGTH && PRINTABLE_ASCII.test(value);
}
