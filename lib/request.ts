/**
 * What passport-x reads of an incoming request, and the checks it makes on it.
 * Express, Koa (through koa-passport) and Fastify (through @fastify/passport) all hand
 * strategies an object of this shape.
 */

/**
 * What `authenticate(req)` accepts: any framework's request (Express, Koa through
 * koa-passport, Fastify through @fastify/passport). Deliberately loose, so that
 * `passport.use(new XOAuth1Strategy(...))` type-checks with each framework's own types.
 */
export interface XIncomingRequest {
  /** Parsed query string. */
  query?: object | undefined;
  /** Parsed body. */
  body?: unknown;
  /** The server session, if any. */
  session?: object | null | undefined;
  /** Request headers. */
  headers: object;
  /** Request URL (path and query). */
  url?: string | undefined;
}

/** The parts of an HTTP request the strategies and state stores read. */
export interface XAuthRequest {
  /** Parsed query string. */
  query?: Record<string, unknown> | undefined;
  /** Parsed body, for form-posted callbacks. */
  body?: unknown;
  /** The server session (express-session, koa-session, @fastify/secure-session...). */
  session?: Record<string, unknown> | null | undefined;
  /** Request headers. */
  headers: Record<string, string | string[] | undefined>;
  /** Request URL (path and query). */
  url?: string | undefined;
  /** Any other property the framework sets (`res`, `ctx`, `secure`...). */
  [key: string]: unknown;
}

/** A query or body parameter as a single string, or `undefined` (arrays and objects are refused). */
export function queryParam(req: XAuthRequest, name: string): string | undefined {
  const value = req.query?.[name];
  return typeof value === 'string' ? value : undefined;
}

function headerValue(req: XAuthRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The host name the browser used for this request (from the `Host` header), lower-cased, without port. */
export function requestHostname(req: XAuthRequest): string | undefined {
  const host = headerValue(req, 'host');
  if (!host) return undefined;
  // "[::1]:3000" -> "[::1]", "localhost:3000" -> "localhost"; cheaper than a URL parse on every sign-in.
  const end = host.startsWith('[') ? host.indexOf(']') + 1 : host.lastIndexOf(':');
  return (end > 0 ? host.slice(0, end) : host).toLowerCase();
}

/**
 * Warns once (per strategy instance, through `process.emitWarning`) when the request that
 * starts a sign-in came to another host than `callbackURL` names: the browser will not send
 * this host's session cookie to the callback's host, and the callback will find no pending
 * sign-in (the classic "Failed to find request token in session").
 *
 * @returns true when it warned
 */
export function warnOnHostMismatch(
  req: XAuthRequest,
  callbackURL: string,
  strategyName: string,
  state: { warned: boolean; callbackURL?: string; callbackHost?: string | undefined },
): boolean {
  if (state.warned) return false;
  // The strategy's callbackURL comes every time: parse it once per strategy instance.
  if (state.callbackURL !== callbackURL) {
    let host: string | undefined;
    try {
      host = new URL(callbackURL).hostname.toLowerCase();
    } catch {
      host = undefined; // relative callback URL: resolved against this very host
    }
    state.callbackURL = callbackURL;
    state.callbackHost = host;
  }
  const callbackHost = state.callbackHost;
  if (callbackHost === undefined) return false;
  const requestHost = requestHostname(req);
  if (!requestHost || requestHost === callbackHost) return false;
  state.warned = true;
  process.emitWarning(
    `passport-x (${strategyName}): this sign-in started on host "${requestHost}" but callbackURL names host "${callbackHost}". ` +
      'The browser will not send the session cookie of one host to the other, so the callback will not find the pending sign-in. ' +
      `Open the app at the callbackURL's host (e.g. http://${callbackHost}...), or make callbackURL use the host users browse.`,
    { code: 'PASSPORT_X_HOST_MISMATCH' },
  );
  return true;
}
