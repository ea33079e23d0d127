// The emulator's OAuth 2.0 endpoints and GET /2/users/me, over real HTTP: each check refuses the
// wrong request in X's format and accepts the right one. Driven with passport-x's own endpoint
// functions where they are the natural client, and with fetch for what they never send.
import { expect } from 'chai';
import { fetchUsersMe, requestOAuth2Token, revokeOAuth2Token, xEndpoints, type OAuth2Client, type XTokenAnswer } from '../../lib/endpoints';
import { XAPIError, XCreditsDepletedError, XMissingScopesError, XOAuthError, XRateLimitError, XUsageCapError } from '../../lib/errors';
import { signOAuth1Request } from '../../lib/oauth1-signature';
import { XOAuth2PkceStrategy, type XOAuth2StrategyOptions } from '../../lib/oauth2-strategy';
import type { XVerifyCallback } from '../../lib/passport-base';
import type { XProfile } from '../../lib/profile';
import { startXEmulator, type XEmulator } from '../../lib/testing';
import {
  authorizeURL,
  CALLBACK,
  consent,
  expectOAuth2Error,
  loadConsentForm,
  postForm,
  RFC7636_CHALLENGE,
  RFC7636_VERIFIER,
  signedFetch,
  signInThrough,
  submitConsentForm,
  TestClock,
} from './emulator-client';

describe('emulator: OAuth 2.0', () => {
  let clock: TestClock;
  let x: XEmulator;
  let urls: ReturnType<typeof xEndpoints>;
  let confidential: OAuth2Client;
  let publicClient: OAuth2Client;

  beforeEach(async () => {
    clock = new TestClock();
    x = await startXEmulator({ now: clock.now });
    urls = xEndpoints(x.baseURL);
    confidential = { clientID: x.apps.confidential.clientID, clientSecret: x.apps.confidential.clientSecret };
    publicClient = { clientID: x.apps.public.clientID };
  });
  afterEach(() => x.close());

  /** Consent for a client; returns the code. */
  async function authorize(params: Record<string, string | undefined> = {}, userId?: string, emulator: XEmulator = x): Promise<string> {
    const location = await consent(authorizeURL(emulator, params), 'authorize', userId);
    expect(location.searchParams.get('state')).to.equal(params.state ?? 'state-123');
    return location.searchParams.get('code')!;
  }

  function exchange(client: OAuth2Client, code: string, extra: Record<string, string> = {}): Promise<XTokenAnswer> {
    const grant = { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: RFC7636_VERIFIER, ...extra };
    return requestOAuth2Token(urls.oauth2Token, client, grant, {}, 'exchange the code');
  }

  function refresh(client: OAuth2Client, refreshToken: string, extra: Record<string, string> = {}): Promise<XTokenAnswer> {
    return requestOAuth2Token(urls.oauth2Token, client, { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra }, {}, 'refresh the token');
  }

  async function rejection(promise: Promise<unknown>): Promise<unknown> {
    return promise.then(
      () => expect.fail('expected a rejection'),
      (err: unknown) => err,
    );
  }

  async function oauthError(promise: Promise<unknown>, status: number, error: string): Promise<XOAuthError> {
    const err = await rejection(promise);
    expect(err).to.be.instanceOf(XOAuthError);
    expect((err as XOAuthError).status).to.equal(status);
    expect((err as XOAuthError).error).to.equal(error);
    return err as XOAuthError;
  }

  async function apiError(promise: Promise<unknown>): Promise<XAPIError> {
    const err = await rejection(promise);
    expect(err).to.be.instanceOf(XAPIError);
    return err as XAPIError;
  }

  function usersMe(token: string, fields: string[] = []) {
    return fetchUsersMe(urls.usersMe, token, fields, {});
  }

  describe('the authorization code flow with PKCE', () => {
    it('signs a user in end to end with the confidential client: consent form, code, tokens, profile, refresh, revoke', async () => {
      const pageURL = authorizeURL(x, { scope: 'tweet.read users.read users.email offline.access', state: 'xyz' });
      const form = await loadConsentForm(pageURL);
      expect(Object.keys(form.hidden)).to.deep.equal(['request_id']);
      const answer = await submitConsentForm(pageURL, form, 'authorize', x.users[0].id);
      expect(answer.status).to.equal(302);
      const location = new URL(answer.headers.get('location')!);
      expect(`${location.origin}${location.pathname}`).to.equal(CALLBACK);
      expect(location.searchParams.get('state')).to.equal('xyz');
      const code = location.searchParams.get('code')!;

      const { tokens, params } = await exchange(confidential, code);
      expect(params).to.include({ token_type: 'bearer', expires_in: 7200, scope: 'tweet.read users.read users.email offline.access' });
      expect(tokens.refreshToken).to.be.a('string');
      expect(x.isAccessTokenValid(tokens.accessToken)).to.equal(true);

      const me = await usersMe(tokens.accessToken, ['confirmed_email', 'profile_image_url', 'created_at']);
      expect(me.data).to.deep.equal({
        id: x.users[0].id,
        name: 'Ada Lovelace',
        username: 'ada',
        confirmed_email: 'ada@example.com',
        profile_image_url: x.users[0].profileImageURL,
        created_at: '2020-01-15T09:30:00.000Z',
      });

      const refreshed = await refresh(confidential, tokens.refreshToken!);
      expect(refreshed.tokens.refreshToken).to.be.a('string').and.not.equal(tokens.refreshToken);
      expect(x.isRefreshTokenValid(tokens.refreshToken!), 'the used refresh token stops working').to.equal(false);
      expect((await usersMe(refreshed.tokens.accessToken)).data.id).to.equal(x.users[0].id);

      await revokeOAuth2Token(urls.oauth2Revoke, confidential, refreshed.tokens.accessToken, 'access_token', {});
      expect(x.isAccessTokenValid(refreshed.tokens.accessToken)).to.equal(false);
      const err = await rejection(usersMe(refreshed.tokens.accessToken));
      expect(err).to.be.instanceOf(XAPIError);
      expect((err as XAPIError).status).to.equal(401);
    });

    it('signs a user in with the public client, which sends client_id alone', async () => {
      const code = await authorize({ client_id: publicClient.clientID, scope: 'tweet.read users.read' }, x.users[1]!.id);
      const { tokens } = await exchange(publicClient, code);
      expect(tokens.refreshToken, 'no refresh token without offline.access').to.equal(undefined);
      expect((await usersMe(tokens.accessToken)).data.username).to.equal('grace');
    });

    it('redirects with error=access_denied and the state on Cancel', async () => {
      const location = await consent(authorizeURL(x, { state: 'cancel-state' }), 'cancel');
      expect(`${location.origin}${location.pathname}`).to.equal(CALLBACK);
      expect(Object.fromEntries(location.searchParams)).to.deep.equal({ error: 'access_denied', state: 'cancel-state' });
    });

    it('takes one answer per consent page', async () => {
      const pageURL = authorizeURL(x, {});
      const form = await loadConsentForm(pageURL);
      expect((await submitConsentForm(pageURL, form, 'authorize')).status).to.equal(302);
      const again = await submitConsentForm(pageURL, form, 'authorize');
      expect(again.status).to.equal(400);
      expect(await again.text()).to.include('This page is no longer valid');
    });

    it('refuses a consent form without a known user, and keeps the request answerable', async () => {
      const pageURL = authorizeURL(x, {});
      const form = await loadConsentForm(pageURL);
      expect((await submitConsentForm(pageURL, form, 'authorize', 'nobody')).status).to.equal(400);
      expect((await submitConsentForm(pageURL, form, 'authorize')).status).to.equal(302);
    });
  });

  describe('GET /i/oauth2/authorize', () => {
    async function redirectedError(params: Record<string, string | undefined>, query?: string): Promise<URLSearchParams> {
      const url = query === undefined ? authorizeURL(x, params) : `${x.authorizationURL}?${query}`;
      const response = await fetch(url, { redirect: 'manual' });
      expect(response.status, url).to.equal(302);
      const location = new URL(response.headers.get('location')!);
      expect(`${location.origin}${location.pathname}`).to.equal(CALLBACK);
      expect(location.searchParams.get('error_description')).to.be.a('string').and.not.equal('');
      return location.searchParams;
    }

    async function errorPage(params: Record<string, string | undefined>): Promise<string> {
      const response = await fetch(authorizeURL(x, params), { redirect: 'manual' });
      expect(response.status).to.equal(400);
      expect(response.headers.get('location')).to.equal(null);
      expect(response.headers.get('content-type')).to.match(/^text\/html/);
      return response.text();
    }

    it('shows an error page, never a redirect, for an unknown client or an unregistered redirect_uri', async () => {
      expect(await errorPage({ client_id: 'unknown-client' })).to.include('client_id');
      expect(await errorPage({ client_id: undefined })).to.include('client_id');
      expect(await errorPage({ redirect_uri: undefined })).to.include('redirect_uri');
      expect(await errorPage({ redirect_uri: 'https://evil.example/cb' })).to.include('not registered');
      expect(await errorPage({ redirect_uri: `${CALLBACK}#fragment` })).to.include('not registered');
    });

    it('accepts only the registered redirect URIs, exactly, when the client lists them', async () => {
      const strict = await startXEmulator({ apps: { public: { ...x.apps.public, callbackURLs: ['https://app.example/cb'] } } });
      try {
        const pageURL = (redirectURI: string) => authorizeURL(strict, { client_id: strict.apps.public.clientID, redirect_uri: redirectURI });
        expect((await fetch(pageURL('https://app.example/cb'))).status).to.equal(200);
        for (const other of ['https://app.example/cb/', 'https://app.example/cb?x=1', CALLBACK]) expect((await fetch(pageURL(other))).status, other).to.equal(400);
      } finally {
        await strict.close();
      }
    });

    it('redirects to a registered redirect_uri with characters past ASCII, percent-encoded as UTF-8 as a browser requests it', async () => {
      const redirectURI = 'http://127.0.0.1:3000/caf\u00e9/\u2603';
      x.addCallbackURL(redirectURI, 'confidential');
      const location = await consent(authorizeURL(x, { redirect_uri: redirectURI }));
      expect(location.pathname).to.equal('/caf%C3%A9/%E2%98%83');
      expect(location.searchParams.get('state')).to.equal('state-123');
    });

    it('redirects other errors to redirect_uri with the state (RFC 6749 section 4.1.2.1)', async () => {
      expect(Object.fromEntries(await redirectedError({ response_type: 'token', state: 's1' }))).to.include({ error: 'unsupported_response_type', state: 's1' });
      expect((await redirectedError({ response_type: undefined })).get('error')).to.equal('invalid_request');
      expect((await redirectedError({ scope: undefined })).get('error')).to.equal('invalid_request');
      expect((await redirectedError({ scope: 'tweet.read teleport.write' })).get('error')).to.equal('invalid_scope');
      expect((await redirectedError({ code_challenge: undefined })).get('error')).to.equal('invalid_request');
      expect((await redirectedError({ code_challenge_method: 'S512' })).get('error')).to.equal('invalid_request');
      expect((await redirectedError({ code_challenge_method: undefined })).get('error')).to.equal('invalid_request');
      expect((await redirectedError({ code_challenge_method: 'plain', code_challenge: 'x'.repeat(129) })).get('error')).to.equal('invalid_request');
      expect((await redirectedError({ code_challenge_method: 'plain', code_challenge: 'not/unreserved' })).get('error')).to.equal('invalid_request');
      expect((await redirectedError({ code_challenge: 'too-short' })).get('error')).to.equal('invalid_request');
      expect((await redirectedError({ state: 'x'.repeat(501) })).get('error')).to.equal('invalid_request');
      const noState = await redirectedError({ state: undefined });
      expect(noState.get('error')).to.equal('invalid_request');
      expect(noState.has('state')).to.equal(false);
    });

    it('refuses a parameter given twice', async () => {
      const url = new URL(authorizeURL(x, {}));
      url.searchParams.append('scope', 'tweet.write');
      const response = await fetch(url, { redirect: 'manual' });
      expect(new URL(response.headers.get('location')!).searchParams.get('error')).to.equal('invalid_request');
      const twiceClient = new URL(authorizeURL(x, {}));
      twiceClient.searchParams.append('client_id', x.apps.public.clientID);
      expect((await fetch(twiceClient, { redirect: 'manual' })).status).to.equal(400);
    });

    it('shows the app and the scopes asked for', async () => {
      const response = await fetch(authorizeURL(x, { scope: 'tweet.read users.read like.write' }));
      const html = await response.text();
      expect(html).to.include('<h1>Authorize Emulator Web App to access your account?</h1>');
      for (const scope of ['tweet.read', 'users.read', 'like.write']) expect(html).to.include(`<code>${scope}</code>`);
      expect(html).to.not.include('<code>offline.access</code>');
    });
  });

  describe('POST /2/oauth2/token', () => {
    it('answers X\'s token set, not cached', async () => {
      const code = await authorize();
      const response = await postForm(urls.oauth2Token, { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: RFC7636_VERIFIER, client_id: confidential.clientID }, {
        id: confidential.clientID,
        secret: confidential.clientSecret!,
      });
      expect(response.status).to.equal(200);
      expect(response.headers.get('cache-control')).to.equal('no-store');
      const body = (await response.json()) as Record<string, unknown>;
      expect(Object.keys(body).sort()).to.deep.equal(['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type']);
      expect(body).to.include({ token_type: 'bearer', expires_in: 7200, scope: 'tweet.read users.read offline.access' });
    });

    it('answers X\'s 401 unauthorized_client "Missing valid authorization header" to a confidential client without valid Basic credentials', async () => {
      const code = await authorize();
      const grant = { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: RFC7636_VERIFIER };
      const noBasic = await postForm(urls.oauth2Token, { ...grant, client_id: confidential.clientID });
      expect(await expectOAuth2Error(noBasic, 401, 'unauthorized_client')).to.equal('Missing valid authorization header');
      expect(noBasic.headers.get('www-authenticate')).to.match(/^Basic/);
      const wrong = await oauthError(exchange({ ...confidential, clientSecret: 'wrong' }, code), 401, 'unauthorized_client');
      expect(wrong.description).to.equal('Missing valid authorization header');
      expect(wrong.hint).to.match(/client ID, client secret and the client type/);
      await oauthError(exchange({ clientID: 'unknown', clientSecret: 'x' }, code), 401, 'unauthorized_client');
      await expectOAuth2Error(await postForm(urls.oauth2Token, grant), 401, 'unauthorized_client');
      await expectOAuth2Error(await postForm(urls.oauth2Token, { ...grant, client_id: confidential.clientID, client_secret: confidential.clientSecret! }), 401, 'unauthorized_client');
      await expectOAuth2Error(await fetch(urls.oauth2Token, { method: 'POST', headers: { authorization: 'Basic !!!', 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(grant) }), 401, 'unauthorized_client');
      expect((await exchange(confidential, code)).tokens.accessToken, 'the code still works with the right credentials').to.be.a('string');
    });

    it('accepts a client_secret in the body next to Basic, as X does; strictClientAuthentication refuses it', async () => {
      const basic = { id: confidential.clientID, secret: confidential.clientSecret! };
      const grant = async (emulator: XEmulator) => ({
        grant_type: 'authorization_code',
        code: await authorize({}, undefined, emulator),
        redirect_uri: CALLBACK,
        code_verifier: RFC7636_VERIFIER,
        client_id: confidential.clientID,
        client_secret: confidential.clientSecret!,
      });
      const accepted = await postForm(urls.oauth2Token, await grant(x), basic);
      expect(accepted.status).to.equal(200);
      expect(await accepted.json()).to.have.property('access_token');
      const strict = await startXEmulator({ strictClientAuthentication: true });
      try {
        const refused = await postForm(xEndpoints(strict.baseURL).oauth2Token, await grant(strict), basic);
        expect(await expectOAuth2Error(refused, 400, 'invalid_request')).to.match(/not in the body as well/);
        expect(strict.requests.at(-1)?.reason).to.equal('client_secret in the body next to Basic (strictClientAuthentication)');
        // The secret in the body alone is no Basic: refused as X refuses it (401), strict or not.
        const { client_secret: _secret, ...withoutSecret } = await grant(strict);
        const bodyOnly = await postForm(xEndpoints(strict.baseURL).oauth2Token, { ...withoutSecret, client_secret: confidential.clientSecret! });
        await expectOAuth2Error(bodyOnly, 401, 'unauthorized_client');
        expect(strict.requests.at(-1)?.reason).to.equal('confidential client with its secret in the body only, without Basic credentials');
      } finally {
        await strict.close();
      }
    });

    it('refuses a public client sending Basic, and a client_id differing from Basic', async () => {
      const code = await authorize({ client_id: publicClient.clientID });
      const grant = { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: RFC7636_VERIFIER };
      await expectOAuth2Error(await postForm(urls.oauth2Token, { ...grant, client_id: publicClient.clientID }, { id: publicClient.clientID, secret: '' }), 401, 'unauthorized_client');
      await expectOAuth2Error(
        await postForm(urls.oauth2Token, { ...grant, client_id: publicClient.clientID }, { id: confidential.clientID, secret: confidential.clientSecret! }),
        400,
        'invalid_request',
      );
      expect((await exchange(publicClient, code)).tokens.accessToken).to.be.a('string');
    });

    it('refuses a code issued to another client', async () => {
      const code = await authorize({ client_id: publicClient.clientID });
      await oauthError(exchange(confidential, code), 400, 'invalid_request');
      expect((await exchange(publicClient, code)).tokens.accessToken).to.be.a('string');
    });

    it('refuses a redirect_uri other than the one authorized', async () => {
      const code = await authorize();
      const err = await oauthError(exchange(confidential, code, { redirect_uri: 'http://127.0.0.1:3000/other' }), 400, 'invalid_request');
      expect(err.description).to.include('redirect uri');
      expect((await exchange(confidential, code)).tokens.accessToken).to.be.a('string');
    });

    it('checks the PKCE verifier against the S256 challenge (RFC 7636 Appendix B vector)', async () => {
      const code = await authorize({ code_challenge: RFC7636_CHALLENGE });
      await oauthError(exchange(confidential, code, { code_verifier: `${RFC7636_VERIFIER.slice(0, -1)}A` }), 400, 'invalid_request');
      await oauthError(exchange(confidential, code, { code_verifier: 'short' }), 400, 'invalid_request');
      await oauthError(exchange(confidential, code, { code_verifier: RFC7636_CHALLENGE }), 400, 'invalid_request');
      expect((await exchange(confidential, code, { code_verifier: RFC7636_VERIFIER })).tokens.accessToken).to.be.a('string');
    });

    it('takes a code once, and revokes what it gave when it comes back (RFC 6749 section 4.1.2)', async () => {
      const code = await authorize();
      const { tokens } = await exchange(confidential, code);
      const err = await oauthError(exchange(confidential, code), 400, 'invalid_request');
      expect(err.description).to.include('authorization code');
      expect(x.isAccessTokenValid(tokens.accessToken)).to.equal(false);
      expect(x.isRefreshTokenValid(tokens.refreshToken!)).to.equal(false);
    });

    it('answers exactly one of 5 concurrent exchanges of one code, revokes what it gave, and logs each in x.requests', async () => {
      const code = await authorize();
      const from = x.requests.length;
      const results = await Promise.allSettled(Array.from({ length: 5 }, () => exchange(confidential, code)));
      const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      expect(won).to.have.length(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).to.be.instanceOf(XOAuthError).and.include({ status: 400, error: 'invalid_request' });
      // RFC 6749 section 4.1.2: the second use revoked the tokens the first one got.
      expect(x.isAccessTokenValid(won[0]!.tokens.accessToken)).to.equal(false);
      expect(x.isRefreshTokenValid(won[0]!.tokens.refreshToken!)).to.equal(false);
      const log = x.requests.slice(from).filter((r) => r.path === '/2/oauth2/token');
      expect(log.map((r) => r.status).sort()).to.deep.equal([200, 400, 400, 400, 400]);
      expect(log.filter((r) => r.reason === 'authorization code already used; the tokens issued for it were revoked')).to.have.length(4);
    });

    it('still revokes on a second use that comes after the code expired', async () => {
      const code = await authorize();
      const { tokens } = await exchange(confidential, code);
      clock.advance(60);
      await oauthError(exchange(confidential, code), 400, 'invalid_request');
      expect(x.isAccessTokenValid(tokens.accessToken)).to.equal(false);
      expect(x.isRefreshTokenValid(tokens.refreshToken!)).to.equal(false);
      expect(x.requests.at(-1)!.reason).to.equal('authorization code already used; the tokens issued for it were revoked');
    });

    it('remembers a used code as long as the tokens it gave live (accessTokenTtlMs), so a late second use still revokes them', async () => {
      const long = await startXEmulator({ now: clock.now, accessTokenTtlMs: 5 * 3600_000 });
      try {
        const code = await authorize({ client_id: long.apps.confidential.clientID }, undefined, long);
        const grant = { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: RFC7636_VERIFIER };
        const token = xEndpoints(long.baseURL).oauth2Token;
        const { tokens } = await requestOAuth2Token(token, confidential, grant, {}, 'exchange the code');
        clock.advance(3 * 3600);
        expect(long.isAccessTokenValid(tokens.accessToken), 'three hours later, still valid').to.equal(true);
        await oauthError(requestOAuth2Token(token, confidential, grant, {}, 'exchange the code again'), 400, 'invalid_request');
        expect(long.requests.at(-1)!.reason).to.equal('authorization code already used; the tokens issued for it were revoked');
        expect(long.isAccessTokenValid(tokens.accessToken)).to.equal(false);
        expect(long.isRefreshTokenValid(tokens.refreshToken!)).to.equal(false);
      } finally {
        await long.close();
      }
    });

    it('lets a code expire after 30 s', async () => {
      const fresh = await authorize();
      clock.advance(29);
      expect((await exchange(confidential, fresh)).tokens.accessToken).to.be.a('string');
      const stale = await authorize();
      clock.advance(31);
      await oauthError(exchange(confidential, stale), 400, 'invalid_request');
    });

    it('refuses missing parameters, an unknown grant type and a body that is not a form', async () => {
      const code = await authorize();
      const basic = { id: confidential.clientID, secret: confidential.clientSecret! };
      for (const missing of ['code', 'redirect_uri', 'code_verifier']) {
        const grant: Record<string, string> = { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: RFC7636_VERIFIER };
        delete grant[missing];
        expect(await expectOAuth2Error(await postForm(urls.oauth2Token, grant, basic), 400, 'invalid_request')).to.include(missing);
      }
      await expectOAuth2Error(await postForm(urls.oauth2Token, { code }, basic), 400, 'invalid_request');
      await expectOAuth2Error(await postForm(urls.oauth2Token, { grant_type: 'password' }, basic), 400, 'unsupported_grant_type');
      const json = await fetch(urls.oauth2Token, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'authorization_code', code }) });
      await expectOAuth2Error(json, 400, 'invalid_request');
    });

    it('lets access tokens expire after 7200 s', async () => {
      const { tokens } = await exchange(confidential, await authorize());
      clock.advance(7199);
      expect(x.isAccessTokenValid(tokens.accessToken)).to.equal(true);
      expect((await usersMe(tokens.accessToken)).data.id).to.equal(x.users[0].id);
      clock.advance(2);
      expect(x.isAccessTokenValid(tokens.accessToken)).to.equal(false);
      expect(((await rejection(usersMe(tokens.accessToken))) as XAPIError).status).to.equal(401);
      const refreshed = await refresh(confidential, tokens.refreshToken!);
      expect((await usersMe(refreshed.tokens.accessToken)).data.id, 'the refresh token outlives the access token').to.equal(x.users[0].id);
    });

    it('lets access tokens expire after accessTokenTtlMs, says so in expires_in (whole seconds, rounded down), and refreshes into tokens of that lifetime', async () => {
      const short = await startXEmulator({ now: clock.now, accessTokenTtlMs: 90_500 });
      try {
        const shortURLs = xEndpoints(short.baseURL);
        const location = await consent(authorizeURL(short, { client_id: short.apps.confidential.clientID }));
        const grant = { grant_type: 'authorization_code', code: location.searchParams.get('code')!, redirect_uri: CALLBACK, code_verifier: RFC7636_VERIFIER };
        const { tokens, params } = await requestOAuth2Token(shortURLs.oauth2Token, confidential, grant, {}, 'exchange the code');
        expect(params.expires_in).to.equal(90);
        clock.ms += 90_499;
        expect(short.isAccessTokenValid(tokens.accessToken)).to.equal(true);
        clock.ms += 1;
        expect(short.isAccessTokenValid(tokens.accessToken)).to.equal(false);
        const refreshed = await requestOAuth2Token(shortURLs.oauth2Token, confidential, { grant_type: 'refresh_token', refresh_token: tokens.refreshToken! }, {}, 'refresh');
        expect(refreshed.params.expires_in).to.equal(90);
        clock.ms += 90_000;
        expect(short.isAccessTokenValid(refreshed.tokens.accessToken)).to.equal(true);
        clock.ms += 500;
        expect(short.isAccessTokenValid(refreshed.tokens.accessToken)).to.equal(false);
      } finally {
        await short.close();
      }
      // The default emulator keeps X's two hours.
      const { params } = await exchange(confidential, await authorize());
      expect(params.expires_in).to.equal(7200);
    });

    describe('the refresh_token grant', () => {
      it('rotates the refresh token: the old one is refused once used', async () => {
        const { tokens } = await exchange(confidential, await authorize());
        const first = await refresh(confidential, tokens.refreshToken!);
        const err = await oauthError(refresh(confidential, tokens.refreshToken!), 400, 'invalid_request');
        expect(err.description).to.equal('Value passed for the token was invalid.');
        const second = await refresh(confidential, first.tokens.refreshToken!);
        expect(second.tokens.refreshToken).to.not.equal(first.tokens.refreshToken);
      });

      it('refuses a refresh token of another client, or without client authentication', async () => {
        const { tokens } = await exchange(confidential, await authorize());
        await oauthError(refresh(publicClient, tokens.refreshToken!), 400, 'invalid_request');
        await expectOAuth2Error(await postForm(urls.oauth2Token, { grant_type: 'refresh_token', refresh_token: tokens.refreshToken!, client_id: confidential.clientID }), 401, 'unauthorized_client');
        expect((await refresh(confidential, tokens.refreshToken!)).tokens.accessToken).to.be.a('string');
      });

      it('may narrow the scopes, never widen them', async () => {
        const { tokens } = await exchange(confidential, await authorize({ scope: 'tweet.read users.read offline.access like.read' }));
        await oauthError(refresh(confidential, tokens.refreshToken!, { scope: 'tweet.read users.read offline.access dm.read' }), 400, 'invalid_scope');
        const narrowed = await refresh(confidential, tokens.refreshToken!, { scope: 'tweet.read users.read offline.access' });
        expect(narrowed.tokens.scope).to.deep.equal(['tweet.read', 'users.read', 'offline.access']);
      });

      it('keeps the new refresh token at the used one\'s scopes, whatever the access token was narrowed to (RFC 6749 section 6)', async () => {
        const { tokens } = await exchange(confidential, await authorize({ scope: 'tweet.read users.read offline.access like.read' }));
        // Narrowed below offline.access: the access token has the two scopes, yet a refresh token comes back.
        const narrowed = await refresh(confidential, tokens.refreshToken!, { scope: 'tweet.read users.read' });
        expect(narrowed.tokens.scope).to.deep.equal(['tweet.read', 'users.read']);
        expect(narrowed.tokens.refreshToken).to.be.a('string');
        expect(x.isRefreshTokenValid(tokens.refreshToken!)).to.equal(false);
        // That refresh token still holds the whole grant: a refresh without scope gets all four back,
        // and one asking for like.read again is not a widening.
        const whole = await refresh(confidential, narrowed.tokens.refreshToken!);
        expect(whole.tokens.scope).to.deep.equal(['tweet.read', 'users.read', 'offline.access', 'like.read']);
        const again = await refresh(confidential, whole.tokens.refreshToken!, { scope: 'tweet.read users.read like.read' });
        expect(again.tokens.scope).to.deep.equal(['tweet.read', 'users.read', 'like.read']);
        expect(again.tokens.refreshToken).to.be.a('string');
      });
    });
  });

  describe('POST /2/oauth2/revoke', () => {
    it('revokes an access token, and the refresh token still works', async () => {
      const { tokens } = await exchange(confidential, await authorize());
      await revokeOAuth2Token(urls.oauth2Revoke, confidential, tokens.accessToken, 'access_token', {});
      expect(x.isAccessTokenValid(tokens.accessToken)).to.equal(false);
      expect(x.isRefreshTokenValid(tokens.refreshToken!)).to.equal(true);
    });

    it('revokes a refresh token with the access tokens of its grant (RFC 7009 section 2.1), whatever the hint', async () => {
      const { tokens } = await exchange(confidential, await authorize());
      await revokeOAuth2Token(urls.oauth2Revoke, confidential, tokens.refreshToken!, 'access_token', {});
      expect(x.isRefreshTokenValid(tokens.refreshToken!)).to.equal(false);
      expect(x.isAccessTokenValid(tokens.accessToken)).to.equal(false);
      await oauthError(refresh(confidential, tokens.refreshToken!), 400, 'invalid_request');
    });

    it('answers {"revoked":true} for an unknown token (RFC 7009 section 2.2)', async () => {
      const response = await postForm(urls.oauth2Revoke, { token: 'never-issued', token_type_hint: 'access_token', client_id: publicClient.clientID });
      expect(response.status).to.equal(200);
      expect(await response.json()).to.deep.equal({ revoked: true });
    });

    it('requires token_type_hint, as X does (RFC 7009 makes it optional), and revokes nothing without it', async () => {
      const { tokens } = await exchange(confidential, await authorize());
      const response = await postForm(urls.oauth2Revoke, { token: tokens.accessToken, client_id: publicClient.clientID });
      expect(await expectOAuth2Error(response, 400, 'invalid_request')).to.equal('Missing required parameter [token_type_hint].');
      expect(x.isAccessTokenValid(tokens.accessToken)).to.equal(true);
      // revokeToken without a hint sends access_token: the emulator, as X, takes it.
      await revokeOAuth2Token(urls.oauth2Revoke, confidential, tokens.accessToken, undefined, {});
      expect(x.isAccessTokenValid(tokens.accessToken)).to.equal(false);
    });

    it('authenticates the client, and refuses another client\'s token', async () => {
      const { tokens } = await exchange(confidential, await authorize());
      await expectOAuth2Error(await postForm(urls.oauth2Revoke, { token: tokens.accessToken, client_id: confidential.clientID }), 401, 'unauthorized_client');
      await oauthError(revokeOAuth2Token(urls.oauth2Revoke, publicClient, tokens.accessToken, undefined, {}), 400, 'unauthorized_client');
      await expectOAuth2Error(await postForm(urls.oauth2Revoke, { client_id: publicClient.clientID }), 400, 'invalid_request');
      expect(x.isAccessTokenValid(tokens.accessToken)).to.equal(true);
    });

    it('says a token given twice is repeated, not missing (RFC 6749 section 3.1)', async () => {
      const { tokens } = await exchange(confidential, await authorize());
      const body = new URLSearchParams([
        ['token', tokens.accessToken],
        ['token', tokens.refreshToken!],
        ['client_id', publicClient.clientID],
      ]);
      const response = await fetch(urls.oauth2Revoke, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
      expect(await expectOAuth2Error(response, 400, 'invalid_request')).to.equal('token was given more than once.');
      expect(x.isAccessTokenValid(tokens.accessToken)).to.equal(true);
    });
  });

  describe('GET /2/users/me', () => {
    it('answers X\'s problem JSON without a valid bearer token', async () => {
      for (const authorization of [undefined, 'Bearer never-issued', 'Basic abc']) {
        const response = await fetch(urls.usersMe, { headers: authorization ? { authorization } : {} });
        expect(response.status).to.equal(401);
        expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
        expect(await response.json()).to.deep.equal({ title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' });
      }
    });

    it('needs both tweet.read and users.read (403 problem otherwise)', async () => {
      for (const scope of ['users.read', 'tweet.read']) {
        const code = await authorize({ scope });
        const { tokens } = await exchange(confidential, code);
        const response = await fetch(urls.usersMe, { headers: { authorization: `Bearer ${tokens.accessToken}` } });
        expect(response.status, scope).to.equal(403);
        expect(await response.json()).to.include({ title: 'Forbidden', status: 403 });
      }
    });

    it('shows confirmed_email only with the users.email scope, and answers 403 "Missing OAuth2 Scopes" without it', async () => {
      const without = await exchange(confidential, await authorize({ scope: 'tweet.read users.read' }));
      const refused = await fetch(`${urls.usersMe}?user.fields=id,confirmed_email`, { headers: { authorization: `Bearer ${without.tokens.accessToken}` } });
      expect(refused.status).to.equal(403);
      expect(refused.headers.get('content-type')).to.match(/^application\/problem\+json/);
      expect(await refused.json()).to.deep.equal({
        title: 'Missing OAuth2 Scopes',
        type: 'https://api.twitter.com/2/problems/missing-scopes',
        status: 403,
        detail: 'The access token is missing the OAuth2 scopes this request needs: users.email.',
      });
      // The client names the scope to add, and the portal setting.
      const err = await apiError(usersMe(without.tokens.accessToken, ['confirmed_email']));
      expect(err).to.be.instanceOf(XMissingScopesError).and.include({ status: 403, title: 'Missing OAuth2 Scopes' });
      expect((err as XMissingScopesError).missingScopes).to.deep.equal(['users.email']);
      expect(err.hint).to.match(/users\.email/).and.match(/"Request email from users"/);
      expect((await usersMe(without.tokens.accessToken)).data, 'without the field, no refusal').to.include({ username: 'ada' });
      const withEmail = await exchange(confidential, await authorize({ scope: 'tweet.read users.read users.email' }));
      expect((await usersMe(withEmail.tokens.accessToken, ['confirmed_email'])).data.confirmed_email).to.equal('ada@example.com');
      expect((await usersMe(withEmail.tokens.accessToken)).data, 'only when asked for').to.not.have.property('confirmed_email');
      const grace = await exchange(confidential, await authorize({ scope: 'tweet.read users.read users.email' }, x.users[1]!.id));
      expect((await usersMe(grace.tokens.accessToken, ['confirmed_email'])).data, 'a user without e-mail').to.not.have.property('confirmed_email');
    });

    it('leaves confirmed_email out, with no refusal, for a client without "Request email from users", whatever the token\'s scopes', async () => {
      await x.close();
      x = await startXEmulator({ now: clock.now, apps: { confidential: { ...x.apps.confidential, requestEmail: false } } });
      urls = xEndpoints(x.baseURL);
      expect(x.apps.confidential.requestEmail).to.equal(false);
      expect(x.apps.public.requestEmail, 'on by default').to.equal(true);
      const { tokens } = await exchange(confidential, await authorize({ scope: 'tweet.read users.read users.email' }));
      const me = (await usersMe(tokens.accessToken, ['confirmed_email'])).data;
      expect(me).to.include({ username: 'ada' }).and.not.have.property('confirmed_email');
      // The public client, with the setting on, still gets it.
      const viaPublic = await exchange(publicClient, await authorize({ scope: 'tweet.read users.read users.email', client_id: x.apps.public.clientID }));
      expect((await usersMe(viaPublic.tokens.accessToken, ['confirmed_email'])).data.confirmed_email).to.equal('ada@example.com');
      for (const requestEmail of ['no', 1, null]) {
        const err = await rejection(startXEmulator({ apps: { public: { ...x.apps.public, requestEmail } as never } }));
        expect(err, String(requestEmail)).to.be.instanceOf(TypeError).with.property('message').that.matches(/`apps.public.requestEmail` must be a boolean/);
      }
    });

    it('honours user.fields, and refuses an unknown one with a 400 problem', async () => {
      const { tokens } = await exchange(confidential, await authorize());
      expect((await usersMe(tokens.accessToken)).data).to.deep.equal({ id: x.users[0].id, name: 'Ada Lovelace', username: 'ada' });
      const rich = (await usersMe(tokens.accessToken, ['description', 'location', 'protected', 'verified', 'public_metrics'])).data;
      expect(rich).to.include({ description: x.users[0].description, location: 'London', protected: false, verified: false });
      expect(rich.public_metrics).to.be.an('object');
      const response = await fetch(`${urls.usersMe}?user.fields=description,shoe_size`, { headers: { authorization: `Bearer ${tokens.accessToken}` } });
      expect(response.status).to.equal(400);
      const body = (await response.json()) as { title: string; errors: Array<{ parameters: Record<string, string[]> }> };
      expect(body.title).to.equal('Invalid Request');
      expect(body.errors[0]!.parameters).to.deep.equal({ 'user.fields': ['shoe_size'] });
    });

    it('refuses, as X does, a query parameter other than expansions, tweet.fields and user.fields, and one given twice', async () => {
      const { tokens } = await exchange(confidential, await authorize());
      const headers = { authorization: `Bearer ${tokens.accessToken}` };
      const cases: Array<[string, Record<string, string[]>, string]> = [
        ['user.fields=id&include_email=true', { include_email: ['true'] }, 'The query parameter [include_email] is not one of [expansions,tweet.fields,user.fields]'],
        ['user.fields=name&user.fields=url', { 'user.fields': ['name', 'url'] }, 'Duplicate parameters are not allowed: [user.fields]'],
      ];
      for (const [query, parameters, message] of cases) {
        const response = await fetch(`${urls.usersMe}?${query}`, { headers });
        expect(response.status, query).to.equal(400);
        const body = (await response.json()) as { title: string; type: string; errors: Array<{ parameters: Record<string, string[]>; message: string }> };
        expect(body).to.include({ title: 'Invalid Request', type: 'https://api.twitter.com/2/problems/invalid-request' });
        expect(body.errors).to.deep.equal([{ parameters, message }]);
      }
      // Its own three, once each, are fine.
      expect((await fetch(`${urls.usersMe}?expansions=pinned_tweet_id&tweet.fields=lang&user.fields=name`, { headers })).status).to.equal(200);
    });

    it('refuses an app-only bearer token with 403 Unsupported Authentication', async () => {
      const basic = { id: x.apps.oauth1.consumerKey, secret: x.apps.oauth1.consumerSecret };
      const { access_token: bearer } = (await (await postForm(`${x.baseURL}/oauth2/token`, { grant_type: 'client_credentials' }, basic)).json()) as { access_token: string };
      const response = await fetch(urls.usersMe, { headers: { authorization: `Bearer ${bearer}` } });
      expect(response.status).to.equal(403);
      expect(await response.json()).to.include({ title: 'Unsupported Authentication', status: 403 });
    });

    it('takes OAuth 1.0a user context too, as X API v2 does', async () => {
      const requestToken = new URLSearchParams(
        await (await signedFetch(x, { method: 'POST', path: '/oauth/request_token', oauth: { oauth_callback: CALLBACK } })).text(),
      );
      const location = await consent(`${x.baseURL}/oauth/authenticate?oauth_token=${requestToken.get('oauth_token')}`);
      const access = new URLSearchParams(
        await (
          await signedFetch(x, {
            method: 'POST',
            path: '/oauth/access_token',
            token: requestToken.get('oauth_token')!,
            tokenSecret: requestToken.get('oauth_token_secret')!,
            oauth: { oauth_verifier: location.searchParams.get('oauth_verifier')! },
          })
        ).text(),
      );
      const url = `${urls.usersMe}?user.fields=confirmed_email`;
      const authorization = signOAuth1Request({
        method: 'GET',
        url,
        consumerKey: x.apps.oauth1.consumerKey,
        consumerSecret: x.apps.oauth1.consumerSecret,
        token: access.get('oauth_token')!,
        tokenSecret: access.get('oauth_token_secret')!,
      }).header;
      const response = await fetch(url, { headers: { authorization } });
      expect(response.status).to.equal(200);
      expect(((await response.json()) as { data: Record<string, unknown> }).data).to.include({ id: x.users[0].id, confirmed_email: 'ada@example.com' });
      const bad = await fetch(url, { headers: { authorization: authorization.replace(/oauth_signature="[^"]+"/, 'oauth_signature="AAAA"') } });
      expect(bad.status).to.equal(401);
    });
  });

  describe('PKCE plain, as X documents it', () => {
    it('accepts code_challenge_method=plain: the verifier must equal the challenge', async () => {
      const verifier = 'plain-verifier-0123456789-0123456789-0123456789';
      const code = await authorize({ code_challenge_method: 'plain', code_challenge: verifier });
      await oauthError(exchange(confidential, code, { code_verifier: `${verifier}x` }), 400, 'invalid_request');
      expect(x.requests.at(-1)?.reason).to.equal('code_verifier does not match the plain code_challenge');
      const again = await authorize({ code_challenge_method: 'plain', code_challenge: verifier });
      expect((await exchange(confidential, again, { code_verifier: verifier })).tokens.accessToken).to.be.a('string');
      // X's own example (docs "OAuth 2.0 Authorization Code Flow with PKCE"): code_challenge=challenge, code_verifier=challenge.
      const documented = await authorize({ code_challenge_method: 'plain', code_challenge: 'challenge' });
      expect((await exchange(confidential, documented, { code_verifier: 'challenge' })).tokens.accessToken).to.be.a('string');
      // S256 still checks the hash: the plain verifier of an S256 challenge is refused.
      const s256 = await authorize();
      await oauthError(exchange(confidential, s256, { code_verifier: RFC7636_CHALLENGE }), 400, 'invalid_request');
    });
  });

  describe('rate limits of GET /2/users/me', () => {
    const limitOf = (response: Response) => ({
      limit: response.headers.get('x-rate-limit-limit'),
      remaining: response.headers.get('x-rate-limit-remaining'),
      reset: response.headers.get('x-rate-limit-reset'),
    });

    it('counts 75 requests per 15 minutes per user in x-rate-limit-*, then answers 429 until the reset', async () => {
      const ada = (await exchange(confidential, await authorize())).tokens.accessToken;
      const grace = (await exchange(confidential, await authorize({}, x.users[1]!.id))).tokens.accessToken;
      const get = (token: string, fields = '') => fetch(`${urls.usersMe}${fields}`, { headers: { authorization: `Bearer ${token}` } });
      const reset = String(Math.ceil((clock.ms + 15 * 60_000) / 1000));
      const first = await get(ada);
      expect(limitOf(first)).to.deep.equal({ limit: '75', remaining: '74', reset });
      // Every answer to a known caller carries them, refusals too.
      expect(limitOf(await get(ada, '?user.fields=shoe_size'))).to.include({ remaining: '73' });
      expect(limitOf(await get(ada, '?user.fields=confirmed_email'))).to.include({ remaining: '72' });
      for (let i = 0; i < 72; i++) await get(ada);
      const over = await get(ada);
      expect(over.status).to.equal(429);
      expect(limitOf(over)).to.deep.equal({ limit: '75', remaining: '0', reset });
      expect(await over.json()).to.deep.equal({ title: 'Too Many Requests', type: 'about:blank', status: 429, detail: 'Too Many Requests' });
      expect(limitOf(await get(grace)), 'another user has a window of their own').to.include({ remaining: '74' });

      const err = await rejection(usersMe(ada));
      expect(err).to.be.instanceOf(XRateLimitError).and.not.instanceOf(XUsageCapError);
      expect((err as XRateLimitError).resetAt).to.deep.equal(new Date(Number(reset) * 1000));

      clock.advance(15 * 60);
      const after = await get(ada);
      expect(after.status).to.equal(200);
      expect(limitOf(after).remaining).to.equal('74');
    });
  });

  describe('X\'s billing answers through XOAuth2PkceStrategy', () => {
    const strategyFor = (options: Partial<XOAuth2StrategyOptions> = {}) =>
      new XOAuth2PkceStrategy(
        { clientID: confidential.clientID, clientSecret: confidential.clientSecret!, callbackURL: CALLBACK, baseURL: x.baseURL, authorizationURL: x.authorizationURL, ...options },
        (_a: string, _r: string | undefined, profile: XProfile, done: XVerifyCallback) => done(null, profile),
      );

    it('signs in when X answers, with X\'s profile', async () => {
      const outcome = await signInThrough(strategyFor());
      expect(outcome.type).to.equal('success');
      expect(outcome.user).to.include({ id: x.users[0].id, username: 'ada' });
    });

    it('errors with XCreditsDepletedError on \'credits-depleted\', never retried, with a message for the person', async () => {
      x.failNext('/2/users/me', 'credits-depleted');
      const from = x.requests.length;
      const outcome = await signInThrough(strategyFor());
      expect(outcome.type).to.equal('error');
      const err = outcome.error as XCreditsDepletedError;
      expect(err).to.be.instanceOf(XCreditsDepletedError).and.include({ status: 402, title: 'CreditsDepleted', type: 'https://api.twitter.com/2/problems/credits', accountId: '1500000000000000999' });
      expect(err.userMessage).to.equal('Sign-in with X is unavailable on this site right now. Try again later.');
      expect(x.requests.slice(from).filter((r) => r.path === '/2/users/me').map((r) => [r.status, r.reason])).to.deep.equal([[402, "injected by failNext ('credits-depleted')"]]);
    });

    it('errors with XUsageCapError on \'usage-cap\', which a rate-limit handler does not mistake for a rate limit', async () => {
      x.failNext('/2/users/me', 'usage-cap');
      const outcome = await signInThrough(strategyFor());
      expect(outcome.error).to.be.instanceOf(XUsageCapError).and.not.instanceOf(XRateLimitError);
      expect(outcome.error).to.include({ status: 429, period: 'Monthly', capScope: 'Product' });
      expect((outcome.error as XUsageCapError).rateLimit?.remaining).to.equal(74);
    });

    it('errors with X\'s 503 on \'over-capacity\', telling the person to try again in a few minutes', async () => {
      x.failNext('/2/users/me', 'over-capacity');
      const outcome = await signInThrough(strategyFor());
      expect(outcome.error).to.be.instanceOf(XAPIError).and.include({ status: 503, title: 'Service Unavailable' });
      expect((outcome.error as XAPIError).hint).to.match(/retry later/);
      expect((outcome.error as XAPIError).userMessage).to.equal('X is not available right now. Try again in a few minutes.');
    });

    it('errors with XMissingScopesError naming users.email when confirmed_email is asked without includeEmail', async () => {
      const outcome = await signInThrough(strategyFor({ userFields: ['id', 'username', 'confirmed_email'] }));
      expect(outcome.type).to.equal('error');
      const err = outcome.error as XMissingScopesError;
      expect(err).to.be.instanceOf(XMissingScopesError).and.include({ status: 403 });
      expect(err.missingScopes).to.deep.equal(['users.email']);
      expect(err.message).to.match(/includeEmail: true/).and.match(/Request email from users/);
      const withEmail = await signInThrough(strategyFor({ userFields: ['id', 'username', 'confirmed_email'], includeEmail: true }));
      expect((withEmail.user as XProfile).emails).to.deep.equal([{ value: 'ada@example.com' }]);
    });
  });
});
