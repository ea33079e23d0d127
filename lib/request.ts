/**
 * What passport-x reads of an incoming request, and the checks it makes on it.
 * Express, Koa (through koa-passport) and Fastify (through @fastify/passport) all hand
 * strategies an object of this shape.
 */
import { parse as parseQueryString } from 'node:querystring';
import { resolve as resolveURL } from 'node:url';

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

/**
 * The request's parsed query: `req.query` as the framework gives it, or, on a request that has
 * none (Passport on plain `node:http` or connect, with no query parser), the query of `req.url`
 * parsed as Express's simple parser does (a repeated name becomes an array), and kept as
 * `req.query`: without it, a callback would look like a start, and send the browser back to X.
 */
export function queryOf(req: XAuthRequest): Record<string, unknown> | undefined {
  // Read once: Express 5's `req.query` is a getter that parses the query string again on every read.
  const parsed = req.query;
  if (parsed !== undefined) return parsed;
  const url = req.url;
  const at = typeof url === 'string' ? url.indexOf('?') : -1;
  if (at < 0) return undefined;
  const query = parseQueryString((url as string).slice(at + 1)) as Record<string, unknown>;
  req.query = query;
  return query;
}

/** A parameter of a query from {@link queryOf} (or of a parsed form body) as a single string, or `undefined` (arrays and objects are refused). */
export function queryParam(query: Record<string, unknown> | undefined, name: string): string | undefined {
  const value = query?.[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * A request header's value as a string (the first of a repeated one), or undefined. Node's parser
 * gives strings; a framework or adapter that builds `headers` itself may put anything there, and a
 * value that is no string is as good as none (never a TypeError out of authenticate()).
 */
function headerValue(req: XAuthRequest, name: string): string | undefined {
  const value = (req.headers as Record<string, unknown> | undefined)?.[name];
  if (typeof value === 'string') return value;
  const first: unknown = Array.isArray(value) ? value[0] : undefined;
  return typeof first === 'string' ? first : undefined;
}

/** The host name the browser used for this request (from the `Host` header), lower-cased, without port. */
export function requestHostname(req: XAuthRequest): string | undefined {
  const host = headerValue(req, 'host');
  return host ? hostnameOf(host) : undefined;
}

/** A Host header's value without its port, lower-cased. */
function hostnameOf(host: string): string {
  // "[::1]:3000" -> "[::1]", "localhost:3000" -> "localhost"; cheaper than a URL parse on every sign-in.
  const end = host.startsWith('[') ? host.indexOf(']') + 1 : host.lastIndexOf(':');
  return (end > 0 ? host.slice(0, end) : host).toLowerCase();
}

/** Whether this request's X-Forwarded-* headers are trusted: the strategy's `proxy`, or Express's `trust proxy` setting (as passport-oauth1/oauth2 decide). */
function trustsProxy(req: XAuthRequest, proxy: boolean | undefined): boolean {
  if (proxy === true) return true;
  const app = req.app as { get?: (setting: string) => unknown } | undefined;
  return !!(app && typeof app.get === 'function' && app.get('trust proxy'));
}

/** How many distinct request hosts a strategy warns about at most ({@link warnOnHostMismatch}). */
export const MAX_HOST_WARNINGS = 8;

/** What {@link warnOnHostMismatch} keeps per strategy instance. */
export interface HostWarningState {
  /** The request hosts warned about, each once. */
  warnedHosts: Set<string>;
  callbackURL?: string;
  callbackHost?: string | undefined;
  /** The scheme of `callbackURL` (`http:` or `https:`), for the warning's example. */
  callbackScheme?: string;
  /** Whether {@link warnOnInsecureSessionCookie} has warned. */
  secureCookieWarned?: boolean;
  /** Whether {@link warnOnInsecureSessionCookie} has warned of a SameSite=Strict session cookie. */
  strictCookieWarned?: boolean;
  /** Whether {@link warnOnUnrestoredLogin} has warned. */
  unrestoredLoginWarned?: boolean;
}

/**
 * Warns (per strategy instance, through `process.emitWarning`) when the request that starts a
 * sign-in came to another host than `callbackURL` names: the browser will not send this host's
 * session cookie to the callback's host, and the callback will find no pending sign-in (the
 * classic "Failed to find request token in session"). Once per request host, for at most
 * {@link MAX_HOST_WARNINGS} hosts: any client can send a `Host` of its choosing, and one stray
 * request must not use up the warning a real misconfiguration needs. A `Host` that is not a host
 * name (malformed, or over 253 characters) is not a misconfiguration, and is not warned about.
 *
 * @returns true when it warned
 */
export function warnOnHostMismatch(req: XAuthRequest, callbackURL: string, strategyName: string, state: HostWarningState, proxy?: boolean): boolean {
  if (state.warnedHosts.size >= MAX_HOST_WARNINGS) return false;
  // The strategy's callbackURL comes every time: parse it once per strategy instance.
  if (state.callbackURL !== callbackURL) {
    let host: string | undefined;
    let scheme = 'http:';
    try {
      const parsed = new URL(callbackURL);
      host = parsed.hostname.toLowerCase();
      scheme = parsed.protocol;
    } catch {
      host = undefined; // relative callback URL: resolved against this very host
    }
    state.callbackURL = callbackURL;
    state.callbackHost = host;
    state.callbackScheme = scheme;
  }
  const callbackHost = state.callbackHost;
  if (callbackHost === undefined) return false;
  let requestHost = requestHostname(req);
  // Behind a trusted proxy the browser's host is the first X-Forwarded-Host (as resolveCallbackURL reads it), not the Host the proxy sent.
  if (requestHost !== callbackHost && trustsProxy(req, proxy)) {
    const forwarded = firstHeaderValue(req, 'x-forwarded-host');
    if (forwarded) requestHost = hostnameOf(forwarded);
  }
  if (!requestHost || requestHost === callbackHost || state.warnedHosts.has(requestHost)) return false;
  if (requestHost.length > MAX_HOST_NAME_LENGTH || !HOST_NAME.test(requestHost)) return false;
  state.warnedHosts.add(requestHost);
  process.emitWarning(
    `passport-x (${strategyName}): this sign-in started on host "${requestHost}" but callbackURL names host "${callbackHost}". ` +
      'The browser will not send the session cookie of one host to the other, so the callback will not find the pending sign-in. ' +
      `Open the app at the callbackURL's host (e.g. ${state.callbackScheme ?? 'http:'}//${callbackHost}...), or make callbackURL use the host users browse.`,
    { code: 'PASSPORT_X_HOST_MISMATCH' },
  );
  return true;
}

/**
 * Whether this request came over https as the framework tells it: Koa's `ctx.secure` (which
 * honours `app.proxy`), Express's `req.secure` (which honours `trust proxy`), Fastify's
 * `request.protocol` (which honours `trustProxy`); `undefined` when none says. The Secure-cookie
 * warning and `EncryptedCookieStateStore`'s `Secure` attribute both go by it.
 */
export function frameworkSaysSecure(req: XAuthRequest): boolean | undefined {
  const ctx = req.ctx as { secure?: unknown } | null | undefined;
  if (typeof ctx === 'object' && ctx !== null && typeof ctx.secure === 'boolean') return ctx.secure;
  if (typeof req.secure === 'boolean') return req.secure;
  if (typeof req.protocol === 'string') return req.protocol === 'https';
  return undefined;
}

/**
 * Warns once per strategy instance (through `process.emitWarning`) when the session cookie is
 * marked `Secure` (express-session's `cookie: { secure: true }`) and the request that starts the
 * sign-in came over plain http: the session middleware does not send such a cookie over http (the
 * browser would not keep it anyway), so the callback finds no pending sign-in. A request that a
 * proxy says came over https (`X-Forwarded-Proto`, which express-session's `proxy: true` trusts)
 * is not warned about, nor one whose framework does not say. With `pendingInSession` false (the
 * pending sign-in lives in its own cookie: `EncryptedCookieStateStore`), the sign-in itself
 * completes, but the login session it opens is not sent either, so the user lands signed out: the
 * warning says that instead.
 *
 * With neither (`pendingInSession` false and `loginSession` false: `session: false`, a JWT app),
 * nothing rides the session cookie, and nothing is said.
 *
 * It also warns once (`PASSPORT_X_STRICT_SESSION_COOKIE`), when the pending sign-in is in the
 * session, of a `SameSite=Strict` session cookie (express-session's `sameSite: 'strict'` or
 * `true`): the browser does not send it with the callback from X's site. It reads the same cookie.
 *
 * @returns true when it warned
 */
export function warnOnInsecureSessionCookie(req: XAuthRequest, strategyName: string, state: HostWarningState, pendingInSession = true, loginSession = true): boolean {
  if (!pendingInSession && !loginSession) return false;
  const cookie = (req.session as { cookie?: { secure?: unknown; sameSite?: unknown } } | null | undefined)?.cookie;
  if (typeof cookie !== 'object' || cookie === null) return false;
  if (pendingInSession && state.strictCookieWarned !== true && (cookie.sameSite === 'strict' || cookie.sameSite === true)) {
    state.strictCookieWarned = true;
    process.emitWarning(
      `passport-x (${strategyName}): the session cookie is SameSite=Strict, and X's consent page is another site: the browser does not send such a cookie with the callback X sends it back to, so the callback will not find the pending sign-in. ` +
        'Fix: make the session cookie SameSite=Lax (express-session: `cookie: { sameSite: \'lax\' }`), which browsers send on that navigation.',
      { code: 'PASSPORT_X_STRICT_SESSION_COOKIE' },
    );
  }
  if (state.secureCookieWarned === true || cookie.secure !== true) return false;
  if (frameworkSaysSecure(req) !== false || firstHeaderValue(req, 'x-forwarded-proto')?.toLowerCase() === 'https') return false;
  state.secureCookieWarned = true;
  const lost = pendingInSession
    ? 'the callback will not find the pending sign-in'
    : 'the login session the callback opens will not persist (the user lands signed out; the pending sign-in itself, in its own cookie, is not affected)';
  process.emitWarning(
    `passport-x (${strategyName}): the session cookie is marked Secure, but this sign-in started over plain http, so the session middleware does not send it and ${lost}. ` +
      'Fix: mark the cookie Secure only where the app is served over https (express-session: `cookie: { secure: process.env.NODE_ENV === \'production\' }`, or `\'auto\'`); ' +
      'behind a proxy that ends TLS, trust it (Express: `app.set(\'trust proxy\', 1)`; Koa: `app.proxy = true`).',
    { code: 'PASSPORT_X_SECURE_COOKIE_ON_HTTP' },
  );
  return true;
}

/** Whether Passport has a user on this request: its own `isAuthenticated()` (which honours `userProperty`), else `req.user`. */
export function isSignedIn(req: object): boolean {
  const r = req as { user?: unknown; isAuthenticated?: unknown };
  if (typeof r.isAuthenticated === 'function') return (r.isAuthenticated as () => unknown).call(req) === true;
  return r.user !== undefined && r.user !== null && r.user !== false;
}

/**
 * The checks of a sign-in's start leg that warn of a set-up that will lose it, each once:
 * {@link warnOnHostMismatch}, {@link warnOnInsecureSessionCookie} and, when the sign-in opens a
 * login session, {@link warnOnUnrestoredLogin}. Both strategies run them before sending the browser to X.
 */
export function warnOnStart(req: XAuthRequest, callbackURL: string, strategyName: string, state: HostWarningState, proxy: boolean | undefined, pendingInSession: boolean, loginSession: boolean): void {
  warnOnHostMismatch(req, callbackURL, strategyName, state, proxy);
  warnOnInsecureSessionCookie(req, strategyName, state, pendingInSession, loginSession);
  if (loginSession) warnOnUnrestoredLogin(req, strategyName, state);
}

/**
 * Warns once (`PASSPORT_X_SESSION_NOT_RESTORED`) when a sign-in starts in a session that holds a
 * signed-in user Passport did not restore: `req.session.passport.user` is set (a sign-in saved it),
 * yet Passport, which did run (`req.isAuthenticated` exists), says no one is signed in. With
 * `passport.session()` in place that cannot be: it restores the user, or deletes one
 * `deserializeUser` no longer finds. So `passport.session()` is missing, or runs before the session
 * middleware, and every sign-in "succeeds" into a signed-out app with no failure to read. Returns
 * whether it warned.
 */
export function warnOnUnrestoredLogin(req: XAuthRequest, strategyName: string, state: HostWarningState): boolean {
  if (state.unrestoredLoginWarned === true) return false;
  const login = (req.session as { passport?: { user?: unknown } } | null | undefined)?.passport;
  if (typeof login !== 'object' || login === null || login.user === undefined || login.user === null) return false;
  if (typeof req.isAuthenticated !== 'function' || isSignedIn(req)) return false;
  state.unrestoredLoginWarned = true;
  process.emitWarning(
    `passport-x (${strategyName}): this sign-in starts in a session where a user already signed in (req.session.passport.user is set), yet Passport did not restore that user on this request (req.isAuthenticated() is false): ` +
      'sign-ins succeed, and the next request comes back signed out, with no failure to show. Likely cause: app.use(passport.session()) is missing, or runs before the session middleware. ' +
      'Fix: app.use(session(...)), then app.use(passport.initialize()), then app.use(passport.session()), in that order, before the routes.',
    { code: 'PASSPORT_X_SESSION_NOT_RESTORED' },
  );
  return true;
}

/** The first of a header's comma-separated values (a proxy chain appends its own), trimmed. */
function firstHeaderValue(req: XAuthRequest, name: string): string | undefined {
  const value = headerValue(req, name);
  if (value === undefined) return undefined;
  const comma = value.indexOf(',');
  return (comma < 0 ? value : value.slice(0, comma)).trim();
}

/**
 * What a Host header may not hold: anything that would end the authority or add user info (`/ ? # @ \`),
 * whitespace or a control character. Left only a name or address and a port. Internal (the emulator
 * reads its requests' Host by the same rule).
 */
export const BAD_IN_HOST = /[\s/?#@\\\p{Cc}]/u;
// The longest host name DNS allows (RFC 1035), and an IPv6 literal fits in it.
const MAX_HOST_NAME_LENGTH = 253;
// A host name (lower case, as requestHostname gives it: dot-separated labels of letters, digits,
// hyphens and underscores, an IPv4 address among them) or a bracketed IPv6 address.
const HOST_NAME = /^(?:\[[0-9a-f:.]+\]|[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\.?)$/;

/**
 * `callbackURL` (relative) resolved against the URL this request came to, as passport-oauth1's and
 * passport-oauth2's `originalURL` do: `https` when the request came over TLS or, trusting a proxy
 * (`proxy`, or Express's `trust proxy` setting), when the first `X-Forwarded-Proto` says so; the
 * host of the `Host` header or, trusting a proxy, of the first `X-Forwarded-Host`; the request's
 * path. Unlike them, it reads the socket where each framework keeps it (`req.socket`,
 * `req.connection`, or Fastify's `req.raw.socket`: Fastify's request has no `connection`), takes
 * the first value of a header a proxy chain made a list, never puts the query (the callback's
 * code) into the URL it parses, and answers `undefined` instead of throwing when the request's
 * host cannot form a URL (missing, or a hostile `Host`). What it answers for a valid host is
 * passport's answer, byte for byte (`url.resolve`).
 */
export function resolveCallbackURL(req: XAuthRequest, callbackURL: string, proxy: boolean | undefined): string | undefined {
  const trustProxy = trustsProxy(req, proxy);
  const socket = (req.socket ?? req.connection ?? (req.raw as { socket?: unknown } | undefined)?.socket) as { encrypted?: unknown } | undefined;
  const tls = !!socket?.encrypted || (trustProxy && firstHeaderValue(req, 'x-forwarded-proto')?.toLowerCase() === 'https');
  const host = (trustProxy ? firstHeaderValue(req, 'x-forwarded-host') : undefined) || headerValue(req, 'host');
  if (!host || BAD_IN_HOST.test(host)) return undefined;
  const url = typeof req.url === 'string' ? req.url : '';
  const query = url.indexOf('?');
  const path = query < 0 ? url : url.slice(0, query);
  const base = `${tls ? 'https' : 'http'}://${host}${path.startsWith('/') ? path : `/${path}`}`;
  try {
    // Checked with WHATWG URL (a bad port or address throws), resolved with url.resolve as passport
    // does: WHATWG's normalisation (a default port dropped, a path re-encoded) would change the
    // redirect_uri sent to X, which must match the registered one exactly.
    new URL(callbackURL, base);
    return resolveURL(base, callbackURL);
  } catch {
    return undefined;
  }
}

/** The developer's hint when {@link resolveCallbackURL} could not resolve a relative `callbackURL`. */
export const UNRESOLVABLE_CALLBACK_HINT =
  'The strategy\'s `callbackURL` is relative, and this request\'s Host header (or, with `proxy`, its X-Forwarded-Host) is missing or is not a host name, ' +
  'so the callback URL cannot be formed from it: a client sent a malformed Host header, or a proxy passes on an empty or broken one. ' +
  'Fix: give the strategy an absolute `callbackURL` (it must match a Callback URI registered at X anyway), or have the proxy send one valid Host.';
