/**
 * The example app: Express 5, express-session and Passport, with both passport-x strategies.
 *
 * `createExampleApp(config)` builds the app and nothing else: it does not listen and reads no
 * environment variable (server.ts does both), and it registers the strategies on its own
 * `Passport` instance, so several apps can live in one process (e.g. two instances behind one
 * shared session store, in tests).
 *
 * It imports `passport-x` by the package's name, as your app does (npm start builds dist/ first).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import { normalizePublicURL, publicURLRedirect, type ExampleConfig } from './config';
import { errorMessage, isSignInInProgress, isUsedCallback, logLine, noticeFromQuery, signInFailureLogLine, signInFailureMessage, stillSignedInMessage } from './messages';
import { STRATEGY_NAMES, createStrategies } from './strategies';
import { createExampleTokens, refreshFailureMessage, tokensForProfile, type ExampleTokenState } from './tokens';
import { isExampleUser, profileSummary, refreshUserTokens, revokeUserTokens, type ExampleUser } from './users';
import { CONTENT_SECURITY_POLICY, FAVICON_SVG, ROUTES, errorPage, homePage, profilePage, type PageMessage } from './views';

/** The session cookie's name (the same in every instance, so instances sharing a store share sessions). */
export const SESSION_COOKIE_NAME = 'passport-x-example.sid';

/** What the app keeps in the session besides Passport's user. */
interface ExampleSessionFields {
  /** Messages for the next page shown (a "flash"), e.g. why the sign-in failed. */
  flash?: PageMessage[];
  /** The token the profile page's forms post back (CSRF protection on top of the SameSite=Lax cookie). */
  csrfToken?: string;
}

function sessionFields(req: Request): ExampleSessionFields {
  return req.session as unknown as ExampleSessionFields;
}

function addFlash(req: Request, message: PageMessage): void {
  const fields = sessionFields(req);
  fields.flash = [...(fields.flash ?? []), message];
}

function takeFlash(req: Request): PageMessage[] {
  const fields = sessionFields(req);
  const messages = fields.flash ?? [];
  if (fields.flash) delete fields.flash;
  return messages;
}

function currentUser(req: Request): ExampleUser | undefined {
  return isExampleUser(req.user) ? req.user : undefined;
}

/** The CSRF token of this session, created on first use. */
function csrfToken(req: Request): string {
  const fields = sessionFields(req);
  fields.csrfToken ??= randomBytes(24).toString('base64url');
  return fields.csrfToken;
}

function validCsrfToken(req: Request): boolean {
  const expected = sessionFields(req).csrfToken;
  const given: unknown = (req.body as Record<string, unknown> | undefined)?._csrf;
  if (typeof expected !== 'string' || typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function sendPage(res: Response, html: string, status = 200): void {
  res.status(status).type('html').send(html);
}

/**
 * Builds the example app from `config`.
 *
 * @example
 * ```ts
 * const app = createExampleApp({
 *   publicURL: 'http://127.0.0.1:3000',
 *   sessionSecret: process.env.SESSION_SECRET!,
 *   x: { oauth2: { clientID: process.env.X_CLIENT_ID! } },
 * });
 * app.listen(3000);
 * ```
 */
export function createExampleApp(config: ExampleConfig): express.Application {
  const publicURL = normalizePublicURL(config.publicURL);
  const log = config.log ?? ((line: string) => console.error(line));
  const { x } = config;
  // The users' OAuth 2.0 tokens and the XTokenManager that keeps them fresh (tokens.ts).
  const tokens = createExampleTokens(config);
  const strategies = createStrategies({ ...config, publicURL }, tokens.manager);

  const passport = new Passport();
  if (strategies.oauth2) passport.use(strategies.oauth2);
  if (strategies.oauth1) passport.use(strategies.oauth1);
  // No user database here: the user (profile, and OAuth 1.0a tokens) lives in the server-side
  // session; OAuth 2.0 tokens live in the token store (tokens.ts), keyed by the user's id.
  passport.serializeUser((user, done) => done(null, user));
  // A session written by another version of the app may hold anything: treat it as signed out.
  passport.deserializeUser((stored: unknown, done) => done(null, isExampleUser(stored) ? stored : false));

  const app = express();
  app.disable('x-powered-by');
  if (config.trustProxy) app.set('trust proxy', 1);

  app.use((_req, res, next) => {
    res.set({
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      // Every page shows this session's user or messages.
      'Cache-Control': 'no-store',
    });
    next();
  });
  app.use(
    session({
      name: SESSION_COOKIE_NAME,
      secret: config.sessionSecret,
      ...(config.sessionStore ? { store: config.sessionStore } : {}),
      resave: false,
      saveUninitialized: false,
      // Lax, not Strict: the callback from X is a cross-site top-level navigation that must carry the cookie.
      cookie: { httpOnly: true, sameSite: 'lax', secure: publicURL.startsWith('https:') },
    }),
  );
  app.use(passport.initialize());
  app.use(passport.session());
  const form = express.urlencoded({ extended: false, limit: '4kb' });

  app.get([ROUTES.favicon, '/favicon.ico'], (_req, res) => {
    res.set('Cache-Control', 'public, max-age=86400').type('image/svg+xml').send(FAVICON_SVG);
  });

  /**
   * A sign-in starts at publicURL's host only: the callback comes back there, with that host's session
   * cookie. The host as Express 5 reads it (`req.host`, with its port): the proxy's X-Forwarded-Host
   * when `trust proxy` is on, as Koa's `ctx.host`; a proxy that passes its own Host (Apache's
   * ProxyPass) would otherwise have every sign-in redirected to itself, forever.
   */
  const atPublicHost: RequestHandler = (req, res, next) => {
    const location = publicURLRedirect(publicURL, req.host, req.originalUrl);
    if (location) return res.redirect(location);
    next();
  };

  app.get(ROUTES.home, (req, res) => {
    const user = currentUser(req);
    const notice = noticeFromQuery(req.query.notice);
    sendPage(
      res,
      homePage({
        messages: [...(notice ? [notice] : []), ...takeFlash(req)],
        methods: { oauth2: !!strategies.oauth2, oauth1: !!strategies.oauth1 },
        signedInAs: user ? { name: user.name, username: user.username } : undefined,
        notice: config.notice,
      }),
    );
  });

  /**
   * Both legs of a sign-in: passport redirects to X (start) or signs the user in (callback);
   * any failure, on either leg, comes back to the home page with a message saying why.
   */
  const signIn =
    (name: string): RequestHandler =>
    (req, res, next) => {
      passport.authenticate(name, (err: unknown, user: unknown, info: unknown) => {
        if (err) {
          log(logLine(`Sign-in with ${name}`, err));
          addFlash(req, errorMessage('Sign-in with X', err));
          return res.redirect(ROUTES.home);
        }
        if (!user) {
          // The person gets the failure's short message; the developer's hint goes to the log.
          const line = signInFailureLogLine(name, info);
          if (line) log(line);
          // A reload of the callback (or Back) after signing in, or a new sign-in that did not complete:
          // the person is still signed in as before, and is told so.
          const signedIn = currentUser(req);
          if (signedIn && isUsedCallback(info)) {
            addFlash(req, stillSignedInMessage(signedIn.username));
            return res.redirect(ROUTES.profile);
          }
          if (isSignInInProgress(info)) return res.redirect(`${ROUTES.home}?notice=sign-in-in-progress`);
          addFlash(req, signInFailureMessage(info));
          return res.redirect(ROUTES.home);
        }
        // A new form token for the new login: one a page showed before it (another account's) stops working.
        delete sessionFields(req).csrfToken;
        // keepSessionInfo: a sign-in started in another tab stays pending (passport regenerates the session at login).
        req.logIn(user, { session: true, keepSessionInfo: true }, (loginErr) => (loginErr ? next(loginErr) : res.redirect(ROUTES.profile)));
      })(req, res, next);
    };

  if (strategies.oauth2) {
    app.get(ROUTES.oauth2Start, atPublicHost, signIn(STRATEGY_NAMES.oauth2));
    app.get(ROUTES.oauth2Callback, signIn(STRATEGY_NAMES.oauth2));
  }
  if (strategies.oauth1) {
    app.get(ROUTES.oauth1Start, atPublicHost, signIn(STRATEGY_NAMES.oauth1));
    app.get(ROUTES.oauth1Callback, signIn(STRATEGY_NAMES.oauth1));
  }

  app.get(ROUTES.profile, async (req, res) => {
    const user = currentUser(req);
    if (!user) return res.redirect(`${ROUTES.home}?notice=sign-in-first`);
    const messages = takeFlash(req);
    // A fresh token for the page (refreshed first when it expires within a minute): what a page calling X on the user's behalf does.
    let state: ExampleTokenState | undefined;
    if (user.signInMethod === 'oauth2') {
      state = await tokensForProfile(tokens.manager, user.id);
      if (state.kind === 'failed') {
        log(logLine('Refreshing the access token', state.error));
        messages.push(refreshFailureMessage(state.error));
      }
    }
    sendPage(res, profilePage({ user: profileSummary(user, state), profilesURL: x.profilesURL, messages, csrfToken: csrfToken(req), now: new Date() }));
  });

  /** The profile page's forms: a signed-in user and this session's form token, else 403. */
  const signedInForm = (req: Request, res: Response, next: NextFunction): void => {
    if (!currentUser(req)) return res.redirect(303, `${ROUTES.home}?notice=sign-in-first`);
    if (!validCsrfToken(req)) {
      return sendPage(res, errorPage(403, 'This form has expired or did not come from this app. Go back to your profile and try again.'), 403);
    }
    next();
  };

  app.post(ROUTES.refresh, form, signedInForm, async (req, res) => {
    const user = currentUser(req)!;
    try {
      // Stored in the token store by the manager; the session holds no token to update.
      await refreshUserTokens(tokens.manager, user);
    } catch (err) {
      log(logLine('Refreshing the access token', err));
      addFlash(req, refreshFailureMessage(err));
      return res.redirect(303, ROUTES.profile);
    }
    addFlash(req, { kind: 'info', text: 'X issued a new access token (and a new refresh token).' });
    res.redirect(303, ROUTES.profile);
  });

  app.post(ROUTES.logout, form, signedInForm, async (req, res, next) => {
    const user = currentUser(req)!;
    let notice = 'signed-out';
    try {
      await revokeUserTokens(x, tokens.manager, user);
    } catch (err) {
      log(logLine('Revoking the token on sign-out', err));
      notice = 'signed-out-revoke-failed';
    }
    req.logOut((logoutErr) => {
      if (logoutErr) return next(logoutErr);
      req.session.destroy((destroyErr: unknown) => {
        if (destroyErr) return next(destroyErr);
        res.clearCookie(SESSION_COOKIE_NAME, { path: '/', httpOnly: true, sameSite: 'lax', secure: publicURL.startsWith('https:') });
        res.redirect(303, `${ROUTES.home}?notice=${notice}`);
      });
    });
  });

  app.use((_req, res) => sendPage(res, errorPage(404, 'There is no page at this address.'), 404));
  // Express 5 sends rejected promises of async handlers here too.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    // The form parser's refusals (a body over 4 kB: 413; an encoding it does not read: 415) are the
    // client's, as on Koa: said with their status, not a 500 with a stack in the log.
    // Told apart by body-parser's own `type` words (an XAPIError has a `type` and a status too: X's).
    const { type, status } = err as { type?: unknown; status?: unknown };
    if (typeof type === 'string' && /^(?:entity|encoding|charset|request|parameters)\./.test(type) && (status === 413 || status === 415 || status === 400)) {
      return sendPage(res, errorPage(status, status === 413 ? 'The form is larger than this app accepts.' : 'The server could not read this form.'), status);
    }
    log(logLine('Handling a request', err));
    sendPage(res, errorPage(500, 'The server failed to handle this request; its log has the details.'), 500);
  });
  return app;
}
