// End to end: "Sign in with X" over both protocols with `session: false` and one
// EncryptedCookieStateStore, in a real Express 5 app, a real Koa 2 app and a real Fastify 5 app
// (no session middleware at all), driven by a fetch-based browser with a cookie jar through the
// X emulator of passport-x/testing, its consent page included.
import { expect } from 'chai';
import express from 'express';
import Fastify, { type FastifyReply } from 'fastify';
import FastifyPassport from '@fastify/passport';
import Koa from 'koa';
import Router from '@koa/router';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Passport } from 'passport';
import { XFailureCode } from '../../lib/failure';
import { XOAuth1Strategy } from '../../lib/oauth1-strategy';
import { failureHint } from '../support/assertions';
import { XOAuth2PkceStrategy } from '../../lib/oauth2-strategy';
import type { XVerifyCallback } from '../../lib/passport-base';
import type { XProfile } from '../../lib/profile';
import { EncryptedCookieStateStore, type EncryptedCookieStateStoreOptions } from '../../lib/state/encrypted-cookie';
import { DEFAULT_CALLBACK_URLS, startXEmulator, type XEmulator } from '../../lib/testing';

// koa-passport's index switches the passport singleton to Koa for the whole process; take its
// Koa framework adapter alone (what `new KoaPassport()` installs) so other tests keep Express.
const koaFramework: () => unknown = require('koa-passport/lib/framework/koa');

const SECRET = 'e2e-cookie-state-secret-of-32-chars+';
const OLD_SECRET = 'e2e-previous-cookie-secret-32-chars+';
const TEN_MINUTES = 10 * 60 * 1000;

// --- the browser ---------------------------------------------------------------------------------

/** One request the browser made. */
interface Step {
  method: string;
  url: string;
  status: number;
  setCookie: string[];
}

/** A browser reduced to what sign-in needs: cookies per host (RFC 6265 cookies ignore the port), redirects followed one by one, forms posted. */
class Browser {
  readonly jars = new Map<string, Map<string, string>>();
  readonly steps: Step[] = [];

  jar(hostname: string): Map<string, string> {
    let jar = this.jars.get(hostname);
    if (!jar) this.jars.set(hostname, (jar = new Map()));
    return jar;
  }

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const u = new URL(url);
    const jar = this.jar(u.hostname);
    const headers = new Headers(init.headers);
    if (jar.size > 0) headers.set('cookie', [...jar].map(([n, v]) => `${n}=${v}`).join('; '));
    const response = await fetch(u, { ...init, headers, redirect: 'manual' });
    const setCookie = response.headers.getSetCookie();
    for (const header of setCookie) {
      const [pair, ...attributes] = header.split(';').map((s) => s.trim());
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      if (attributes.some((a) => /^max-age=0$/i.test(a))) jar.delete(name);
      else jar.set(name, pair!.slice(eq + 1));
    }
    this.steps.push({ method: init.method ?? 'GET', url, status: response.status, setCookie });
    return response;
  }

  /** Follows redirects from `url` until an answer that is not a redirect, or until `stop` says so (then answers the URL it would go to). */
  async navigate(url: string, stop: (next: string) => boolean = () => false): Promise<{ response: Response; next?: string }> {
    let current = url;
    for (let hop = 0; hop < 10; hop++) {
      const response = await this.request(current);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) return { response };
      await response.arrayBuffer();
      const next = new URL(location, current).href;
      if (stop(next)) return { response, next };
      current = next;
    }
    throw new Error(`too many redirects from ${url}`);
  }

  /** Submits the only form of an HTML page as a browser does when `button` (name=value) is clicked; answers where it redirects. */
  async submit(pageURL: string, html: string, button: { name: string; value: string }): Promise<string> {
    const form = /<form method="post" action="([^"]*)">/.exec(html);
    expect(form, 'a consent form').to.not.equal(null);
    const fields = new URLSearchParams();
    for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) fields.append(unescapeHTML(m[1]!), unescapeHTML(m[2]!));
    const checked = /<input type="radio" name="([^"]*)" value="([^"]*)" checked>/.exec(html);
    if (checked) fields.append(unescapeHTML(checked[1]!), unescapeHTML(checked[2]!));
    fields.append(button.name, button.value);
    const response = await this.request(new URL(unescapeHTML(form![1]!), pageURL).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: fields.toString(),
    });
    await response.arrayBuffer();
    expect(response.status, 'the consent form redirects back to the app').to.equal(302);
    return new URL(response.headers.get('location')!, pageURL).href;
  }
}

function unescapeHTML(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!);
}

// --- the apps ------------------------------------------------------------------------------------

interface RunningApp {
  origin: string;
  close(): Promise<void>;
}

type Framework = 'express' | 'koa' | 'fastify';

/** The two sign-in routes: `/auth/x1` (OAuth 1.0a) and `/auth/x2` (OAuth 2.0), each with `/callback`. */
const ROUTES = [
  { name: 'x-oauth1', path: '/auth/x1' },
  { name: 'x-oauth2', path: '/auth/x2' },
] as const;

interface AppConfig {
  /** The store both strategies share. */
  store: EncryptedCookieStateStore;
  /** Where the strategies send X's redirect back (default: this app). */
  callbackOrigin?: () => string;
  /** Fastify only: add the `onRequest` hook that exposes the reply as `request.reply` (default true). */
  exposeReply?: boolean;
}

interface CallbackBody {
  user?: { id: string; username: string };
  jwt?: string;
  state?: unknown;
  message?: string | undefined;
  hint?: string;
  code?: string;
  error?: string;
}

interface CallbackResult {
  status: number;
  body: CallbackBody;
}

// The app state carried through the sign-in (passport-oauth2 hands it back as info.state).
const APP_STATE = { returnTo: '/after-sign-in' };

// What an app that issues its own JWT would answer; a stand-in string here.
const jwtFor = (user: { id: string }): string => `jwt-for-${user.id}`;

/** What the callback route answers for each outcome of passport.authenticate's custom callback. */
function callbackAnswer(err: Error | null, user: unknown, info: unknown): CallbackResult {
  if (err) return { status: 500, body: { error: err.message } };
  if (!user) {
    // The person gets `message`; `hint` and `code` are for the developer (an app would log them, not show them).
    const { message, hint, code } = (info ?? {}) as { message?: string; hint?: string; code?: string };
    return { status: 401, body: { message, ...(hint !== undefined ? { hint } : {}), ...(code !== undefined ? { code } : {}) } };
  }
  const u = user as { id: string; username: string };
  const state = (info as { state?: unknown } | undefined)?.state;
  return { status: 200, body: { user: u, jwt: jwtFor(u), ...(state !== undefined ? { state } : {}) } };
}

function strategiesFor(x: XEmulator, config: AppConfig, origin: string): [XOAuth1Strategy, XOAuth2PkceStrategy] {
  const back = config.callbackOrigin ? config.callbackOrigin() : origin;
  // X matches callback URLs exactly: register the ones this app sends (forgetAppCallbacks undoes it).
  x.addCallbackURL(`${back}/auth/x1/callback`, 'oauth1');
  x.addCallbackURL(`${back}/auth/x2/callback`, 'public');
  const toUser = (profile: XProfile) => ({ id: profile.id, username: profile.username });
  return [
    new XOAuth1Strategy(
      {
        consumerKey: x.apps.oauth1.consumerKey,
        consumerSecret: x.apps.oauth1.consumerSecret,
        callbackURL: `${back}/auth/x1/callback`,
        baseURL: x.baseURL,
        store: config.store,
      },
      (_token: string, _tokenSecret: string, profile: XProfile, done: XVerifyCallback) => done(null, toUser(profile)),
    ),
    new XOAuth2PkceStrategy(
      { clientID: x.apps.public.clientID, callbackURL: `${back}/auth/x2/callback`, baseURL: x.baseURL, authorizationURL: x.authorizationURL, store: config.store },
      (_accessToken: string, _refreshToken: string | undefined, profile: XProfile, done: XVerifyCallback) => done(null, toUser(profile)),
    ),
  ];
}

/** Unregisters the callback URLs the apps registered, keeping each emulator app under X's 10 per app. */
function forgetAppCallbacks(x: XEmulator): void {
  for (const app of [x.apps.oauth1, x.apps.public]) for (const url of app.callbackURLs ?? []) if (!DEFAULT_CALLBACK_URLS.includes(url)) x.removeCallbackURL(url);
}

async function listen(server: Server): Promise<string> {
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
}

type Done = (err: Error | null, user?: unknown, info?: unknown) => void;

/** The part of passport's Authenticator these apps use (the framework decides what the middleware looks like). */
interface PassportLike {
  use(strategy: unknown): void;
  initialize(): unknown;
  authenticate(name: string, options: object, callback?: Done): unknown;
  framework(fw: unknown): void;
}

async function startExpress(x: XEmulator, config: AppConfig): Promise<RunningApp> {
  const server = createServer().listen(0, '127.0.0.1');
  const origin = await listen(server);
  const passport = new Passport() as unknown as PassportLike;
  for (const strategy of strategiesFor(x, config, origin)) passport.use(strategy);
  const app = express();
  app.use(passport.initialize() as express.RequestHandler);
  for (const { name, path } of ROUTES) {
    app.get(path, passport.authenticate(name, { session: false, state: APP_STATE }) as express.RequestHandler);
    app.get(`${path}/callback`, (req, res, next) => {
      const handler = passport.authenticate(name, { session: false }, (err, user, info) => {
        const { status, body } = callbackAnswer(err, user, info);
        res.status(status).json(body);
      }) as express.RequestHandler;
      handler(req, res, next);
    });
  }
  app.use(((err, _req, res, _next) => res.status(500).json({ error: (err as Error).message })) as express.ErrorRequestHandler);
  server.on('request', app);
  return { origin, close: () => closeServer(server) };
}

async function startKoa(x: XEmulator, config: AppConfig): Promise<RunningApp> {
  // Koa composes its middleware when the handler is made: listen first, attach once the routes are in.
  const server = createServer().listen(0, '127.0.0.1');
  const origin = await listen(server);
  const passport = new Passport() as unknown as PassportLike;
  passport.framework(koaFramework());
  for (const strategy of strategiesFor(x, config, origin)) passport.use(strategy);
  const app = new Koa();
  app.silent = true;
  const router = new Router();
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      ctx.status = 500;
      ctx.body = { error: (err as Error).message };
    }
  });
  app.use(passport.initialize() as Koa.Middleware);
  for (const { name, path } of ROUTES) {
    router.get(path, passport.authenticate(name, { session: false, state: APP_STATE }) as Koa.Middleware);
    router.get(`${path}/callback`, (ctx, next) => {
      const handler = passport.authenticate(name, { session: false }, (err, user, info) => {
        const { status, body } = callbackAnswer(err, user, info);
        ctx.status = status;
        ctx.body = body;
      }) as Koa.Middleware;
      return handler(ctx, next);
    });
  }
  app.use(router.routes());
  server.on('request', app.callback());
  return { origin, close: () => closeServer(server) };
}

/**
 * Fastify 5 with @fastify/passport and no session plugin. @fastify/passport hands strategies the
 * Fastify request, which has no way to the reply: the `onRequest` hook the store's documentation
 * asks for exposes it as `request.reply`.
 */
async function startFastify(x: XEmulator, config: AppConfig): Promise<RunningApp> {
  const app = Fastify();
  const passport = new FastifyPassport.Authenticator();
  // @fastify/passport's flash plugin declares a dependency on a `session` request decorator; this app has no sessions.
  app.decorateRequest('session', null as never);
  if (config.exposeReply !== false) {
    app.decorateRequest('reply', null);
    app.addHook('onRequest', async (request, reply) => {
      (request as unknown as { reply: FastifyReply }).reply = reply;
    });
  }
  await app.register(passport.initialize());
  for (const { name, path } of ROUTES) {
    app.get(path, { preValidation: passport.authenticate(name, { session: false, state: APP_STATE } as object) }, async () => undefined);
    app.get(
      `${path}/callback`,
      {
        preValidation: passport.authenticate(name, { session: false }, async (_request, reply, err, user, info) => {
          const { status, body } = callbackAnswer(err ?? null, user, info);
          await reply.code(status).send(body);
        }),
      },
      async () => undefined,
    );
  }
  // Strategies are looked up by name per request, so they can be added once the origin is known.
  await app.listen({ port: 0, host: '127.0.0.1' });
  const origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  for (const strategy of strategiesFor(x, config, origin)) passport.use(strategy.name, strategy as never);
  return { origin, close: () => app.close() };
}

const starters: Record<Framework, (x: XEmulator, config: AppConfig) => Promise<RunningApp>> = { express: startExpress, koa: startKoa, fastify: startFastify };

function cookieStore(options: Partial<EncryptedCookieStateStoreOptions> = {}): EncryptedCookieStateStore {
  return new EncryptedCookieStateStore({ secret: SECRET, ...options });
}

async function json(response: Response): Promise<CallbackResult> {
  return { status: response.status, body: (await response.json()) as CallbackBody };
}

function stateCookies(browser: Browser): Array<[string, string]> {
  return [...browser.jar('127.0.0.1')].filter(([name]) => name.startsWith('__xauth_'));
}

function flipMiddle(value: string): string {
  const raw = Buffer.from(value, 'base64url');
  const i = Math.floor(raw.length / 2);
  raw[i] = raw[i]! ^ 0x80;
  return raw.toString('base64url');
}

/** Both protocols: where the sign-in starts, X's consent page, the token endpoint, the handle the store keys on, and whether app state comes back (both carry it). */
const PROTOCOLS = [
  { title: 'OAuth 1.0a', path: '/auth/x1', consentPath: '/oauth/authenticate', tokenPath: '/oauth/access_token', what: 'request token', sendsState: true },
  { title: 'OAuth 2.0 with PKCE', path: '/auth/x2', consentPath: '/i/oauth2/authorize', tokenPath: '/2/oauth2/token', what: 'state', sendsState: true },
] as const;

// --- the tests -----------------------------------------------------------------------------------

describe('EncryptedCookieStateStore end to end, through the X emulator', () => {
  let x: XEmulator;
  before(async () => {
    x = await startXEmulator();
  });
  after(async () => {
    await x.close();
  });

  /** What the callback answers for the emulator's preselected user. */
  const signedIn = (sendsState: boolean): CallbackBody => {
    const user = { id: x.users[0].id, username: x.users[0].username };
    return { user, jwt: jwtFor(user), ...(sendsState ? { state: APP_STATE } : {}) };
  };

  /** Starts a sign-in in `browser` and answers X's consent page; answers the callback URL X redirects to, not yet visited. */
  async function throughConsent(browser: Browser, app: RunningApp, path: string, button: 'authorize' | 'cancel' = 'authorize'): Promise<string> {
    const { response } = await browser.navigate(`${app.origin}${path}`);
    expect(response.status, 'X\'s consent page').to.equal(200);
    const consentURL = browser.steps.at(-1)!.url;
    expect(consentURL.startsWith(x.url)).to.equal(true);
    return browser.submit(consentURL, await response.text(), { name: 'action', value: button });
  }

  /** The paths of X's endpoints requested after `since` (an index into x.requests). */
  const xPathsSince = (since: number): string[] => x.requests.slice(since).map((r) => r.path);

  for (const framework of ['express', 'koa', 'fastify'] as const) {
    describe(`${framework}, session: false, no session middleware`, () => {
      const apps: RunningApp[] = [];
      const start = async (config: AppConfig): Promise<RunningApp> => {
        const app = await starters[framework](x, config);
        apps.push(app);
        return app;
      };

      afterEach(async () => {
        await Promise.all(apps.splice(0).map((a) => a.close()));
        forgetAppCallbacks(x);
      });

      for (const protocol of PROTOCOLS) {
        describe(protocol.title, () => {
          it('signs in with the pending sign-in kept only in an encrypted cookie, which the callback clears', async () => {
            const app = await start({ store: cookieStore() });
            const browser = new Browser();
            const callbackURL = await throughConsent(browser, app, protocol.path);
            const result = await json((await browser.navigate(callbackURL)).response);
            expect(result).to.deep.equal({ status: 200, body: signedIn(protocol.sendsState) });

            const [startStep, consentStep, decisionStep, callbackStep] = browser.steps;
            // The start sets one cookie, the pending sign-in, and no session cookie.
            expect(startStep!.status).to.equal(302);
            expect(startStep!.setCookie).to.have.length(1);
            expect(startStep!.setCookie[0]).to.match(/^__xauth_[0-9a-f]{16}=[A-Za-z0-9_-]{40,}; Max-Age=600; Path=\/; HttpOnly; SameSite=Lax$/);
            expect(new URL(consentStep!.url).pathname).to.equal(protocol.consentPath);
            expect(decisionStep!.method).to.equal('POST');
            // The callback clears it and sets nothing else.
            expect(callbackStep!.url.startsWith(`${app.origin}${protocol.path}/callback?`)).to.equal(true);
            expect(callbackStep!.setCookie).to.have.length(1);
            expect(callbackStep!.setCookie[0]).to.match(/^__xauth_[0-9a-f]{16}=; Max-Age=0; Path=\/; HttpOnly; SameSite=Lax$/);
            expect(callbackStep!.setCookie[0]!.split('=')[0]).to.equal(startStep!.setCookie[0]!.split('=')[0]);
            expect(browser.jar('127.0.0.1').size).to.equal(0);
          });

          it('completes two sign-ins started in two tabs, finished in the opposite order', async () => {
            const app = await start({ store: cookieStore() });
            const browser = new Browser();
            const tab1 = await throughConsent(browser, app, protocol.path);
            const tab2 = await throughConsent(browser, app, protocol.path);
            expect(stateCookies(browser)).to.have.length(2);
            expect(await json((await browser.navigate(tab2)).response)).to.deep.equal({ status: 200, body: signedIn(protocol.sendsState) });
            expect(await json((await browser.navigate(tab1)).response)).to.deep.equal({ status: 200, body: signedIn(protocol.sendsState) });
            expect(stateCookies(browser)).to.have.length(0);
          });

          it('refuses a replayed callback: the first one cleared the cookie', async () => {
            const app = await start({ store: cookieStore() });
            const browser = new Browser();
            const callbackURL = await throughConsent(browser, app, protocol.path);
            expect((await browser.navigate(callbackURL)).response.status).to.equal(200);
            const since = x.requests.length;
            const replay = await json((await browser.navigate(callbackURL)).response);
            expect(replay.status).to.equal(401);
            expect(failureHint(replay.body, XFailureCode.NO_PENDING_SIGN_IN)).to.match(new RegExp(`^This X sign-in callback found no sign-in cookie \\(__xauth_\\.\\.\\.\\) for its ${protocol.what}`));
            expect(xPathsSince(since)).to.deep.equal([]);
          });

          it('refuses a callback that was not started in this browser (login CSRF), without calling X', async () => {
            const app = await start({ store: cookieStore() });
            const callbackURL = await throughConsent(new Browser(), app, protocol.path);
            const since = x.requests.length;
            const result = await json((await new Browser().navigate(callbackURL)).response);
            expect(result.status).to.equal(401);
            expect(failureHint(result.body, XFailureCode.NO_PENDING_SIGN_IN)).to.match(/found no sign-in cookie.*started in another browser/);
            expect(xPathsSince(since)).to.deep.equal([]);
          });

          it('refuses a tampered cookie with a clear failure, clears it, and never calls X\'s token endpoint', async () => {
            const app = await start({ store: cookieStore() });
            const browser = new Browser();
            const callbackURL = await throughConsent(browser, app, protocol.path);
            const [name, value] = stateCookies(browser)[0]!;
            browser.jar('127.0.0.1').set(name, flipMiddle(value));

            const since = x.requests.length;
            const result = await json((await browser.navigate(callbackURL)).response);
            expect(result.status).to.equal(401);
            expect(failureHint(result.body, XFailureCode.CALLBACK_UNKNOWN)).to.match(/^The sign-in cookie for this X callback failed decryption: it was modified/);
            for (const [, param] of new URL(callbackURL).searchParams) expect(JSON.stringify(result.body)).to.not.include(param);
            expect(xPathsSince(since)).to.deep.equal([]);
            expect(stateCookies(browser)).to.have.length(0);
          });

          it('refuses a callback after the cookie expired, and clears it', async () => {
            let now = Date.now();
            const app = await start({ store: cookieStore({ now: () => now }) });
            const browser = new Browser();
            const callbackURL = await throughConsent(browser, app, protocol.path);
            now += TEN_MINUTES;
            const since = x.requests.length;
            const result = await json((await browser.navigate(callbackURL)).response);
            expect(result).to.deep.equal({
              status: 401,
              body: {
                message: 'This sign-in took too long and has expired. Sign in again.',
                hint: 'This X sign-in was started more than 10 minutes ago and its cookie has expired. Sign in again.',
                code: 'X_SIGN_IN_EXPIRED',
              },
            });
            expect(xPathsSince(since)).to.deep.equal([]);
            expect(stateCookies(browser)).to.have.length(0);
          });

          it('clears the cookie when the user cancels on X', async () => {
            const app = await start({ store: cookieStore() });
            const browser = new Browser();
            const callbackURL = await throughConsent(browser, app, protocol.path, 'cancel');
            const cancelled = await json((await browser.navigate(callbackURL)).response);
            expect(cancelled.status).to.equal(401);
            expect(failureHint(cancelled.body, XFailureCode.ACCESS_DENIED)).to.match(/pressed Cancel/);
            expect(cancelled.body.message).to.equal('You cancelled the sign-in with X.');
            const callbackStep = browser.steps.at(-1)!;
            expect(callbackStep.setCookie).to.have.length(1);
            expect(callbackStep.setCookie[0]).to.match(/^__xauth_[0-9a-f]{16}=; Max-Age=0;/);
            expect(stateCookies(browser)).to.have.length(0);
          });

          describe('secret rotation across a rolling deploy (two app instances sharing only the secret)', () => {
            /** Starts the sign-in on an instance with `startSecret`, and X sends the user back to one with `callbackSecret`. */
            async function signInAcross(startSecret: string | string[], callbackSecret: string | string[]): Promise<{ result: CallbackResult; xPaths: string[] }> {
              const after = await start({ store: cookieStore({ secret: callbackSecret }) });
              const before = await start({ store: cookieStore({ secret: startSecret }), callbackOrigin: () => after.origin });
              const browser = new Browser();
              const callbackURL = await throughConsent(browser, before, protocol.path);
              expect(callbackURL.startsWith(`${after.origin}/`)).to.equal(true);
              const since = x.requests.length;
              const result = await json((await browser.navigate(callbackURL)).response);
              return { result, xPaths: xPathsSince(since) };
            }

            it('accepts a sign-in started under the old secret where the new secret comes first and the old one second', async () => {
              const { result, xPaths } = await signInAcross(OLD_SECRET, [SECRET, OLD_SECRET]);
              expect(result).to.deep.equal({ status: 200, body: signedIn(protocol.sendsState) });
              expect(xPaths).to.include(protocol.tokenPath);
            });

            it('refuses it once the old secret is removed, saying the secret changed', async () => {
              const { result, xPaths } = await signInAcross(OLD_SECRET, SECRET);
              expect(result.status).to.equal(401);
              expect(failureHint(result.body, XFailureCode.CALLBACK_UNKNOWN)).to.match(/none was made with this app's secret: the secret was changed without keeping the old one/);
              expect(JSON.stringify(result.body)).to.not.include(OLD_SECRET);
              expect(xPaths).to.deep.equal([]);
            });
          });
        });
      }

      it('serves both strategies from one store: an OAuth 1.0a and an OAuth 2.0 sign-in pending at once', async () => {
        const app = await start({ store: cookieStore() });
        const browser = new Browser();
        const one = await throughConsent(browser, app, '/auth/x1');
        const two = await throughConsent(browser, app, '/auth/x2');
        expect(stateCookies(browser)).to.have.length(2);
        expect(await json((await browser.navigate(two)).response)).to.deep.equal({ status: 200, body: signedIn(true) });
        expect(await json((await browser.navigate(one)).response)).to.deep.equal({ status: 200, body: signedIn(true) });
        expect(stateCookies(browser)).to.have.length(0);
      });
    });
  }

  describe('fastify without the hook that exposes the reply', () => {
    let app: RunningApp;
    before(async () => {
      app = await startFastify(x, { store: cookieStore(), exposeReply: false });
    });
    after(async () => {
      await app.close();
    });

    for (const protocol of PROTOCOLS) {
      it(`fails the ${protocol.title} start with an error that names the hook to add`, async () => {
        const response = await new Browser().request(`${app.origin}${protocol.path}`);
        expect(response.status).to.equal(500);
        const body = (await response.json()) as { message?: string };
        expect(body.message).to.match(/found no response to set it on.*fastify\.addHook\('onRequest', async \(request, reply\) => \{ request\.reply = reply \}\)/);
      });
    }
  });
});
