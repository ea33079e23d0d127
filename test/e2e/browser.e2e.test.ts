// End to end, as a user sees it: the example app (example-app/app.ts) signing in through the
// X emulator of passport-x/testing, driven in headless Chromium. Each test starts its own
// emulator, app and browser context, and closes them after; the browser is shared.
// The consent and profile screenshots of the README are taken here, into docs/, with
// UPDATE_SCREENSHOTS=1 only (so npm test leaves the tree clean). Phone-sized runs check that no
// page scrolls sideways.
import { expect } from 'chai';
import session from 'express-session';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { oauth1AuthorizationHeader } from '../../lib/oauth1-signature';
import { startXEmulator, type XEmulator } from '../../lib/testing';
import { createExampleApp, SESSION_COOKIE_NAME } from '../../example-app/app';
import { EXAMPLE_EMULATOR_OPTIONS, emulatorConfig } from '../../example-app/config';
import { createMemoryTokenStore } from '../../example-app/tokens';
import { isExampleUser, type ExampleUser } from '../../example-app/users';
import type { XTokenSet } from '../../lib/endpoints';
import type { XTokenStore } from '../../lib/tokens';
import { formatUTC } from '../../example-app/views';
import { launchChromium } from '../support/chromium';

const DOCS = join(__dirname, '..', '..', 'docs');
const VIEWPORT = { width: 1000, height: 700 };
/** A phone: an iPhone 14's CSS viewport. */
const PHONE = { width: 390, height: 844 };
/** The narrowest width the pages are made for. */
const NARROW_PHONE = { width: 360, height: 740 };
/** Rewrite docs/*.png only when asked: `UPDATE_SCREENSHOTS=1 npx mocha test/e2e/browser.e2e.test.ts`. */
const UPDATE_SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1';
const TWO_HOURS_MS = 7200 * 1000;

/** One running stack: the emulator, the app on its own server, and a fresh browser context. */
interface Stack {
  emulator: XEmulator;
  server: Server;
  /** The app's session store, read to find the signed-in user. */
  sessions: session.MemoryStore;
  /** The app's token store, read to find the OAuth 2.0 tokens the pages never show. */
  tokens: XTokenStore;
  context: BrowserContext;
  page: Page;
  publicURL: string;
  /** What the app logged. */
  logs: string[];
  /** Every answer of 400 or more the browser got (app and emulator, favicons included). */
  failedRequests: string[];
}

/** Whether the page scrolls sideways: wider than the viewport. */
async function scrollsSideways(page: Page): Promise<{ scrollWidth: number; innerWidth: number } | false> {
  const size = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
  return size.scrollWidth > size.innerWidth ? size : false;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** The signed-in users in the app's session store. */
function storedUsers(sessions: session.MemoryStore): Promise<ExampleUser[]> {
  return new Promise((resolve, reject) =>
    sessions.all((err, all) => {
      if (err) return reject(err);
      const users = Object.values(all ?? {})
        .map((data) => (data as { passport?: { user?: unknown } }).passport?.user)
        .filter(isExampleUser);
      resolve(users);
    }),
  );
}

async function onlyStoredUser(sessions: session.MemoryStore): Promise<ExampleUser> {
  const users = await storedUsers(sessions);
  expect(users, 'signed-in users in the session store').to.have.length(1);
  return users[0]!;
}

/** The OAuth 2.0 tokens the app keeps for a user (in its token store, under the X user ID); undefined when none. */
async function storedTokens(tokens: XTokenStore, userId: string): Promise<XTokenSet | undefined> {
  return ((await tokens.get(userId)) ?? undefined) as XTokenSet | undefined;
}

describe('example app in Chromium, on the X emulator', function () {
  this.timeout(30_000);
  let browser: Browser | undefined;
  let stack: Stack | undefined;

  before(async function () {
    // Chromium's first launch on a fresh machine (its profile and font caches made) under the rest of the suite's load can take longer than a test.
    this.timeout(90_000);
    browser = await launchChromium();
    mkdirSync(DOCS, { recursive: true });
  });

  after(async function () {
    await browser?.close();
  });

  beforeEach(async function () {
    // As npm start runs it: a read-only OAuth 1.0a app without e-mail.
    const emulator = await startXEmulator(EXAMPLE_EMULATOR_OPTIONS);
    const server = createServer();
    const port = await listen(server);
    // 127.0.0.1, as npm start prints: the host the browser uses must be the callback's host, or the session cookie is not sent.
    const publicURL = `http://127.0.0.1:${port}`;
    const sessions = new session.MemoryStore();
    const tokens = createMemoryTokenStore();
    const logs: string[] = [];
    const app = createExampleApp({
      ...emulatorConfig(emulator, publicURL, randomBytes(32).toString('base64url')),
      sessionStore: sessions,
      tokenStore: tokens,
      log: (line) => logs.push(line),
    });
    server.on('request', app);
    const context = await browser!.newContext({ viewport: VIEWPORT });
    const page = await context.newPage();
    const failedRequests: string[] = [];
    context.on('response', (response) => {
      if (response.status() >= 400) failedRequests.push(`${response.status()} ${response.url()}`);
    });
    stack = { emulator, server, sessions, tokens, context, page, publicURL, logs, failedRequests };
  });

  afterEach(async function () {
    if (!stack) return;
    const { context, server, emulator } = stack;
    stack = undefined;
    await context.close();
    await closeServer(server);
    await emulator.close();
  });

  /** Home page -> the button -> the emulator's consent page. */
  async function openConsent(s: Stack, button: 'Sign in with X' | 'Sign in with X (OAuth 1.0a)'): Promise<void> {
    await s.page.goto(s.publicURL);
    await s.page.getByRole('link', { name: button, exact: true }).click();
    const consentPath = button === 'Sign in with X' ? '/i/oauth2/authorize' : '/oauth/authenticate';
    await s.page.waitForURL((url) => url.href.startsWith(`${s.emulator.url}${consentPath}?`));
    await s.page.getByRole('button', { name: 'Authorize app' }).waitFor();
  }

  /** Signs in with OAuth 2.0 as the preselected user (Ada), up to the profile page. */
  async function signInWithOAuth2(s: Stack): Promise<void> {
    await openConsent(s, 'Sign in with X');
    await s.page.getByRole('button', { name: 'Authorize app' }).click();
    await s.page.waitForURL(`${s.publicURL}/profile`);
  }

  /** The expiry the profile page shows, from its `<time datetime>`. */
  async function shownExpiry(page: Page): Promise<{ at: Date; text: string }> {
    const expiry = page.getByTestId('expiry');
    const datetime = await expiry.locator('time').getAttribute('datetime');
    return { at: new Date(datetime ?? 'missing'), text: (await expiry.innerText()).trim() };
  }

  it('signs in with OAuth 2.0 through the consent page and shows the profile with the token expiry', async function () {
    const s = stack!;
    const ada = s.emulator.users[0];
    await s.page.goto(s.publicURL);
    expect(await s.page.getByRole('heading', { name: 'passport-x example' }).isVisible()).to.equal(true);
    expect(await s.page.getByRole('link', { name: 'Sign in with X (OAuth 1.0a)' }).isVisible()).to.equal(true);

    await openConsent(s, 'Sign in with X');
    const consent = s.page;
    expect(await consent.getByRole('heading', { level: 1 }).innerText()).to.equal(`Authorize ${s.emulator.apps.confidential.name} to access your account?`);
    // The scopes the app asks for, offline.access included (needed for "Refresh token").
    const permissions = await consent.getByRole('region', { name: /will be able to/ }).innerText();
    for (const scope of ['tweet.read', 'users.read', 'offline.access']) expect(permissions).to.contain(scope);
    expect(await consent.getByRole('radio', { name: new RegExp(ada.name) }).isChecked()).to.equal(true);
    if (UPDATE_SCREENSHOTS) await consent.screenshot({ path: join(DOCS, 'consent-oauth2.png') });

    const before = Date.now();
    await consent.getByRole('button', { name: 'Authorize app' }).click();
    await s.page.waitForURL(`${s.publicURL}/profile`);
    const after = Date.now();

    const page = s.page;
    expect(await page.getByRole('heading', { level: 2 }).innerText()).to.equal(ada.name);
    // Emulator mode: the @handle opens the emulator's profile page, not the real x.com.
    expect(await page.getByRole('link', { name: `@${ada.username}` }).getAttribute('href')).to.equal(`${s.emulator.url}/${ada.username}`);
    const picture = page.getByRole('img', { name: `Profile picture of @${ada.username}` });
    expect(await picture.getAttribute('src')).to.equal(ada.profileImageURL);
    // The picture really loaded (the emulator serves it; the page's CSP allows it).
    await page.waitForFunction(() => Array.from(document.images).every((img) => img.complete));
    expect(await picture.evaluate((img: HTMLImageElement) => img.naturalWidth)).to.be.greaterThan(0);
    expect(await page.getByText('OAuth 2.0 with PKCE').isVisible()).to.equal(true);

    // Expiry: two hours after the token was issued, shown in UTC.
    const expiry = await shownExpiry(page);
    expect(expiry.at.getTime()).to.be.within(before + TWO_HOURS_MS - 1000, after + TWO_HOURS_MS + 1000);
    expect(expiry.text).to.contain(formatUTC(expiry.at)).and.to.match(/\(in 2 hours\)$/);
    if (UPDATE_SCREENSHOTS) await page.screenshot({ path: join(DOCS, 'profile.png') });

    // The tokens stay server-side, in the token store (not even in the session): never on the page, never in a cookie.
    const user = await onlyStoredUser(s.sessions);
    expect(user).to.include({ signInMethod: 'oauth2', id: ada.id, username: ada.username });
    const tokens = (await storedTokens(s.tokens, ada.id))!;
    expect(s.emulator.isAccessTokenValid(tokens.accessToken)).to.equal(true);
    expect(JSON.stringify(user)).not.to.contain(tokens.accessToken).and.not.to.contain(tokens.refreshToken!);
    const html = await page.content();
    const cookies = JSON.stringify(await s.context.cookies());
    for (const token of [tokens.accessToken, tokens.refreshToken!]) {
      expect(html).not.to.contain(token);
      expect(cookies).not.to.contain(token);
    }
    const cookie = (await s.context.cookies()).find((c) => c.name === SESSION_COOKIE_NAME);
    expect(cookie).to.include({ httpOnly: true, sameSite: 'Lax', secure: false, domain: '127.0.0.1' });
    expect(s.logs).to.deep.equal([]);
    // Favicons included, nothing the browser asked for was missing.
    expect(s.failedRequests).to.deep.equal([]);
  });

  it('signs in with OAuth 1.0a through the consent page, as the user chosen there', async function () {
    const s = stack!;
    const grace = s.emulator.users[1]!;
    await openConsent(s, 'Sign in with X (OAuth 1.0a)');
    expect(await s.page.getByRole('heading', { level: 1 }).innerText()).to.equal(`Authorize ${s.emulator.apps.oauth1.name} to access your account?`);
    // The permission the app has: read only, and no e-mail address.
    const permissions = await s.page.getByRole('region', { name: /will be able to/ }).getByRole('listitem').allInnerTexts();
    expect(permissions).to.deep.equal(['Read your posts, your profile and the accounts you follow.']);
    await s.page.getByRole('radio', { name: new RegExp(grace.name) }).check();
    await s.page.getByRole('button', { name: 'Authorize app' }).click();
    await s.page.waitForURL(`${s.publicURL}/profile`);

    const page = s.page;
    expect(await page.getByRole('heading', { level: 2 }).innerText()).to.equal(grace.name);
    expect(await page.getByRole('link', { name: `@${grace.username}` }).isVisible()).to.equal(true);
    expect(await page.getByRole('img', { name: `Profile picture of @${grace.username}` }).getAttribute('src')).to.equal(grace.profileImageURL);
    expect(await page.getByText('OAuth 1.0a', { exact: true }).isVisible()).to.equal(true);
    expect(await page.getByText(/^never/).isVisible()).to.equal(true);
    // OAuth 1.0a tokens cannot be refreshed: no such button.
    expect(await page.getByRole('button', { name: 'Refresh token' }).count()).to.equal(0);

    const user = await onlyStoredUser(s.sessions);
    expect(user).to.include({ signInMethod: 'oauth1', id: grace.id, username: grace.username });
    expect(s.emulator.isAccessTokenValid(user.oauth1!.token)).to.equal(true);
    const html = await page.content();
    expect(html).not.to.contain(user.oauth1!.token).and.not.to.contain(user.oauth1!.tokenSecret);
  });

  for (const button of ['Sign in with X', 'Sign in with X (OAuth 1.0a)'] as const) {
    it(`comes back to the home page with "You cancelled the sign-in with X." after Cancel on the consent page (${button})`, async function () {
      const s = stack!;
      await openConsent(s, button);
      await s.page.getByRole('button', { name: 'Cancel' }).click();
      await s.page.waitForURL(`${s.publicURL}/`);

      expect(await s.page.getByRole('alert').innerText()).to.equal('You cancelled the sign-in with X.');
      expect(await s.page.getByRole('link', { name: button, exact: true }).isVisible()).to.equal(true);
      expect(await storedUsers(s.sessions)).to.deep.equal([]);
      // The message is shown once: a reload shows the plain home page.
      await s.page.reload();
      expect(await s.page.getByRole('alert').count()).to.equal(0);
      // And nobody is signed in.
      await s.page.goto(`${s.publicURL}/profile`);
      expect(s.page.url()).to.equal(`${s.publicURL}/?notice=sign-in-first`);
      expect(await s.page.getByRole('status').innerText()).to.equal('Sign in first to see your profile.');
    });
  }

  it('comes back to the home page with a sentence for the person when X refuses to start the sign-in, X\'s reason in the log', async function () {
    const s = stack!;
    s.emulator.failNext('/oauth/request_token', { status: 401, body: { errors: [{ code: 32, message: 'Could not authenticate you.' }] } });
    await s.page.goto(s.publicURL);
    await s.page.getByRole('link', { name: 'Sign in with X (OAuth 1.0a)' }).click();
    await s.page.waitForURL(`${s.publicURL}/`);
    const alert = await s.page.getByRole('alert').innerText();
    // X's code 32: the app's keys. Signing in again cannot cure it: the site is not set up correctly.
    expect(alert).to.equal('Sign-in with X failed: Sign-in with X is not set up correctly on this site.');
    expect(s.logs).to.have.length(1);
    expect(s.logs[0]).to.contain('Sign-in with x-oauth1 failed').and.to.contain('HTTP 401').and.to.contain('Could not authenticate you.');
    // The consumer secret is never in what the user or the log sees.
    const { consumerSecret } = s.emulator.apps.oauth1;
    expect(await s.page.content()).not.to.contain(consumerSecret);
    expect(s.logs[0]).not.to.contain(consumerSecret);
  });

  it('refreshes the access token: a new expiry, and X rotated the refresh token', async function () {
    const s = stack!;
    await signInWithOAuth2(s);
    const first = await shownExpiry(s.page);
    const before = (await storedTokens(s.tokens, s.emulator.users[0].id))!;
    // The expiry is shown to the second: let one pass, so the new one differs on the page.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, first.at.getTime() - TWO_HOURS_MS + 1100 - Date.now())));

    await s.page.getByRole('button', { name: 'Refresh token' }).click();
    await s.page.waitForURL(`${s.publicURL}/profile`);
    expect(await s.page.getByRole('status').innerText()).to.equal('X issued a new access token (and a new refresh token).');
    const second = await shownExpiry(s.page);
    expect(second.at.getTime()).to.be.greaterThan(first.at.getTime());
    expect(second.text).not.to.equal(first.text);
    expect(second.text).to.contain(formatUTC(second.at));

    const after = (await storedTokens(s.tokens, s.emulator.users[0].id))!;
    expect(after.accessToken).not.to.equal(before.accessToken);
    expect(s.emulator.isAccessTokenValid(after.accessToken)).to.equal(true);
    expect(s.emulator.isRefreshTokenValid(before.refreshToken!)).to.equal(false);
    expect(s.emulator.isRefreshTokenValid(after.refreshToken!)).to.equal(true);
    // Still signed in, with the same session user.
    expect((await onlyStoredUser(s.sessions)).id).to.equal(s.emulator.users[0].id);
    expect(s.logs).to.deep.equal([]);
  });

  it('shows X\'s refusal of a refresh on the profile page, drops the dead tokens, and stays signed in', async function () {
    const s = stack!;
    await signInWithOAuth2(s);
    const ada = s.emulator.users[0];
    s.emulator.failNext('/2/oauth2/token', {
      status: 400,
      body: { error: 'invalid_request', error_description: 'Value passed for the token was invalid.' },
    });
    await s.page.getByRole('button', { name: 'Refresh token' }).click();
    await s.page.waitForURL(`${s.publicURL}/profile`);
    const alert = await s.page.getByRole('alert').innerText();
    expect(alert).to.equal('Refreshing the access token failed: X refused the refresh token (it was used, revoked or has expired). Sign in again to get new tokens.');
    // X refused the refresh token: XTokenManager dropped the pair (no retry with it); the person is still signed in to the app.
    expect(await storedTokens(s.tokens, ada.id)).to.equal(undefined);
    expect(await s.page.getByRole('heading', { level: 2 }).innerText()).to.equal(ada.name);
    expect((await s.page.getByTestId('expiry').innerText()).trim()).to.equal('no token: sign in again to get a new one');
    expect(await s.page.getByRole('button', { name: 'Refresh token' }).count()).to.equal(0);
    expect(s.logs).to.have.length(1);
    expect(s.logs[0]).to.contain('Refreshing the access token failed').and.to.contain('X_REFRESH_TOKEN_REVOKED').and.to.contain('Value passed for the token was invalid.');
  });

  it('refreshes the token on the profile page when it is about to expire: one refresh for parallel page loads', async function () {
    const s = stack!;
    await signInWithOAuth2(s);
    const ada = s.emulator.users[0];
    const before = (await storedTokens(s.tokens, ada.id))!;
    // The stored token now expires in 30 s: within the manager's minute, so the next page load refreshes it.
    await s.tokens.set(ada.id, { ...before, expiresAt: new Date(Date.now() + 30_000) });
    const from = s.emulator.requests.length;
    const pages = await Promise.all([1, 2, 3].map(() => s.context.request.get(`${s.publicURL}/profile`)));
    for (const page of pages) expect(page.status()).to.equal(200);
    const refreshes = s.emulator.requests.slice(from).filter((r) => r.path === '/2/oauth2/token');
    expect(refreshes.map((r) => r.status), 'one refresh for three page loads').to.deep.equal([200]);
    const after = (await storedTokens(s.tokens, ada.id))!;
    expect(after.accessToken).not.to.equal(before.accessToken);
    expect(s.emulator.isAccessTokenValid(after.accessToken)).to.equal(true);
    expect(s.emulator.isRefreshTokenValid(before.refreshToken!)).to.equal(false);
    await s.page.reload();
    expect((await shownExpiry(s.page)).text).to.match(/\(in 2 hours\)$/);
    expect(s.logs).to.deep.equal([]);
  });

  it('signs out (OAuth 2.0) with a POST that revokes both tokens at X, then destroys the session', async function () {
    const s = stack!;
    await signInWithOAuth2(s);
    const oauth2 = await storedTokens(s.tokens, s.emulator.users[0].id);
    const usersMe = (): Promise<Response> => fetch(`${s.emulator.baseURL}/2/users/me`, { headers: { authorization: `Bearer ${oauth2!.accessToken}` } });
    expect((await usersMe()).status).to.equal(200);

    await s.page.getByRole('button', { name: 'Sign out' }).click();
    await s.page.waitForURL(`${s.publicURL}/?notice=signed-out`);
    expect(await s.page.getByRole('status').innerText()).to.equal('You are signed out, and X has revoked the token.');
    expect(await s.page.getByRole('link', { name: 'Sign in with X', exact: true }).isVisible()).to.equal(true);

    // X now refuses the old tokens.
    expect(s.emulator.isAccessTokenValid(oauth2!.accessToken)).to.equal(false);
    expect(s.emulator.isRefreshTokenValid(oauth2!.refreshToken!)).to.equal(false);
    expect((await usersMe()).status).to.equal(401);
    // The session and the tokens are gone, server-side and in the browser.
    expect(await storedUsers(s.sessions)).to.deep.equal([]);
    expect(await storedTokens(s.tokens, s.emulator.users[0].id)).to.equal(undefined);
    expect((await s.context.cookies()).map((c) => c.name)).not.to.include(SESSION_COOKIE_NAME);
    expect(s.logs).to.deep.equal([]);
  });

  it('signs out (OAuth 1.0a) by invalidating the token at X', async function () {
    const s = stack!;
    await openConsent(s, 'Sign in with X (OAuth 1.0a)');
    await s.page.getByRole('button', { name: 'Authorize app' }).click();
    await s.page.waitForURL(`${s.publicURL}/profile`);
    const { oauth1 } = await onlyStoredUser(s.sessions);
    const { consumerKey, consumerSecret } = s.emulator.apps.oauth1;
    const verifyCredentials = (): Promise<Response> => {
      const url = `${s.emulator.baseURL}/1.1/account/verify_credentials.json`;
      const authorization = oauth1AuthorizationHeader({ method: 'GET', url, consumerKey, consumerSecret, token: oauth1!.token, tokenSecret: oauth1!.tokenSecret });
      return fetch(url, { headers: { authorization } });
    };
    expect((await verifyCredentials()).status).to.equal(200);

    await s.page.getByRole('button', { name: 'Sign out' }).click();
    await s.page.waitForURL(`${s.publicURL}/?notice=signed-out`);
    expect(await s.page.getByRole('status').innerText()).to.equal('You are signed out, and X has revoked the token.');

    expect(s.emulator.isAccessTokenValid(oauth1!.token)).to.equal(false);
    const refused = await verifyCredentials();
    expect(refused.status).to.equal(401);
    expect(await refused.json()).to.have.nested.property('errors[0].code', 89);
    expect(await storedUsers(s.sessions)).to.deep.equal([]);
  });

  it('still signs out when X fails to revoke the token, and says so', async function () {
    const s = stack!;
    await signInWithOAuth2(s);
    s.emulator.failNext('/2/oauth2/revoke', { status: 503, body: { title: 'Service Unavailable', detail: 'Service Unavailable', type: 'about:blank', status: 503 } });
    await s.page.getByRole('button', { name: 'Sign out' }).click();
    await s.page.waitForURL(`${s.publicURL}/?notice=signed-out-revoke-failed`);
    expect(await s.page.getByRole('alert').innerText()).to.contain('You are signed out of this app, but X could not revoke the token');
    expect(await storedUsers(s.sessions)).to.deep.equal([]);
    expect(s.logs).to.have.length(1);
    expect(s.logs[0]).to.contain('Revoking the token on sign-out failed');
  });

  it('refuses a sign-out form that does not carry this session\'s form token', async function () {
    const s = stack!;
    await signInWithOAuth2(s);
    // Same browser, same cookie, but no _csrf field: as a form on another page of this site would post.
    const response = await s.page.request.post(`${s.publicURL}/logout`, { form: { _csrf: 'not-the-token' }, maxRedirects: 0 });
    expect(response.status()).to.equal(403);
    expect(await response.text()).to.contain('This form has expired or did not come from this app.');
    await s.page.reload();
    expect(s.page.url()).to.equal(`${s.publicURL}/profile`);
    expect(await storedUsers(s.sessions)).to.have.length(1);
  });

  it('sends a sign-in started at localhost to 127.0.0.1 first, so it completes', async function () {
    const s = stack!;
    const localhost = s.publicURL.replace('127.0.0.1', 'localhost');
    await s.page.goto(localhost);
    await s.page.getByRole('link', { name: 'Sign in with X', exact: true }).click();
    await s.page.waitForURL((url) => url.href.startsWith(`${s.emulator.url}/i/oauth2/authorize?`));
    expect(new URL(s.page.url()).searchParams.get('redirect_uri')).to.equal(`${s.publicURL}/auth/x/callback`);
    await s.page.getByRole('button', { name: 'Authorize app' }).click();
    await s.page.waitForURL(`${s.publicURL}/profile`);
    expect(await s.page.getByRole('heading', { level: 2 }).innerText()).to.equal(s.emulator.users[0].name);
  });

  it('opens the emulator\'s profile from the @handle, and comes back to the app from it', async function () {
    const s = stack!;
    const ada = s.emulator.users[0];
    await signInWithOAuth2(s);
    await s.page.getByRole('link', { name: `@${ada.username}` }).click();
    await s.page.waitForURL(`${s.emulator.url}/${ada.username}`);
    expect(await s.page.getByRole('heading', { level: 1 }).innerText()).to.equal(ada.name);
    await s.page.getByRole('link', { name: '← Back to the app' }).click();
    await s.page.waitForURL(`${s.publicURL}/`);
    expect(await s.page.getByRole('link', { name: 'Go to your profile' }).isVisible()).to.equal(true);
    expect(s.failedRequests).to.deep.equal([]);
  });

  it('offers a way back from the emulator\'s "no longer valid" page (the consent page reopened after the sign-in)', async function () {
    const s = stack!;
    await openConsent(s, 'Sign in with X (OAuth 1.0a)');
    await s.page.getByRole('button', { name: 'Authorize app' }).click();
    await s.page.waitForURL(`${s.publicURL}/profile`);
    // Back in history: the consent page of a request token that is used up.
    await s.page.goBack();
    expect(await s.page.getByRole('heading', { level: 1 }).innerText()).to.equal('This page is no longer valid');
    await s.page.getByRole('link', { name: '← Back to the app' }).click();
    await s.page.waitForURL(`${s.publicURL}/`);
    expect(await s.page.getByRole('link', { name: 'Go to your profile' }).isVisible()).to.equal(true);
  });

  for (const viewport of [PHONE, NARROW_PHONE]) {
    it(`fits a ${viewport.width} px wide phone: no page scrolls sideways, long IDs wrap`, async function () {
      const s = stack!;
      await s.page.setViewportSize(viewport);
      const wide: string[] = [];
      const check = async (what: string): Promise<void> => {
        const overflow = await scrollsSideways(s.page);
        if (overflow) wide.push(`${what}: ${overflow.scrollWidth} px wide in ${overflow.innerWidth} px`);
      };
      await s.page.goto(s.publicURL);
      await check('home page');
      await openConsent(s, 'Sign in with X (OAuth 1.0a)');
      await check('OAuth 1.0a consent page');
      await s.page.getByRole('button', { name: 'Cancel' }).click();
      await s.page.waitForURL(`${s.publicURL}/`);
      await check('home page with a message');
      await openConsent(s, 'Sign in with X');
      await check('OAuth 2.0 consent page');
      await s.page.getByRole('button', { name: 'Authorize app' }).click();
      await s.page.waitForURL(`${s.publicURL}/profile`);
      await check('profile page');
      // The 19-digit user ID wraps inside the page.
      const id = s.page.getByText(s.emulator.users[0].id, { exact: true });
      const box = await id.boundingBox();
      expect(box, 'the user ID is shown').to.not.equal(null);
      expect(box!.x + box!.width).to.be.at.most(viewport.width);
      await s.page.goto(`${s.emulator.url}/${s.emulator.users[0].username}`);
      await check('emulator profile page');
      await s.page.goto(`${s.emulator.url}/oauth/authenticate?oauth_token=used-up`);
      await check('emulator "no longer valid" page');
      expect(wide).to.deep.equal([]);
    });
  }
});
