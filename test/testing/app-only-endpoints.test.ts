// The emulator's app-only endpoints (X doc "Application-only authentication"), over real HTTP,
// driven with passport-x's fetchBearerToken / invalidateBearer.
import { expect } from 'chai';
import { fetchBearerToken, invalidateBearer, xEndpoints, type OAuth1Consumer } from '../../lib/endpoints';
import { XAPIError } from '../../lib/errors';
import { startXEmulator, type XEmulator } from '../../lib/testing';
import { expectXError, postForm } from './emulator-client';

describe('emulator: app-only authentication', () => {
  let x: XEmulator;
  let urls: ReturnType<typeof xEndpoints>;
  let consumer: OAuth1Consumer;

  beforeEach(async () => {
    x = await startXEmulator();
    urls = xEndpoints(x.baseURL);
    consumer = { consumerKey: x.apps.oauth1.consumerKey, consumerSecret: x.apps.oauth1.consumerSecret };
  });
  afterEach(() => x.close());

  async function apiError(promise: Promise<unknown>): Promise<XAPIError> {
    const err = await promise.then(
      () => expect.fail('expected a rejection'),
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(XAPIError);
    return err as XAPIError;
  }

  describe('POST /oauth2/token', () => {
    it('issues one bearer token per app: asking again returns the same one', async () => {
      const first = await fetchBearerToken(urls.bearerToken, consumer, {});
      const second = await fetchBearerToken(urls.bearerToken, consumer, {});
      expect(first).to.be.a('string').and.have.length.above(20);
      expect(second).to.equal(first);
      expect(x.isAccessTokenValid(first)).to.equal(true);
    });

    it('answers 403 code 99 to a wrong secret, an unknown key or no Basic credentials', async () => {
      for (const bad of [{ ...consumer, consumerSecret: 'wrong' }, { ...consumer, consumerKey: 'unknown' }]) {
        const err = await apiError(fetchBearerToken(urls.bearerToken, bad, {}));
        expect(err.status).to.equal(403);
        expect(err.xCode).to.equal(99);
      }
      await expectXError(await postForm(urls.bearerToken, { grant_type: 'client_credentials' }), 403, 99);
    });

    it('decodes form-encoded Basic credentials (RFC 6749 section 2.3.1)', async () => {
      const odd = await startXEmulator({ apps: { oauth1: { ...x.apps.oauth1, consumerKey: 'key with spaces+plus', consumerSecret: 'sécret:with/colon' } } });
      try {
        const token = await fetchBearerToken(xEndpoints(odd.baseURL).bearerToken, { consumerKey: 'key with spaces+plus', consumerSecret: 'sécret:with/colon' }, {});
        expect(odd.isAccessTokenValid(token)).to.equal(true);
      } finally {
        await odd.close();
      }
    });

    it('answers 403 code 170 without grant_type=client_credentials', async () => {
      const basic = { id: consumer.consumerKey, secret: consumer.consumerSecret };
      await expectXError(await postForm(urls.bearerToken, {}, basic), 403, 170);
      await expectXError(await postForm(urls.bearerToken, { grant_type: 'password' }, basic), 403, 170);
      expect((await postForm(urls.bearerToken, { grant_type: 'client_credentials' }, basic)).status).to.equal(200);
    });
  });

  describe('POST /oauth2/invalidate_token', () => {
    it('invalidates the bearer token, and the next request gets a new one', async () => {
      const token = await fetchBearerToken(urls.bearerToken, consumer, {});
      await invalidateBearer(urls.invalidateBearerToken, consumer, token, {});
      expect(x.isAccessTokenValid(token)).to.equal(false);
      const fresh = await fetchBearerToken(urls.bearerToken, consumer, {});
      expect(fresh).to.not.equal(token);
    });

    it('refuses a token that is not the app\'s current bearer with 403 code 99, as X does, and bad credentials too', async () => {
      const token = await fetchBearerToken(urls.bearerToken, consumer, {});
      const unknown = await apiError(invalidateBearer(urls.invalidateBearerToken, consumer, 'never-issued', {}));
      expect(unknown.status).to.equal(403);
      expect(unknown.xCode).to.equal(99);
      expect(unknown.message).to.match(/already invalidated/);
      const wrong = await apiError(invalidateBearer(urls.invalidateBearerToken, { ...consumer, consumerSecret: 'wrong' }, token, {}));
      expect(wrong.xCode).to.equal(99);
      expect(x.isAccessTokenValid(token)).to.equal(true);
      // Invalidated once, it is unknown: the helper sees X's 403 code 99.
      await invalidateBearer(urls.invalidateBearerToken, consumer, token, {});
      const again = await apiError(invalidateBearer(urls.invalidateBearerToken, consumer, token, {}));
      expect(again).to.include({ status: 403, xCode: 99 });
      expect(x.requests.filter((r) => r.path === '/oauth2/invalidate_token').map((r) => [r.status, r.reason])).to.deep.equal([
        [403, 'unknown or already invalidated bearer token'],
        [403, 'wrong consumer secret'],
        [200, undefined],
        [403, 'unknown or already invalidated bearer token'],
      ]);
    });

    it('issues bearer tokens shaped like X\'s, with %2F and %3D in them, and takes them back as X\'s curl example sends them, not encoded again', async () => {
      const token = await fetchBearerToken(urls.bearerToken, consumer, {});
      expect(token).to.match(/^A{22}[A-Za-z0-9]+%2F[A-Za-z0-9]+%2B[A-Za-z0-9]+%3D[A-Za-z0-9]+$/);
      const basic = { id: consumer.consumerKey, secret: consumer.consumerSecret };
      const post = (body: string): Promise<Response> =>
        fetch(urls.invalidateBearerToken, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${basic.id}:${basic.secret}`).toString('base64')}` },
          body,
        });
      // Encoded once more (%252F), it is not the token X's examples send: refused, and still valid.
      const twice = await post(`access_token=${encodeURIComponent(token)}`);
      expect(twice.status).to.equal(403);
      expect(x.isAccessTokenValid(token)).to.equal(true);
      // The helper sends it as issued, X's curl example's way, and checks X's echo.
      await invalidateBearer(urls.invalidateBearerToken, consumer, token, {});
      expect(x.isAccessTokenValid(token)).to.equal(false);
      const next = await fetchBearerToken(urls.bearerToken, consumer, {});
      const raw = await post(`access_token=${next}`);
      expect(raw.status).to.equal(200);
      expect(await raw.json()).to.deep.equal({ access_token: next });
    });
  });
});
