/**
 * The emulator's answers, in X's formats: each handler returns an {@link Answer}, and the
 * server writes it. Refusals come from the helpers here, so each format lives in one place:
 * v1.1 and OAuth 1.0a `{"errors":[{"code":...,"message":...}]}` (X doc "Response codes"),
 * OAuth 2.0 `{"error":...,"error_description":...}` (RFC 6749 section 5.2), and v2 problem JSON
 * (X API v2 doc "Error handling").
 */

/** What a handler answers. `reason` says why a request was refused, for the request log; it never holds a secret. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
  reason?: string;
}

/** A JSON answer. */
export function json(status: number, value: unknown, headers: Record<string, string> = {}): Answer {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify(value) };
}

/** A text answer. */
export function text(status: number, body: string, contentType = 'text/plain; charset=utf-8'): Answer {
  return { status, headers: { 'content-type': contentType }, body };
}

/**
 * X answers the OAuth 1.0a token endpoints form-encoded but labelled `text/html`; the emulator
 * does the same, so a client that trusts the content type fails here as it would against X.
 */
export function oauth1Form(params: Record<string, string>): Answer {
  return text(200, new URLSearchParams(params).toString(), 'text/html; charset=utf-8');
}

// The consent pages load nothing and run no script; their form posts to the emulator, which redirects.
// No form-action directive: Chromium applies it to the redirect after the POST, which leaves for the app.
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https:",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** An HTML page. */
export function page(status: number, html: string): Answer {
  return { status, headers: { ...PAGE_HEADERS }, body: html };
}

/**
 * A URL as a `Location` header carries it: each character outside printable ASCII percent-encoded
 * as UTF-8, as a browser requests it. Node refuses a header with a character past U+00FF, and a
 * control character could end the header.
 */
export function headerSafeURL(url: string): string {
  if (/^[!-~]*$/.test(url)) return url;
  let out = '';
  for (const character of url) {
    const code = character.codePointAt(0) as number;
    if (code > 0x20 && code < 0x7f) out += character;
    else for (const byte of Buffer.from(character, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** A redirect (RFC 6749 section 4.1.2 uses 302 Found) to `location`, made safe for the header. */
export function redirect(location: string): Answer {
  return { status: 302, headers: { location: headerSafeURL(location), 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }, body: '' };
}

/** One of X's v1.1 / OAuth 1.0a errors: its HTTP status, code and message. */
export interface XErrorKind {
  status: number;
  code: number;
  message: string;
  label?: string;
}

/** The v1.1 and OAuth 1.0a errors the emulator answers, with X's codes and messages (X doc "Response codes"). */
export const X_ERRORS = {
  /** 32: the signature, consumer key or nonce was refused. */
  couldNotAuthenticate: { status: 401, code: 32, message: 'Could not authenticate you.' },
  /** 34: no such endpoint. */
  notFound: { status: 404, code: 34, message: 'Sorry, that page does not exist.' },
  /** 88: the rate limit of the endpoint is used up for this user. */
  rateLimitExceeded: { status: 429, code: 88, message: 'Rate limit exceeded' },
  /** 89: unknown, expired or invalidated token. */
  invalidToken: { status: 401, code: 89, message: 'Invalid or expired token.' },
  /** 99: app-only credentials refused, or a bearer token to invalidate that is unknown or already invalidated. */
  unableToVerify: { status: 403, code: 99, message: 'Unable to verify your credentials', label: 'authenticity_token_error' },
  /** 130: X is over capacity (HTTP 503). */
  overCapacity: { status: 503, code: 130, message: 'Over capacity' },
  /** 131: the emulator failed (X: "Internal error"). */
  internal: { status: 500, code: 131, message: 'Internal error' },
  /** 135: `oauth_timestamp` too far from the server's clock. */
  timestampOutOfBounds: { status: 401, code: 135, message: 'Timestamp out of bounds.' },
  /** 170: `grant_type` missing on the app-only token endpoint. */
  missingGrantType: { status: 403, code: 170, message: 'Missing required parameter: grant_type', label: 'forbidden_missing_parameter' },
  /** 215: no or malformed OAuth credentials. */
  badAuthenticationData: { status: 400, code: 215, message: 'Bad Authentication data.' },
  /** 415: `oauth_callback` is not registered for the app. */
  callbackNotApproved: {
    status: 403,
    code: 415,
    message: 'Callback URL not approved for this client application. Approved callback URLs can be adjusted in your application settings',
  },
} as const satisfies Record<string, XErrorKind>;

/** A v1.1 / OAuth 1.0a refusal: `{"errors":[{"code":32,"message":"Could not authenticate you."}]}`. */
export function xError(kind: XErrorKind, reason: string): Answer {
  const entry: Record<string, unknown> = { code: kind.code, message: kind.message };
  if (kind.label !== undefined) entry.label = kind.label;
  return { ...json(kind.status, { errors: [entry] }), reason };
}

/**
 * An OAuth 2.0 token or revocation endpoint refusal (RFC 6749 section 5.2). A 401 carries
 * `WWW-Authenticate: Basic`, as section 5.2 requires for failed client authentication.
 */
export function oauth2Error(status: number, error: string, description: string, reason: string = description): Answer {
  const headers: Record<string, string> = { 'cache-control': 'no-store', pragma: 'no-cache' };
  if (status === 401) headers['www-authenticate'] = 'Basic realm="X emulator"';
  return { ...json(status, { error, error_description: description }, headers), reason };
}

/** A v2 problem (X API v2 doc "Error handling"), `application/problem+json`. */
export function problem(status: number, fields: { title: string; detail: string; type?: string; [key: string]: unknown }, reason: string): Answer {
  const { title, detail, type, ...rest } = fields;
  const body = { title, type: type ?? 'about:blank', status, detail, ...rest };
  return { status, headers: { 'content-type': 'application/problem+json; charset=utf-8' }, body: JSON.stringify(body), reason };
}

/** The v2 answer to a missing, unknown, expired or revoked bearer token. */
export function unauthorizedProblem(reason: string): Answer {
  return problem(401, { title: 'Unauthorized', detail: 'Unauthorized' }, reason);
}

/** The v2 answer to a token without the scopes an endpoint needs. */
export function forbiddenProblem(reason: string): Answer {
  return problem(403, { title: 'Forbidden', detail: 'Forbidden' }, reason);
}

/**
 * The v2 answer to a request for a field the token's scopes do not cover (`confirmed_email` without
 * `users.email`). X documents neither the body nor the type; this is the emulator's reading of X's
 * "Missing OAuth2 Scopes" title.
 */
export function missingScopesProblem(scopes: readonly string[], reason: string): Answer {
  return problem(
    403,
    {
      title: 'Missing OAuth2 Scopes',
      detail: `The access token is missing the OAuth2 scopes this request needs: ${scopes.join(', ')}.`,
      type: 'https://api.twitter.com/2/problems/missing-scopes',
    },
    reason,
  );
}

/** The v2 answer to a request past the endpoint's rate limit (X doc "Rate limits"). */
export function tooManyRequestsProblem(reason: string): Answer {
  return problem(429, { title: 'Too Many Requests', detail: 'Too Many Requests' }, reason);
}

/** Adds headers to an answer (the rate-limit state, `x-access-level`). */
export function withHeaders(answer: Answer, headers: Record<string, string>): Answer {
  return { ...answer, headers: { ...answer.headers, ...headers } };
}
