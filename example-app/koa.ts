/**
 * The example app on Koa 3: koa-session, @koa/router and koa-passport, with both passport-x
 * strategies, unchanged. The same pages, routes and texts as the Express app (app.ts); it reuses
 * its configuration, strategies, users, messages and views.
 *
 * `createKoaExampleApp(config)` builds the app and nothing else: it does not listen and reads no
 * environment variable, and it registers the strategies on its own `KoaPassport` instance, so
 * several apps can live in one process (e.g. in tests). Serve it with
 * `http.createServer(app.callback()).listen(port)`.
 *
 * Run directly (`npx tsx example-app/koa.ts`), it starts as `npm start` does the Express app:
 * with `.env` and the environment of example-app/config.ts, and the X emulator when no X
 * credentials are set; but it keeps sessions, tokens and replay claims in memory, for one instance,
 * and refuses to start with `REDIS_URL` set rather than look shared.
 *
 * It imports `passport-x` by the package's name, as your app does (npm start builds dist/ first).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa from 'koa';
import session from 'koa-session';
import { startXEmulator } from 'passport-x/testing';
import { EXAMPLE_EMULATOR_OPTIONS, ExampleConfigError, emulatorConfig, normalizePublicURL, publicURLRedirect, readEnvironment, type ExampleConfig } from './config';
import { errorMessage, isSignInInProgress, isUsedCallback, logLine, noticeFromQuery, signInFailureLogLine, signInFailureMessage, stillSignedInMessage } from './messages';
import { STRATEGY_NAMES, createStrategies } from './strategies';
import { createExampleTokens, refreshFailureMessage, tokensForProfile, type ExampleTokenState } from './tokens';
import { isExampleUser, profileSummary, refreshUserTokens, revokeUserTokens, type ExampleUser } from './users';
import { CONTENT_SECURITY_POLICY, FAVICON_SVG, ROUTES, errorPage, homePage, profilePage, type PageMessage } from './views';

/** The parts of koa-passport's `KoaPassport` (passport's Authenticator with Koa middleware) this app uses; koa-passport ships no types. */
interface KoaPassportInstance {
  use(strategy: { name?: string | undefined; authenticate(req: never, options?: never): void }): this;
  serializeUser(fn: (user: unknown, done: (err: unknown, stored?: unknown) => void) => void): void;
  deserializeUser(fn: (stored: unknown, done: (err: unknown, user?: unknown) => void) => void): void;
  initialize(): Koa.Middleware;
  session(): Koa.Middleware;
  authenticate(name: string, callback?: (err: unknown, user: unknown, info: unknown) => unknown): Koa.Middleware;
}

// `new KoaPassport()` is passport's Authenticator bound to Koa: one per app, no process-wide singleton.
const { KoaPassport } = require('koa-passport') as { KoaPassport: new () => KoaPassportInstance };

/** What koa-passport adds to Koa's context. */
interface PassportContext {
  login(user: unknown, options?: { keepSessionInfo?: boolean }): Promise<void>;
  logout(): Promise<void>;
}

/** Koa's context with koa-passport's additions (set by `passport.initialize()`). */
function withPassport(ctx: Koa.Context): PassportContext {
  return ctx as unknown as PassportContext;
}

/** A koa-session external store (koa-session calls these; each must return a promise). */
export interface KoaSessionStore {
  get(key: string, maxAge: number, options: { rolling: boolean; ctx?: unknown }): Promise<unknown>;
  set(key: string, session: unknown, maxAge: number, options: { rolling: boolean; changed: boolean; ctx?: unknown }): Promise<void>;
  destroy(key: string, options: { ctx?: unknown }): Promise<void>;
}

/** The Koa app's configuration: the Express app's, with a koa-session store instead of an express-session one. */
export interface KoaExampleConfig extends Omit<ExampleConfig, 'sessionStore'> {
  /**
   * Where sessions live (default: this process's memory, see {@link createMemorySessionStore}).
   * The cookie holds only the session's ID: the session keeps the user's tokens, which must not
   * travel to the browser. Several instances need a shared store (e.g. Redis).
   */
  sessionStore?: KoaSessionStore | undefined;
}

/** The session cookie's name (the same as the Express app's; signed, with a `.sig` companion cookie). */
export const KOA_SESSION_COOKIE_NAME = 'passport-x-example.sid';

/** How long a session lives: one day, as koa-session's default. */
const SESSION_MAX_AGE_MS = 24 * 60 * 60 * 1000;

/** The largest form body accepted (the profile page's forms carry one token). */
const FORM_LIMIT_BYTES = 4 * 1024;

/**
 * An in-memory koa-session store for one process: sessions expire after their `maxAge`.
 * Closures, not `this`: koa-session calls the methods detached from the store object.
 */
export function createMemorySessionStore(now: () => number = Date.now): KoaSessionStore {
  const sessions = new Map<string, { data: string; expiresAt: number }>();
  return {
    async get(key) {
      const entry = sessions.get(key);
      if (!entry) return undefined;
      if (entry.expiresAt <= now()) {
        sessions.delete(key);
        return undefined;
      }
      // Stored as JSON, as a shared store would: nothing but data survives between requests.
      return JSON.parse(entry.data) as unknown;
    },
    async set(key, value, maxAge) {
      const time = now();
      for (const [id, entry] of sessions) if (entry.expiresAt <= time) sessions.delete(id);
      sessions.set(key, { data: JSON.stringify(value), expiresAt: time + maxAge });
    },
    async destroy(key) {
      sessions.delete(key);
    },
  };
}

/** What the app keeps in the session besides Passport's user (as in app.ts). */
interface ExampleSessionFields {
  flash?: PageMessage[];
  csrfToken?: string;
}

function sessionFields(ctx: Koa.Context): ExampleSessionFields {
  return (ctx.session ?? {}) as ExampleSessionFields;
}

function addFlash(ctx: Koa.Context, message: PageMessage): void {
  const fields = sessionFields(ctx);
  fields.flash = [...(fields.flash ?? []), message];
}

function takeFlash(ctx: Koa.Context): PageMessage[] {
  const fields = sessionFields(ctx);
  const messages = fields.flash ?? [];
  if (fields.flash) delete fields.flash;
  return messages;
}

function currentUser(ctx: Koa.Context): ExampleUser | undefined {
  const user: unknown = ctx.state.user;
  return isExampleUser(user) ? user : undefined;
}

function csrfToken(ctx: Koa.Context): string {
  const fields = sessionFields(ctx);
  fields.csrfToken ??= randomBytes(24).toString('base64url');
  return fields.csrfToken;
}

function validCsrfToken(ctx: Koa.Context, form: URLSearchParams): boolean {
  const expected = sessionFields(ctx).csrfToken;
  const given = form.get('_csrf');
  if (typeof expected !== 'string' || given === null) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function sendPage(ctx: Koa.Context, html: string, status = 200): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = html;
}

/** A 303 redirect: after a form post, the browser GETs the next page. */
function seeOther(ctx: Koa.Context, location: string): void {
  ctx.status = 303;
  ctx.redirect(location);
}

/** Reads an `application/x-www-form-urlencoded` body of at most {@link FORM_LIMIT_BYTES} (Koa parses no body itself). */
async function readForm(ctx: Koa.Context): Promise<URLSearchParams> {
  if (!ctx.is('application/x-www-form-urlencoded')) return new URLSearchParams();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > FORM_LIMIT_BYTES) ctx.throw(413, 'The form is larger than this app accepts.');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/**
 * Builds the Koa example app from `config`.
 *
 * @example
 * ```ts
 * const app = createKoaExampleApp({
 *   publicURL: 'http://127.0.0.1:3000',
 *   sessionSecret: process.env.SESSION_SECRET!,
 *   x: { oauth2: { clientID: process.env.X_CLIENT_ID! } },
 * });
 * http.createServer(app.callback()).listen(3000);
 * ```
 */
export function createKoaExampleApp(config: KoaExampleConfig): Koa {
  const publicURL = normalizePublicURL(config.publicURL);
  const log = config.log ?? ((line: string) => console.error(line));
  const { x } = config;
  // The users' OAuth 2.0 tokens and the XTokenManager that keeps them fresh (tokens.ts).
  const tokens = createExampleTokens(config);
  const strategies = createStrategies({ ...config, sessionStore: undefined, publicURL }, tokens.manager);

  const passport = new KoaPassport();
  if (strategies.oauth2) passport.use(strategies.oauth2);
  if (strategies.oauth1) passport.use(strategies.oauth1);
  // As in app.ts: the whole user lives in the server-side session.
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((stored, done) => done(null, isExampleUser(stored) ? stored : false));

  const app = new Koa({ keys: [config.sessionSecret], proxy: config.trustProxy === true });
  const secure = publicURL.startsWith('https:');

  // Errors first, so it catches what everything after it throws.
  app.use(async (ctx, next) => {
    ctx.set({
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
    });
    try {
      await next();
    } catch (err) {
      const status = (err as { status?: unknown }).status;
      if (status === 413) return sendPage(ctx, errorPage(413, 'The form is larger than this app accepts.'), 413);
      log(logLine('Handling a request', err));
      sendPage(ctx, errorPage(500, 'The server failed to handle this request; its log has the details.'), 500);
    }
  });
  app.use(
    session(
      {
        key: KOA_SESSION_COOKIE_NAME,
        maxAge: SESSION_MAX_AGE_MS,
        httpOnly: true,
        signed: true,
        // Lax, not Strict: the callback from X is a cross-site top-level navigation that must carry the cookie.
        sameSite: 'lax',
        secure,
        store: config.sessionStore ?? createMemorySessionStore(),
      },
      app,
    ),
  );
  app.use(passport.initialize());
  app.use(passport.session());

  const router = new Router();

  for (const path of [ROUTES.favicon, '/favicon.ico']) {
    router.get(path, (ctx) => {
      ctx.set('Cache-Control', 'public, max-age=86400');
      ctx.type = 'image/svg+xml';
      ctx.body = FAVICON_SVG;
    });
  }

  /** As in app.ts: a sign-in starts at publicURL's host only. */
  const atPublicHost: Koa.Middleware = async (ctx, next) => {
    const location = publicURLRedirect(publicURL, ctx.host, ctx.originalUrl);
    if (location) return ctx.redirect(location);
    await next();
  };

  router.get(ROUTES.home, (ctx) => {
    const user = currentUser(ctx);
    const notice = noticeFromQuery(ctx.query.notice);
    sendPage(
      ctx,
      homePage({
        messages: [...(notice ? [notice] : []), ...takeFlash(ctx)],
        methods: { oauth2: !!strategies.oauth2, oauth1: !!strategies.oauth1 },
        signedInAs: user ? { name: user.name, username: user.username } : undefined,
        notice: config.notice,
      }),
    );
  });

  /**
   * Both legs: on the start, the redirect to X (or, when X refuses to start the sign-in, back home
   * with a message, as on Express, never the 500 page); on the callback, sign the user in, or back
   * to the home page with a message saying why not.
   */
  const callback =
    (name: string): Koa.Middleware =>
    (ctx, next) =>
      passport.authenticate(name, async (err, user, info) => {
        if (err) {
          log(logLine(`Sign-in with ${name}`, err));
          addFlash(ctx, errorMessage('Sign-in with X', err));
          return ctx.redirect(ROUTES.home);
        }
        if (!user) {
          const line = signInFailureLogLine(name, info);
          if (line) log(line);
          // A reload of the callback (or Back) after signing in, or a new sign-in that did not complete:
          // the person is still signed in as before, and is told so.
          const signedIn = currentUser(ctx);
          if (signedIn && isUsedCallback(info)) {
            addFlash(ctx, stillSignedInMessage(signedIn.username));
            return ctx.redirect(ROUTES.profile);
          }
          if (isSignInInProgress(info)) return ctx.redirect(`${ROUTES.home}?notice=sign-in-in-progress`);
          addFlash(ctx, signInFailureMessage(info));
          return ctx.redirect(ROUTES.home);
        }
        // A new form token for the new login: one a page showed before it (another account's) stops working.
        delete sessionFields(ctx).csrfToken;
        await withPassport(ctx).login(user);
        ctx.redirect(ROUTES.profile);
      })(ctx, next);

  if (strategies.oauth2) {
    router.get(ROUTES.oauth2Start, atPublicHost, callback(STRATEGY_NAMES.oauth2));
    router.get(ROUTES.oauth2Callback, callback(STRATEGY_NAMES.oauth2));
  }
  if (strategies.oauth1) {
    router.get(ROUTES.oauth1Start, atPublicHost, callback(STRATEGY_NAMES.oauth1));
    router.get(ROUTES.oauth1Callback, callback(STRATEGY_NAMES.oauth1));
  }

  router.get(ROUTES.profile, async (ctx) => {
    const user = currentUser(ctx);
    if (!user) return ctx.redirect(`${ROUTES.home}?notice=sign-in-first`);
    const messages = takeFlash(ctx);
    // A fresh token for the page (refreshed first when it expires within a minute), as in app.ts.
    let state: ExampleTokenState | undefined;
    if (user.signInMethod === 'oauth2') {
      state = await tokensForProfile(tokens.manager, user.id);
      if (state.kind === 'failed') {
        log(logLine('Refreshing the access token', state.error));
        messages.push(refreshFailureMessage(state.error));
      }
    }
    sendPage(ctx, profilePage({ user: profileSummary(user, state), profilesURL: x.profilesURL, messages, csrfToken: csrfToken(ctx), now: new Date() }));
  });

  /** The profile page's forms: a signed-in user and this session's form token, else 403. */
  const signedInForm: Koa.Middleware = async (ctx, next) => {
    if (!currentUser(ctx)) return seeOther(ctx, `${ROUTES.home}?notice=sign-in-first`);
    if (!validCsrfToken(ctx, await readForm(ctx))) {
      return sendPage(ctx, errorPage(403, 'This form has expired or did not come from this app. Go back to your profile and try again.'), 403);
    }
    await next();
  };

  router.post(ROUTES.refresh, signedInForm, async (ctx) => {
    const user = currentUser(ctx)!;
    try {
      // Stored in the token store by the manager; the session holds no token to update.
      await refreshUserTokens(tokens.manager, user);
    } catch (err) {
      log(logLine('Refreshing the access token', err));
      addFlash(ctx, refreshFailureMessage(err));
      return seeOther(ctx, ROUTES.profile);
    }
    addFlash(ctx, { kind: 'info', text: 'X issued a new access token (and a new refresh token).' });
    seeOther(ctx, ROUTES.profile);
  });

  router.post(ROUTES.logout, signedInForm, async (ctx) => {
    const user = currentUser(ctx)!;
    let notice = 'signed-out';
    try {
      await revokeUserTokens(x, tokens.manager, user);
    } catch (err) {
      log(logLine('Revoking the token on sign-out', err));
      notice = 'signed-out-revoke-failed';
    }
    await withPassport(ctx).logout();
    // Drops the session from the store and expires the cookie.
    ctx.session = null;
    seeOther(ctx, `${ROUTES.home}?notice=${notice}`);
  });

  app.use(router.routes());
  app.use((ctx) => sendPage(ctx, errorPage(404, 'There is no page at this address.'), 404));
  return app;
}

/** `npx tsx example-app/koa.ts`: reads the environment as server.ts does, and listens. */
async function main(): Promise<void> {
  if (existsSync('.env')) {
    process.loadEnvFile('.env');
    console.log('passport-x Koa example: read settings from .env');
  }
  let plan: ReturnType<typeof readEnvironment>;
  try {
    plan = readEnvironment(process.env);
  } catch (err) {
    if (!(err instanceof ExampleConfigError)) throw err;
    console.error(`\npassport-x Koa example: ${err.message}\n`);
    process.exit(1);
  }
  if (plan.redisURL !== undefined) {
    // Started with REDIS_URL, it would look shared and be per instance: several instances would each
    // keep their own sessions and replay claims, and a callback reaching two of them would reach X twice.
    console.error(
      '\npassport-x Koa example: REDIS_URL is set, but this variant keeps sessions, tokens and replay claims in memory (one instance only). ' +
        'Unset REDIS_URL to run it, or use the Express app (npm start), which shares them through Redis.\n',
    );
    process.exit(1);
  }
  const emulator = plan.mode === 'emulator' ? await startXEmulator({ ...EXAMPLE_EMULATOR_OPTIONS, port: 0, host: '127.0.0.1' }) : undefined;
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(plan.port, plan.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  // The emulator mode's callback URLs name 127.0.0.1, as X recommends; a sign-in started at another host is redirected there first.
  const config = plan.mode === 'x' ? plan.config : emulatorConfig(emulator!, `http://127.0.0.1:${port}`, plan.sessionSecret);
  server.on('request', createKoaExampleApp({ ...config, sessionStore: undefined }).callback());
  console.log(
    `\npassport-x example app (Koa)\n  Open        ${config.publicURL}\n${emulator ? `  X emulator  ${emulator.url}\n` : ''}  Storage     in memory (one instance; REDIS_URL is the Express app's)\n\nPress Ctrl+C to stop.\n`,
  );
  const stop = (): void => {
    server.close();
    server.closeAllConnections();
    void (emulator?.close() ?? Promise.resolve()).finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error('passport-x Koa example: failed to start:', err);
    process.exit(1);
  });
}
