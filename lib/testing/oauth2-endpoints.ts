/**
 * The OAuth 2.0 Authorization Code with PKCE endpoints (X doc "OAuth 2.0 Authorization Code
 * Flow with PKCE"; RFC 6749, RFC 7636, RFC 7009) and `GET /2/users/me`. X answers token
 * endpoint refusals as `invalid_request` with a description, client authentication failures as
 * 401 `unauthorized_client` ("Missing valid authorization header", where RFC 6749 section 5.2 has
 * `invalid_client`), and v2 refusals as problem JSON; so does the emulator.
 */
import {
  forbiddenProblem,
  json,
  missingScopesProblem,
  oauth2Error,
  page,
  problem,
  redirect,
  tooManyRequestsProblem,
  unauthorizedProblem,
  withHeaders,
  type Answer,
} from './answers';
import { appendQuery, isRegisteredOAuth2RedirectURI, nearMiss } from './callback-urls';
import { renderConsentPage, renderErrorPage } from './consent-page';
import { basicCredentials, formParams, header, isFormEncoded, singleParam, type EmulatorContext, type EmulatorRequest } from './context';
import type { XEmulatorOAuth2Client } from './fixtures';
import { authenticateOAuth1, userContextHeaders } from './oauth1-endpoints';
import { EMAIL_SCOPE, parseScope, unknownScopes, USERS_ME_SCOPES, X_SCOPES } from './scopes';
import type { XKnownScope } from '../scopes';
import { s256Challenge, safeEqual } from './secrets';
import type { OAuth2AccessTokenRecord, RefreshTokenRecord } from './token-store';
import { v2User, X_USER_FIELDS } from './user-views';

// ---------------------------------------------------------------- Consent

function clientByID(context: EmulatorContext, clientID: string): Readonly<XEmulatorOAuth2Client> | undefined {
  const { confidential, public: publicClient } = context.fixtures.apps;
  return [confidential, publicClient].find((c) => c.clientID === clientID);
}

/** The redirect URIs registered now for a client (they may change while the emulator runs). */
function registeredRedirectURIs(context: EmulatorContext, client: Readonly<XEmulatorOAuth2Client>): readonly string[] {
  return context.callbacks.get(client === context.fixtures.apps.confidential ? 'confidential' : 'public');
}

function errorPage(title: string, explanation: string, reason: string): Answer {
  return { ...page(400, renderErrorPage(title, explanation)), reason };
}

const AUTHORIZE_PARAMS = ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method'];

/** X caps `state` at 500 characters (X doc "OAuth 2.0 Authorization Code Flow with PKCE"). */
const MAX_STATE_LENGTH = 500;

/**
 * `GET /i/oauth2/authorize`: checks the authorization request and shows the consent page.
 * A bad `client_id` or `redirect_uri` gets an HTML error page (the app cannot be trusted with
 * a redirect); every other error goes back to `redirect_uri` as `?error=...&error_description=...&state=...`
 * (RFC 6749 section 4.1.2.1).
 */
export function showOAuth2Consent(request: EmulatorRequest, context: EmulatorContext): Answer {
  const query = request.url.searchParams;
  const clientID = singleParam(query, 'client_id');
  if (clientID === null) return errorPage('Something went wrong', 'client_id was given more than once.', 'client_id repeated');
  if (!clientID) return errorPage('Something went wrong', 'The authorization request has no client_id.', 'no client_id');
  const client = clientByID(context, clientID);
  if (!client) {
    return errorPage('Something went wrong', 'The client_id is not the Client ID of any app of this emulator; use x.apps.confidential or x.apps.public.', 'unknown client_id');
  }
  const redirectURI = singleParam(query, 'redirect_uri');
  if (redirectURI === null) return errorPage('Something went wrong', 'redirect_uri was given more than once.', 'redirect_uri repeated');
  if (!redirectURI) return errorPage('Something went wrong', 'The authorization request has no redirect_uri.', 'no redirect_uri');
  const registered = registeredRedirectURIs(context, client);
  if (!isRegisteredOAuth2RedirectURI(registered, redirectURI)) {
    const near = nearMiss(registered, redirectURI);
    return errorPage(
      'Something went wrong',
      `The redirect_uri is not registered for ${client.name}. It must be exactly one of: ${registered.join(', ')}${near ? ` (${near})` : ''}. Register it in the fixtures (apps.*.callbackURLs) or with x.addCallbackURL().`,
      `redirect_uri not registered${near ? ` (${near})` : ''}`,
    );
  }

  const state = singleParam(query, 'state');
  const back = (error: string, description: string): Answer => {
    const params: Record<string, string> = { error, error_description: description };
    if (typeof state === 'string') params.state = state;
    return { ...redirect(appendQuery(redirectURI, params)), reason: description };
  };
  const repeated = AUTHORIZE_PARAMS.find((name) => query.getAll(name).length > 1);
  if (repeated) return back('invalid_request', `${repeated} was given more than once`);
  const responseType = query.get('response_type');
  if (!responseType) return back('invalid_request', 'response_type is required');
  if (responseType !== 'code') return back('unsupported_response_type', 'response_type must be code');
  if (!state) return back('invalid_request', 'state is required');
  if (state.length > MAX_STATE_LENGTH) return back('invalid_request', `state must be at most ${MAX_STATE_LENGTH} characters`);
  const scopes = parseScope(query.get('scope') ?? '');
  if (scopes.length === 0) return back('invalid_request', 'scope is required');
  const unknown = unknownScopes(scopes);
  if (unknown.length > 0) return back('invalid_scope', `unknown scope: ${unknown.join(' ')}`);
  // RFC 7636 section 4.4.1: a server that requires PKCE answers invalid_request, and so for a method it does not support.
  // X documents both methods ("S256 OR plain"); passport-x itself sends S256 only.
  const codeChallenge = query.get('code_challenge');
  if (!codeChallenge) return back('invalid_request', 'code_challenge is required');
  const codeChallengeMethod = query.get('code_challenge_method');
  if (codeChallengeMethod !== 'S256' && codeChallengeMethod !== 'plain') return back('invalid_request', 'code_challenge_method must be S256 or plain');
  if (codeChallengeMethod === 'S256' && !/^[A-Za-z0-9_-]{43}$/.test(codeChallenge)) return back('invalid_request', 'code_challenge is not an S256 challenge (43 base64url characters)');
  // RFC 7636 section 4.2: with plain, the challenge is the verifier itself. X's own examples send a
  // shorter one than RFC 7636's 43 characters (`code_challenge=challenge`, docs "OAuth 2.0
  // Authorization Code Flow with PKCE"; `"test"` in its TypeScript SDK's plain example), which X takes.
  if (codeChallengeMethod === 'plain' && !PLAIN_VERIFIER.test(codeChallenge)) return back('invalid_request', 'code_challenge is not a plain challenge (1 to 128 unreserved characters)');

  const pending = context.store.startAuthorization({ clientID, redirectURI, scopes, state, codeChallenge, codeChallengeMethod });
  return page(
    200,
    renderConsentPage({
      appName: client.name,
      permissions: scopes.map((scope) => ({ scope, description: X_SCOPES[scope as XKnownScope] })),
      users: context.fixtures.users,
      action: '/i/oauth2/authorize',
      hidden: { request_id: pending.id },
      returnTo: redirectURI,
    }),
  );
}

/**
 * `POST /i/oauth2/authorize`: the consent page's answer. "Authorize app" redirects with `code`
 * and `state`; "Cancel" with `error=access_denied` and `state`, as X does.
 */
export function decideOAuth2Consent(request: EmulatorRequest, context: EmulatorContext): Answer {
  const form = formParams(request);
  const action = form.get('action');
  const user = context.fixtures.users.find((u) => u.id === form.get('user_id'));
  if (action !== 'cancel' && (action !== 'authorize' || !user)) {
    return errorPage('Something went wrong', 'The form must post action=authorize (with the user_id of a fixture user) or action=cancel.', 'consent form without a known user_id and action');
  }
  const pending = context.store.pendingAuthorization(form.get('request_id') ?? '');
  if (!pending) {
    return errorPage('This page is no longer valid', 'This authorization request is unknown, expired or already answered. Start the sign-in again from the app.', 'unknown, used or expired request_id');
  }
  if (action === 'cancel') {
    context.store.dropAuthorization(pending.id);
    return redirect(appendQuery(pending.redirectURI, { error: 'access_denied', state: pending.state }));
  }
  // Answers the consent too (single use).
  const code = context.store.issueCode(pending, user!.id);
  return redirect(appendQuery(pending.redirectURI, { state: pending.state, code: code.code }));
}

// ---------------------------------------------------------------- Token endpoint

/**
 * Client authentication as X requires it: a confidential client sends HTTP Basic (RFC 6749
 * section 2.3.1); a public client sends `client_id` alone. X refuses a client without valid Basic
 * credentials with 401 `unauthorized_client` "Missing valid authorization header". X accepts a
 * `client_secret` in the body next to valid Basic credentials (widely used clients send both) and
 * ignores it; `strictClientAuthentication` refuses it, as RFC 6749 section 2.3 allows ("MUST NOT
 * use more than one authentication method in each request").
 */
function authenticateClient(request: EmulatorRequest, context: EmulatorContext, form: URLSearchParams): Readonly<XEmulatorOAuth2Client> | Answer {
  const refuse = (reason: string): Answer => oauth2Error(401, 'unauthorized_client', 'Missing valid authorization header', reason);
  const bodyClientID = singleParam(form, 'client_id');
  if (bodyClientID === null) return oauth2Error(400, 'invalid_request', 'client_id was given more than once.');
  const basic = basicCredentials(request);
  if (basic === null) return refuse('malformed Basic credentials');
  if (basic !== undefined) {
    const client = clientByID(context, basic.id);
    if (!client || client.clientSecret === undefined || !safeEqual(basic.secret, client.clientSecret)) {
      return refuse(client ? 'wrong client secret, or Basic credentials from a public client' : 'unknown client_id in Basic credentials');
    }
    if (bodyClientID !== undefined && bodyClientID !== basic.id) {
      return oauth2Error(400, 'invalid_request', 'client_id does not match the authorization header.', 'client_id in the body differs from the Basic credentials');
    }
    // Two methods in one request (RFC 6749 section 2.3): refused only when asked; X ignores the body's.
    if (context.strictClientAuthentication && form.has('client_secret')) {
      return oauth2Error(400, 'invalid_request', 'Send client credentials in the Authorization header (HTTP Basic) only, not in the body as well.', 'client_secret in the body next to Basic (strictClientAuthentication)');
    }
    return client;
  }
  if (header(request, 'authorization') !== undefined) return refuse('Authorization header is not Basic');
  if (!bodyClientID) return refuse('no client authentication and no client_id');
  const client = clientByID(context, bodyClientID);
  if (!client) return refuse('unknown client_id');
  if (client.clientSecret !== undefined) {
    return refuse(form.has('client_secret') ? 'confidential client with its secret in the body only, without Basic credentials' : 'confidential client without Basic credentials');
  }
  return client;
}

function isClient(value: Readonly<XEmulatorOAuth2Client> | Answer): value is Readonly<XEmulatorOAuth2Client> {
  return 'clientID' in value;
}

function tokenAnswer(access: OAuth2AccessTokenRecord, refresh: RefreshTokenRecord | undefined, context: EmulatorContext): Answer {
  const body: Record<string, unknown> = {
    token_type: 'bearer',
    // Whole seconds, rounded down: a client never believes a token lives longer than it does.
    expires_in: Math.floor(context.store.accessTokenTtlMs / 1000),
    access_token: access.token,
    scope: access.scopes.join(' '),
  };
  if (refresh) body.refresh_token = refresh.token;
  // RFC 6749 section 5.1: token answers are not cached.
  return json(200, body, { 'cache-control': 'no-store', pragma: 'no-cache' });
}

/** RFC 7636 section 4.1: 43 to 128 unreserved characters. */
const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
/** A plain challenge and its verifier, as X takes them: shorter than RFC 7636 allows (see the authorization request). */
const PLAIN_VERIFIER = /^[A-Za-z0-9\-._~]{1,128}$/;

function authorizationCodeGrant(form: URLSearchParams, client: Readonly<XEmulatorOAuth2Client>, context: EmulatorContext): Answer {
  const code = form.get('code');
  const redirectURI = form.get('redirect_uri');
  const codeVerifier = form.get('code_verifier');
  if (!code) return oauth2Error(400, 'invalid_request', 'Missing required parameter [code].');
  if (!redirectURI) return oauth2Error(400, 'invalid_request', 'Missing required parameter [redirect_uri].');
  if (!codeVerifier) return oauth2Error(400, 'invalid_request', 'Missing required parameter [code_verifier].');
  const invalidCode = (reason: string): Answer => oauth2Error(400, 'invalid_request', 'Value passed for the authorization code was invalid.', reason);
  const record = context.store.code(code);
  if (!record) return invalidCode('unknown or expired authorization code');
  if (record.usedAt !== undefined) {
    // RFC 6749 section 4.1.2: a code used twice revokes what it was exchanged for.
    context.store.revokeGrant(record.grantId);
    return invalidCode('authorization code already used; the tokens issued for it were revoked');
  }
  if (record.clientID !== client.clientID) return invalidCode('authorization code issued to another client');
  if (redirectURI !== record.redirectURI) {
    return oauth2Error(400, 'invalid_request', 'Value passed for the redirect uri did not match the uri of the authorization code.', 'redirect_uri differs from the authorized one');
  }
  const plain = record.codeChallengeMethod === 'plain';
  const expected = plain ? codeVerifier : s256Challenge(codeVerifier);
  if (!(plain ? PLAIN_VERIFIER : CODE_VERIFIER).test(codeVerifier) || !safeEqual(expected, record.codeChallenge)) {
    return oauth2Error(400, 'invalid_request', 'Value passed for the code verifier did not match the code challenge.', `code_verifier does not match the ${record.codeChallengeMethod} code_challenge`);
  }
  const { access, refresh } = context.store.exchangeCode(record);
  return tokenAnswer(access, refresh, context);
}

function refreshTokenGrant(form: URLSearchParams, client: Readonly<XEmulatorOAuth2Client>, context: EmulatorContext): Answer {
  const token = form.get('refresh_token');
  if (!token) return oauth2Error(400, 'invalid_request', 'Missing required parameter [refresh_token].');
  const invalidToken = (reason: string): Answer => oauth2Error(400, 'invalid_request', 'Value passed for the token was invalid.', reason);
  const record = context.store.refreshToken(token);
  if (!record) return invalidToken('unknown, used or revoked refresh token');
  if (record.clientID !== client.clientID) return invalidToken('refresh token issued to another client');
  let scopes = record.scopes;
  const asked = form.get('scope');
  if (asked !== null) {
    // RFC 6749 section 6: a refresh may narrow the access token's scopes, never widen them (the new
    // refresh token keeps the used one's).
    const requested = parseScope(asked);
    const extra = requested.filter((s) => !record.scopes.includes(s));
    if (requested.length === 0 || extra.length > 0) return oauth2Error(400, 'invalid_scope', 'The requested scope is invalid, unknown, or malformed.', 'refresh asked for scopes beyond the original grant');
    scopes = requested;
  }
  // X rotates refresh tokens: the one just used stops working (unless the emulator is over capacity).
  const { access, refresh } = context.store.rotateRefreshToken(record, scopes);
  return tokenAnswer(access, refresh, context);
}

/** `POST /2/oauth2/token`: the `authorization_code` and `refresh_token` grants. */
export function oauth2Token(request: EmulatorRequest, context: EmulatorContext): Answer {
  if (!isFormEncoded(request)) return oauth2Error(400, 'invalid_request', 'Content-Type must be application/x-www-form-urlencoded.');
  const form = formParams(request);
  const client = authenticateClient(request, context, form);
  if (!isClient(client)) return client;
  const repeated = ['grant_type', 'code', 'redirect_uri', 'code_verifier', 'refresh_token', 'scope'].find((name) => form.getAll(name).length > 1);
  if (repeated) return oauth2Error(400, 'invalid_request', `${repeated} was given more than once.`);
  const grantType = form.get('grant_type');
  if (grantType === 'authorization_code') return authorizationCodeGrant(form, client, context);
  if (grantType === 'refresh_token') return refreshTokenGrant(form, client, context);
  if (!grantType) return oauth2Error(400, 'invalid_request', 'Missing required parameter [grant_type].');
  return oauth2Error(400, 'unsupported_grant_type', 'grant_type must be authorization_code or refresh_token.');
}

/**
 * `POST /2/oauth2/revoke` (RFC 7009): revokes an access token, or a refresh token with every
 * token of its grant (section 2.1). An unknown token is answered like a revoked one (section 2.2).
 */
export function revokeOAuth2Token(request: EmulatorRequest, context: EmulatorContext): Answer {
  if (!isFormEncoded(request)) return oauth2Error(400, 'invalid_request', 'Content-Type must be application/x-www-form-urlencoded.');
  const form = formParams(request);
  const client = authenticateClient(request, context, form);
  if (!isClient(client)) return client;
  const token = singleParam(form, 'token');
  if (token === null) return oauth2Error(400, 'invalid_request', 'token was given more than once.');
  if (!token) return oauth2Error(400, 'invalid_request', 'Missing required parameter [token].');
  // X requires the hint, which RFC 7009 makes optional.
  if (!singleParam(form, 'token_type_hint')) return oauth2Error(400, 'invalid_request', 'Missing required parameter [token_type_hint].');
  const { store } = context;
  // RFC 7009 section 2.1: the hint only orders the look-up; an invalid hint is ignored.
  const access = store.oauth2AccessToken(token);
  const refresh = store.refreshToken(token);
  const owner = access?.clientID ?? refresh?.clientID;
  if (owner !== undefined && owner !== client.clientID) {
    return oauth2Error(400, 'unauthorized_client', 'The token was not issued to this client.', 'token issued to another client');
  }
  if (access) store.revokeOAuth2AccessToken(token);
  if (refresh) store.revokeGrant(refresh.grantId);
  return json(200, { revoked: true });
}

// ---------------------------------------------------------------- users/me

const UNSUPPORTED_APP_ONLY = {
  title: 'Unsupported Authentication',
  detail: 'Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].',
  type: 'https://api.twitter.com/2/problems/unsupported-authentication',
};

/** Who `/2/users/me` is asked about, whether the e-mail may be shown, and the headers every answer to this caller carries. */
interface UsersMeCaller {
  userId: string;
  /** The token may see `confirmed_email`. */
  withEmail: boolean;
  /** OAuth 2.0 only: the scopes `confirmed_email` needs and the token lacks. */
  missingForEmail: readonly string[];
  headers: Record<string, string>;
}

function usersMeCaller(request: EmulatorRequest, context: EmulatorContext): UsersMeCaller | Answer {
  const authorization = header(request, 'authorization') ?? '';
  if (/^oauth\s/i.test(authorization)) {
    // X API v2 takes OAuth 1.0a user context too; there the app's "Request email from users" decides.
    const caller = authenticateOAuth1(request, context, 'access');
    if (!('oauth' in caller)) return unauthorizedProblem(caller.reason ?? 'OAuth 1.0a authentication failed');
    const record = context.store.oauth1AccessToken(caller.token as string)!;
    const limited = userContextHeaders(request, context, caller, record.userId);
    if (!limited.allowed) return limited.refusal;
    return { userId: record.userId, withEmail: caller.app.requestEmail === true, missingForEmail: [], headers: limited.headers };
  }
  const match = /^bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) return unauthorizedProblem('no Bearer token');
  const token = match[1] as string;
  const record = context.store.oauth2AccessToken(token);
  if (!record) {
    if (context.store.bearerTokenApp(token) !== undefined) return problem(403, UNSUPPORTED_APP_ONLY, 'app-only bearer token on a user-context endpoint');
    return unauthorizedProblem('unknown, expired or revoked access token');
  }
  const missing = USERS_ME_SCOPES.filter((s) => !record.scopes.includes(s));
  if (missing.length > 0) return forbiddenProblem(`the token lacks the scope ${missing.join(' and ')}`);
  const limit = context.rateLimits.take(request.url.pathname, record.clientID, record.userId);
  if (!limit.allowed) return withHeaders(tooManyRequestsProblem('rate limit of /2/users/me used up for this user'), limit.headers);
  const scoped = record.scopes.includes(EMAIL_SCOPE);
  // Both the scope and the app's "Request email from users": without the setting, no e-mail (and no 403).
  const withEmail = scoped && clientByID(context, record.clientID)?.requestEmail !== false;
  return { userId: record.userId, withEmail, missingForEmail: scoped ? [] : [EMAIL_SCOPE], headers: limit.headers };
}

/** The query parameters `GET /2/users/me` takes (X doc "GET /2/users/me"). */
const USERS_ME_PARAMETERS: readonly string[] = ['expansions', 'tweet.fields', 'user.fields'];

/**
 * `GET /2/users/me`: the token's user. `user.fields` is honoured (an unknown field is a 400, as
 * on X); `confirmed_email` needs the `users.email` scope: asked without it, a 403 "Missing OAuth2
 * Scopes". The field is absent when the user has no confirmed address. Every answer to a known
 * caller carries its rate-limit state (75 requests per 15 minutes per user).
 */
export function usersMe(request: EmulatorRequest, context: EmulatorContext): Answer {
  const caller = usersMeCaller(request, context);
  if (!('userId' in caller)) return caller;
  // X takes only its three parameters, each once: anything else is a 400 (a v1.1 habit such as include_email).
  const invalidRequest = (parameters: Record<string, string[]>, message: string, reason: string): Answer =>
    withHeaders(
      problem(
        400,
        { title: 'Invalid Request', detail: 'One or more parameters to your request was invalid.', type: 'https://api.twitter.com/2/problems/invalid-request', errors: [{ parameters, message }] },
        reason,
      ),
      caller.headers,
    );
  for (const name of new Set(request.url.searchParams.keys())) {
    const values = request.url.searchParams.getAll(name);
    if (!USERS_ME_PARAMETERS.includes(name)) {
      return invalidRequest({ [name]: values }, `The query parameter [${name}] is not one of [${USERS_ME_PARAMETERS.join(',')}]`, `unknown query parameter ${name}`);
    }
    if (values.length > 1) return invalidRequest({ [name]: values }, `Duplicate parameters are not allowed: [${name}]`, `query parameter ${name} given more than once`);
  }
  const given = request.url.searchParams.get('user.fields');
  const fields = given === null ? [] : given.split(',');
  const invalid = fields.filter((f) => !X_USER_FIELDS.includes(f));
  if (invalid.length > 0) {
    return invalidRequest({ 'user.fields': invalid }, `The \`user.fields\` query parameter value [${invalid.join(',')}] is not one of [${X_USER_FIELDS.join(',')}]`, 'unknown user.fields value');
  }
  if (fields.includes('confirmed_email') && caller.missingForEmail.length > 0) {
    return withHeaders(missingScopesProblem(caller.missingForEmail, 'confirmed_email asked without the users.email scope'), caller.headers);
  }
  const user = context.fixtures.users.find((u) => u.id === caller.userId)!;
  return json(200, { data: v2User(user, fields, caller.withEmail) }, caller.headers);
}
