// A complete node:test test of an Express app with "Sign in with X" over OAuth 1.0a, against the
// X emulator of passport-x/testing: no X account, no network, no browser. Run it with
// `node --import tsx --test docs/examples/testing-node.test.ts` (or your own TypeScript setup).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import { XOAuth1Strategy, type XOAuth1StrategyOptions } from 'passport-x';
import { startXEmulator, type XEmulator } from 'passport-x/testing';

/** The session's user. */
interface User {
  id: string;
  username: string;
}

/**
 * Your app. In your project it lives in its own module and production passes X's credentials:
 * `createApp({ consumerKey: process.env.X_CONSUMER_KEY!, consumerSecret: process.env.X_CONSUMER_SECRET!, callbackURL: ... })`.
 */
function createApp(x: XOAuth1StrategyOptions): express.Express {
  const passport = new Passport();
  passport.use(new XOAuth1Strategy(x, (_token, _tokenSecret, profile, done) => done(null, { id: profile.id, username: profile.username })));
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user: User, done) => done(null, user));

  const app = express();
  app.use(session({ secret: 'a-test-secret-of-at-least-32-characters', resave: false, saveUninitialized: false }));
  app.use(passport.initialize());
  app.use(passport.session());
  app.get('/auth/x', passport.authenticate('x-oauth1'));
  app.get('/auth/x/callback', passport.authenticate('x-oauth1', { successRedirect: '/me', failureRedirect: '/login' }));
  app.get('/me', (req, res) => {
    res.json({ user: req.user ?? null });
  });
  return app;
}

describe('Sign in with X (OAuth 1.0a)', () => {
  let x: XEmulator;
  let server: Server;
  let appURL: string;

  before(async () => {
    x = await startXEmulator();
    // Listen first: the callback URL needs the port.
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    appURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    server.on('request', createApp(x.oauth1StrategyOptions({ callbackURL: `${appURL}/auth/x/callback` })));
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await x.close();
  });

  it('signs the user in', async () => {
    const { response, cookie } = await x.signIn(`${appURL}/auth/x`, { user: 'grace' });
    assert.equal(response.headers.get('location'), '/me');

    const me = await fetch(`${appURL}/me`, { headers: { cookie } });
    assert.deepEqual(await me.json(), { user: { id: x.users[1]!.id, username: 'grace' } });
  });

  it('does not sign the user in after Cancel', async () => {
    const { response, callbackURL, cookie } = await x.signIn(`${appURL}/auth/x`, { action: 'cancel' });
    assert.match(callbackURL, /[?&]denied=/);
    assert.equal(response.headers.get('location'), '/login');

    const me = await fetch(`${appURL}/me`, { headers: { cookie } });
    assert.deepEqual(await me.json(), { user: null });
  });

  it('keeps the signed-in user for the next requests', async () => {
    const { cookie } = await x.signIn(`${appURL}/auth/x`);
    for (let i = 0; i < 2; i++) {
      const me = await fetch(`${appURL}/me`, { headers: { cookie } });
      assert.equal(((await me.json()) as { user: User }).user.username, 'ada');
    }
  });
});
