// The emulator's OAuth 1.0a endpoints, over real HTTP: each check refuses the wrong request in
// X's format and accepts the right one. Driven with passport-x's own endpoint functions where
// they are the natural client, and with fetch (signed by lib/oauth1-signature.ts) to send what
// they never would.
import { expect } from 'chai';
import {
  fetchAccessToken,
  fetchRequestToken,
  fetchReverseAuthParameters,
  fetchVerifyCredentials,
  invalidateOAuth1Token,
  xEndpoints,
  type OAuth1Consumer,
} from '../../lib/endpoints';
import { XAPIError, XCreditsDepletedError, XRateLimitError, XUsageCapError } from '../../lib/errors';
import { XOAuth1Strategy, type XOAuth1StrategyOptions } from '../../lib/oauth1-strategy';
import type { XVerifyCallback } from '../../lib/passport-base';
import type { XProfile } from '../../lib/profile';
import { startXEmulator, type XEmulator } from '../../lib/testing';
import { fakeRequest, runStrategy } from '../support/passport-harness';
import { parseOAuthHeader } from '../../lib/testing/oauth1-verifier';
import { createNonce, hmacSha1Signature, percentEncode, signatureBaseString } from '../../lib/oauth1-signature';
import { CALLBACK, consent, expectXError, loadConsentForm, signedFetch, signInThrough, submitConsentForm, TestClock } from './emulator-client';

describe('emulator: OAuth 1.0a', () => {
  let x: XEmulator;
  let urls: ReturnType<typeof xEndpoints>;
  let consumer: OAuth1Consumer;

  beforeEach(async () => {
    x = await startXEmulator();
    urls = xEndpoints(x.baseURL);
    consumer = { consumerKey: x.apps.oauth1.consumerKey, consumerSecret: x.apps.oauth1.consumerSecret };
  });
  afterEach(() => x.close());

  /** Steps 1 and 2: a request token authorized on the consent page. */
  async function authorizedRequestToken(userId?: string, mode: 'authenticate' | 'authorize' = 'authenticate') {
    const requestToken = await fetchRequestToken(urls.requestToken, consumer, CALLBACK, {}, {});
    const location = await consent(`${urls[mode]}?oauth_token=${encodeURIComponent(requestToken.token)}`, 'authorize', userId);
    return { requestToken, location, verifier: location.searchParams.get('oauth_verifier')! };
  }

  /** Steps 1 to 3: an access token for a user. */
  async function signIn(userId?: string) {
    const { requestToken, verifier } = await authorizedRequestToken(userId);
    return fetchAccessToken(urls.accessToken, consumer, requestToken, verifier, {});
  }

  describe('the three-legged flow', () => {
    it('signs a user in end to end: request token, consent form, access token, profile, invalidation', async () => {
      const requestToken = await fetchRequestToken(urls.requestToken, consumer, CALLBACK, {}, {});
      expect(requestToken.params.oauth_callback_confirmed).to.equal('true');

      const pageURL = `${urls.authenticate}?oauth_token=${encodeURIComponent(requestToken.token)}`;
      const form = await loadConsentForm(pageURL);
      expect(form.hidden).to.deep.equal({ oauth_token: requestToken.token });
      expect(form.users.map((u) => u.id)).to.deep.equal(x.users.map((u) => u.id));
      expect(form.users[0]!.checked, 'the first user is preselected').to.equal(true);
      const answer = await submitConsentForm(pageURL, form, 'authorize', x.users[1]!.id);
      expect(answer.status).to.equal(302);
      const location = new URL(answer.headers.get('location')!);
      expect(`${location.origin}${location.pathname}`).to.equal(CALLBACK);
      expect(location.searchParams.get('oauth_token')).to.equal(requestToken.token);
      const verifier = location.searchParams.get('oauth_verifier')!;
      expect(verifier).to.be.a('string').and.not.equal('');

      const access = await fetchAccessToken(urls.accessToken, consumer, requestToken, verifier, {});
      expect(access.userId).to.equal(x.users[1]!.id);
      expect(access.screenName).to.equal(x.users[1]!.username);
      expect(access.token.startsWith(`${x.users[1]!.id}-`), 'X access tokens start with the user ID').to.equal(true);
      expect(x.isAccessTokenValid(access.token)).to.equal(true);

      const { json } = await fetchVerifyCredentials(urls.verifyCredentials, consumer, access, {});
      expect(json.id_str).to.equal(x.users[1]!.id);
      expect(json.screen_name).to.equal('grace');

      await invalidateOAuth1Token(urls.invalidateAccessToken, consumer, access, {});
      expect(x.isAccessTokenValid(access.token)).to.equal(false);
      const after = await fetchVerifyCredentials(urls.verifyCredentials, consumer, access, {}).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(after).to.be.instanceOf(XAPIError);
      expect((after as XAPIError).status).to.equal(401);
      expect((after as XAPIError).xCode).to.equal(89);
    });

    it('serves the same consent at /oauth/authorize', async () => {
      const { requestToken, location } = await authorizedRequestToken(undefined, 'authorize');
      expect(location.searchParams.get('oauth_token')).to.equal(requestToken.token);
    });

    it('keeps the query string of the callback and adds its parameters', async () => {
      const requestToken = await fetchRequestToken(urls.requestToken, consumer, `${CALLBACK}?next=%2Fhome`, {}, {});
      const location = await consent(`${urls.authenticate}?oauth_token=${requestToken.token}`);
      expect(location.searchParams.get('next')).to.equal('/home');
      expect(location.searchParams.get('oauth_token')).to.equal(requestToken.token);
    });

    it('redirects with denied=<request token> on Cancel, and the request token is then dead', async () => {
      const requestToken = await fetchRequestToken(urls.requestToken, consumer, CALLBACK, {}, {});
      const pageURL = `${urls.authenticate}?oauth_token=${requestToken.token}`;
      const location = await consent(pageURL, 'cancel');
      expect(`${location.origin}${location.pathname}`).to.equal(CALLBACK);
      expect([...location.searchParams.keys()]).to.deep.equal(['denied']);
      expect(location.searchParams.get('denied')).to.equal(requestToken.token);
      expect((await fetch(pageURL)).status).to.equal(400);
    });

    it('shows a PIN for an out-of-band (oob) sign-in, which then works as the verifier', async () => {
      const requestToken = await fetchRequestToken(urls.requestToken, consumer, 'oob', {}, {});
      const pageURL = `${urls.authorize}?oauth_token=${requestToken.token}`;
      const answer = await submitConsentForm(pageURL, await loadConsentForm(pageURL), 'authorize');
      expect(answer.status).to.equal(200);
      const pin = /<strong>(\d{7})<\/strong>/.exec(await answer.text())?.[1];
      expect(pin).to.be.a('string');
      const access = await fetchAccessToken(urls.accessToken, consumer, requestToken, pin!, {});
      expect(access.userId).to.equal(x.users[0].id);
    });
  });

  describe('POST /oauth/request_token', () => {
    it('accepts a correctly signed request', async () => {
      const response = await signedFetch(x, { method: 'POST', path: '/oauth/request_token', oauth: { oauth_callback: CALLBACK } });
      expect(response.status).to.equal(200);
      const fields = new URLSearchParams(await response.text());
      expect(fields.get('oauth_token')).to.be.a('string');
      expect(fields.get('oauth_token_secret')).to.be.a('string');
      expect(fields.get('oauth_callback_confirmed')).to.equal('true');
    });

    it('answers 400 code 215 without an OAuth Authorization header', async () => {
      await expectXError(await fetch(urls.requestToken, { method: 'POST' }), 400, 215);
      await expectXError(await fetch(urls.requestToken, { method: 'POST', headers: { authorization: 'Bearer abc' } }), 400, 215);
    });

    it('answers 400 code 215 to a malformed header (a parameter twice, a broken percent-encoding, oauth_version 2.0)', async () => {
      const path = '/oauth/request_token';
      const oauth = { oauth_callback: CALLBACK };
      await expectXError(await signedFetch(x, { method: 'POST', path, oauth, tamperHeader: (h) => `${h}, oauth_nonce="again"` }), 400, 215);
      await expectXError(await signedFetch(x, { method: 'POST', path, oauth, tamperHeader: (h) => h.replace(/oauth_nonce="[^"]*"/, 'oauth_nonce="%zz"') }), 400, 215);
      await expectXError(await signedFetch(x, { method: 'POST', path, oauth, tamperHeader: (h) => h.replace('oauth_version="1.0"', 'oauth_version="2.0"') }), 400, 215);
    });

    it('answers 400 code 215 to a header without commas between its parameters, or with junk between them, and to a hostile one', async () => {
      const path = '/oauth/request_token';
      const oauth = { oauth_callback: CALLBACK };
      await expectXError(await signedFetch(x, { method: 'POST', path, oauth, tamperHeader: (h) => h.replace(/, /g, ' ') }), 400, 215);
      await expectXError(await signedFetch(x, { method: 'POST', path, oauth, tamperHeader: (h) => h.replace(', oauth_nonce', ', junk oauth_nonce') }), 400, 215);
      // Long, but under Node's 16 KiB header limit.
      await expectXError(await fetch(urls.requestToken, { method: 'POST', headers: { authorization: `OAuth ${'a'.repeat(15_000)}` } }), 400, 215);
      expect(x.requests.map((r) => r.reason)).to.deep.equal(Array(3).fill('malformed OAuth Authorization header (missing, repeated or invalid oauth_* parameter)'));
    });

    it('answers 400 code 215 to an oauth_* parameter in the header and the body too (RFC 5849 section 3.1)', async () => {
      const response = await signedFetch(x, { method: 'POST', path: '/oauth/request_token', oauth: { oauth_callback: CALLBACK }, form: { a: '1' }, tamperBody: (b) => `${b}&oauth_nonce=another` });
      await expectXError(response, 400, 215);
      expect(x.requests.at(-1)?.reason).to.equal('an oauth_* parameter given in more than one place (header, query or body)');
    });

    it('answers 401 code 32 to an unknown consumer key, a wrong secret, a changed body or another signature method', async () => {
      const path = '/oauth/request_token';
      const oauth = { oauth_callback: CALLBACK };
      await expectXError(await signedFetch(x, { method: 'POST', path, oauth, consumerKey: 'someone-else' }), 401, 32);
      await expectXError(await signedFetch(x, { method: 'POST', path, oauth, consumerSecret: 'wrong-secret' }), 401, 32);
      await expectXError(await signedFetch(x, { method: 'POST', path, oauth, form: { a: '1' }, tamperBody: () => 'a=2' }), 401, 32);
      await expectXError(await signedFetch(x, { method: 'POST', path, oauth, tamperHeader: (h) => h.replace('HMAC-SHA1', 'PLAINTEXT') }), 401, 32);
    });

    it('refuses a signature written differently from the one computed (no lenient base64)', async () => {
      const response = await signedFetch(x, {
        method: 'POST',
        path: '/oauth/request_token',
        oauth: { oauth_callback: CALLBACK },
        tamperHeader: (h) => h.replace(/oauth_signature="([^"]*)"/, (_, s: string) => `oauth_signature="${s.replace(/%3D/g, '')}"`),
      });
      await expectXError(response, 401, 32);
    });

    it('answers 401 code 135 to a timestamp more than 300 s from its clock, and accepts one within', async () => {
      const now = Math.floor(Date.now() / 1000);
      const path = '/oauth/request_token';
      const oauth = { oauth_callback: CALLBACK };
      await expectXError(await signedFetch(x, { method: 'POST', path, oauth, timestamp: now - 320 }), 401, 135);
      await expectXError(await signedFetch(x, { method: 'POST', path, oauth, timestamp: now + 320 }), 401, 135);
      expect((await signedFetch(x, { method: 'POST', path, oauth, timestamp: now - 280 })).status).to.equal(200);
      expect((await signedFetch(x, { method: 'POST', path, oauth, timestamp: now + 280 })).status).to.equal(200);
    });

    it('checks timestamps against the real clock, which clients sign with, wherever the now option moved the emulator\'s', async () => {
      const clock = new TestClock();
      const moved = await startXEmulator({ now: clock.now });
      try {
        clock.advance(7200); // docs/testing.md, "Moving the clock": two hours later, to expire access tokens
        const path = '/oauth/request_token';
        const oauth = { oauth_callback: CALLBACK };
        expect((await signedFetch(moved, { method: 'POST', path, oauth })).status).to.equal(200);
        await expectXError(await signedFetch(moved, { method: 'POST', path, oauth, timestamp: Math.floor(clock.ms / 1000) }), 401, 135);
        // A whole sign-in through XOAuth1Strategy, which signs with the real clock.
        const strategy = new XOAuth1Strategy(moved.oauth1StrategyOptions({ callbackURL: CALLBACK }), (_t: string, _s: string, profile: XProfile, done: XVerifyCallback) => done(null, profile));
        const outcome = await signInThrough(strategy);
        expect(outcome.type, outcome.error?.message).to.equal('success');
        expect((outcome.user as XProfile).username).to.equal('ada');
      } finally {
        await moved.close();
      }
    });

    it('remembers nonces by the real clock too: moving the now option does not let a replay through', async () => {
      const clock = new TestClock();
      const moved = await startXEmulator({ now: clock.now });
      try {
        const request = { method: 'POST' as const, path: '/oauth/request_token', oauth: { oauth_callback: CALLBACK }, nonce: 'nonce-before-the-move' };
        expect((await signedFetch(moved, request)).status).to.equal(200);
        clock.advance(3600);
        await expectXError(await signedFetch(moved, request), 401, 32);
      } finally {
        await moved.close();
      }
    });

    it('answers 401 code 32 to a nonce used twice', async () => {
      const request = { method: 'POST' as const, path: '/oauth/request_token', oauth: { oauth_callback: CALLBACK }, nonce: 'nonce-once', timestamp: Math.floor(Date.now() / 1000) };
      expect((await signedFetch(x, request)).status).to.equal(200);
      await expectXError(await signedFetch(x, request), 401, 32);
      expect((await signedFetch(x, { ...request, nonce: 'nonce-twice' })).status).to.equal(200);
    });

    it('answers 400 code 215 without oauth_callback, and accepts oob', async () => {
      await expectXError(await signedFetch(x, { method: 'POST', path: '/oauth/request_token' }), 400, 215);
      expect((await signedFetch(x, { method: 'POST', path: '/oauth/request_token', oauth: { oauth_callback: 'oob' } })).status).to.equal(200);
    });

    it('accepts only the default registered callback, exactly, and refuses others with 403 code 415, saying why a near one fails', async () => {
      expect((await fetchRequestToken(urls.requestToken, consumer, CALLBACK, {}, {})).token).to.be.a('string');
      expect((await fetchRequestToken(urls.requestToken, consumer, `${CALLBACK}?next=%2Fhome`, {}, {})).token).to.be.a('string');
      const refused = [
        'http://localhost:3000/auth/x/callback',
        `${CALLBACK}/`,
        'http://127.0.0.1:3001/auth/x/callback',
        'http://127.0.0.1:1/cb',
        'http://[::1]:3000/auth/x/callback',
        'https://example.com/cb',
        'myapp://callback',
      ];
      const from = x.requests.length;
      for (const callback of refused) {
        await expectXError(await signedFetch(x, { method: 'POST', path: '/oauth/request_token', oauth: { oauth_callback: callback } }), 403, 415);
      }
      const reasons = x.requests.slice(from).map((r) => r.reason);
      expect(reasons[0]).to.match(/X treats localhost and 127\.0\.0\.1 as different hosts/);
      expect(reasons[1]).to.match(/X compares the trailing slash too/);
      expect(reasons.slice(2).every((r) => r === 'oauth_callback is not a registered callback URL of the app')).to.equal(true);
    });

    it('refuses an oauth_callback with a control character with 403 code 415, before it can reach a Location header', async () => {
      const from = x.requests.length;
      for (const callback of [`${CALLBACK}?next=%2F\r\nSet-Cookie: session=forged`, `${CALLBACK}?next=\t`, `${CALLBACK}?a=\u0000`]) {
        await expectXError(await signedFetch(x, { method: 'POST', path: '/oauth/request_token', oauth: { oauth_callback: callback } }), 403, 415);
      }
      expect(x.requests.slice(from).map((r) => r.reason)).to.deep.equal(Array(3).fill('oauth_callback has a control character (a tab, a line break...)'));
    });

    it('sends a callback with characters past ASCII back percent-encoded as UTF-8, as a browser requests it', async () => {
      const requestToken = await fetchRequestToken(urls.requestToken, consumer, `${CALLBACK}?name=Gr\u00e2ce\u2603`, {}, {});
      const pageURL = `${urls.authenticate}?oauth_token=${encodeURIComponent(requestToken.token)}`;
      const answer = await submitConsentForm(pageURL, await loadConsentForm(pageURL), 'authorize');
      expect(answer.status).to.equal(302);
      const location = answer.headers.get('location')!;
      expect(location.startsWith(`${CALLBACK}?name=Gr%C3%A2ce%E2%98%83&oauth_token=`), location).to.equal(true);
      expect(new URL(location).searchParams.get('name')).to.equal('Gr\u00e2ce\u2603');
      expect(x.requests.at(-1)).to.deep.equal({ method: 'POST', path: '/oauth/authorize', status: 302 });
    });

    it('refuses an unregistered callback through the strategy with X\'s 415 and the fix, and accepts it once registered', async () => {
      const other = 'http://127.0.0.1:3999/auth/x/callback';
      const strategy = new XOAuth1Strategy({ ...consumer, callbackURL: other, baseURL: x.baseURL }, (_t: string, _s: string, profile: XProfile, done: XVerifyCallback) => done(null, profile));
      const start = () => runStrategy(strategy, fakeRequest({ session: {}, headers: { host: '127.0.0.1:3999' } }));
      const refused = await start();
      expect(refused.type).to.equal('error');
      expect(refused.error).to.be.instanceOf(XAPIError).and.include({ status: 403, xCode: 415 });
      expect((refused.error as XAPIError).hint).to.match(/register `callbackURL` exactly/);
      x.addCallbackURL(other, 'oauth1');
      try {
        expect(x.apps.oauth1.callbackURLs).to.include(other);
        expect((await start()).type).to.equal('redirect');
      } finally {
        expect(x.removeCallbackURL(other)).to.equal(true);
      }
      expect((await start()).type).to.equal('error');
    });

    it('accepts oauth_callback in the query or the body, as RFC 5849 section 3.5 allows, and refuses it twice', async () => {
      const inQuery = await signedFetch(x, { method: 'POST', path: '/oauth/request_token', query: { oauth_callback: CALLBACK } });
      expect(inQuery.status).to.equal(200);
      expect(new URLSearchParams(await inQuery.text()).get('oauth_callback_confirmed')).to.equal('true');
      // Signed with oauth_callback among the parameters, then moved from the header to the body: the same signature base string.
      const inBody = await signedFetch(x, {
        method: 'POST',
        path: '/oauth/request_token',
        oauth: { oauth_callback: CALLBACK },
        tamperHeader: (header) => header.replace(/oauth_callback="[^"]*", /, ''),
        tamperBody: () => `oauth_callback=${encodeURIComponent(CALLBACK)}`,
      });
      expect(inBody.status).to.equal(200);
      await expectXError(await signedFetch(x, { method: 'POST', path: '/oauth/request_token', query: { oauth_callback: 'https://example.com/cb' } }), 403, 415);
      // Twice (query and header): passport-x's signer refuses to build that, so it is signed here by hand (RFC 5849 section 3.4).
      const url = `${x.baseURL}/oauth/request_token?oauth_callback=${percentEncode(CALLBACK)}`;
      const oauth: Array<[string, string]> = [
        ['oauth_callback', CALLBACK],
        ['oauth_consumer_key', consumer.consumerKey],
        ['oauth_nonce', createNonce()],
        ['oauth_signature_method', 'HMAC-SHA1'],
        ['oauth_timestamp', String(Math.floor(Date.now() / 1000))],
        ['oauth_version', '1.0'],
      ];
      const base = signatureBaseString('POST', url, [...oauth, ['oauth_callback', CALLBACK]]);
      oauth.push(['oauth_signature', hmacSha1Signature(base, consumer.consumerSecret)]);
      const twice = await fetch(url, { method: 'POST', headers: { authorization: `OAuth ${oauth.map(([k, v]) => `${k}="${percentEncode(v)}"`).join(', ')}` } });
      await expectXError(twice, 400, 215);
    });

    it('accepts only the registered callback URLs when the app lists them, with any query string', async () => {
      const strict = await startXEmulator({ apps: { oauth1: { ...x.apps.oauth1, callbackURLs: ['https://app.example/auth/x/callback'] } } });
      try {
        const strictConsumer = { consumerKey: strict.apps.oauth1.consumerKey, consumerSecret: strict.apps.oauth1.consumerSecret };
        const url = xEndpoints(strict.baseURL).requestToken;
        expect((await fetchRequestToken(url, strictConsumer, 'https://app.example/auth/x/callback', {}, {})).token).to.be.a('string');
        expect((await fetchRequestToken(url, strictConsumer, 'https://app.example/auth/x/callback?from=menu', {}, {})).token).to.be.a('string');
        for (const callback of [CALLBACK, 'https://app.example/auth/x/callback/', 'https://app.example/other']) {
          await expectXError(await signedFetch(strict, { method: 'POST', path: '/oauth/request_token', oauth: { oauth_callback: callback } }), 403, 415);
        }
      } finally {
        await strict.close();
      }
    });

    it('answers reverse auth (x_auth_mode=reverse_auth) with the text of an OAuth header', async () => {
      const text = await fetchReverseAuthParameters(urls.requestToken, consumer, {});
      expect(text).to.match(
        /^OAuth oauth_consumer_key="[^"]+", oauth_nonce="[^"]+", oauth_signature="[^"]+", oauth_signature_method="HMAC-SHA1", oauth_timestamp="\d+", oauth_token="[^"]+", oauth_version="1\.0"$/,
      );
      const params = parseOAuthHeader(text)!;
      expect(params.oauth_consumer_key).to.equal(consumer.consumerKey);
      expect(Math.abs(Number(params.oauth_timestamp) - Date.now() / 1000)).to.be.below(5);
      expect(Buffer.from(params.oauth_signature!, 'base64')).to.have.length(20);
    });

    it('checks the signature of a reverse auth request too', async () => {
      const response = await signedFetch(x, { method: 'POST', path: '/oauth/request_token', form: { x_auth_mode: 'reverse_auth' }, consumerSecret: 'wrong' });
      await expectXError(response, 401, 32);
    });
  });

  describe('the consent page', () => {
    it('refuses an unknown request token with a 400 page', async () => {
      const response = await fetch(`${urls.authenticate}?oauth_token=not-issued`);
      expect(response.status).to.equal(400);
      expect(await response.text()).to.include('This page is no longer valid');
      expect((await fetch(urls.authenticate)).status).to.equal(400);
    });

    it('preselects the user named by screen_name', async () => {
      const requestToken = await fetchRequestToken(urls.requestToken, consumer, CALLBACK, {}, {});
      const form = await loadConsentForm(`${urls.authenticate}?oauth_token=${requestToken.token}&screen_name=GRACE&force_login=true`);
      expect(form.users.find((u) => u.checked)?.id).to.equal(x.users[1]!.id);
    });

    it('refuses a form without a known user and leaves the request token usable', async () => {
      const requestToken = await fetchRequestToken(urls.requestToken, consumer, CALLBACK, {}, {});
      const pageURL = `${urls.authenticate}?oauth_token=${requestToken.token}`;
      const form = await loadConsentForm(pageURL);
      expect((await submitConsentForm(pageURL, form, 'authorize', '999')).status).to.equal(400);
      const response = await fetch(new URL(form.action, pageURL), { method: 'POST', body: new URLSearchParams({ ...form.hidden, action: 'maybe' }) });
      expect(response.status).to.equal(400);
      expect((await submitConsentForm(pageURL, form, 'authorize')).status).to.equal(302);
    });

    it('cannot be answered twice for one request token', async () => {
      const requestToken = await fetchRequestToken(urls.requestToken, consumer, CALLBACK, {}, {});
      const pageURL = `${urls.authenticate}?oauth_token=${requestToken.token}`;
      const form = await loadConsentForm(pageURL);
      expect((await submitConsentForm(pageURL, form, 'authorize')).status).to.equal(302);
      expect((await submitConsentForm(pageURL, form, 'authorize')).status).to.equal(400);
    });
  });

  describe('POST /oauth/access_token', () => {
    async function exchangeError(promise: Promise<unknown>): Promise<XAPIError> {
      const err = await promise.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(XAPIError);
      return err as XAPIError;
    }

    it('refuses a wrong verifier in plain text, as X does, and then accepts the right one', async () => {
      const { requestToken, verifier } = await authorizedRequestToken();
      const err = await exchangeError(fetchAccessToken(urls.accessToken, consumer, requestToken, `${verifier}x`, {}));
      expect(err.status).to.equal(401);
      expect(err.message).to.include('Invalid oauth_verifier parameter');
      expect((await fetchAccessToken(urls.accessToken, consumer, requestToken, verifier, {})).token).to.be.a('string');
    });

    it('refuses a request token the user has not authorized yet', async () => {
      const requestToken = await fetchRequestToken(urls.requestToken, consumer, CALLBACK, {}, {});
      const err = await exchangeError(fetchAccessToken(urls.accessToken, consumer, requestToken, 'guess', {}));
      expect(err.status).to.equal(401);
    });

    it('refuses a request token used twice with 401 code 89', async () => {
      const { requestToken, verifier } = await authorizedRequestToken();
      await fetchAccessToken(urls.accessToken, consumer, requestToken, verifier, {});
      const err = await exchangeError(fetchAccessToken(urls.accessToken, consumer, requestToken, verifier, {}));
      expect(err.status).to.equal(401);
      expect(err.xCode).to.equal(89);
    });

    it('answers exactly one of 5 concurrent access-token requests for one request token; the others get 401 code 89', async () => {
      const { requestToken, verifier } = await authorizedRequestToken();
      const from = x.requests.length;
      const results = await Promise.allSettled(Array.from({ length: 5 }, () => fetchAccessToken(urls.accessToken, consumer, requestToken, verifier, {})));
      expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).to.be.instanceOf(XAPIError).and.include({ status: 401, xCode: 89 });
      expect(x.requests.slice(from).filter((r) => r.path === '/oauth/access_token').map((r) => r.status).sort()).to.deep.equal([200, 401, 401, 401, 401]);
    });

    it('refuses a request signed with the wrong token secret (401 code 32) or no token (401 code 89)', async () => {
      const { requestToken, verifier } = await authorizedRequestToken();
      const wrongSecret = await signedFetch(x, { method: 'POST', path: '/oauth/access_token', token: requestToken.token, tokenSecret: 'wrong', oauth: { oauth_verifier: verifier } });
      await expectXError(wrongSecret, 401, 32);
      await expectXError(await signedFetch(x, { method: 'POST', path: '/oauth/access_token', oauth: { oauth_verifier: verifier } }), 401, 89);
      const right = await signedFetch(x, { method: 'POST', path: '/oauth/access_token', token: requestToken.token, tokenSecret: requestToken.tokenSecret, oauth: { oauth_verifier: verifier } });
      expect(right.status).to.equal(200);
    });

    it('refuses an expired request token with 401 code 89', async () => {
      const clock = new TestClock();
      const timed = await startXEmulator({ now: clock.now });
      try {
        const timedConsumer = { consumerKey: timed.apps.oauth1.consumerKey, consumerSecret: timed.apps.oauth1.consumerSecret };
        const requestToken = await fetchRequestToken(xEndpoints(timed.baseURL).requestToken, timedConsumer, CALLBACK, {}, {});
        const location = await consent(`${timed.baseURL}/oauth/authenticate?oauth_token=${requestToken.token}`);
        clock.advance(16 * 60);
        const response = await signedFetch(timed, {
          method: 'POST',
          path: '/oauth/access_token',
          token: requestToken.token,
          tokenSecret: requestToken.tokenSecret,
          oauth: { oauth_verifier: location.searchParams.get('oauth_verifier')! },
        });
        await expectXError(response, 401, 89);
      } finally {
        await timed.close();
      }
    });
  });

  describe('GET /1.1/account/verify_credentials.json', () => {
    it('answers the user of the access token, with X\'s id as a bare number and the x-access-level header', async () => {
      const access = await signIn();
      const response = await signedFetch(x, { method: 'GET', path: '/1.1/account/verify_credentials.json', token: access.token, tokenSecret: access.tokenSecret });
      expect(response.status).to.equal(200);
      expect(response.headers.get('x-access-level')).to.equal('read-write');
      const text = await response.text();
      expect(text).to.match(new RegExp(`^\\{"id":${x.users[0].id},"id_str":"${x.users[0].id}"`));
      const json = JSON.parse(text) as Record<string, unknown>;
      expect(json).to.include({ id_str: x.users[0].id, screen_name: 'ada', name: 'Ada Lovelace', profile_image_url_https: x.users[0].profileImageURL });
      expect(json.created_at).to.equal('Wed Jan 15 09:30:00 +0000 2020');
    });

    it('includes the e-mail only with include_email=true, for a user who has one', async () => {
      const ada = await signIn(x.users[0].id);
      const load = async (token: { token: string; tokenSecret: string }, includeEmail: string) => {
        const { json } = await fetchVerifyCredentials(`${urls.verifyCredentials}?include_email=${includeEmail}`, consumer, token, {});
        return json;
      };
      expect((await load(ada, 'true')).email).to.equal('ada@example.com');
      expect(await load(ada, 'false')).to.not.have.property('email');
      const grace = await signIn(x.users[1]!.id);
      // X doc "GET account/verify_credentials": null when the user has no verified address.
      expect(await load(grace, 'true')).to.have.property('email', null);
    });

    it('never includes the e-mail when the app does not request it', async () => {
      const noEmail = await startXEmulator({ apps: { oauth1: { ...x.apps.oauth1, requestEmail: false, accessLevel: 'read' } } });
      try {
        const endpoints = xEndpoints(noEmail.baseURL);
        const requestToken = await fetchRequestToken(endpoints.requestToken, consumer, CALLBACK, {}, {});
        const location = await consent(`${endpoints.authenticate}?oauth_token=${requestToken.token}`);
        const access = await fetchAccessToken(endpoints.accessToken, consumer, requestToken, location.searchParams.get('oauth_verifier')!, {});
        const { json, raw } = await fetchVerifyCredentials(`${endpoints.verifyCredentials}?include_email=true`, consumer, access, {});
        expect(json).to.not.have.property('email');
        expect(raw.headers.get('x-access-level')).to.equal('read');
      } finally {
        await noEmail.close();
      }
    });

    it('honours skip_status and include_entities', async () => {
      const access = await signIn();
      const load = async (query: string) => (await fetchVerifyCredentials(`${urls.verifyCredentials}?${query}`, consumer, access, {})).json;
      const full = await load('include_email=false');
      expect(full).to.have.property('status');
      expect(full).to.have.property('entities');
      expect((full.status as Record<string, unknown>).entities).to.be.an('object');
      const lean = await load('skip_status=true&include_entities=false');
      expect(lean).to.not.have.property('status');
      expect(lean).to.not.have.property('entities');
    });

    it('refuses a request token, an unknown token or a bad signature', async () => {
      const access = await signIn();
      const requestToken = await fetchRequestToken(urls.requestToken, consumer, CALLBACK, {}, {});
      const path = '/1.1/account/verify_credentials.json';
      await expectXError(await signedFetch(x, { method: 'GET', path, token: requestToken.token, tokenSecret: requestToken.tokenSecret }), 401, 89);
      await expectXError(await signedFetch(x, { method: 'GET', path, token: 'unknown-token', tokenSecret: 'x' }), 401, 89);
      await expectXError(await signedFetch(x, { method: 'GET', path, token: access.token, tokenSecret: 'wrong' }), 401, 32);
      const right = await signedFetch(x, { method: 'GET', path, query: { include_email: 'true' }, token: access.token, tokenSecret: access.tokenSecret });
      expect(right.status, 'signed query parameters are checked and accepted').to.equal(200);
      expect(((await right.json()) as Record<string, unknown>).email).to.equal('ada@example.com');
    });
  });

  describe('POST /1.1/oauth/invalidate_token', () => {
    it('invalidates only the token it is signed with, and answers it', async () => {
      const first = await signIn();
      const second = await signIn();
      const response = await signedFetch(x, { method: 'POST', path: '/1.1/oauth/invalidate_token', token: first.token, tokenSecret: first.tokenSecret });
      expect(response.status).to.equal(200);
      expect(await response.json()).to.deep.equal({ access_token: first.token });
      expect(x.isAccessTokenValid(first.token)).to.equal(false);
      expect(x.isAccessTokenValid(second.token)).to.equal(true);
      await expectXError(await signedFetch(x, { method: 'POST', path: '/1.1/oauth/invalidate_token', token: first.token, tokenSecret: first.tokenSecret }), 401, 89);
    });

    it('refuses an unsigned request', async () => {
      await expectXError(await fetch(urls.invalidateAccessToken, { method: 'POST' }), 400, 215);
    });

    it('answers with x-access-level and the rate-limit state, as every answer signed with a user\'s token', async () => {
      const ada = await signIn();
      const response = await signedFetch(x, { method: 'POST', path: '/1.1/oauth/invalidate_token', token: ada.token, tokenSecret: ada.tokenSecret });
      expect(response.status).to.equal(200);
      expect(response.headers.get('x-access-level')).to.equal('read-write');
      expect(response.headers.get('x-rate-limit-limit')).to.equal('75');
      expect(response.headers.get('x-rate-limit-remaining')).to.equal('74');
    });
  });

  describe('rate limits and access level of GET /1.1/account/verify_credentials.json', () => {
    it('counts 75 requests per 15 minutes per user, then answers 429 code 88 with x-access-level and the reset', async () => {
      const clock = new TestClock();
      const timed = await startXEmulator({ now: clock.now });
      try {
        const endpoints = xEndpoints(timed.baseURL);
        const requestToken = await fetchRequestToken(endpoints.requestToken, consumer, CALLBACK, {}, {});
        const location = await consent(`${endpoints.authenticate}?oauth_token=${requestToken.token}`);
        const access = await fetchAccessToken(endpoints.accessToken, consumer, requestToken, location.searchParams.get('oauth_verifier')!, {});
        const reset = String(Math.ceil((clock.ms + 15 * 60_000) / 1000));
        const get = () => signedFetch(timed, { method: 'GET', path: '/1.1/account/verify_credentials.json', token: access.token, tokenSecret: access.tokenSecret });
        const first = await get();
        expect([first.headers.get('x-rate-limit-limit'), first.headers.get('x-rate-limit-remaining'), first.headers.get('x-rate-limit-reset')]).to.deep.equal(['75', '74', reset]);
        expect(first.headers.get('x-access-level')).to.equal('read-write');
        for (let i = 0; i < 74; i++) expect((await get()).status).to.equal(200);
        const over = await get();
        await expectXError(over, 429, 88);
        expect([over.headers.get('x-rate-limit-remaining'), over.headers.get('x-rate-limit-reset'), over.headers.get('x-access-level')]).to.deep.equal(['0', reset, 'read-write']);
        // The client sees a rate limit, with the reset.
        const err = await fetchVerifyCredentials(endpoints.verifyCredentials, consumer, access, {}).catch((e: unknown) => e);
        expect(err).to.be.instanceOf(XRateLimitError);
        expect((err as XRateLimitError).resetAt).to.deep.equal(new Date(Number(reset) * 1000));
      } finally {
        await timed.close();
      }
    });
  });

  describe('XOAuth1Strategy against the emulator', () => {
    const strategyFor = (options: Partial<XOAuth1StrategyOptions> = {}) =>
      new XOAuth1Strategy({ ...consumer, callbackURL: CALLBACK, baseURL: x.baseURL, ...options }, (_t: string, _s: string, profile: XProfile, done: XVerifyCallback) => done(null, profile));

    it('gets `email: null` for a user without a verified address, and makes a profile without e-mails', async () => {
      const outcome = await signInThrough(strategyFor({ includeEmail: true }), x.users[1]!.id);
      expect(outcome.type).to.equal('success');
      const profile = outcome.user as XProfile;
      expect(profile).to.include({ username: 'grace', _accessLevel: 'read-write' });
      expect(profile._json).to.have.property('email', null);
      expect(profile).to.not.have.property('emails');
      expect(profile).to.not.have.property('partial');
    });

    for (const preset of ['credits-depleted', 'usage-cap'] as const) {
      it(`signs in with a partial profile on '${preset}' with profileFallback: 'token', and errors without it`, async () => {
        x.failNext('/1.1/account/verify_credentials.json', preset);
        const fallback = await signInThrough(strategyFor({ profileFallback: 'token' }), x.users[1]!.id);
        expect(fallback.type).to.equal('success');
        expect(fallback.user).to.deep.include({ id: x.users[1]!.id, username: 'grace', displayName: 'grace', partial: true });
        x.failNext('/1.1/account/verify_credentials.json', preset);
        const refused = await signInThrough(strategyFor());
        expect(refused.type).to.equal('error');
        expect(refused.error).to.be.instanceOf(preset === 'credits-depleted' ? XCreditsDepletedError : XUsageCapError).and.not.instanceOf(XRateLimitError);
        expect(x.requests.filter((r) => r.path === '/1.1/account/verify_credentials.json').map((r) => r.status)).to.deep.equal([preset === 'credits-depleted' ? 402 : 429, preset === 'credits-depleted' ? 402 : 429]);
      });
    }

    it('still errors on \'over-capacity\' with profileFallback: \'token\': only billing refusals fall back', async () => {
      x.failNext('/1.1/account/verify_credentials.json', 'over-capacity');
      const outcome = await signInThrough(strategyFor({ profileFallback: 'token' }));
      expect(outcome.error).to.be.instanceOf(XAPIError).and.include({ status: 503, xCode: 130 });
    });
  });
});
