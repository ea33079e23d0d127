// The app the fuzz suites attack: Express 5 with both strategies, the way an app mounts them,
// over real HTTP on loopback against the X emulator. One app per pending-state store
// (express-session's MemoryStore, or EncryptedCookieStateStore with `session: false`) and
// per query parser (Express 5's `simple` querystring, or `qs` as `extended`). Each callback
// answers what passport decided, so a test can tell a redirect, a fail and an error apart.
import express from 'express';
import session from 'express-session';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Passport } from 'passport';
import { XError } from '../../lib/errors';
import { XOAuth1Strategy } from '../../lib/oauth1-strategy';
import { XOAuth2PkceStrategy } from '../../lib/oauth2-strategy';
import type { XVerifyCallback } from '../../lib/passport-base';
import type { XProfile } from '../../lib/profile';
import { EncryptedCookieStateStore } from '../../lib/state/encrypted-cookie';
import type { XEmulator } from '../../lib/testing';
import type { Protocol, WireRequest } from './fuzz-arbitraries';

/** Where pending sign-ins live. */
export type StoreKind = 'session' | 'cookie';
/** Express 5's query parsers: `simple` (node:querystring, its default) and `extended` (qs: `a[b]=c`, `a[]=1`). */
export type QueryParserKind = 'simple' | 'extended';

export const SESSION_SECRET = 'fuzz-session-secret-of-some-length-0123';
export const COOKIE_STATE_SECRET = 'fuzz-cookie-state-secret-of-32-chars-or-more+/=';

/** The sign-in routes of both protocols. */
export const ROUTES: Record<Protocol, { name: string; path: string }> = {
  oauth1: { name: 'x-oauth1', path: '/auth/x1' },
  oauth2: { name: 'x-oauth2', path: '/auth/x2' },
};

/** What a callback route answered, as JSON. */
export interface CallbackAnswer {
  outcome: 'success' | 'fail' | 'error' | 'thrown';
  /** success: the user */
  user?: { id: string; username: string };
  /** fail: the status passport was given (undefined: passport's default 401) */
  status?: number;
  /** fail: the XFailureInfo's code and whether the info holds a secret of the app (checked server-side) */
  failureCode?: string;
  failureInfo?: unknown;
  /** error and thrown: the error's class, `code`, and whether it is typed (an XError, or a TypeError) */
  name?: string;
  code?: string;
  typed?: boolean;
  message?: string;
}

/** A running app. */
export interface FuzzApp {
  readonly origin: string;
  readonly store: StoreKind;
  readonly parser: QueryParserKind;
  /** Each error passed to a callback or thrown, by the request's `x-fuzz-id`, for the secret scanner. */
  readonly errors: Map<string, unknown>;
  /** Every secret the app holds: the scanner looks for them in each error. */
  readonly secrets: string[];
  close(): Promise<void>;
}

function typed(err: unknown): boolean {
  return err instanceof XError || err instanceof TypeError;
}

function errorAnswer(outcome: 'error' | 'thrown', err: unknown): CallbackAnswer {
  const e = err as { name?: unknown; code?: unknown; message?: unknown; constructor?: { name?: string } };
  return {
    outcome,
    name: e?.constructor?.name ?? typeof err,
    code: typeof e?.code === 'string' ? e.code : undefined,
    typed: typed(err),
    message: typeof e?.message === 'string' ? e.message.slice(0, 500) : undefined,
  } as CallbackAnswer;
}

/** Starts the app on a free loopback port, its strategies pointed at the emulator. */
export async function startFuzzApp(x: XEmulator, store: StoreKind, parser: QueryParserKind): Promise<FuzzApp> {
  // 1 MiB of request line and headers: a 100 KB query value reaches the app instead of Node's 431.
  const server = createServer({ maxHeaderSize: 1024 * 1024 });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const errors = new Map<string, unknown>();

  // X matches callback URLs exactly, and so does the emulator: register this app's two (removed again on close).
  const oauth1Callback = `${origin}${ROUTES.oauth1.path}/callback`;
  const oauth2Callback = `${origin}${ROUTES.oauth2.path}/callback`;
  x.addCallbackURL(oauth1Callback, 'oauth1');
  x.addCallbackURL(oauth2Callback, 'confidential');
  const cookieStore = store === 'cookie' ? new EncryptedCookieStateStore({ secret: COOKIE_STATE_SECRET }) : undefined;
  const toUser = (profile: XProfile): { id: string; username: string } => ({ id: profile.id, username: profile.username });
  const passport = new Passport();
  passport.use(
    new XOAuth1Strategy(
      {
        consumerKey: x.apps.oauth1.consumerKey,
        consumerSecret: x.apps.oauth1.consumerSecret,
        callbackURL: oauth1Callback,
        baseURL: x.baseURL,
        timeoutMs: 4000,
        ...(cookieStore ? { store: cookieStore } : {}),
      },
      (_token: string, _tokenSecret: string, profile: XProfile, done: XVerifyCallback) => done(null, toUser(profile)),
    ),
  );
  passport.use(
    new XOAuth2PkceStrategy(
      {
        clientID: x.apps.confidential.clientID,
        clientSecret: x.apps.confidential.clientSecret,
        callbackURL: oauth2Callback,
        baseURL: x.baseURL,
        authorizationURL: x.authorizationURL,
        timeoutMs: 4000,
        ...(cookieStore ? { store: cookieStore } : {}),
      },
      (_accessToken: string, _refreshToken: string | undefined, profile: XProfile, done: XVerifyCallback) => done(null, toUser(profile)),
    ),
  );

  const app = express();
  app.set('query parser', parser);
  if (store === 'session') {
    app.use(session({ secret: SESSION_SECRET, resave: false, saveUninitialized: false, store: new session.MemoryStore(), name: 'sid' }));
  }
  // The callbacks accept form-posted and JSON bodies too (passport-oauth2 reads `code` and `state` from a body).
  app.use(express.urlencoded({ extended: parser === 'extended', limit: '1mb' }));
  app.use(express.json({ limit: '1mb' }));
  app.use(passport.initialize());
  for (const { name, path } of Object.values(ROUTES)) {
    app.get(path, passport.authenticate(name, { session: false }));
    app.all(`${path}/callback`, (req, res, next) => {
      const id = req.get('x-fuzz-id') ?? '';
      passport.authenticate(name, { session: false }, (err: unknown, user: unknown, info: unknown, status: unknown) => {
        if (err) {
          errors.set(id, err);
          return res.status(500).json(errorAnswer('error', err));
        }
        if (!user) {
          const s = typeof status === 'number' ? status : undefined;
          const code = typeof info === 'object' && info !== null ? (info as { code?: unknown }).code : undefined;
          const answer: CallbackAnswer = {
            outcome: 'fail',
            ...(s !== undefined ? { status: s } : {}),
            ...(typeof code === 'string' ? { failureCode: code } : {}),
            failureInfo: info,
          };
          return res.status(s ?? 401).json(answer);
        }
        return res.status(200).json({ outcome: 'success', user: user as { id: string; username: string } } satisfies CallbackAnswer);
      })(req, res, next);
    });
  }
  app.use(((err, req, res, _next) => {
    errors.set(req.get('x-fuzz-id') ?? '', err);
    res.status(500).json(errorAnswer('thrown', err));
  }) as express.ErrorRequestHandler);
  server.on('request', app);

  return {
    origin,
    store,
    parser,
    errors,
    secrets: [x.apps.oauth1.consumerSecret, x.apps.confidential.clientSecret!, COOKIE_STATE_SECRET, SESSION_SECRET],
    close: async () => {
      x.removeCallbackURL(oauth1Callback, 'oauth1');
      x.removeCallbackURL(oauth2Callback, 'confidential');
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

/** One answer the browser got. */
export interface BrowserAnswer {
  status: number;
  location: string | null;
  text: string;
}

/**
 * A browser reduced to what sign-in needs: a cookie jar per origin (applying Set-Cookie as a
 * browser does, `Max-Age=0` deleting), redirects followed one at a time, X's consent form posted.
 */
export class Browser {
  private readonly jars = new Map<string, Map<string, string>>();

  cookies(origin: string): Map<string, string> {
    let jar = this.jars.get(origin);
    if (!jar) this.jars.set(origin, (jar = new Map()));
    return jar;
  }

  async request(url: string, init: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal } = {}): Promise<BrowserAnswer> {
    const u = new URL(url);
    const jar = this.cookies(u.origin);
    const headers = new Headers(init.headers);
    if (jar.size > 0) headers.set('cookie', [...jar].map(([n, v]) => `${n}=${v}`).join('; '));
    const request: RequestInit = { method: init.method ?? 'GET', headers, redirect: 'manual' };
    if (init.body !== undefined) request.body = init.body;
    if (init.signal) request.signal = init.signal;
    const response = await fetch(url, request);
    for (const header of response.headers.getSetCookie()) {
      const [pair, ...attributes] = header.split(';').map((s) => s.trim());
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      if (attributes.some((a) => /^max-age=0$/i.test(a))) jar.delete(name);
      else jar.set(name, pair!.slice(eq + 1));
    }
    return { status: response.status, location: response.headers.get('location'), text: await response.text() };
  }

  /**
   * Starts a sign-in on `app`, approves it on the emulator's consent page as its first user, and
   * answers the callback URL X sends the browser back to, without visiting it.
   */
  async approvedCallback(app: FuzzApp, protocol: Protocol): Promise<string> {
    const start = await this.request(`${app.origin}${ROUTES[protocol].path}`);
    if (start.status !== 302 || !start.location) throw new Error(`the sign-in did not start: ${start.status} ${start.text.slice(0, 300)}`);
    const consentURL = new URL(start.location, app.origin).href;
    const consent = await this.request(consentURL);
    if (consent.status !== 200) throw new Error(`the consent page answered ${consent.status}: ${consent.text.slice(0, 300)}`);
    const back = await this.submit(consentURL, consent.text, { name: 'action', value: 'authorize' });
    return back;
  }

  /** Submits the consent form as a click on `button` does; answers where it redirects. */
  private async submit(pageURL: string, html: string, button: { name: string; value: string }): Promise<string> {
    const form = /<form method="post" action="([^"]*)">/.exec(html);
    if (!form) throw new Error('the consent page has no form');
    const fields = new URLSearchParams();
    for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) fields.append(unescapeHTML(m[1]!), unescapeHTML(m[2]!));
    const checked = /<input type="radio" name="([^"]*)" value="([^"]*)" checked>/.exec(html);
    if (checked) fields.append(unescapeHTML(checked[1]!), unescapeHTML(checked[2]!));
    fields.append(button.name, button.value);
    const answer = await this.request(new URL(unescapeHTML(form[1]!), pageURL).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: fields.toString(),
    });
    if (answer.status !== 302 || !answer.location) throw new Error(`the consent form answered ${answer.status}`);
    return new URL(answer.location, pageURL).href;
  }
}

function unescapeHTML(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!);
}

let nextId = 0;

/** Sends a (forged) callback request to `app` as `browser`, tagged with an id the app files its errors under. */
export async function sendCallback(
  browser: Browser,
  app: FuzzApp,
  protocol: Protocol,
  wire: WireRequest,
  signal: AbortSignal,
): Promise<BrowserAnswer & { id: string }> {
  const id = String(++nextId);
  const url = `${app.origin}${ROUTES[protocol].path}/callback${wire.query ? `?${wire.query}` : ''}`;
  const headers: Record<string, string> = { 'x-fuzz-id': id };
  if (wire.body) headers['content-type'] = wire.body.contentType;
  // An attacker's own Cookie header; a browser with cookies of its own sends those instead.
  if (wire.cookie !== undefined) headers.cookie = wire.cookie;
  const answer = await browser.request(url, { method: wire.method, headers, signal, ...(wire.body ? { body: wire.body.text } : {}) });
  return { ...answer, id };
}

/** The answer's JSON, or undefined when it is not JSON (a redirect, an HTML page). */
export function answerJSON(answer: BrowserAnswer): CallbackAnswer | undefined {
  try {
    return JSON.parse(answer.text) as CallbackAnswer;
  } catch {
    return undefined;
  }
}
