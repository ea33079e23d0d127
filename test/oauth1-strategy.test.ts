import { expect } from 'chai';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { expectNoSecrets, expectSecretsOutOfPrint, failureHint } from './support/assertions';
import { XFailureCode, type XFailureInfo } from '../lib/failure';
import { EncryptedCookieStateStore } from '../lib/state/encrypted-cookie';
import nock from 'nock';
import { XAPIError, XCreditsDepletedError, XRateLimitError, XRequestError, XSessionError, XUsageCapError } from '../lib/errors';
import type { XRequestTokenStore } from '../lib/state/request-token-session';
import { XOAuth1Strategy, type XOAuth1StrategyOptions, type XOAuth1StrategyOptionsBase } from '../lib/oauth1-strategy';
import type { XProfile } from '../lib/profile';
import type { XAuthRequest } from '../lib/request';
import { PENDING_TTL_MS } from '../lib/state/pending';
import { XRequestTokenSessionStore } from '../lib/state/request-token-session';
import { fakeRequest, runStrategy, throwingActionsCopy } from './support/passport-harness';
import { signedReply, type SignedRequestRecord } from './support/oauth1-nock';
import { warningsDuring, withWarnings } from './support/warnings';

const X = 'https://api.x.com';
const CONSUMER_KEY = 'ck-test-1234';
const CONSUMER_SECRET = 'cs-super-secret-value';
const REQUEST_TOKEN = 'rt-request-token-1';
const REQUEST_SECRET = 'rs-request-secret-1';
const VERIFIER = 'ver-oauth-verifier-1';
const ACCESS_TOKEN = '42-access-token-value';
const ACCESS_SECRET = 'as-access-secret-value';
const CALLBACK = 'http://localhost:3000/auth/x/callback';
const SECRETS = [CONSUMER_SECRET, REQUEST_SECRET, VERIFIER, ACCESS_SECRET];
const assertNoSecret = (err: unknown): void => expectNoSecrets(err, SECRETS);
const known = { consumers: { [CONSUMER_KEY]: CONSUMER_SECRET }, tokens: { [REQUEST_TOKEN]: REQUEST_SECRET, [ACCESS_TOKEN]: ACCESS_SECRET } };
// X sends id as a JSON number too big for JS (it arrives rounded); id_str is exact.
const USER_JSON = '{"id":1234567890123456789,"id_str":"1234567890123456789","screen_name":"xdev","name":"X Dev","profile_image_url_https":"https://pbs.twimg.com/p.jpg"}';
const USER = JSON.parse(USER_JSON) as { id: number; id_str: string; screen_name: string };

// The tests build strategies with every verify arity; the typed overloads are checked in test/types.test.ts.
type Verify = (...args: never[]) => void;
const Strategy = XOAuth1Strategy as unknown as new (options: XOAuth1StrategyOptionsBase & { passReqToCallback?: boolean | undefined }, verify: Verify) => XOAuth1Strategy;
const okVerify = ((token: string, tokenSecret: string, profile: XProfile, done: (e: null, u: unknown) => void) =>
  done(null, { token, tokenSecret, profile })) as Verify;

function strategy(options: Partial<XOAuth1StrategyOptions> = {}, verify: Verify = okVerify): XOAuth1Strategy {
  return new Strategy({ consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, callbackURL: CALLBACK, ...options }, verify);
}

function requestTokenScope(log: SignedRequestRecord[] = [], answer = `oauth_token=${REQUEST_TOKEN}&oauth_token_secret=${REQUEST_SECRET}&oauth_callback_confirmed=true`, origin = X) {
  return nock(origin).post('/oauth/request_token').reply(signedReply(origin, known, [200, answer], log));
}

/** Starts a sign-in and returns the session it left and the redirect. */
async function start(s: XOAuth1Strategy, session: Record<string, unknown> = {}, options = {}) {
  const scope = requestTokenScope();
  const result = await runStrategy(s, fakeRequest({ session, headers: { host: 'localhost:3000' } }), options);
  scope.done();
  return { result, session };
}

function callbackRequest(session: Record<string, unknown>, query: Record<string, string> = { oauth_token: REQUEST_TOKEN, oauth_verifier: VERIFIER }) {
  return fakeRequest({ session, query, headers: { host: 'localhost:3000' } });
}

function accessTokenScope(log: SignedRequestRecord[] = [], answer = `oauth_token=${ACCESS_TOKEN}&oauth_token_secret=${ACCESS_SECRET}&user_id=${USER.id_str}&screen_name=xdev`) {
  return nock(X).post('/oauth/access_token').reply(signedReply(X, known, [200, answer], log));
}

function profileScope(log: SignedRequestRecord[] = [], query: Record<string, string> = { include_email: 'false', skip_status: 'true', include_entities: 'false' }) {
  return nock(X)
    .get('/1.1/account/verify_credentials.json')
    .query(query)
    .reply(signedReply(X, known, [200, USER_JSON, { 'content-type': 'application/json', 'x-access-level': 'read-write' }], log));
}


describe('XOAuth1Strategy', () => {
  describe('construction', () => {
    it("is named 'x-oauth1' unless options.name says otherwise", () => {
      expect(strategy().name).to.equal('x-oauth1');
      expect(strategy({ name: 'twitter' }).name).to.equal('twitter');
    });

    for (const option of ['consumerKey', 'consumerSecret', 'callbackURL'] as const) {
      it(`throws a TypeError naming ${option} when it is missing`, () => {
        const options = { consumerKey: 'k', consumerSecret: 's', callbackURL: CALLBACK, [option]: undefined };
        expect(() => new Strategy(options as unknown as XOAuth1StrategyOptions, okVerify)).to.throw(TypeError, new RegExp(`\`${option}\``));
      });
    }

    it('throws without a verify callback, on a bad authorizeMode, a bad baseURL and a bad timeoutMs', () => {
      expect(() => new Strategy({ consumerKey: 'k', consumerSecret: 's', callbackURL: CALLBACK }, undefined as unknown as Verify)).to.throw(TypeError, /verify/);
      expect(() => strategy({ authorizeMode: 'both' as 'authorize' })).to.throw(TypeError, /authorizeMode/);
      expect(() => strategy({ baseURL: 'ftp://x' })).to.throw(TypeError, /baseURL/);
      expect(() => strategy({ timeoutMs: -1 })).to.throw(TypeError, /timeoutMs/);
      // Node's timers cannot wait past 2^31-1 ms: every request would time out after 1 ms.
      expect(() => strategy({ timeoutMs: 2 ** 31 })).to.throw(RangeError, /`timeoutMs`/).with.property('code', 'ERR_OUT_OF_RANGE');
      expect(() => strategy({ timeoutMs: 1.5 })).to.throw(RangeError, /`timeoutMs`/).with.property('code', 'ERR_OUT_OF_RANGE');
    });

    it('keeps the consumer secret and a cookie store\'s keys out of util.inspect and JSON of the strategy', () => {
      const cookieSecret = 'a-cookie-secret-of-at-least-32-characters!';
      const s = strategy({ store: new EncryptedCookieStateStore({ secret: cookieSecret }) });
      expectSecretsOutOfPrint(s, [CONSUMER_SECRET, cookieSecret]);
      // ...and the `oauth` client an app may call still has it.
      expect((s as unknown as { _oauth: { _consumerSecret: string } })._oauth._consumerSecret).to.equal(CONSUMER_SECRET);
    });

    it('does not mutate the options object', () => {
      const options = Object.freeze({ consumerKey: 'k', consumerSecret: 's', callbackURL: CALLBACK });
      expect(() => new Strategy(options, okVerify)).to.not.throw();
    });
  });

  describe('starting a sign-in', () => {
    it('gets a signed request token with oauth_callback and redirects to /oauth/authenticate', async () => {
      const log: SignedRequestRecord[] = [];
      const scope = requestTokenScope(log);
      const session: Record<string, unknown> = {};
      const result = await runStrategy(strategy(), fakeRequest({ session, headers: { host: 'localhost:3000' } }));
      scope.done();
      expect(log).to.have.length(1);
      expect(log[0]!.verification.ok).to.equal(true);
      expect(log[0]!.oauth.oauth_callback).to.equal(CALLBACK);
      expect(log[0]!.oauth).to.not.have.property('oauth_token');
      expect(result.type).to.equal('redirect');
      expect(result.url).to.equal(`${X}/oauth/authenticate?oauth_token=${REQUEST_TOKEN}`);
      expect(JSON.stringify(session)).to.include(REQUEST_SECRET);
    });

    it("uses /oauth/authorize with authorizeMode 'authorize'", async () => {
      const { result } = await start(strategy({ authorizeMode: 'authorize' }));
      expect(result.url).to.equal(`${X}/oauth/authorize?oauth_token=${REQUEST_TOKEN}`);
    });

    it('sends force_login and screen_name from the options', async () => {
      const { result } = await start(strategy({ forceLogin: true, screenName: 'xdev' }));
      const url = new URL(result.url!);
      expect(url.searchParams.get('force_login')).to.equal('true');
      expect(url.searchParams.get('screen_name')).to.equal('xdev');
    });

    it('sends force_login and screen_name given per request, over the options', async () => {
      const { result } = await start(strategy({ screenName: 'other' }), {}, { forceLogin: true, screenName: 'xdev' });
      const url = new URL(result.url!);
      expect(url.searchParams.get('force_login')).to.equal('true');
      expect(url.searchParams.get('screen_name')).to.equal('xdev');
    });

    it('refuses a screenName with a control character or a lone surrogate: a TypeError at construction, or per request on the error path before X is asked', async () => {
      for (const screenName of ['x\ud800', 'x\ndev', 42]) {
        expect(() => strategy({ screenName: screenName as string }), String(screenName)).to.throw(TypeError, /`screenName` must be a string without control characters/);
      }
      for (const screenName of ['x\ud800', 'x\ndev']) {
        const result = await runStrategy(strategy(), fakeRequest({ session: {}, headers: { host: 'localhost:3000' } }), { screenName });
        expect(result.type).to.equal('error');
        expect(result.error).to.be.instanceOf(TypeError);
        expect(result.error!.message).to.match(/passport\.authenticate\(\): `screenName` must be/).and.not.include(screenName);
      }
      expect(nock.pendingMocks(), 'nothing sent to X').to.deep.equal([]);
    });

    it('sends a throw while the redirect to X is built to the error path, even from a store that calls back later', async () => {
      // A store whose set() calls back asynchronously: a throw there would reach uncaughtException.
      const later: XRequestTokenStore = {
        set: (_req, _token, _secret, _state, _meta, cb) => void setImmediate(cb),
        get: (_req, _token, cb) => cb(null, false),
        destroy: (_req, _token, cb) => cb(),
      };
      // An app's userAuthorizationParams() with a value that cannot be percent-encoded.
      class WithParams extends Strategy {
        override userAuthorizationParams(): Record<string, string> {
          return { lang: 'x\ud800' };
        }
      }
      const s = new WithParams({ consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, callbackURL: CALLBACK, store: later }, okVerify);
      const { result } = await start(s);
      expect(result.type).to.equal('error');
      expect(result.error).to.be.instanceOf(URIError);
    });

    it('derives every endpoint from baseURL', async () => {
      const base = 'http://127.0.0.1:9999';
      const scope = requestTokenScope([], undefined, base);
      const result = await runStrategy(strategy({ baseURL: `${base}/` }), fakeRequest({ session: {}, headers: { host: 'localhost:3000' } }));
      scope.done();
      expect(result.url).to.equal(`${base}/oauth/authenticate?oauth_token=${REQUEST_TOKEN}`);
    });

    it('lets each URL be overridden alone', async () => {
      const scope = nock('https://rt.example').post('/rt').reply(signedReply('https://rt.example', known, [200, `oauth_token=${REQUEST_TOKEN}&oauth_token_secret=${REQUEST_SECRET}&oauth_callback_confirmed=true`]));
      const s = strategy({ requestTokenURL: 'https://rt.example/rt', userAuthorizationURL: 'https://auth.example/go' });
      const result = await runStrategy(s, fakeRequest({ session: {}, headers: { host: 'localhost:3000' } }));
      scope.done();
      expect(result.url).to.equal(`https://auth.example/go?oauth_token=${REQUEST_TOKEN}`);
    });

    it('resolves a relative callbackURL on Fastify (no `connection`), and refuses (400) a Host that cannot form one, sending nothing to X', async () => {
      const log: SignedRequestRecord[] = [];
      const scope = requestTokenScope(log);
      const fastify = fakeRequest({ session: {}, headers: { host: 'app.example' } }) as XAuthRequest;
      delete fastify.connection;
      delete fastify.socket;
      fastify.raw = { socket: { encrypted: true } };
      const started = await runStrategy(strategy({ callbackURL: '/auth/x/callback' }), fastify);
      expect(started.type, started.error?.message).to.equal('redirect');
      scope.done();
      expect(log[0]!.oauth.oauth_callback).to.equal('https://app.example/auth/x/callback');
      for (const host of ['[::1', 'a.com:443, b.com:8080']) {
        const refused = await runStrategy(strategy({ callbackURL: '/auth/x/callback' }), fakeRequest({ session: {}, headers: { host } }));
        expect(refused, host).to.include({ type: 'fail', status: 400 });
        expect((refused.challenge as { code: string; hint: string }).code).to.equal('X_CALLBACK_MALFORMED');
        expect((refused.challenge as { hint: string }).hint).to.include('absolute `callbackURL`');
      }
      expect(nock.pendingMocks()).to.deep.equal([]);
    });

    it("fails (400 X_CALLBACK_MALFORMED, not a 500) when X refuses (code 415) a callback URL resolved from a foreign Host, and keeps X's 415 an error for an absolute callbackURL", async () => {
      const refusal = { errors: [{ code: 415, message: 'Callback URL not approved for this client application. Approved callback URLs can be adjusted in your application settings' }] };
      const relative = strategy({ callbackURL: '/auth/x/callback' });
      const { value: foreign, warnings } = await withWarnings(async () => {
        // A stray malformed callback first: its code's diagnosis is logged, and must not hide the 415's.
        expect(await runStrategy(relative, callbackRequest({}, { oauth_token: REQUEST_TOKEN }))).to.include({ type: 'fail', status: 400 });
        const outcomes: Array<Awaited<ReturnType<typeof runStrategy>>> = [];
        for (let i = 0; i < 2; i++) {
          nock(X).post('/oauth/request_token').reply(403, refusal);
          outcomes.push(await runStrategy(relative, fakeRequest({ session: {}, headers: { host: 'evil.example' } })));
        }
        return outcomes[1]!;
      }, { code: 'PASSPORT_X_CALLBACK_MALFORMED' });
      expect(foreign).to.include({ type: 'fail', status: 400 });
      const hint = failureHint(foreign.challenge, XFailureCode.CALLBACK_MALFORMED);
      expect(hint).to.include('X refused the callback URL http://evil.example/auth/x/callback (code 415').and.include("resolved from the request's Host header").and.include('absolute `callbackURL`').and.include('`proxy: true`');
      const logged = warnings.map((w) => w.message);
      expect(logged, 'the stray callback and the 415, each once').to.have.length(2);
      expect(logged[1]).to.include('code 415');
      // X's XML form of the same refusal, which names no code, is the same failure.
      const xml = '<?xml version="1.0" encoding="UTF-8"?>\n<hash>\n  <error>Callback URL not approved for this client application. Approved callback URLs can be adjusted in your application settings</error>\n  <request>/oauth/request_token</request>\n</hash>\n';
      nock(X).post('/oauth/request_token').reply(403, xml, { 'content-type': 'application/xml' });
      expect(await runStrategy(relative, fakeRequest({ session: {}, headers: { host: 'evil.example' } })), 'the <hash> form').to.include({ type: 'fail', status: 400 });
      // An absolute callbackURL X refuses is the app's registration: an error, with the portal in its hint.
      nock(X).post('/oauth/request_token').reply(403, refusal);
      const absolute = await runStrategy(strategy(), fakeRequest({ session: {}, headers: { host: 'evil.example' } }));
      expect(absolute.type).to.equal('error');
      expect(absolute.error).to.be.instanceOf(XAPIError).and.include({ xCode: 415, status: 403 });
      expect(nock.pendingMocks()).to.deep.equal([]);
    });

    it('redirects, stores and resolves a relative callbackURL exactly as passport-oauth1 does', async () => {
      // The reference: stock passport-oauth1 with X's request token faked through its `oauth` client.
      const Stock = require('passport-oauth1').Strategy as new (o: object, v: () => void) => {
        _oauth: { getOAuthRequestToken: (p: Record<string, string>, cb: (e: null, t: string, s: string, a: object) => void) => void };
        userAuthorizationParams: (o: Record<string, unknown>) => Record<string, string>;
      };
      // Both strategies store through a store that records what it is given (passport-oauth1's six-argument set).
      const recording = (calls: unknown[][]): XRequestTokenStore => ({
        set: (_req, token, secret, state, meta, cb) => void (calls.push([token, secret, state, meta]), cb()),
        get: (_req, _token, cb) => cb(null, false),
        destroy: (_req, _token, cb) => cb(null),
      });
      const page = "https://u:p@auth.example/o'a/authorize?tenant=7&oauth_token=own&q=%27a%20b&e=%E2%82%AC#frag'";
      const cases: Array<{ options: Partial<XOAuth1StrategyOptions>; perRequest: Record<string, unknown> }> = [
        { options: { userAuthorizationURL: page, forceLogin: true, screenName: 'x d#v' }, perRequest: {} },
        { options: { userAuthorizationURL: page, callbackURL: '/auth/x/callback', proxy: true }, perRequest: { state: { to: '/after' } } },
        { options: {}, perRequest: { callbackURL: "http://localhost:3000/per'request", screenName: 'é' } },
      ];
      for (const { options, perRequest } of cases) {
        const ourCalls: unknown[][] = [];
        const stockCalls: unknown[][] = [];
        const ours = strategy({ ...options, store: recording(ourCalls) });
        const stock = new Stock(
          {
            requestTokenURL: `${X}/oauth/request_token`,
            accessTokenURL: `${X}/oauth/access_token`,
            // The page as the strategy keeps it (normalized by the URL parser), so both start from the same URL.
            userAuthorizationURL: (ours as unknown as { _userAuthorizationURL: string })._userAuthorizationURL,
            consumerKey: CONSUMER_KEY,
            consumerSecret: CONSUMER_SECRET,
            callbackURL: options.callbackURL ?? CALLBACK,
            proxy: options.proxy,
            store: recording(stockCalls),
          },
          () => undefined,
        );
        stock.userAuthorizationParams = (o) => ours.userAuthorizationParams(o);
        let requestTokenParams: Record<string, string> | undefined;
        stock._oauth.getOAuthRequestToken = (p, cb) => {
          requestTokenParams = p;
          cb(null, REQUEST_TOKEN, REQUEST_SECRET, { oauth_callback_confirmed: 'true' });
        };
        const headers = { host: 'localhost:3000', 'x-forwarded-proto': 'https' };
        const expected = await runStrategy(stock as unknown as XOAuth1Strategy, fakeRequest({ session: {}, headers }), perRequest);
        expect(expected.type, expected.error?.message).to.equal('redirect');
        const log: SignedRequestRecord[] = [];
        const scope = requestTokenScope(log);
        const result = await runStrategy(ours, fakeRequest({ session: {}, headers }), perRequest);
        scope.done();
        expect(result.url, JSON.stringify(options)).to.equal(expected.url);
        expect(log[0]!.oauth.oauth_callback).to.equal(requestTokenParams!.oauth_callback);
        // The same token, secret, app state and meta went to the store, plus the strategy's binding.
        const [ourCall] = ourCalls as Array<[string, string, unknown, { binding?: unknown }]>;
        const { binding, ...meta } = ourCall![3];
        expect(binding).to.be.a('string');
        expect([[ourCall![0], ourCall![1], ourCall![2], meta]]).to.deep.equal(stockCalls);
      }
    });

    it('errors, and stores nothing, when X does not confirm the callback', async () => {
      const scope = requestTokenScope([], `oauth_token=${REQUEST_TOKEN}&oauth_token_secret=${REQUEST_SECRET}`);
      const session: Record<string, unknown> = {};
      const result = await runStrategy(strategy(), fakeRequest({ session, headers: { host: 'localhost:3000' } }));
      scope.done();
      expect(result.type).to.equal('error');
      expect(result.error).to.be.instanceOf(XRequestError).and.have.property('code', 'X_CALLBACK_NOT_CONFIRMED');
      expect(result.error!.message).to.match(/Callback URI/);
      expect(session).to.deep.equal({});
      assertNoSecret(result.error);
    });

    it('errors with a message that says what to add when there is no session, before asking X for a request token', async () => {
      const scope = requestTokenScope();
      const result = await runStrategy(strategy(), fakeRequest({ session: null, headers: { host: 'localhost:3000' } }));
      expect(scope.isDone(), 'no request token was asked for: nothing could keep it').to.equal(false);
      nock.cleanAll();
      expect(result.type).to.equal('error');
      expect(result.error).to.be.instanceOf(XSessionError);
      expect(result.error!.message).to.match(/express-session/);
    });

    it('warns once when the sign-in starts on another host than callbackURL', async () => {
      const ours = await warningsDuring(async () => {
        const s = strategy();
        for (let i = 0; i < 2; i++) {
          const scope = requestTokenScope();
          await runStrategy(s, fakeRequest({ session: {}, headers: { host: '127.0.0.1:3000' } }));
          scope.done();
        }
      }, { code: 'PASSPORT_X_HOST_MISMATCH' });
      expect(ours).to.have.length(1);
      expect(ours[0]!.message).to.include('"127.0.0.1"').and.include('"localhost"');
    });

    it('warns once per request host, for at most 8 hosts, and never for a Host that is not a host name: one stray Host cannot use up the warning', async () => {
      const warnings = await warningsDuring(async () => {
        const s = strategy();
        const hosts = ['h'.repeat(300), 'a"b<script>', '%41.example', '\u00e9vil', 'a..b', '[zz]:1', 'evil.example', 'evil.example', '127.0.0.1:3000', ...Array.from({ length: 10 }, (_, i) => `scan${i}.example`)];
        for (const host of hosts) {
          const scope = requestTokenScope();
          await runStrategy(s, fakeRequest({ session: {}, headers: { host } }));
          scope.done();
        }
      }, { code: 'PASSPORT_X_HOST_MISMATCH' });
      const ours = warnings.map((w) => w.message);
      expect(ours).to.have.length(8);
      expect(ours[0]).to.include('"evil.example"');
      expect(ours[1], 'the real misconfiguration is still warned about').to.include('"127.0.0.1"');
      expect(ours.some((m) => /hhhh|<script>|%41|\u00e9vil|a\.\.b|zz/.test(m)), 'no malformed Host warned about').to.equal(false);
    });
  });

  describe('the callback', () => {
    it('exchanges the verified request token, loads the profile and calls verify(token, tokenSecret, profile, done)', async () => {
      const s = strategy();
      const { session } = await start(s);
      const log: SignedRequestRecord[] = [];
      const at = accessTokenScope(log);
      const pr = profileScope(log);
      const result = await runStrategy(s, callbackRequest(session));
      at.done();
      pr.done();
      expect(log.map((l) => l.verification.ok)).to.deep.equal([true, true]);
      expect(log[0]!.oauth).to.include({ oauth_token: REQUEST_TOKEN, oauth_verifier: VERIFIER });
      expect(log[1]!.oauth).to.include({ oauth_token: ACCESS_TOKEN });
      expect(result.type).to.equal('success');
      const user = result.user as { token: string; tokenSecret: string; profile: XProfile };
      expect(user.token).to.equal(ACCESS_TOKEN);
      expect(user.tokenSecret).to.equal(ACCESS_SECRET);
      expect(user.profile).to.include({ provider: 'x', id: '1234567890123456789', username: 'xdev', displayName: 'X Dev', profileUrl: 'https://x.com/xdev', _accessLevel: 'read-write' });
      expect(user.profile.photos).to.deep.equal([{ value: 'https://pbs.twimg.com/p.jpg' }]);
    });

    it('calls verify(token, tokenSecret, params, profile, done) with the access-token parameters', async () => {
      let seen: unknown[] = [];
      const s = strategy({}, ((token: string, tokenSecret: string, params: unknown, profile: XProfile, done: (e: null, u: unknown) => void) => {
        seen = [token, tokenSecret, params, profile.id];
        done(null, { id: profile.id });
      }) as Verify);
      const { session } = await start(s);
      const scopes = [accessTokenScope(), profileScope()];
      const result = await runStrategy(s, callbackRequest(session));
      scopes.forEach((sc) => sc.done());
      expect(result.type).to.equal('success');
      expect(seen[0]).to.equal(ACCESS_TOKEN);
      expect(seen[2]).to.deep.include({ user_id: USER.id_str, screen_name: 'xdev', oauth_token: ACCESS_TOKEN });
      expect(seen[3]).to.equal(USER.id_str);
    });

    it('passes req first with passReqToCallback, in both arities', async () => {
      for (const arity of [5, 6]) {
        let seenReq: unknown;
        const verify =
          arity === 5
            ? (req: unknown, _t: string, _ts: string, profile: XProfile, done: (e: null, u: unknown) => void) => {
                seenReq = req;
                done(null, profile.id);
              }
            : (req: unknown, _t: string, _ts: string, params: Record<string, string>, profile: XProfile, done: (e: null, u: unknown) => void) => {
                seenReq = req;
                done(null, `${params.screen_name}:${profile.id}`);
              };
        const s = new Strategy({ consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, callbackURL: CALLBACK, passReqToCallback: true }, verify as Verify);
        const { session } = await start(s);
        const scopes = [accessTokenScope(), profileScope()];
        const req = callbackRequest(session);
        const result = await runStrategy(s, req);
        scopes.forEach((sc) => sc.done());
        expect(seenReq).to.equal(req);
        expect(result.user).to.equal(arity === 5 ? USER.id_str : `xdev:${USER.id_str}`);
      }
    });

    it('asks verify_credentials for the e-mail, entities and status when told to', async () => {
      const s = strategy({ includeEmail: true, includeEntities: true, includeStatus: true });
      const { session } = await start(s);
      const scopes = [accessTokenScope(), profileScope([], { include_email: 'true', skip_status: 'false', include_entities: 'true' })];
      const result = await runStrategy(s, callbackRequest(session));
      scopes.forEach((sc) => sc.done());
      expect(result.type).to.equal('success');
    });

    it('builds the profile from the access-token answer with skipExtendedUserProfile, calling no API', async () => {
      const s = strategy({ skipExtendedUserProfile: true });
      const { session } = await start(s);
      const at = accessTokenScope();
      const result = await runStrategy(s, callbackRequest(session));
      at.done();
      const profile = (result.user as { profile: XProfile }).profile;
      expect(profile).to.include({ provider: 'x', id: USER.id_str, username: 'xdev' });
    });

    /** The callback's outcome when X answers the access-token request with `answer`: an X_INVALID_RESPONSE that quotes no secret. */
    async function invalidAccessTokenAnswer(answer: string, options: { skipExtendedUserProfile: boolean }): Promise<Error> {
      const s = strategy(options);
      const { session } = await start(s);
      const at = accessTokenScope([], answer);
      const result = await runStrategy(s, callbackRequest(session));
      at.done();
      expect(result.type).to.equal('error');
      expect(result.error).to.be.instanceOf(XRequestError).and.include({ code: 'X_INVALID_RESPONSE' });
      expectNoSecrets(result.error, [ACCESS_TOKEN, ACCESS_SECRET, CONSUMER_SECRET]);
      return result.error!;
    }

    for (const [lacking, answer] of [
      ['user_id', `oauth_token=${ACCESS_TOKEN}&oauth_token_secret=${ACCESS_SECRET}&screen_name=xdev`],
      ['screen_name', `oauth_token=${ACCESS_TOKEN}&oauth_token_secret=${ACCESS_SECRET}&user_id=${USER.id_str}`],
    ] as const) {
      it(`errors with X_INVALID_RESPONSE, never quoting the tokens, when X's access-token answer lacks ${lacking} and skipExtendedUserProfile is on`, async () => {
        const err = await invalidAccessTokenAnswer(answer, { skipExtendedUserProfile: true });
        expect(err.message).to.include('without user_id or screen_name').and.include('turning skipExtendedUserProfile off');
      });
    }

    for (const [what, answer] of [
      ['a second oauth_token_secret', `oauth_token=${ACCESS_TOKEN}&oauth_token_secret=${ACCESS_SECRET}&user_id=${USER.id_str}&screen_name=xdev&oauth_token_secret=bad%0D%0Aline`],
      ['a second user_id and screen_name', `oauth_token=${ACCESS_TOKEN}&oauth_token_secret=${ACCESS_SECRET}&user_id=${USER.id_str}&screen_name=xdev&user_id=99&screen_name=mallory`],
      ['a user_id that is not a number', `oauth_token=${ACCESS_TOKEN}&oauth_token_secret=${ACCESS_SECRET}&user_id=99%0Aevil&screen_name=xdev`],
      ['a screen_name no handle has', `oauth_token=${ACCESS_TOKEN}&oauth_token_secret=${ACCESS_SECRET}&user_id=${USER.id_str}&screen_name=%3Cb%3Ex`],
    ] as const) {
      it(`errors with X_INVALID_RESPONSE, before the app sees it, on an access-token answer with ${what} (the checks read one value, params would hold another)`, async () => {
        for (const skipExtendedUserProfile of [true, false]) await invalidAccessTokenAnswer(answer, { skipExtendedUserProfile });
      });
    }

    it('errors with X_INVALID_RESPONSE on a verify_credentials answer whose id_str is not a number or whose screen_name no handle has', async () => {
      for (const user of [{ ...USER, id_str: '12ab' }, { ...USER, screen_name: '<b>x' }]) {
        const s = strategy();
        const { session } = await start(s);
        const at = accessTokenScope();
        const profile = nock(X).get('/1.1/account/verify_credentials.json').query(true).reply(200, JSON.stringify(user), { 'content-type': 'application/json' });
        const result = await runStrategy(s, callbackRequest(session));
        at.done();
        profile.done();
        expect(result.error, JSON.stringify(user)).to.be.instanceOf(XRequestError).and.include({ code: 'X_INVALID_RESPONSE' });
        expectNoSecrets(result.error, [ACCESS_TOKEN, ACCESS_SECRET, CONSUMER_SECRET]);
      }
    });

    it('errors with X_INVALID_RESPONSE, storing nothing, on a request-token answer with a parameter twice', async () => {
      const s = strategy();
      const session: Record<string, unknown> = {};
      const scope = requestTokenScope([], `oauth_token=${REQUEST_TOKEN}&oauth_token_secret=${REQUEST_SECRET}&oauth_callback_confirmed=true&oauth_token_secret=other`);
      const result = await runStrategy(s, fakeRequest({ session, headers: { host: 'localhost:3000' } }));
      scope.done();
      expect(result.error).to.be.instanceOf(XRequestError).and.include({ code: 'X_INVALID_RESPONSE' });
      expect(result.error!.message).to.include('`oauth_token_secret` more than once');
      expect(JSON.stringify(session)).not.to.include(REQUEST_TOKEN);
      expectNoSecrets(result.error, [REQUEST_SECRET, CONSUMER_SECRET]);
    });

    it('hands back app state given at the start as info.state, with the session store and the cookie store', async () => {
      for (const store of [undefined, new EncryptedCookieStateStore({ secret: 'a-cookie-secret-of-at-least-32-characters!' })]) {
        const s = strategy(store ? { store } : {});
        const session: Record<string, unknown> = {};
        const startRes = new ServerResponse(new IncomingMessage(new Socket()));
        const startReq = Object.assign(fakeRequest({ session, headers: { host: 'localhost:3000' } }), { res: startRes });
        const scope = requestTokenScope();
        expect((await runStrategy(s, startReq, { state: { returnTo: '/settings' } })).type).to.equal('redirect');
        scope.done();
        // The browser sends back what the start set (the cookie store's cookie; nothing for the session store).
        const cookie = ([startRes.getHeader('set-cookie') ?? []].flat() as string[]).map((c) => c.split(';')[0]).join('; ');
        const cbReq = Object.assign(fakeRequest({ session, query: { oauth_token: REQUEST_TOKEN, oauth_verifier: VERIFIER }, headers: { host: 'localhost:3000', cookie } }), {
          res: new ServerResponse(new IncomingMessage(new Socket())),
        });
        const scopes = [accessTokenScope(), profileScope()];
        const result = await runStrategy(s, cbReq);
        scopes.forEach((sc) => sc.done());
        expect(result.type).to.equal('success');
        expect(result.info).to.deep.equal({ state: { returnTo: '/settings' } });
      }
    });

    it("fails 403 with a custom store's own challenge when it refuses the request token, sending nothing to X", async () => {
      const destroyed: string[] = [];
      const store: XRequestTokenStore = {
        set: (_req, _token, _secret, _state, _meta, cb) => cb(),
        get: (_req, _token, cb) => cb(null, false, { message: 'unknown request token' }),
        destroy: (_req, token, cb) => void (destroyed.push(token), cb(null)),
      };
      // No nock scope: a request to X would fail the test with nock's "no match".
      const refused = await runStrategy(strategy({ store }), callbackRequest({}));
      expect(refused).to.deep.equal({ type: 'fail', challenge: { message: 'unknown request token' }, status: 403 });
      expect(destroyed).to.deep.equal([]);
    });

    describe('two strategies sharing a store or a session (each sign-in bound to its strategy)', () => {
      const cookieSecret = 'a-cookie-secret-of-at-least-32-characters!';
      const withRes = <T extends object>(req: T): T & { res: ServerResponse } => Object.assign(req, { res: new ServerResponse(new IncomingMessage(new Socket())) });
      const setups: Array<[string, () => [XOAuth1Strategy, XOAuth1Strategy]]> = [
        ['their default session stores, in one session', () => [strategy({ name: 'x-a' }), strategy({ name: 'x-b', consumerKey: 'ck-other', callbackURL: 'http://localhost:3000/b/callback' })]],
        [
          'one XRequestTokenSessionStore, same consumer key, another name',
          () => {
            const store = new XRequestTokenSessionStore();
            return [strategy({ name: 'x-a', store }), strategy({ name: 'x-b', store })];
          },
        ],
        [
          'one EncryptedCookieStateStore, another callback URL',
          () => {
            const store = new EncryptedCookieStateStore({ secret: cookieSecret });
            return [strategy({ store }), strategy({ store, callbackURL: 'http://localhost:3000/b/callback' })];
          },
        ],
      ];
      for (const [what, make] of setups) {
        it(`refuses the other strategy's callback with 403, sending nothing to X and leaving the sign-in to its own callback: ${what}`, async () => {
          const [a, b] = make();
          const session: Record<string, unknown> = {};
          const startReq = withRes(fakeRequest({ session, headers: { host: 'localhost:3000' } }));
          const scope = requestTokenScope();
          expect((await runStrategy(a, startReq)).type).to.equal('redirect');
          scope.done();
          const cookie = ([startReq.res.getHeader('set-cookie') ?? []].flat() as string[]).map((c) => c.split(';')[0]).join('; ');
          const callbackOf = (): XAuthRequest =>
            withRes(fakeRequest({ session, query: { oauth_token: REQUEST_TOKEN, oauth_verifier: VERIFIER }, headers: { host: 'localhost:3000', cookie } }));

          const crossedReq = callbackOf() as XAuthRequest & { res: ServerResponse };
          const crossed = await runStrategy(b, crossedReq);
          expect(crossed).to.include({ type: 'fail', status: 403 });
          expect(failureHint(crossed.challenge, XFailureCode.CALLBACK_UNKNOWN)).to.be.a('string');
          expect(nock.pendingMocks()).to.deep.equal([]);
          // Nothing of A's was cleared: no cookie store's Max-Age=0 for A's cookie went to the browser.
          expect([crossedReq.res.getHeader('set-cookie') ?? []].flat()).to.deep.equal([]);

          // The other strategy's attempt consumed nothing: A's own callback still completes.
          const scopes = [accessTokenScope(), profileScope()];
          const own = await runStrategy(a, callbackOf());
          scopes.forEach((sc) => sc.done());
          expect(own.type, own.error?.message).to.equal('success');
        });
      }

      it('refuses the other strategy\'s ?denied= as not issued (403), leaving the pending sign-in', async () => {
        const store = new XRequestTokenSessionStore();
        const a = strategy({ name: 'x-a', store });
        const b = strategy({ name: 'x-b', store });
        const { session } = await start(a);
        const crossed = await runStrategy(b, fakeRequest({ session, query: { denied: REQUEST_TOKEN }, headers: {} }));
        expect(crossed).to.include({ type: 'fail', status: 403 });
        expect(failureHint(crossed.challenge, XFailureCode.CALLBACK_UNKNOWN)).to.match(/not issued to this session/);
        expect(JSON.stringify(session)).to.include(REQUEST_TOKEN);
      });

      it("refuses the other strategy's ?denied= as not issued (403) with one EncryptedCookieStateStore too, leaving its cookie", async () => {
        const store = new EncryptedCookieStateStore({ secret: cookieSecret });
        const a = strategy({ store });
        const b = strategy({ store, callbackURL: 'http://localhost:3000/b/callback' });
        const startReq = withRes(fakeRequest({ session: {}, headers: { host: 'localhost:3000' } }));
        const scope = requestTokenScope();
        expect((await runStrategy(a, startReq)).type).to.equal('redirect');
        scope.done();
        const cookie = ([startReq.res.getHeader('set-cookie') ?? []].flat() as string[]).map((c) => c.split(';')[0]).join('; ');
        const deniedOf = (): XAuthRequest & { res: ServerResponse } => withRes(fakeRequest({ session: {}, query: { denied: REQUEST_TOKEN }, headers: { host: 'localhost:3000', cookie } }));
        const crossedReq = deniedOf();
        const crossed = await runStrategy(b, crossedReq);
        expect(crossed).to.include({ type: 'fail', status: 403 });
        expect(failureHint(crossed.challenge, XFailureCode.CALLBACK_UNKNOWN)).to.match(/not issued to this session/);
        expect(crossedReq.res.getHeader('set-cookie'), "A's cookie left alone").to.equal(undefined);
        // A's own ?denied= is the Cancel, and clears it.
        const ownReq = deniedOf();
        const own = await runStrategy(a, ownReq);
        expect(own).to.include({ type: 'fail', status: 403 });
        expect((own.challenge as XFailureInfo).code).to.equal(XFailureCode.ACCESS_DENIED);
        expect(String(ownReq.res.getHeader('set-cookie'))).to.match(/Max-Age=0/);
      });
    });

    it('fails before calling X when the callback token was not issued to this session', async () => {
      const s = strategy();
      const { session } = await start(s);
      const result = await runStrategy(s, callbackRequest(session, { oauth_token: 'forged-token', oauth_verifier: VERIFIER }));
      expect(result.type).to.equal('fail');
      expect(result.status).to.equal(403);
      expect(failureHint(result.challenge, XFailureCode.CALLBACK_UNKNOWN)).to.match(/not issued to this session/);
      expect(nock.pendingMocks()).to.deep.equal([]);
    });

    it('fails with the cause and fix when the session has no pending sign-in (the classic "Failed to find request token")', async () => {
      const result = await runStrategy(strategy(), callbackRequest({}));
      expect(result).to.include({ type: 'fail', status: 403 });
      const hint = failureHint(result.challenge, XFailureCode.NO_PENDING_SIGN_IN);
      expect(hint).to.match(/localhost and 127\.0\.0\.1/).and.match(/shared session store/).and.match(/Secure/);
    });

    it('fails a replayed callback', async () => {
      const s = strategy();
      const { session } = await start(s);
      const scopes = [accessTokenScope(), profileScope()];
      expect((await runStrategy(s, callbackRequest(session))).type).to.equal('success');
      scopes.forEach((sc) => sc.done());
      const replay = await runStrategy(s, callbackRequest(session));
      expect(replay.type).to.equal('fail');
    });

    it('lets two sign-ins started in two tabs both succeed', async () => {
      const s = strategy();
      const session: Record<string, unknown> = {};
      await start(s, session);
      const second = nock(X).post('/oauth/request_token').reply(signedReply(X, { ...known, tokens: { ...known.tokens, 'rt-2': 'rs-2' } }, [200, 'oauth_token=rt-2&oauth_token_secret=rs-2&oauth_callback_confirmed=true']));
      await runStrategy(s, fakeRequest({ session, headers: { host: 'localhost:3000' } }));
      second.done();
      const tokens2 = { ...known.tokens, 'rt-2': 'rs-2' };
      const at2 = nock(X).post('/oauth/access_token').reply(signedReply(X, { ...known, tokens: tokens2 }, [200, `oauth_token=${ACCESS_TOKEN}&oauth_token_secret=${ACCESS_SECRET}&user_id=1&screen_name=a`]));
      const p2 = profileScope();
      expect((await runStrategy(s, callbackRequest(session, { oauth_token: 'rt-2', oauth_verifier: 'v2' }))).type).to.equal('success');
      const scopes = [at2, p2, accessTokenScope(), profileScope()];
      expect((await runStrategy(s, callbackRequest(session))).type).to.equal('success');
      scopes.forEach((sc) => sc.done());
    });

    it('fails a sign-in older than 10 minutes', async () => {
      let now = Date.now();
      const s = strategy({ store: new XRequestTokenSessionStore({ now: () => now }) });
      const { session } = await start(s);
      now += PENDING_TTL_MS + 1;
      const result = await runStrategy(s, callbackRequest(session));
      expect(result).to.include({ type: 'fail', status: 401 });
      expect(failureHint(result.challenge, XFailureCode.SIGN_IN_EXPIRED)).to.match(/expired/);
    });

    it('fails a Cancel (?denied=) on a sign-in older than 10 minutes as expired (401), not as a stranger\'s token', async () => {
      let now = Date.now();
      const s = strategy({ store: new XRequestTokenSessionStore({ now: () => now }) });
      const { session } = await start(s);
      now += PENDING_TTL_MS + 1;
      const late = await runStrategy(s, fakeRequest({ session, query: { denied: REQUEST_TOKEN }, headers: {} }));
      expect(late).to.include({ type: 'fail', status: 401 });
      expect(failureHint(late.challenge, XFailureCode.SIGN_IN_EXPIRED)).to.match(/more than 10 minutes ago and has expired/);
      expect(JSON.stringify(session)).to.not.include(REQUEST_TOKEN);
    });

    it('fails with "You cancelled the sign-in with X." (403) on ?denied= and drops that pending token', async () => {
      const s = strategy();
      const { session } = await start(s);
      const result = await runStrategy(s, fakeRequest({ session, query: { denied: REQUEST_TOKEN }, headers: {} }));
      expect(result).to.include({ type: 'fail', status: 403 });
      expect(failureHint(result.challenge, XFailureCode.ACCESS_DENIED)).to.match(/pressed Cancel/);
      expect((result.challenge as XFailureInfo).message).to.equal('You cancelled the sign-in with X.');
      expect(session).to.not.have.property('oauth:x');
    });

    it('reads the callback\'s query from req.url when the framework gave no req.query (Passport on node:http or connect): a Cancel is a Cancel, not a new sign-in', async () => {
      const s = strategy();
      const { session } = await start(s);
      const req = fakeRequest({ session, headers: {}, url: `/auth/x/callback?denied=${REQUEST_TOKEN}` }) as XAuthRequest;
      delete req.query;
      const result = await runStrategy(s, req);
      expect(result).to.include({ type: 'fail', status: 403 });
      expect((result.challenge as XFailureInfo).code).to.equal(XFailureCode.ACCESS_DENIED);
      expect(session).to.not.have.property('oauth:x');
    });

    it('fails (400) a ?denied= that is empty, repeated, not a string or not a request token X sends, leaving the pending sign-in', async () => {
      const s = strategy();
      const { session } = await start(s);
      const before = JSON.stringify(session);
      for (const denied of ['', [REQUEST_TOKEN, REQUEST_TOKEN], ['forged', 'x'], { a: REQUEST_TOKEN }, 'v'.repeat(1025), 'with space']) {
        const result = await runStrategy(s, fakeRequest({ session, query: { denied } as Record<string, unknown>, headers: {} }));
        expect(result, JSON.stringify(denied).slice(0, 40)).to.include({ type: 'fail', status: 400 });
        expect(failureHint(result.challenge, XFailureCode.CALLBACK_MALFORMED)).to.match(/malformed `denied` parameter/);
      }
      expect(JSON.stringify(session), 'the pending sign-in is untouched').to.equal(before);
    });

    it("lets a throw from Passport's fail() go up to the framework once when the store answers at once (a Cancel, a used callback), with no call to error()", async () => {
      const thrown = new Error('the app\'s failure callback threw');
      for (const query of [{ denied: REQUEST_TOKEN }, { denied: 'someone-elses-token' }, { oauth_token: REQUEST_TOKEN, oauth_verifier: VERIFIER }]) {
        const s = strategy();
        const { session } = await start(s);
        if (query.oauth_token !== undefined) delete session['oauth:x'];
        const calls: string[] = [];
        const instance = throwingActionsCopy(s, calls, 'fail', thrown);
        expect(() => instance.authenticate(fakeRequest({ session, query, headers: {} })), JSON.stringify(query)).to.throw(thrown);
        expect(calls, JSON.stringify(query)).to.deep.equal(['fail']);
      }
    });

    it('fails 403 (not issued here) on a ?denied= whose request token this session does not hold, keeping the real one', async () => {
      const s = strategy();
      const { session } = await start(s);
      const result = await runStrategy(s, fakeRequest({ session, query: { denied: 'someone-elses-token' }, headers: {} }));
      expect(result).to.include({ type: 'fail', status: 403 });
      expect(failureHint(result.challenge, XFailureCode.CALLBACK_UNKNOWN)).to.match(/not issued to this session/);
      expect(JSON.stringify(session)).to.include(REQUEST_TOKEN);
    });

    it('fails a callback without oauth_verifier, or with array parameters, before calling X', async () => {
      const s = strategy();
      const { session } = await start(s);
      for (const query of [{ oauth_token: REQUEST_TOKEN }, { oauth_token: [REQUEST_TOKEN, 'x'], oauth_verifier: VERIFIER }]) {
        const result = await runStrategy(s, fakeRequest({ session, query: query as Record<string, unknown>, headers: {} }));
        expect(result.type).to.equal('fail');
        expect(result.status).to.equal(400);
        expect(failureHint(result.challenge, XFailureCode.CALLBACK_MALFORMED)).to.match(/missing its oauth_token or oauth_verifier/);
      }
    });

    it('fails (400) an oauth_token or oauth_verifier X never sends, before the pending sign-in is used or X is asked; then the real callback still works', async () => {
      const s = strategy();
      const { session } = await start(s);
      const before = JSON.stringify(session);
      const bad = ['v'.repeat(1025), 'with space', 'tab\there', 'caf\u00e9', '\ud800', 'line\nbreak'];
      for (const value of bad) {
        for (const query of [{ oauth_token: REQUEST_TOKEN, oauth_verifier: value }, { oauth_token: value, oauth_verifier: VERIFIER }]) {
          const result = await runStrategy(s, fakeRequest({ session, query, headers: {} }));
          expect(result, JSON.stringify(query).slice(0, 80)).to.include({ type: 'fail', status: 400 });
          expect(failureHint(result.challenge, XFailureCode.CALLBACK_MALFORMED)).to.match(/is not one X sends/);
          expectNoSecrets(result.challenge, SECRETS);
        }
      }
      expect(JSON.stringify(session), 'the pending sign-in is untouched').to.equal(before);
      // The real callback still goes on to X.
      const scopes = [accessTokenScope(), profileScope()];
      expect((await runStrategy(s, callbackRequest(session))).type).to.equal('success');
      scopes.forEach((sc) => sc.done());
    });

    it('fails when verify says no user, and errors when verify throws', async () => {
      const none = strategy({}, ((_t: string, _s: string, _p: XProfile, done: (e: null, u: false, i: unknown) => void) => done(null, false, { message: 'not allowed' })) as Verify);
      let { session } = await start(none);
      let scopes = [accessTokenScope(), profileScope()];
      const failed = await runStrategy(none, callbackRequest(session));
      scopes.forEach((sc) => sc.done());
      expect(failed).to.include({ type: 'fail' });
      expect(failed.challenge).to.deep.equal({ message: 'not allowed' });

      const boom = strategy({}, (() => {
        throw new Error('db down');
      }) as unknown as Verify);
      ({ session } = await start(boom));
      scopes = [accessTokenScope(), profileScope()];
      const errored = await runStrategy(boom, callbackRequest(session));
      scopes.forEach((sc) => sc.done());
      expect(errored.type).to.equal('error');
      expect(errored.error!.message).to.equal('db down');
    });
  });

  describe('errors from X', () => {
    // `refusal`: X's normal refusal of a verifier on the access-token step (a fail there, an error elsewhere).
    const shapes: Array<{ name: string; status: number; body: string; headers?: Record<string, string>; check: (e: Error) => void; refusal?: string }> = [
      {
        name: 'a v1.1 errors array',
        refusal: 'code 89: "Invalid or expired token."',
        status: 401,
        body: '{"errors":[{"code":89,"message":"Invalid or expired token."}]}',
        headers: { 'content-type': 'application/json' },
        check: (e) => {
          expect(e).to.be.instanceOf(XAPIError).and.include({ status: 401, xCode: 89, xMessage: 'Invalid or expired token.' });
          expect(e.message).to.match(/sign the user in again/);
        },
      },
      {
        name: 'plain text',
        refusal: '"Failed to validate oauth signature and token"',
        status: 401,
        body: 'Failed to validate oauth signature and token',
        check: (e) => expect(e).to.be.instanceOf(XAPIError).and.have.property('message').that.includes('Failed to validate oauth signature'),
      },
      {
        name: 'an HTML page from a proxy',
        status: 502,
        body: '<html><body><h1>502 Bad Gateway</h1></body></html>',
        headers: { 'content-type': 'text/html' },
        check: (e) => {
          expect(e).to.be.instanceOf(XAPIError).and.have.property('status', 502);
          expect(e.message).to.match(/HTML page/).and.not.include('<html>');
        },
      },
      {
        name: 'an empty body',
        status: 503,
        body: '',
        check: (e) => expect(e).to.be.instanceOf(XAPIError).and.have.property('message').that.match(/empty body/),
      },
      {
        name: 'a 429 with rate-limit headers',
        status: 429,
        body: '{"errors":[{"code":88,"message":"Rate limit exceeded"}]}',
        headers: { 'x-rate-limit-limit': '15', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': '1700000000' },
        check: (e) => {
          expect(e).to.be.instanceOf(XRateLimitError);
          const rl = e as XRateLimitError;
          expect(rl.rateLimit).to.deep.equal({ limit: 15, remaining: 0, reset: new Date(1700000000 * 1000) });
          expect(rl.resetAt?.toISOString()).to.equal('2023-11-14T22:13:20.000Z');
          expect(e.message).to.include('2023-11-14T22:13:20.000Z');
        },
      },
    ];

    for (const shape of shapes) {
      it(`turns ${shape.name} from request_token into a typed error`, async () => {
        const scope = nock(X).post('/oauth/request_token').reply(shape.status, shape.body, shape.headers);
        const result = await runStrategy(strategy(), fakeRequest({ session: {}, headers: { host: 'localhost:3000' } }));
        scope.done();
        expect(result.type).to.equal('error');
        shape.check(result.error!);
        assertNoSecret(result.error);
      });

      it(`turns ${shape.name} from access_token and verify_credentials into a typed error`, async () => {
        for (const step of ['access', 'profile'] as const) {
          const s = strategy();
          const { session } = await start(s);
          const scopes =
            step === 'access'
              ? [nock(X).post('/oauth/access_token').reply(shape.status, shape.body, shape.headers)]
              : [accessTokenScope(), nock(X).get('/1.1/account/verify_credentials.json').query(true).reply(shape.status, shape.body, shape.headers)];
          const result = await runStrategy(s, callbackRequest(session));
          scopes.forEach((sc) => sc.done());
          if (step === 'access' && shape.refusal) {
            expect(result).to.include({ type: 'fail', status: 401 });
            expect(failureHint(result.challenge, XFailureCode.GRANT_REFUSED)).to.include(shape.refusal);
            expectNoSecrets(result.challenge, SECRETS);
            continue;
          }
          expect(result.type).to.equal('error');
          shape.check(result.error!);
          assertNoSecret(result.error);
        }
      });
    }

    it('does not leak secrets that X echoes back in an error body', async () => {
      const s = strategy();
      const { session } = await start(s);
      const scope = nock(X).post('/oauth/access_token').reply(403, `Invalid verifier ${VERIFIER} for ${REQUEST_SECRET}`);
      const result = await runStrategy(s, callbackRequest(session));
      scope.done();
      expect(result.error).to.be.instanceOf(XAPIError);
      expect(result.error!.message).to.include('[redacted]');
      assertNoSecret(result.error);
    });

    describe('a verifier X refuses (it works once, and expires)', () => {
      it('fails (401, X_GRANT_REFUSED) on X\'s plain-text 401, with X\'s words in the hint and no secret', async () => {
        const s = strategy();
        const { session } = await start(s);
        const scope = nock(X).post('/oauth/access_token').reply(401, `Error processing your OAuth request: Invalid oauth_verifier parameter ${VERIFIER}`);
        const result = await runStrategy(s, callbackRequest(session));
        scope.done();
        expect(result).to.include({ type: 'fail', status: 401 });
        expect((result.challenge as XFailureInfo).message).to.equal('This sign-in took too long or was already used. Sign in again.');
        const hint = failureHint(result.challenge, XFailureCode.GRANT_REFUSED);
        expect(hint).to.include('Invalid oauth_verifier parameter [redacted]').and.match(/work once and expire/).and.match(/several instances, each with its own.*RedisReplayGuard/);
        expectNoSecrets(result.challenge, SECRETS);
      });

      it('reads X\'s XML refusal the same whatever the verifier spells (a verifier of `code="89"`)', async () => {
        const xml = '<?xml version="1.0" encoding="UTF-8"?><errors><error code="89">Invalid or expired token.</error></errors>';
        for (const verifier of ['ordinary-verifier', 'code="89"', '<error>', 'errors']) {
          const s = strategy();
          const { session } = await start(s);
          const scope = nock(X).post('/oauth/access_token').reply(403, xml, { 'content-type': 'application/xml' });
          const result = await runStrategy(s, callbackRequest(session, { oauth_token: REQUEST_TOKEN, oauth_verifier: verifier }));
          scope.done();
          expect(result, verifier).to.include({ type: 'fail', status: 401 });
          expect(failureHint(result.challenge, XFailureCode.GRANT_REFUSED), verifier).to.include('code 89: "Invalid or expired token."');
          expectNoSecrets(result.challenge, [...SECRETS, ...(verifier.length > 8 ? [verifier] : [])]);
        }
      });

      it('fails (401, X_GRANT_REFUSED) on code 89 sent with 403, as one of X\'s tables of codes gives it', async () => {
        const s = strategy();
        const { session } = await start(s);
        const scope = nock(X).post('/oauth/access_token').reply(403, '{"errors":[{"code":89,"message":"Invalid or expired token."}]}', { 'content-type': 'application/json' });
        const result = await runStrategy(s, callbackRequest(session));
        scope.done();
        expect(result).to.include({ type: 'fail', status: 401 });
        expect(failureHint(result.challenge, XFailureCode.GRANT_REFUSED)).to.include('HTTP 403, code 89: "Invalid or expired token."');
        expectNoSecrets(result.challenge, SECRETS);
      });

      for (const [what, status, body] of [
        ['code 32 (a bad signature: the app\'s keys)', 401, '{"errors":[{"code":32,"message":"Could not authenticate you."}]}'],
        ['code 135 (this server\'s clock)', 401, '{"errors":[{"code":135,"message":"Timestamp out of bounds."}]}'],
        ['a 503', 503, 'Service Unavailable'],
      ] as const) {
        it(`keeps ${what} an error`, async () => {
          const s = strategy();
          const { session } = await start(s);
          const scope = nock(X).post('/oauth/access_token').reply(status, body, { 'content-type': 'application/json' });
          const result = await runStrategy(s, callbackRequest(session));
          scope.done();
          expect(result.type).to.equal('error');
          expect(result.error).to.be.instanceOf(XAPIError);
        });
      }

      it('keeps a 401 from verify_credentials an error: only the access-token step refuses a verifier', async () => {
        const s = strategy();
        const { session } = await start(s);
        const scopes = [accessTokenScope(), nock(X).get('/1.1/account/verify_credentials.json').query(true).reply(401, 'Unauthorized')];
        const result = await runStrategy(s, callbackRequest(session));
        scopes.forEach((sc) => sc.done());
        expect(result.type).to.equal('error');
      });
    });

    it('rejects a 200 verify_credentials answer that is not a user', async () => {
      const s = strategy();
      const { session } = await start(s);
      const scopes = [accessTokenScope(), nock(X).get('/1.1/account/verify_credentials.json').query(true).reply(200, '{"id":1}')];
      const result = await runStrategy(s, callbackRequest(session));
      scopes.forEach((sc) => sc.done());
      expect(result.error).to.be.instanceOf(XRequestError).and.have.property('code', 'X_INVALID_RESPONSE');
    });

    it('refuses an access token from X with characters outside printable ASCII (X_INVALID_RESPONSE)', async () => {
      const s = strategy();
      const { session } = await start(s);
      const scope = accessTokenScope([], `oauth_token=42-acc%C3%A9ss&oauth_token_secret=as-1&user_id=1&screen_name=xdev`);
      const result = await runStrategy(s, callbackRequest(session));
      scope.done();
      expect(result.error).to.be.instanceOf(XRequestError).and.have.property('code', 'X_INVALID_RESPONSE');
      expect(result.error!.message).to.include('`oauth_token` with characters other than printable ASCII');
    });

    it('refuses an access token secret with a control character from X (X_INVALID_RESPONSE)', async () => {
      const s = strategy();
      const { session } = await start(s);
      const scope = accessTokenScope([], `oauth_token=${ACCESS_TOKEN}&oauth_token_secret=as-1%0D%0Ax&user_id=1&screen_name=xdev`);
      const result = await runStrategy(s, callbackRequest(session));
      scope.done();
      expect(result.error).to.be.instanceOf(XRequestError).and.have.property('code', 'X_INVALID_RESPONSE');
      expect(result.error!.message).to.match(/`oauth_token_secret` with a control character/);
    });

    it('throws a TypeError naming consumerKey or consumerSecret when it holds a control character, never quoting it', () => {
      for (const name of ['consumerKey', 'consumerSecret'] as const) {
        expect(() => strategy({ [name]: 'abcd-1234\r\n' }), name).to.throw(TypeError, new RegExp(`\`${name}\`.*control character`));
        expect(() => strategy({ [name]: 'abcd-1234\r\n' })).to.throw(TypeError).with.property('message').that.does.not.include('abcd-1234');
      }
    });

    it('errors with X_INVALID_RESPONSE, never an uncaught exception, when screen_name holds a lone surrogate', async () => {
      const s = strategy();
      const { session } = await start(s);
      const body = USER_JSON.replace('"screen_name":"xdev"', '"screen_name":"x\\ud800dev"');
      const scopes = [accessTokenScope(), nock(X).get('/1.1/account/verify_credentials.json').query(true).reply(200, body, { 'content-type': 'application/json' })];
      const result = await runStrategy(s, callbackRequest(session));
      scopes.forEach((sc) => sc.done());
      expect(result.type).to.equal('error');
      expect(result.error).to.be.instanceOf(XRequestError).and.have.property('code', 'X_INVALID_RESPONSE');
      expect(result.error!.message).to.match(/`screen_name` that is not well-formed Unicode/);
    });

    it('times out a hung X after timeoutMs', async () => {
      const scope = nock(X).post('/oauth/request_token').delay(500).reply(200, 'oauth_token=a&oauth_token_secret=b&oauth_callback_confirmed=true');
      const result = await runStrategy(strategy({ timeoutMs: 50 }), fakeRequest({ session: {}, headers: { host: 'localhost:3000' } }));
      expect(result.type).to.equal('error');
      expect(result.error).to.be.instanceOf(XRequestError).and.have.property('code', 'X_REQUEST_TIMEOUT');
      expect(result.error!.message).to.match(/within 50 ms/);
      scope.done();
    });
  });
});

// X's pay-per-use billing layer answers the profile read (a billed user read) with 402 or a usage cap.
describe('XOAuth1Strategy: profileFallback', () => {
  const CREDITS = [
    402,
    '{"account_id":2036532529868496897,"title":"CreditsDepleted","detail":"Your enrolled account [2036532529868496897] does not have any credits to fulfill this request.","type":"https://api.twitter.com/2/problems/credits"}',
    { 'content-type': 'application/json; charset=utf-8', 'x-rate-limit-limit': '75', 'x-rate-limit-remaining': '74', 'x-rate-limit-reset': '1781049099' },
  ] as const;
  const USAGE_CAP = [
    429,
    JSON.stringify({ title: 'UsageCapExceeded', detail: 'Usage cap exceeded: Monthly product cap', type: 'https://api.twitter.com/2/problems/usage-capped', period: 'Monthly', scope: 'Product' }),
    { 'content-type': 'application/json; charset=utf-8', 'x-rate-limit-limit': '75', 'x-rate-limit-remaining': '74', 'x-rate-limit-reset': '1781049099' },
  ] as const;

  /** Runs a callback whose verify_credentials gets `reply`; returns the outcome. */
  async function signInWithProfileAnswer(s: XOAuth1Strategy, reply: readonly [number, string, Record<string, string>], accessAnswer?: string) {
    const { session } = await start(s);
    const log: SignedRequestRecord[] = [];
    const scopes = [
      accessTokenScope([], accessAnswer),
      nock(X).get('/1.1/account/verify_credentials.json').query(true).reply(signedReply(X, known, [reply[0], reply[1], reply[2]], log)),
    ];
    const result = await runStrategy(s, callbackRequest(session));
    scopes.forEach((sc) => sc.done());
    expect(log.map((l) => l.verification.ok), 'verify_credentials was signed with the access token').to.deep.equal([true]);
    return result;
  }

  it('is off by default: a 402 from verify_credentials errors with an XCreditsDepletedError that tells the person and the developer', async () => {
    const result = await signInWithProfileAnswer(strategy(), CREDITS);
    expect(result.type).to.equal('error');
    const err = result.error as XCreditsDepletedError;
    expect(err).to.be.instanceOf(XCreditsDepletedError).and.include({ code: 'X_CREDITS_DEPLETED', status: 402, accountId: '2036532529868496897' });
    expect(err.userMessage).to.equal('Sign-in with X is unavailable on this site right now. Try again later.');
    expect(err.hint).to.match(/Developer Console/);
    assertNoSecret(err);
  });

  it("with 'token', signs the user in on a 402 with a partial profile from the access-token answer, and warns once", async () => {
    // Two sign-ins with the same request token on one instance: a guard that grants every claim, so
    // the second is not refused as a replay before it reaches verify_credentials.
    const s = strategy({ profileFallback: 'token', replayGuard: { claim: async () => true } });
    const { value: results, warnings } = await withWarnings(async () => [await signInWithProfileAnswer(s, CREDITS), await signInWithProfileAnswer(s, CREDITS)], { code: 'PASSPORT_X_PROFILE_FALLBACK' });
    for (const result of results) {
      expect(result.type).to.equal('success');
      const user = result.user as { token: string; profile: XProfile };
      expect(user.token).to.equal(ACCESS_TOKEN);
      expect(user.profile).to.deep.include({ provider: 'x', id: USER.id_str, username: 'xdev', displayName: 'xdev', profileUrl: 'https://x.com/xdev', partial: true });
      expect(user.profile._json).to.deep.equal({ user_id: USER.id_str, screen_name: 'xdev' });
      expect(user.profile).to.not.have.any.keys('photos', 'emails', '_accessLevel');
    }
    expect(warnings).to.have.length(1);
  });

  it("with 'token', signs the user in on a usage cap too", async () => {
    const result = await signInWithProfileAnswer(strategy({ profileFallback: 'token' }), USAGE_CAP);
    expect(result.type).to.equal('success');
    expect((result.user as { profile: XProfile }).profile).to.include({ id: USER.id_str, partial: true });
  });

  it('without it, a usage cap errors with an XUsageCapError, which is no XRateLimitError', async () => {
    const result = await signInWithProfileAnswer(strategy(), USAGE_CAP);
    expect(result.error).to.be.instanceOf(XUsageCapError).and.not.instanceOf(XRateLimitError);
  });

  it("with 'token', still errors on anything but X's billing refusals: a rate limit, a revoked token, a server error", async () => {
    const answers: Array<readonly [number, string, Record<string, string>]> = [
      [429, '{"errors":[{"code":88,"message":"Rate limit exceeded"}]}', { 'content-type': 'application/json', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': '1700000000' }],
      [401, '{"errors":[{"code":89,"message":"Invalid or expired token."}]}', { 'content-type': 'application/json' }],
      [503, '{"errors":[{"code":130,"message":"Over capacity"}]}', { 'content-type': 'application/json' }],
    ];
    for (const answer of answers) {
      const result = await signInWithProfileAnswer(strategy({ profileFallback: 'token' }), answer);
      expect(result.type, String(answer[0])).to.equal('error');
      expect(result.error).to.be.instanceOf(XAPIError).and.include({ status: answer[0] });
    }
  });

  it("with 'token', errors when the access-token answer does not name the user", async () => {
    const result = await signInWithProfileAnswer(strategy({ profileFallback: 'token' }), CREDITS, `oauth_token=${ACCESS_TOKEN}&oauth_token_secret=${ACCESS_SECRET}`);
    expect(result.error).to.be.instanceOf(XCreditsDepletedError);
  });

  it('leaves a normal profile unmarked', async () => {
    const s = strategy({ profileFallback: 'token' });
    const { session } = await start(s);
    const scopes = [accessTokenScope(), profileScope()];
    const result = await runStrategy(s, callbackRequest(session));
    scopes.forEach((sc) => sc.done());
    expect((result.user as { profile: XProfile }).profile).to.not.have.property('partial');
  });

  it("refuses any other value than 'token' with a TypeError naming the option", () => {
    expect(() => strategy({ profileFallback: 'always' as 'token' })).to.throw(TypeError, /`profileFallback` must be 'token'/);
  });
});
