// What the compatibility tests (compat-*.e2e.test.ts) share: the minimal app every framework
// implements, the strategies built for the X emulator, and a sign-in driven through the emulator.
//
// Every minimal app has the same routes, wired the way each framework's Passport integration
// documents (passport.authenticate with successRedirect / failureRedirect, or its equivalent), and
// the strategies are passport-x's, unchanged:
//   GET /auth/x, /auth/x/callback                 XOAuth2PkceStrategy
//   GET /auth/x/oauth1, /auth/x/oauth1/callback   XOAuth1Strategy
//   GET /me                                      {"user": <the session's user> | null}
//   GET /failed                                  {"failed": true}
//   an error                                     HTTP 500 {"error": <its code>}
import { expect } from 'chai';
import { XOAuth1Strategy } from '../../lib/oauth1-strategy';
import { XOAuth2PkceStrategy } from '../../lib/oauth2-strategy';
import type { XVerifyCallback } from '../../lib/passport-base';
import type { XProfile } from '../../lib/profile';
import type { XEmulator, XEmulatorRequestRecord } from '../../lib/testing';
import { Browser, answerConsent, type Page } from '../support/browserless';

/** The minimal apps' routes. */
export const COMPAT_ROUTES = Object.freeze({
  oauth2Start: '/auth/x',
  oauth2Callback: '/auth/x/callback',
  oauth1Start: '/auth/x/oauth1',
  oauth1Callback: '/auth/x/oauth1/callback',
  me: '/me',
  failed: '/failed',
});

/** The user the minimal apps keep in the session. */
export interface CompatUser {
  protocol: 'oauth2' | 'oauth1';
  id: string;
  username: string;
}

/** Whether a value read back from a session is a {@link CompatUser}. */
export function isCompatUser(value: unknown): value is CompatUser {
  if (typeof value !== 'object' || value === null) return false;
  const u = value as Record<string, unknown>;
  return (u.protocol === 'oauth2' || u.protocol === 'oauth1') && typeof u.id === 'string' && typeof u.username === 'string';
}

/**
 * The OAuth 2.0 strategy's options for the emulator's confidential client, with its callback at
 * `origin`, which it registers with the emulator (X matches callback URLs exactly). With
 * `relative`, the strategy is given the callback's path only, resolved against each request.
 */
export function oauth2Options(x: XEmulator, origin: string, name = 'x-oauth2', relative = false) {
  x.addCallbackURL(`${origin}${COMPAT_ROUTES.oauth2Callback}`, 'confidential');
  return {
    name,
    clientID: x.apps.confidential.clientID,
    clientSecret: x.apps.confidential.clientSecret,
    callbackURL: relative ? COMPAT_ROUTES.oauth2Callback : `${origin}${COMPAT_ROUTES.oauth2Callback}`,
    baseURL: x.baseURL,
    authorizationURL: x.authorizationURL,
  };
}

/** The OAuth 1.0a strategy's options for the emulator's app, with its callback at `origin`, which it registers with the emulator; `relative` as in {@link oauth2Options}. */
export function oauth1Options(x: XEmulator, origin: string, name = 'x-oauth1', relative = false) {
  x.addCallbackURL(`${origin}${COMPAT_ROUTES.oauth1Callback}`, 'oauth1');
  return {
    name,
    consumerKey: x.apps.oauth1.consumerKey,
    consumerSecret: x.apps.oauth1.consumerSecret,
    callbackURL: relative ? COMPAT_ROUTES.oauth1Callback : `${origin}${COMPAT_ROUTES.oauth1Callback}`,
    baseURL: x.baseURL,
  };
}

/** Both strategies, for the emulator and an app at `origin`, each verify callback making a {@link CompatUser}. */
export function compatStrategies(x: XEmulator, origin: string, relative = false): { oauth2: XOAuth2PkceStrategy; oauth1: XOAuth1Strategy } {
  return {
    oauth2: new XOAuth2PkceStrategy(oauth2Options(x, origin, 'x-oauth2', relative), (_accessToken: string, _refreshToken: string | undefined, profile: XProfile, done: XVerifyCallback) =>
      done(null, { protocol: 'oauth2', id: profile.id, username: profile.username } satisfies CompatUser),
    ),
    oauth1: new XOAuth1Strategy(oauth1Options(x, origin, 'x-oauth1', relative), (_token: string, _tokenSecret: string, profile: XProfile, done: XVerifyCallback) =>
      done(null, { protocol: 'oauth1', id: profile.id, username: profile.username } satisfies CompatUser),
    ),
  };
}

/** What a sign-in through a minimal app ended on. */
export interface CompatSignIn {
  /** The page after the callback's redirects. */
  page: Page;
  /** The emulator's requests during the sign-in. */
  requests: XEmulatorRequestRecord[];
}

/**
 * Signs in through the minimal app at `origin` over `protocol`, as `userId` on the emulator's
 * consent page, and checks that it ends on `/me` showing that user, after X was asked for a token
 * exactly once; then that a browser without the session's cookie is not signed in.
 */
export async function expectSignIn(x: XEmulator, origin: string, protocol: 'oauth2' | 'oauth1', userId: string): Promise<CompatSignIn> {
  const from = x.requests.length;
  const browser = new Browser();
  const start = protocol === 'oauth2' ? COMPAT_ROUTES.oauth2Start : COMPAT_ROUTES.oauth1Start;
  const callback = protocol === 'oauth2' ? COMPAT_ROUTES.oauth2Callback : COMPAT_ROUTES.oauth1Callback;
  const consent = await browser.open(`${origin}${start}`);
  expect(consent.url.startsWith(`${x.url}/`), `the start redirects to the emulator (ended on ${consent.url}, HTTP ${consent.status}: ${consent.body.slice(0, 300)})`).to.equal(true);
  const page = await answerConsent(browser, consent, { userId });
  const requests = x.requests.slice(from);

  expect(page.hops.map((h) => new URL(h.url).pathname), 'went through the callback').to.include(callback);
  expect(page.url, `ended on /me (HTTP ${page.status}: ${page.body.slice(0, 300)})`).to.equal(`${origin}${COMPAT_ROUTES.me}`);
  const user = x.users.find((u) => u.id === userId)!;
  expect(JSON.parse(page.body)).to.deep.equal({ user: { protocol, id: user.id, username: user.username } });
  const exchange = protocol === 'oauth2' ? '/2/oauth2/token' : '/oauth/access_token';
  const profile = protocol === 'oauth2' ? '/2/users/me' : '/1.1/account/verify_credentials.json';
  expect(requests.filter((r) => r.path === exchange).map((r) => r.status), `one ${exchange}`).to.deep.equal([200]);
  expect(requests.filter((r) => r.path === profile).map((r) => r.status), `one ${profile}`).to.deep.equal([200]);

  // The session is what signs the user in: another browser is not.
  const stranger = await new Browser().open(`${origin}${COMPAT_ROUTES.me}`);
  expect(JSON.parse(stranger.body)).to.deep.equal({ user: null });
  return { page, requests };
}

/**
 * Starts a sign-in over `protocol` and stops at the redirect to the callback, then delivers that
 * callback twice in the same browser: the first signs in, the replay must not reach X again and
 * must end on /failed (the pending sign-in was used up).
 */
export async function expectReplayRefused(x: XEmulator, origin: string, protocol: 'oauth2' | 'oauth1'): Promise<void> {
  const browser = new Browser();
  const start = protocol === 'oauth2' ? COMPAT_ROUTES.oauth2Start : COMPAT_ROUTES.oauth1Start;
  const callback = protocol === 'oauth2' ? COMPAT_ROUTES.oauth2Callback : COMPAT_ROUTES.oauth1Callback;
  const consent = await browser.open(`${origin}${start}`);
  const atCallback = await answerConsent(browser, consent, { stopBefore: (url) => url.pathname === callback });
  expect(atCallback.stoppedBefore).to.be.a('string');
  const first = await browser.open(atCallback.stoppedBefore!);
  expect(first.url).to.equal(`${origin}${COMPAT_ROUTES.me}`);

  const from = x.requests.length;
  const replay = await browser.open(atCallback.stoppedBefore!);
  expect(replay.url, 'the replayed callback fails').to.equal(`${origin}${COMPAT_ROUTES.failed}`);
  const exchange = protocol === 'oauth2' ? '/2/oauth2/token' : '/oauth/access_token';
  expect(x.requests.slice(from).filter((r) => r.path === exchange), 'the replay is refused before X is asked').to.deep.equal([]);
}

/**
 * Starts a sign-in over `protocol`, makes X fail the token exchange once (HTTP 503), delivers the
 * callback (the sign-in fails), then delivers it again: the pending sign-in was used up by the
 * first attempt, so the second must end on /failed without asking X (a pending sign-in is single
 * use even when no login follows, e.g. when the exchange fails or the user cancels).
 */
export async function expectSingleUseAfterFailedExchange(x: XEmulator, origin: string, protocol: 'oauth2' | 'oauth1'): Promise<void> {
  const browser = new Browser();
  const start = protocol === 'oauth2' ? COMPAT_ROUTES.oauth2Start : COMPAT_ROUTES.oauth1Start;
  const callback = protocol === 'oauth2' ? COMPAT_ROUTES.oauth2Callback : COMPAT_ROUTES.oauth1Callback;
  const exchange = protocol === 'oauth2' ? '/2/oauth2/token' : '/oauth/access_token';
  const consent = await browser.open(`${origin}${start}`);
  const atCallback = await answerConsent(browser, consent, { stopBefore: (url) => url.pathname === callback });
  expect(atCallback.stoppedBefore).to.be.a('string');

  x.failNext(exchange, { status: 503 });
  let from = x.requests.length;
  const first = await browser.open(atCallback.stoppedBefore!);
  expect(first.url, 'the sign-in fails when X does').to.not.equal(`${origin}${COMPAT_ROUTES.me}`);
  expect(x.requests.slice(from).filter((r) => r.path === exchange).map((r) => r.status)).to.deep.equal([503]);

  from = x.requests.length;
  const again = await browser.open(atCallback.stoppedBefore!);
  expect(again.url, `the second delivery fails (HTTP ${again.status}: ${again.body.slice(0, 300)})`).to.equal(`${origin}${COMPAT_ROUTES.failed}`);
  expect(x.requests.slice(from).filter((r) => r.path === exchange), 'the second delivery is refused before X is asked').to.deep.equal([]);
}
