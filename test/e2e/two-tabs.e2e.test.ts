// Two sign-ins started in two tabs of one browser, in Express 5 with express-session and Passport
// 0.7, against the X emulator. The session keeps both pending sign-ins, but Passport 0.6 and later
// regenerate the session when the first tab signs in (req.logIn), so the second tab's callback
// finds none, unless the callback route passes `keepSessionInfo: true`. The failure must say so.
import { expect } from 'chai';
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import { startXEmulator, type XEmulator } from '../../lib/testing';
import { XFailureCode, type XFailureInfo } from '../../lib/failure';
import { Browser, answerConsent, serveOnLoopback, type LoopbackServer } from '../support/browserless';
import { COMPAT_ROUTES, compatStrategies, isCompatUser } from './compat-shared';

/**
 * The app, with `keepSessionInfo` as given: on `passport.authenticate` for a standard callback route,
 * on `req.logIn` for a custom callback. A failure answers 403 with its code.
 */
function appWith(x: XEmulator, origin: string, keepSessionInfo: boolean, style: 'standard' | 'custom'): express.Express {
  const passport = new Passport();
  const strategies = compatStrategies(x, origin);
  passport.use(strategies.oauth2);
  passport.use(strategies.oauth1);
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((stored: unknown, done) => done(null, isCompatUser(stored) ? stored : false));
  const app = express();
  app.use(session({ secret: 'two-tabs-session-secret-of-32-chars+', resave: false, saveUninitialized: false }));
  app.use(passport.initialize());
  app.use(passport.session());
  const failures: XFailureInfo[] = [];
  app.locals.failures = failures;
  for (const [name, start, callback] of [
    ['x-oauth2', COMPAT_ROUTES.oauth2Start, COMPAT_ROUTES.oauth2Callback],
    ['x-oauth1', COMPAT_ROUTES.oauth1Start, COMPAT_ROUTES.oauth1Callback],
  ] as const) {
    app.get(start, passport.authenticate(name));
    if (style === 'standard') {
      app.get(callback, passport.authenticate(name, { keepSessionInfo, successRedirect: COMPAT_ROUTES.me, failWithError: true }));
      continue;
    }
    app.get(callback, (req: Request, res: Response, next: NextFunction) => {
      passport.authenticate(name, (err: unknown, user: unknown, info: XFailureInfo | undefined) => {
        if (err) return next(err);
        if (!user) {
          failures.push(info!);
          return res.status(403).json({ code: info?.code });
        }
        req.logIn(user, { session: true, keepSessionInfo }, (loginErr) => (loginErr ? next(loginErr) : res.redirect(COMPAT_ROUTES.me)));
      })(req, res, next);
    });
  }
  app.get(COMPAT_ROUTES.me, (req, res) => {
    res.json({ user: req.user ?? null });
  });
  // failWithError: passport's AuthenticationError carries the failure's status.
  app.use((err: { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    res.status(err.status ?? 500).end();
  });
  return app;
}

describe('two tabs signing in at once (Express 5, express-session, passport 0.7)', function () {
  let x: XEmulator;
  const servers: LoopbackServer[] = [];

  before(async function () {
    x = await startXEmulator();
  });

  after(async function () {
    for (const server of servers) await server.close();
    await x?.close();
  });

  async function twoTabs(keepSessionInfo: boolean, protocol: 'oauth2' | 'oauth1', style: 'standard' | 'custom' = 'custom'): Promise<{ second: { status: number; body: string }; failures: XFailureInfo[] }> {
    const server = await serveOnLoopback();
    servers.push(server);
    const app = appWith(x, server.origin, keepSessionInfo, style);
    server.server.on('request', app);
    const [start, callback] = protocol === 'oauth2' ? [COMPAT_ROUTES.oauth2Start, COMPAT_ROUTES.oauth2Callback] : [COMPAT_ROUTES.oauth1Start, COMPAT_ROUTES.oauth1Callback];
    const browser = new Browser();
    // Both tabs reach X's consent page before either comes back.
    const tab1 = await answerConsent(browser, await browser.open(`${server.origin}${start}`), { stopBefore: (url) => url.pathname === callback });
    const tab2 = await answerConsent(browser, await browser.open(`${server.origin}${start}`), { stopBefore: (url) => url.pathname === callback });
    const first = await browser.open(tab1.stoppedBefore!);
    expect(first.url, 'the first tab signs in').to.equal(`${server.origin}${COMPAT_ROUTES.me}`);
    const second = await browser.open(tab2.stoppedBefore!);
    return { second, failures: app.locals.failures as XFailureInfo[] };
  }

  for (const protocol of ['oauth2', 'oauth1'] as const) {
    it(`${protocol}: with keepSessionInfo on the callback route's passport.authenticate, both tabs sign in`, async function () {
      const { second } = await twoTabs(true, protocol, 'standard');
      expect(second.status).to.equal(200);
      expect(JSON.parse(second.body).user).to.include({ protocol });
      // And without it, the second tab is refused.
      expect((await twoTabs(false, protocol, 'standard')).second.status).to.equal(403);
    });

    it(`${protocol}: with keepSessionInfo on req.logIn in a custom callback, both tabs sign in`, async function () {
      const { second } = await twoTabs(true, protocol);
      expect(second.status).to.equal(200);
      expect(JSON.parse(second.body).user).to.include({ protocol });
    });

    it(`${protocol}: without it, the second tab fails with 403 X_NO_PENDING_SIGN_IN, and the hint names the other tab and keepSessionInfo`, async function () {
      const { second, failures } = await twoTabs(false, protocol);
      expect(second.status).to.equal(403);
      expect(JSON.parse(second.body)).to.deep.equal({ code: XFailureCode.NO_PENDING_SIGN_IN });
      expect(failures).to.have.length(1);
      expect(failures[0]!.hint).to.include('another tab').and.include('keepSessionInfo: true');
    });
  }
});
