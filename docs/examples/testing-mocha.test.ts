// A complete mocha test of an Express app with "Sign in with X", against the X emulator of
// passport-x/testing: no X account, no network, no browser. Run it with
// `npx mocha --import=tsx docs/examples/testing-mocha.test.ts` (or your own TypeScript setup).
import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import { XOAuth2PkceStrategy, type XOAuth2StrategyOptions } from 'passport-x';
import { startXEmulator, type XEmulator } from 'passport-x/testing';

/** The session's user. */
interface User {
  id: string;
  name: string;
  username: string;
}

/** `text` safe between HTML tags. */
function escapeHTML(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Your app. In your project it lives in its own module and production passes X's credentials:
 * `createApp({ clientID: process.env.X_CLIENT_ID!, clientSecret: process.env.X_CLIENT_SECRET!, callbackURL: ... })`.
 */
function createApp(x: XOAuth2StrategyOptions): express.Express {
  const passport = new Passport();
  passport.use(new XOAuth2PkceStrategy(x, (_accessToken, _refreshToken, profile, done) => done(null, { id: profile.id, name: profile.displayName, username: profile.username })));
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user: User, done) => done(null, user));

  const app = express();
  app.use(session({ secret: 'a-test-secret-of-at-least-32-characters', resave: false, saveUninitialized: false }));
  app.use(passport.initialize());
  app.use(passport.session());
  app.get('/auth/x', passport.authenticate('x-oauth2'));
  app.get('/auth/x/callback', passport.authenticate('x-oauth2', { successRedirect: '/profile', failureRedirect: '/login', failureMessage: true }));
  app.get('/profile', (req, res) => {
    const user = req.user as User | undefined;
    if (!user) return res.redirect('/login');
    // X's display name is whatever the user typed: escaped, as every value put into HTML.
    res.send(`<h1>${escapeHTML(user.name)}</h1><p>@${escapeHTML(user.username)}</p>`);
  });
  app.get('/login', (req, res) => {
    // failureMessage: true keeps the failure's short message (for the person) in the session.
    const messages = (req.session as unknown as { messages?: string[] }).messages ?? [];
    res.send(`<p>Sign in with X</p>${messages.map((m) => `<p role="alert">${escapeHTML(m)}</p>`).join('')}`);
  });
  return app;
}

describe('Sign in with X', function () {
  let x: XEmulator;
  let server: Server;
  let appURL: string;

  before(async function () {
    x = await startXEmulator();
    // Listen first: the callback URL needs the port.
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    appURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    server.on('request', createApp(x.oauth2StrategyOptions('confidential', { callbackURL: `${appURL}/auth/x/callback` })));
  });

  after(async function () {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await x.close();
  });

  it('signs the user in and shows the profile', async function () {
    const { response, cookie } = await x.signIn(`${appURL}/auth/x`, { user: 'ada' });
    assert.equal(response.status, 302);
    assert.equal(response.headers.get('location'), '/profile');

    const profile = await fetch(`${appURL}/profile`, { headers: { cookie }, redirect: 'manual' });
    assert.equal(profile.status, 200);
    assert.match(await profile.text(), /<h1>Ada Lovelace<\/h1><p>@ada<\/p>/);
  });

  it('sends the user back to the login page with a message after Cancel', async function () {
    const { response, cookie } = await x.signIn(`${appURL}/auth/x`, { action: 'cancel' });
    assert.equal(response.headers.get('location'), '/login');

    const login = await fetch(`${appURL}/login`, { headers: { cookie } });
    assert.match(await login.text(), /<p role="alert">.+<\/p>/);
  });

  it('lets the test drive each step: start, consent as another user, callback', async function () {
    const start = await fetch(`${appURL}/auth/x`, { redirect: 'manual' });
    const cookie = start.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const callbackURL = await x.consent(start.headers.get('location')!, { user: 'grace' });
    assert.match(callbackURL, /[?&]code=/);

    const callback = await fetch(callbackURL, { headers: { cookie }, redirect: 'manual' });
    assert.equal(callback.headers.get('location'), '/profile');
    // Passport gives a new session on login: the callback's cookie is the signed-in one.
    const signedIn = callback.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const profile = await fetch(`${appURL}/profile`, { headers: { cookie: signedIn } });
    assert.match(await profile.text(), /Grace Hopper/);
  });
});
