// The example app's start-up decisions (example-app/config.ts): emulator mode with no X
// credentials, real-X mode with them, and a clear error for each bad setting.
import { expect } from 'chai';
import { EXAMPLE_EMULATOR_OPTIONS, ExampleConfigError, MIN_SESSION_SECRET_LENGTH, callbackURLs, normalizePublicURL, publicURLRedirect, readEnvironment, redisURLForDisplay } from '../example-app/config';

const SECRET = 's'.repeat(MIN_SESSION_SECRET_LENGTH);

function errorOf(env: NodeJS.ProcessEnv): ExampleConfigError {
  try {
    readEnvironment(env);
  } catch (err) {
    expect(err).to.be.instanceOf(ExampleConfigError);
    return err as ExampleConfigError;
  }
  throw new Error('expected readEnvironment to throw');
}

describe('example app configuration', () => {
  it('runs on the emulator, on 127.0.0.1:3000 with a random session secret, when no X credential is set', () => {
    const a = readEnvironment({});
    const b = readEnvironment({});
    expect(a).to.include({ mode: 'emulator', port: 3000, host: '127.0.0.1' });
    if (a.mode !== 'emulator' || b.mode !== 'emulator') throw new Error('unreachable');
    expect(a.sessionSecret).to.have.length.of.at.least(32).and.not.equal(b.sessionSecret);
    expect(readEnvironment({ PUBLIC_URL: 'https://app.example.com' })).to.deep.include({ ignored: ['PUBLIC_URL'] });
  });

  it('talks to the real X when X credentials are set, with the callback URLs under PUBLIC_URL', () => {
    const plan = readEnvironment({ X_CLIENT_ID: 'cid', X_CLIENT_SECRET: 'csec', X_CONSUMER_KEY: 'ck', X_CONSUMER_SECRET: 'cs', SESSION_SECRET: SECRET, PUBLIC_URL: 'https://app.example.com/', PORT: '8080' });
    if (plan.mode !== 'x') throw new Error(`expected real-X mode, got ${plan.mode}`);
    expect(plan.port).to.equal(8080);
    expect(plan.config).to.deep.include({ publicURL: 'https://app.example.com', sessionSecret: SECRET, trustProxy: true });
    expect(plan.config.x).to.deep.equal({ oauth2: { clientID: 'cid', clientSecret: 'csec' }, oauth1: { consumerKey: 'ck', consumerSecret: 'cs' } });
    expect(callbackURLs(plan.config.publicURL).oauth2).to.match(/^https:\/\/app\.example\.com\//);
    // Behind a proxy (PUBLIC_URL names another host): every interface, as the proxy needs.
    expect(plan.host).to.equal(undefined);
  });

  it('listens on 127.0.0.1 alone with the real X while PUBLIC_URL is this machine\'s loopback, unless HOST says otherwise', () => {
    const real = { X_CLIENT_ID: 'cid', SESSION_SECRET: SECRET };
    expect(readEnvironment(real).host, 'the default PUBLIC_URL, http://127.0.0.1:3000').to.equal('127.0.0.1');
    expect(readEnvironment({ ...real, PUBLIC_URL: 'http://localhost:3000' }).host).to.equal('127.0.0.1');
    // IPv6's loopback is served on IPv6's: 127.0.0.1 would refuse every request to [::1].
    expect(readEnvironment({ ...real, PUBLIC_URL: 'http://[::1]:3000' }).host).to.equal('::1');
    expect(readEnvironment({ ...real, HOST: '0.0.0.0' }).host).to.equal('0.0.0.0');
    expect(readEnvironment({ ...real, PUBLIC_URL: 'http://192.168.1.20:3000' }).host).to.equal(undefined);
  });

  it('offers only the sign-ins it has credentials for', () => {
    const plan = readEnvironment({ X_CLIENT_ID: 'cid', SESSION_SECRET: SECRET });
    if (plan.mode !== 'x') throw new Error('expected real-X mode');
    expect(plan.config.x.oauth1).to.equal(undefined);
    expect(plan.config.x.oauth2).to.deep.equal({ clientID: 'cid', clientSecret: undefined });
    // 127.0.0.1, as X recommends for local callback URLs: one host rule for the app and its callbacks.
    expect(plan.config.publicURL).to.equal('http://127.0.0.1:3000');
    expect(callbackURLs(plan.config.publicURL)).to.deep.equal({ oauth2: 'http://127.0.0.1:3000/auth/x/callback', oauth1: 'http://127.0.0.1:3000/auth/x/oauth1/callback' });
  });

  it('redirects a request at another host to the same path at PUBLIC_URL, and leaves PUBLIC_URL\'s host alone', () => {
    expect(publicURLRedirect('http://127.0.0.1:3000', 'localhost:3000', '/auth/x?x=1')).to.equal('http://127.0.0.1:3000/auth/x?x=1');
    expect(publicURLRedirect('https://app.example.com', 'www.app.example.com', '/auth/x')).to.equal('https://app.example.com/auth/x');
    expect(publicURLRedirect('http://127.0.0.1:3000', undefined, '/auth/x')).to.equal('http://127.0.0.1:3000/auth/x');
    expect(publicURLRedirect('http://127.0.0.1:3000', '127.0.0.1:3000', '/auth/x')).to.equal(undefined);
    expect(publicURLRedirect('https://app.example.com', 'APP.example.com', '/auth/x')).to.equal(undefined);
    // A path that looks like another origin stays a path of PUBLIC_URL.
    expect(new URL(publicURLRedirect('http://127.0.0.1:3000', 'evil.example', '//evil.example/x')!).origin).to.equal('http://127.0.0.1:3000');
  });

  it('starts the emulator with an OAuth 1.0a app of the permission the app uses: read only, no e-mail', () => {
    expect(EXAMPLE_EMULATOR_OPTIONS.apps?.oauth1).to.deep.include({ accessLevel: 'read', requestEmail: false });
  });


  const bad: Array<[string, NodeJS.ProcessEnv, RegExp]> = [
    ['no SESSION_SECRET in real-X mode', { X_CLIENT_ID: 'cid' }, /SESSION_SECRET is not set/],
    ['a short SESSION_SECRET', { X_CLIENT_ID: 'cid', SESSION_SECRET: 'short' }, /shorter than 32/],
    ['a client secret without a client ID', { X_CLIENT_SECRET: 'csec-value', SESSION_SECRET: SECRET }, /X_CLIENT_ID is not/],
    ['half of the consumer key pair', { X_CONSUMER_KEY: 'ck', SESSION_SECRET: SECRET }, /X_CONSUMER_KEY and X_CONSUMER_SECRET/],
    ['PORT=0 without PUBLIC_URL', { X_CLIENT_ID: 'cid', SESSION_SECRET: SECRET, PORT: '0' }, /PUBLIC_URL/],
    ['a PORT that is not a number', { PORT: 'abc' }, /PORT must be a port number/],
    ['a PUBLIC_URL with a path', { X_CLIENT_ID: 'cid', SESSION_SECRET: SECRET, PUBLIC_URL: 'https://a.example/app' }, /origin with no path/],
    ['a REDIS_URL that is not a redis:// URL', { REDIS_URL: 'http://user:hunter2-password@cache.example:6379' }, /REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/],
    ['a REDIS_URL that is not a URL', { X_CLIENT_ID: 'cid', SESSION_SECRET: SECRET, REDIS_URL: 'cache.example:6379' }, /REDIS_URL must be/],
  ];
  for (const [what, env, message] of bad) {
    it(`refuses ${what}, saying what to set`, () => {
      const err = errorOf(env);
      expect(err.message).to.match(message);
      for (const value of Object.values(env)) if (value && value.length >= 8) expect(err.message).to.not.include(value);
    });
  }

  it('keeps sessions, tokens, lock and replay guard in memory without REDIS_URL, and in Redis with it, in either mode', () => {
    expect(readEnvironment({}).redisURL).to.equal(undefined);
    expect(readEnvironment({ REDIS_URL: 'redis://localhost:6379' }).redisURL).to.equal('redis://localhost:6379');
    const real = readEnvironment({ X_CLIENT_ID: 'cid', SESSION_SECRET: SECRET, REDIS_URL: 'rediss://:pw-secret-123@cache.example:6380/1' });
    expect(real).to.include({ mode: 'x', redisURL: 'rediss://:pw-secret-123@cache.example:6380/1' });
    // The start-up message shows where Redis is, never its password.
    expect(redisURLForDisplay('rediss://:pw-secret-123@cache.example:6380/1')).to.equal('rediss://:***@cache.example:6380/1');
    expect(redisURLForDisplay('redis://localhost:6379')).to.equal('redis://localhost:6379');
  });

  it('normalises PUBLIC_URL to an origin and refuses what is not an http(s) URL', () => {
    expect(normalizePublicURL('http://127.0.0.1:3000/')).to.equal('http://127.0.0.1:3000');
    expect(() => normalizePublicURL('ftp://x')).to.throw(ExampleConfigError);
    expect(() => normalizePublicURL('not a url')).to.throw(ExampleConfigError, /not a URL/);
  });
});
