/**
 * A local X for tests: an HTTP server (plain `node:http`) that serves, at X's paths, every
 * endpoint passport-x uses, checks requests as X does, and answers in X's formats. Point both
 * strategies and the helpers at it with `baseURL` (the OAuth 2.0 strategy derives its consent page from it).
 */
import { createServer, validateHeaderName, validateHeaderValue, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BAD_IN_HOST } from '../request';
import { bearerToken, invalidateBearerToken } from './app-only-endpoints';
import { page, text, xError, X_ERRORS, type Answer } from './answers';
import { renderErrorPage } from './consent-page';
import { CallbackRegistry, checkCallbackURL, type XEmulatorAppKind } from './callback-urls';
import type { EmulatorContext, EmulatorRequest, Handler } from './context';
import { resolveFixtures, type EmulatorFixtures, type XEmulatorApps, type XEmulatorAppsOption, type XEmulatorUser, type XEmulatorUsers } from './fixtures';
import { presetFault, X_EMULATOR_FAULT_PRESETS, type XEmulatorFaultPreset } from './faults';
import { RateLimiter } from './rate-limits';
import { answerConsent, signInThroughApp, type XEmulatorConsentOptions, type XEmulatorSignInOptions, type XEmulatorSignInResult } from './consent-client';
import { accessToken, decideOAuth1Consent, invalidateAccessToken, requestToken, showOAuth1Consent, verifyCredentials } from './oauth1-endpoints';
import { decideOAuth2Consent, oauth2Token, revokeOAuth2Token, showOAuth2Consent, usersMe } from './oauth2-endpoints';
import { favicon, homePage, profilePage, WAY_BACK_PATH, WayBack } from './site-pages';
import {
  oauth1StrategyOptions,
  oauth2StrategyOptions,
  type XEmulatorConfidentialStrategyOptions,
  type XEmulatorOAuth1StrategyOptions,
  type XEmulatorPublicStrategyOptions,
  type XEmulatorStrategyOptionsInput,
} from './strategy-options';
import { OverCapacityError, TokenStore } from './token-store';
import { avatarSVG } from './user-views';

/** Options of {@link startXEmulator}. */
export interface XEmulatorOptions {
  /** The port to listen on (default 0: any free port; read it from `url`). */
  port?: number | undefined;
  /**
   * The address to listen on (default `'127.0.0.1'`). The emulator's keys are public, so anything
   * but a loopback address (127.0.0.0/8, `::1`, `localhost`) is refused unless `allowNonLoopback` is true,
   * and so is a name that resolves to another address once bound.
   */
  host?: string | undefined;
  /** Listen on a `host` other than loopback (e.g. `'0.0.0.0'` in a container), with a warning: anyone who can reach it can sign in with its public keys. Default false. */
  allowNonLoopback?: boolean | undefined;
  /** The users who can sign in (default: Ada Lovelace `@ada`, with an e-mail address, and Grace Hopper `@grace`, without). The first is preselected on the consent pages. */
  users?: readonly XEmulatorUser[] | undefined;
  /** Apps replacing the default ones, by kind. */
  apps?: XEmulatorAppsOption | undefined;
  /**
   * The emulator's clock, in milliseconds since the epoch (default `Date.now`). Move it to
   * expire codes (30 s), request tokens, pending consents and access tokens (2 h), and to reset
   * rate-limit windows. OAuth 1.0a `oauth_timestamp`s are checked against the real clock instead,
   * which `XOAuth1Strategy` and every other client sign with: moving `now` two hours ahead leaves
   * OAuth 1.0a sign-ins working.
   */
  now?: (() => number) | undefined;
  /**
   * How long the OAuth 2.0 access tokens it issues live, in milliseconds (default 7,200,000: two
   * hours, as X's). Shorten it to see tokens expire in a test; `expires_in` says the whole seconds
   * of it, so a client refreshes no later than the emulator expires the token. At least 1000.
   */
  accessTokenTtlMs?: number | undefined;
  /**
   * Refuse a `client_secret` in the body of a token or revocation request that also sends HTTP
   * Basic (400 `invalid_request`), as RFC 6749 section 2.3 allows. Default false: X accepts it.
   */
  strictClientAuthentication?: boolean | undefined;
}

/**
 * A fault for {@link XEmulator.failNext}: the answer to give instead of the normal one, or
 * only a delay before the normal answer.
 */
export interface XEmulatorFault {
  /** The status to answer. Leave it out to answer normally, only after `delayMs`. */
  status?: number | undefined;
  /**
   * The body, with a `status` only: a string as is, anything else as JSON (default: empty),
   * written when `failNext` is called, so a value JSON cannot write (a BigInt, a cycle) is a
   * TypeError then.
   */
  body?: unknown;
  /** Headers to send, with a `status` only, e.g. `x-rate-limit-reset`. A JSON body gets `content-type: application/json` unless given. */
  headers?: Readonly<Record<string, string>> | undefined;
  /** Wait this long before answering, in milliseconds: a client with a shorter time-out sees a time-out. */
  delayMs?: number | undefined;
}

/** One request the emulator answered, as `x.requests` lists it. Holds no secret: no query, no body, no header. */
export interface XEmulatorRequestRecord {
  /** The HTTP method. */
  method: string;
  /** The path, without the query string. */
  path: string;
  /** The status answered (or, when the client had left, the status it would have got). */
  status: number;
  /**
   * Why the emulator refused the request, or that the answer was injected by `failNext`, or that the
   * client left before the answer (a request `failNext` delayed past its time-out: X acted on it all
   * the same); absent on a success the client got.
   */
  reason?: string;
}

/**
 * A running emulator, from {@link startXEmulator}.
 *
 * @example
 * ```ts
 * const x = await startXEmulator();
 * passport.use(new XOAuth2PkceStrategy(x.oauth2StrategyOptions('confidential', { callbackURL: 'http://127.0.0.1:3000/auth/x/callback' }), verify));
 * // ... start your app on 127.0.0.1:3000, then:
 * const { response, cookie } = await x.signIn('http://127.0.0.1:3000/auth/x', { user: 'grace' });
 * await x.close();
 * ```
 */
export interface XEmulator {
  /** Where the emulator listens, e.g. `http://127.0.0.1:53211`. */
  readonly url: string;
  /** X's API host, emulated: pass it as `baseURL` to both strategies and the helpers. Equal to `url`. */
  readonly baseURL: string;
  /** The OAuth 2.0 consent page, `${url}/i/oauth2/authorize` (`XOAuth2PkceStrategy` derives it from `baseURL`; {@link XEmulator.oauth2StrategyOptions} sets both). */
  readonly authorizationURL: string;
  /** The apps the emulator knows, keys and secrets included, with the callback URLs registered now. */
  readonly apps: XEmulatorApps;
  /** The users who can sign in; the first is preselected on the consent pages. */
  readonly users: XEmulatorUsers;
  /** The requests answered so far (the last 10,000), oldest first (a copy). */
  readonly requests: readonly XEmulatorRequestRecord[];
  /**
   * Errors the server emitted after it started listening (the last 100, oldest first, a copy),
   * e.g. `EMFILE` when the process is out of file descriptors and cannot accept a connection.
   * The emulator keeps serving, and warns (`PASSPORT_X_EMULATOR_SERVER_ERROR`) instead of letting
   * the error end the test process; a test that suspects one can assert this list is empty.
   */
  readonly serverErrors: readonly Error[];
  /**
   * Makes the next request to `path` (any method, query ignored) answer with `fault`: a fault of
   * your own, or one of X's answers by name ({@link XEmulatorFaultPreset}): `'credits-depleted'`
   * (402), `'usage-cap'` (429 `UsageCapExceeded`) or `'over-capacity'` (503), in X's exact bodies
   * (see {@link presetFault}). Faults queued for one path are used in order, one per request.
   * `path` is read as a request's URL spells it (`/a/../b` is `/b`, a space is `%20`), and a
   * trailing slash is dropped: X serves none of its paths with one. Throws a TypeError for a path
   * with an origin or query, and for a fault it could not answer (see {@link XEmulatorFault}).
   *
   * @example
   * ```ts
   * x.failNext('/2/users/me', 'credits-depleted');
   * x.failNext('/1.1/account/verify_credentials.json', 'usage-cap');
   * x.failNext('/2/oauth2/token', { status: 503 });
   * x.failNext('/2/users/me', { status: 429, headers: { 'x-rate-limit-reset': '1700000000' }, body: { title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 } });
   * x.failNext('/oauth/request_token', { delayMs: 2000 }); // the normal answer, 2 s late
   * ```
   */
  failNext(path: string, fault: XEmulatorFault | XEmulatorFaultPreset): void;
  /**
   * Registers a callback URL, as a developer does in the portal's User authentication settings:
   * for every app (default), or for the apps named. X matches callback URLs exactly, so register
   * the one your app uses, port and trailing slash included (`localhost` is not `127.0.0.1`).
   * Throws a TypeError for what X refuses to register (not absolute, a `#fragment`, `javascript:`
   * and other disallowed schemes) and a RangeError past X's 10 URLs per app.
   *
   * @example
   * ```ts
   * const app = await listen(); // your app, on a port chosen by the OS
   * x.addCallbackURL(`http://127.0.0.1:${app.port}/auth/x/callback`);
   * ```
   */
  addCallbackURL(url: string, apps?: XEmulatorAppKind | readonly XEmulatorAppKind[]): void;
  /** Unregisters a callback URL from every app (default) or from the apps named; true when it was registered. */
  removeCallbackURL(url: string, apps?: XEmulatorAppKind | readonly XEmulatorAppKind[]): boolean;
  /**
   * Options for `new XOAuth2PkceStrategy(...)` that sign in here: the client's ID (and secret),
   * `clientType`, `baseURL`, `authorizationURL` and your `callbackURL`. Spread them and add your own.
   * Registers `callbackURL` with the client first, as you would in X's developer portal (X matches
   * callback URLs exactly: any other URL is still refused), through {@link XEmulator.addCallbackURL}:
   * a TypeError for a URL X would not register, a RangeError past X's 10 per app.
   *
   * @example
   * ```ts
   * passport.use(new XOAuth2PkceStrategy({
   *   ...x.oauth2StrategyOptions('confidential', { callbackURL: 'http://127.0.0.1:3000/auth/x/callback' }),
   *   scope: ['tweet.read', 'users.read', 'offline.access'],
   * }, verify));
   * ```
   */
  oauth2StrategyOptions(client: 'confidential', options: XEmulatorStrategyOptionsInput): XEmulatorConfidentialStrategyOptions;
  /** The same for the emulator's public client (Native App, Single page App): no `clientSecret`. */
  oauth2StrategyOptions(client: 'public', options: XEmulatorStrategyOptionsInput): XEmulatorPublicStrategyOptions;
  /**
   * Options for `new XOAuth1Strategy(...)` that sign in here: the app's keys, `baseURL` and your
   * `callbackURL`, registered with the app first as {@link XEmulator.oauth2StrategyOptions} does.
   *
   * @example
   * ```ts
   * passport.use(new XOAuth1Strategy(x.oauth1StrategyOptions({ callbackURL: 'http://127.0.0.1:3000/auth/x/oauth1/callback' }), verify));
   * ```
   */
  oauth1StrategyOptions(options: XEmulatorStrategyOptionsInput): XEmulatorOAuth1StrategyOptions;
  /**
   * Answers the consent page as a person would: loads `consentPageURL` (the `location` of your
   * app's redirect to X), picks the user, presses "Authorize app" (or "Cancel"), and resolves with
   * the URL the browser goes to next: your app's callback, with its `code` and `state` (OAuth 2.0),
   * `oauth_token` and `oauth_verifier` (OAuth 1.0a), or the refusal. Request it with the session
   * cookie of the start. Rejects with a TypeError when the URL is not this emulator's (the strategy
   * is not pointed here), and with an Error when the emulator shows an error page instead.
   *
   * @example
   * ```ts
   * const start = await fetch(`${appURL}/auth/x`, { redirect: 'manual' });
   * const callbackURL = await x.consent(start.headers.get('location')!, { user: 'grace' });
   * ```
   */
  consent(consentPageURL: string | URL, options?: XEmulatorConsentOptions): Promise<string>;
  /**
   * A whole sign-in through your app, as a browser makes it, cookies included: requests
   * `startURL` (your app's sign-in route), follows the app's own redirects on the way (same origin,
   * or the same path on a canonical host; at most 5), answers the consent page with
   * {@link XEmulator.consent}, and requests the callback. Cookies are kept per host and `Path`; the
   * callback comes from X's site, so a `SameSite=Strict` cookie is not sent with it, and a
   * `SameSite=None` cookie without `Secure` is refused, as browsers do. Resolves with the app's
   * answer to the callback (not followed) and the `cookie` header to send with the next requests,
   * as the signed-in browser. Rejects with a TypeError when the app redirects anywhere else (its strategy
   * is not pointed here), and with an Error when it answers without a redirect.
   *
   * @example
   * ```ts
   * const { response, cookie } = await x.signIn(`${appURL}/auth/x`, { user: 'ada' });
   * assert.equal(response.headers.get('location'), '/profile');
   * const profile = await fetch(`${appURL}/profile`, { headers: { cookie } });
   * ```
   */
  signIn(startURL: string | URL, options?: XEmulatorSignInOptions): Promise<XEmulatorSignInResult>;
  /** Whether an access token (OAuth 1.0a, OAuth 2.0 or app-only bearer) would be accepted now: issued, and not expired, revoked or invalidated. */
  isAccessTokenValid(token: string): boolean;
  /** Whether an OAuth 2.0 refresh token would be accepted now: issued, and not used or revoked. */
  isRefreshTokenValid(token: string): boolean;
  /** Stops the emulator: closes every connection, keep-alive ones included, and drops delayed answers. */
  close(): Promise<void>;
}

/** One row of the router. */
interface Route {
  method: 'GET' | 'POST';
  path: string;
  handle: Handler;
}

const ROUTES: readonly Route[] = [
  { method: 'POST', path: '/oauth/request_token', handle: requestToken },
  { method: 'GET', path: '/oauth/authenticate', handle: showOAuth1Consent },
  { method: 'GET', path: '/oauth/authorize', handle: showOAuth1Consent },
  { method: 'POST', path: '/oauth/authorize', handle: decideOAuth1Consent },
  { method: 'POST', path: '/oauth/access_token', handle: accessToken },
  { method: 'GET', path: '/1.1/account/verify_credentials.json', handle: verifyCredentials },
  { method: 'POST', path: '/1.1/oauth/invalidate_token', handle: invalidateAccessToken },
  { method: 'POST', path: '/oauth2/token', handle: bearerToken },
  { method: 'POST', path: '/oauth2/invalidate_token', handle: invalidateBearerToken },
  { method: 'GET', path: '/i/oauth2/authorize', handle: showOAuth2Consent },
  { method: 'POST', path: '/i/oauth2/authorize', handle: decideOAuth2Consent },
  { method: 'POST', path: '/2/oauth2/token', handle: oauth2Token },
  { method: 'POST', path: '/2/oauth2/revoke', handle: revokeOAuth2Token },
  { method: 'GET', path: '/2/users/me', handle: usersMe },
];

/** The default profile pictures, `/profile_images/<user id>.svg`. */
const AVATAR_PATH = /^\/profile_images\/(\d+)\.svg$/;

/** How many request records `requests` keeps. */
const MAX_LOGGED_REQUESTS = 10_000;

/** How many server errors `serverErrors` keeps. */
const MAX_SERVER_ERRORS = 100;

/** Largest request body read, in bytes; X's sign-in requests are a few hundred. */
const MAX_BODY_BYTES = 64 * 1024;

function route(request: EmulatorRequest, context: EmulatorContext): Answer {
  const path = request.url.pathname;
  const found = ROUTES.find((r) => r.path === path && r.method === request.method);
  if (found) return found.handle(request, context);
  const avatar = request.method === 'GET' ? AVATAR_PATH.exec(path) : null;
  const user = avatar ? context.fixtures.users.find((u) => u.id === avatar[1]) : undefined;
  if (user) return { status: 200, headers: { 'content-type': 'image/svg+xml', 'cache-control': 'public, max-age=3600' }, body: avatarSVG(user) };
  const profile = request.method === 'GET' ? profilePage(request, context) : undefined;
  if (profile) return profile;
  const other = ROUTES.some((r) => r.path === path);
  return xError(X_ERRORS.notFound, other ? `${request.method} is not served at this path` : 'no such endpoint');
}

function faultAnswer(fault: QueuedFault & { status: number }, path: string, now: number): Answer {
  const preset = fault.preset;
  const used: XEmulatorFault & { status: number } = preset ? presetFault(preset, path, now) : fault;
  const headers: Record<string, string> = {};
  let body = '';
  if (typeof used.body === 'string') body = used.body;
  else if (fault.jsonBody !== undefined) {
    body = fault.jsonBody;
    headers['content-type'] = 'application/json; charset=utf-8';
  }
  for (const [name, value] of Object.entries(used.headers ?? {})) headers[name.toLowerCase()] = value;
  return { status: used.status, headers, body, reason: `injected by failNext${preset ? ` ('${preset}')` : ''}` };
}

/**
 * The emulator's answer when its memory is full ({@link OverCapacityError}): X's 503 over capacity,
 * as the `'over-capacity'` preset answers it on the path (v1.1's code 130, or v2's problem), and a
 * page on the consent pages, which a person reads.
 */
function overCapacity(path: string, reason: string): Answer {
  if (path.startsWith('/i/')) return { ...page(503, renderErrorPage('X is over capacity', `Try again later. The emulator's memory is full: ${reason}.`)), reason };
  return { ...faultAnswer({ status: 503, preset: 'over-capacity' }, path, Date.now()), reason };
}

/**
 * A fault waiting for its request; a preset is drawn when used, so its rate-limit reset counts
 * from then. A body that is not a string is serialised when queued (`jsonBody`): a body JSON
 * cannot write is refused then, not when the request comes.
 */
interface QueuedFault extends XEmulatorFault {
  preset?: XEmulatorFaultPreset;
  jsonBody?: string | undefined;
}

/**
 * The path as a request's URL spells it (`new URL().pathname`: dot segments resolved, spaces and
 * the like percent-encoded), without a trailing slash: X serves none of its paths with one.
 */
function faultPath(path: string): string {
  const trimmed = new URL(`http://emulator${path}`).pathname.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

function checkFault(path: unknown, fault: unknown): { path: string; fault: QueuedFault } {
  const fail = (what: string): never => {
    throw new TypeError(`passport-x/testing: failNext ${what}`);
  };
  if (typeof path !== 'string' || !path.startsWith('/') || /[?#]/.test(path)) fail('needs a path such as "/2/oauth2/token" (no origin, no query).');
  const key = faultPath(path as string);
  if (typeof fault === 'string') {
    if (!(X_EMULATOR_FAULT_PRESETS as readonly string[]).includes(fault)) fail(`knows the presets ${X_EMULATOR_FAULT_PRESETS.map((p) => `'${p}'`).join(', ')}, not '${fault}'.`);
    return { path: key, fault: { status: presetFault(fault as XEmulatorFaultPreset, key).status, preset: fault as XEmulatorFaultPreset } };
  }
  if (typeof fault !== 'object' || fault === null) fail('needs a fault object: { status?, body?, headers?, delayMs? }, or a preset name.');
  const f = fault as XEmulatorFault;
  if (f.status !== undefined && (!Number.isInteger(f.status) || f.status < 200 || f.status > 599)) fail('`status` must be an HTTP status from 200 to 599.');
  // setTimeout takes at most 2^31 - 1 ms, and fires at once beyond.
  if (f.delayMs !== undefined && (typeof f.delayMs !== 'number' || !Number.isFinite(f.delayMs) || f.delayMs < 0 || f.delayMs > 2_147_483_647)) {
    fail('`delayMs` must be a number of milliseconds from 0 to 2147483647.');
  }
  if (f.status === undefined && f.delayMs === undefined) fail('needs a `status`, a `delayMs`, or both.');
  if (f.status === undefined && (f.headers !== undefined || f.body !== undefined)) {
    fail('takes `headers` and `body` only with a `status`: without one, the normal answer is sent, with its own.');
  }
  if (f.headers !== undefined) {
    if (typeof f.headers !== 'object' || f.headers === null) fail('`headers` must be an object of strings.');
    for (const [name, value] of Object.entries(f.headers)) {
      if (typeof value !== 'string') fail(`header \`${name}\` must be a string.`);
      try {
        validateHeaderName(name);
        validateHeaderValue(name, value);
      } catch {
        fail(`header \`${name}\` is not a valid HTTP header.`);
      }
    }
  }
  let jsonBody: string | undefined;
  if (f.body !== undefined && typeof f.body !== 'string') {
    try {
      jsonBody = JSON.stringify(f.body);
    } catch (err) {
      fail(`\`body\` cannot be written as JSON: ${err instanceof Error ? err.message : String(err)}.`);
    }
    if (typeof jsonBody !== 'string') fail('`body` must be a string, or a value JSON can write (not a function or a symbol).');
  }
  return { path: key, fault: { ...f, headers: f.headers ? { ...f.headers } : undefined, jsonBody } };
}

/**
 * The URL a request addressed: its target against its `Host` header, which is what an OAuth 1.0a
 * client signed. A `Host` that names no valid host (`a b`, empty, port 99999) falls back to the
 * emulator's own URL: the request did reach it. `undefined` for a target that is no URL at all
 * (an absolute-form `http://[/`).
 */
function requestURL(target: string, host: string | undefined, ownURL: string): URL | undefined {
  // A path (origin-form, RFC 9112 section 3.2.1) is appended to the origin, never resolved against
  // it: resolved, `//evil.example/2/users/me` would name a host and be served as `/2/users/me`.
  const at = (origin: string): URL => (target.startsWith('/') ? new URL(`${origin}${target}`) : new URL(target, origin));
  // Only a host and port, by the strategies' own rule: a `Host` with user info (even empty: `@x`), a
  // path, a backslash, a query or a fragment names no host.
  if (host && !BAD_IN_HOST.test(host)) {
    try {
      return at(new URL(`http://${host}`).origin);
    } catch {
      // Not a host: the emulator's own below.
    }
  }
  try {
    return at(new URL(ownURL).origin);
  } catch {
    return undefined;
  }
}

class TooLarge extends Error {}

/**
 * Reads the body, up to {@link MAX_BODY_BYTES}. Past that (or announced past it by
 * `Content-Length`) it stops reading and rejects with TooLarge at once: a body that never ends
 * must not hold the answer back.
 */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const tooLarge = (): void => {
      req.off('data', onData);
      req.pause();
      reject(new TooLarge());
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) return tooLarge();
      chunks.push(chunk);
    };
    req.on('error', reject);
    if (Number(req.headers['content-length']) > MAX_BODY_BYTES) return tooLarge();
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/** The running emulator behind the {@link XEmulator} interface. */
class EmulatorServer implements XEmulator {
  readonly url: string;
  readonly baseURL: string;
  readonly authorizationURL: string;
  readonly users: XEmulatorUsers;
  private readonly fixtureApps: XEmulatorApps;
  private appsView: XEmulatorApps | undefined;
  private readonly context: EmulatorContext;
  private readonly log: XEmulatorRequestRecord[] = [];
  private readonly errors: Error[] = [];
  private readonly faults = new Map<string, QueuedFault[]>();
  private readonly delays = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private readonly wayBack: WayBack;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly server: Server,
    url: string,
    fixtures: EmulatorFixtures,
    now: () => number,
    strictClientAuthentication: boolean,
    accessTokenTtlMs?: number,
  ) {
    this.url = url;
    this.baseURL = url;
    this.authorizationURL = `${url}/i/oauth2/authorize`;
    this.fixtureApps = fixtures.apps;
    this.users = fixtures.users;
    const { oauth1, confidential, public: publicClient } = fixtures.apps;
    const callbacks = new CallbackRegistry({ oauth1: oauth1.callbackURLs ?? [], confidential: confidential.callbackURLs ?? [], public: publicClient.callbackURLs ?? [] });
    // OAuth 1.0a timestamps and nonces go by the real clock, which clients sign with; `now` moves lifetimes only.
    const timestampClock = Date.now;
    this.context = {
      fixtures,
      store: new TokenStore(now, { accessTokenTtlMs, timestampClock }),
      now,
      timestampClock,
      callbacks,
      rateLimits: new RateLimiter(now),
      strictClientAuthentication,
    };
    this.wayBack = new WayBack(new URL(url).origin);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      void this.serve(req, res);
    });
    // Without a listener, a server error (EMFILE on accept) would be thrown and end the test process.
    server.on('error', (err: Error) => {
      this.errors.push(err);
      if (this.errors.length > MAX_SERVER_ERRORS) this.errors.shift();
      process.emitWarning(`passport-x/testing: the X emulator at ${this.url} had a server error and keeps serving: ${err.message}`, { code: 'PASSPORT_X_EMULATOR_SERVER_ERROR' });
    });
  }

  get requests(): readonly XEmulatorRequestRecord[] {
    return this.log.map((record) => ({ ...record }));
  }

  get serverErrors(): readonly Error[] {
    return [...this.errors];
  }

  get apps(): XEmulatorApps {
    // A frozen view with the callback URLs registered now, made again only after a change.
    if (this.appsView === undefined) {
      const { callbacks } = this.context;
      const view = <T extends object>(app: T, kind: XEmulatorAppKind): T => Object.freeze({ ...app, callbackURLs: Object.freeze([...callbacks.get(kind)]) });
      this.appsView = Object.freeze({
        oauth1: view(this.fixtureApps.oauth1, 'oauth1'),
        confidential: view(this.fixtureApps.confidential, 'confidential'),
        public: view(this.fixtureApps.public, 'public'),
      });
    }
    return this.appsView;
  }

  addCallbackURL(url: string, apps?: XEmulatorAppKind | readonly XEmulatorAppKind[]): void {
    this.context.callbacks.add(checkCallbackURL(url, 'url'), appKinds(apps));
    this.appsView = undefined;
  }

  removeCallbackURL(url: string, apps?: XEmulatorAppKind | readonly XEmulatorAppKind[]): boolean {
    const removed = this.context.callbacks.remove(checkCallbackURL(url, 'url'), appKinds(apps));
    this.appsView = undefined;
    return removed;
  }

  failNext(path: string, fault: XEmulatorFault | XEmulatorFaultPreset): void {
    const checked = checkFault(path, fault);
    const queue = this.faults.get(checked.path) ?? [];
    queue.push(checked.fault);
    this.faults.set(checked.path, queue);
  }

  oauth2StrategyOptions(client: 'confidential', options: XEmulatorStrategyOptionsInput): XEmulatorConfidentialStrategyOptions;
  /** The same for the emulator's public client (Native App, Single page App): no `clientSecret`. */
  oauth2StrategyOptions(client: 'public', options: XEmulatorStrategyOptionsInput): XEmulatorPublicStrategyOptions;
  oauth2StrategyOptions(client: 'confidential' | 'public', options: XEmulatorStrategyOptionsInput): XEmulatorConfidentialStrategyOptions | XEmulatorPublicStrategyOptions {
    return oauth2StrategyOptions(() => this.apps, this, client, options, (url, app) => this.addCallbackURL(url, app));
  }

  oauth1StrategyOptions(options: XEmulatorStrategyOptionsInput): XEmulatorOAuth1StrategyOptions {
    return oauth1StrategyOptions(() => this.apps, this, options, (url, app) => this.addCallbackURL(url, app));
  }

  consent(consentPageURL: string | URL, options?: XEmulatorConsentOptions): Promise<string> {
    return answerConsent(this.url, this.users, consentPageURL, options);
  }

  signIn(startURL: string | URL, options?: XEmulatorSignInOptions): Promise<XEmulatorSignInResult> {
    return signInThroughApp(this.url, this.users, startURL, options);
  }

  isAccessTokenValid(token: string): boolean {
    return typeof token === 'string' && this.context.store.isAccessTokenValid(token);
  }

  isRefreshTokenValid(token: string): boolean {
    return typeof token === 'string' && this.context.store.isRefreshTokenValid(token);
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      for (const delay of this.delays) {
        clearTimeout(delay.timer);
        delay.resolve();
      }
      this.delays.clear();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  /** Waits `ms` (unref'd, so it never keeps the process alive); `close()` ends the wait early. */
  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.delays.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      entry.timer.unref();
      this.delays.add(entry);
    });
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    let path = '/';
    let answer: Answer;
    try {
      const target = req.url ?? '/';
      const url = requestURL(target, req.headers.host, this.url);
      if (url === undefined) {
        // X doc "Response codes": 404 is also "the URI requested is invalid".
        return this.send(res, method, target.split(/[?#]/)[0]!.slice(0, 200), xError(X_ERRORS.notFound, 'the request target is not a URL'));
      }
      path = url.pathname;
      let body = '';
      try {
        body = await readBody(req);
      } catch (err) {
        if (!(err instanceof TooLarge)) {
          // The request never arrived in full (the client hung up mid-body): X acts on nothing, and
          // its answer, a 400 as to any incomplete request, cannot be sent. The emulator did not fail.
          const answer = text(400, 'Bad Request');
          return this.send(res, method, path, { ...answer, reason: `the request's body did not arrive in full (${err instanceof Error ? err.message : String(err)}): nothing was done` });
        }
        // The rest of the body is never read: close the connection once the answer is out.
        res.once('finish', () => req.socket.destroy());
        const answer = text(413, 'Request body too large');
        return this.send(res, method, path, { ...answer, headers: { ...answer.headers, connection: 'close' }, reason: `body larger than ${MAX_BODY_BYTES} bytes` });
      }
      const fault = this.faults.get(path)?.shift();
      if (fault?.delayMs) await this.delay(fault.delayMs);
      if (this.closing) return;
      const request: EmulatorRequest = { method, url, headers: req.headers, body };
      answer = fault?.status !== undefined ? faultAnswer({ ...fault, status: fault.status }, path, this.context.now()) : this.answer(request);
      this.wayBack.note(request, answer, this.context);
    } catch (err) {
      // A full memory answers as X over capacity; a handler's bug 500 in X's format. The emulator keeps serving.
      answer =
        err instanceof OverCapacityError ? overCapacity(path, err.message) : xError(X_ERRORS.internal, `the emulator failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.send(res, method, path, answer);
  }

  /** The pages around X's endpoints that need the server's memory (the way back), then the endpoints. */
  private answer(request: EmulatorRequest): Answer {
    if (request.method === 'GET') {
      const path = request.url.pathname;
      if (path === WAY_BACK_PATH) return this.wayBack.answer();
      if (path === '/') return homePage(this.context, this.wayBack.origin);
      if (path === '/favicon.ico') return favicon();
    }
    return route(request, this.context);
  }

  /** Writes the answer, then logs what was sent (and when the client had left before it: X acted on the request all the same). */
  private send(res: ServerResponse, method: string, path: string, answer: Answer): void {
    // Not `res.socket === null`: a pipelined request's response has no socket until the one ahead of it is done.
    const left = res.destroyed;
    const sent = left || res.headersSent ? answer : write(res, answer);
    const record: XEmulatorRequestRecord = { method, path, status: sent.status };
    const reason = left ? [sent.reason, 'the client left before the answer, which was not sent'].filter((r) => r !== undefined).join('; ') : sent.reason;
    if (reason !== undefined) record.reason = reason;
    this.log.push(record);
    // A long-running emulator (npm start) keeps the most recent requests only.
    if (this.log.length > MAX_LOGGED_REQUESTS) this.log.splice(0, this.log.length - MAX_LOGGED_REQUESTS);
  }
}

/**
 * Writes an answer and returns what was sent. Should Node refuse it (a header value it cannot
 * send), a 500 in X's format goes instead; should even that fail, the connection is dropped, and
 * the answer returned says so: the request log never shows an answer the client did not get.
 */
function write(res: ServerResponse, answer: Answer): Answer {
  try {
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
    return answer;
  } catch (err) {
    const failure = xError(X_ERRORS.internal, `the emulator could not write its ${answer.status} answer: ${err instanceof Error ? err.message : String(err)}`);
    if (!res.headersSent) {
      try {
        res.writeHead(failure.status, failure.headers);
        res.end(failure.body);
        return failure;
      } catch {
        // Dropped below.
      }
    }
    res.destroy();
    return { ...failure, reason: `${failure.reason}; the connection was dropped` };
  }
}

const APP_KINDS: readonly XEmulatorAppKind[] = ['oauth1', 'confidential', 'public'];

/** The `apps` argument of addCallbackURL / removeCallbackURL, checked: every app when left out. */
function appKinds(apps: unknown): readonly XEmulatorAppKind[] {
  if (apps === undefined) return APP_KINDS;
  const list = typeof apps === 'string' ? [apps] : Array.isArray(apps) ? (apps as unknown[]) : undefined;
  if (!list || list.length === 0 || list.some((a) => typeof a !== 'string' || !(APP_KINDS as readonly string[]).includes(a))) {
    throw new TypeError(`passport-x/testing: \`apps\` must be ${APP_KINDS.map((k) => `'${k}'`).join(', ')} or an array of them, or left out for every app.`);
  }
  return list as XEmulatorAppKind[];
}

function checkOptions(options: unknown): {
  port: number;
  host: string;
  allowNonLoopback: boolean;
  now: () => number;
  strictClientAuthentication: boolean;
  accessTokenTtlMs: number | undefined;
} {
  if (typeof options !== 'object' || options === null) throw new TypeError('passport-x/testing: startXEmulator takes an options object (or nothing).');
  const o = options as XEmulatorOptions;
  if (o.port !== undefined && (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535)) {
    throw new TypeError('passport-x/testing: `port` must be an integer from 0 to 65535 (0: any free port).');
  }
  if (o.host !== undefined && (typeof o.host !== 'string' || o.host === '')) throw new TypeError("passport-x/testing: `host` must be an address such as '127.0.0.1'.");
  if (o.allowNonLoopback !== undefined && typeof o.allowNonLoopback !== 'boolean') throw new TypeError('passport-x/testing: `allowNonLoopback` must be true or false.');
  if (o.host !== undefined && !isLoopback(o.host)) {
    if (o.allowNonLoopback !== true) {
      throw new TypeError(
        'passport-x/testing: `host` must be a loopback address (127.0.0.1, ::1 or localhost): the emulator\'s keys are public, so anyone who can reach it could sign in. ' +
          'Pass `allowNonLoopback: true` to listen elsewhere anyway (e.g. inside a container).',
      );
    }
    process.emitWarning(`passport-x/testing: the X emulator listens on ${o.host}, beyond loopback; its keys are public, so anyone who can reach it can sign in. Never expose it to a network you do not control.`, {
      code: 'PASSPORT_X_EMULATOR_NOT_LOOPBACK',
    });
  }
  if (o.now !== undefined && typeof o.now !== 'function') throw new TypeError('passport-x/testing: `now` must be a function returning milliseconds since the epoch, like Date.now.');
  if (o.strictClientAuthentication !== undefined && typeof o.strictClientAuthentication !== 'boolean') {
    throw new TypeError('passport-x/testing: `strictClientAuthentication` must be a boolean.');
  }
  if (o.accessTokenTtlMs !== undefined && (!Number.isInteger(o.accessTokenTtlMs) || o.accessTokenTtlMs < 1000 || o.accessTokenTtlMs > 2_147_483_647)) {
    throw new TypeError('passport-x/testing: `accessTokenTtlMs` must be a whole number of milliseconds from 1000 (expires_in is in whole seconds) to 2147483647.');
  }
  const clock = o.now ?? Date.now;
  const now = (): number => {
    const value = clock();
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError('the `now` option returned something other than a number of milliseconds');
    return value;
  };
  return {
    port: o.port ?? 0,
    host: o.host ?? '127.0.0.1',
    allowNonLoopback: o.allowNonLoopback === true,
    now,
    strictClientAuthentication: o.strictClientAuthentication ?? false,
    accessTokenTtlMs: o.accessTokenTtlMs,
  };
}

/** 127.0.0.0/8 (RFC 1122 section 3.2.1.3), ::1 and its IPv4-mapped forms (RFC 4291), and `localhost` (RFC 6761 section 6.3). */
function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.replace(/^::ffff:/, '');
  return /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(v4) && v4.split('.').every((part) => Number(part) <= 255);
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/**
 * Starts a local X. Resolves once it listens; `close()` it when done.
 *
 * It serves `POST /oauth/request_token` (reverse auth too), `GET /oauth/authenticate` and
 * `/oauth/authorize` (consent page), `POST /oauth/access_token`,
 * `GET /1.1/account/verify_credentials.json`, `POST /1.1/oauth/invalidate_token`,
 * `POST /oauth2/token`, `POST /oauth2/invalidate_token`, `GET /i/oauth2/authorize` (consent page),
 * `POST /2/oauth2/token`, `POST /2/oauth2/revoke` and `GET /2/users/me`, with X's checks and
 * X's error formats. For a person clicking through an app, it also serves each user's profile at
 * `/<username>` (where x.com has it), a home page at `/`, `/favicon.ico`, and `/i/back`, which
 * every page but the consent page links to: a redirect to the app that sent the person here last.
 *
 * @example
 * ```ts
 * import { startXEmulator } from 'passport-x/testing';
 *
 * const x = await startXEmulator();
 * const strategy = new XOAuth1Strategy(x.oauth1StrategyOptions({ callbackURL: 'http://127.0.0.1:3000/auth/x/callback' }), verify);
 * ```
 */
export async function startXEmulator(options: XEmulatorOptions = {}): Promise<XEmulator> {
  const { port, host, allowNonLoopback, now, strictClientAuthentication, accessTokenTtlMs } = checkOptions(options);
  const server = createServer();
  const address = await listen(server, port, host);
  const closeServer = (): Promise<void> => new Promise<void>((resolve) => server.close(() => resolve()));
  // A loopback name may still resolve elsewhere (a hosts file mapping localhost to another address): check what was bound.
  if (!allowNonLoopback && !isLoopback(address.address)) {
    await closeServer();
    throw new TypeError(
      `passport-x/testing: \`host\` ${host} resolved to ${address.address}, which is not a loopback address: the emulator's keys are public, so anyone who can reach it could sign in. ` +
        "Listen on '127.0.0.1' or '::1', or pass `allowNonLoopback: true`.",
    );
  }
  const hostname = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
  const url = `http://${hostname}:${address.port}`;
  let fixtures: EmulatorFixtures;
  try {
    fixtures = resolveFixtures(options.users, options.apps, (user) => `${url}/profile_images/${user.id}.svg`);
  } catch (err) {
    await closeServer();
    throw err;
  }
  return new EmulatorServer(server, url, fixtures, now, strictClientAuthentication, accessTokenTtlMs);
}
