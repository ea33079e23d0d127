// End to end over HTTP: the Koa example app (example-app/koa.ts: Koa 2, koa-session, @koa/router,
// koa-passport) signs in through both strategies, unchanged, against the X emulator; then
// refreshes the token and signs out. The Express app has the browser (Chromium) tests.
import { expect } from 'chai';
import { request as httpRequest } from 'node:http';
import { startXEmulator, type XEmulator, type XEmulatorRequestRecord } from '../../lib/testing';
import { emulatorConfig } from '../../example-app/config';
import { KOA_SESSION_COOKIE_NAME, createKoaExampleApp, createMemorySessionStore } from '../../example-app/koa';
import { ROUTES } from '../../example-app/views';
import { Browser, answerConsent, linkURL, readForms, serveOnLoopback, textOf, type LoopbackServer, type Page } from '../support/browserless';

const SESSION_SECRET = 'koa-e2e-session-secret-of-32-chars-or-more';

/** The emulator's requests to `path` since `from` (an index into x.requests). */
function requestsTo(x: XEmulator, path: string, from = 0): XEmulatorRequestRecord[] {
  return x.requests.slice(from).filter((r) => r.path === path);
}

describe('the Koa example app (koa-passport, koa-session, @koa/router)', function () {
  let x: XEmulator;
  let app: LoopbackServer;
  const logged: string[] = [];

  before(async function () {
    x = await startXEmulator();
    // Listen first, then build the app: its callback URLs need the port.
    app = await serveOnLoopback();
    // The emulator's configuration, with the Koa app's default (in-memory) koa-session store.
    const koa = createKoaExampleApp({ ...emulatorConfig(x, app.origin, SESSION_SECRET), sessionStore: undefined, log: (line) => logged.push(line) });
    app.server.on('request', koa.callback());
  });

  after(async function () {
    await app?.close();
    await x?.close();
  });

  afterEach(function () {
    logged.length = 0;
  });

  /** Opens the home page, presses `button`, authorizes on the emulator as `userId`: the page the browser ends on. */
  async function signIn(browser: Browser, button: string, userId: string): Promise<Page> {
    const home = await browser.open(`${app.origin}${ROUTES.home}`);
    expect(home.status).to.equal(200);
    const consent = await browser.open(linkURL(home, button));
    expect(consent.url.startsWith(x.url), `went to the emulator, not ${consent.url}`).to.equal(true);
    return answerConsent(browser, consent, { userId });
  }

  it('signs in with OAuth 2.0 and PKCE (XOAuth2PkceStrategy) and shows the profile', async function () {
    const grace = x.users[1]!;
    const from = x.requests.length;
    const browser = new Browser();
    const home = await browser.open(`${app.origin}${ROUTES.home}`);
    const consent = await browser.open(linkURL(home, 'Sign in with X'));
    // The start saved the pending sign-in (state and PKCE verifier) in a session.
    const sessionAtStart = browser.cookies('127.0.0.1').get(KOA_SESSION_COOKIE_NAME);
    expect(sessionAtStart).to.be.a('string');
    const profile = await answerConsent(browser, consent, { userId: grace.id });

    expect(profile.url).to.equal(`${app.origin}${ROUTES.profile}`);
    expect(profile.status).to.equal(200);
    // Signing in gave the session a new ID (passport's login regenerates it against session fixation).
    expect(browser.cookies('127.0.0.1').get(KOA_SESSION_COOKIE_NAME)).to.not.equal(sessionAtStart);
    const text = textOf(profile.body);
    expect(text).to.contain('Your X profile');
    expect(text).to.contain(`${grace.name} @${grace.username}`);
    expect(text).to.contain(`X user ID ${grace.id}`);
    expect(text).to.contain('Signed in with OAuth 2.0 with PKCE');
    expect(text).to.contain('offline.access');
    // The callback was the one the strategy registered, and the code was exchanged once, with the profile read with its token.
    expect(profile.hops.map((h) => new URL(h.url).pathname)).to.include(ROUTES.oauth2Callback);
    expect(requestsTo(x, '/2/oauth2/token', from)).to.deep.equal([{ method: 'POST', path: '/2/oauth2/token', status: 200 }]);
    expect(requestsTo(x, '/2/users/me', from)).to.deep.equal([{ method: 'GET', path: '/2/users/me', status: 200 }]);
    // Only a session ID (and its signature) goes to the browser: the tokens stay in the server's session store.
    expect([...browser.cookies('127.0.0.1').keys()].sort()).to.deep.equal([KOA_SESSION_COOKIE_NAME, `${KOA_SESSION_COOKIE_NAME}.sig`]);
    expect(browser.cookies('127.0.0.1').get(KOA_SESSION_COOKIE_NAME)).to.match(/^[0-9a-f-]{36}$/);

    const homeAfter = await browser.open(`${app.origin}${ROUTES.home}`);
    expect(textOf(homeAfter.body)).to.contain(`You are signed in as ${grace.name} (@${grace.username}).`);
    expect(logged).to.deep.equal([]);
  });

  it('signs in with OAuth 1.0a (XOAuth1Strategy) and shows the profile', async function () {
    const ada = x.users[0];
    const from = x.requests.length;
    const browser = new Browser();
    const profile = await signIn(browser, 'Sign in with X (OAuth 1.0a)', ada.id);

    expect(profile.url).to.equal(`${app.origin}${ROUTES.profile}`);
    const text = textOf(profile.body);
    expect(text).to.contain(`${ada.name} @${ada.username}`);
    expect(text).to.contain(`X user ID ${ada.id}`);
    expect(text).to.contain('Signed in with OAuth 1.0a');
    expect(profile.hops.map((h) => new URL(h.url).pathname)).to.include(ROUTES.oauth1Callback);
    expect(requestsTo(x, '/oauth/request_token', from)).to.deep.equal([{ method: 'POST', path: '/oauth/request_token', status: 200 }]);
    expect(requestsTo(x, '/oauth/access_token', from)).to.deep.equal([{ method: 'POST', path: '/oauth/access_token', status: 200 }]);
    expect(requestsTo(x, '/1.1/account/verify_credentials.json', from)).to.have.length(1);
    expect(logged).to.deep.equal([]);
  });

  it('refreshes the OAuth 2.0 token and signs out, revoking the tokens at X', async function () {
    const browser = new Browser();
    const profile = await signIn(browser, 'Sign in with X', x.users[0].id);
    expect(profile.url).to.equal(`${app.origin}${ROUTES.profile}`);

    let from = x.requests.length;
    const refreshed = await browser.submit(profile, { button: 'Refresh token' });
    expect(refreshed.url).to.equal(`${app.origin}${ROUTES.profile}`);
    expect(refreshed.hops[0]).to.include({ method: 'POST', status: 303 });
    expect(textOf(refreshed.body)).to.contain('X issued a new access token (and a new refresh token).');
    expect(requestsTo(x, '/2/oauth2/token', from)).to.deep.equal([{ method: 'POST', path: '/2/oauth2/token', status: 200 }]);

    from = x.requests.length;
    const signedOut = await browser.submit(refreshed, { button: 'Sign out' });
    expect(signedOut.url).to.equal(`${app.origin}${ROUTES.home}?notice=signed-out`);
    expect(textOf(signedOut.body)).to.contain('You are signed out, and X has revoked the token.');
    // The refresh token, then the access token (example-app/users.ts).
    expect(requestsTo(x, '/2/oauth2/revoke', from)).to.deep.equal([
      { method: 'POST', path: '/2/oauth2/revoke', status: 200 },
      { method: 'POST', path: '/2/oauth2/revoke', status: 200 },
    ]);
    const again = await browser.open(`${app.origin}${ROUTES.profile}`);
    expect(again.url).to.equal(`${app.origin}${ROUTES.home}?notice=sign-in-first`);
    expect(logged).to.deep.equal([]);
  });

  it('refuses a profile form posted without the session\'s form token', async function () {
    const browser = new Browser();
    const profile = await signIn(browser, 'Sign in with X (OAuth 1.0a)', x.users[0].id);
    const form = readForms(profile.body, profile.url).find((f) => f.buttons.some((b) => b.text === 'Sign out'))!;
    const forged = await browser.open(form.action, { method: 'POST', form: new URLSearchParams({ _csrf: 'not-the-token' }) });
    expect(forged.status).to.equal(403);
    expect(textOf(forged.body)).to.contain('This form has expired or did not come from this app.');
    // Still signed in.
    expect((await browser.open(`${app.origin}${ROUTES.profile}`)).status).to.equal(200);
  });

  it('sends a reload of the callback after signing in to the profile, saying the person is still signed in (not "Sign in again")', async function () {
    const browser = new Browser();
    const back = await signIn(browser, 'Sign in with X', x.users[0].id);
    const callback = back.hops.find((h) => new URL(h.url).pathname === ROUTES.oauth2Callback)!.url;
    logged.length = 0;
    const reloaded = await browser.open(callback);
    expect(reloaded.url).to.equal(`${app.origin}${ROUTES.profile}`);
    expect(textOf(reloaded.body)).to.not.match(/Sign in again|no sign-in in progress/i);
    expect(textOf(reloaded.body)).to.contain(`That sign-in link was used already or has expired: you are still signed in as @${x.users[0].username}.`);
    expect(logged.join('\n')).to.match(/X_(SIGN_IN_IN_PROGRESS|NO_PENDING_SIGN_IN|CALLBACK_UNKNOWN)/);
    logged.length = 0;
  });

  it('gives a new form token at each sign-in: a page shown before it (another account\'s) can no longer post', async function () {
    const browser = new Browser();
    const before = await signIn(browser, 'Sign in with X', x.users[0].id);
    const formToken = (page: Page): string => readForms(page.body, page.url).find((f) => f.buttons.some((b) => b.text === 'Sign out'))!.fields.find(([name]) => name === '_csrf')![1];
    // Signed in again in the same browser (another account), without signing out: the start route directly.
    const back = await answerConsent(browser, await browser.open(`${app.origin}${ROUTES.oauth2Start}`), { userId: x.users[1]!.id });
    expect(back.url).to.equal(`${app.origin}${ROUTES.profile}`);
    expect(formToken(back)).to.not.equal(formToken(before));
    expect((await browser.submit(before, { button: 'Sign out' })).status).to.equal(403);
    expect((await browser.submit(back, { button: 'Sign out' })).url).to.equal(`${app.origin}${ROUTES.home}?notice=signed-out`);
  });

  it('goes back to the home page with "You cancelled the sign-in with X." when the user cancels, for both protocols', async function () {
    for (const button of ['Sign in with X', 'Sign in with X (OAuth 1.0a)']) {
      const browser = new Browser();
      const from = x.requests.length;
      const home = await browser.open(`${app.origin}${ROUTES.home}`);
      const consent = await browser.open(linkURL(home, button));
      const back = await answerConsent(browser, consent, { cancel: true });
      expect(back.url, button).to.equal(`${app.origin}${ROUTES.home}`);
      expect(textOf(back.body), button).to.contain('You cancelled the sign-in with X.');
      expect(requestsTo(x, '/2/oauth2/token', from), button).to.deep.equal([]);
      expect(requestsTo(x, '/oauth/access_token', from), button).to.deep.equal([]);
      const profile = await browser.open(`${app.origin}${ROUTES.profile}`);
      expect(profile.url, button).to.equal(`${app.origin}${ROUTES.home}?notice=sign-in-first`);
    }
  });

  it('goes back to the home page with a sentence for the person, not the 500 page, when X refuses to start an OAuth 1.0a sign-in', async function () {
    const browser = new Browser();
    const home = await browser.open(`${app.origin}${ROUTES.home}`);
    x.failNext('/oauth/request_token', { status: 503 });
    const back = await browser.open(linkURL(home, 'Sign in with X (OAuth 1.0a)'));
    expect(back.status).to.equal(200);
    expect(back.url).to.equal(`${app.origin}${ROUTES.home}`);
    expect(textOf(back.body)).to.contain('Sign-in with X failed: X is not available right now. Try again in a few minutes.');
    expect(logged).to.have.length(1);
    expect(logged[0]).to.contain('Sign-in with x-oauth1 failed').and.to.contain('HTTP 503');
  });

  it('refuses a callback delivered to a browser that did not start the sign-in, before asking X for a token', async function () {
    const victim = new Browser();
    const home = await victim.open(`${app.origin}${ROUTES.home}`);
    const consent = await victim.open(linkURL(home, 'Sign in with X'));
    // Stop at the redirect to the app's callback, and deliver it in another browser (a forged login link).
    const atCallback = await answerConsent(victim, consent, { stopBefore: (url) => url.pathname === ROUTES.oauth2Callback });
    expect(atCallback.stoppedBefore).to.be.a('string');

    const from = x.requests.length;
    const attacker = new Browser();
    const landed = await attacker.open(atCallback.stoppedBefore!);
    expect(landed.url).to.equal(`${app.origin}${ROUTES.home}`);
    expect(textOf(landed.body)).to.contain('This browser has no sign-in in progress. Sign in again.');
    expect(requestsTo(x, '/2/oauth2/token', from)).to.deep.equal([]);

    // The browser that started it still completes it.
    const profile = await victim.open(atCallback.stoppedBefore!);
    expect(profile.url).to.equal(`${app.origin}${ROUTES.profile}`);
  });

  it('uses up a pending sign-in even when X fails the token exchange, for both protocols', async function () {
    for (const flow of [
      { button: 'Sign in with X', callback: ROUTES.oauth2Callback, exchange: '/2/oauth2/token' },
      { button: 'Sign in with X (OAuth 1.0a)', callback: ROUTES.oauth1Callback, exchange: '/oauth/access_token' },
    ]) {
      const browser = new Browser();
      const home = await browser.open(`${app.origin}${ROUTES.home}`);
      const consent = await browser.open(linkURL(home, flow.button));
      const atCallback = await answerConsent(browser, consent, { stopBefore: (url) => url.pathname === flow.callback });
      x.failNext(flow.exchange, { status: 503 });
      const failed = await browser.open(atCallback.stoppedBefore!);
      expect(failed.url, flow.button).to.equal(`${app.origin}${ROUTES.home}`);
      expect(textOf(failed.body), flow.button).to.contain('Sign-in with X failed:');
      expect(logged, flow.button).to.have.length(1);
      expect(logged[0], 'logged without a secret').to.not.contain(new URL(atCallback.stoppedBefore!).searchParams.get(flow.button.includes('1.0a') ? 'oauth_verifier' : 'code')!);

      const from = x.requests.length;
      const again = await browser.open(atCallback.stoppedBefore!);
      expect(again.url, flow.button).to.equal(`${app.origin}${ROUTES.home}`);
      // The session's only pending sign-in was used up, so the session has none left.
      expect(textOf(again.body), flow.button).to.contain('This browser has no sign-in in progress. Sign in again.');
      expect(requestsTo(x, flow.exchange, from), flow.button).to.deep.equal([]);
      logged.length = 0;
    }
  });

  it('redirects a sign-in started at another host to its public URL, and serves a favicon', async function () {
    const answer = await new Promise<{ status: number | undefined; location: string | undefined }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: app.port, path: `${ROUTES.oauth2Start}?from=localhost`, headers: { host: `localhost:${app.port}` } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode, location: res.headers.location });
      });
      req.on('error', reject);
      req.end();
    });
    expect(answer).to.deep.equal({ status: 302, location: `${app.origin}${ROUTES.oauth2Start}?from=localhost` });
    const icon = await fetch(`${app.origin}/favicon.ico`);
    expect(icon.status).to.equal(200);
    expect(icon.headers.get('content-type')).to.match(/^image\/svg\+xml/);
  });

  it('keeps sessions in its memory store only until they expire', async function () {
    let now = 1_000_000;
    const store = createMemorySessionStore(() => now);
    await store.set('session-id', { user: 'someone' }, 1000, { rolling: false, changed: true });
    expect(await store.get('session-id', 1000, { rolling: false })).to.deep.equal({ user: 'someone' });
    now += 1000;
    expect(await store.get('session-id', 1000, { rolling: false })).to.equal(undefined);
    await store.set('other', { n: 1 }, 1000, { rolling: false, changed: true });
    await store.destroy('other', {});
    expect(await store.get('other', 1000, { rolling: false })).to.equal(undefined);
  });
});

describe('the Koa example app, started from the command line', function () {
  it('refuses to start with REDIS_URL set, saying it keeps everything in memory and which app shares it through Redis', async function () {
    const { spawnSync } = await import('node:child_process');
    const run = spawnSync(process.execPath, ['--require', 'tsx/cjs', 'example-app/koa.ts'], {
      env: { ...process.env, REDIS_URL: 'redis://127.0.0.1:1', PORT: '0' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).to.equal(1);
    expect(run.stderr).to.include('REDIS_URL is set, but this variant keeps sessions, tokens and replay claims in memory').and.include('npm start');
  });
});
