/**
 * How a strategy reports a refused sign-in. Two audiences read it: the person signing in gets
 * `message` (one short sentence they can act on: what passport's `failureMessage` shows), the
 * developer gets `hint` (what happened, the likely causes and the fix, never a secret) on the
 * failure's info and in a log line printed once per strategy instance and code.
 */

/** The stable codes of a strategy's `fail()`: what refused the sign-in. */
export const XFailureCode = {
  /** The user pressed Cancel on X's consent page. */
  ACCESS_DENIED: 'X_ACCESS_DENIED',
  /** The callback's query is malformed: a parameter missing, empty, repeated or not a string. */
  CALLBACK_MALFORMED: 'X_CALLBACK_MALFORMED',
  /** The session holds no pending sign-in at all (the classic "Failed to find request token in session"). */
  NO_PENDING_SIGN_IN: 'X_NO_PENDING_SIGN_IN',
  /** The callback's state or request token was not issued to this session, or was already used. */
  CALLBACK_UNKNOWN: 'X_CALLBACK_UNKNOWN',
  /** The pending sign-in expired before the callback came. */
  SIGN_IN_EXPIRED: 'X_SIGN_IN_EXPIRED',
  /** Another request with the same callback is already completing this sign-in (a double click, a reload). */
  SIGN_IN_IN_PROGRESS: 'X_SIGN_IN_IN_PROGRESS',
  /** X refused the code or verifier: it expired (X's codes live 30 s) or was already used. */
  GRANT_REFUSED: 'X_GRANT_REFUSED',
  /** An OAuth error on the callback other than Cancel that is not trusted (a custom store's `drop()` did not vouch for the state) or is none of RFC 6749's codes. */
  AUTHORIZATION_REFUSED: 'X_AUTHORIZATION_REFUSED',
} as const;

/** One of the {@link XFailureCode} values. */
export type XFailureCodeValue = (typeof XFailureCode)[keyof typeof XFailureCode];

/**
 * The info of a strategy's `fail()`, as passport hands it to `failureMessage`, `failWithError`
 * and a custom callback `(err, user, info, status)`.
 *
 * @example
 * ```ts
 * app.get('/auth/x/callback', (req, res, next) =>
 *   passport.authenticate('x-oauth2', (err: unknown, user: unknown, info?: XFailureInfo) => {
 *     if (err) return next(err);
 *     if (!user) return res.status(401).send(info?.message ?? 'Sign in again.'); // info.hint is for your logs
 *     req.logIn(user, (e) => (e ? next(e) : res.redirect('/')));
 *   })(req, res, next));
 * ```
 */
export interface XFailureInfo {
  /** A short sentence for the person signing in, e.g. "Sign in again." */
  message: string;
  /** For the developer: what happened, the likely causes and the fix. Never holds a secret. */
  hint: string;
  /** Stable machine-readable code. */
  code: XFailureCodeValue;
  /**
   * App state given to `passport.authenticate(name, { state })`, when the sign-in got that far: the
   * callback found its pending sign-in, then X refused the code or verifier (or the verify callback
   * refused the user). Not on Cancel, nor on a callback that matched no pending sign-in.
   */
  state?: unknown;
}

/**
 * What the person signing in reads for each code: one short sentence they can act on. The
 * developer's diagnosis goes in `hint`.
 */
export const X_FAILURE_MESSAGES: Readonly<Partial<Record<XFailureCodeValue, string>>> = Object.freeze({
  X_ACCESS_DENIED: 'You cancelled the sign-in with X.',
  X_CALLBACK_MALFORMED: 'This sign-in link is incomplete or damaged. Sign in again.',
  X_NO_PENDING_SIGN_IN: 'This browser has no sign-in in progress. Sign in again.',
  X_CALLBACK_UNKNOWN: 'This sign-in link does not belong to this browser, or was already used. Sign in again.',
  X_SIGN_IN_EXPIRED: 'This sign-in took too long and has expired. Sign in again.',
  X_SIGN_IN_IN_PROGRESS: 'This sign-in is already being completed. If nothing happens, sign in again.',
  X_GRANT_REFUSED: 'This sign-in took too long or was already used. Sign in again.',
  X_AUTHORIZATION_REFUSED: 'X did not complete the sign-in. Sign in again.',
});

/**
 * The HTTP status of a failure with this code: 400 for a malformed callback, 401 for an expired
 * sign-in or a grant X refused (RFC 6749 section 5.2 invalid_grant), 409 for a sign-in already
 * being completed, 403 for everything unknown, forged or denied.
 */
export function failureStatus(code: XFailureCodeValue): number {
  switch (code) {
    case XFailureCode.CALLBACK_MALFORMED:
      return 400;
    case XFailureCode.SIGN_IN_EXPIRED:
    case XFailureCode.GRANT_REFUSED:
      return 401;
    case XFailureCode.SIGN_IN_IN_PROGRESS:
      return 409;
    default:
      return 403;
  }
}

const CODES: ReadonlySet<string> = new Set(Object.values(XFailureCode));

/** Whether `value` is an {@link XFailureInfo} (a `code` of {@link XFailureCode}, a `message` and a `hint`). */
export function isXFailureInfo(value: unknown): value is XFailureInfo {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.code === 'string' && CODES.has(v.code) && typeof v.message === 'string' && typeof v.hint === 'string';
}

/** The {@link XFailureInfo} of `code`, with the person's message of {@link X_FAILURE_MESSAGES} and the developer's `hint`. */
export function failureOf(code: XFailureCodeValue, hint: string): XFailureInfo {
  return failureInfo(code, X_FAILURE_MESSAGES[code] ?? 'Sign in again.', hint);
}

/** Builds an {@link XFailureInfo}. */
export function failureInfo(code: XFailureCodeValue, message: string, hint: string): XFailureInfo {
  return { message, hint, code };
}

/** Where a failure keeps the key its diagnosis is logged under, when not its code's (non-enumerable: never serialised). */
const OWN_LOG_KEY = Symbol('passport-x log key');

/**
 * {@link failureOf} for a cause that shares its code with others but needs its own diagnosis in the
 * logs: printed once under `code` and `cause`, whichever of the code's other causes came first.
 */
export function failureWithOwnLog(code: XFailureCodeValue, hint: string, cause: string): XFailureInfo {
  const info = failureOf(code, hint);
  Object.defineProperty(info, OWN_LOG_KEY, { value: `${code} ${cause}` });
  return info;
}

/** Which codes (or a cause's own keys) a strategy instance has logged already. */
export type LoggedFailures = Set<string>;

/**
 * Prints the developer's diagnosis of a failure once per strategy instance and code, as a
 * process warning (`PASSPORT_<code>`, such as `PASSPORT_X_ACCESS_DENIED`), so a misconfiguration shows in the logs without
 * flooding them. Returns true when it printed.
 */
export function logFailureOnce(logged: LoggedFailures, strategyName: string, info: XFailureInfo): boolean {
  const key = (info as { [OWN_LOG_KEY]?: string })[OWN_LOG_KEY] ?? info.code;
  if (logged.has(key)) return false;
  logged.add(key);
  process.emitWarning(`passport-x (${strategyName}): ${info.hint}`, { code: `PASSPORT_${info.code}` });
  return true;
}
