// The example app keeps one X grant per user: a sign-in in a second browser revokes, at X, the
// tokens of the user's sign-in in the first, instead of leaving them live and unknown to the app;
// both sessions then use the new grant, and signing out in either revokes it.
import { expect } from 'chai';
import { createMemoryTokenStore } from '../../example-app/tokens';
import { ROUTES } from '../../example-app/views';
import { Browser, answerConsent, linkURL, readForms, textOf } from '../support/browserless';
import { exampleAppOnEmulator } from '../support/example-stack';
import type { XStoredTokenSet } from '../../lib';

describe('example app: one user signing in from two browsers (one grant per user)', function () {
  const tokenStore = createMemoryTokenStore();
  const stack = exampleAppOnEmulator('two-browsers-session-secret-of-40-chars', { configure: (config) => ({ ...config, tokenStore }) });

  async function signIn(browser: Browser): Promise<void> {
    const { x, server } = stack;
    const home = await browser.open(`${server.origin}${ROUTES.home}`);
    const back = await answerConsent(browser, await browser.open(linkURL(home, 'Sign in with X')), { userId: x.users[0].id });
    expect(back.url).to.equal(`${server.origin}${ROUTES.profile}`);
  }

  it('revokes the first browser\'s tokens at X when the second signs in, and keeps the second\'s', async function () {
    const { x, server, logged } = stack;
    const ada = x.users[0];
    const first = new Browser();
    await signIn(first);
    const firstTokens = (await tokenStore.get(ada.id)) as XStoredTokenSet;
    expect(x.isRefreshTokenValid(firstTokens.refreshToken!)).to.equal(true);

    const second = new Browser();
    await signIn(second);
    const secondTokens = (await tokenStore.get(ada.id)) as XStoredTokenSet;
    expect(secondTokens.accessToken).to.not.equal(firstTokens.accessToken);
    // The first grant is no longer live at X: nothing the app forgot about can still mint tokens.
    expect(x.isRefreshTokenValid(firstTokens.refreshToken!)).to.equal(false);
    expect(x.isAccessTokenValid(firstTokens.accessToken)).to.equal(false);
    expect(x.isAccessTokenValid(secondTokens.accessToken)).to.equal(true);
    // One grant per user: both browsers' sessions use the newest tokens.
    for (const browser of [first, second]) expect(textOf((await browser.open(`${server.origin}${ROUTES.profile}`)).body)).to.not.contain('no token');
    // Signing out in one revokes that grant: the other is told to sign in again for tokens.
    await first.submit(await first.open(`${server.origin}${ROUTES.profile}`), { button: 'Sign out' });
    expect(x.isRefreshTokenValid(secondTokens.refreshToken!)).to.equal(false);
    expect(textOf((await second.open(`${server.origin}${ROUTES.profile}`)).body)).to.contain('no token: sign in again');
    expect(logged).to.deep.equal([]);
  });

  it('sends a reload of the callback after signing in to the profile, saying the person is still signed in (not "Sign in again")', async function () {
    const { x, server, logged } = stack;
    const browser = new Browser();
    const home = await browser.open(`${server.origin}${ROUTES.home}`);
    const back = await answerConsent(browser, await browser.open(linkURL(home, 'Sign in with X')), { userId: x.users[0].id });
    const callback = back.hops.find((h) => new URL(h.url).pathname === ROUTES.oauth2Callback)!.url;
    logged.length = 0;
    const reloaded = await browser.open(callback);
    expect(reloaded.url).to.equal(`${server.origin}${ROUTES.profile}`);
    expect(textOf(reloaded.body)).to.not.match(/Sign in again|no sign-in in progress/i);
    expect(textOf(reloaded.body)).to.contain('That sign-in link was used already or has expired: you are still signed in as @ada.');
    // The developer still sees what happened.
    expect(logged.join('\n')).to.match(/X_(SIGN_IN_IN_PROGRESS|NO_PENDING_SIGN_IN|CALLBACK_UNKNOWN)/);
  });

  it('gives a new form token at each sign-in: a page shown before it (another account\'s) can no longer post', async function () {
    const { x, server } = stack;
    const browser = new Browser();
    await signIn(browser);
    const before = await browser.open(`${server.origin}${ROUTES.profile}`);
    const formToken = (page: typeof before): string => readForms(page.body, page.url).find((f) => f.buttons.some((b) => b.text === 'Sign out'))!.fields.find(([name]) => name === '_csrf')![1];
    const old = formToken(before);
    // Signed in again in the same browser (another account), without signing out: the start route directly.
    const back = await answerConsent(browser, await browser.open(`${server.origin}${ROUTES.oauth2Start}`), { userId: x.users[1]!.id });
    expect(back.url).to.equal(`${server.origin}${ROUTES.profile}`);
    expect(formToken(back)).to.not.equal(old);
    const stale = await browser.submit(before, { button: 'Sign out' });
    expect(stale.status).to.equal(403);
    // The new page's form works.
    const signedOut = await browser.submit(back, { button: 'Sign out' });
    expect(signedOut.url).to.equal(`${server.origin}${ROUTES.home}?notice=signed-out`);
  });
});
