/**
 * X's endpoints: their URLs, derived from one `baseURL`, and one function per call, each
 * validating X's answer before anything uses it. Both strategies and every helper call
 * X through this module, and so through the one HTTP client in `http.ts`.
 *
 * Sources: X docs "Obtaining access tokens using 3-legged OAuth flow", "OAuth 2.0
 * Authorization Code Flow with PKCE", "Application-only authentication", RFC 6749, RFC 7009.
 */
import { XAPIError, XErrorCode, XMissingScopesError, XRequestError, hasControlCharacter, hasLoneSurrogate, messageWithoutHint, missingScopesHint, redactedAnswer, xAnswerOf, type XRawResponse, type XRedactable } from './errors';
import { failSoon, invalidResponse, parseJSONObject, sendToX, sendToXThen, type XHttpOptions, type XHttpRequest } from './http';
import { formEncodeOAuth, signOwnRequest, type OAuthParamList } from './oauth1-signature';
import { X_USER_FIELD_SCOPES, type XKnownUserField } from './scopes';

/** X's API host. Every endpoint but the OAuth 2.0 consent page hangs off it. */
export const X_API_BASE_URL = 'https://api.x.com';

/** X's OAuth 2.0 consent page. */
export const X_OAUTH2_AUTHORIZATION_URL = 'https://x.com/i/oauth2/authorize';

/** Every X URL passport-x uses. */
export interface XEndpoints {
  /** `POST /oauth/request_token` */
  requestToken: string;
  /** `GET /oauth/authenticate` ("Sign in with X") */
  authenticate: string;
  /** `GET /oauth/authorize` (always asks the user) */
  authorize: string;
  /** `POST /oauth/access_token` */
  accessToken: string;
  /** `GET /1.1/account/verify_credentials.json` */
  verifyCredentials: string;
  /** `POST /1.1/oauth/invalidate_token` */
  invalidateAccessToken: string;
  /** `POST /oauth2/token` (app-only bearer token) */
  bearerToken: string;
  /** `POST /oauth2/invalidate_token` */
  invalidateBearerToken: string;
  /** `POST /2/oauth2/token` */
  oauth2Token: string;
  /** `POST /2/oauth2/revoke` */
  oauth2Revoke: string;
  /** `GET /2/users/me` */
  usersMe: string;
}

/**
 * Checks that `baseURL` is an absolute http(s) URL and returns it without a trailing slash. A
 * control character (a CR or LF pasted with it) is refused: the URL parser would drop a tab or line
 * break silently, or keep it percent-encoded, and the requests would go somewhere else than meant.
 */
export function normalizeBaseURL(baseURL: unknown, name = 'baseURL'): string {
  if (typeof baseURL !== 'string' || baseURL === '') throw new TypeError(`passport-x: \`${name}\` must be an absolute http(s) URL`);
  if (hasControlCharacter(baseURL)) throw new TypeError(`passport-x: \`${name}\` contains a control character (CR, LF, tab, NUL, ...); write it again without one.`);
  let url: URL;
  try {
    url = new URL(baseURL);
  } catch {
    throw new TypeError(`passport-x: \`${name}\` must be an absolute http(s) URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`passport-x: \`${name}\` must be an absolute http(s) URL`);
  return url.href.replace(/\/+$/, '');
}

/**
 * {@link normalizeBaseURL} for a base the endpoint paths are appended to: an origin and an optional
 * path, without `?query` or `#fragment`, which would swallow the paths appended after them (the
 * request, with its credentials, would go to the base's own path).
 */
export function normalizeAPIBaseURL(baseURL: unknown, name = 'baseURL'): string {
  const base = normalizeBaseURL(baseURL, name);
  if (/[?#]/.test(base)) throw new TypeError(`passport-x: \`${name}\` must be an origin and an optional path, without a ?query or #fragment (the endpoint paths are appended to it)`);
  return base;
}

/**
 * X's endpoint URLs under `baseURL` (default `https://api.x.com`). Point `baseURL` at the
 * emulator of `passport-x/testing` to run against a local X.
 */
export function xEndpoints(baseURL: string = X_API_BASE_URL): XEndpoints {
  const base = normalizeAPIBaseURL(baseURL);
  return {
    requestToken: `${base}/oauth/request_token`,
    authenticate: `${base}/oauth/authenticate`,
    authorize: `${base}/oauth/authorize`,
    accessToken: `${base}/oauth/access_token`,
    verifyCredentials: `${base}/1.1/account/verify_credentials.json`,
    invalidateAccessToken: `${base}/1.1/oauth/invalidate_token`,
    bearerToken: `${base}/oauth2/token`,
    invalidateBearerToken: `${base}/oauth2/invalidate_token`,
    oauth2Token: `${base}/2/oauth2/token`,
    oauth2Revoke: `${base}/2/oauth2/revoke`,
    usersMe: `${base}/2/users/me`,
  };
}

// ---------------------------------------------------------------- OAuth 1.0a

/** The app's OAuth 1.0a credentials. */
export interface OAuth1Consumer {
  consumerKey: string;
  consumerSecret: string;
}

function requireFields(raw: XRawResponse, operation: string, fields: URLSearchParams | Record<string, unknown>, names: string[]): void {
  for (const name of names) {
    const value = fields instanceof URLSearchParams ? fields.get(name) : fields[name];
    if (typeof value !== 'string' || value === '') throw invalidResponse(raw, operation, `an answer without \`${name}\``);
    // A lone UTF-16 surrogate (JSON allows "\ud800") is no text X sends, and makes encodeURIComponent
    // and TextEncoder-based code downstream throw or mangle it.
    if (hasLoneSurrogate(value)) throw invalidResponse(raw, operation, `a \`${name}\` that is not well-formed Unicode`);
  }
}

// RFC 6750 section 2.1 (b64token) and RFC 5849 section 3.5.1: X's tokens and secrets are printable
// ASCII. A control character (CR/LF) would split the header the credential is sent in next; any
// other character outside printable ASCII (a space, "€") cannot go in a Bearer header at all, and
// would fail the next request as if the network had.
const VISIBLE_ASCII = /^[!-~]+$/;

/** Why credential `value` from X cannot be used, or undefined when it can. */
function credentialFault(name: string, value: string): string | undefined {
  if (hasControlCharacter(value)) return `a \`${name}\` with a control character in it`;
  if (!VISIBLE_ASCII.test(value)) return `a \`${name}\` with characters other than printable ASCII (a space, or a letter such as "é"), which no token of X's has`;
  return undefined;
}

// X's user ids are decimal (up to 2^64), its handles letters, digits and `_` (at most 15, older ones longer).
const USER_ID = /^\d{1,20}$/;
const SCREEN_NAME = /^\w{1,50}$/;

/**
 * The form-encoded answer of an OAuth 1.0a token endpoint, each parameter once. A parameter twice
 * is refused: the checks read one value and `params` (handed to the app) would hold another, such as
 * an unchecked token secret or user id. `user_id` and `screen_name`, when present, must look like X's.
 */
function oauth1Answer(raw: XRawResponse, operation: string): URLSearchParams {
  const fields = new URLSearchParams(raw.body);
  const seen = new Set<string>();
  for (const name of fields.keys()) {
    // Named when it is a parameter name (a value in its place could be a credential).
    if (seen.has(name)) throw invalidResponse(raw, operation, /^[a-z_]{1,32}$/.test(name) ? `the parameter \`${name}\` more than once` : 'a parameter more than once');
    seen.add(name);
  }
  requireUserIdentity(raw, operation, { user_id: fields.get('user_id') ?? undefined, screen_name: fields.get('screen_name') ?? undefined }, 'user_id', 'screen_name');
  return fields;
}

/**
 * A user's id and handle in an answer of X's, when present, as X writes them: the id decimal, the
 * handle letters, digits and `_`. They become the profile's `id` and `username`, which apps key
 * accounts on and put in pages.
 */
function requireUserIdentity(raw: XRawResponse, operation: string, fields: Record<string, unknown>, idName: string, handleName: string): void {
  const id = fields[idName];
  if (typeof id === 'string' && !USER_ID.test(id)) throw invalidResponse(raw, operation, `a \`${idName}\` that is not a number`);
  const handle = fields[handleName];
  if (typeof handle === 'string' && !SCREEN_NAME.test(handle)) throw invalidResponse(raw, operation, `a \`${handleName}\` with characters no handle on X has`);
}

function requireCredentials(raw: XRawResponse, operation: string, fields: URLSearchParams | Record<string, unknown>, names: string[]): void {
  requireFields(raw, operation, fields, names);
  for (const name of names) {
    const fault = credentialFault(name, (fields instanceof URLSearchParams ? fields.get(name) : fields[name]) as string);
    if (fault !== undefined) throw invalidResponse(raw, operation, fault);
  }
}

/** A request signed with OAuth 1.0a (HMAC-SHA1) by the consumer and, when given, the token. */
function signedRequest(
  operation: string,
  method: 'GET' | 'POST',
  url: string,
  consumer: OAuth1Consumer,
  token: { token: string; tokenSecret: string } | undefined,
  oauthParams: OAuthParamList,
  bodyParams: OAuthParamList,
  secrets: Array<string | undefined>,
): XHttpRequest {
  const header = signOwnRequest(method, url, consumer.consumerKey, consumer.consumerSecret, token?.token, token?.tokenSecret, oauthParams, bodyParams);
  const request: XHttpRequest = {
    method,
    url,
    operation,
    headers: { authorization: header },
    secrets: [consumer.consumerSecret, token?.tokenSecret, ...secrets],
    // The signer percent-encodes every value of its header (RFC 5849 section 3.5.1).
    encodedHeaders: true,
  };
  // A nonce is single use: a resend (only a GET is ever resent) is signed again.
  if (method === 'GET') request.resign = () => ({ authorization: signOwnRequest(method, url, consumer.consumerKey, consumer.consumerSecret, token?.token, token?.tokenSecret, oauthParams, bodyParams) });
  // An empty body costs undici a stream per request: send none when there is nothing to send.
  if (method === 'POST' && bodyParams.length > 0) request.body = formEncodeOAuth(bodyParams);
  return request;
}

/**
 * Sends the request `build()` makes and calls back with X's answer as `read` reads it, with
 * {@link sendToXThen}'s guarantees: a throw in `build` (signing, encoding) or in `read` (X's answer
 * refused) is the error, as a rejection was in an `async` function.
 */
function sendBuiltThen<T>(build: () => XHttpRequest, http: XHttpOptions, read: (raw: XRawResponse) => T, onAnswer: (answer: T) => void, onError: (err: Error) => void): void {
  let request: XHttpRequest;
  try {
    request = build();
  } catch (err) {
    return failSoon(onError, err);
  }
  sendToXThen(request, http, (raw) => onAnswer(read(raw)), onError);
}

/** {@link sendBuiltThen} as a promise, for the helpers. */
function sendBuilt<T>(build: () => XHttpRequest, http: XHttpOptions, read: (raw: XRawResponse) => T): Promise<T> {
  return new Promise((resolve, reject) => sendBuiltThen(build, http, read, resolve, reject));
}

/** A request token, step 1 of the three-legged flow. */
export interface XRequestToken {
  token: string;
  tokenSecret: string;
  /** Every parameter of X's answer. */
  params: Record<string, string>;
}

/**
 * Step 1: `POST /oauth/request_token` with `oauth_callback`. Fails unless X answers
 * `oauth_callback_confirmed=true` (RFC 5849 section 2.1), which proves X took the callback.
 */
export function fetchRequestToken(url: string, consumer: OAuth1Consumer, callbackURL: string, extra: Record<string, string>, http: XHttpOptions): Promise<XRequestToken> {
  return new Promise((resolve, reject) => fetchRequestTokenThen(url, consumer, callbackURL, extra, http, resolve, reject));
}

/** {@link fetchRequestToken} for callback-style code (the strategy): with {@link sendToXThen}'s guarantees, and no promise. */
export function fetchRequestTokenThen(
  url: string,
  consumer: OAuth1Consumer,
  callbackURL: string,
  extra: Record<string, string>,
  http: XHttpOptions,
  onAnswer: (token: XRequestToken) => void,
  onError: (err: Error) => void,
): void {
  const operation = 'get a request token';
  sendBuiltThen(
    () => signedRequest(operation, 'POST', url, consumer, undefined, [['oauth_callback', callbackURL]], Object.entries(extra), []),
    http,
    (raw) => {
      const fields = oauth1Answer(raw, operation);
      requireCredentials(raw, operation, fields, ['oauth_token', 'oauth_token_secret']);
      if (fields.get('oauth_callback_confirmed') !== 'true') {
        throw new XRequestError(
          XErrorCode.CALLBACK_NOT_CONFIRMED,
          'X did not confirm the callback URL when issuing the request token (no oauth_callback_confirmed=true). Check that `callbackURL` is listed exactly under "Callback URI / Redirect URL" in the X developer portal, and that `baseURL` points at X.',
          { status: raw.status, response: redactedAnswer(raw, [consumer.consumerSecret]) },
        );
      }
      return { token: fields.get('oauth_token') as string, tokenSecret: fields.get('oauth_token_secret') as string, params: Object.fromEntries(fields) };
    },
    onAnswer,
    onError,
  );
}

/** An OAuth 1.0a access token, step 3 of the three-legged flow. */
export interface XAccessToken {
  token: string;
  tokenSecret: string;
  /** The user's ID, as a string. */
  userId: string | undefined;
  /** The user's handle. */
  screenName: string | undefined;
  /** Every parameter of X's answer. */
  params: Record<string, string>;
}

/** Step 3: `POST /oauth/access_token` with `oauth_verifier`, signed with the request token. */
export function fetchAccessToken(url: string, consumer: OAuth1Consumer, requestToken: { token: string; tokenSecret: string }, verifier: string, http: XHttpOptions): Promise<XAccessToken> {
  return new Promise((resolve, reject) => fetchAccessTokenThen(url, consumer, requestToken, verifier, http, resolve, reject));
}

/** {@link fetchAccessToken} for callback-style code (the strategy): with {@link sendToXThen}'s guarantees, and no promise. */
export function fetchAccessTokenThen(
  url: string,
  consumer: OAuth1Consumer,
  requestToken: { token: string; tokenSecret: string },
  verifier: string,
  http: XHttpOptions,
  onAnswer: (token: XAccessToken) => void,
  onError: (err: Error) => void,
): void {
  const operation = 'exchange the request token for an access token';
  sendBuiltThen(
    () => signedRequest(operation, 'POST', url, consumer, requestToken, [['oauth_verifier', verifier]], [], [verifier, requestToken.token]),
    http,
    (raw) => {
      const fields = oauth1Answer(raw, operation);
      requireCredentials(raw, operation, fields, ['oauth_token', 'oauth_token_secret']);
      return {
        token: fields.get('oauth_token') as string,
        tokenSecret: fields.get('oauth_token_secret') as string,
        userId: fields.get('user_id') ?? undefined,
        screenName: fields.get('screen_name') ?? undefined,
        params: Object.fromEntries(fields),
      };
    },
    onAnswer,
    onError,
  );
}

/** A JSON object from X and the answer it came in. */
export interface XJSONAnswer {
  json: Record<string, unknown>;
  raw: XRawResponse;
}

/** `GET /1.1/account/verify_credentials.json`, signed with the user's access token. Checks `id_str` and `screen_name`. */
export function fetchVerifyCredentials(url: string, consumer: OAuth1Consumer, accessToken: { token: string; tokenSecret: string }, http: XHttpOptions): Promise<XJSONAnswer> {
  return new Promise((resolve, reject) => fetchVerifyCredentialsThen(url, consumer, accessToken, http, resolve, reject));
}

/** {@link fetchVerifyCredentials} for callback-style code (the strategy): with {@link sendToXThen}'s guarantees, and no promise. */
export function fetchVerifyCredentialsThen(
  url: string,
  consumer: OAuth1Consumer,
  accessToken: { token: string; tokenSecret: string },
  http: XHttpOptions,
  onAnswer: (answer: XJSONAnswer) => void,
  onError: (err: Error) => void,
): void {
  const operation = 'load the user\'s profile (account/verify_credentials)';
  sendBuiltThen(
    () => signedRequest(operation, 'GET', url, consumer, accessToken, [], [], [accessToken.token]),
    http,
    (raw) => {
      const json = parseJSONObject(raw, operation);
      requireFields(raw, operation, json, ['id_str', 'screen_name']);
      requireUserIdentity(raw, operation, json, 'id_str', 'screen_name');
      return { json, raw };
    },
    onAnswer,
    onError,
  );
}

/** `POST /1.1/oauth/invalidate_token`, signed with the token to revoke. */
export function invalidateOAuth1Token(url: string, consumer: OAuth1Consumer, accessToken: { token: string; tokenSecret: string }, http: XHttpOptions): Promise<void> {
  const operation = 'invalidate the OAuth 1.0a access token';
  return sendBuilt(
    () => signedRequest(operation, 'POST', url, consumer, accessToken, [], [], [accessToken.token]),
    http,
    (raw) => {
      const json = parseJSONObject(raw, operation);
      requireFields(raw, operation, json, ['access_token']);
      // X names the token it invalidated: another one is not the caller's invalidated.
      if (json.access_token !== accessToken.token) throw invalidResponse(raw, operation, 'a different token than the one sent');
    },
  );
}

/** Reverse auth step 1: `POST /oauth/request_token` with `x_auth_mode=reverse_auth`; X answers the text of an `OAuth ...` header. */
export function fetchReverseAuthParameters(url: string, consumer: OAuth1Consumer, http: XHttpOptions): Promise<string> {
  const operation = 'get reverse auth parameters';
  return sendBuilt(
    () => signedRequest(operation, 'POST', url, consumer, undefined, [], [['x_auth_mode', 'reverse_auth']], []),
    http,
    (raw) => {
      const text = raw.body.trim();
      if (!/^OAuth\s+\S/.test(text) || !/oauth_signature=/.test(text)) throw invalidResponse(raw, operation, 'a body that is not an OAuth header');
      return text;
    },
  );
}

// ---------------------------------------------------------------- OAuth 2.0

// What the application/x-www-form-urlencoded serializer leaves as it is (WHATWG URL standard section 5.2).
const FORM_SAFE = /^[A-Za-z0-9*\-._]*$/;
// What encodeURIComponent leaves alone but the form serializer encodes, and the space it writes as '+'.
const FORM_DIFFERENT = /[!'()~]|%20/g;
const FORM_DIFFERENT_ANY = /[!'()~]|%20/;
const formDifference = (match: string): string => (match === '%20' ? '+' : `%${match.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * Form-encodes one value as `application/x-www-form-urlencoded` does (WHATWG URL standard), byte
 * for byte as URLSearchParams would, without building one: space as '+', everything but
 * `A-Z a-z 0-9 * - . _` percent-encoded as UTF-8, a lone surrogate as U+FFFD.
 */
export function formURLEncode(value: string): string {
  if (FORM_SAFE.test(value)) return value;
  // toWellFormed (Node 20+): URLSearchParams takes USVStrings, where a lone surrogate becomes U+FFFD.
  const encoded = encodeURIComponent((value as unknown as { toWellFormed(): string }).toWellFormed());
  return FORM_DIFFERENT_ANY.test(encoded) ? encoded.replace(FORM_DIFFERENT, formDifference) : encoded;
}

/**
 * HTTP Basic credentials for client authentication: `base64(urlencode(id) ":" urlencode(secret))`,
 * each part form-encoded first as RFC 6749 section 2.3.1 and X's app-only docs require.
 */
export function basicCredentials(id: string, secret: string): string {
  return Buffer.from(`${formURLEncode(id)}:${formURLEncode(secret)}`, 'utf8').toString('base64');
}

/** An OAuth 2.0 client: public (no secret) or confidential. */
export interface OAuth2Client {
  clientID: string;
  /** Only for confidential clients. */
  clientSecret?: string | undefined;
}

/**
 * Client authentication as X wants it: every request carries `client_id` in the body;
 * a confidential client adds `Authorization: Basic ...` and never sends its secret in the body.
 */
export function clientAuthentication(client: OAuth2Client): { headers: Record<string, string>; params: Record<string, string> } {
  const headers: Record<string, string> = {};
  if (client.clientSecret !== undefined) headers.authorization = basicAuthorizationOf(client.clientID, client.clientSecret);
  return { headers, params: { client_id: client.clientID } };
}

// The Authorization header of the last client seen: a strategy sends the same one on every sign-in.
let lastBasic = { id: '', secret: '', header: '' };

function basicAuthorizationOf(id: string, secret: string): string {
  if (lastBasic.header === '' || lastBasic.id !== id || lastBasic.secret !== secret) lastBasic = { id, secret, header: `Basic ${basicCredentials(id, secret)}` };
  return lastBasic.header;
}

/** What a client's authentication puts on the wire that must never show in an error: the secret, and its Basic credentials. */
function clientSecrets(client: OAuth2Client): XRedactable[] {
  return client.clientSecret === undefined ? [] : [client.clientSecret, { id: client.clientID, secret: client.clientSecret }];
}

/** The tokens X's OAuth 2.0 token endpoint issued. */
export interface XTokenSet {
  /** The bearer access token for the X API v2. */
  accessToken: string;
  /** The refresh token; only with the `offline.access` scope. X rotates it on every refresh. */
  refreshToken: string | undefined;
  /** Always `'bearer'`. */
  tokenType: string;
  /** Lifetime in seconds (X: 7200), when given. */
  expiresIn: number | undefined;
  /** When the access token expires, computed from `expiresIn` at receipt. */
  expiresAt: Date | undefined;
  /** The scopes granted. */
  scope: string[];
}

/**
 * The longest `expires_in` accepted from X's token endpoint: one year, in seconds. X's access
 * tokens live 2 hours; a year leaves room for any lifetime X may choose while refusing values
 * (1e308, 1e15) whose `expiresAt` would be an Invalid Date or centuries away, which would make a
 * token look valid forever and `toISOString()` throw later in the app.
 */
export const MAX_EXPIRES_IN_SECONDS = 365 * 24 * 60 * 60;

/** X's token answer: the token set and the raw parameters (for passport's `params`). */
export interface XTokenAnswer {
  tokens: XTokenSet;
  params: Record<string, unknown>;
}

/** `params` as an `application/x-www-form-urlencoded` body, as `new URLSearchParams(params).toString()` writes it. */
export function encodeForm(params: Record<string, string>): string {
  let body = '';
  for (const key in params) {
    if (Object.hasOwn(params, key)) body += `${body === '' ? '' : '&'}${formURLEncode(key)}=${formURLEncode(String(params[key]))}`;
  }
  return body;
}

// X's `scope`: names joined by single spaces (RFC 6749 section 3.3), split without a regex then.
const SPACE_SEPARATED = /^[^\s]+(?: [^\s]+)*$/;
function scopeList(scope: string): string[] {
  return SPACE_SEPARATED.test(scope) ? scope.split(' ') : scope.split(/\s+/).filter(Boolean);
}

/** `POST /2/oauth2/token` for any grant; validates and maps the answer. */
export function requestOAuth2Token(
  url: string,
  client: OAuth2Client,
  grant: Record<string, string>,
  http: XHttpOptions,
  operation: string,
): Promise<XTokenAnswer> {
  return sendBuilt(() => oauth2TokenRequest(url, client, grant, operation), http, (raw) => oauth2TokenAnswer(raw, operation, grant.grant_type === 'refresh_token'));
}

/**
 * {@link requestOAuth2Token} for callback-style code (the strategy's code exchange): with
 * {@link sendToXThen}'s guarantees, and no promise.
 */
export function requestOAuth2TokenThen(
  url: string,
  client: OAuth2Client,
  grant: Record<string, string>,
  http: XHttpOptions,
  operation: string,
  onAnswer: (answer: XTokenAnswer) => void,
  onError: (err: Error) => void,
): void {
  sendBuiltThen(() => oauth2TokenRequest(url, client, grant, operation), http, (raw) => oauth2TokenAnswer(raw, operation), onAnswer, onError);
}

/** The token request of a grant: `grant`, then `client_id`, form-encoded, and the client's authentication. */
function oauth2TokenRequest(url: string, client: OAuth2Client, grant: Record<string, string>, operation: string): XHttpRequest {
  const auth = clientAuthentication(client);
  return {
    method: 'POST',
    url,
    operation,
    headers: auth.headers,
    // Basic credentials are base64: no control character can be in them.
    encodedHeaders: true,
    // client_id last, as a spread of the two would put it (a copy per request made V8 a new hidden class each time).
    body: Object.hasOwn(grant, 'client_id') ? encodeForm({ ...grant, ...auth.params }) : `${encodeForm(grant)}&${encodeForm(auth.params)}`,
    secrets: [...clientSecrets(client), grant.code, grant.code_verifier, grant.refresh_token],
  };
}

/** `expires_in` as a string: decimal digits only. */
const DECIMAL_SECONDS = /^\d{1,10}$/;

/** X's documented lifetime of an OAuth 2.0 access token, in seconds: what a kept refresh answer with an unusable `expires_in` is taken to say. */
const X_ACCESS_TOKEN_LIFETIME_S = 7200;

/**
 * X's answer to a token request, validated and mapped. Anything malformed is an `X_INVALID_RESPONSE`,
 * with one exception: a refresh answer (`rotated`) that carries a new, well-formed refresh token.
 * X rotates refresh tokens, so once it has answered 2xx the one sent works no more: refusing the
 * answer for a malformed `token_type`, `expires_in` or `scope` would lose the user's grant. That
 * answer is kept, the field taken as X's default (bearer, X's 7,200 s, the scopes already granted as
 * RFC 6749 section 5.1 reads a missing `scope`), and a warning says so once per field and process.
 */
function oauth2TokenAnswer(raw: XRawResponse, operation: string, rotated = false): XTokenAnswer {
  const json = parseJSONObject(raw, operation);
  requireCredentials(raw, operation, json, ['access_token']);
  if (json.refresh_token !== undefined) {
    if (typeof json.refresh_token !== 'string' || json.refresh_token === '') throw invalidResponse(raw, operation, 'an invalid `refresh_token`');
    const fault = credentialFault('refresh_token', json.refresh_token);
    if (fault !== undefined) throw invalidResponse(raw, operation, fault);
  }
  // Both credentials are good here: a rotation X made is kept whatever else is wrong.
  const keep = rotated && json.refresh_token !== undefined;
  let repaired: string[] | undefined;
  if (typeof json.token_type !== 'string' || json.token_type.toLowerCase() !== 'bearer') {
    if (!keep) throw invalidResponse(raw, operation, 'a token that is not of type bearer');
    (repaired ??= []).push('a `token_type` other than bearer (taken as bearer)');
  }
  let expiresIn: number | undefined;
  if (json.expires_in !== undefined) {
    // A number, or a string of decimal digits: Number() alone would read "0x1C20" or "1e3" too.
    expiresIn = typeof json.expires_in === 'number' ? json.expires_in : typeof json.expires_in === 'string' && DECIMAL_SECONDS.test(json.expires_in) ? Number(json.expires_in) : NaN;
    // RFC 6749 section 5.1: a lifetime in seconds. A lifetime of 0 or less is no token; one beyond the
    // bound is not one X issues (X doc: 2 hours) and would make `expiresAt` meaningless or an Invalid Date.
    if (!Number.isFinite(expiresIn) || expiresIn <= 0 || expiresIn > MAX_EXPIRES_IN_SECONDS) {
      if (!keep) throw invalidResponse(raw, operation, 'an invalid `expires_in`');
      (repaired ??= []).push(`an invalid \`expires_in\` (taken as X's ${X_ACCESS_TOKEN_LIFETIME_S} s)`);
      expiresIn = X_ACCESS_TOKEN_LIFETIME_S;
    }
  }
  let scope: string[] = [];
  if (typeof json.scope === 'string') scope = scopeList(json.scope);
  else if (json.scope !== undefined) {
    if (!keep) throw invalidResponse(raw, operation, 'an invalid `scope`');
    (repaired ??= []).push('an invalid `scope` (taken as the scopes already granted)');
  }
  if (repaired !== undefined) warnKeptRotation(operation, repaired);
  const tokens: XTokenSet = {
    accessToken: json.access_token as string,
    refreshToken: json.refresh_token as string | undefined,
    tokenType: 'bearer',
    expiresIn,
    expiresAt: expiresIn === undefined ? undefined : new Date(Date.now() + expiresIn * 1000),
    scope,
  };
  return { tokens, params: json };
}

/** The repairs of a kept refresh answer (and the odd revocation answers) already warned about, once each per process. */
const warnedRepairs = new Set<string>();

/**
 * Forgets which repairs of refresh answers and which odd revocation answers were warned about, so
 * the next of each kind warns again (for tests: the warning is once per process). Not part of the
 * package's exports.
 *
 * @internal
 */
export function forgetWarnedRepairs(): void {
  warnedRepairs.clear();
}

/** Says, once per kind of repair, that a malformed refresh answer was kept rather than refused (see oauth2TokenAnswer). Names fields, never values. */
function warnKeptRotation(operation: string, repaired: readonly string[]): void {
  const fresh = repaired.filter((r) => !warnedRepairs.has(r));
  if (fresh.length === 0) return;
  for (const r of fresh) warnedRepairs.add(r);
  process.emitWarning(
    `passport-x: X's 2xx answer to "${operation}" carried ${fresh.join(', ')}. X had already rotated the refresh token (the one sent works no more), so the new pair was kept rather than refused, which would have lost the user's grant. ` +
      'X does not answer this way: if it repeats, check what sits between the app and X (a proxy rewriting JSON) and the `fetch` option.',
    { code: 'PASSPORT_X_REFRESH_ANSWER_REPAIRED' },
  );
}

/**
 * `POST /2/oauth2/revoke` (RFC 7009). Resolves on X's 2xx, whatever its body says (the body must
 * still arrive whole, within the size cap, as for every request): section 2.2 says the status
 * tells it all ("The content of the response body is ignored by the client"). X answers
 * `{"revoked":true}`, or `{"revoked":false}` for a token that was invalid or already revoked; any
 * other body is said in a warning, once per process, naming what is odd about it, never its text.
 */
export async function revokeOAuth2Token(
  url: string,
  client: OAuth2Client,
  token: string,
  tokenTypeHint: 'access_token' | 'refresh_token' | undefined,
  http: XHttpOptions,
): Promise<void> {
  const auth = clientAuthentication(client);
  // X requires the hint, optional in RFC 7009 ("Missing required parameter [token_type_hint]."):
  // an access token unless the caller says otherwise, as X's other clients send.
  const params: Record<string, string> = { token, token_type_hint: tokenTypeHint ?? 'access_token' };
  const operation = 'revoke the token';
  const raw = await sendToX(
    { method: 'POST', url, operation, headers: auth.headers, body: encodeForm({ ...params, ...auth.params }), secrets: [...clientSecrets(client), token] },
    http,
  );
  // The 2xx is the answer (RFC 7009 section 2.2): the token no longer works, whether it was revoked
  // now or was invalid already. A body X does not send (not `{"revoked": true|false}`) changes
  // nothing; refusing it would keep a revoked user's tokens stored for good (XTokenManager.revoke).
  const odd = oddRevocationBody(raw.body);
  if (odd !== undefined && !warnedRepairs.has(`revoke: ${odd}`)) {
    warnedRepairs.add(`revoke: ${odd}`);
    process.emitWarning(
      `passport-x: X's ${raw.status} answer to "${operation}" had ${odd}, where X answers {"revoked": true} or {"revoked": false}. ` +
        'The token was taken as revoked, as RFC 7009 section 2.2 says of a 200. X does not answer this way: if it repeats, check what sits between the app and X (`baseURL`, a proxy, the `fetch` option).',
      { code: 'PASSPORT_X_REVOKE_ANSWER_UNEXPECTED' },
    );
  }
}

/** What is odd about a revocation answer's body (X's is `{"revoked": true|false}`; empty is RFC 7009's), or undefined. */
function oddRevocationBody(body: string): string | undefined {
  if (body.trim() === '') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return 'a body that is not JSON';
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return 'a JSON body that is not an object';
  // Only a boolean `revoked` is X's: `"false"`, a missing field or one hidden under `__proto__` is not.
  const revoked = Object.hasOwn(json, 'revoked') ? (json as { revoked?: unknown }).revoked : undefined;
  return revoked === true || revoked === false ? undefined : 'a JSON body without a boolean `revoked`';
}

/**
 * A 403 to a users request that asked for fields needing extra scopes (`confirmed_email` needs
 * `users.email`): an {@link XMissingScopesError} that names them, when X's answer did not. X's
 * plain `Forbidden` problem counts too: X documents no other body for a missing scope.
 */
function withFieldScopes(err: unknown, userFields: readonly string[]): unknown {
  if (!(err instanceof XAPIError) || err.status !== 403) return err;
  if (err instanceof XMissingScopesError ? err.missingScopes.length > 0 : err.title !== 'Forbidden' || (err.type !== undefined && err.type !== 'about:blank')) return err;
  const needed = [...new Set(userFields.flatMap((f) => (Object.hasOwn(X_USER_FIELD_SCOPES, f) ? [X_USER_FIELD_SCOPES[f as XKnownUserField] as string] : [])))];
  if (needed.length === 0) return err;
  const hint = missingScopesHint(needed);
  const fields = userFields.filter((f) => Object.hasOwn(X_USER_FIELD_SCOPES, f)).join(', ');
  return new XMissingScopesError(`${messageWithoutHint(err)} The user field ${fields} needs more than the token has. ${hint}`, {
    ...xAnswerOf(err),
    hint,
    missingScopes: needed,
    cause: err,
  });
}

/** `url` (`GET /2/users/me`) with `user.fields` set to `userFields`, when there are any. */
export function usersMeURL(url: string, userFields: readonly string[]): string {
  const target = new URL(url);
  if (userFields.length > 0) target.searchParams.set('user.fields', userFields.join(','));
  return target.href;
}

/**
 * `GET /2/users/me` with a user's bearer token; returns the `data` object, checked for `id` and
 * `username`. `fieldsURL`: `url` with `userFields` already set (see {@link usersMeURL}), for a
 * caller that asks for the same fields every time.
 */
export function fetchUsersMe(
  url: string,
  accessToken: string,
  userFields: readonly string[],
  http: XHttpOptions,
  fieldsURL?: string,
): Promise<XUsersMeAnswer> {
  // A throw in the executor (a `url` that is no URL) rejects.
  return new Promise((resolve, reject) => fetchUsersMeThen(accessToken, userFields, http, fieldsURL ?? usersMeURL(url, userFields), resolve, reject));
}

/** What {@link fetchUsersMe} answers: X's JSON, its `data` object, and the answer they came in. */
export type XUsersMeAnswer = XJSONAnswer & { data: Record<string, unknown> };

/**
 * {@link fetchUsersMe} for callback-style code (the strategy's profile), of `fieldsURL` (from
 * {@link usersMeURL}): with {@link sendToXThen}'s guarantees, and no promise.
 */
export function fetchUsersMeThen(
  accessToken: string,
  userFields: readonly string[],
  http: XHttpOptions,
  fieldsURL: string,
  onAnswer: (answer: XUsersMeAnswer) => void,
  onError: (err: Error) => void,
): void {
  const operation = 'load the user\'s profile (users/me)';
  let answered = false;
  sendToXThen(
    { method: 'GET', url: fieldsURL, operation, headers: { authorization: `Bearer ${accessToken}` }, secrets: [accessToken] },
    http,
    (raw) => {
      answered = true;
      onAnswer(usersMeAnswer(raw, operation));
    },
    // A 403 to the request names the scopes its fields need; what fails after X answered is passed on as it is.
    (err) => onError(answered ? err : (withFieldScopes(err, userFields) as Error)),
  );
}

/** X's `users/me` answer, checked: a JSON object whose `data` has `id` and `username`. */
function usersMeAnswer(raw: XRawResponse, operation: string): XUsersMeAnswer {
  const json = parseJSONObject(raw, operation);
  const data = json.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw invalidResponse(raw, operation, 'an answer without a `data` object');
  requireFields(raw, operation, data as Record<string, unknown>, ['id', 'username']);
  requireUserIdentity(raw, operation, data as Record<string, unknown>, 'id', 'username');
  return { json, raw, data: data as Record<string, unknown> };
}

// ---------------------------------------------------------------- App-only

/** `POST /oauth2/token` with `grant_type=client_credentials`: the app's bearer token. */
export async function fetchBearerToken(url: string, consumer: OAuth1Consumer, http: XHttpOptions): Promise<string> {
  const operation = 'issue an app-only bearer token';
  const raw = await sendToX(
    {
      method: 'POST',
      url,
      operation,
      headers: {
        authorization: `Basic ${basicCredentials(consumer.consumerKey, consumer.consumerSecret)}`,
        'content-type': 'application/x-www-form-urlencoded;charset=UTF-8',
      },
      body: 'grant_type=client_credentials',
      secrets: [consumer.consumerSecret, { id: consumer.consumerKey, secret: consumer.consumerSecret }],
    },
    http,
  );
  const json = parseJSONObject(raw, operation);
  requireCredentials(raw, operation, json, ['access_token', 'token_type']);
  if ((json.token_type as string).toLowerCase() !== 'bearer') throw invalidResponse(raw, operation, 'a token that is not of type bearer');
  return json.access_token as string;
}

/** `POST /oauth2/invalidate_token` with the token as X issued it: resolves when X confirms it invalidated this very token. */
export async function invalidateBearer(url: string, consumer: OAuth1Consumer, bearerToken: string, http: XHttpOptions): Promise<void> {
  const operation = 'invalidate the app-only bearer token';
  const raw = await sendToX(
    {
      method: 'POST',
      url,
      operation,
      headers: {
        authorization: `Basic ${basicCredentials(consumer.consumerKey, consumer.consumerSecret)}`,
        'content-type': 'application/x-www-form-urlencoded;charset=UTF-8',
      },
      // X's bearer tokens are issued percent-encoded (`%2F`, `%3D`), and X's examples (the app-only guide's
      // curl, the API reference) send one as issued: the form value is the token decoded, so the body
      // carries it exactly as issued, whichever spelling the caller holds (never `%252F`).
      body: encodeForm({ access_token: percentDecoded(bearerToken) }),
      secrets: [consumer.consumerSecret, { id: consumer.consumerKey, secret: consumer.consumerSecret }, bearerToken],
    },
    http,
  );
  const json = parseJSONObject(raw, operation);
  requireFields(raw, operation, json, ['access_token']);
  // X echoes the token, percent-encoded as issued (X's bearer tokens hold `%2B`, `%2F`, `%3D`) or
  // decoded; the caller may hold it either way too: the same token in any of these spellings counts.
  const echoed = json.access_token as string;
  if (echoed !== bearerToken && percentDecoded(echoed) !== percentDecoded(bearerToken)) throw invalidResponse(raw, operation, 'a different token than the one sent');
}

/** `text` percent-decoded, or as it is when it is not valid percent-encoding. */
function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
