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
    passport.use(new XOAuth2PkceStrategy({
      clientID: x.apps.confidential.clientID,
      clientSecret: x.apps.confidential.clientSecret,
      callbackURL: `${origin}/auth/x/callback`,
      baseURL: x.baseURL,
      authorizationURL: x.authorizationURL,
    }, (accessToken, refreshToken, profile, done) => done(null, { username: profile.username })));
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
    server.close();
    await x.close();
  });

  it('signs Grace in through the consent page', async () => {
    let cookie = '';
    const get = async (url: string): Promise<Response> => {
      const res = await fetch(url, { headers: { cookie }, redirect: 'manual' });
      const set = res.headers.getSetCookie()[0];
      if (set && url.startsWith(origin)) cookie = set.split(';')[0]!;
      return res;
    };

    const start = await get(`${origin}/auth/x`); // the redirect to X's consent page
    const consentPage = await (await get(start.headers.get('location')!)).text();
    const requestId = /name="request_id" value="([^"]+)"/.exec(consentPage)![1]!;
    const decision = await fetch(new URL('/i/oauth2/authorize', x.url), {
      method: 'POST',
      body: new URLSearchParams({ request_id: requestId, user_id: x.users[1]!.id, action: 'authorize' }),
      redirect: 'manual',
    });
    const callback = await get(decision.headers.get('location')!); // back to the app, with code and state
    assert.equal(callback.headers.get('location'), '/me');

    assert.deepEqual(await (await get(`${origin}/me`)).json(), { username: 'grace' });
  });
});
