// x.consent() and x.signIn(): the consent page answered as a person would, and a whole sign-in
// through an Express app with cookies, over real HTTP against the emulator.
import { expect } from 'chai';
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import { fetchAccessToken, requestOAuth2Token, xEndpoints } from '../../lib/endpoints';
import { XOAuth1Strategy } from '../../lib/oauth1-strategy';
import { XOAuth2PkceStrategy } from '../../lib/oauth2-strategy';
import type { XProfile } from '../../lib/profile';
import { startXEmulator, type XEmulator } from '../../lib/testing';
import { CookieJar, isSecureCookieOrigin } from '../../lib/testing/consent-client';
import { serveOnLoopback, type LoopbackServer } from '../support/browserless';
import { warningsDuring } from '../support/warnings';
import { authorizeURL, CALLBACK, RFC7636_VERIFIER, signedFetch } from './emulator-client';

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (err: unknown) => err as Error,
  );
}

/** A request token for `callback`, as step 1 of OAuth 1.0a gives it. */
async function requestToken(x: XEmulator, callback = 'http://127.0.0.1:3000/auth/x/oauth1/callback'): Promise<{ token: string; secret: string }> {
  const response = await signedFetch(x, { method: 'POST', path: '/oauth/request_token', oauth: { oauth_callback: callback } });
  expect(response.status).to.equal(200);
  const fields = new URLSearchParams(await response.text());
  return { token: fields.get('oauth_token')!, secret: fields.get('oauth_token_secret')! };
}

describe('testing kit: x.consent()', () => {
  let x: XEmulator;
  beforeEach(async () => {
    x = await startXEmulator();
  });
  afterEach(() => x.close());

  it('authorizes an OAuth 2.0 request as the named user and returns the callback with code and state', async () => {
    const grace = x.users[1]!;
    const callbackURL = new URL(await x.consent(authorizeURL(x, { state: 'my-state' }), { user: 'grace' }));
    expect(`${callbackURL.origin}${callbackURL.pathname}`).to.equal(CALLBACK);
    expect(callbackURL.searchParams.get('state')).to.equal('my-state');
    // The code is grace's: exchanged, it gives a token for her.
    const { tokens } = await requestOAuth2Token(
      xEndpoints(x.baseURL).oauth2Token,
      { clientID: x.apps.confidential.clientID, clientSecret: x.apps.confidential.clientSecret },
      { grant_type: 'authorization_code', code: callbackURL.searchParams.get('code')!, redirect_uri: CALLBACK, code_verifier: RFC7636_VERIFIER },
      {},
      'exchange the code',
    );
    const me = await fetch(`${x.baseURL}/2/users/me`, { headers: { authorization: `Bearer ${tokens.accessToken}` } });
    expect(((await me.json()) as { data: { id: string } }).data.id).to.equal(grace.id);
  });

  it('presses Cancel on the OAuth 2.0 page: access_denied and the state go back', async () => {
    const callbackURL = new URL(await x.consent(authorizeURL(x, { state: 's1' }), { action: 'cancel' }));
    expect(Object.fromEntries(callbackURL.searchParams)).to.deep.equal({ error: 'access_denied', state: 's1' });
  });

  it('authorizes an OAuth 1.0a request token, by @handle in any case, and returns oauth_token and oauth_verifier', async () => {
    const { token, secret } = await requestToken(x);
    const callbackURL = new URL(await x.consent(`${x.url}/oauth/authenticate?oauth_token=${token}`, { user: '@Grace' }));
    expect(`${callbackURL.origin}${callbackURL.pathname}`).to.equal('http://127.0.0.1:3000/auth/x/oauth1/callback');
    expect(callbackURL.searchParams.get('oauth_token')).to.equal(token);
    const access = await fetchAccessToken(
      xEndpoints(x.baseURL).accessToken,
      { consumerKey: x.apps.oauth1.consumerKey, consumerSecret: x.apps.oauth1.consumerSecret },
      { token, tokenSecret: secret },
      callbackURL.searchParams.get('oauth_verifier')!,
      {},
    );
    expect(access.params.screen_name).to.equal('grace');
  });

  it('presses Cancel on the OAuth 1.0a page: denied=<request token> goes back', async () => {
    const { token } = await requestToken(x);
    const callbackURL = new URL(await x.consent(`${x.url}/oauth/authorize?oauth_token=${token}`, { action: 'cancel', user: x.users[0].id }));
    expect(Object.fromEntries(callbackURL.searchParams)).to.deep.equal({ denied: token });
  });

  it('signs in as the user the page preselects when no user is named (screen_name preselects on OAuth 1.0a)', async () => {
    const { token, secret } = await requestToken(x);
    const callbackURL = new URL(await x.consent(`${x.url}/oauth/authenticate?oauth_token=${token}&screen_name=grace`));
    const access = await fetchAccessToken(
      xEndpoints(x.baseURL).accessToken,
      { consumerKey: x.apps.oauth1.consumerKey, consumerSecret: x.apps.oauth1.consumerSecret },
      { token, tokenSecret: secret },
      callbackURL.searchParams.get('oauth_verifier')!,
      {},
    );
    expect(access.params.screen_name).to.equal('grace');
    // And the first user otherwise.
    const code = new URL(await x.consent(authorizeURL(x, {}))).searchParams.get('code');
    expect(code).to.be.a('string');
  });

  it('returns the callback of a request the emulator sends straight back, as a browser follows it', async () => {
    const callbackURL = new URL(await x.consent(authorizeURL(x, { scope: 'tweet.read not.a.scope', state: 's2' })));
    expect(callbackURL.searchParams.get('error')).to.equal('invalid_scope');
    expect(callbackURL.searchParams.get('state')).to.equal('s2');
  });

  it('refuses a page that is not this emulator\'s, before any request, and says how to point the strategy here', async () => {
    const before = x.requests.length;
    const err = await rejection(x.consent('https://x.com/i/oauth2/authorize?client_id=abc&state=s'));
    expect(err).to.be.instanceOf(TypeError);
    expect(err.message).to.contain('https://x.com/i/oauth2/authorize').and.to.contain('oauth2StrategyOptions').and.not.to.contain('state=s');
    expect(x.requests.length).to.equal(before);
    expect(await rejection(x.consent('/i/oauth2/authorize'))).to.be.instanceOf(TypeError);
  });

  it('refuses an unknown user and a bad action with a TypeError naming the choices', async () => {
    const unknown = await rejection(x.consent(authorizeURL(x, {}), { user: 'linus' }));
    expect(unknown).to.be.instanceOf(TypeError);
    expect(unknown.message).to.contain('"linus"').and.to.contain('ada').and.to.contain('grace');
    const action = await rejection(x.consent(authorizeURL(x, {}), { action: 'approve' as 'authorize' }));
    expect(action).to.be.instanceOf(TypeError);
    expect(action.message).to.contain("'authorize' or 'cancel'");
  });

  it('rejects with the text of an error page: a request token already used', async () => {
    const { token } = await requestToken(x);
    await x.consent(`${x.url}/oauth/authenticate?oauth_token=${token}`);
    const err = await rejection(x.consent(`${x.url}/oauth/authenticate?oauth_token=${token}`));
    expect(err).to.be.instanceOf(Error).and.not.to.be.instanceOf(TypeError);
    expect(err.message).to.contain('400').and.to.contain('This page is no longer valid');
  });

  it('rejects when the consent ends on a PIN page (an out-of-band sign-in has no callback)', async () => {
    const { token } = await requestToken(x, 'oob');
    const err = await rejection(x.consent(`${x.url}/oauth/authenticate?oauth_token=${token}`));
    expect(err.message).to.contain('did not send the browser back').and.to.contain('PIN');
  });
});

describe('testing kit: x.signIn() through an Express app', () => {
  let x: XEmulator;
  let app: LoopbackServer;
  let state: unknown[];

  /** The app under test: both strategies, from the kit's ready-made options; success and failure visible in the answer. */
  function serve(publicOrigin: string, cookie?: session.CookieOptions): express.Express {
    const passport = new Passport();
    const verify = (_a: string, _b: string | undefined, profile: XProfile, done: (err: null, user: unknown) => void): void => done(null, { id: profile.id, username: profile.username });
    passport.use(new XOAuth2PkceStrategy({ ...x.oauth2StrategyOptions('confidential', { callbackURL: `${publicOrigin}/auth/x/callback` }) }, verify));
    passport.use(new XOAuth1Strategy(x.oauth1StrategyOptions({ callbackURL: `${publicOrigin}/auth/x/oauth1/callback` }), (_t, _s, profile, done) => done(null, { id: profile.id, username: profile.username })));
    passport.serializeUser((user, done) => done(null, user));
    passport.deserializeUser((user: false, done) => done(null, user));
    const web = express();
    web.use(session({ secret: 'consent-client-test-session-secret-32+', resave: false, saveUninitialized: false, ...(cookie ? { cookie } : {}) }));
    web.use(passport.initialize());
    web.use(passport.session());
    web.get('/auth/x', passport.authenticate('x-oauth2', { state: { returnTo: '/settings' } }));
    web.get('/auth/x/oauth1', passport.authenticate('x-oauth1'));
    const finish = (name: string): express.RequestHandler => (req, res, next) =>
      passport.authenticate(name, (err: unknown, user: unknown, info: { state?: unknown; message?: string } | undefined) => {
        if (err) return next(err);
        state.push(info?.state);
        if (!user) return res.redirect(`/failed?message=${encodeURIComponent(info?.message ?? '')}`);
        req.logIn(user, (e) => (e ? next(e) : res.redirect('/me')));
      })(req, res, next);
    web.get('/auth/x/callback', finish('x-oauth2'));
    web.get('/auth/x/oauth1/callback', finish('x-oauth1'));
    web.get('/me', (req, res) => {
      res.json({ user: req.user ?? null });
    });
    return web;
  }

  beforeEach(async () => {
    state = [];
    x = await startXEmulator();
    app = await serveOnLoopback();
  });
  afterEach(async () => {
    await app.close();
    await x.close();
  });

  for (const [protocol, start] of [
    ['OAuth 2.0', '/auth/x'],
    ['OAuth 1.0a', '/auth/x/oauth1'],
  ] as const) {
    it(`signs in with ${protocol}: the callback's answer, and a cookie that is the signed-in session`, async () => {
      app.server.on('request', serve(app.origin));
      const grace = x.users[1]!;
      const { response, cookie, callbackURL } = await x.signIn(`${app.origin}${start}`, { user: 'grace' });
      expect(callbackURL.startsWith(`${app.origin}${start}/callback?`)).to.equal(true);
      expect(response.status).to.equal(302);
      expect(response.headers.get('location')).to.equal('/me');
      const me = await fetch(`${app.origin}/me`, { headers: { cookie } });
      expect(await me.json()).to.deep.equal({ user: { id: grace.id, username: grace.username } });
      // Without the cookie, nobody is signed in.
      expect(await (await fetch(`${app.origin}/me`)).json()).to.deep.equal({ user: null });
    });
  }

  it('carries the state object of passport.authenticate through the sign-in', async () => {
    app.server.on('request', serve(app.origin));
    await x.signIn(`${app.origin}/auth/x`);
    expect(state).to.deep.equal([{ returnTo: '/settings' }]);
  });

  it('ends at the app\'s failure when the user presses Cancel', async () => {
    app.server.on('request', serve(app.origin));
    const { response, callbackURL } = await x.signIn(`${app.origin}/auth/x`, { action: 'cancel' });
    expect(new URL(callbackURL).searchParams.get('error')).to.equal('access_denied');
    expect(response.headers.get('location')).to.match(/^\/failed\?message=./);
  });

  it('sends no cookie to a callback on another host than the start, as a browser does, so the app refuses it', async () => {
    // The app's callbackURL names localhost; the sign-in starts at 127.0.0.1.
    app.server.on('request', serve(app.origin.replace('127.0.0.1', 'localhost')));
    const warnings = await warningsDuring(async () => {
      const { response, callbackURL, cookie } = await x.signIn(`${app.origin}/auth/x`);
      expect(new URL(callbackURL).hostname).to.equal('localhost');
      expect(cookie).to.equal('');
      expect(response.headers.get('location')).to.match(/^\/failed/);
    });
    // The strategy told the developer why, at the start.
    expect(warnings.map((w) => w.code)).to.include('PASSPORT_X_HOST_MISMATCH');
  });

  it('keeps a SameSite=Strict session cookie back on the callback, which comes from X\'s site, as a browser does: the app refuses it', async () => {
    for (const [protocol, start] of [
      ['OAuth 2.0', '/auth/x'],
      ['OAuth 1.0a', '/auth/x/oauth1'],
    ] as const) {
      const strict = await serveOnLoopback();
      try {
        strict.server.on('request', serve(strict.origin, { sameSite: 'strict' }));
        const { response, cookie } = await x.signIn(`${strict.origin}${start}`, { user: 'grace' });
        expect(response.headers.get('location'), protocol).to.match(/^\/failed\?message=./);
        // The browser still holds the cookie: only the callback went without it.
        expect(cookie, protocol).to.match(/^connect\.sid=/);
      } finally {
        await strict.close();
      }
    }
  });

  it('sends a Lax cookie, and one whose Path covers the callback; refuses a SameSite=None cookie without Secure, as browsers do', async () => {
    const cases: Array<[session.CookieOptions, boolean]> = [
      [{ sameSite: 'lax' }, true],
      [{ path: '/auth' }, true],
      [{ sameSite: 'none', secure: false }, false],
    ];
    for (const [cookie, signsIn] of cases) {
      const web = await serveOnLoopback();
      try {
        web.server.on('request', serve(web.origin, cookie));
        const { response } = await x.signIn(`${web.origin}/auth/x`, { user: 'grace' });
        if (signsIn) expect(response.headers.get('location'), JSON.stringify(cookie)).to.equal('/me');
        else expect(response.headers.get('location'), JSON.stringify(cookie)).to.match(/^\/failed\?message=./);
      } finally {
        await web.close();
      }
    }
  });

  it('sends the given cookie with the start', async () => {
    let seen: string | undefined;
    app.server.on('request', (req, res) => {
      seen = req.headers.cookie;
      res.writeHead(500).end('no sign-in here');
    });
    const err = await rejection(x.signIn(`${app.origin}/auth/x`, { cookie: 'sid=abc; theme=dark' }));
    expect(seen).to.equal('sid=abc; theme=dark');
    expect(err.message).to.contain('/auth/x answered 500 instead of a redirect').and.to.contain('no sign-in here');
  });

  it('follows the app\'s own redirects to the sign-in route: on its origin, and to its canonical host', async () => {
    const web = serve(app.origin);
    // /login/x sends the browser on to /auth/x; localhost sends it to 127.0.0.1, the app's canonical host.
    app.server.on('request', (req, res) => {
      if (req.headers.host?.startsWith('localhost:')) return res.writeHead(301, { location: `${app.origin}${req.url}` }).end();
      if (req.url === '/login/x') return res.writeHead(302, { location: '/auth/x' }).end();
      web(req, res);
    });
    const viaLogin = await x.signIn(`${app.origin}/login/x`, { user: 'grace' });
    expect(viaLogin.response.headers.get('location')).to.equal('/me');
    const canonical = await x.signIn(`${app.origin.replace('127.0.0.1', 'localhost')}/login/x`);
    expect(canonical.response.headers.get('location')).to.equal('/me');
    const me = await fetch(`${app.origin}/me`, { headers: { cookie: canonical.cookie } });
    expect(await me.json()).to.deep.equal({ user: { id: x.users[0].id, username: 'ada' } });
  });

  it('says the app redirected elsewhere when it sends the browser neither to itself nor to the emulator', async () => {
    app.server.on('request', (req, res) => res.writeHead(302, { location: 'https://x.com/i/oauth2/authorize?client_id=real' }).end());
    const err = await rejection(x.signIn(`${app.origin}/auth/x`));
    expect(err).to.be.instanceOf(TypeError);
    expect(err.message).to.include(`signIn(): /auth/x redirected to https://x.com/i/oauth2/authorize, which is neither this emulator (${x.url}) nor the app itself`);
    expect(err.message).to.include('x.oauth2StrategyOptions');
  });

  it('gives up after 5 of the app\'s own redirects', async () => {
    let requests = 0;
    app.server.on('request', (req, res) => {
      requests += 1;
      res.writeHead(302, { location: req.url === '/a' ? '/b' : '/a' }).end();
    });
    const err = await rejection(x.signIn(`${app.origin}/a`));
    expect(err.message).to.equal("passport-x/testing: signIn(): the app redirected 6 times without sending the browser to X's consent page (last: /a)");
    expect(requests).to.equal(6);
  });

  it('refuses a start URL that is not absolute', async () => {
    expect(await rejection(x.signIn('/auth/x'))).to.be.instanceOf(TypeError);
  });
});

describe('testing kit: x.signIn()\'s cookie jar', () => {
  const answer = (...setCookies: string[]): Response => new Response(null, { headers: setCookies.map((line) => ['set-cookie', line] as [string, string]) });

  it('counts https, and plain http to a loopback host, as secure origins, as Chromium and Firefox do', () => {
    for (const origin of ['https://app.example', 'http://localhost:3000', 'http://localhost.:3000', 'http://app.localhost', 'http://127.0.0.1:3000', 'http://127.8.0.1', 'http://[::1]:3000']) {
      expect(isSecureCookieOrigin(new URL(origin)), origin).to.equal(true);
    }
    for (const origin of ['http://app.example', 'http://localhost.example', 'http://127.0.0.1.example', 'http://10.0.0.1', 'http://[::2]', 'ftp://127.0.0.1']) {
      expect(isSecureCookieOrigin(new URL(origin)), origin).to.equal(false);
    }
  });

  it('keeps and sends a Secure cookie only on a secure origin (the attribute in any case)', () => {
    const set = answer('sid=s1; Path=/; SECURE; HttpOnly', 'theme=dark; Path=/');
    // Set over plain http to a host that is not loopback: the Secure cookie is refused, the other kept.
    const plain = new CookieJar();
    plain.store(new URL('http://app.example/auth/x'), set);
    expect(plain.held('app.example')).to.equal('theme=dark');
    // Set over https: kept, and sent over https only (the same host over plain http gets the other).
    const tls = new CookieJar();
    tls.store(new URL('https://app.example/auth/x'), set);
    expect(tls.header(new URL('https://app.example/auth/x/callback'))).to.equal('sid=s1; theme=dark');
    expect(tls.header(new URL('http://app.example/auth/x/callback'))).to.equal('theme=dark');
    // On loopback over plain http, as in a test: kept and sent.
    const loopback = new CookieJar();
    loopback.store(new URL('http://127.0.0.1:3000/auth/x'), set);
    expect(loopback.header(new URL('http://127.0.0.1:3000/auth/x/callback'))).to.equal('sid=s1; theme=dark');
  });

  it('lets an origin that is not secure neither overwrite nor delete a Secure cookie whose path covers its own', () => {
    const jar = new CookieJar();
    jar.store(new URL('https://app.example/auth'), answer('sid=s1; Path=/auth; Secure'));
    const plain = new URL('http://app.example/auth/x');
    jar.store(plain, answer('sid=forged; Path=/auth', 'sid=; Path=/auth; Max-Age=0', 'sid=under; Path=/auth/x'));
    expect(jar.held('app.example')).to.equal('sid=s1');
    // A path the Secure cookie does not cover (/ is wider than /auth) makes another cookie.
    jar.store(plain, answer('sid=other; Path=/'));
    expect(jar.held('app.example')).to.equal('sid=s1; sid=other');
    // Over https the Secure cookie is replaced, then deleted.
    const tls = new URL('https://app.example/auth/x');
    jar.store(tls, answer('sid=s2; Path=/auth; Secure'));
    expect(jar.header(tls)).to.equal('sid=s2; sid=other');
    jar.store(tls, answer('sid=; Path=/auth; Secure; Max-Age=0'));
    expect(jar.held('app.example')).to.equal('sid=other');
  });

  it('refuses __Secure- and __Host- cookies without what their prefix requires', () => {
    const jar = new CookieJar();
    const origin = new URL('https://app.example/auth/x');
    jar.store(origin, answer('__Secure-a=1; Path=/', '__Host-b=1; Path=/', '__Host-c=1; Secure; Path=/; Domain=app.example', '__Host-d=1; Secure; Path=/auth', '__host-e=1; Secure'));
    expect(jar.held('app.example')).to.equal('');
    jar.store(origin, answer('__Secure-a=1; Path=/; Secure', '__Host-b=1; Secure; Path=/'));
    expect(jar.header(new URL('https://app.example/'))).to.equal('__Secure-a=1; __Host-b=1');
  });

  it('lets Max-Age win over Expires, and ignores a malformed one of either (RFC 6265 section 5.3)', () => {
    const jar = new CookieJar();
    const origin = new URL('http://127.0.0.1:3000/');
    const past = new Date(Date.now() - 60_000).toUTCString();
    const future = new Date(Date.now() + 60_000).toUTCString();
    jar.store(origin, answer(`a=1; Path=/; Max-Age=3600; Expires=${past}`, 'b=1; Path=/; Max-Age=', 'c=1; Path=/; Max-Age=soon', 'd=1; Path=/; Expires=never', `e=1; Path=/; Expires=${future}`));
    expect(jar.held('127.0.0.1')).to.equal('a=1; b=1; c=1; d=1; e=1');
    jar.store(origin, answer(`a=; Path=/; Max-Age=0; Expires=${future}`, 'b=; Path=/; Max-Age=-1', `e=; Path=/; Expires=${past}`));
    expect(jar.held('127.0.0.1')).to.equal('c=1; d=1');
  });
});
