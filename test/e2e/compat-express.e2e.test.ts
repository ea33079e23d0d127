// Compatibility: both strategies, unchanged, in Express 4 and Express 5 with express-session and
// Passport 0.7, wired as Passport documents it (authenticate with successRedirect and
// failureRedirect), signing in against the X emulator.
import { expect } from 'chai';
import express5, { type Express, type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import { startXEmulator, type XEmulator } from '../../lib/testing';
import { Browser, answerConsent, serveOnLoopback, type LoopbackServer } from '../support/browserless';
import { warningsDuring } from '../support/warnings';
import { COMPAT_ROUTES, compatStrategies, expectReplayRefused, expectSignIn, expectSingleUseAfterFailedExchange, isCompatUser } from './compat-shared';

// Express 4 is installed under the alias `express4` (npm:express@4), next to Express 5. Typed as
// Express 5's factory: @types/express 4 and 5 differ only in what this app does not use (route
// path patterns), and one typed app body serves both. before() checks the runtime is Express 4.
const express4 = require('express4') as () => Express;

/** The minimal app on `express`, with its strategies' callbacks at `origin`. */
function minimalApp(express: () => Express, x: XEmulator, origin: string, passportSession = true): Express {
  const passport = new Passport();
  const strategies = compatStrategies(x, origin);
  passport.use(strategies.oauth2);
  passport.use(strategies.oauth1);
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((stored: unknown, done) => done(null, isCompatUser(stored) ? stored : false));

  const app = express();
  app.use(session({ secret: 'compat-express-session-secret-32-chars+', resave: false, saveUninitialized: false, cookie: { sameSite: 'lax' } }));
  app.use(passport.initialize());
  if (passportSession) app.use(passport.session());
  const after = { successRedirect: COMPAT_ROUTES.me, failureRedirect: COMPAT_ROUTES.failed };
  app.get(COMPAT_ROUTES.oauth2Start, passport.authenticate('x-oauth2'));
  app.get(COMPAT_ROUTES.oauth2Callback, passport.authenticate('x-oauth2', after));
  app.get(COMPAT_ROUTES.oauth1Start, passport.authenticate('x-oauth1'));
  app.get(COMPAT_ROUTES.oauth1Callback, passport.authenticate('x-oauth1', after));
  app.get(COMPAT_ROUTES.me, (req, res) => {
    res.json({ user: req.user ?? null });
  });
  app.get(COMPAT_ROUTES.failed, (_req, res) => {
    res.json({ failed: true });
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).json({ error: (err as { code?: unknown }).code ?? 'unknown' });
  });
  return app;
}

const VERSIONS = [
  { label: 'Express 4', express: express4, major: '4' },
  { label: 'Express 5', express: express5, major: '5' },
] as const;

for (const version of VERSIONS) {
  describe(`compatibility: ${version.label} with express-session and passport`, function () {
    let x: XEmulator;
    let server: LoopbackServer;

    before(async function () {
      // The alias really is the major version it claims to be.
      expect((require(version.major === '4' ? 'express4/package.json' : 'express/package.json') as { version: string }).version).to.match(new RegExp(`^${version.major}\\.`));
      x = await startXEmulator();
      server = await serveOnLoopback();
      server.server.on('request', minimalApp(version.express, x, server.origin));
    });

    after(async function () {
      await server?.close();
      await x?.close();
    });

    it('signs in with XOAuth2PkceStrategy', async function () {
      await expectSignIn(x, server.origin, 'oauth2', x.users[1]!.id);
    });

    it('signs in with XOAuth1Strategy', async function () {
      await expectSignIn(x, server.origin, 'oauth1', x.users[0].id);
    });

    it('refuses a replayed callback of either protocol without asking X', async function () {
      await expectReplayRefused(x, server.origin, 'oauth2');
      await expectReplayRefused(x, server.origin, 'oauth1');
    });

    it('uses up a pending sign-in even when the token exchange fails, for either protocol', async function () {
      await expectSingleUseAfterFailedExchange(x, server.origin, 'oauth2');
      await expectSingleUseAfterFailedExchange(x, server.origin, 'oauth1');
    });
  });
}

describe('compatibility: Express 5 without passport.session()', function () {
  let x: XEmulator;
  let server: LoopbackServer;

  before(async function () {
    x = await startXEmulator();
    server = await serveOnLoopback();
    server.server.on('request', minimalApp(express5, x, server.origin, false));
  });

  after(async function () {
    await server?.close();
    await x?.close();
  });

  it('warns once per strategy, with the fix, when the next sign-in starts in a session Passport did not restore', async function () {
    const warnings = await warningsDuring(async () => {
      for (const protocol of ['oauth2', 'oauth1'] as const) {
        const start = `${server.origin}${protocol === 'oauth2' ? COMPAT_ROUTES.oauth2Start : COMPAT_ROUTES.oauth1Start}`;
        const browser = new Browser();
        // The sign-in itself succeeds (the user is saved in the session), and the app then shows no one signed in.
        const page = await answerConsent(browser, await browser.open(start), { userId: x.users[0].id });
        expect(page.url).to.equal(`${server.origin}${COMPAT_ROUTES.me}`);
        expect(JSON.parse(page.body)).to.deep.equal({ user: null });
        // The user tries again, twice: one warning for this strategy.
        for (let i = 0; i < 2; i++) expect((await browser.open(start)).url.startsWith(`${x.url}/`)).to.equal(true);
      }
    }, { code: 'PASSPORT_X_SESSION_NOT_RESTORED' });
    expect(warnings.map((w) => w.message.slice(0, 24))).to.deep.equal(['passport-x (x-oauth2): t', 'passport-x (x-oauth1): t']);
    for (const w of warnings) expect(w.message).to.include('app.use(passport.session()) is missing').and.include('Fix:');
  });
});
