/**
 * `XOAuth1Strategy`: "Sign in with X" over OAuth 1.0a (X doc "Obtaining access tokens using
 * 3-legged OAuth flow"), on passport-oauth1. passport-oauth1 runs the flow; this class
 * overrides its named steps and sends every request to X through passport-x's own client
 * (time-outs, keep-alive, typed errors) instead of the `oauth` package.
 */
import { stringify as stringifyQuery, type ParsedUrlQueryInput } from 'node:querystring';
import { format as formatURL, parse as parseURL } from 'node:url';
import { fetchAccessTokenThen, fetchRequestTokenThen, fetchVerifyCredentialsThen, normalizeBaseURL, xEndpoints, type OAuth1Consumer } from './endpoints';
import { resolveTimeout, responseHeader, type XHttpOptions } from './http';
import { failSignIn, inRequestTickOf, isCallbackToken, storeError, refuseSignIn, refusalForSignedIn, runVerify, oauthErrorOf, requireStringOption, xWords, type OAuth1StrategyBase, type OAuth1StrategyConstructor, type XAuthenticateOptions, type XVerifyCallback } from './passport-base';
import { profileFromAccessTokenParams, profileFromV1User, type XProfile } from './profile';
import { UNRESOLVABLE_CALLBACK_HINT, queryOf, queryParam, resolveCallbackURL, warnOnStart, type HostWarningState, type XAuthRequest, type XIncomingRequest } from './request';
import { callbackClaimGuard, claimingStore, claimTtlOf, type XReplayGuard } from './state/replay-guard';
import { XRequestTokenSessionStore, type RequestTokenLoaded, type XRequestTokenStore } from './state/request-token-session';
import { EncryptedCookieStateStore } from './state/encrypted-cookie';
import { PendingBindingCache, pendingMissInfo, requireSession, type PendingDropped } from './state/pending';
import { XFailureCode, failureOf, failureWithOwnLog, isXFailureInfo, logFailureOnce, type LoggedFailures, type XFailureCodeValue, type XFailureInfo } from './failure';
import { XAPIError, XCreditsDepletedError, XErrorCode, XRequestError, XUsageCapError, hasControlCharacter, hasLoneSurrogate } from './errors';

const OAuthStrategy: OAuth1StrategyConstructor = require('passport-oauth1').Strategy;

/** What passport-oauth1's start leg reads of its strategy, which the start leg below reads the same way. */
interface PassportOAuth1Internals {
  _oauth: OAuthClientLike & { _requestUrl: string; _accessUrl: string; _consumerKey: string };
  _callbackURL?: string;
  _trustProxy?: boolean;
  _userAuthorizationURL: string;
  _verify: (...args: unknown[]) => void;
  _passReqToCallback?: boolean;
  _loadUserProfile(token: string, tokenSecret: string, params: Record<string, string>, done: (err: Error | null, profile?: unknown) => void): void;
}

/** A request-token store's get() and destroy() of arity 4, which take passport-oauth1's `meta`. */
type GetWithMeta = (req: XAuthRequest, token: string, meta: object, cb: RequestTokenLoaded) => void;
type DestroyWithMeta = (req: XAuthRequest, token: string, meta: object, cb: (err?: Error | null) => void) => void;

/**
 * The authorization page split as passport-oauth1's url.parse(page, true) / url.format() see it: the
 * URL before its query, its own query parameters, its fragment. Built once per strategy.
 */
function splitAuthorizationPage(page: string): { prefix: string; query: ParsedUrlQueryInput; hash: string } {
  const parsed = parseURL(page, true);
  const query = { ...parsed.query };
  const hash = parsed.hash ?? '';
  parsed.search = null;
  parsed.hash = null;
  // url.format takes the query from `search`, else from `query`: with neither, the URL ends before its query.
  return { prefix: formatURL({ ...parsed, query: null }), query, hash };
}

/** The parameters of X's access-token answer, passed to a 5- or 6-argument verify callback. */
export interface XOAuth1TokenParams {
  /** The access token (also the verify callback's `token`). */
  oauth_token: string;
  /** The access token's secret (also the verify callback's `tokenSecret`). */
  oauth_token_secret: string;
  /** The user's ID. */
  user_id?: string;
  /** The user's handle. */
  screen_name?: string;
  [key: string]: string | undefined;
}

/** Options of {@link XOAuth1Strategy} shared by both verify styles. */
export interface XOAuth1StrategyOptionsBase {
  /** The app's API key (consumer key). Required. */
  consumerKey: string;
  /** The app's API key secret (consumer secret). Required. */
  consumerSecret: string;
  /** Where X sends the user back; must be registered in the X developer portal. Required. */
  callbackURL: string;
  /** Strategy name for `passport.authenticate` (default `'x-oauth1'`). */
  name?: string | undefined;
  /** X's API host (default `https://api.x.com`); every endpoint derives from it. */
  baseURL?: string | undefined;
  /** Overrides `${baseURL}/oauth/request_token`. */
  requestTokenURL?: string | undefined;
  /** Overrides `${baseURL}/oauth/access_token`. */
  accessTokenURL?: string | undefined;
  /** Overrides the authorization page (`${baseURL}/oauth/authenticate` or `/oauth/authorize`). */
  userAuthorizationURL?: string | undefined;
  /** Overrides `${baseURL}/1.1/account/verify_credentials.json`. */
  userProfileURL?: string | undefined;
  /** `'authenticate'` (default: "Sign in with X", no consent screen for a returning user) or `'authorize'` (always asks). */
  authorizeMode?: 'authenticate' | 'authorize' | undefined;
  /** Make X ask for the password even when the user is signed in to X (`force_login=true`). */
  forceLogin?: boolean | undefined;
  /** Pre-fill the X username field (`screen_name`). */
  screenName?: string | undefined;
  /** Ask X for the user's e-mail (`include_email=true`; needs "Request email from users" in the portal). Default false. */
  includeEmail?: boolean | undefined;
  /** Include `entities` in the profile JSON. Default false. */
  includeEntities?: boolean | undefined;
  /** Include the latest post (`status`) in the profile JSON. Default false. */
  includeStatus?: boolean | undefined;
  /**
   * Build the profile from the access-token answer (`user_id`, `screen_name`) without calling X. Default false.
   * Saves the one billed user read (`account/verify_credentials`) of each sign-in on X's pay-per-use plan.
   */
  skipExtendedUserProfile?: boolean | undefined;
  /**
   * What to do when X refuses the profile read for billing reasons (402 credits depleted, or a usage
   * cap): `'token'` signs the user in anyway with a profile built from the access-token answer
   * (`user_id`, `screen_name`), marked `profile.partial === true`, and warns once
   * (`PASSPORT_X_PROFILE_FALLBACK`). Left out (the default), the sign-in fails with the
   * `XCreditsDepletedError` or `XUsageCapError`. Any other failure of the read still fails the sign-in.
   */
  profileFallback?: 'token' | undefined;
  /** Session key of the default request-token store (default `'oauth:x'`). */
  sessionKey?: string | undefined;
  /** A custom request-token store (passport-oauth1's interface). */
  store?: XRequestTokenStore | undefined;
  /**
   * Where callbacks are claimed, so that exactly one request per request token goes on to X (a
   * double click, a reload or Back send it several times, often at once); every other one fails
   * with 409 and `X_SIGN_IN_IN_PROGRESS`. Default: a `MemoryReplayGuard` of this strategy, right
   * for one process. Several app instances: one shared guard, e.g. `new RedisReplayGuard({ client })`.
   */
  replayGuard?: XReplayGuard | undefined;
  /** Trust `X-Forwarded-*` when resolving a relative `callbackURL` (as passport-oauth1's `proxy`). */
  proxy?: boolean | undefined;
  /** Time-out of each request to X, ms (default 10000); also bounds the replay guard's claim. */
  timeoutMs?: number | undefined;
  /** Send requests to X through this `fetch` implementation instead of passport-x's kept-alive `node:http` client. */
  fetch?: typeof fetch | undefined;
}

/** Options of {@link XOAuth1Strategy} whose verify callback does not take `req`. */
export interface XOAuth1StrategyOptions extends XOAuth1StrategyOptionsBase {
  /** Pass `req` as the first argument of the verify callback (default false). */
  passReqToCallback?: false | undefined;
}

/** Options with `passReqToCallback: true`: `req` is the verify callback's first argument. */
export interface XOAuth1StrategyOptionsWithRequest extends XOAuth1StrategyOptionsBase {
  /** Pass `req` as the first argument of the verify callback. */
  passReqToCallback: true;
}

/** `(token, tokenSecret, profile, done)` */
export type XOAuth1Verify = (token: string, tokenSecret: string, profile: XProfile, done: XVerifyCallback) => void;
/** `(token, tokenSecret, params, profile, done)` */
export type XOAuth1VerifyWithParams = (token: string, tokenSecret: string, params: XOAuth1TokenParams, profile: XProfile, done: XVerifyCallback) => void;
/**
 * `(req, token, tokenSecret, profile, done)`, with `passReqToCallback: true`. `req` is your
 * framework's request (Express `Request`, Koa's, Fastify's): typed `any` so you can annotate it as such.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type XOAuth1VerifyWithRequest<Req = any> = (req: Req, token: string, tokenSecret: string, profile: XProfile, done: XVerifyCallback) => void;
/** `(req, token, tokenSecret, params, profile, done)`, with `passReqToCallback: true`; `req` as in {@link XOAuth1VerifyWithRequest}. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type XOAuth1VerifyWithRequestAndParams<Req = any> = (
  req: Req,
  token: string,
  tokenSecret: string,
  params: XOAuth1TokenParams,
  profile: XProfile,
  done: XVerifyCallback,
) => void;

/** Per-request options of `passport.authenticate('x-oauth1', { ... })`. */
export interface XOAuth1AuthenticateOptions extends XAuthenticateOptions {
  /** `force_login=true` for this sign-in: X asks for the password even when the user is signed in to X. */
  forceLogin?: boolean | undefined;
  /** Pre-fill the X username field for this sign-in (`screen_name`). */
  screenName?: string | undefined;
}

/** The method of the `oauth` package client that the start leg calls; replaced per instance by passport-x's request. */
interface OAuthClientLike {
  getOAuthRequestToken(params: Record<string, string>, cb: (err: unknown, token?: string, tokenSecret?: string, params?: Record<string, string>) => void): void;
}

// The access-token step's refusals of a verifier, set apart from the strategy's other errors on
// their way through passport-oauth1 (which hands every token failure to this.error).
const refusedVerifiers = new WeakSet<Error>();

/**
 * X's normal refusal of the access-token step: a verifier or request token that expired or was
 * already used. X answers 401, in plain text ("Error processing your OAuth request: Invalid
 * oauth_verifier parameter") or code 89 "Invalid or expired token", which one of X's tables of
 * codes gives as 403: code 89 is a refusal with either status. Code 32 (bad signature) and 135
 * (clock) are the app's configuration, and 5xx is X failing: those stay errors.
 */
function isVerifierRefusal(err: Error): err is XAPIError {
  if (!(err instanceof XAPIError)) return false;
  return (err.status === 401 && (err.xCode === undefined || err.xCode === 89)) || (err.status === 403 && err.xCode === 89);
}

/** The failure of a verifier X refused: "This sign-in took too long or was already used. Sign in again." (401), with X's words in the hint. */
function verifierRefusedInfo(err: Error): XFailureInfo | undefined {
  if (!refusedVerifiers.has(err) || !(err instanceof XAPIError)) return undefined;
  const words = xWords(err.xMessage ?? err.response?.body);
  return failureOf(
    XFailureCode.GRANT_REFUSED,
    `X refused to exchange the request token and verifier for an access token (HTTP ${err.status}${err.xCode !== undefined ? `, code ${err.xCode}` : ''}${words ? `: "${words}"` : ''}). ` +
      'Request tokens and verifiers work once and expire: the user took too long on X\'s authorization page, or the callback was used twice (a reload, the back button). ' +
      'The strategy lets one copy of a callback through per replay guard: if the app runs as several instances, each with its own (the default), a copy reaching another instance is sent to X too. ' +
      'Give every instance one shared guard: replayGuard: new RedisReplayGuard({ client }). ' +
      'If every sign-in fails this way, check that the consumer key and secret are the app\'s and that this server\'s clock is right.',
  );
}

/**
 * Checks a `screenName` (strategy option or per request): a string without control characters or
 * lone surrogates, which cannot go into the authorization page's query. Throws a TypeError naming
 * the option, never its value.
 */
function checkScreenName(screenName: unknown, where: string): void {
  if (typeof screenName !== 'string' || hasControlCharacter(screenName) || hasLoneSurrogate(screenName)) {
    throw new TypeError(`${where}: \`screenName\` must be a string without control characters or lone UTF-16 surrogates (an X handle, e.g. 'XDevelopers').`);
  }
}

/** X's error code for a callback URL that is not among the app's registered ones. */
const CALLBACK_URL_NOT_APPROVED = 415;

/** The diagnosis of X's 415 for a callback URL resolved from the request (a relative `callbackURL`). */
function refusedRelativeCallbackHint(callbackURL: string): string {
  return (
    // Text from a request, on one line and cut, as X's words are.
    `X refused the callback URL ${xWords(callbackURL) ?? ''} (code 415, not approved for this app), which this strategy resolved from the request's Host header because \`callbackURL\` is relative. ` +
    'Either the request named a host this app does not serve (a client, a scanner or a misrouted request: nothing to fix), or that URL is missing from the Callback URLs in the app\'s User authentication settings in the X developer portal ' +
    '(behind a proxy that terminates TLS, an http:// URL where https:// is registered: set `proxy: true` so that X-Forwarded-Proto counts). ' +
    'An absolute `callbackURL` avoids all of these: X then only ever sees the registered URL.'
  );
}

/**
 * "Sign in with X" over OAuth 1.0a.
 *
 * @example
 * ```ts
 * passport.use(new XOAuth1Strategy({
 *   consumerKey: process.env.X_CONSUMER_KEY!,
 *   consumerSecret: process.env.X_CONSUMER_SECRET!,
 *   callbackURL: 'http://127.0.0.1:3000/auth/x/callback',
 * }, (token, tokenSecret, profile, done) => done(null, { id: profile.id, name: profile.displayName })));
 *
 * app.get('/auth/x', passport.authenticate('x-oauth1'));
 * app.get('/auth/x/callback', passport.authenticate('x-oauth1', { failureRedirect: '/' }), (req, res) => res.redirect('/'));
 * ```
 */
export class XOAuth1Strategy extends OAuthStrategy implements OAuth1StrategyBase {
  private readonly xOptions: Readonly<Omit<XOAuth1StrategyOptionsBase, 'consumerSecret'>>;
  // A getter (set in the constructor): the consumer secret stays out of JSON and util.inspect(strategy),
  // showHidden included, which prints a getter as [Getter]. Not a #private field: Passport calls
  // authenticate() on an Object.create() copy of the strategy per request, which has none.
  declare private readonly consumer: OAuth1Consumer;
  private readonly http: XHttpOptions;
  /** verify_credentials with its query, fixed at construction. */
  private readonly profileURL: string;
  private readonly tokenStore: XRequestTokenStore;
  private readonly hostWarning: HostWarningState = { warnedHosts: new Set() };
  /** Whether the pending sign-in rides the session (not `EncryptedCookieStateStore`'s own cookie). */
  private readonly pendingInSession: boolean;
  private readonly fallbackWarning = { warned: false };
  /** This strategy's pending-state binding, computed once (passport's per-request copies share it). */
  private readonly bindings = new PendingBindingCache('oauth1');
  /** The authorization page split once: what precedes its query, its own query parameters, its fragment. */
  private readonly authorizationPage: { prefix: string; query: ParsedUrlQueryInput; hash: string };
  /** Whether `callbackURL` is absolute; a relative one is resolved against each request. */
  private readonly callbackURLIsAbsolute: boolean;
  /** The failure codes whose hint this instance has logged (once each), shared with the replay guard's claim. */
  private readonly loggedFailures: LoggedFailures;
  /** The store as the callback leg uses it: its get() claims the request token it accepts. */
  private readonly claimingTokenStore: XRequestTokenStore;
  /** `POST oauth/access_token`. */
  private readonly accessTokenURL: string;

  // TypeScript types an unannotated callback from the first overload only, so the common arities come
  // first; the `params` arities need their parameters annotated (XOAuth1VerifyWithParams), as with @types/passport-oauth2.
  constructor(options: XOAuth1StrategyOptions, verify: XOAuth1Verify);
  constructor(options: XOAuth1StrategyOptions, verify: XOAuth1VerifyWithParams);
  constructor(options: XOAuth1StrategyOptionsWithRequest, verify: XOAuth1VerifyWithRequest);
  constructor(options: XOAuth1StrategyOptionsWithRequest, verify: XOAuth1VerifyWithRequestAndParams);
  constructor(options: XOAuth1StrategyOptions | XOAuth1StrategyOptionsWithRequest, verify: (...args: never[]) => void) {
    if (!options || typeof options !== 'object') throw new TypeError('XOAuth1Strategy requires an options object');
    const opts = options as unknown as Record<string, unknown>;
    requireStringOption(opts, 'consumerKey', 'XOAuth1Strategy');
    requireStringOption(opts, 'consumerSecret', 'XOAuth1Strategy');
    requireStringOption(opts, 'callbackURL', 'XOAuth1Strategy');
    if (typeof verify !== 'function') throw new TypeError('XOAuth1Strategy requires a verify callback');
    if (options.authorizeMode !== undefined && options.authorizeMode !== 'authenticate' && options.authorizeMode !== 'authorize') {
      throw new TypeError("XOAuth1Strategy: `authorizeMode` must be 'authenticate' or 'authorize'");
    }
    if (options.profileFallback !== undefined && options.profileFallback !== 'token') {
      throw new TypeError("XOAuth1Strategy: `profileFallback` must be 'token' or left out");
    }
    if (options.screenName !== undefined) checkScreenName(options.screenName, 'XOAuth1Strategy');
    const timeoutMs = resolveTimeout(options.timeoutMs);
    const urls = xEndpoints(options.baseURL);
    const requestTokenURL = options.requestTokenURL ? normalizeBaseURL(options.requestTokenURL, 'requestTokenURL') : urls.requestToken;
    const accessTokenURL = options.accessTokenURL ? normalizeBaseURL(options.accessTokenURL, 'accessTokenURL') : urls.accessToken;
    const userAuthorizationURL = options.userAuthorizationURL
      ? normalizeBaseURL(options.userAuthorizationURL, 'userAuthorizationURL')
      : options.authorizeMode === 'authorize'
        ? urls.authorize
        : urls.authenticate;
    const store = options.store ?? new XRequestTokenSessionStore({ key: options.sessionKey ?? 'oauth:x' });
    const name = options.name ?? 'x-oauth1';
    const loggedFailures: LoggedFailures = new Set();
    // passport-oauth1 reads the callback's request token through this view of the store, which then claims it: one request per token goes on to X.
    const claiming = claimingStore(store, 'get', ['set', 'destroy'], {
      ...callbackClaimGuard(options.replayGuard, 'XOAuth1Strategy', { protocol: 'oauth1', strategy: name, client: options.consumerKey }),
      ttlMs: claimTtlOf(store),
      timeoutMs,
      what: 'request token',
      onLost: (info) => logFailureOnce(loggedFailures, name, info),
    });

    super(
      {
        requestTokenURL,
        accessTokenURL,
        userAuthorizationURL,
        consumerKey: options.consumerKey,
        consumerSecret: options.consumerSecret,
        callbackURL: options.callbackURL,
        passReqToCallback: options.passReqToCallback,
        sessionKey: options.sessionKey ?? 'oauth:x',
        store: claiming,
        proxy: options.proxy,
      },
      verify,
    );
    this.name = name;
    this.loggedFailures = loggedFailures;
    // The sign-in in its own cookie: a Secure session cookie on http loses only the login session.
    this.pendingInSession = !(store instanceof EncryptedCookieStateStore);
    // The consumer secret is kept out of util.inspect(strategy) and JSON.stringify(strategy): behind a
    // getter, and not copied into xOptions.
    const { consumerSecret: _secret, ...rest } = options;
    this.xOptions = rest;
    const consumer: OAuth1Consumer = { consumerKey: options.consumerKey, consumerSecret: options.consumerSecret };
    Object.defineProperty(this, 'consumer', { get: () => consumer, enumerable: false });
    this.http = { timeoutMs, fetch: options.fetch };
    const profileURL = new URL(options.userProfileURL ? normalizeBaseURL(options.userProfileURL, 'userProfileURL') : urls.verifyCredentials);
    profileURL.searchParams.set('include_email', options.includeEmail ? 'true' : 'false');
    profileURL.searchParams.set('skip_status', options.includeStatus ? 'false' : 'true');
    profileURL.searchParams.set('include_entities', options.includeEntities ? 'true' : 'false');
    this.profileURL = profileURL.href;
    this.tokenStore = store;
    this.accessTokenURL = accessTokenURL;
    // Both legs hand the store passport-oauth1's meta with this strategy's binding, so the store
    // accepts only its own sign-ins; the claiming view then claims the request token it accepted.
    this.claimingTokenStore = claiming as XRequestTokenStore;
    this.authorizationPage = splitAuthorizationPage(userAuthorizationURL);
    this.callbackURLIsAbsolute = !!parseURL(options.callbackURL).protocol;

    // passport-oauth1 calls these two methods of its `oauth` client; route them through passport-x's client.
    const client = (this as unknown as { _oauth: OAuthClientLike })._oauth;
    // The `oauth` client keeps its own copy of the secret (it signs nothing of passport-x's, but an app
    // may call its get() or post()): a getter, which util.inspect shows as [Getter] without calling it.
    const consumerSecret = options.consumerSecret;
    Object.defineProperty(client, '_consumerSecret', { get: () => consumerSecret, enumerable: false, configurable: true });
    client.getOAuthRequestToken = (params, cb) => {
      const { oauth_callback: callbackURL, ...extra } = params;
      fetchRequestTokenThen(
        requestTokenURL,
        this.consumer,
        callbackURL ?? 'oob',
        extra,
        this.http,
        (t) => cb(null, t.token, t.tokenSecret, t.params),
        (err) => cb(err),
      );
    };
  }

  /** Step 3: `POST oauth/access_token` with the verifier, signed with the request token; calls back as passport-oauth1's `oauth` client would. */
  private exchangeVerifier(token: string, tokenSecret: string, verifier: string, cb: (err: unknown, token?: string, tokenSecret?: string, params?: Record<string, string>) => void): void {
    fetchAccessTokenThen(
      this.accessTokenURL,
      this.consumer,
      { token, tokenSecret },
      verifier,
      this.http,
      (t) => cb(null, t.token, t.tokenSecret, t.params),
      (err) => {
        if (isVerifierRefusal(err)) refusedVerifiers.add(err);
        cb(err);
      },
    );
  }

  /**
   * Handles `?denied=` (the user pressed Cancel on X) and malformed callbacks, then lets
   * passport-oauth1 run the flow.
   */
  override authenticate(incoming: XIncomingRequest, options: XOAuth1AuthenticateOptions = {}): void {
    inRequestTickOf(this, this.authenticateRequest, incoming as XAuthRequest, options);
  }

  /** {@link XOAuth1Strategy.authenticate}'s work, in the request's own tick. */
  private authenticateRequest(req: XAuthRequest, options: XOAuth1AuthenticateOptions): void {
    // Read once: Express 5 parses the query string again on every read of req.query.
    const query = queryOf(req) ?? {};
    if (query.denied !== undefined) {
      const denied = queryParam(query, 'denied');
      // X sends one request token: anything else (empty, repeated, not a string, not a token X issues) is not the user's Cancel.
      if (!denied || !isCallbackToken(denied)) {
        return this.failWith(
          XFailureCode.CALLBACK_MALFORMED,
          'The X sign-in callback carries a malformed `denied` parameter (empty, repeated, not a string, or not a request token X sends): it did not come from X\'s authorization page. Nothing was used up.',
        );
      }
      const failDenied = (): void =>
        this.failWith(XFailureCode.ACCESS_DENIED, 'The user pressed Cancel on X\'s authorization page (X sent ?denied=<request token>). Nothing to fix; offer to sign in again.');
      if (this.tokenStore.drop) {
        let answered = false;
        try {
          const dropped: PendingDropped = (err, found, info) => {
            answered = true;
            if (err) return this.failed(err);
            // A request token this session never had: not the user's Cancel, a forged or replayed callback.
            if (found === false) return this.refuse(isXFailureInfo(info) ? info : pendingMissInfo('unknown', 'request token'));
            failDenied();
          };
          const { drop } = this.tokenStore;
          // A 4-argument drop() gets the meta with the binding, as get() does.
          if (drop.length >= 4) (drop as unknown as (req: XAuthRequest, token: string, meta: object, cb: typeof dropped) => void).call(this.tokenStore, req, denied, { binding: this.binding() }, dropped);
          else drop.call(this.tokenStore, req, denied, dropped);
        } catch (err) {
          this.failed(storeError(answered, err));
        }
        return;
      }
      return failDenied();
    }
    if (query.oauth_token !== undefined) {
      // Empty counts as missing: passport-oauth1 would take an empty oauth_token for a new sign-in.
      if (!queryParam(query, 'oauth_token') || !queryParam(query, 'oauth_verifier')) {
        return this.failWith(
          XFailureCode.CALLBACK_MALFORMED,
          'The X sign-in callback is missing its oauth_token or oauth_verifier parameter, or repeats one. X always sends one of each: this request did not come from X, or something in between dropped the query string.',
        );
      }
      const token = query.oauth_token as string;
      const verifier = query.oauth_verifier as string;
      if (!isCallbackToken(token) || !isCallbackToken(verifier)) {
        return this.failWith(
          XFailureCode.CALLBACK_MALFORMED,
          'The X sign-in callback\'s oauth_token or oauth_verifier is not one X sends (over 1024 characters, or with a space, a control or a non-ASCII character): this request did not come from X. Nothing was used up or sent to X.',
        );
      }
      return this.completeSignIn(req, token, verifier);
    }
    warnOnStart(req, options.callbackURL || this.xOptions.callbackURL, this.name, this.hostWarning, (this as unknown as PassportOAuth1Internals)._trustProxy, this.pendingInSession, options.session !== false);
    this.startSignIn(req, options);
  }

  /**
   * The callback leg, as passport-oauth1 runs it (the same store calls and meta, token request,
   * profile hooks, verify arities and `info.state`), without its repeated `req.query` reads and
   * per-call copies of the meta: the store (through the replay guard's claim) gives the request
   * token's secret, X the access token, `userProfile()` the profile, and the verify callback the user.
   */
  private completeSignIn(req: XAuthRequest, token: string, verifier: string): void {
    const base = this as unknown as PassportOAuth1Internals;
    const store = this.claimingTokenStore;
    // passport-oauth1's meta of the callback leg, with this strategy's binding.
    const meta = {
      requestTokenURL: base._oauth._requestUrl,
      accessTokenURL: base._oauth._accessUrl,
      userAuthorizationURL: base._userAuthorizationURL,
      consumerKey: base._oauth._consumerKey,
      binding: this.binding(),
    };
    // Per-callback closures only pass on to methods, where V8 keeps the work compiled: it drops the
    // optimised code of a function whose every closure died, and compiles it again once hot.
    let answered = false;
    const loaded: RequestTokenLoaded = (err, tokenSecret, state) => {
      answered = true;
      this.requestTokenLoaded(req, token, verifier, meta, err, tokenSecret, state);
    };
    try {
      if (store.get.length >= 4) (store.get as GetWithMeta).call(store, req, token, meta, loaded);
      else store.get(req, token, loaded);
    } catch (ex) {
      this.failed(storeError(answered, ex));
    }
  }

  /** The store's answer on the callback leg (through the replay guard's claim): on to the access-token request, or the refusal. */
  private requestTokenLoaded(req: XAuthRequest, token: string, verifier: string, meta: object, err: Error | null, tokenSecret: string | false | undefined, state: unknown): void {
    if (err) return this.failed(err);
    // A refusal of the store, or the claim another request holds: an XFailureInfo gets its code's
    // status (409 for the lost claim, 403 for a miss); a custom store's own challenge gets 403.
    if (!tokenSecret) return this.refuse(refusalForSignedIn(req, state), 403);
    this.exchangeVerifier(token, tokenSecret, verifier, (tokenErr, accessToken, accessSecret, params) =>
      this.accessTokenIssued(req, token, meta, state, tokenErr, accessToken, accessSecret, params),
    );
  }

  /** X's answer to the access-token request: the request token is forgotten (single-use), then the profile loaded. */
  private accessTokenIssued(
    req: XAuthRequest,
    token: string,
    meta: object,
    state: unknown,
    tokenErr: unknown,
    accessToken: string | undefined,
    accessSecret: string | undefined,
    params: Record<string, string> | undefined,
  ): void {
    if (tokenErr) return this.failed(this._createOAuthError('Failed to obtain access token', tokenErr), state);
    const store = this.claimingTokenStore;
    const destroyed = (destroyErr?: Error | null): void => {
      if (destroyErr) return this.failed(destroyErr, state);
      this.verifyUser(req, accessToken as string, accessSecret as string, params as Record<string, string>, state);
    };
    try {
      if (store.destroy.length >= 4) (store.destroy as DestroyWithMeta).call(store, req, token, meta, destroyed);
      else store.destroy(req, token, destroyed);
    } catch (ex) {
      this.failed(ex as Error);
    }
  }

  /** Loads the profile (unless `skipUserProfile`), then hands everything to the verify callback by its arity, as passport-oauth1 does. */
  private verifyUser(req: XAuthRequest, token: string, tokenSecret: string, params: Record<string, string>, appState: unknown): void {
    const internals = this as unknown as PassportOAuth1Internals;
    internals._loadUserProfile(token, tokenSecret, params, (err, profile) => {
      if (err) return this.failed(err, appState);
      runVerify(this, this.loggedFailures, verifierRefusedInfo, internals._verify, internals._passReqToCallback, req, [token, tokenSecret], params, profile, appState);
    });
  }

  /**
   * Step 1 and the redirect to X, as passport-oauth1 runs them (same store calls, errors and
   * redirect URL), with the authorization page's URL parsed once instead of twice per sign-in.
   */
  private startSignIn(req: XAuthRequest, options: XOAuth1AuthenticateOptions): void {
    // Checked before X is asked for a request token (userAuthorizationParams() checks it again).
    if (options.screenName !== undefined) {
      try {
        checkScreenName(options.screenName, 'passport.authenticate()');
      } catch (err) {
        return this.failed(err as Error);
      }
    }
    // The session store needs a session: said before X is asked for a request token nothing could keep.
    if (this.tokenStore instanceof XRequestTokenSessionStore) {
      try {
        requireSession(req, this.name);
      } catch (err) {
        return this.failed(err as Error);
      }
    }
    const base = this as unknown as PassportOAuth1Internals;
    const params = this.requestTokenParams(options);
    let callbackURL = options.callbackURL || base._callbackURL;
    let fromRequest = false;
    if (callbackURL) {
      const absolute = callbackURL === base._callbackURL ? this.callbackURLIsAbsolute : !!parseURL(callbackURL).protocol;
      if (!absolute) {
        const resolved = resolveCallbackURL(req, callbackURL, base._trustProxy);
        // The request's host cannot form a URL (missing, or hostile): a malformed request, refused (400).
        if (resolved === undefined) return this.failWith(XFailureCode.CALLBACK_MALFORMED, UNRESOLVABLE_CALLBACK_HINT);
        callbackURL = resolved;
        fromRequest = true;
      }
    }
    params.oauth_callback = callbackURL as string;
    // passport-oauth1's meta of the start leg, with this strategy's binding.
    const meta = {
      requestTokenURL: base._oauth._requestUrl,
      accessTokenURL: base._oauth._accessUrl,
      userAuthorizationURL: base._userAuthorizationURL,
      consumerKey: base._oauth._consumerKey,
      callbackURL,
      binding: this.binding(),
    };
    // Passes on to a method, as `loaded` in completeSignIn.
    base._oauth.getOAuthRequestToken(params, (err, token, tokenSecret, answer) => {
      // X refused a callback URL made from this request's Host: a host the app does not serve (any
      // client can send one), or a missing registration. Either way the request's, not a server error.
      if (fromRequest && err instanceof XAPIError && err.xCode === CALLBACK_URL_NOT_APPROVED) {
        return this.refuse(failureWithOwnLog(XFailureCode.CALLBACK_MALFORMED, refusedRelativeCallbackHint(callbackURL as string), 'callback URL refused'));
      }
      this.requestTokenIssued(req, options, callbackURL, meta, err, token, tokenSecret, answer);
    });
  }

  /** X's answer to the request-token request: the token is stored, then the user sent to X's authorization page. */
  private requestTokenIssued(
    req: XAuthRequest,
    options: XOAuth1AuthenticateOptions,
    callbackURL: string | undefined,
    meta: object,
    err: unknown,
    token: string | undefined,
    tokenSecret: string | undefined,
    answer: Record<string, string> | undefined,
  ): void {
    if (err) return this.failed(this._createOAuthError('Failed to obtain request token', err));
    const stored = (storeErr?: Error | null): void => this.redirectToAuthorization(options, callbackURL, token, answer, storeErr);
    const store = this.claimingTokenStore as unknown as { set: (...args: unknown[]) => void };
    try {
      // passport-oauth1 passes what the store's arity asks for.
      if (store.set.length === 6) store.set(req, token, tokenSecret, options.state, meta, stored);
      else if (store.set.length === 5) store.set(req, token, tokenSecret, meta, stored);
      else store.set(req, token, tokenSecret, stored);
    } catch (ex) {
      return this.failed(ex as Error);
    }
  }

  /**
   * The store's answer on the start leg: the redirect to X's authorization page with the request
   * token. A store may call back outside any try (asynchronously): a throw here (a bad per-request
   * `screenName`, an overridden `userAuthorizationParams()`) goes to the error path, never to
   * `uncaughtException`.
   */
  private redirectToAuthorization(options: XOAuth1AuthenticateOptions, callbackURL: string | undefined, token: string | undefined, answer: Record<string, string> | undefined, storeErr?: Error | null): void {
    if (storeErr) return this.failed(storeErr);
    try {
      this.redirectWithToken(options, callbackURL, token, answer);
    } catch (err) {
      this.failed(err instanceof Error ? err : new TypeError(String(err)));
    }
  }

  private redirectWithToken(options: XOAuth1AuthenticateOptions, callbackURL: string | undefined, token: string | undefined, answer: Record<string, string> | undefined): void {
    const page = this.authorizationPage;
    // passport-oauth1: the page's own query, oauth_token, oauth_callback when X did not confirm it, then userAuthorizationParams().
    // Copied key by key into a prototype-less object (a `__proto__` parameter stays a parameter):
    // `{ ...page.query, oauth_token }` would make a new hidden class per sign-in on Node 20.
    const query: ParsedUrlQueryInput = Object.create(null) as ParsedUrlQueryInput;
    for (const key of Object.keys(page.query)) query[key] = page.query[key];
    query.oauth_token = token;
    if (!answer?.oauth_callback_confirmed && callbackURL) query.oauth_callback = callbackURL;
    Object.assign(query, this.userAuthorizationParams(options));
    const search = stringifyQuery(query);
    this.redirect(`${page.prefix}${search ? `?${search}` : ''}${page.hash}`);
  }

  /** What binds a pending sign-in to this strategy: its name, consumer key and configured callback URL. */
  private binding(): string {
    return this.bindings.of(this.name, this.consumer.consumerKey, this.xOptions.callbackURL);
  }

  /** Refuses this sign-in through Passport's `fail`: an {@link XFailureInfo} with its code's status and its hint logged once (see {@link refuseSignIn}). */
  private refuse(challenge?: unknown, status?: number): void {
    refuseSignIn(this, this.loggedFailures, challenge, status);
  }

  /** Ends this sign-in through Passport's `error`, or as a failure when it is X's normal refusal of the grant (see {@link failSignIn}). */
  private failed(err: Error, appState?: unknown): void {
    failSignIn(this, this.loggedFailures, verifierRefusedInfo, err, appState);
  }

  /** Fails this sign-in with an {@link XFailureInfo}: the person's message for `code`, the developer's `hint`, the code's status. */
  private failWith(code: XFailureCodeValue, hint: string): void {
    this.refuse(failureOf(code, hint));
  }

  /** `force_login` and `screen_name` for the authorization page, from the request's options or the strategy's. */
  override userAuthorizationParams(options: XOAuth1AuthenticateOptions): Record<string, string> {
    const params: Record<string, string> = {};
    const forceLogin = options.forceLogin ?? this.xOptions.forceLogin;
    const screenName = options.screenName ?? this.xOptions.screenName;
    if (forceLogin) params.force_login = 'true';
    if (screenName) {
      if (options.screenName !== undefined) checkScreenName(screenName, 'passport.authenticate()');
      params.screen_name = screenName;
    }
    return params;
  }

  /** Loads the profile from `account/verify_credentials`, or from the access-token answer with `skipExtendedUserProfile`. */
  override userProfile(token: string, tokenSecret: string, params: Record<string, string>, done: (err: Error | null, profile?: XProfile) => void): void {
    if (this.xOptions.skipExtendedUserProfile) {
      if (!params.user_id || !params.screen_name) {
        return done(
          new XRequestError(
            XErrorCode.INVALID_RESPONSE,
            'X answered the request to exchange the request token for an access token without user_id or screen_name, which is not what X documents, so skipExtendedUserProfile cannot build a profile. ' +
              'A proxy may be rewriting answers, or `baseURL` points somewhere else than X; turning skipExtendedUserProfile off loads the profile from account/verify_credentials instead.',
          ),
        );
      }
      return done(null, profileFromAccessTokenParams(params));
    }
    fetchVerifyCredentialsThen(
      this.profileURL,
      this.consumer,
      { token, tokenSecret },
      this.http,
      // A throw in the mapping goes to the error path (sendToXThen's guarantee), never escapes.
      ({ json, raw }) => done(null, profileFromV1User(json, raw.body, responseHeader(raw, 'x-access-level'))),
      (err) => {
        // X's billing layer refused the read (X doc "Pricing": user reads are billed): the token answer still names the user.
        const billing = err instanceof XCreditsDepletedError || err instanceof XUsageCapError;
        if (!billing || this.xOptions.profileFallback !== 'token' || !params.user_id || !params.screen_name) return done(err);
        if (!this.fallbackWarning.warned) {
          this.fallbackWarning.warned = true;
          process.emitWarning(
            `passport-x (${this.name}): X refused account/verify_credentials (${err.code}), so profileFallback: 'token' signs users in with a partial profile (profile.partial === true: no name, photo or e-mail). ` +
              "Add credits, or raise the spending limit, of the app's account in the X Developer Console (console.x.com).",
            { code: 'PASSPORT_X_PROFILE_FALLBACK' },
          );
        }
        done(null, { ...profileFromAccessTokenParams(params), partial: true });
      },
    );
  }

  /** passport-x's errors already say what happened and what to do: pass them through unwrapped. */
  _createOAuthError(message: string, err: unknown): Error {
    return oauthErrorOf(message, err);
  }
}
