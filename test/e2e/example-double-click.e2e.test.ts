// A double click on the callback, in the example app (Express, express-session, passport 0.7) on
// the X emulator: the browser abandons the first request, which still completes at X and signs the
// person in, into a regenerated session whose cookie the browser never reads; the second copy is
// refused (X_SIGN_IN_IN_PROGRESS). X is asked once, and the person is told what to do through the
// URL, not through the session the first request's login replaced.
import { expect } from 'chai';
import { request } from 'node:http';
import { SESSION_COOKIE_NAME } from '../../example-app/app';
import { NOTICES } from '../../example-app/messages';
import { ROUTES } from '../../example-app/views';
import { Browser, answerConsent, linkURL, textOf } from '../support/browserless';
import { exampleAppOnEmulator } from '../support/example-stack';
import { MemoryReplayGuard, type XReplayGuard } from '../../lib/index';

/** A GET with this cookie; `abandonWhen` abandons it as a browser does a navigation it replaces. */
function get(url: string, cookie: string, abandonWhen?: Promise<unknown>): Promise<{ status: number; location: string | undefined } | 'abandoned'> {
  return new Promise((resolve) => {
    const req = request(url, { headers: { cookie } }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, location: res.headers.location });
    });
    req.on('error', () => resolve('abandoned'));
    void abandonWhen?.then(() => req.destroy());
    req.end();
  });
}

describe('example app: a double click on the callback', function () {
  // The app's replay guard, which says when the first copy has claimed the callback: the second
  // click is sent then, not after a guessed delay.
  let claimed: () => void = () => undefined;
  const guard = new MemoryReplayGuard();
  const replayGuard: XReplayGuard = {
    claim: async (key, ttlMs) => {
      const first = await guard.claim(key, ttlMs);
      claimed();
      return first;
    },
  };
  const stack = exampleAppOnEmulator('double-click-session-secret-of-40-chars!', { configure: (config) => ({ ...config, replayGuard }) });

  it('asks X once, and sends the refused copy to a notice that tells the person what to do', async function () {
    const { x, server, logged } = stack;
    const browser = new Browser();
    const home = await browser.open(`${server.origin}${ROUTES.home}`);
    const atCallback = await answerConsent(browser, await browser.open(linkURL(home, 'Sign in with X')), { stopBefore: (url) => url.pathname === ROUTES.oauth2Callback });
    const cookie = `${SESSION_COOKIE_NAME}=${browser.cookies('127.0.0.1').get(SESSION_COOKIE_NAME)!}`;
    // X answers the token request normally, 400 ms late: the second click comes while the first waits.
    x.failNext('/2/oauth2/token', { delayMs: 400 });
    const from = x.requests.length;
    const firstClaim = new Promise<void>((resolve) => (claimed = resolve));
    // The browser leaves the first request once it is under way (its claim taken), for the second click.
    const first = get(atCallback.stoppedBefore!, cookie, firstClaim);
    await firstClaim;
    const second = await get(atCallback.stoppedBefore!, cookie);
    expect(await first).to.equal('abandoned');
    expect(second).to.deep.equal({ status: 302, location: `${ROUTES.home}?notice=sign-in-in-progress` });
    // The first request still completes at X: once. (The emulator logs a request when it answers.)
    const tokenRequests = () => x.requests.slice(from).filter((r) => r.path === '/2/oauth2/token');
    for (const until = Date.now() + 10_000; tokenRequests().length === 0 && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 200)); // time for a second exchange, were there one
    expect(tokenRequests().map((r) => r.status)).to.deep.equal([200]);
    const page = await browser.open(`${server.origin}${second !== 'abandoned' ? second.location : ''}`);
    expect(textOf(page.body)).to.include(NOTICES['sign-in-in-progress']!.text);
    expect(logged.join('\n')).to.include('X_SIGN_IN_IN_PROGRESS');
  });
});
