import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import { XOAuth2PkceStrategy } from 'passport-x';
import { startXEmulator, type XEmulator } from 'passport-x/testing';

describe('sign-in with X', () => {
  let x: XEmulator;
  let server: Server;
  let origin = '';

  before(async () => {
    x = await startXEmulator();
    server = createServer(); // listen first: the callback URL needs the port
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const passport = new Passport();
    // The emulator's client ID and secret, baseURL and consent page, with your callback URL.
    const options = x.oauth2StrategyOptions('confidential', { callbackURL: `${origin}/auth/x/callback` });
    passport.use(new XOAuth2PkceStrategy(options, (accessToken, refreshToken, profile, done) => done(null, { username: profile.username })));
    passport.serializeUser((user, done) => done(null, user));
    passport.deserializeUser((user: Express.User, done) => done(null, user));

    const app = express();
    app.use(session({ secret: 'a test secret of at least 32 characters', resave: false, saveUninitialized: false }));
    app.use(passport.session());
    app.get('/auth/x', passport.authenticate('x-oauth2'));
    app.get('/auth/x/callback', passport.authenticate('x-oauth2', { successRedirect: '/me', failureRedirect: '/' }));
    app.get('/me', (req, res) => res.json(req.user ?? null));
    server.on('request', app);
  });

  after(async () => {
    // Kept-alive connections too: close() alone waits for them to go idle.
    server.closeAllConnections();
    server.close();
    await x.close();
  });

  it('signs Grace in through the consent page', async () => {
    // Start at the app, answer X's consent page as Grace would, and follow the callback, keeping the cookie.
    const { response, cookie } = await x.signIn(`${origin}/auth/x`, { user: 'grace', action: 'authorize' });
    assert.equal(response.headers.get('location'), '/me');

    const me = await fetch(`${origin}/me`, { headers: { cookie } });
    assert.deepEqual(await me.json(), { username: 'grace' });
  });
});
