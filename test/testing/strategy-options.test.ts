// x.oauth2StrategyOptions() and x.oauth1StrategyOptions(): every URL and key of one emulator app
// in one object, the callback URL registered with that app, and enough to sign in.
import { expect } from 'chai';
import { XOAuth1Strategy } from '../../lib/oauth1-strategy';
import { XOAuth2PkceStrategy } from '../../lib/oauth2-strategy';
import { startXEmulator, type XEmulator } from '../../lib/testing';
import { fakeRequest, runStrategy } from '../support/passport-harness';
import { authorizeURL } from './emulator-client';

const CALLBACK = 'http://127.0.0.1:3000/auth/x/callback';

describe('testing kit: ready-made strategy options', () => {
  let x: XEmulator;
  beforeEach(async () => {
    x = await startXEmulator();
  });
  afterEach(() => x.close());

  it('gives the confidential client\'s ID, secret and type, and the emulator\'s baseURL and consent page', () => {
    expect(x.oauth2StrategyOptions('confidential', { callbackURL: CALLBACK })).to.deep.equal({
      clientID: x.apps.confidential.clientID,
      clientSecret: x.apps.confidential.clientSecret,
      clientType: 'confidential',
      callbackURL: CALLBACK,
      baseURL: x.baseURL,
      authorizationURL: `${x.url}/i/oauth2/authorize`,
    });
  });

  it('gives the public client without a secret', () => {
    const options = x.oauth2StrategyOptions('public', { callbackURL: CALLBACK });
    expect(options).to.deep.equal({ clientID: x.apps.public.clientID, clientType: 'public', callbackURL: CALLBACK, baseURL: x.baseURL, authorizationURL: x.authorizationURL });
    expect(options).not.to.have.property('clientSecret');
  });

  it('gives the OAuth 1.0a app\'s keys and the emulator\'s baseURL', () => {
    expect(x.oauth1StrategyOptions({ callbackURL: CALLBACK })).to.deep.equal({
      consumerKey: x.apps.oauth1.consumerKey,
      consumerSecret: x.apps.oauth1.consumerSecret,
      callbackURL: CALLBACK,
      baseURL: x.baseURL,
    });
  });

  it('gives a fresh object each time, so a strategy may keep or change it', () => {
    const first = x.oauth2StrategyOptions('confidential', { callbackURL: CALLBACK });
    first.callbackURL = 'http://127.0.0.1:1/changed';
    expect(x.oauth2StrategyOptions('confidential', { callbackURL: CALLBACK }).callbackURL).to.equal(CALLBACK);
  });

  it('builds strategies that send the browser to the emulator\'s consent pages', async () => {
    for (const strategy of [
      new XOAuth2PkceStrategy(x.oauth2StrategyOptions('confidential', { callbackURL: CALLBACK }), (_a, _r, profile, done) => done(null, profile)),
      new XOAuth2PkceStrategy(x.oauth2StrategyOptions('public', { callbackURL: CALLBACK }), (_a, _r, profile, done) => done(null, profile)),
      new XOAuth1Strategy(x.oauth1StrategyOptions({ callbackURL: CALLBACK }), (_t, _s, profile, done) => done(null, profile)),
    ]) {
      const result = await runStrategy(strategy, fakeRequest({ session: {}, headers: { host: '127.0.0.1:3000' } }));
      expect(result.type, result.error?.message).to.equal('redirect');
      expect(new URL(result.url!).origin).to.equal(x.url);
      // The kit answers that page: the strategy is pointed here.
      expect(await x.consent(result.url!)).to.match(/^http:\/\/127\.0\.0\.1:3000\/auth\/x\/callback\?/);
    }
    expect(x.oauth2StrategyOptions('public', { callbackURL: CALLBACK }).clientType).to.equal('public');
  });

  it('registers the callbackURL with that app only, exactly, as in the portal: any other URL is still refused', async () => {
    const url = 'http://127.0.0.1:4321/auth/x/callback';
    const consentStatus = (client: string, redirectURI: string) => fetch(authorizeURL(x, { client_id: client, redirect_uri: redirectURI })).then((r) => r.status);
    expect(await consentStatus(x.apps.confidential.clientID, url)).to.equal(400);
    expect(x.oauth2StrategyOptions('confidential', { callbackURL: url }).callbackURL).to.equal(url);
    expect(x.apps.confidential.callbackURLs).to.include(url);
    expect(x.apps.public.callbackURLs).to.not.include(url);
    expect(await consentStatus(x.apps.confidential.clientID, url)).to.equal(200);
    // X matches exactly: the other loopback name, another port or a trailing slash is another URL.
    for (const near of ['http://localhost:4321/auth/x/callback', 'http://127.0.0.1:4322/auth/x/callback', `${url}/`]) {
      expect(await consentStatus(x.apps.confidential.clientID, near), near).to.equal(400);
    }
    expect(await consentStatus(x.apps.public.clientID, url), 'another app').to.equal(400);
    x.oauth2StrategyOptions('confidential', { callbackURL: url });
    expect(x.apps.confidential.callbackURLs.filter((u) => u === url), 'registered once').to.have.length(1);
    x.oauth1StrategyOptions({ callbackURL: 'https://app.example/oauth1' });
    expect(x.apps.oauth1.callbackURLs).to.include('https://app.example/oauth1');
  });

  it('refuses a callbackURL X would not register, naming the app, and an 11th URL', () => {
    expect(() => x.oauth1StrategyOptions({ callbackURL: '/auth/x/callback' })).to.throw(TypeError, /the emulator's OAuth 1\.0a app does not accept the callbackURL \/auth\/x\/callback: .*not an absolute URL/);
    expect(() => x.oauth2StrategyOptions('public', { callbackURL: 'javascript:alert(1)' })).to.throw(TypeError, /public client does not accept the callbackURL.*scheme/);
    expect(() => x.oauth2StrategyOptions('public', { callbackURL: 'https://app.example/cb#top' })).to.throw(TypeError, /#fragment/);
    for (let i = 0; i < 8; i++) x.oauth2StrategyOptions('public', { callbackURL: `https://app.example/cb${i}` });
    expect(() => x.oauth2StrategyOptions('public', { callbackURL: 'https://app.example/cb8' })).to.throw(RangeError, /public client does not accept the callbackURL.*10 callback URLs/);
  });

  it('refuses a missing callbackURL and an unknown client kind', () => {
    expect(() => x.oauth1StrategyOptions(undefined as unknown as { callbackURL: string })).to.throw(TypeError, /callbackURL/);
    expect(() => x.oauth2StrategyOptions('confidential', {} as { callbackURL: string })).to.throw(TypeError, /callbackURL/);
    expect(() => x.oauth2StrategyOptions('web' as 'public', { callbackURL: CALLBACK })).to.throw(TypeError, /'confidential'.*'public'/);
  });
});
