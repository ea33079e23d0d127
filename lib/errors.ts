/**
 * The error classes of passport-x.
 *
 * Every error has a stable, machine-readable `code` (a string constant), the HTTP
 * `status` when X answered, and the underlying error as `cause`. The raw response
 * is attached non-enumerably as `response`, so it is there for debugging but never
 * serialised into logs. No message ever contains a secret, a token or a verifier. Each error
 * also carries `userMessage`, a short sentence an error page may show the person signing in,
 * and `hint`, the developer's diagnosis and fix.
 *
 * @packageDocumentation
 */
import { X_OAUTH2_SCOPES } from './scopes';
import { inspect } from 'node:util';

/** Rate-limit state read from X's `x-rate-limit-*` response headers. */
export interface XRateLimit {
  /** `x-rate-limit-limit`: requests allowed in the window. */
  limit?: number;
  /** `x-rate-limit-remaining`: requests left in the window. */
  remaining?: number;
  /** `x-rate-limit-reset`: when the window resets. */
  reset?: Date;
}

/** A raw HTTP answer from X, attached non-enumerably to errors as `response`. */
export interface XRawResponse {
  /** HTTP status code. */
  status: number;
  /** Response headers. */
  headers: Headers;
  /** Response body as text (capped in size). */
  body: string;
}

/** The stable codes of passport-x errors. */
export const XErrorCode = {
  /** X answered a v1.1, v2 or OAuth 1.0a endpoint with an error. */
  API_ERROR: 'X_API_ERROR',
  /** X answered 429 Too Many Requests. */
  RATE_LIMITED: 'X_RATE_LIMITED',
  /** An OAuth 2.0 endpoint or the authorization callback answered with an OAuth error. */
  OAUTH_ERROR: 'X_OAUTH_ERROR',
  /** The request to X took longer than `timeoutMs`. */
  TIMEOUT: 'X_REQUEST_TIMEOUT',
  /** The caller's `AbortSignal` aborted the request. */
  ABORTED: 'X_REQUEST_ABORTED',
  /** The request never got an answer: DNS, TCP, TLS or socket failure. */
  NETWORK_ERROR: 'X_NETWORK_ERROR',
  /** X answered 2xx with a body that is not what X documents. */
  INVALID_RESPONSE: 'X_INVALID_RESPONSE',
  /** X's answer was larger than passport-x accepts. */
  RESPONSE_TOO_LARGE: 'X_RESPONSE_TOO_LARGE',
  /** The request-token answer lacked `oauth_callback_confirmed=true`. */
  CALLBACK_NOT_CONFIRMED: 'X_CALLBACK_NOT_CONFIRMED',
  /** The strategy needs a session (or a state store) and there was none, or `EncryptedCookieStateStore` could not set its cookie (no response on the request, or its headers already sent). */
  SESSION_REQUIRED: 'X_SESSION_REQUIRED',
  /** X answered 402: the app's pay-per-use credit balance is empty. Never retried. */
  CREDITS_DEPLETED: 'X_CREDITS_DEPLETED',
  /** X answered that a usage cap or spending limit is reached (usually 429 `UsageCapExceeded`). Never retried. */
  USAGE_CAP_EXCEEDED: 'X_USAGE_CAP_EXCEEDED',
  /** X answered 403: the token lacks an OAuth 2.0 scope the request needs ("Missing OAuth2 Scopes"). */
  MISSING_SCOPES: 'X_MISSING_SCOPES',
  /** A waiter gave up on a lock (`XTokenLock.withLock`) after its bound, or `XTokenManager` held one with too little time left for a request to X or a store call. */
  LOCK_TIMEOUT: 'X_LOCK_TIMEOUT',
  /** X refused the stored OAuth 2.0 refresh token (used, revoked or expired): the user must sign in again. */
  REFRESH_TOKEN_REVOKED: 'X_REFRESH_TOKEN_REVOKED',
  /** `XTokenManager` found no usable tokens stored for the user: the user must sign in (again). */
  TOKEN_NOT_FOUND: 'X_TOKEN_NOT_FOUND',
  /** The replay guard (`replayGuard`) failed to claim a sign-in callback: its store is down, it hung, or it answered nonsense. */
  REPLAY_GUARD_FAILED: 'X_REPLAY_GUARD_FAILED',
  /** `XTokenManager`'s token store failed or did not answer in time (`XTokenStoreError`). */
  TOKEN_STORE_FAILED: 'X_TOKEN_STORE_FAILED',
} as const;

/** One of the {@link XErrorCode} values. */
export type XErrorCodeValue = (typeof XErrorCode)[keyof typeof XErrorCode];

/** Options common to every passport-x error. */
export interface XErrorOptions {
  /** The HTTP status of X's answer, when there was one. */
  status?: number | undefined;
  /** The underlying error. */
  cause?: unknown;
  /** The raw answer, attached non-enumerably. */
  response?: XRawResponse | undefined;
  /** A short sentence for the person signing in (default: one per {@link XErrorCode}). */
  userMessage?: string | undefined;
  /** The developer's diagnosis and fix (default: the message). */
  hint?: string | undefined;
}

/** What the person is told when the app, not they, must fix something. */
const NOT_SET_UP_MESSAGE = 'Sign-in with X is not set up correctly on this site.';
/**
 * X's codes for the app's own set-up (X doc "Response codes"): 32 the keys, 135 this server's clock,
 * 215 the signing, 415 the callback URL, 453 the app's access. Signing in again cannot cure them.
 */
const SET_UP_CODES: ReadonlySet<number> = new Set([32, 135, 215, 415, 453]);

/** What the person is told when X itself is failing. */
const X_UNAVAILABLE_MESSAGE = 'X is not available right now. Try again in a few minutes.';

// What the person signing in is told, per code: short, nothing they cannot act on, no detail of X's answer.
const USER_MESSAGES: Readonly<Record<string, string>> = {
  X_API_ERROR: 'Signing in with X did not work. Try again later.',
  X_RATE_LIMITED: 'X is busy right now. Try again in a few minutes.',
  X_OAUTH_ERROR: 'Signing in with X did not work. Sign in again.',
  X_REQUEST_TIMEOUT: 'X did not answer in time. Try again in a moment.',
  X_REQUEST_ABORTED: 'The sign-in was interrupted. Sign in again.',
  X_NETWORK_ERROR: 'X could not be reached. Try again in a moment.',
  X_INVALID_RESPONSE: 'X answered in an unexpected way. Try again later.',
  X_RESPONSE_TOO_LARGE: 'X answered in an unexpected way. Try again later.',
  X_CALLBACK_NOT_CONFIRMED: NOT_SET_UP_MESSAGE,
  X_SESSION_REQUIRED: NOT_SET_UP_MESSAGE,
  X_CREDITS_DEPLETED: 'Sign-in with X is unavailable on this site right now. Try again later.',
  X_USAGE_CAP_EXCEEDED: 'Sign-in with X is unavailable on this site right now. Try again later.',
  X_MISSING_SCOPES: NOT_SET_UP_MESSAGE,
  X_LOCK_TIMEOUT: 'This is taking longer than usual. Try again in a moment.',
  X_REFRESH_TOKEN_REVOKED: 'Your authorization on X has ended. Sign in again.',
  X_TOKEN_NOT_FOUND: 'Sign in with X again.',
  X_REPLAY_GUARD_FAILED: 'Signing in with X did not work. Try again in a moment.',
  X_TOKEN_STORE_FAILED: 'Something went wrong on this site. Try again in a moment.',
};

/** The short sentence for the person signing in of an error with this code. */
function defaultUserMessage(code: string): string {
  return Object.hasOwn(USER_MESSAGES, code) ? (USER_MESSAGES[code] as string) : 'Signing in with X did not work. Try again later.';
}

/**
 * Base class of every error passport-x produces. Catch this to handle all of them.
 *
 * @example
 * ```ts
 * try { await refreshAccessToken({ clientID, refreshToken }); }
 * catch (err) { if (err instanceof XError) console.error(err.code, err.status); }
 * ```
 */
export class XError extends Error {
  /** Stable machine-readable code; see {@link XErrorCode}. */
  readonly code: XErrorCodeValue;
  /** HTTP status of X's answer, when there was one. */
  readonly status: number | undefined;
  /**
   * A short sentence for the person signing in ("Sign-in with X is unavailable on this site right
   * now. Try again later."): what an error page may show. Never holds X's answer or a secret.
   */
  readonly userMessage: string;
  /** For the developer: what happened and the fix (without the "X refused to ..." prefix of `message` where X answered). */
  readonly hint: string;
  /** The raw answer (non-enumerable: not serialised into logs). */
  declare readonly response: XRawResponse | undefined;

  constructor(code: XErrorCodeValue, message: string, options: XErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options.status;
    this.userMessage = options.userMessage ?? defaultUserMessage(code);
    this.hint = options.hint ?? message;
    Object.defineProperty(this, 'response', { value: options.response, enumerable: false, writable: false });
  }
}

/** One entry of X's `{"errors":[...]}` array. */
export interface XAPIErrorDetail {
  /** X's numeric error code (32, 89, 88, 135, 215...), when given. */
  code?: number;
  /** X's message. */
  message: string;
}

/** Options of {@link XAPIError}. */
export interface XAPIErrorOptions extends XErrorOptions {
  /** X's numeric error code of the first error, when given. */
  xCode?: number | undefined;
  /** X's message for the first error (or the problem `detail`). */
  xMessage?: string | undefined;
  /** Every error X listed. */
  errors?: XAPIErrorDetail[] | undefined;
  /** Problem JSON `title` (v2). */
  title?: string | undefined;
  /** Problem JSON `type` (v2). */
  type?: string | undefined;
  /** Problem JSON `detail` (v2). */
  detail?: string | undefined;
  /** Rate-limit headers, when present. */
  rateLimit?: XRateLimit | undefined;
}

/**
 * X answered an API or OAuth 1.0a endpoint with an error: a v1.1 `errors` array, a v2
 * problem JSON, XML (OAuth 1.0a's `<hash><error>` and `<errors><error code="...">`), plain
 * text, an HTML page from a proxy, or nothing at all.
 */
export class XAPIError extends XError {
  override readonly status: number;
  /** X's numeric error code (e.g. 89 "Invalid or expired token"), when X gave one. */
  readonly xCode: number | undefined;
  /** X's own message, when X gave one. */
  readonly xMessage: string | undefined;
  /** Every error X listed (`errors` array), possibly empty. */
  readonly errors: XAPIErrorDetail[];
  /** v2 problem `title`, when given. */
  readonly title: string | undefined;
  /** v2 problem `type`, when given. */
  readonly type: string | undefined;
  /** v2 problem `detail`, when given. */
  readonly detail: string | undefined;
  /** Rate-limit state from the `x-rate-limit-*` headers, when present. */
  readonly rateLimit: XRateLimit | undefined;

  constructor(message: string, options: XAPIErrorOptions & { status: number }, code: XErrorCodeValue = XErrorCode.API_ERROR) {
    super(code, message, options);
    this.status = options.status;
    this.xCode = options.xCode;
    this.xMessage = options.xMessage;
    this.errors = options.errors ?? [];
    this.title = options.title;
    this.type = options.type;
    this.detail = options.detail;
    this.rateLimit = options.rateLimit;
  }
}

/**
 * X answered 429: the rate limit of this endpoint is used up until {@link XRateLimitError.resetAt}.
 * A usage cap is not a rate limit: it is an {@link XUsageCapError}, which is not an instance of this class.
 */
export class XRateLimitError extends XAPIError {
  /** When the window resets (from `x-rate-limit-reset`), when X said. */
  readonly resetAt: Date | undefined;

  constructor(message: string, options: XAPIErrorOptions & { status: number }) {
    super(message, options, XErrorCode.RATE_LIMITED);
    this.resetAt = options.rateLimit?.reset;
  }
}

/** Options of {@link XCreditsDepletedError}. */
export interface XCreditsDepletedErrorOptions extends XAPIErrorOptions {
  /** X's `account_id` of the enrolled account, as a string (X writes it as a number too big for JS). */
  accountId?: string | undefined;
}

/**
 * X answered 402 Payment Required: the app's pay-per-use credit balance is empty (or below zero),
 * and X refuses every billed request, user reads (`users/me`, `verify_credentials`) included,
 * until someone adds credits in the Developer Console (X doc "Pricing": "API requests will be
 * blocked until you add credits"). X's body: `{"account_id":...,"title":"CreditsDepleted","detail":
 * "Your enrolled account [...] does not have any credits to fulfill this request.","type":
 * "https://api.twitter.com/2/problems/credits"}`, or from api.x.com `{"detail":"credits depleted","status":402,
 * "title":"Payment Required","type":"https://api.x.com/2/problems/credits-depleted"}`.
 *
 * Never retry it, and do not wait for `x-rate-limit-reset` (X sends the headers, with requests to
 * spare): only a top-up cures it. The OAuth 1.0a strategy's `profileFallback: 'token'` signs users in
 * anyway, with a partial profile; the OAuth 2.0 strategy's `skipUserProfile: true`, with none.
 */
export class XCreditsDepletedError extends XAPIError {
  declare readonly code: typeof XErrorCode.CREDITS_DEPLETED;
  /** X's `account_id` of the enrolled account, when X said. */
  readonly accountId: string | undefined;

  constructor(message: string, options: XCreditsDepletedErrorOptions & { status: number }) {
    super(message, options, XErrorCode.CREDITS_DEPLETED);
    this.accountId = options.accountId;
  }
}

/** Options of {@link XUsageCapError}. */
export interface XUsageCapErrorOptions extends XAPIErrorOptions {
  /** X's `period` of the cap (`Daily`, `Monthly`), when given. */
  period?: string | undefined;
  /** X's `scope` of the cap (`Account`, `Product`), when given. */
  capScope?: string | undefined;
  /** When the cap lifts (X's `reset_date`), when given. */
  resetAt?: Date | undefined;
}

/**
 * X refused the request because a usage cap or the spending limit of the billing cycle is reached:
 * 429 with a problem of type `https://api.twitter.com/2/problems/usage-capped`, title
 * `UsageCapExceeded` (`"detail":"Usage cap exceeded: Monthly product cap"`, with `period` and
 * `scope`), or X's `SpendCapReached`.
 *
 * Deliberately not a subclass of {@link XRateLimitError}: code that handles rate limits with
 * `err instanceof XRateLimitError` waits for `x-rate-limit-reset` and retries, which does not help
 * here (X sends those headers with requests to spare). The cap lifts with the next period or
 * billing cycle, or when the app's owner raises the spending limit in the Developer Console.
 * Never retried.
 */
export class XUsageCapError extends XAPIError {
  declare readonly code: typeof XErrorCode.USAGE_CAP_EXCEEDED;
  /** X's `period` of the cap (`Daily`, `Monthly`), when given. */
  readonly period: string | undefined;
  /** X's `scope` of the cap (`Account`, `Product`), when given. */
  readonly capScope: string | undefined;
  /** When the cap lifts (X's `reset_date`), when X said; never taken from `x-rate-limit-reset`. */
  readonly resetAt: Date | undefined;

  constructor(message: string, options: XUsageCapErrorOptions & { status: number }) {
    super(message, options, XErrorCode.USAGE_CAP_EXCEEDED);
    this.period = options.period;
    this.capScope = options.capScope;
    this.resetAt = options.resetAt;
  }
}

/** Options of {@link XMissingScopesError}. */
export interface XMissingScopesErrorOptions extends XAPIErrorOptions {
  /** The scopes the token lacks, when known. */
  missingScopes?: readonly string[] | undefined;
}

/**
 * X answered 403 "Missing OAuth2 Scopes": the access token lacks a scope the request needs, e.g.
 * `users.email` for the `confirmed_email` user field. `missingScopes` names them when X's answer
 * or the request tells (`confirmed_email` needs `users.email`, and "Request email from users" in the
 * app's settings in the X developer portal). The user must sign in again once the app asks for them.
 */
export class XMissingScopesError extends XAPIError {
  declare readonly code: typeof XErrorCode.MISSING_SCOPES;
  /** The scopes to add to the authorization request (possibly empty when neither X nor the request said). */
  readonly missingScopes: readonly string[];

  constructor(message: string, options: XMissingScopesErrorOptions & { status: number }) {
    super(message, options, XErrorCode.MISSING_SCOPES);
    this.missingScopes = Object.freeze([...(options.missingScopes ?? [])]);
  }
}

/** Options of {@link XOAuthError}. */
export interface XOAuthErrorOptions extends XErrorOptions {
  /** The OAuth `error` value (`invalid_request`, `invalid_grant`, ...). */
  error: string;
  /** `error_description`, when given. */
  description?: string | undefined;
  /** `error_uri`, when given. */
  uri?: string | undefined;
}

/** An OAuth 2.0 error (RFC 6749 section 5.2 / 4.1.2.1): from the token or revoke endpoint, or on the callback. */
export class XOAuthError extends XError {
  /** The OAuth `error` value, e.g. `invalid_grant`. */
  readonly error: string;
  /** `error_description`, when given. */
  readonly description: string | undefined;
  /** `error_uri`, when given. */
  readonly uri: string | undefined;

  constructor(message: string, options: XOAuthErrorOptions) {
    super(XErrorCode.OAUTH_ERROR, message, options);
    this.error = options.error;
    this.description = options.description;
    this.uri = options.uri;
  }
}

/** Codes an {@link XRequestError} can have. */
export type XRequestErrorCode =
  | typeof XErrorCode.TIMEOUT
  | typeof XErrorCode.ABORTED
  | typeof XErrorCode.NETWORK_ERROR
  | typeof XErrorCode.INVALID_RESPONSE
  | typeof XErrorCode.RESPONSE_TOO_LARGE
  | typeof XErrorCode.CALLBACK_NOT_CONFIRMED;

/**
 * The request to X did not produce a usable answer: time-out, abort, network failure,
 * or a body that is not what X documents. `cause` holds the underlying error.
 */
export class XRequestError extends XError {
  declare readonly code: XRequestErrorCode;

  constructor(code: XRequestErrorCode, message: string, options: XErrorOptions = {}) {
    super(code, message, options);
  }
}

/**
 * The strategy could not keep its pending-authorization state: no session middleware ran before
 * Passport and no `store` was given; or `EncryptedCookieStateStore` found no response on the request
 * to set its cookie on, or found the response's headers already sent.
 */
export class XSessionError extends XError {
  constructor(message: string) {
    super(XErrorCode.SESSION_REQUIRED, message);
  }
}

/** Options of {@link XLockTimeoutError}. */
export interface XLockTimeoutErrorOptions extends XErrorOptions {
  /** How long the waiter waited, in milliseconds. */
  waitedMs: number;
  /** How many times it tried to take the lock. */
  attempts: number;
}

/**
 * A caller waited for a lock (`XTokenLock.withLock`) longer than the lock's bound
 * (`acquireTimeoutMs`) while another holder kept it, or Redis did not answer the take, or answered
 * it with an error (then the `cause`). Nothing was run. Or `XTokenManager` held the lock with too little time left (its `XLockLease`) for a request to
 * X and the store call after it (a refresh, a revocation), or for a store call (`store()`'s read or
 * write, a delete): that request or call was not made (`attempts` 1).
 * Retry later; if this happens often, the work under the lock is slower than the lock's TTL and
 * bound allow.
 */
export class XLockTimeoutError extends XError {
  declare readonly code: typeof XErrorCode.LOCK_TIMEOUT;
  /** How long the waiter waited, in milliseconds. */
  readonly waitedMs: number;
  /** How many times it tried to take the lock. */
  readonly attempts: number;

  constructor(message: string, options: XLockTimeoutErrorOptions) {
    super(XErrorCode.LOCK_TIMEOUT, message, options);
    this.waitedMs = options.waitedMs;
    this.attempts = options.attempts;
  }
}

/**
 * X refused the user's stored refresh token (`XTokenManager`): it was already used, revoked
 * (the user removed the app, or `revokeToken`), or it expired. Nothing can refresh it: sign the
 * user in again. The manager deleted the stored tokens (when the store still held them) before throwing; `cause` holds X's answer
 * (an {@link XOAuthError}).
 *
 * @example
 * ```ts
 * import { XRefreshTokenRevokedError, XTokenNotFoundError } from 'passport-x';
 *
 * export function needsSignIn(err: unknown): boolean {
 *   return err instanceof XRefreshTokenRevokedError || err instanceof XTokenNotFoundError;
 * }
 * ```
 */
export class XRefreshTokenRevokedError extends XError {
  declare readonly code: typeof XErrorCode.REFRESH_TOKEN_REVOKED;

  constructor(message: string, options: XErrorOptions = {}) {
    super(XErrorCode.REFRESH_TOKEN_REVOKED, message, options);
  }
}

/** Why {@link XTokenNotFoundError} was thrown. */
export type XTokenNotFoundReason =
  /** The store holds nothing for the user. */
  | 'no-entry'
  /** The stored access token expired (or a refresh was asked) and there is no refresh token: the sign-in lacked `offline.access`. */
  | 'no-refresh-token';

/**
 * `XTokenManager` has no usable tokens for the user: none are stored (`reason: 'no-entry'`),
 * or the stored access token cannot be renewed because the sign-in did not ask for
 * `offline.access` (`reason: 'no-refresh-token'`). Sign the user in (again).
 */
export class XTokenNotFoundError extends XError {
  declare readonly code: typeof XErrorCode.TOKEN_NOT_FOUND;
  /** Why there is no usable token. */
  readonly reason: XTokenNotFoundReason;

  constructor(message: string, reason: XTokenNotFoundReason) {
    super(XErrorCode.TOKEN_NOT_FOUND, message);
    this.reason = reason;
  }
}

/** Which call of the token store ({@link XTokenStoreError.operation}). */
export type XTokenStoreOperation = 'get' | 'set' | 'delete';

/** How a token store call failed: it rejected (`'failed'`) or did not settle within the manager's `timeoutMs` (`'timeout'`). */
export type XTokenStoreFailure = 'failed' | 'timeout';

/** Options of {@link XTokenStoreError}. */
export interface XTokenStoreErrorOptions extends XErrorOptions {
  /** The store call that failed. */
  operation: XTokenStoreOperation;
  /** Whether it rejected or did not settle in time. */
  reason: XTokenStoreFailure;
  /** True when X had rotated the tokens and the store refused the new pair, which the manager keeps in the process. */
  rotatedPairKept?: boolean | undefined;
}

/**
 * `XTokenManager`'s token store (`XTokenStore`) failed: a `get`, `set` or `delete` rejected
 * (`reason: 'failed'`; `cause` is the store's error, with every token the manager knew redacted
 * from it: ioredis, for one, attaches the command's arguments, the JSON of the tokens) or did not
 * settle within the manager's `timeoutMs` (`reason: 'timeout'`, no `cause`). Retry later.
 *
 * `rotatedPairKept` is true when X had already rotated the tokens and the store refused to save
 * the new pair: the manager keeps that pair in this process's memory (no caller got it) and writes
 * it before anything else on the next call for the user. If the process ends first, or another
 * instance refreshes the user before that (it reads the spent refresh token from the store, X refuses
 * it, and the stored tokens are deleted), the pair is lost, and the user must sign in again.
 */
export class XTokenStoreError extends XError {
  declare readonly code: typeof XErrorCode.TOKEN_STORE_FAILED;
  /** The store call that failed. */
  readonly operation: XTokenStoreOperation;
  /** Whether it rejected (`'failed'`) or did not settle in time (`'timeout'`). */
  readonly reason: XTokenStoreFailure;
  /** True when a rotated pair the store refused is kept in this process, to be written on the next call. */
  readonly rotatedPairKept: boolean;

  constructor(message: string, options: XTokenStoreErrorOptions) {
    super(XErrorCode.TOKEN_STORE_FAILED, message, options);
    this.operation = options.operation;
    this.reason = options.reason;
    this.rotatedPairKept = options.rotatedPairKept ?? false;
  }
}

/**
 * The strategy's replay guard could not claim a sign-in callback (Redis down, a time-out, a
 * custom guard's bug), so the sign-in was stopped before anything was sent to X. `cause` holds
 * what the guard reported.
 */
export class XReplayGuardError extends XError {
  constructor(message: string, cause?: unknown) {
    super(XErrorCode.REPLAY_GUARD_FAILED, message, cause === undefined ? {} : { cause });
  }
}

/**
 * A credential sent as HTTP Basic client authentication (RFC 6749 section 2.3.1, X doc
 * "Application-only authentication"): the client ID or consumer key, and its secret.
 */
export interface XBasicCredential {
  /** The client ID or consumer key (not secret, but part of the Base64 text). */
  id: string;
  /** The client secret or consumer secret. */
  secret: string;
}

/** What {@link redactSecrets} scrubs: a secret as sent, or a pair sent as HTTP Basic (`undefined` is skipped). */
export type XRedactable = string | XBasicCredential | undefined;

// A lone UTF-16 surrogate, which encodeURIComponent throws on and UTF-8 sends as U+FFFD.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

// Any control character (Unicode category Cc: C0, DEL, C1).
const CONTROL_CHARACTER = /\p{Cc}/u;

/**
 * Whether `value` holds a control character (CR, LF, NUL, ...): no credential X issues does, and
 * one with CR/LF would split the header it is sent in.
 */
export function hasControlCharacter(value: string): boolean {
  return CONTROL_CHARACTER.test(value);
}

/** Whether `value` holds a lone UTF-16 surrogate (String.prototype.isWellFormed, ES2024, negated). */
export function hasLoneSurrogate(value: string): boolean {
  LONE_SURROGATE.lastIndex = 0;
  return LONE_SURROGATE.test(value);
}

/** `value` with each lone surrogate replaced by U+FFFD, as UTF-8 sends it (String.prototype.toWellFormed, ES2024). */
export function wellFormed(value: string): string {
  return value.replace(LONE_SURROGATE, '\ufffd');
}

// RFC 3986 section 2.1, as OAuth 1.0a header values are encoded (RFC 5849 section 3.6).
function rfc3986(value: string): string {
  return encodeURIComponent(wellFormed(value)).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

// application/x-www-form-urlencoded (WHATWG URL standard): a space becomes '+'.
function formEncoded(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/**
 * The spellings a credential can take in an answer or a cause: as sent (also inside `Bearer <token>`),
 * percent-encoded (encodeURIComponent, RFC 3986 as in `oauth_token="..."`, lower-case hex),
 * form-encoded (`+` for a space), percent-decoded (X's app-only bearer tokens carry %2B, %2F, %3D),
 * JSON-escaped (also `\/`), and for a Basic pair the Base64 of `enc(id):enc(secret)` and of `id:secret`.
 */
export function redactableSpellings(credential: XRedactable): string[] {
  if (credential === undefined) return [];
  const secret = typeof credential === 'string' ? credential : credential.secret;
  if (typeof secret !== 'string' || secret.length < 4) return [];
  const out = new Set([secret, wellFormed(secret), encodeURIComponent(wellFormed(secret)), rfc3986(secret), formEncoded(secret), secret.replace(/\//g, '\\/')]);
  for (const encoded of [...out]) out.add(encoded.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()));
  const json = JSON.stringify(secret).slice(1, -1);
  out.add(json);
  out.add(json.replace(/\//g, '\\/'));
  try {
    out.add(decodeURIComponent(secret));
  } catch {
    /* not percent-encoded */
  }
  if (typeof credential !== 'string' && typeof credential.id === 'string') {
    const { id } = credential;
    for (const pair of [`${formEncoded(id)}:${formEncoded(secret)}`, `${id}:${secret}`, `${rfc3986(id)}:${rfc3986(secret)}`]) {
      const basic = base64(pair);
      out.add(basic);
      out.add(encodeURIComponent(basic)); // Base64 is ASCII: no lone surrogate here
    }
  }
  return [...out].filter((s) => s.length >= 4);
}

/**
 * Replaces each secret that occurs in `text` with `[redacted]`, in every spelling of
 * {@link redactableSpellings}: as sent, percent-encoded, form-encoded, percent-decoded,
 * JSON-escaped, and as HTTP Basic credentials for an `{ id, secret }` pair. Secrets shorter than
 * 4 characters are left alone (they would mangle any text).
 */
export function redactSecrets(text: string, secrets: ReadonlyArray<XRedactable>): string {
  return redactSpellings(text, spellingsOf(secrets));
}

/**
 * Every spelling of `secrets`, longest first across all of them (so no spelling is left half-replaced
 * by a shorter one): made once for all the texts of one answer, since an answer can hold hundreds of
 * thousands of strings and making them costs microseconds.
 */
function spellingsOf(secrets: ReadonlyArray<XRedactable>): string[] {
  return [...new Set(secrets.flatMap((s) => redactableSpellings(s)))].sort((a, b) => b.length - a.length);
}

/** `text` with each of `spellings` (from {@link spellingsOf}) replaced by `[redacted]`. */
function redactSpellings(text: string, spellings: readonly string[]): string {
  // The shortest spelling is the last: a shorter text holds none.
  if (spellings.length === 0 || text.length < spellings[spellings.length - 1]!.length) return text;
  let out = text;
  for (const spelling of spellings) if (out.includes(spelling)) out = out.split(spelling).join('[redacted]');
  return out;
}

// Names of fields that carry credentials in X's answers (OAuth 1.0a forms, OAuth 2.0 JSON).
const CREDENTIAL_FIELD = /^(?!token_type$).*(token|secret|verifier|password)|^code$/i;

// `key=value`, `"key": "value"`, `key: value` in a text no parser could read: the key, then its value.
// A key starts only where a run of key characters starts (the lookbehind): tried from every character
// of a long run instead, the pattern took time in the square of the run's length (a 1 MB answer, hours).
const KEYED_VALUE_IN_TEXT = /(["']?)(?<![A-Za-z0-9_.%-])([A-Za-z0-9_.%-]+)\1(\s*[:=]\s*)("(?:[^"\\]|\\.)*"?|'[^']*'?|[^\s&,;}"'<>]+)/g;

// A run of the characters X's tokens, secrets, codes and verifiers are made of, long enough to be one.
const TOKEN_LIKE_RUN = /[A-Za-z0-9\-._~+/%]{24,}/g;
const TOKEN_LIKE = /^[A-Za-z0-9\-._~+/%=]{24,}$/;

// An own property even for the key `__proto__` (which JSON.parse makes an own key): plain assignment would set the prototype.
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function redactJSON(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  // Deeper than parseJSONText lets through: nothing kept of it (never unredacted).
  if (depth >= MAX_JSON_NESTING) return '[redacted]';
  if (Array.isArray(value)) return value.map((v) => redactJSON(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    setOwn(out, k, CREDENTIAL_FIELD.test(k) && v !== null && v !== undefined && typeof v !== 'object' ? '[redacted]' : redactJSON(v, depth + 1));
  }
  return out;
}

/**
 * Makes a 2xx answer safe to attach to an error (X answered, but not as documented, so the body
 * may hold live credentials X just issued):
 * - JSON: the values of credential fields (`access_token`, `refresh_token`, `oauth_token_secret`,
 *   `code`, ...) at any depth become `[redacted]`;
 * - form-encoded: the values of credential fields, and every value of 24 or more token characters;
 * - anything else (truncated JSON, text, HTML, bytes no parser reads): every `key=value` /
 *   `"key": value` of a credential field, then every run of 24 or more token characters, since a
 *   value whose key is cut off or missing cannot be told from a token.
 */
export function redactCredentials(body: string): string {
  const trimmed = body.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    // Not JSON, or nested deeper than X's answers ever are: redacted as text.
    const parsed = parseJSONText(trimmed);
    if (parsed !== undefined) return JSON.stringify(redactJSON(parsed));
  }
  if (/^[^\s<{]*=/.test(trimmed)) {
    // Form-encoded: the values of credential fields, and any value long enough to be a token.
    return trimmed
      .split('&')
      .map((pair) => {
        const eq = pair.indexOf('=');
        if (eq < 0) return TOKEN_LIKE.test(pair) ? '[redacted]' : pair;
        const key = pair.slice(0, eq);
        const value = pair.slice(eq + 1);
        return CREDENTIAL_FIELD.test(decodeURIComponentSafe(key)) || TOKEN_LIKE.test(value) ? `${key}=[redacted]` : pair;
      })
      .join('&');
  }
  const keyed = body.replace(KEYED_VALUE_IN_TEXT, (whole, quote: string, key: string, separator: string, value: string) => {
    if (!CREDENTIAL_FIELD.test(decodeURIComponentSafe(key))) return whole;
    const quoted = value.startsWith('"') ? '"' : value.startsWith("'") ? "'" : '';
    return `${quote}${key}${quote}${separator}${quoted}[redacted]${quoted}`;
  });
  return keyed.replace(TOKEN_LIKE_RUN, '[redacted]');
}

/**
 * `raw` with {@link redactCredentials} applied to its body, and any of `secrets` (what was sent)
 * redacted in every spelling: how a 2xx answer is attached to an error.
 */
export function redactedAnswer(raw: XRawResponse, secrets: ReadonlyArray<XRedactable> = []): XRawResponse {
  const spellings = spellingsOf(secrets);
  // Each field named: an answer of sendToX makes its `headers` when read (a getter no spread copies).
  // redactedBody has checked the decoded form that redactCredentials writes out for a JSON answer.
  // The headers as errorFromResponse scrubs them: something in X's place may echo the request's.
  return { status: raw.status, headers: redactedHeaders(raw.headers, spellings), body: redactCredentials(redactedBody(raw.body, spellings)) };
}

/**
 * `body` with every one of `spellings` redacted, to attach to an error or quote from. A secret may
 * hide from that behind JSON's `\u` escapes or XML's character references and CDATA sections,
 * which a parser or a reader undoes: when the decoded form shows one, the decoded form, redacted,
 * instead (JSON written out anew; XML with its references and CDATA sections decoded).
 */
function redactedBody(body: string, spellings: readonly string[]): string {
  const text = redactSpellings(body, spellings);
  if (spellings.length === 0) return text;
  // JSON, its escapes decoded (each string as its parser reads it); then, JSON or not, the decodings
  // of decodedForms (character references in a JSON string too).
  const parsed = parseJSONText(text);
  return decodedForms(parsed === undefined ? text : decodedIfItShows(text, JSON.stringify(parsed), spellings), spellings);
}

/**
 * `text` (already redacted as it is) with every decoding a secret could hide behind checked in
 * turn: XML's character references, JSON's escapes, percent-encoding (every octet, RFC 3986 section
 * 2.4). Each is checked on its own: chained unchecked, a later one could undo what an earlier one
 * showed (a secret with `\n` in it, its backslash written `&#92;`). A decoding is kept only where it
 * shows a secret, so X's text is otherwise shown as it came.
 */
function decodedForms(text: string, spellings: readonly string[]): string {
  const shownXML = text.includes('&') || text.includes('<![CDATA[') ? decodedIfItShows(text, decodeXMLText(text), spellings) : text;
  const shownJSON = decodedIfItShows(shownXML, decodeJSONEscapes(shownXML), spellings);
  return shownJSON.includes('%') ? decodedIfItShows(shownJSON, decodePercent(shownJSON), spellings) : shownJSON;
}

/** Every run of `%XX` octets decoded: as UTF-8 where it is, else each octet as one character. */
function decodePercent(text: string): string {
  return text.replace(/(?:%[0-9a-f]{2})+/gi, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run.replace(/%([0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    }
  });
}

/** `decoded` (a decoding of `text`) with `spellings` redacted, when it shows one of them; else `text` as it is. */
function decodedIfItShows(text: string, decoded: string, spellings: readonly string[]): string {
  const redacted = redactSpellings(decoded, spellings);
  return redacted === decoded ? text : redacted;
}

// A proxy or an X error page may echo request headers back in its own: scrub those too.
function redactedHeaders(headers: Headers, spellings: readonly string[]): Headers {
  if (spellings.length === 0) return headers;
  let changed = false;
  const out = new Headers();
  headers.forEach((value, name) => {
    const clean = redactSpellings(value, spellings);
    if (clean !== value) changed = true;
    out.append(name, clean);
  });
  return changed ? out : headers;
}

/** How `redactError` prints what it checks: whole, as `util.inspect` shows an error to a log. */
// Every level (`util.inspect` stops at cycles): a secret nested deeper than a shallower print shows is still found.
const PRINT_WHOLE = { depth: Infinity, maxStringLength: Infinity, maxArrayLength: Infinity, breakLength: Infinity } as const;

/** How deep a chain of causes (and `errors` of an AggregateError) `redactError` follows; deeper ones are left out. */
const MAX_CAUSE_DEPTH = 8;

/**
 * `err` itself when no spelling of `secrets` shows in its message, stack, own properties, cause
 * chain or (an AggregateError's) `errors`; else a copy (same class name, `code`, redacted message
 * and stack) with its causes redacted the same way. A rejection that is not an `Error` (a string,
 * a plain object) that shows a secret becomes its printed form, redacted; a chain deeper than 8
 * is cut there. For the causes of network failures, which a `fetch` implementation may write with
 * a header value or the body it sent in them (undici quotes an invalid `authorization` header).
 */
export function redactError(err: unknown, secrets: ReadonlyArray<XRedactable>): unknown {
  return redactErrorWith(err, spellingsOf(secrets), 0);
}

/** {@link redactError} with the spellings made once for the whole chain. */
function redactErrorWith(err: unknown, spellings: readonly string[], depth: number): unknown {
  if (spellings.length === 0 || err === undefined || err === null) return err;
  const shows = (text: string): boolean => spellings.some((sp) => text.includes(sp));
  if (depth > MAX_CAUSE_DEPTH) {
    const printed = inspect(err, PRINT_WHOLE);
    return shows(printed) ? `[a cause ${MAX_CAUSE_DEPTH} levels deep, left out: it shows a secret]` : err;
  }
  if (!(err instanceof Error)) {
    const printed = typeof err === 'string' ? err : inspect(err, PRINT_WHOLE);
    return shows(printed) ? redactSpellings(printed, spellings) : err;
  }
  const { cause, ...own } = err as Error & { cause?: unknown };
  // An AggregateError's `errors` is not enumerable, but util.inspect prints it.
  const errors = Array.isArray((err as { errors?: unknown }).errors) ? ((err as unknown as { errors: unknown[] }).errors) : undefined;
  const redactedCause = redactErrorWith(cause, spellings, depth + 1);
  const redactedErrors = errors?.map((e) => redactErrorWith(e, spellings, depth + 1));
  const errorsChanged = errors !== undefined && redactedErrors!.some((e, i) => e !== errors[i]);
  if (redactedCause === cause && !errorsChanged && !shows(`${err.message}\n${err.stack ?? ''}\n${inspect(own, PRINT_WHOLE)}`)) return err;
  const message = redactSpellings(err.message, spellings);
  const options = redactedCause === undefined ? undefined : { cause: redactedCause };
  const copy = err instanceof AggregateError ? new AggregateError(redactedErrors ?? [], message, options) : new Error(message, options);
  copy.name = err.name;
  copy.stack = redactSpellings(err.stack ?? '', spellings);
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') Object.defineProperty(copy, 'code', { value: code, enumerable: true });
  if (redactedErrors !== undefined && !(copy instanceof AggregateError)) Object.defineProperty(copy, 'errors', { value: redactedErrors, writable: true, configurable: true });
  return copy;
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

const MAX_DATE_MS = 8.64e15;

/** Reads X's `x-rate-limit-*` headers; `undefined` when none is present. */
export function parseRateLimit(headers: Headers): XRateLimit | undefined {
  const num = (name: string): number | undefined => {
    const value = headers.get(name);
    if (value === null || value.trim() === '') return undefined;
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  };
  const limit = num('x-rate-limit-limit');
  const remaining = num('x-rate-limit-remaining');
  const reset = num('x-rate-limit-reset');
  if (limit === undefined && remaining === undefined && reset === undefined) return undefined;
  const out: XRateLimit = {};
  if (limit !== undefined) out.limit = limit;
  if (remaining !== undefined) out.remaining = remaining;
  // x-rate-limit-reset is epoch seconds: a negative value or one past the last representable Date
  // (ECMA-262 section 21.4.1.22, 8.64e15 ms) is not X's, and is dropped: an Invalid Date makes
  // toISOString() throw later, in this module's own message or in the app.
  if (reset !== undefined && reset >= 0 && reset * 1000 <= MAX_DATE_MS) out.reset = new Date(reset * 1000);
  return out;
}

// What a user can do about X's commonest sign-in error codes (X doc "Response codes").
const X_CODE_HINTS: Record<number, string> = {
  32: 'Check the consumer key and secret (or client ID and secret), and that this server\'s clock is right.',
  89: 'The token is invalid, expired or revoked: sign the user in again.',
  99:
    'X refused the app-only credentials: check the consumer key and secret. X also answers this when the bearer token is asked for too often (X doc "POST oauth2/token": "Tokens received by this method should be cached"): ' +
    'keep the token getBearerToken gave (X gives the same one until it is invalidated) and retry later; and to invalidating a bearer token that is unknown or already invalidated.',
  130: 'X is over capacity: retry later, with a back-off.',
  131: 'X failed internally: retry later, with a back-off.',
  135: 'This server\'s clock is too far from X\'s: synchronise it (NTP).',
  215: 'The request was not signed as X expects: check the consumer key and secret.',
  453:
    'X does not give this app (its access level, or its project) this endpoint: check the app\'s access and project in the X developer portal. For an OAuth 1.0a sign-in\'s profile (account/verify_credentials, a v1.1 endpoint), ' +
    'pass `skipExtendedUserProfile: true` (the profile from the access-token answer), or sign in with OAuth 2.0 (XOAuth2PkceStrategy, the profile from 2/users/me).',
  415: 'X refused the callback URL: register `callbackURL` exactly (scheme, host, port, path and trailing slash; localhost and 127.0.0.1 are different hosts) under "Callback URI / Redirect URL" in the app\'s User authentication settings in the X developer portal (on passport-x\'s X emulator: in its `apps.*.callbackURLs` fixtures, or with `x.addCallbackURL()`).',
};

// What a user can do about an OAuth 2.0 error (RFC 6749 section 5.2, RFC 7009 section 2.2.1).
const OAUTH_ERROR_HINTS: Record<string, string> = {
  invalid_grant: 'The code or refresh token was already used, expired or revoked: start the sign-in again.',
  // X answers invalid_request ("Value passed for the token was invalid.") for a used or revoked refresh token too.
  invalid_request:
    'A parameter is missing or invalid; X also answers this for a code or refresh token that was already used, expired or revoked: check the request, or start the sign-in again.',
  invalid_client: 'Check the client ID, client secret and the client type set in the X developer portal.',
  unauthorized_client: 'Check the client ID, client secret and the client type set in the X developer portal.',
  unsupported_token_type: 'X does not revoke this kind of token: pass an access or refresh token X issued to this client.',
};

/** What the person is told for an OAuth error that signing in again cannot cure (RFC 6749 sections 4.1.2.1 and 5.2). */
const OAUTH_USER_MESSAGES: Readonly<Record<string, string>> = {
  // The app's credentials, type or request: nothing the person can do about it.
  invalid_client: NOT_SET_UP_MESSAGE,
  unauthorized_client: NOT_SET_UP_MESSAGE,
  unsupported_grant_type: NOT_SET_UP_MESSAGE,
  unsupported_response_type: NOT_SET_UP_MESSAGE,
  invalid_scope: NOT_SET_UP_MESSAGE,
  // X itself, for now.
  server_error: X_UNAVAILABLE_MESSAGE,
  temporarily_unavailable: X_UNAVAILABLE_MESSAGE,
};

/**
 * What X's `invalid_request` says when the request, not the code or token, is at fault: a missing
 * parameter, the redirect_uri, the client (read on X's redacted words: a code the caller made up
 * may have replaced a piece of them, never these). Internal.
 */
export const OAUTH_REQUEST_PROBLEM = /missing required parameter|redirect|client|content-type|more than once|grant_type/i;

/**
 * The `userMessage` of an {@link XOAuthError} with RFC 6749 error code `error` and X's
 * `description`: for the app's configuration (its credentials, type, scopes, or an
 * `invalid_request` about the request itself), "not set up correctly on this site"; for X's own
 * trouble, "try again in a few minutes"; otherwise undefined (the code's default: sign in again). Internal.
 */
export function oauthUserMessage(error: string, description?: string): string | undefined {
  if (error === 'invalid_request' && description !== undefined && OAUTH_REQUEST_PROBLEM.test(description)) return NOT_SET_UP_MESSAGE;
  return Object.hasOwn(OAUTH_USER_MESSAGES, error) ? OAUTH_USER_MESSAGES[error] : undefined;
}

const MAX_TEXT_IN_MESSAGE = 200;

/** `text` on one line, without control characters (a log line must not be split or coloured by it), cut at 200 characters. Internal. */
export function shortText(text: string): string {
  const oneLine = text.replace(/[\s\p{Cc}]+/gu, ' ').trim();
  return oneLine.length > MAX_TEXT_IN_MESSAGE ? `${oneLine.slice(0, MAX_TEXT_IN_MESSAGE)}...` : oneLine;
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/**
 * How deeply a JSON answer read for an error may nest: X's nest three or four levels. Deeper JSON
 * is read as text: JSON.stringify and the redaction walk recurse, and some thousands of levels (a
 * 10 kB answer) overflow the stack, which would turn X's refusal into an untyped RangeError.
 */
const MAX_JSON_NESTING = 32;

/** Whether `text` nests its arrays and objects at most `max` deep (strings skipped; linear, no recursion). */
function jsonNestsWithin(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return false;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return true;
}

/** `body` parsed as JSON, or undefined when it is not JSON or nests deeper than {@link MAX_JSON_NESTING}. */
function parseJSONText(body: string): unknown {
  if (!jsonNestsWithin(body, MAX_JSON_NESTING)) return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** `text` with JSON's string escapes (`\u0041`, `\/`, `\"`...) decoded in one pass, as a parser reads them in strings. */
function decodeJSONEscapes(text: string): string {
  if (!text.includes('\\')) return text;
  return text.replace(/\\(?:u([0-9a-fA-F]{4})|(["\\/bfnrt]))/g, (_m, hex: string | undefined, c: string | undefined) => {
    if (hex !== undefined) return String.fromCharCode(parseInt(hex, 16));
    return JSON_ESCAPES[c as string] as string;
  });
}
const JSON_ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

function redactStrings(value: unknown, spellings: readonly string[], depth = 0): unknown {
  if (typeof value === 'string') return spellings.length === 0 ? value : decodedForms(redactSpellings(value, spellings), spellings);
  if (value === null || typeof value !== 'object' || spellings.length === 0) return value;
  // Deeper than parseJSONText lets through: nothing kept of it (never unredacted).
  if (depth >= MAX_JSON_NESTING) return '[redacted]';
  if (Array.isArray(value)) return value.map((v) => redactStrings(v, spellings, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) setOwn(out, k, redactStrings(v, spellings, depth + 1));
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// OAuth 1.0a endpoints may answer XML: `<hash><error>msg</error><request>/oauth/request_token</request></hash>`,
// or `<errors><error code="415">msg</error></errors>` (X's answers quoted in passport-twitter's tests and issue trackers).
const XML_ERROR = /<error(?:\s+code\s*=\s*["'](\d+)["'])?\s*>([\s\S]*?)<\/error\s*>/gi;
// How much of an XML answer is searched for `<error>` elements: X's are a few hundred bytes. Each
// `<error>` left open makes the search scan to the end, so a long answer full of them took time in
// the square of its length.
const MAX_XML_SCANNED = 8 * 1024;
// X's words for its code 415 (X doc "Error codes": "Callback URL not approved for this client application...").
const CALLBACK_NOT_APPROVED_TEXT = /^Callback URL not approved for this client application\b/i;

function decodeXMLText(text: string): string {
  return withoutCDATAMarkup(text)
    .replace(/&#(\d+);/g, (_m, n: string) => String.fromCodePoint(Math.min(Number(n), 0x10ffff)))
    .replace(/&#x([0-9a-f]+);/gi, (_m, n: string) => String.fromCodePoint(Math.min(parseInt(n, 16), 0x10ffff)))
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/**
 * `text` with each CDATA section replaced by its content, in one pass: a pattern's lazy search for
 * the section's end, tried again from each of thousands of unclosed `<![CDATA[`, took time in the
 * square of the length (1 MiB of them, seconds).
 */
function withoutCDATAMarkup(text: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const open = text.indexOf('<![CDATA[', at);
    if (open < 0) break;
    const close = text.indexOf(']]>', open + 9);
    // No section closes after this one opens: none of the later ones can either.
    if (close < 0) break;
    out += text.slice(at, open) + text.slice(open + 9, close);
    at = close + 3;
  }
  return at === 0 ? text : out + text.slice(at);
}

/** The `<error>` elements of an XML answer, each message redacted once decoded, or undefined when the body is not such XML. */
function xmlErrors(body: string, contentType: string, spellings: readonly string[]): XAPIErrorDetail[] | undefined {
  const text = body.trim();
  if (!/xml/i.test(contentType) && !/^<\?xml\b/i.test(text) && !/^<(hash|errors)\s*>/i.test(text)) return undefined;
  const scanned = text.slice(0, MAX_XML_SCANNED);
  const matches = [...scanned.matchAll(XML_ERROR)];
  const decoded = matches.map((match) => decodeXMLText(match[2] ?? ''));
  // Read from X's own text, each message redacted on its own. A secret the answer echoes outside any
  // single message (across an element's end: a callback's verifier with `</error><error>` in it, which
  // X never issues) could show in pieces, one per message: then no message is shown, only the codes.
  // Only a secret with markup in it can span elements: one without (a verifier of `code="89"`) may
  // coincide with X's own markup, which must not hide X's messages. The whole text is decoded only for such a secret.
  const withMarkup = spellings.filter((spelling) => spelling.includes('<'));
  const whole = withMarkup.length > 0 ? decodeXMLText(scanned) : '';
  const spanned = withMarkup.some((spelling) => whole.includes(spelling) && !decoded.some((message) => message.includes(spelling)));
  const out: XAPIErrorDetail[] = [];
  matches.forEach((match, i) => {
    const message = spanned ? '[redacted]' : decodedForms(redactSpellings(decoded[i] as string, spellings), spellings).trim();
    const entry: XAPIErrorDetail = { message: message === '' ? 'unknown error' : message };
    if (match[1] !== undefined) entry.code = Number(match[1]);
    // The `<hash>` form has no code: its refusal of a callback URL is X's code 415, read as such.
    else if (CALLBACK_NOT_APPROVED_TEXT.test(message)) entry.code = 415;
    out.push(entry);
  });
  return out.length > 0 ? out : undefined;
}

/** X's numbers too big for JS (`account_id`), read as written. */
function bigNumberField(body: string, name: string): string | undefined {
  return new RegExp(`"${name}"\\s*:\\s*"?(\\d{1,30})"?`).exec(body)?.[1];
}

/** A scope token (RFC 6749 section 3.3: printable ASCII but the space, the double quote and the backslash), at most 100 characters. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]{1,100}$/;

/** The scopes a "Missing OAuth2 Scopes" answer names: in a list field, or in its text. */
function scopesNamed(json: Record<string, unknown>, texts: Array<string | undefined>): string[] {
  const found = new Set<string>();
  for (const key of ['missing_scopes', 'required_scopes', 'scopes']) {
    const value = json[key];
    // Only what can be a scope (RFC 6749 section 3.3, at most 100 characters): the list goes into a hint and a log line.
    if (Array.isArray(value)) for (const v of value) if (typeof v === 'string' && SCOPE_TOKEN.test(v)) found.add(v);
  }
  const text = texts.filter((t) => t !== undefined).join(' ');
  // A scope as a word of its own: "users.email." at the end of a sentence counts, "users.emails" does not.
  for (const scope of X_OAUTH2_SCOPES) if (new RegExp(`(^|[^\\w.])${scope.replace(/\./g, '\\.')}(?![\\w-]|\\.\\w)`).test(text)) found.add(scope);
  return [...found];
}

/**
 * What X answered, as an {@link XAPIError} carries it: for an error that re-reads one (a more
 * specific class or hint for the same answer) to keep every field of X's. Internal.
 */
export function xAnswerOf(err: XAPIError): XAPIErrorOptions & { status: number } {
  return { status: err.status, xCode: err.xCode, xMessage: err.xMessage, errors: err.errors, title: err.title, type: err.type, detail: err.detail, rateLimit: err.rateLimit, response: err.response };
}

/** `err`'s message without the hint it ends with (what X said, for a new hint to follow). Internal. */
export function messageWithoutHint(err: XError): string {
  return err.message.endsWith(` ${err.hint}`) ? err.message.slice(0, -(err.hint.length + 1)) : err.message;
}

/**
 * The developer's fix for a missing scope: which scope to add, and for `users.email` also the
 * portal setting (X doc "OAuth 2.0 Authorization Code Flow with PKCE", "Scopes"; "Data dictionary").
 */
export function missingScopesHint(missingScopes: readonly string[]): string {
  const which = missingScopes.length > 0 ? `the OAuth 2.0 scope ${missingScopes.join(' and ')}` : 'an OAuth 2.0 scope this request needs';
  const email = missingScopes.includes('users.email')
    ? ' For `confirmed_email` use `includeEmail: true` (it adds users.email) and turn on "Request email from users" in the app\'s User authentication settings in the X developer portal.'
    : '';
  return `The access token lacks ${which}: add it to the strategy's \`scope\` option, and have the user sign in again (a token keeps the scopes it was issued with).${email}`;
}

// Where X's billing layer answers: 402 and the `.../problems/credits` type (CreditsDepleted,
// SpendCapReached) or `.../problems/credits-depleted` (title "Payment Required", detail "credits
// depleted", as api.x.com answers it), and the `.../problems/usage-capped` type (UsageCapExceeded).
// X doc "Response codes": 429 "Rate limit or usage cap exceeded"; the bodies are X's as quoted in
// xdk #25 and elsewhere.
const CREDITS_TYPE = /\/2\/problems\/credits(-depleted)?$/;
const USAGE_CAP_TYPE = /\/2\/problems\/usage-cap(ped|-exceeded)$/;
const USAGE_CAP_TITLES = new Set(['UsageCapExceeded', 'UsageCapped', 'SpendCapReached']);
const MISSING_SCOPES = /missing\b.*\bscopes?\b/i;
// How much of a title or detail is searched for MISSING_SCOPES: X's are one sentence. The `.*` scans
// to the end from each "missing", so a long text repeating it took time in the square of its length.
const MAX_SCOPE_TEXT = 1024;
const saysMissingScopes = (text: string | undefined): boolean => text !== undefined && MISSING_SCOPES.test(text.slice(0, MAX_SCOPE_TEXT));

/**
 * Turns a non-2xx answer from X into the right typed error: {@link XCreditsDepletedError} for 402 (but
 * `SpendCapReached`, whatever its status, which is a spending limit),
 * {@link XUsageCapError} for a usage cap or spending limit, {@link XRateLimitError} for any other 429,
 * {@link XOAuthError} for an OAuth 2.0 `error` body, {@link XMissingScopesError} for a 403 "Missing
 * OAuth2 Scopes", {@link XAPIError} for everything else (`errors` arrays, v2 problem JSON, XML,
 * text, HTML, empty). Each message says what X answered and, where known, what to do; each error
 * carries a `userMessage` for the person signing in and a `hint` for the developer. `secrets` are
 * scrubbed from every text taken from the body.
 *
 * @param response - the raw answer
 * @param operation - what was being done, for the message (e.g. "get an access token")
 * @param secrets - values that must never appear in the message
 */
export function errorFromResponse(response: XRawResponse, operation: string, secrets: ReadonlyArray<XRedactable> = []): XError {
  const { status } = response;
  // Every spelling of every secret, made once for the body, each header and each string of its JSON.
  const spellings = spellingsOf(secrets);
  const body = redactedBody(response.body, spellings);
  const headers = redactedHeaders(response.headers, spellings);
  const rateLimit = parseRateLimit(headers);
  // Parsed from X's own text, then redacted value by value (JSON escapes such as `\/` cannot hide a
  // spelling from that): a secret the caller chose (a callback's `code` of "error") that is a piece of
  // X's answer must not change how the answer is read, only what of it is shown.
  const parsed = parseJSONText(response.body);
  const json = redactStrings(parsed, spellings);
  const contentType = headers.get('content-type') ?? '';
  const prefix = `X refused to ${operation} (HTTP ${status})`;
  const record = isRecord(json) ? json : {};
  const title = asString(record.title);
  const type = asString(record.type);
  const detail = asString(record.detail);

  // SpendCapReached is a spending limit (it lifts at its reset date), whatever status X sends it with.
  const spendCap = title === 'SpendCapReached';
  const billing = !spendCap && (status === 402 || title === 'CreditsDepleted' || (type !== undefined && CREDITS_TYPE.test(type)));
  const capped = !billing && ((type !== undefined && USAGE_CAP_TYPE.test(type)) || (title !== undefined && USAGE_CAP_TITLES.has(title)));

  if (!billing && !capped && isRecord(json) && typeof json.error === 'string' && status !== 429) {
    const description = asString(json.error_description);
    const uri = asString(json.error_uri);
    // One of RFC 6749's (or RFC 7009's) error codes is a fixed word, shown as X sent it even when a
    // secret redacted from the answer happened to spell it; anything else, as redacted.
    const said = (parsed as Record<string, unknown>).error as string;
    const error = Object.hasOwn(OAUTH_ERROR_HINTS, said) ? said : json.error;
    const known = Object.hasOwn(OAUTH_ERROR_HINTS, error) ? OAUTH_ERROR_HINTS[error] : undefined;
    const hint = known ?? 'See RFC 6749 section 5.2 (RFC 7009 section 2.2.1 for revocation) for what this error means.';
    return new XOAuthError(`${prefix}: ${shortText(error)}${description ? ` (${shortText(description)})` : ''}. ${hint}`, {
      error,
      description,
      uri,
      status,
      userMessage: oauthUserMessage(error, description),
      hint,
      response: { status, headers, body },
    });
  }

  const errors: XAPIErrorDetail[] = [];
  if (Array.isArray(record.errors)) {
    for (const e of record.errors) {
      if (!isRecord(e)) continue;
      const message = asString(e.message) ?? asString(e.detail) ?? asString(e.title) ?? 'unknown error';
      const entry: XAPIErrorDetail = { message };
      if (typeof e.code === 'number') entry.code = e.code;
      errors.push(entry);
    }
  }
  // From X's own text, as the JSON above, each message redacted: a secret the caller chose (a callback's
  // verifier of `code="89"`) must not change how the answer is read.
  const xml = json === undefined ? xmlErrors(response.body, contentType, spellings) : undefined;
  if (xml) errors.push(...xml);
  const first = errors[0];
  const xCode = first?.code;
  const xMessage = first?.message ?? detail ?? title;

  let what: string;
  if (xMessage !== undefined) {
    // X's messages often end in a period, and the message adds its own.
    what = `${xCode !== undefined ? `code ${xCode}: ` : ''}${shortText(xMessage).replace(/\.+$/, '')}`;
  } else if (response.body.trim() === '') {
    what = 'with an empty body';
    // X labels its OAuth 1.0a answers text/html even when they are plain text: only markup is a page.
    // Told from X's own text, as the rest: never from what the redaction of a secret left of it.
  } else if (/^\s*</.test(response.body) || (/html/i.test(contentType) && /<[a-z!/]/i.test(response.body))) {
    what = 'with an HTML page, most likely from a proxy or load balancer between this server and X';
  } else {
    what = shortText(body);
  }

  const options: XAPIErrorOptions & { status: number } = {
    status,
    xCode,
    xMessage: xMessage === undefined ? undefined : shortText(xMessage),
    errors,
    title,
    type,
    detail,
    rateLimit,
    response: { status, headers, body },
  };
  const said = `${title !== undefined && detail !== undefined && title !== detail ? `${shortText(title)}: ` : ''}${what}`;

  if (billing) {
    const hint =
      'The app\'s pay-per-use credit balance on X is used up, and X refuses billed requests (user reads included) until it is topped up: add credits, or turn on auto-recharge, in the X Developer Console (console.x.com). Retrying does not help before that. XOAuth1Strategy\'s `profileFallback: \'token\'` signs users in meanwhile, with a partial profile; XOAuth2PkceStrategy\'s `skipUserProfile: true`, with none.';
    return new XCreditsDepletedError(`${prefix}: the app's credits are depleted (${said}). ${hint}`, { ...options, hint, accountId: bigNumberField(body, 'account_id') });
  }
  if (capped) {
    const period = asString(record.period);
    const capScope = asString(record.scope);
    const resetDate = asString(record.reset_date);
    const resetAt = resetDate !== undefined && !Number.isNaN(Date.parse(resetDate)) ? new Date(resetDate) : undefined;
    const which = shortText([period, capScope].filter((v) => v !== undefined).join(' ')).toLowerCase();
    const next = period === 'Daily' ? 'day' : period === 'Monthly' ? 'month' : 'period or billing cycle';
    const hint =
      `A ${which ? `${which} ` : ''}usage cap or the spending limit of the app's X account is reached${resetAt ? ` until ${resetAt.toISOString()}` : ''}: raise the spending limit in the X Developer Console (console.x.com), or wait for the next ${next}. ` +
      'This is not a rate limit: waiting for x-rate-limit-reset and retrying does not help.';
    return new XUsageCapError(`${prefix}: a usage cap is reached (${said}). ${hint}`, { ...options, hint, period, capScope, resetAt });
  }
  if (status === 429 || xCode === 88) {
    const reset = rateLimit?.reset;
    const hint = reset ? `Retry after ${reset.toISOString()}.` : 'Retry later.';
    return new XRateLimitError(`${prefix}: rate limit exceeded (${what}). ${hint}`, { ...options, hint, status });
  }
  if (status === 403 && (saysMissingScopes(title) || (type !== undefined && /\/missing-scopes$/.test(type)) || saysMissingScopes(detail))) {
    const missingScopes = scopesNamed(record, [title, detail]);
    const hint = missingScopesHint(missingScopes);
    return new XMissingScopesError(`${prefix}: ${said}. ${hint}`, { ...options, hint, missingScopes });
  }

  let hint = xCode !== undefined ? X_CODE_HINTS[xCode] : undefined;
  if (hint === undefined && (status === 401 || status === 403) && xCode === undefined) {
    hint = 'Check the app\'s keys and the token, and the permissions set for the app in the X developer portal.';
  }
  if (hint === undefined && status >= 500) hint = 'X or something in between is failing: retry later.';
  let userMessage: string | undefined;
  if (status >= 500) userMessage = X_UNAVAILABLE_MESSAGE;
  else if (xCode === 89) userMessage = 'Your authorization on X has ended. Sign in again.';
  else if (xCode !== undefined && SET_UP_CODES.has(xCode)) userMessage = NOT_SET_UP_MESSAGE;
  // The hint is enumerable (JSON.stringify shows it): it never quotes the body, which the message alone carries.
  const fallback = `X refused the request with HTTP ${status}; the error's message quotes X's answer.`;
  return new XAPIError(`${prefix}: ${what}.${hint ? ` ${hint}` : ''}`, { ...options, hint: hint ?? fallback, userMessage });
}
