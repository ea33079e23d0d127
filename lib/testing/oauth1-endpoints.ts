/**
 * The OAuth 1.0a endpoints (X doc "Obtaining access tokens using 3-legged OAuth flow"), the
 * v1.1 calls made with the resulting tokens, and reverse auth. Every signed request is checked
 * as X checks it: HMAC-SHA1 signature (RFC 5849 section 3.4, by `oauth1-verifier.ts`), timestamp
 * within 300 s of the real clock, nonce not seen before, token known and issued to this consumer.
 */
import { randomInt } from 'node:crypto';
import { signOAuth1Request } from '../oauth1-signature';
import { oauth1Form, page, redirect, text, tooManyRequestsProblem, withHeaders, xError, X_ERRORS, type Answer } from './answers';
import { appendQuery, hasControlCharacter, isRegisteredOAuth1Callback, nearMiss } from './callback-urls';
import { renderCancelledPage, renderConsentPage, renderErrorPage, renderPinPage } from './consent-page';
import { formParams, header, isFalse, isTrue, type EmulatorContext, type EmulatorRequest } from './context';
import type { XEmulatorAccessLevel, XEmulatorOAuth1App } from './fixtures';
import { verifyOAuth1Request } from './oauth1-verifier';
import { randomToken, safeEqual } from './secrets';
import { LIFETIMES } from './token-store';
import { v1UserJSON } from './user-views';

/** Which token a signed request must carry. */
type TokenKind = 'none' | 'request' | 'access';

/** A signed request that passed every check. */
export interface OAuth1Caller {
  app: Readonly<XEmulatorOAuth1App>;
  /** The `oauth_*` parameters of the `Authorization` header, decoded. */
  oauth: Record<string, string>;
  /** Every signed parameter: `oauth_*`, query and form body. */
  params: Array<[string, string]>;
  /** The `oauth_token`, when the request carried one. */
  token: string | undefined;
}

function param(params: ReadonlyArray<[string, string]>, name: string): string | undefined {
  return params.find(([k]) => k === name)?.[1];
}

/**
 * Checks a signed request as X does, in X's order: credentials present and well-formed (215),
 * consumer key known and signature right (32), token known (89), timestamp within the window
 * (135), nonce fresh (32).
 */
export function authenticateOAuth1(request: EmulatorRequest, context: EmulatorContext, kind: TokenKind): OAuth1Caller | Answer {
  const app = context.fixtures.apps.oauth1;
  const { store } = context;
  const tokenSecret = (token: string): string | undefined => {
    if (kind === 'request') {
      const record = store.requestToken(token);
      return record?.consumerKey === app.consumerKey ? record.secret : undefined;
    }
    if (kind === 'access') {
      const record = store.oauth1AccessToken(token);
      return record?.consumerKey === app.consumerKey ? record.secret : undefined;
    }
    return undefined;
  };
  const verification = verifyOAuth1Request(
    { method: request.method, url: request.url.href, authorization: header(request, 'authorization'), body: request.body, contentType: header(request, 'content-type') },
    { consumerSecret: (key) => (key === app.consumerKey ? app.consumerSecret : undefined), tokenSecret },
  );
  if (!verification.ok) {
    switch (verification.reason) {
      case 'missing_header':
        return xError(X_ERRORS.badAuthenticationData, 'no OAuth Authorization header');
      case 'bad_header':
        return xError(X_ERRORS.badAuthenticationData, 'malformed OAuth Authorization header (missing, repeated or invalid oauth_* parameter)');
      case 'duplicate_parameter':
        return xError(X_ERRORS.badAuthenticationData, 'an oauth_* parameter given in more than one place (header, query or body)');
      case 'unsupported_method':
        return xError(X_ERRORS.couldNotAuthenticate, 'oauth_signature_method is not HMAC-SHA1');
      case 'unknown_consumer':
        return xError(X_ERRORS.couldNotAuthenticate, 'unknown oauth_consumer_key');
      case 'unknown_token':
        return xError(X_ERRORS.invalidToken, kind === 'request' ? 'unknown, used or expired request token' : 'unknown or invalidated oauth_token');
      case 'bad_signature':
        return xError(X_ERRORS.couldNotAuthenticate, 'the oauth_signature does not match the request');
    }
  }
  const { oauth } = verification;
  const token = oauth.oauth_token;
  if (kind !== 'none' && token === undefined) return xError(X_ERRORS.invalidToken, 'no oauth_token');
  const timestamp = oauth.oauth_timestamp as string;
  if (!/^\d{1,12}$/.test(timestamp)) return xError(X_ERRORS.badAuthenticationData, 'oauth_timestamp is not a number of seconds');
  // The real clock, which clients sign with, not the `now` option.
  if (Math.abs(context.timestampClock() / 1000 - Number(timestamp)) > LIFETIMES.timestampWindowS) {
    return xError(X_ERRORS.timestampOutOfBounds, `oauth_timestamp is more than ${LIFETIMES.timestampWindowS} s from the clock`);
  }
  // RFC 5849 section 3.3: unique for the timestamp, consumer key and token.
  const nonceKey = [app.consumerKey, token ?? '', timestamp, oauth.oauth_nonce].join('\n');
  if (!store.rememberNonce(nonceKey)) return xError(X_ERRORS.couldNotAuthenticate, 'oauth_nonce already used');
  return { app, oauth, params: verification.params, token };
}

function isCaller(value: OAuth1Caller | Answer): value is OAuth1Caller {
  return 'oauth' in value;
}

/**
 * Reverse auth step 1: the text of an `Authorization` header a mobile app sends on to X
 * (X doc "Reverse Auth"). The mobile step itself is not emulated.
 */
function reverseAuthParameters(request: EmulatorRequest, context: EmulatorContext, app: Readonly<XEmulatorOAuth1App>): Answer {
  const { header: parameters } = signOAuth1Request({
    method: 'POST',
    url: `${request.url.origin}/oauth/access_token`,
    consumerKey: app.consumerKey,
    consumerSecret: app.consumerSecret,
    token: randomToken(),
    tokenSecret: randomToken(),
    timestamp: Math.floor(context.timestampClock() / 1000),
  });
  return text(200, parameters);
}

/** `POST /oauth/request_token`: step 1, or reverse auth with `x_auth_mode=reverse_auth`. */
export function requestToken(request: EmulatorRequest, context: EmulatorContext): Answer {
  const caller = authenticateOAuth1(request, context, 'none');
  if (!isCaller(caller)) return caller;
  const mode = param(caller.params, 'x_auth_mode');
  if (mode === 'reverse_auth') return reverseAuthParameters(request, context, caller.app);
  if (mode !== undefined) return xError(X_ERRORS.couldNotAuthenticate, `x_auth_mode=${mode} is not emulated`);
  // RFC 5849 section 2.1: oauth_callback is required ("oob" for out-of-band), in the header, the
  // query or the body (section 3.5); X's own older examples put it in the query. The verifier has
  // refused it in more than one place (section 3.1).
  const callback = param(caller.params, 'oauth_callback');
  if (callback === undefined || callback === '') return xError(X_ERRORS.badAuthenticationData, 'no oauth_callback');
  // No registered URL has one (checkCallbackURL), and the query X lets the app add cannot bring one either.
  if (hasControlCharacter(callback)) return xError(X_ERRORS.callbackNotApproved, 'oauth_callback has a control character (a tab, a line break...)');
  const registered = context.callbacks.get('oauth1');
  if (callback !== 'oob' && !isRegisteredOAuth1Callback(registered, callback)) {
    const near = nearMiss(registered, callback);
    return xError(X_ERRORS.callbackNotApproved, `oauth_callback is not a registered callback URL of the app${near ? ` (${near})` : ''}`);
  }
  const record = context.store.issueRequestToken(caller.app.consumerKey, callback);
  return oauth1Form({ oauth_token: record.token, oauth_token_secret: record.secret, oauth_callback_confirmed: 'true' });
}

const ACCESS_LEVEL_PERMISSIONS: Record<XEmulatorAccessLevel, string[]> = {
  read: ['Read your posts, your profile and the accounts you follow.'],
  'read-write': ['Read your posts, your profile and the accounts you follow.', 'Post, follow and update your profile for you.'],
  'read-write-directmessages': [
    'Read your posts, your profile and the accounts you follow.',
    'Post, follow and update your profile for you.',
    'Read and send your Direct Messages.',
  ],
};

function invalidRequestTokenPage(): Answer {
  return {
    ...page(
      400,
      renderErrorPage(
        'This page is no longer valid',
        'The request token in this link is unknown, expired or already used. Start the sign-in again from the app: each sign-in gets a fresh request token from POST /oauth/request_token.',
      ),
    ),
    reason: 'unknown, used or expired request token',
  };
}

/** `GET /oauth/authenticate` and `GET /oauth/authorize`: the consent page for a request token. `screen_name` preselects that user. */
export function showOAuth1Consent(request: EmulatorRequest, context: EmulatorContext): Answer {
  const query = request.url.searchParams;
  const token = query.get('oauth_token');
  const record = token ? context.store.requestToken(token) : undefined;
  if (!token || !record || record.verifier !== undefined) return invalidRequestTokenPage();
  const app = context.fixtures.apps.oauth1;
  const screenName = query.get('screen_name')?.toLowerCase();
  const preselected = context.fixtures.users.find((u) => u.username.toLowerCase() === screenName);
  const permissions = ACCESS_LEVEL_PERMISSIONS[app.accessLevel ?? 'read-write'].map((description) => ({ description }));
  if (app.requestEmail) permissions.push({ description: 'See your email address.' });
  return page(
    200,
    renderConsentPage({
      appName: app.name,
      permissions,
      users: context.fixtures.users,
      selectedUserId: preselected?.id,
      action: '/oauth/authorize',
      hidden: { oauth_token: token },
      returnTo: record.callback === 'oob' ? undefined : record.callback,
    }),
  );
}

/**
 * `POST /oauth/authorize`: the consent page's answer. "Authorize app" redirects to the callback
 * with `oauth_token` and `oauth_verifier`; "Cancel" with `denied=<request token>`, as X does.
 * Out-of-band sign-ins get a page with the PIN (the verifier) instead.
 */
export function decideOAuth1Consent(request: EmulatorRequest, context: EmulatorContext): Answer {
  const form = formParams(request);
  const token = form.get('oauth_token');
  const record = token ? context.store.requestToken(token) : undefined;
  if (!token || !record || record.verifier !== undefined) return invalidRequestTokenPage();
  const app = context.fixtures.apps.oauth1;
  const action = form.get('action');
  if (action === 'cancel') {
    context.store.dropRequestToken(token);
    if (record.callback === 'oob') return page(200, renderCancelledPage(app.name));
    return redirect(appendQuery(record.callback, { denied: token }));
  }
  const user = context.fixtures.users.find((u) => u.id === form.get('user_id'));
  if (action !== 'authorize' || !user) {
    return {
      ...page(400, renderErrorPage('Something went wrong', 'The form must post action=authorize (with the user_id of a fixture user) or action=cancel.')),
      reason: 'consent form without a known user_id and action',
    };
  }
  record.userId = user.id;
  if (record.callback === 'oob') {
    // X's out-of-band verifier is a 7-digit PIN.
    record.verifier = String(randomInt(0, 10_000_000)).padStart(7, '0');
    return page(200, renderPinPage(app.name, record.verifier));
  }
  record.verifier = randomToken();
  return redirect(appendQuery(record.callback, { oauth_token: token, oauth_verifier: record.verifier }));
}

/** `POST /oauth/access_token`: step 3, signed with the authorized request token and carrying its `oauth_verifier`. Single use. */
export function accessToken(request: EmulatorRequest, context: EmulatorContext): Answer {
  const caller = authenticateOAuth1(request, context, 'request');
  if (!isCaller(caller)) return caller;
  const record = context.store.requestToken(caller.token as string)!;
  const verifier = param(caller.params, 'oauth_verifier');
  if (record.verifier === undefined || record.userId === undefined || verifier === undefined || !safeEqual(verifier, record.verifier)) {
    // X answers this one in plain text.
    return {
      ...text(401, 'Error processing your OAuth request: Invalid oauth_verifier parameter'),
      reason: record.verifier === undefined ? 'the request token was not authorized on the consent page' : 'missing or wrong oauth_verifier',
    };
  }
  const user = context.fixtures.users.find((u) => u.id === record.userId)!;
  // Issued first: over capacity (503), the request token stays usable.
  const access = context.store.issueOAuth1AccessToken(caller.app.consumerKey, user.id);
  context.store.dropRequestToken(record.token);
  return oauth1Form({ oauth_token: access.token, oauth_token_secret: access.secret, user_id: user.id, screen_name: user.username });
}

/**
 * `GET /1.1/account/verify_credentials.json`: the user of the access token. Honours
 * `include_email` (only when the app has "Request email from users"), `skip_status` and
 * `include_entities`; sends the app's permission in `x-access-level`.
 */
export function verifyCredentials(request: EmulatorRequest, context: EmulatorContext): Answer {
  const caller = authenticateOAuth1(request, context, 'access');
  if (!isCaller(caller)) return caller;
  const record = context.store.oauth1AccessToken(caller.token as string)!;
  const limited = userContextHeaders(request, context, caller, record.userId);
  if (!limited.allowed) return limited.refusal;
  const user = context.fixtures.users.find((u) => u.id === record.userId)!;
  const query = request.url.searchParams;
  const body = v1UserJSON(user, {
    email: isTrue(query.get('include_email')) && caller.app.requestEmail === true,
    status: !isTrue(query.get('skip_status')),
    entities: !isFalse(query.get('include_entities')),
  });
  return { status: 200, headers: { 'content-type': 'application/json; charset=utf-8', ...limited.headers }, body };
}

/** `POST /1.1/oauth/invalidate_token`: invalidates the access token the request is signed with. */
export function invalidateAccessToken(request: EmulatorRequest, context: EmulatorContext): Answer {
  const caller = authenticateOAuth1(request, context, 'access');
  if (!isCaller(caller)) return caller;
  const limited = userContextHeaders(request, context, caller, context.store.oauth1AccessToken(caller.token as string)!.userId);
  if (!limited.allowed) return limited.refusal;
  context.store.invalidateOAuth1AccessToken(caller.token as string);
  return { status: 200, headers: { 'content-type': 'application/json; charset=utf-8', ...limited.headers }, body: JSON.stringify({ access_token: caller.token }) };
}

/**
 * What every answer to a request signed with a user's access token carries: the app's permission
 * in `x-access-level`, and the endpoint's rate-limit state for this user (X doc "Rate limits").
 * Past the limit, the refusal to send instead: 429 code 88, in v1.1's format or v2's.
 */
export function userContextHeaders(
  request: EmulatorRequest,
  context: EmulatorContext,
  caller: OAuth1Caller,
  userId: string,
): { allowed: true; headers: Record<string, string> } | { allowed: false; refusal: Answer } {
  const path = request.url.pathname;
  const limit = context.rateLimits.take(path, caller.app.consumerKey, userId);
  const headers = { ...limit.headers, 'x-access-level': caller.app.accessLevel ?? 'read-write' };
  if (limit.allowed) return { allowed: true, headers };
  const refusal = path.startsWith('/2/')
    ? tooManyRequestsProblem(`rate limit of ${path} used up for this user`)
    : xError(X_ERRORS.rateLimitExceeded, `rate limit of ${path} used up for this user`);
  return { allowed: false, refusal: withHeaders(refusal, headers) };
}
