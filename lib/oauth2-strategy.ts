/**
 * `XOAuth2PkceStrategy`: "Sign in with X" over the OAuth 2.0 Authorization Code Flow with
 * PKCE (X doc "OAuth 2.0 Authorization Code Flow with PKCE", RFC 6749, RFC 7636), on
 * passport-oauth2. passport-oauth2 runs the callback leg; this class starts the sign-in
 * itself (passport-oauth2 draws its PKCE verifier from the deprecated
 * `crypto.pseudoRandomBytes`), overrides the named steps, and sends every request to X
 * through passport-x's own client (time-outs, typed errors) instead of the `oauth` package.
 */
import { parse as parseURL } from 'node:url';
import { X_API_BASE_URL, X_OAUTH2_AUTHORIZATION_URL, fetchUsersMeThen, normalizeAPIBaseURL, normalizeBaseURL, requestOAuth2TokenThen, usersMeURL, xEndpoints, type OAuth2Client, type XTokenSet } from './endpoints';
import { OAUTH_REQUEST_PROBLEM, XAPIError, XErrorCode, XOAuthError, hasControlCharacter, messageWithoutHint, oauthUserMessage, xAnswerOf } from './errors';
import { resolveTimeout, responseHeader, type XHttpOptions } from './http';
import { failSignIn, inRequestTickOf, storeError, isCallbackToken, refuseSignIn, refusalForSignedIn, runVerify, oauthErrorOf, refuseControlCharacters, requireStringOption, xWords, type OAuth2StrategyBase, type OAuth2StrategyConstructor, type XAuthenticateOptions, type XVerifyCallback } from './passport-base';
import { CODE_CHALLENGE_METHOD, createCodeVerifier, s256 } from './pkce';
import { profileFromV2User, type XProfile } from './profile';
import type { XScope, XUserField } from './scopes';
import { UNRESOLVABLE_CALLBACK_HINT, queryOf, queryParam, resolveCallbackURL, warnOnStart, type HostWarningState, type XAuthRequest, type XIncomingRequest } from './request';
import { XPkceSessionStore, type PkceStateVerified, type XPkceStateMeta, type XPkceStateStore, type XPkceStateStoreWithMeta } from './state/pkce-session';
import { EncryptedCookieStateStore } from './state/encrypted-cookie';
import { PendingBindingCache, pendingMissInfo, type PendingDropped } from './state/pending';
import { XFailureCode, failureOf, failureWithOwnLog, isXFailureInfo, logFailureOnce, type LoggedFailures, type XFailureCodeValue, type XFailureInfo } from './failure';
import { callbackClaimGuard, claimingStore, claimTtlOf, type XReplayGuard } from './state/replay-guard';

const OAuth2Strategy: OAuth2StrategyConstructor = require('passport-oauth2').Strategy;

/** The scopes asked for when the `scope` option is not given. */
export const X_OAUTH2_DEFAULT_SCOPES: readonly XScope[] = Object.freeze(['tweet.read', 'users.read']);

/** `GET /2/users/me` needs both (X doc "GET /2/users/me", "Authentication mapping"). */
const PROFILE_SCOPES = ['tweet.read', 'users.read'];

/** The `user.fields` asked of `users/me` when the `userFields` option is not given. */
export const X_OAUTH2_DEFAULT_USER_FIELDS: readonly XUserField[] = Object.freeze([
  'id',
  'name',
  'username',
  'profile_image_url',
  'url',
  'description',
  'verified',
  'created_at',
  'protected',
]);

/** The authorization request parameters the strategy owns; `authorizationParams()` cannot override them. */
const RESERVED_AUTHORIZATION_PARAMS = new Set(['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method']);

/**
 * How the app authenticates to X's token endpoint (RFC 6749 section 2.1). X's developer portal
 * makes "Web App" and "Automated App or Bot" confidential clients (they get a Client Secret),
 * "Native App" and "Single page App" public clients.
 */
export type XOAuth2ClientType = 'public' | 'confidential';

/**
 * X's token answer (RFC 6749 section 5.1), passed as `params` to a 5- or 6-argument verify
 * callback: X's JSON as it came, plus the validated {@link XTokenSet} as the non-enumerable
 * `tokenSet` (so serialising `params` gives exactly X's answer).
 */
export interface XOAuth2TokenParams {
  /** `'bearer'`, in whatever case X wrote it (X has sent `'Bearer'`). */
  token_type: string;
  /** The access token. */
  access_token: string;
  /**
   * Lifetime of the access token in seconds (X: 7200), as X wrote it: X sends a number (passport-x
   * also accepts a string of decimal digits, which stays a string here). `params.tokenSet.expiresIn`
   * is the validated number, and `params.tokenSet.expiresAt` the expiry.
   */
  expires_in?: number | string;
  /** The scopes granted, space-separated. */
  scope?: string;
  /** Only with the `offline.access` scope. */
  refresh_token?: string;
  /** The same answer, validated and typed, with `expiresAt` computed at receipt (non-enumerable). */
  readonly tokenSet: XTokenSet;
  [key: string]: unknown;
}

/** `skipUserProfile`: a boolean, or a function as passport-oauth2 accepts (sync, or async with `(accessToken, done)`). */
export type XSkipUserProfile = boolean | (() => boolean) | ((accessToken: string, done: (err: Error | null, skip?: boolean) => void) => void);

/** Options of {@link XOAuth2PkceStrategy} common to both verify-callback forms. */
export interface XOAuth2StrategyOptionsBase {
  /** The app's OAuth 2.0 Client ID (X developer portal, "Keys and tokens"). Required. */
  clientID: string;
  /** The OAuth 2.0 Client Secret; only confidential clients (Web App, Automated App or Bot) have one. `undefined` counts as not given. */
  clientSecret?: string | undefined;
  /** `'confidential'` (default when `clientSecret` is given): HTTP Basic client authentication. `'public'` (default otherwise): `client_id` only. */
  clientType?: XOAuth2ClientType | undefined;
  /** Where X sends the user back; must be registered exactly as a Callback URI in the X developer portal. Required. */
  callbackURL: string;
  /** Strategy name for `passport.authenticate` (default `'x-oauth2'`). */
  name?: string | undefined;
  /**
   * X's API host (default `https://api.x.com`); `tokenURL`, `userProfileURL` and, for any host but
   * X's, `authorizationURL` derive from it. Point it at the emulator of `passport-x/testing`
   * (`x.baseURL`) and the whole sign-in stays there.
   */
  baseURL?: string | undefined;
  /**
   * Overrides the consent page. Default: X's, `https://x.com/i/oauth2/authorize`, when `baseURL` is
   * X's API host (or left out); `${baseURL}/i/oauth2/authorize` for any other `baseURL` (the
   * emulator's path), so a local or test X never sends the browser to the real x.com.
   */
  authorizationURL?: string | undefined;
  /** Overrides `${baseURL}/2/oauth2/token`. */
  tokenURL?: string | undefined;
  /** Overrides `${baseURL}/2/users/me`. */
  userProfileURL?: string | undefined;
  /**
   * Scopes to ask for (space-separated string or array; space-joined on the wire). Default `['tweet.read', 'users.read']`.
   * `tweet.read` and `users.read` are added when the profile is loaded, `users.email` with `includeEmail`.
   * Add `offline.access` to get a refresh token. Each scope is an {@link XScope}: the editor completes X's
   * scopes, and any other string still compiles (annotate a list as `XKnownScope[]` to catch typos).
   */
  scope?: XScope | readonly XScope[] | undefined;
  /** Ask X for the user's confirmed e-mail: adds the `users.email` scope and the `confirmed_email` user field. Default false. */
  includeEmail?: boolean | undefined;
  /**
   * `user.fields` of the `users/me` request (array or comma-separated string), each an {@link XUserField}.
   * Default {@link X_OAUTH2_DEFAULT_USER_FIELDS}. `confirmed_email` needs the `users.email` scope: use `includeEmail`.
   */
  userFields?: XUserField | readonly XUserField[] | undefined;
  /** Skip `users/me`; the verify callback then gets `undefined` as the profile. Default false. */
  skipUserProfile?: XSkipUserProfile | undefined;
  /** Session key of the default state store (default `'oauth2:x'`). */
  sessionKey?: string | undefined;
  /** A custom state store (passport-oauth2's PKCE store interface). */
  store?: XPkceStateStore | XPkceStateStoreWithMeta | undefined;
  /**
   * Where callbacks are claimed, so that exactly one request per `state` goes on to X (a double
   * click, a reload or Back send it several times, often at once); every other one fails with 409
   * and `X_SIGN_IN_IN_PROGRESS`. Default: a `MemoryReplayGuard` of this strategy, right for
   * one process. Several app instances: one shared guard, e.g. `new RedisReplayGuard({ client })`.
   */
  replayGuard?: XReplayGuard | undefined;
  /** Trust `X-Forwarded-*` when resolving a relative `callbackURL` (as passport-oauth2's `proxy`). */
  proxy?: boolean | undefined;
  /** Time-out of each request to X, ms (default 10000); also bounds the replay guard's claim. */
  timeoutMs?: number | undefined;
  /** Send requests to X through this `fetch` implementation instead of passport-x's kept-alive `node:http` client. */
  fetch?: typeof fetch | undefined;
}

/** Options of {@link XOAuth2PkceStrategy} with a verify callback that does not take `req`. */
export interface XOAuth2StrategyOptions extends XOAuth2StrategyOptionsBase {
  /** Pass `req` as the first argument of the verify callback. */
  passReqToCallback?: false | undefined;
}

/** Options with `passReqToCallback: true`. */
export interface XOAuth2StrategyOptionsWithRequest extends XOAuth2StrategyOptionsBase {
  /** Pass `req` as the first argument of the verify callback. */
  passReqToCallback: true;
}

/** `(accessToken, refreshToken, profile, done)`; `refreshToken` is `undefined` without `offline.access`. */
export type XOAuth2Verify = (accessToken: string, refreshToken: string | undefined, profile: XProfile, done: XVerifyCallback) => void;
/** `(accessToken, refreshToken, params, profile, done)` */
export type XOAuth2VerifyWithParams = (
  accessToken: string,
  refreshToken: string | undefined,
  params: XOAuth2TokenParams,
  profile: XProfile,
  done: XVerifyCallback,
) => void;
/**
 * `(req, accessToken, refreshToken, profile, done)`, with `passReqToCallback: true`. `req` is your
 * framework's request (Express `Request`, Koa's, Fastify's): typed `any` so you can annotate it as such.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type XOAuth2VerifyWithRequest<Req = any> = (
  req: Req,
  accessToken: string,
  refreshToken: string | undefined,
  profile: XProfile,
  done: XVerifyCallback,
) => void;
/** `(req, accessToken, refreshToken, params, profile, done)`, with `passReqToCallback: true`; `req` as in {@link XOAuth2VerifyWithRequest}. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type XOAuth2VerifyWithRequestAndParams<Req = any> = (
  req: Req,
  accessToken: string,
  refreshToken: string | undefined,
  params: XOAuth2TokenParams,
  profile: XProfile,
  done: XVerifyCallback,
) => void;

/** Per-request options of `passport.authenticate('x-oauth2', { ... })`. */
export interface XOAuth2AuthenticateOptions extends XAuthenticateOptions {
  /** Scopes for this sign-in, instead of the strategy's (the required ones are still added); see {@link XScope}. */
  scope?: XScope | readonly XScope[] | undefined;
}

/** A store's drop() that takes passport-oauth2's `meta` (arity 4), as {@link XPkceSessionStore}'s does. */
type DropWithMeta = (req: XAuthRequest, state: string, meta: XPkceStateMeta, callback: PendingDropped) => void;

/** The token request parameters the strategy owns; `tokenParams()` cannot override them (nor send a client secret in the body). */
const RESERVED_TOKEN_PARAMS = new Set(['grant_type', 'code', 'redirect_uri', 'code_verifier', 'client_id', 'client_secret']);

/** What the callback leg uses of passport-oauth2's strategy. */
interface PassportOAuth2Internals {
  _verify: (...args: unknown[]) => void;
  _passReqToCallback?: boolean;
  _loadUserProfile(accessToken: string, done: (err: Error | null, profile?: unknown) => void): void;
}

/** X's API hosts, whose consent page is X's own (x.com), not one under the API host. */
const X_API_HOSTS = new Set([X_API_BASE_URL, 'https://api.twitter.com']);

/**
 * The consent page when `authorizationURL` is not given: X's for X's API host, else the same path
 * under `baseURL` (as the emulator serves it), so a `baseURL` pointing elsewhere never sends the
 * browser to the real x.com while the token requests go to the other host.
 */
function consentPageFor(baseURL: string | undefined): string {
  if (baseURL === undefined) return X_OAUTH2_AUTHORIZATION_URL;
  const base = normalizeAPIBaseURL(baseURL);
  return X_API_HOSTS.has(base) ? X_OAUTH2_AUTHORIZATION_URL : `${base}/i/oauth2/authorize`;
}

/** A list option (`scope`, `userFields`) as given: a string split on `separator`, or an array of strings. */
function listOption(value: unknown, name: string, separator: RegExp): string[] {
  const parts = typeof value === 'string' ? [value] : Array.isArray(value) ? (value as unknown[]) : undefined;
  if (!parts || parts.some((p) => typeof p !== 'string')) throw new TypeError(`XOAuth2PkceStrategy: \`${name}\` must be a string or an array of strings`);
  return unique((parts as string[]).flatMap((p) => p.split(separator)).filter((p) => p !== ''));
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** A callback parameter as a single string, from the query or a form-posted body (as passport-oauth2 reads `code` and `state`). */
function callbackParam(req: XAuthRequest, name: string, query: Record<string, unknown> | undefined): string | undefined {
  if (query?.[name] !== undefined) return queryParam(query, name);
  const body = req.body;
  return body && typeof body === 'object' ? queryParam(body as Record<string, unknown>, name) : undefined;
}

function hasCallbackParam(req: XAuthRequest, name: string, query: Record<string, unknown> | undefined): boolean {
  const body = req.body;
  return query?.[name] !== undefined || (!!body && typeof body === 'object' && (body as Record<string, unknown>)[name] !== undefined);
}

/** What to do about each error X can put on the callback (RFC 6749 section 4.1.2.1). */
const CALLBACK_ERROR_HINTS: Record<string, string> = {
  invalid_request:
    'Check that `callbackURL` is listed exactly (scheme, host, port and path) as a Callback URI in the app\'s User authentication settings, and that `clientID` is the OAuth 2.0 Client ID, not the API key.',
  unauthorized_client: 'Turn on OAuth 2.0 in the app\'s User authentication settings in the X developer portal, and check `clientID`.',
  invalid_scope: 'Check the `scope` option: each scope must be one X offers (tweet.read, users.read, offline.access, users.email, ...).',
  unsupported_response_type: 'Check the `authorizationURL` option: it must be X\'s OAuth 2.0 consent page.',
  server_error: 'X failed to handle the sign-in: let the user try again later.',
  temporarily_unavailable: 'X is temporarily unavailable: let the user try again later.',
};

/** `value` when it is an https URL (X's `error_uri`), else undefined: a link from the query string is not trusted otherwise. */
function httpsURL(value: string | undefined): string | undefined {
  if (!value || hasControlCharacter(value)) return undefined;
  try {
    return new URL(value).protocol === 'https:' ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A query parameter name or value as the consent page's URL carries it: encodeURIComponent (so
 * scopes are joined by %20, as X's docs show, not by '+'), and `'` as %27, as the WHATWG URL
 * parser encodes it in the query of an http(s) URL.
 */
function queryComponent(value: string): string {
  const encoded = encodeURIComponent(value);
  return encoded.includes("'") ? encoded.replace(/'/g, '%27') : encoded;
}

/** The consent page split around its query; its own parameters (those the strategy does not own), encoded, each after a `&`. */
function splitConsentPage(authorizationURL: string): { prefix: string; ownParams: string; hash: string } {
  const url = new URL(authorizationURL);
  let ownParams = '';
  for (const [key, value] of url.searchParams) {
    if (!RESERVED_AUTHORIZATION_PARAMS.has(key)) ownParams += `&${queryComponent(key)}=${queryComponent(value)}`;
  }
  const hash = url.hash;
  url.hash = '';
  url.search = '';
  return { prefix: url.href, ownParams, hash };
}

// RFC 6749 section 4.1.2.1 error codes are short ASCII words; X's descriptions a sentence. Anyone can
// put anything in the callback's query: these bound what is kept of it in an error.
const MAX_ERROR_CODE_LENGTH = 64;
const MAX_ERROR_DESCRIPTION_LENGTH = 500;
const MAX_ERROR_URI_LENGTH = 2048;

/** Text from the query string, kept: control characters become spaces, and it is cut at `max` characters. */
function boundedText(text: string, max: number): string {
  const clean = text.replace(/\p{Cc}+/gu, ' ');
  return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}

function optionalBoundedText(text: string | undefined, max: number): string | undefined {
  return text === undefined || text === '' ? undefined : boundedText(text, max);
}

/** Text from the query string, made safe for a log line: one line, bounded (see xWords). */
function callbackText(text: string): string {
  return xWords(text) ?? '';
}

// The token endpoint's refusals of an authorization code, set apart from the strategy's other
// errors on their way through passport-oauth2 (which hands every token failure to this.error).
const refusedCodes = new WeakSet<Error>();

/**
 * X's normal refusal of a code: it lives 30 seconds and is single-use (X doc "OAuth 2.0
 * Authorization Code Flow with PKCE"), so a slow consent or a reused callback gets `invalid_grant`
 * (RFC 6749 section 5.2), or from X `invalid_request` ("Value passed for the token was invalid.").
 * An `invalid_request` about the request itself (a missing parameter, the redirect_uri, the client)
 * is the app's configuration, not the code: signing in again would fail the same way, so it stays
 * an error. A 5xx or a network failure is X failing, not refusing: those stay errors too.
 */
function isCodeRefusal(err: Error): err is XOAuthError {
  if (!(err instanceof XOAuthError) || err.status === undefined || err.status >= 500) return false;
  if (err.error === 'invalid_grant') return true;
  return err.error === 'invalid_request' && (err.description === undefined || !OAUTH_REQUEST_PROBLEM.test(err.description));
}

/** The failure of a code X refused: "This sign-in took too long or was already used. Sign in again." (401), with X's words in the hint. */
function codeRefusedInfo(err: Error): XFailureInfo | undefined {
  if (!refusedCodes.has(err) || !(err instanceof XOAuthError)) return undefined;
  const words = xWords(err.description);
  return failureOf(
    XFailureCode.GRANT_REFUSED,
    `X's token endpoint refused the authorization code (HTTP ${err.status} ${xWords(err.error) ?? ''}${words ? `: "${words}"` : ''}). ` +
      'X\'s codes live 30 seconds from the moment the user authorizes, and work once: something held the callback up for longer than that between X\'s redirect and this request to X (a slow proxy, a debugger paused, a callback link opened again later), or the callback was used twice (a reload, the back button, a double click). ' +
      'The strategy lets one copy of a callback through per replay guard: if the app runs as several instances, each with its own (the default), a copy reaching another instance is sent to X too; ' +
      'X then refuses it and revokes the tokens of the first (whose next request gets a 401). Give every instance one shared guard: replayGuard: new RedisReplayGuard({ client }). ' +
      'If every sign-in fails this way, check that `callbackURL` is exactly the redirect_uri of the consent page and that the client ID and type match the app in the X developer portal.',
  );
}

/**
 * users/me refusing with a 401 the access token X issued a moment before: X revokes the tokens of a
 * code exchanged twice (RFC 6749 section 4.1.2), so the likely cause is another copy of this
 * callback that reached X, not the app's keys, which the generic 401 hint names first.
 */
function profileRefusedAfterExchange(err: Error): Error {
  if (!(err instanceof XAPIError) || err.status !== 401 || err.code !== XErrorCode.API_ERROR) return err;
  const hint =
    'X refused the access token it had just issued for this sign-in. X revokes the tokens of a code that is exchanged twice, so another copy of this callback most likely reached X as well: ' +
    'if the app runs as several instances, they must share one replay guard (the default is one per process): replayGuard: new RedisReplayGuard({ client }). ' +
    'Otherwise check the app\'s keys and permissions in the X developer portal.';
  // What X said, without the generic 401 hint the message ends with: this one replaces it.
  return new XAPIError(`${messageWithoutHint(err)} ${hint}`, { ...xAnswerOf(err), userMessage: err.userMessage, hint });
}

/**
 * "Sign in with X" over OAuth 2.0 with PKCE.
 *
 * @example
 * ```ts
 * passport.use(new XOAuth2PkceStrategy({
 *   clientID: process.env.X_CLIENT_ID!,
 *   clientSecret: process.env.X_CLIENT_SECRET!,
 *   callbackURL: 'http://127.0.0.1:3000/auth/x/callback',
 *   scope: ['tweet.read', 'users.read', 'offline.access'],
 * }, (accessToken, refreshToken, profile, done) => done(null, { id: profile.id, name: profile.displayName })));
 *
 * app.get('/auth/x', passport.authenticate('x-oauth2'));
 * app.get('/auth/x/callback', passport.authenticate('x-oauth2', { failureRedirect: '/' }), (req, res) => res.redirect('/'));
 * ```
 */
export class XOAuth2PkceStrategy extends OAuth2Strategy implements OAuth2StrategyBase {
  /** How this app authenticates to X's token endpoint. */
  readonly clientType: XOAuth2ClientType;
  private readonly callbackURL: string;
  private readonly trustProxy: boolean | undefined;
  // A getter (set in the constructor): the client secret stays out of JSON and util.inspect(strategy),
  // showHidden included, which prints a getter as [Getter]. Not a #private field: Passport calls
  // authenticate() on an Object.create() copy of the strategy per request, which has none.
  declare private readonly client: OAuth2Client;
  private readonly http: XHttpOptions;
  private readonly authorizationEndpoint: string;
  private readonly tokenEndpoint: string;
  private readonly scopes: readonly string[];
  private readonly requiredScopes: readonly string[];
  private readonly userFields: readonly string[];
  private readonly stateStore: XPkceStateStore | XPkceStateStoreWithMeta;
  private readonly hostWarning: HostWarningState = { warnedHosts: new Set() };
  /** Whether the pending sign-in rides the session (not `EncryptedCookieStateStore`'s own cookie). */
  private readonly pendingInSession: boolean;
  /** This strategy's pending-state binding per redirect URI, computed once (passport's per-request copies share it). */
  private readonly bindings = new PendingBindingCache('oauth2');
  /** The failure codes whose hint this instance has logged (once each), shared with the replay guard's claim. */
  private readonly loggedFailures: LoggedFailures;
  /** Whether `callbackURL` is absolute; a relative one is resolved against each request. */
  private readonly callbackURLIsAbsolute: boolean;
  /** The `scope` parameter, encoded, for a request that asks for no scopes of its own. */
  private readonly defaultScopeParam: string;
  /** The consent page around its query (`${prefix}?${query}${hash}`), and its own query parameters, encoded: fixed, so split once. */
  private readonly consentPage: { prefix: string; ownParams: string; hash: string };
  /** `users/me` with its `user.fields`, fixed at construction. */
  private readonly profileURLWithFields: string;
  /** The store's verify() through the replay guard's claim: `meta` goes to a 4-argument verify(), as passport-oauth2 would pass it. */
  private readonly claimingVerify: (req: XAuthRequest, providedState: string, meta: XPkceStateMeta, callback: PkceStateVerified) => void;

  constructor(options: XOAuth2StrategyOptions, verify: XOAuth2Verify);
  constructor(options: XOAuth2StrategyOptions, verify: XOAuth2VerifyWithParams);
  constructor(options: XOAuth2StrategyOptionsWithRequest, verify: XOAuth2VerifyWithRequest);
  constructor(options: XOAuth2StrategyOptionsWithRequest, verify: XOAuth2VerifyWithRequestAndParams);
  constructor(options: XOAuth2StrategyOptions | XOAuth2StrategyOptionsWithRequest, verify: (...args: never[]) => void) {
    if (!options || typeof options !== 'object') throw new TypeError('XOAuth2PkceStrategy requires an options object');
    const opts = options as unknown as Record<string, unknown>;
    requireStringOption(opts, 'clientID', 'XOAuth2PkceStrategy');
    requireStringOption(opts, 'callbackURL', 'XOAuth2PkceStrategy');
    if (typeof verify !== 'function') throw new TypeError('XOAuth2PkceStrategy requires a verify callback');

    const secret = options.clientSecret;
    if (secret !== undefined && (typeof secret !== 'string' || secret === '')) {
      throw new TypeError('XOAuth2PkceStrategy: `clientSecret` must be a non-empty string; leave it out for a public client (Native App or Single page App).');
    }
    if (secret !== undefined) refuseControlCharacters(secret, 'clientSecret', 'XOAuth2PkceStrategy');
    const clientType = options.clientType ?? (secret !== undefined ? 'confidential' : 'public');
    if (clientType !== 'public' && clientType !== 'confidential') throw new TypeError("XOAuth2PkceStrategy: `clientType` must be 'public' or 'confidential'");
    if (clientType === 'confidential' && secret === undefined) {
      throw new TypeError(
        "XOAuth2PkceStrategy: clientType 'confidential' requires the `clientSecret` option (the OAuth 2.0 Client Secret under \"Keys and tokens\" in the X developer portal). " +
          "A Native App or Single page App has no secret: use clientType 'public'.",
      );
    }
    if (options.skipUserProfile !== undefined && typeof options.skipUserProfile !== 'boolean' && typeof options.skipUserProfile !== 'function') {
      throw new TypeError('XOAuth2PkceStrategy: `skipUserProfile` must be a boolean or a function');
    }

    const timeoutMs = resolveTimeout(options.timeoutMs);
    const urls = xEndpoints(options.baseURL);
    const authorizationURL = options.authorizationURL ? normalizeBaseURL(options.authorizationURL, 'authorizationURL') : consentPageFor(options.baseURL);
    const tokenURL = options.tokenURL ? normalizeBaseURL(options.tokenURL, 'tokenURL') : urls.oauth2Token;
    const profileURL = options.userProfileURL ? normalizeBaseURL(options.userProfileURL, 'userProfileURL') : urls.usersMe;

    const scopes = options.scope === undefined ? [...X_OAUTH2_DEFAULT_SCOPES] : listOption(options.scope, 'scope', /\s+/);
    // X answers users/me only to a token with tweet.read and users.read; confirmed_email needs users.email.
    const requiredScopes = [...(options.skipUserProfile === true ? [] : PROFILE_SCOPES), ...(options.includeEmail ? ['users.email'] : [])];
    if (unique([...scopes, ...requiredScopes]).length === 0) throw new TypeError('XOAuth2PkceStrategy: `scope` is empty; X requires at least one scope.');
    const fields = options.userFields === undefined ? [...X_OAUTH2_DEFAULT_USER_FIELDS] : listOption(options.userFields, 'userFields', /\s*,\s*/);
    const userFields = unique([...fields, ...(options.includeEmail ? ['confirmed_email'] : [])]);

    const store = options.store ?? new XPkceSessionStore({ key: options.sessionKey ?? 'oauth2:x' });
    if (typeof store !== 'object' || store === null || typeof store.store !== 'function' || typeof store.verify !== 'function') {
      throw new TypeError('XOAuth2PkceStrategy: `store` must be an object with store(req, verifier, state, meta, cb) and verify(req, state, cb) methods');
    }
    const name = options.name ?? 'x-oauth2';
    const loggedFailures: LoggedFailures = new Set();
    // passport-oauth2 verifies the callback's state through this view of the store, which then claims it: one request per state goes on to X.
    const claiming = claimingStore(store, 'verify', ['store'], {
      ...callbackClaimGuard(options.replayGuard, 'XOAuth2PkceStrategy', { protocol: 'oauth2', strategy: name, client: options.clientID, redirectURI: options.callbackURL }),
      ttlMs: claimTtlOf(store),
      timeoutMs,
      what: 'state',
      onLost: (info) => logFailureOnce(loggedFailures, name, info),
    });

    // No `pkce` and no `state` option: the start leg is ours (see authenticate), and passport-oauth2
    // only ever calls the store's verify(). The client secret stays out of the `oauth` client.
    super(
      {
        authorizationURL,
        tokenURL,
        clientID: options.clientID,
        callbackURL: options.callbackURL,
        passReqToCallback: options.passReqToCallback,
        skipUserProfile: options.skipUserProfile,
        sessionKey: options.sessionKey ?? 'oauth2:x',
        store: claiming,
        proxy: options.proxy,
      },
      verify,
    );
    this.name = name;
    this.loggedFailures = loggedFailures;
    this.clientType = clientType;
    this.callbackURL = options.callbackURL;
    this.trustProxy = options.proxy;
    const client: OAuth2Client = { clientID: options.clientID, clientSecret: clientType === 'confidential' ? secret : undefined };
    Object.defineProperty(this, 'client', { get: () => client, enumerable: false });
    this.http = { timeoutMs, fetch: options.fetch };
    this.authorizationEndpoint = authorizationURL;
    this.tokenEndpoint = tokenURL;
    this.scopes = scopes;
    this.requiredScopes = requiredScopes;
    this.callbackURLIsAbsolute = !!parseURL(options.callbackURL).protocol;
    this.defaultScopeParam = queryComponent(unique([...scopes, ...requiredScopes]).join(' '));
    this.consentPage = splitConsentPage(authorizationURL);
    this.profileURLWithFields = usersMeURL(profileURL, userFields);
    this.userFields = userFields;
    this.stateStore = store;
    // The sign-in in its own cookie: a Secure session cookie on http loses only the login session.
    this.pendingInSession = !(store instanceof EncryptedCookieStateStore);
    // The callback leg hands the store a meta with this strategy's binding, so the store matches the
    // callback against what this strategy (name, client, redirect_uri) started; then the claiming view
    // claims the state it accepted. By the store's arity, as passport-oauth2 calls it.
    const claimingVerify = (claiming as { verify: (...args: unknown[]) => void }).verify;
    this.claimingVerify =
      claimingVerify.length >= 4
        ? (req, providedState, meta, cb) => claimingVerify(req, providedState, meta, cb)
        : (req, providedState, _meta, cb) => claimingVerify(req, providedState, cb);
  }

  /**
   * `POST 2/oauth2/token` with the authorization code (RFC 6749 section 4.1.3, RFC 7636 section 4.5):
   * `grant_type`, `code`, `redirect_uri`, `code_verifier`, then `extra` (tokenParams()), and the
   * client authenticated as its type requires. Calls back as passport-oauth2's `oauth` client would.
   */
  private exchangeCode(
    code: string,
    redirectURI: string | undefined,
    codeVerifier: unknown,
    extra: Record<string, unknown> | undefined,
    cb: (err: unknown, accessToken?: string, refreshToken?: string, params?: Record<string, unknown>) => void,
  ): void {
    if (typeof codeVerifier !== 'string' || codeVerifier === '') {
      return cb(
        new TypeError(
          'The state store accepted the callback\'s state but returned no PKCE code verifier, and X requires one (RFC 7636 section 4.5). A custom `store` must answer verify() with the verifier it was given in store().',
        ),
      );
    }
    const grant: Record<string, string> = { grant_type: 'authorization_code', code };
    if (redirectURI !== undefined) grant.redirect_uri = redirectURI;
    grant.code_verifier = codeVerifier;
    if (extra) {
      for (const key in extra) if (Object.hasOwn(extra, key) && !RESERVED_TOKEN_PARAMS.has(key)) grant[key] = extra[key] as string;
    }
    requestOAuth2TokenThen(
      this.tokenEndpoint,
      this.client,
      grant,
      this.http,
      'exchange the authorization code for an access token',
      ({ tokens, params: answer }) => {
        Object.defineProperty(answer, 'tokenSet', { value: tokens, enumerable: false });
        cb(null, tokens.accessToken, tokens.refreshToken, answer);
      },
      (err) => {
        if (isCodeRefusal(err)) refusedCodes.add(err);
        cb(err);
      },
    );
  }

  /**
   * Starts the sign-in (no `code` and no `error` on the request): a fresh PKCE verifier and
   * S256 challenge, a `state` from the store, and a redirect to X's consent page. On the
   * callback, handles `?error=` itself and refuses malformed callbacks, then lets
   * passport-oauth2 verify the state, exchange the code, load the profile and call verify.
   */
  override authenticate(incoming: XIncomingRequest, options: XOAuth2AuthenticateOptions = {}): void {
    inRequestTickOf(this, this.authenticateRequest, incoming as XAuthRequest, options);
  }

  /** {@link XOAuth2PkceStrategy.authenticate}'s work, in the request's own tick. */
  private authenticateRequest(req: XAuthRequest, options: XOAuth2AuthenticateOptions): void {
    // Read once: Express 5 parses the query string again on every read of req.query.
    const query = queryOf(req);
    if (query?.error !== undefined) return this.authorizationError(req, options, query);
    if (hasCallbackParam(req, 'code', query)) {
      const code = callbackParam(req, 'code', query);
      const state = callbackParam(req, 'state', query);
      if (!code || !state) {
        return this.failWith(
          XFailureCode.CALLBACK_MALFORMED,
          'The X sign-in callback is missing its code or state parameter, or repeats one. X always sends one of each: this request did not come from X\'s consent page, or something in between dropped the query string.',
        );
      }
      if (!isCallbackToken(code)) {
        return this.failWith(
          XFailureCode.CALLBACK_MALFORMED,
          'The X sign-in callback\'s code is not one X sends (over 1024 characters, or with a space, a control or a non-ASCII character): this request did not come from X\'s consent page. Nothing was used up or sent to X.',
        );
      }
      return this.completeSignIn(req, options, code, state);
    }
    this.startAuthorization(req, options);
  }

  /**
   * The callback leg, as passport-oauth2 runs it (the same store call, token request, profile
   * hooks, verify arities and `info.state`), without its per-request URL parse and repeated
   * `req.query` reads: the store (through the replay guard's claim) gives the code verifier, X
   * the tokens, `userProfile()` the profile, and the verify callback the user.
   */
  private completeSignIn(req: XAuthRequest, options: XOAuth2AuthenticateOptions, code: string, state: string): void {
    // passport-oauth2 took `options.callbackURL || this._callbackURL` on this leg.
    const callbackURL = this.resolvedCallbackURL(req, options.callbackURL || this.callbackURL);
    if (callbackURL === undefined) return;
    // A closure made per callback only passes on to a method: V8 drops the optimised code of a
    // function whose every closure died, so the work lives where it stays compiled.
    let answered = false;
    const loaded: PkceStateVerified = (err, codeVerifier, appState) => {
      answered = true;
      this.stateLoaded(req, options, code, callbackURL, err, codeVerifier, appState);
    };
    try {
      this.claimingVerify(req, state, this.metaFor(callbackURL), loaded);
    } catch (ex) {
      this.failed(storeError(answered, ex));
    }
  }

  /** The store's answer on the callback leg (through the replay guard's claim): on to the token request, or the refusal. */
  private stateLoaded(
    req: XAuthRequest,
    options: XOAuth2AuthenticateOptions,
    code: string,
    callbackURL: string,
    err: Error | null,
    codeVerifier: string | false | undefined,
    appState: unknown,
  ): void {
    if (err) return this.failed(err);
    // A refusal of the store, or the claim another request holds: an XFailureInfo gets its code's
    // status (409 for the lost claim, 403 for a miss); a custom store's own challenge gets 403.
    if (!codeVerifier) return this.refuse(refusalForSignedIn(req, appState), 403);
    let extra: Record<string, string>;
    try {
      extra = this.tokenParams(options);
    } catch (ex) {
      return this.failed(ex as Error);
    }
    this.exchangeCode(code, callbackURL, codeVerifier, extra, (tokenErr, accessToken, refreshToken, params) => {
      if (tokenErr) return this.failed(this._createOAuthError('Failed to obtain access token', tokenErr), appState);
      this.verifyUser(req, accessToken as string, refreshToken, params as XOAuth2TokenParams, appState);
    });
  }

  /** Loads the profile (unless `skipUserProfile`), then hands everything to the verify callback by its arity, as passport-oauth2 does. */
  private verifyUser(req: XAuthRequest, accessToken: string, refreshToken: string | undefined, params: XOAuth2TokenParams, appState: unknown): void {
    const internals = this as unknown as PassportOAuth2Internals;
    internals._loadUserProfile(accessToken, (err, profile) => {
      if (err) return this.failed(profileRefusedAfterExchange(err), appState);
      runVerify(this, this.loggedFailures, codeRefusedInfo, internals._verify, internals._passReqToCallback, req, [accessToken, refreshToken], params, profile, appState);
    });
  }

  /** Loads the profile from `GET /2/users/me` with the `user.fields` of the options. */
  override userProfile(accessToken: string, done: (err: Error | null, profile?: XProfile) => void): void {
    fetchUsersMeThen(
      accessToken,
      this.userFields,
      this.http,
      this.profileURLWithFields,
      // A throw in the mapping goes to the error path (sendToXThen's guarantee), never escapes.
      ({ data, raw }) => done(null, profileFromV2User(data, raw.body, responseHeader(raw, 'x-access-level'))),
      (err) => done(err),
    );
  }

  /** passport-x's errors already say what happened and what to do: pass them through unwrapped. */
  _createOAuthError(message: string, err: unknown): Error {
    return oauthErrorOf(message, err);
  }

  /** Refuses this sign-in through Passport's `fail`: an {@link XFailureInfo} with its code's status and its hint logged once (see {@link refuseSignIn}). */
  private refuse(challenge?: unknown, status?: number): void {
    refuseSignIn(this, this.loggedFailures, challenge, status);
  }

  /** Ends this sign-in through Passport's `error`, or as a failure when it is X's normal refusal of the grant (see {@link failSignIn}). */
  private failed(err: Error, appState?: unknown): void {
    failSignIn(this, this.loggedFailures, codeRefusedInfo, err, appState);
  }

  /** Fails this sign-in with an {@link XFailureInfo}: the person's message for `code`, the developer's `hint`, the code's status. */
  private failWith(code: XFailureCodeValue, hint: string): void {
    this.refuse(failureOf(code, hint));
  }

  /** The scopes of one sign-in: the request's or the strategy's, plus the ones the strategy needs. */
  private scopesFor(requested: unknown): string[] {
    const scopes = requested === undefined ? [...this.scopes] : listOption(requested, 'scope', /\s+/);
    const all = unique([...scopes, ...this.requiredScopes]);
    if (all.length === 0) throw new TypeError('XOAuth2PkceStrategy: the `scope` of this request is empty; X requires at least one scope.');
    return all;
  }

  private startAuthorization(req: XAuthRequest, options: XOAuth2AuthenticateOptions): void {
    warnOnStart(req, options.callbackURL || this.callbackURL, this.name, this.hostWarning, this.trustProxy, this.pendingInSession, options.session !== false);
    const callbackURL = this.resolvedCallbackURL(req, options.callbackURL || this.callbackURL);
    if (callbackURL === undefined) return;

    let scopeParam: string;
    let extra: Record<string, string>;
    try {
      scopeParam = options.scope === undefined ? this.defaultScopeParam : queryComponent(this.scopesFor(options.scope).join(' '));
      extra = this.authorizationParams(options);
    } catch (err) {
      return this.failed(err as Error);
    }
    // RFC 7636 section 4.1-4.2: a fresh verifier per sign-in, only its S256 hash goes to X.
    const codeVerifier = createCodeVerifier();
    // createCodeVerifier() makes 43 unreserved characters: hashed without codeChallengeS256's check of a caller's verifier.
    const codeChallenge = s256(codeVerifier);
    const meta: XPkceStateMeta = {
      authorizationURL: this.authorizationEndpoint,
      tokenURL: this.tokenEndpoint,
      clientID: this.client.clientID,
      callbackURL,
      binding: this.bindingFor(callbackURL),
    };

    // Passes on to a method, as `loaded` in completeSignIn.
    let answered = false;
    const stored = (err: Error | null, handle?: string): void => {
      answered = true;
      this.redirectToConsent(err, handle, callbackURL, scopeParam, codeChallenge, extra);
    };

    try {
      this.stateStore.store(req, codeVerifier, options.state, meta, stored);
    } catch (err) {
      this.failed(storeError(answered, err));
    }
  }

  /**
   * The store's answer on the start leg: the redirect to X's consent page with the `state` it
   * issued. A store may call back outside any try (asynchronously): a throw here (a `state` or an
   * `authorizationParams()` value that cannot be percent-encoded, a lone surrogate) goes to the error
   * path, never to `uncaughtException`.
   */
  private redirectToConsent(err: Error | null, handle: string | undefined, callbackURL: string, scopeParam: string, codeChallenge: string, extra: Record<string, string>): void {
    if (err) return this.failed(err);
    if (typeof handle !== 'string' || handle === '') {
      return this.failed(new TypeError('The state store answered no `state` value for the X sign-in. A custom `store` must call back (null, state) from store().'));
    }
    try {
      this.redirectWithState(handle, callbackURL, scopeParam, codeChallenge, extra);
    } catch (ex) {
      this.failed(ex instanceof Error ? ex : new TypeError(String(ex)));
    }
  }

  private redirectWithState(handle: string, callbackURL: string, scopeParam: string, codeChallenge: string, extra: Record<string, string>): void {
    const page = this.consentPage;
    // The strategy's parameters first, then the consent page's own, then authorizationParams()'s.
    let query =
      `response_type=code&client_id=${queryComponent(this.client.clientID)}&redirect_uri=${queryComponent(callbackURL)}&scope=${scopeParam}` +
      `&state=${queryComponent(handle)}&code_challenge=${codeChallenge}&code_challenge_method=${CODE_CHALLENGE_METHOD}${page.ownParams}`;
    for (const key in extra) {
      if (Object.hasOwn(extra, key) && !RESERVED_AUTHORIZATION_PARAMS.has(key)) query += `&${queryComponent(key)}=${queryComponent(String(extra[key]))}`;
    }
    this.redirect(`${page.prefix}?${query}${page.hash}`);
  }

  /**
   * `?error=` on the callback: the user pressed Cancel (`access_denied`), or X refused the request.
   * X's error is only believed for a `state` this session issued: anyone can link to the callback
   * with `?error=...`, and it must not become a server error or put a stranger's text in front of users.
   * `query` is the request's, as {@link queryOf} read it.
   */
  private authorizationError(req: XAuthRequest, options: XOAuth2AuthenticateOptions, query: Record<string, unknown>): void {
    const error = queryParam(query, 'error');
    if (error === undefined || error === '') {
      return this.failWith(XFailureCode.CALLBACK_MALFORMED, 'The X sign-in callback carries a malformed `error` parameter (empty, repeated or not a string): it did not come from X.');
    }
    const cancelled = (): void =>
      this.failWith(XFailureCode.ACCESS_DENIED, 'The user pressed Cancel on X\'s consent page (error=access_denied, RFC 6749 section 4.1.2.1). Nothing to fix; offer to sign in again.');
    // Only for a state this session issued: X's own error, its text capped and stripped of control characters.
    const believed = (): void => {
      if (error === 'access_denied') return cancelled();
      const code = boundedText(error, MAX_ERROR_CODE_LENGTH);
      const description = optionalBoundedText(queryParam(query, 'error_description'), MAX_ERROR_DESCRIPTION_LENGTH);
      // A link is kept whole or not at all: a cut URL would point somewhere else.
      const rawURI = queryParam(query, 'error_uri');
      const uri = rawURI !== undefined && rawURI.length <= MAX_ERROR_URI_LENGTH ? httpsURL(rawURI) : undefined;
      const said = `${callbackText(code)}${description ? ` (${callbackText(description)})` : ''}`;
      if (!Object.hasOwn(CALLBACK_ERROR_HINTS, error)) {
        // None of RFC 6749's codes: X does not send it, but whoever holds this state (their own
        // session's) can. A failure (403), not a server error. (RFC 6749's own codes stay errors: an app
        // whose set-up is wrong must hear of it, even though such a visitor can send those too.)
        // Logged apart from the untrusted drop() below, which shares the code: neither hides the other's line.
        return this.refuse(
          failureWithOwnLog(
            XFailureCode.AUTHORIZATION_REFUSED,
            `The X sign-in callback came back with the error ${said}, none of the codes of RFC 6749 section 4.1.2.1, which X does not send: refused as a failure, not an error. ` +
              'If X did send it, check the app\'s User authentication settings in the X developer portal.',
            'unknown error code',
          ),
        );
      }
      this.failed(new XOAuthError(`X did not authorize the sign-in and sent the user back with the error ${said}. ${CALLBACK_ERROR_HINTS[error]}`, { error: code, description, uri, userMessage: oauthUserMessage(error, description) }));
    };
    const state = queryParam(query, 'state');
    const store = this.stateStore;
    if (!state) {
      // Only a callback without any state may still be the user's Cancel: an empty or repeated one is not X's.
      if (error === 'access_denied' && query.state === undefined) return cancelled();
      return this.failWith(XFailureCode.CALLBACK_MALFORMED, 'The X sign-in callback carries an error but no state (or an empty or repeated one), so it cannot be matched to a sign-in of this session: X always sends the state back (RFC 6749 section 4.1.2.1).');
    }
    // Relative callbackURL and a host that cannot form a URL: already refused.
    const meta = this.callbackMeta(req, options);
    if (meta === undefined) return;
    let answered = false;
    try {
      if (store.drop) {
        // The sign-in is over either way: forget its verifier now rather than at expiry.
        const dropped: PendingDropped = (err, found, info) => {
          answered = true;
          if (err) return this.failed(err);
          if (found === true) return believed();
          if (found === false) return this.refuse(isXFailureInfo(info) ? info : pendingMissInfo('unknown', 'state'));
          // A drop() that does not say whether the state was pending cannot vouch for X's error text.
          if (error === 'access_denied') return cancelled();
          this.failWith(
            XFailureCode.AUTHORIZATION_REFUSED,
            'X (or someone linking to the callback) sent the user back with an OAuth error, and the state store\'s drop() did not say whether the state was one this session issued, so the error is not trusted. ' +
              'Make drop() call back (null, found) with found true or false.',
          );
        };
        // A 4-argument drop() gets the meta with the binding, as verify() does.
        if (store.drop.length >= 4) (store.drop as unknown as DropWithMeta).call(store, req, state, meta, dropped);
        else store.drop(req, state, dropped);
        return;
      }
      // No drop(): verify() tells whether this session issued the state, and consumes it (the sign-in is over).
      const verified: PkceStateVerified = (err, verifier, info) => {
        answered = true;
        if (err) return this.failed(err);
        if (typeof verifier === 'string' && verifier !== '') return believed();
        this.refuse(isXFailureInfo(info) ? info : pendingMissInfo('unknown', 'state'));
      };
      this.verifyState(req, state, meta, verified);
    } catch (err) {
      this.failed(storeError(answered, err));
    }
  }

  /** The `meta` passport-oauth2 hands a state store on the callback leg, for the same request, with this strategy's binding. */
  private callbackMeta(req: XAuthRequest, options: XOAuth2AuthenticateOptions): XPkceStateMeta | undefined {
    const callbackURL = this.resolvedCallbackURL(req, options.callbackURL || this.callbackURL);
    return callbackURL === undefined ? undefined : this.metaFor(callbackURL);
  }

  /**
   * `callbackURL` as sent as redirect_uri: as it is when absolute, else resolved against this
   * request's URL as passport-oauth2 does (`proxy` trusting X-Forwarded-*). The strategy's own
   * callbackURL was checked once, at construction.
   */
  private resolvedCallbackURL(req: XAuthRequest, callbackURL: string): string | undefined {
    const absolute = callbackURL === this.callbackURL ? this.callbackURLIsAbsolute : !!parseURL(callbackURL).protocol;
    if (absolute) return callbackURL;
    const resolved = resolveCallbackURL(req, callbackURL, this.trustProxy);
    // The request's host cannot form a URL (missing, or hostile): a malformed request, refused (400).
    if (resolved === undefined) this.failWith(XFailureCode.CALLBACK_MALFORMED, UNRESOLVABLE_CALLBACK_HINT);
    return resolved;
  }

  /** The `meta` of a sign-in whose redirect_uri is `callbackURL`, with this strategy's binding. */
  private metaFor(callbackURL: string): XPkceStateMeta {
    return { authorizationURL: this.authorizationEndpoint, tokenURL: this.tokenEndpoint, clientID: this.client.clientID, callbackURL, binding: this.bindingFor(callbackURL) };
  }

  /** What binds a pending sign-in to this strategy: its name, client ID and the sign-in's redirect_uri. */
  private bindingFor(redirectURI: string): string {
    return this.bindings.of(this.name, this.client.clientID, redirectURI);
  }

  /** The store's verify(), by its arity as passport-oauth2 calls it; `meta` (from callbackMeta) carries this strategy's binding. */
  private verifyState(req: XAuthRequest, providedState: string, meta: XPkceStateMeta, callback: PkceStateVerified): void {
    const store = this.stateStore;
    if (store.verify.length >= 4) (store as XPkceStateStoreWithMeta).verify(req, providedState, meta, callback);
    else (store as XPkceStateStore).verify(req, providedState, callback);
  }
}
