// lib/request.ts: resolving a relative callbackURL against the request, as passport-oauth1/oauth2's
// originalURL does, for every framework's request and for hostile Host headers.
import { expect } from 'chai';
import { resolve as resolveURL } from 'node:url';
import express from 'express';
import session from 'express-session';
import { once } from 'node:events';
import { get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import passport from 'passport';
import { XOAuth2PkceStrategy, type XOAuth2StrategyOptions } from '../lib/oauth2-strategy';
import { EncryptedCookieStateStore } from '../lib/state/encrypted-cookie';
import { resolveCallbackURL, warnOnHostMismatch, warnOnInsecureSessionCookie, warnOnUnrestoredLogin, type HostWarningState, type XAuthRequest } from '../lib/request';
import { fakeRequest, runStrategy } from './support/passport-harness';
import { warningsDuring } from './support/warnings';

// passport-oauth2's own resolution (passport-oauth1's is the same code): the reference for every valid host.
const { originalURL } = require('passport-oauth2/lib/utils') as { originalURL(req: object, options: { proxy?: boolean }): string };

/** A request as a framework hands it to a strategy: headers lower-cased, the socket where `where` says. */
function request(headers: Record<string, string | string[]>, init: { url?: string; encrypted?: boolean; where?: 'express' | 'fastify' | 'none'; app?: object } = {}): XAuthRequest {
  const socket = { encrypted: init.encrypted ?? false };
  const req: XAuthRequest = { headers, url: init.url ?? '/auth/x?code=the-secret-code&state=s' };
  const where = init.where ?? 'express';
  if (where === 'express') Object.assign(req, { socket, connection: socket });
  // Fastify (through @fastify/passport) hands the strategy its own request: no `connection`, the Node request under `raw`.
  if (where === 'fastify') Object.assign(req, { raw: { socket } });
  if (init.app) req.app = init.app;
  return req;
}

describe('resolveCallbackURL', () => {
  it('resolves against the Host header and the request path, over http or https as the socket says', () => {
    expect(resolveCallbackURL(request({ host: 'app.example:3000' }), '/auth/x/callback', false)).to.equal('http://app.example:3000/auth/x/callback');
    expect(resolveCallbackURL(request({ host: 'app.example' }, { encrypted: true }), '/auth/x/callback', false)).to.equal('https://app.example/auth/x/callback');
    // A path relative to the request's, as url.resolve does.
    expect(resolveCallbackURL(request({ host: 'app.example' }, { url: '/auth/x/start?x=1' }), 'callback', false)).to.equal('http://app.example/auth/x/callback');
    expect(resolveCallbackURL(request({ host: '[::1]:3000' }), '/cb', false)).to.equal('http://[::1]:3000/cb');
  });

  it('reads the socket of a Fastify request (no `connection`: under `raw`), and treats a request without one as plain http', () => {
    expect(resolveCallbackURL(request({ host: 'app.example' }, { where: 'fastify', encrypted: true }), '/cb', false)).to.equal('https://app.example/cb');
    expect(resolveCallbackURL(request({ host: 'app.example' }, { where: 'fastify' }), '/cb', false)).to.equal('http://app.example/cb');
    expect(resolveCallbackURL(request({ host: 'app.example' }, { where: 'none' }), '/cb', false)).to.equal('http://app.example/cb');
  });

  it('trusts X-Forwarded-Proto and X-Forwarded-Host only with proxy (or Express\'s trust proxy), taking the first of a list', () => {
    const forwarded = { host: 'internal:8080', 'x-forwarded-proto': 'https, http', 'x-forwarded-host': 'app.example, lb.internal:8080' };
    expect(resolveCallbackURL(request(forwarded), '/cb', false)).to.equal('http://internal:8080/cb');
    expect(resolveCallbackURL(request(forwarded), '/cb', true)).to.equal('https://app.example/cb');
    const trusting = { get: (setting: string) => setting === 'trust proxy' };
    expect(resolveCallbackURL(request(forwarded, { app: trusting }), '/cb', false)).to.equal('https://app.example/cb');
    // An empty X-Forwarded-Host falls back to Host.
    expect(resolveCallbackURL(request({ host: 'app.example', 'x-forwarded-host': '' }), '/cb', true)).to.equal('http://app.example/cb');
  });

  it('answers exactly what passport-oauth2 sends as redirect_uri for every valid host: no port dropped, no path re-encoded', () => {
    const cases: Array<[Record<string, string>, string, string, boolean]> = [
      // [headers, request URL, callbackURL, proxy]
      [{ host: 'app.example:443', 'x-forwarded-proto': 'https' }, '/auth/x', '/auth/x/callback', true],
      [{ host: 'example.com:80' }, '/auth/x', '/auth/x/callback', false],
      [{ host: 'App.Example:3000' }, '/auth/x?code=c', '/auth/x/c\u00e4llback', false],
      [{ host: 'app.example' }, '/a/b/start', '../x/cb|^', false],
      [{ host: '127.0.0.1:3000' }, '/', 'callback?from=x', false],
      [{ host: '[::1]:8080' }, '/auth', '/cb', false],
      [{ host: 'internal', 'x-forwarded-host': 'app.example:8443', 'x-forwarded-proto': 'https' }, '/auth/x', '/cb', true],
    ];
    for (const [headers, url, callbackURL, proxy] of cases) {
      const req = request(headers, { url });
      const passports = resolveURL(originalURL(req, { proxy }), callbackURL);
      expect(resolveCallbackURL(req, callbackURL, proxy), `${JSON.stringify(headers)} ${callbackURL}`).to.equal(passports);
    }
    expect(resolveCallbackURL(request({ host: 'app.example:443', 'x-forwarded-proto': 'https' }), '/cb', true)).to.equal('https://app.example:443/cb');
  });

  it('answers undefined, never throws, for a host that cannot form a URL, and never parses the query', () => {
    for (const host of ['', '[::1', 'a b', 'evil.example/path', 'evil.example?q', 'user@evil.example', 'a.example\\b', 'a.example:99999', 'a\r\nb']) {
      expect(resolveCallbackURL(request({ host }), '/cb', false), JSON.stringify(host)).to.equal(undefined);
    }
    expect(resolveCallbackURL(request({}), '/cb', false), 'no Host').to.equal(undefined);
    expect(resolveCallbackURL(request({ host: 'ok.example', 'x-forwarded-host': 'a.com:443 b.com' }), '/cb', true), 'a broken forwarded host').to.equal(undefined);
    // The callback's query (its code) is not part of what is resolved.
    expect(resolveCallbackURL(request({ host: 'app.example' }, { url: '/cb?code=the-secret-code' }), '', false)).to.equal('http://app.example/cb');
  });
});

/** Runs `fn` and answers the messages of the warnings with `code` it emitted (by default PASSPORT_X_SECURE_COOKIE_ON_HTTP). */
async function warningsOf(fn: () => void | Promise<void>, code = 'PASSPORT_X_SECURE_COOKIE_ON_HTTP'): Promise<string[]> {
  return (await warningsDuring(fn, { code })).map((w) => w.message);
}

describe('warnOnInsecureSessionCookie', () => {
  const secureCookie = { cookie: { secure: true } };

  it('warns once per strategy instance when a Secure session cookie meets a plain-http start, saying the fix', async () => {
    const state: HostWarningState = { warnedHosts: new Set() };
    const messages = await warningsOf(() => {
      expect(warnOnInsecureSessionCookie({ headers: {}, session: secureCookie, secure: false }, 'x-oauth2', state)).to.equal(true);
      expect(warnOnInsecureSessionCookie({ headers: {}, session: secureCookie, secure: false }, 'x-oauth2', state)).to.equal(false);
    });
    expect(messages).to.have.length(1);
    expect(messages[0]).to.include('x-oauth2').and.include('marked Secure').and.include('plain http').and.include("app.set('trust proxy', 1)");
  });

  it('reads each framework\'s word for https: Express req.secure, Koa ctx.secure, Fastify request.protocol', () => {
    const fresh = (): HostWarningState => ({ warnedHosts: new Set() });
    const s = (req: Omit<XAuthRequest, 'headers'> & { headers?: XAuthRequest['headers'] }): boolean => warnOnInsecureSessionCookie({ headers: {}, ...req }, 'x', fresh());
    return warningsOf(() => {
      expect(s({ session: secureCookie, ctx: { secure: false } }), 'Koa over http').to.equal(true);
      expect(s({ session: secureCookie, protocol: 'http' }), 'Fastify over http').to.equal(true);
      expect(s({ session: secureCookie, secure: true }), 'Express over https').to.equal(false);
      expect(s({ session: secureCookie, ctx: { secure: true } }), 'Koa over https').to.equal(false);
      expect(s({ session: secureCookie, protocol: 'https' }), 'Fastify over https').to.equal(false);
    });
  });

  it('warns once per strategy instance of a SameSite=Strict session cookie (express-session\'s `sameSite: true` is Strict) that holds the pending sign-in', async () => {
    const strict = await warningsOf(() => {
      const state: HostWarningState = { warnedHosts: new Set() };
      for (const sameSite of ['strict', true, 'strict']) warnOnInsecureSessionCookie({ headers: {}, session: { cookie: { sameSite } }, secure: true }, 'x-oauth2', state);
      // Lax and None reach the callback; a pending sign-in in its own cookie (EncryptedCookieStateStore) is not in the session.
      const quiet: HostWarningState = { warnedHosts: new Set() };
      for (const sameSite of ['lax', 'none', false, undefined]) warnOnInsecureSessionCookie({ headers: {}, session: { cookie: { sameSite } }, secure: true }, 'x-oauth2', quiet);
      warnOnInsecureSessionCookie({ headers: {}, session: { cookie: { sameSite: 'strict' } }, secure: true }, 'x-oauth2', quiet, false);
    }, 'PASSPORT_X_STRICT_SESSION_COOKIE');
    expect(strict).to.have.length(1);
    expect(strict[0]!).to.include('x-oauth2').and.include('SameSite=Strict').and.include("sameSite: 'lax'");
  });

  it('stays quiet when nothing is wrong or nothing can be told', () =>
    warningsOf(() => {
      const quiet = (req: XAuthRequest): void => void expect(warnOnInsecureSessionCookie(req, 'x', { warnedHosts: new Set() }), JSON.stringify(req)).to.equal(false);
      quiet({ headers: {}, session: { cookie: { secure: false } }, secure: false });
      // express-session's `secure: 'auto'` sets the cookie's secure per request: false over http.
      quiet({ headers: {}, session: { cookie: { secure: 'auto' } }, secure: false });
      quiet({ headers: {}, session: { cookie: {} }, secure: false });
      quiet({ headers: {}, session: {}, secure: false });
      quiet({ headers: {}, session: null, secure: false });
      // The framework does not say: no guess.
      quiet({ headers: {}, session: secureCookie });
      // A proxy says https (express-session's `proxy: true` trusts it, though Express may not).
      quiet({ headers: { 'x-forwarded-proto': 'https' }, session: secureCookie, secure: false });
    }).then((messages) => expect(messages).to.deep.equal([])));

  /** An Express app with express-session (cookie.secure on plain http) and `strategy` on /auth/x; `run` gets its origin. */
  async function withSecureCookieApp(strategy: XOAuth2PkceStrategy, run: (origin: string) => Promise<void>, session_ = false): Promise<void> {
    const app = express();
    app.use(session({ secret: 'a-session-secret-for-this-test', resave: false, saveUninitialized: false, cookie: { secure: true } }));
    app.use(passport.initialize());
    app.get('/auth/x', passport.authenticate(strategy, { session: session_ }));
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    } finally {
      server.close();
    }
  }

  function startSignIn(url: string): Promise<IncomingMessage> {
    return new Promise<IncomingMessage>((resolve, reject) => get(url, resolve).on('error', reject)).then((res) => {
      res.resume();
      return res;
    });
  }

  const strategyWith = (extra: Partial<XOAuth2StrategyOptions> = {}): XOAuth2PkceStrategy =>
    new XOAuth2PkceStrategy(
      { clientID: 'client-id', clientSecret: 'client-secret', callbackURL: 'http://127.0.0.1/auth/x/callback', baseURL: 'http://127.0.0.1:9', ...extra },
      (_a, _r, profile, done) => done(null, { id: profile.id }),
    );

  it('catches the real thing: express-session with cookie.secure on http sends no cookie, and the start warns', async () => {
    await withSecureCookieApp(strategyWith(), async (origin) => {
      let res: IncomingMessage | undefined;
      const messages = await warningsOf(async () => {
        res = await startSignIn(`${origin}/auth/x`);
      });
      expect(res!.statusCode).to.equal(302);
      // What makes the callback fail: the session holding the pending sign-in never reaches the browser.
      expect(res!.headers['set-cookie']).to.equal(undefined);
      expect(messages).to.have.length(1);
    });
  });

  it('with the sign-in in its own cookie (EncryptedCookieStateStore): warns that the login session is lost, and not at all with session: false', async () => {
    const store = new EncryptedCookieStateStore({ secret: 'a-cookie-secret-of-at-least-32-characters!' });
    // session: false (a JWT app): nothing rides the session cookie.
    await withSecureCookieApp(strategyWith({ store }), async (origin) => {
      let res: IncomingMessage | undefined;
      const messages = await warningsOf(async () => {
        res = await startSignIn(`${origin}/auth/x`);
      });
      expect(res!.statusCode).to.equal(302);
      expect(String(res!.headers['set-cookie'])).to.match(/^__xauth_[0-9a-f]{16}=/);
      expect(messages).to.deep.equal([]);
    });
    // A login session: the sign-in completes, but the session it opens is never sent.
    await withSecureCookieApp(
      strategyWith({ store }),
      async (origin) => {
        const messages = await warningsOf(async () => {
          await startSignIn(`${origin}/auth/x`);
        });
        expect(messages).to.have.length(1);
        expect(messages[0]).to.include('the login session the callback opens will not persist').and.not.include('will not find the pending sign-in');
      },
      true,
    );
  });
});

// Node's parser gives header values as strings; a framework or adapter that builds `headers` itself
// may put anything there. A value that is no string counts as no header: never a TypeError thrown out
// of authenticate() (an untyped 500), at either leg, with either store.
describe('warnOnUnrestoredLogin', () => {
  const signedOut = (): boolean => false;
  const signedIn = (): boolean => true;

  it('warns once per strategy instance when the session holds a user Passport did not restore', async () => {
    const state: HostWarningState = { warnedHosts: new Set() };
    const warnings = await warningsOf(() => {
      const req = { headers: {}, session: { passport: { user: 'u1' } }, isAuthenticated: signedOut };
      expect(warnOnUnrestoredLogin(req, 'x-oauth2', state)).to.equal(true);
      expect(warnOnUnrestoredLogin(req, 'x-oauth2', state)).to.equal(false);
    }, 'PASSPORT_X_SESSION_NOT_RESTORED');
    expect(warnings).to.have.length(1);
    expect(warnings[0]!).to.include('x-oauth2').and.include('req.isAuthenticated() is false').and.include('app.use(passport.session())');
  });

  it('stays quiet where Passport restored the user, where nothing was saved, and where Passport did not run', () => {
    const quiet = (req: XAuthRequest): void => void expect(warnOnUnrestoredLogin(req, 'x', { warnedHosts: new Set() }), JSON.stringify(req)).to.equal(false);
    quiet({ headers: {}, session: { passport: { user: 'u1' } }, isAuthenticated: signedIn });
    for (const session of [undefined, null, {}, { passport: null }, { passport: {} }, { passport: { user: null } }, { passport: 'junk' }]) {
      quiet({ headers: {}, session: session as XAuthRequest['session'], isAuthenticated: signedOut });
    }
    // No isAuthenticated(): Passport's initialize() did not run on this request (another framework's adapter).
    quiet({ headers: {}, session: { passport: { user: 'u1' } } });
  });
});

describe('request headers that are no strings', () => {
  const NOT_STRINGS: unknown[] = [42, {}, null, [42], [], true];
  const hostile = (headers: Record<string, unknown>): XAuthRequest => ({ headers, url: '/auth/x' }) as XAuthRequest;

  it('warnOnHostMismatch ignores such a Host or X-Forwarded-Host', () => {
    for (const value of NOT_STRINGS) {
      const state: HostWarningState = { warnedHosts: new Set() };
      expect(warnOnHostMismatch(hostile({ host: value }), 'https://app.example/cb', 'x', state), String(value)).to.equal(false);
      expect(warnOnHostMismatch(hostile({ host: 'other.example', 'x-forwarded-host': value }), 'https://app.example/cb', 'x', state, true)).to.equal(true);
    }
  });

  it('resolveCallbackURL answers undefined for such a Host, and falls back to Host for such an X-Forwarded-Host', () => {
    for (const value of NOT_STRINGS) {
      expect(resolveCallbackURL(hostile({ host: value }), '/cb', false), String(value)).to.equal(undefined);
      expect(resolveCallbackURL(hostile({ host: 'app.example', 'x-forwarded-host': value, 'x-forwarded-proto': value }), '/cb', true)).to.equal('http://app.example/cb');
    }
    expect(resolveCallbackURL({ url: '/auth/x' } as unknown as XAuthRequest, '/cb', false), 'no headers object at all').to.equal(undefined);
  });

  it('XOAuth2PkceStrategy starts and completes no worse: a redirect, or a 400 for a relative callbackURL it cannot form', async () => {
    const absolute = new XOAuth2PkceStrategy({ clientID: 'cid', callbackURL: 'https://app.example/cb' }, (_a, _r, p, done) => done(null, p));
    const relative = new XOAuth2PkceStrategy({ clientID: 'cid', callbackURL: '/cb', proxy: true }, (_a, _r, p, done) => done(null, p));
    for (const value of NOT_STRINGS) {
      const headers = { host: value, 'x-forwarded-host': value, cookie: value } as unknown as Record<string, string>;
      const started = await runStrategy(absolute, fakeRequest({ session: {}, headers }));
      expect(started.type, String(value)).to.equal('redirect');
      const callback = await runStrategy(relative, fakeRequest({ session: {}, headers, query: { code: 'c0de', state: 's1' } }));
      expect(callback, String(value)).to.include({ type: 'fail', status: 400 });
    }
  });

  it('EncryptedCookieStateStore reads such a Cookie header as no cookie: the callback finds no pending sign-in (403)', async () => {
    const store = new EncryptedCookieStateStore({ secret: 'a-32-byte-secret-for-the-cookies!' });
    const s = new XOAuth2PkceStrategy({ clientID: 'cid', callbackURL: 'https://app.example/cb', store }, (_a, _r, p, done) => done(null, p));
    for (const value of [42, {}, [42], []]) {
      const headers = { host: 'app.example', cookie: value } as unknown as Record<string, string>;
      const req = Object.assign(fakeRequest({ headers, query: { code: 'c0de', state: 's1' } }), { res: { setHeader() {}, getHeader() {} } });
      const result = await runStrategy(s, req);
      expect(result, String(value)).to.include({ type: 'fail', status: 403 });
    }
  });
});
