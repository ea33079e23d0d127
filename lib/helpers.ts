/**
 * Token helpers: promise-based functions for the token operations an app needs around
 * sign-in (app-only bearer tokens, refreshing and revoking OAuth 2.0 tokens, revoking
 * OAuth 1.0a tokens, reverse auth, signing OAuth 1.0a requests).
 *
 * They call X through `endpoints.ts` and so through the one HTTP client in `http.ts`, the
 * same code the strategies use: X's URLs, answers and error formats are parsed in one place.
 * Every helper checks its arguments before anything is sent; a bad argument rejects the
 * returned promise with a `TypeError` naming it, and never quotes its value.
 *
 * @packageDocumentation
 */
import {
  X_API_BASE_URL,
  fetchBearerToken,
  fetchReverseAuthParameters,
  invalidateBearer,
  invalidateOAuth1Token,
  requestOAuth2Token,
  revokeOAuth2Token,
  xEndpoints,
  type XEndpoints,
  type XTokenSet,
} from './endpoints';
import { hasControlCharacter, hasLoneSurrogate } from './errors';
import { resolveTimeout, type XHttpOptions } from './http';

export { oauth1AuthorizationHeader } from './oauth1-signature';
export type { OAuth1SignOptions } from './oauth1-signature';
export type { XTokenSet } from './endpoints';

/** Options every token helper takes, besides its own credentials. */
export interface XHelperOptions extends XHttpOptions {
  /** X's API host (default `https://api.x.com`). Point it at the emulator of `passport-x/testing` in tests. */
  baseURL?: string | undefined;
}

/** The app's OAuth 1.0a credentials: "API Key and Secret" in the X developer portal. */
export interface XConsumerCredentials {
  /** The app's API key (consumer key). */
  consumerKey: string;
  /** The app's API key secret (consumer secret). */
  consumerSecret: string;
}

/** Options of {@link getBearerToken}. */
export interface GetBearerTokenOptions extends XHelperOptions, XConsumerCredentials {}

/** Options of {@link invalidateBearerToken}. */
export interface InvalidateBearerTokenOptions extends XHelperOptions, XConsumerCredentials {
  /** The app-only bearer token to invalidate. */
  bearerToken: string;
}

/** Options of {@link invalidateAccessToken}. */
export interface InvalidateAccessTokenOptions extends XHelperOptions, XConsumerCredentials {
  /** The user's OAuth 1.0a access token to revoke. */
  token: string;
  /** The secret of `token`. */
  tokenSecret: string;
}

/** An OAuth 2.0 client as registered in the X developer portal ("OAuth 2.0 Client ID and Client Secret"). */
export interface XOAuth2ClientCredentials {
  /** The OAuth 2.0 client ID. */
  clientID: string;
  /** The client secret; only for confidential clients ("Web App, Automated App or Bot"). Leave it out for public clients. */
  clientSecret?: string | undefined;
}

/** Options of {@link refreshAccessToken}. */
export interface RefreshAccessTokenOptions extends XHelperOptions, XOAuth2ClientCredentials {
  /** The refresh token X issued last (X rotates it: each refresh returns a new one). */
  refreshToken: string;
}

/** What kind of token is being revoked (RFC 7009 section 2.1). */
export type XTokenTypeHint = 'access_token' | 'refresh_token';

/** Options of {@link revokeToken}. */
export interface RevokeTokenOptions extends XHelperOptions, XOAuth2ClientCredentials {
  /** The OAuth 2.0 access or refresh token to revoke. */
  token: string;
  /**
   * Tells X which kind `token` is (default `'access_token'`). X requires it, though RFC 7009 makes
   * it optional: pass `'refresh_token'` for a refresh token.
   */
  tokenTypeHint?: XTokenTypeHint | undefined;
}

/** Options of {@link getReverseAuthParameters}. */
export interface GetReverseAuthParametersOptions extends XHelperOptions, XConsumerCredentials {}

// ---------------------------------------------------------------- argument checks

// What each argument is, for the TypeError; values are never quoted, they may be secrets.
const WHAT: Record<string, string> = {
  consumerKey: 'the app\'s API key (consumer key) from the X developer portal',
  consumerSecret: 'the app\'s API key secret (consumer secret) from the X developer portal',
  bearerToken: 'the app-only bearer token to invalidate, as getBearerToken() resolved it',
  token: 'the token to revoke',
  tokenSecret: 'the secret of the OAuth 1.0a access token',
  clientID: 'the OAuth 2.0 client ID from the X developer portal',
  clientSecret: 'the OAuth 2.0 client secret from the X developer portal (leave it out for a public client)',
  refreshToken: 'the refresh token X issued last (with the offline.access scope)',
};

function argumentError(helper: string, name: string, expected: string): TypeError {
  const what = Object.hasOwn(WHAT, name) ? `: ${WHAT[name]}` : '';
  return new TypeError(`passport-x: ${helper}() needs \`${name}\` to be ${expected}${what}. Nothing was sent to X.`);
}

// No credential X issues holds a control character; one with CR/LF would split a header (a
// `fetch` implementation then fails in a way that reads like a DNS error and quotes the header):
// hasControlCharacter() refuses them.

function requireText(helper: string, options: Record<string, unknown>, name: string): string {
  const value = options[name];
  if (typeof value !== 'string' || value === '') throw argumentError(helper, name, 'a non-empty string');
  if (hasControlCharacter(value)) throw argumentError(helper, name, 'a string without control characters (CR, LF, NUL, ...)');
  if (hasLoneSurrogate(value)) throw argumentError(helper, name, 'well-formed Unicode (no lone UTF-16 surrogate)');
  return value;
}

function optionalText(helper: string, options: Record<string, unknown>, name: string): string | undefined {
  const value = options[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw argumentError(helper, name, 'a non-empty string when given');
  if (hasControlCharacter(value)) throw argumentError(helper, name, 'a string without control characters (CR, LF, NUL, ...)');
  if (hasLoneSurrogate(value)) throw argumentError(helper, name, 'well-formed Unicode (no lone UTF-16 surrogate)');
  return value;
}

/** Checks the options every helper shares; returns X's endpoints and the HTTP options, in new objects. */
function commonOptions(helper: string, options: unknown): { fields: Record<string, unknown>; endpoints: XEndpoints; http: XHttpOptions } {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`passport-x: ${helper}() needs an options object with the credentials. Nothing was sent to X.`);
  }
  const fields = options as Record<string, unknown>;
  const endpoints = xEndpoints((fields.baseURL as string | undefined) ?? X_API_BASE_URL);
  const timeoutMs = resolveTimeout(fields.timeoutMs as number | undefined);
  const { signal, fetch } = fields;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw argumentError(helper, 'signal', 'an AbortSignal');
  if (fetch !== undefined && typeof fetch !== 'function') throw argumentError(helper, 'fetch', 'a fetch function');
  return { fields, endpoints, http: { timeoutMs, signal: signal as AbortSignal | undefined, fetch: fetch as typeof globalThis.fetch | undefined } };
}

// ---------------------------------------------------------------- app-only

/**
 * Gets the app's app-only bearer token (X doc "Application-only authentication"):
 * `POST /oauth2/token` with `grant_type=client_credentials`, authenticated with HTTP Basic over
 * the form-encoded key and secret. Resolves to the token after checking that X says it is of
 * type `bearer`. X issues one bearer token per app: asking again returns the same one.
 *
 * @example
 * ```ts
 * import { getBearerToken } from 'passport-x';
 *
 * const bearer = await getBearerToken({
 *   consumerKey: process.env.X_CONSUMER_KEY!,
 *   consumerSecret: process.env.X_CONSUMER_SECRET!,
 * });
 * await fetch('https://api.x.com/2/users/by/username/XDevelopers', { headers: { authorization: `Bearer ${bearer}` } });
 * ```
 */
export async function getBearerToken(options: GetBearerTokenOptions): Promise<string> {
  const helper = 'getBearerToken';
  const { fields, endpoints, http } = commonOptions(helper, options);
  const consumerKey = requireText(helper, fields, 'consumerKey');
  const consumerSecret = requireText(helper, fields, 'consumerSecret');
  return fetchBearerToken(endpoints.bearerToken, { consumerKey, consumerSecret }, http);
}

/**
 * Invalidates the app's bearer token (`POST /oauth2/invalidate_token`, HTTP Basic with the app's
 * key and secret). Resolves once X confirms it invalidated this very token; the next
 * {@link getBearerToken} call then issues a new one.
 *
 * @example
 * ```ts
 * import { invalidateBearerToken } from 'passport-x';
 *
 * await invalidateBearerToken({ consumerKey, consumerSecret, bearerToken: leakedToken });
 * ```
 */
export async function invalidateBearerToken(options: InvalidateBearerTokenOptions): Promise<void> {
  const helper = 'invalidateBearerToken';
  const { fields, endpoints, http } = commonOptions(helper, options);
  const consumerKey = requireText(helper, fields, 'consumerKey');
  const consumerSecret = requireText(helper, fields, 'consumerSecret');
  const bearerToken = requireText(helper, fields, 'bearerToken');
  await invalidateBearer(endpoints.invalidateBearerToken, { consumerKey, consumerSecret }, bearerToken, http);
}

// ---------------------------------------------------------------- OAuth 1.0a

/**
 * Revokes a user's OAuth 1.0a access token (`POST /1.1/oauth/invalidate_token`, signed with that
 * token). After this, X answers requests signed with it with 401, code 89.
 *
 * @example
 * ```ts
 * import { invalidateAccessToken } from 'passport-x';
 *
 * // On logout of a user who signed in with XOAuth1Strategy:
 * await invalidateAccessToken({ consumerKey, consumerSecret, token: user.token, tokenSecret: user.tokenSecret });
 * ```
 */
export async function invalidateAccessToken(options: InvalidateAccessTokenOptions): Promise<void> {
  const helper = 'invalidateAccessToken';
  const { fields, endpoints, http } = commonOptions(helper, options);
  const consumerKey = requireText(helper, fields, 'consumerKey');
  const consumerSecret = requireText(helper, fields, 'consumerSecret');
  const token = requireText(helper, fields, 'token');
  const tokenSecret = requireText(helper, fields, 'tokenSecret');
  await invalidateOAuth1Token(endpoints.invalidateAccessToken, { consumerKey, consumerSecret }, { token, tokenSecret }, http);
}

/**
 * Reverse auth, step 1 (X doc "Reverse Auth"): `POST /oauth/request_token` with
 * `x_auth_mode=reverse_auth`, signed with the app's key and secret. Resolves to the text of the
 * `OAuth ...` header X returns; hand it to the mobile client, which sends it to X as
 * `x_reverse_auth_parameters` to get the user's access token. Needs an app X has enabled for
 * reverse auth.
 *
 * @example
 * ```ts
 * import { getReverseAuthParameters } from 'passport-x';
 *
 * app.post('/x/reverse-auth', async (req, res) => {
 *   res.type('text/plain').send(await getReverseAuthParameters({ consumerKey, consumerSecret }));
 * });
 * ```
 */
export async function getReverseAuthParameters(options: GetReverseAuthParametersOptions): Promise<string> {
  const helper = 'getReverseAuthParameters';
  const { fields, endpoints, http } = commonOptions(helper, options);
  const consumerKey = requireText(helper, fields, 'consumerKey');
  const consumerSecret = requireText(helper, fields, 'consumerSecret');
  return fetchReverseAuthParameters(endpoints.requestToken, { consumerKey, consumerSecret }, http);
}

// ---------------------------------------------------------------- OAuth 2.0

/**
 * Trades a refresh token for a new access token (`POST /2/oauth2/token`,
 * `grant_type=refresh_token`), authenticating the client as the PKCE strategy does: `client_id`
 * in the body, plus HTTP Basic for a confidential client.
 *
 * X rotates refresh tokens: the answer carries a new `refreshToken` and the one sent stops
 * working. Store the new one every time, replacing the old one. An answer without a refresh token
 * leaves the one sent valid (RFC 6749 section 6): `refreshToken` is then the one sent. An answer
 * without `scope` grants the scopes granted before (section 5.1): `scope` is then empty, and the
 * scopes to keep are those you stored.
 *
 * @example
 * ```ts
 * import { refreshAccessToken } from 'passport-x';
 *
 * const tokens = await refreshAccessToken({ clientID, clientSecret, refreshToken: user.refreshToken });
 * await db.saveTokens(user.id, {
 *   accessToken: tokens.accessToken,
 *   refreshToken: tokens.refreshToken, // the old one no longer works
 *   expiresAt: tokens.expiresAt,
 * });
 * ```
 */
export async function refreshAccessToken(options: RefreshAccessTokenOptions): Promise<XTokenSet> {
  const helper = 'refreshAccessToken';
  const { fields, endpoints, http } = commonOptions(helper, options);
  const clientID = requireText(helper, fields, 'clientID');
  const clientSecret = optionalText(helper, fields, 'clientSecret');
  const refreshToken = requireText(helper, fields, 'refreshToken');
  const answer = await requestOAuth2Token(
    endpoints.oauth2Token,
    { clientID, clientSecret },
    { grant_type: 'refresh_token', refresh_token: refreshToken },
    http,
    'refresh the access token',
  );
  // RFC 6749 section 6: without a new refresh token in the answer, the one sent stays valid.
  return answer.tokens.refreshToken === undefined ? { ...answer.tokens, refreshToken } : answer.tokens;
}

/**
 * Revokes an OAuth 2.0 access or refresh token (`POST /2/oauth2/revoke`, RFC 7009), with the
 * same client authentication as {@link refreshAccessToken}.
 *
 * @example
 * ```ts
 * import { revokeToken } from 'passport-x';
 *
 * await revokeToken({ clientID, clientSecret, token: user.refreshToken, tokenTypeHint: 'refresh_token' });
 * await revokeToken({ clientID, clientSecret, token: user.accessToken, tokenTypeHint: 'access_token' });
 * ```
 */
export async function revokeToken(options: RevokeTokenOptions): Promise<void> {
  const helper = 'revokeToken';
  const { fields, endpoints, http } = commonOptions(helper, options);
  const clientID = requireText(helper, fields, 'clientID');
  const clientSecret = optionalText(helper, fields, 'clientSecret');
  const token = requireText(helper, fields, 'token');
  const hint = fields.tokenTypeHint;
  if (hint !== undefined && hint !== 'access_token' && hint !== 'refresh_token') {
    throw argumentError(helper, 'tokenTypeHint', '`access_token` or `refresh_token` when given (RFC 7009 section 2.1)');
  }
  await revokeOAuth2Token(endpoints.oauth2Revoke, { clientID, clientSecret }, token, hint, http);
}
