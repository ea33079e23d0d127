// x.oauth2StrategyOptions() and x.oauth1StrategyOptions(): every URL and key of one emulator app
// in one object, checked against the app's callback URLs, and enough to sign in.
import { expect } from 'chai';
import { XOAuth1Strategy } from '../../lib/oauth1-strategy';
import { XOAuth2PkceStrategy } from '../../lib/oauth2-strategy';
import { startXEmulator, type XEmulator } from '../../lib/testing';
import { fakeRequest, runStrategy } from '../support/passport-harness';

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

  it('refuses a callbackURL the app does not accept, naming the ones it does', async () => {
    expect(() => x.oauth2StrategyOptions('confidential', { callbackURL: 'https://app.example/cb' })).to.throw(TypeError, /loopback URL/);
    expect(() => x.oauth1StrategyOptions({ callbackURL: '/auth/x/callback' })).to.throw(TypeError, /does not accept the callbackURL/);
    const custom = await startXEmulator({
      apps: { public: { name: 'Registered', clientID: 'registered-client', callbackURLs: ['https://app.example/cb'] } },
    });
    try {
      expect(custom.oauth2StrategyOptions('public', { callbackURL: 'https://app.example/cb' }).clientID).to.equal('registered-client');
      expect(() => custom.oauth2StrategyOptions('public', { callbackURL: 'https://app.example/other' })).to.throw(TypeError, /one of https:\/\/app\.example\/cb/);
    } finally {
      await custom.close();
    }
  });

  it('refuses a missing callbackURL and an unknown client kind', () => {
    expect(() => x.oauth1StrategyOptions(undefined as unknown as { callbackURL: string })).to.throw(TypeError, /callbackURL/);
    expect(() => x.oauth2StrategyOptions('confidential', {} as { callbackURL: string })).to.throw(TypeError, /callbackURL/);
    expect(() => x.oauth2StrategyOptions('web' as 'public', { callbackURL: CALLBACK })).to.throw(TypeError, /'confidential'.*'public'/);
  });
});
