import { expect } from 'chai';
import { expectNoSecrets, expectSecretsOutOfPrint, failureHint, type SecretToScan } from './support/assertions';
import { XFailureCode, type XFailureInfo } from '../lib/failure';
import nock from 'nock';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { inspect } from 'node:util';
import { EncryptedCookieStateStore } from '../lib/state/encrypted-cookie';
import { XAPIError, XOAuthError, XRateLimitError, XRequestError, XSessionError } from '../lib/errors';
import {
  X_OAUTH2_DEFAULT_USER_FIELDS,
  XOAuth2PkceStrategy,
  type XOAuth2StrategyOptions,
  type XOAuth2TokenParams,
  type XOAuth2Verify,
} from '../lib/oauth2-strategy';
import { codeChallengeS256 } from '../lib/pkce';
import type { XProfile } from '../lib/profile';
import type { XAuthRequest } from '../lib/request';
import { PENDING_TTL_MS, pendingBinding } from '../lib/state/pending';
import { XPkceSessionStore, type PkceStateStored, type PkceStateVerified, type XPkceStateMeta, type XPkceStateStore } from '../lib/state/pkce-session';
import { fakeRequest, runStrategy, throwingActionsCopy, type StrategyOutcome } from './support/passport-harness';
import { warningsDuring, withWarnings } from './support/warnings';

const X = 'https://api.x.com';
const AUTHORIZE = 'https://x.com/i/oauth2/authorize';
// Characters that form-encoding changes, so the Basic credentials prove RFC 6749 section 2.3.1 encoding.
const CLIENT_ID = 'cid-ABC:123';
const CLIENT_SECRET = 'cs sec/ret+=~!*-client-secret';
// base64('cid-ABC%3A123' ':' 'cs+sec%2Fret%2B%3D%7E%21*-client-secret'), worked out by hand.
const BASIC = `Basic ${Buffer.from('cid-ABC%3A123:cs+sec%2Fret%2B%3D%7E%21*-client-secret').toString('base64')}`;
const CALLBACK = 'http://127.0.0.1:3000/auth/x/callback';
const CALLBACK_ENCODED = 'http%3A%2F%2F127.0.0.1%3A3000%2Fauth%2Fx%2Fcallback';
const HOST = { host: '127.0.0.1:3000' };
const CODE = 'auth-code-VALUE-1234567890';
const ACCESS_TOKEN = 'at-ACCESS-token-value-0001';
const REFRESH_TOKEN = 'rt-REFRESH-token-value-0001';
const TOKEN_ANSWER = { token_type: 'bearer', expires_in: 7200, access_token: ACCESS_TOKEN, scope: 'tweet.read users.read offline.access', refresh_token: REFRESH_TOKEN };
const USER = { id: '2244994945', name: 'X Dev', username: 'XDevelopers', profile_image_url: 'https://pbs.twimg.com/profile_images/p_normal.jpg', verified: false };
const DEFAULT_FIELDS = 'id,name,username,profile_image_url,url,description,verified,created_at,protected';

type Outcome = StrategyOutcome;
type Done = (err: Error | null, user?: unknown, info?: unknown) => void;

const okVerify: XOAuth2Verify = (accessToken, refreshToken, profile, done) => done(null, { accessToken, refreshToken, profile });

function strategy(options: Partial<XOAuth2StrategyOptions> = {}, verify: XOAuth2Verify = okVerify): XOAuth2PkceStrategy {
  return new XOAuth2PkceStrategy({ clientID: CLIENT_ID, clientSecret: CLIENT_SECRET, callbackURL: CALLBACK, ...options }, verify);
}

/** Gives an inline store literal passport-oauth2's 3-argument store type (a union option type cannot type it contextually). */
function pkceStore(store: XPkceStateStore): XPkceStateStore {
  return store;
}

/** A session store that records each verifier the strategy hands it, so tests can check what X receives against it. */
class RecordingStore extends XPkceSessionStore {
  readonly verifiers: string[] = [];
  readonly metas: XPkceStateMeta[] = [];
  override store(req: XAuthRequest, codeVerifier: string, state: unknown, meta: XPkceStateMeta, callback: PkceStateStored): void {
    this.verifiers.push(codeVerifier);
    this.metas.push(meta);
    super.store(req, codeVerifier, state, meta, callback);
  }
}

/** A `fetch` that records every URL it is asked for and passes on to the global one (nock). */
function countingFetch(): { fetch: typeof fetch; urls: string[] } {
  const urls: string[] = [];
  return {
    urls,
    fetch: (input, init) => {
      urls.push(String(input));
      return globalThis.fetch(input, init);
    },
  };
}

interface Started {
  result: Outcome;
  url: URL;
  state: string;
  challenge: string;
  session: Record<string, unknown>;
}

/** Starts a sign-in and returns the redirect, its state and challenge, and the session it left. */
async function start(s: XOAuth2PkceStrategy, session: Record<string, unknown> = {}, options: Record<string, unknown> = {}, headers: Record<string, string> = HOST): Promise<Started> {
  const result = await runStrategy(s, fakeRequest({ session, headers }), options);
  expect(result.type, result.error?.message).to.equal('redirect');
  const url = new URL(result.url!);
  return { result, url, state: url.searchParams.get('state')!, challenge: url.searchParams.get('code_challenge')!, session };
}

function callback(session: Record<string, unknown> | null, query: Record<string, unknown>): XAuthRequest {
  return fakeRequest({ session, query, headers: HOST });
}

interface TokenRequest {
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

function tokenScope(log: TokenRequest[] = [], status = 200, answer: unknown = TOKEN_ANSWER, origin = X, path = '/2/oauth2/token') {
  return nock(origin)
    .post(path)
    .reply(function (_uri, body) {
      log.push({ body: typeof body === 'string' ? body : JSON.stringify(body), headers: { ...this.req.headers } });
      return [status, typeof answer === 'string' ? answer : JSON.stringify(answer), { 'content-type': 'application/json' }];
    });
}

function usersMeScope(fields = DEFAULT_FIELDS, data: Record<string, unknown> = USER, headers: Record<string, string> = {}, origin = X, path = '/2/users/me') {
  return nock(origin, { reqheaders: { authorization: `Bearer ${ACCESS_TOKEN}` } })
    .get(path)
    .query({ 'user.fields': fields })
    .reply(200, JSON.stringify({ data }), { 'content-type': 'application/json', ...headers });
}

const SECRETS: SecretToScan[] = [{ id: CLIENT_ID, secret: CLIENT_SECRET }, CODE, ACCESS_TOKEN, REFRESH_TOKEN];
const assertNoSecret = (err: unknown, extra: string[] = []): void => expectNoSecrets(err, [...SECRETS, ...extra]);


describe('XOAuth2PkceStrategy', () => {
  describe('construction', () => {
    it("is named 'x-oauth2' unless options.name says otherwise", () => {
      expect(strategy().name).to.equal('x-oauth2');
      expect(strategy({ name: 'x' }).name).to.equal('x');
    });

    for (const option of ['clientID', 'callbackURL'] as const) {
      it(`throws a TypeError naming ${option} when it is missing or empty`, () => {
        for (const value of [undefined, '']) {
          const options = { clientID: CLIENT_ID, callbackURL: CALLBACK, [option]: value };
          expect(() => new XOAuth2PkceStrategy(options as unknown as XOAuth2StrategyOptions, okVerify)).to.throw(TypeError, new RegExp(`\`${option}\``));
        }
      });
    }

    it("is a confidential client when given a secret and a public one otherwise, or as clientType says", () => {
      expect(strategy().clientType).to.equal('confidential');
      expect(strategy({ clientSecret: undefined }).clientType).to.equal('public');
      expect(strategy({ clientType: 'public' }).clientType).to.equal('public');
    });

    it("throws for clientType 'confidential' without a secret, naming clientSecret and the public alternative", () => {
      expect(() => strategy({ clientSecret: undefined, clientType: 'confidential' })).to.throw(TypeError, /`clientSecret`.*clientType 'public'/s);
    });

    it('throws on a bad clientType, clientSecret, scope, userFields, skipUserProfile, store, baseURL, URL override or timeoutMs, and without verify', () => {
      expect(() => new XOAuth2PkceStrategy({ clientID: CLIENT_ID, callbackURL: CALLBACK }, undefined as unknown as XOAuth2Verify)).to.throw(TypeError, /verify/);
      expect(() => new XOAuth2PkceStrategy(undefined as unknown as XOAuth2StrategyOptions, okVerify)).to.throw(TypeError, /options/);
      expect(() => strategy({ clientType: 'secret' as 'public' })).to.throw(TypeError, /clientType/);
      expect(() => strategy({ clientSecret: '' })).to.throw(TypeError, /clientSecret/);
      expect(() => strategy({ scope: 42 as unknown as string })).to.throw(TypeError, /`scope`/);
      expect(() => strategy({ scope: ['ok', 1 as unknown as string] })).to.throw(TypeError, /`scope`/);
      expect(() => strategy({ scope: [], skipUserProfile: true })).to.throw(TypeError, /at least one scope/);
      expect(() => strategy({ userFields: {} as unknown as string })).to.throw(TypeError, /userFields/);
      expect(() => strategy({ skipUserProfile: 'yes' as unknown as boolean })).to.throw(TypeError, /skipUserProfile/);
      expect(() => strategy({ store: {} as unknown as XPkceSessionStore })).to.throw(TypeError, /store/);
      expect(() => strategy({ baseURL: 'ftp://x' })).to.throw(TypeError, /baseURL/);
      expect(() => strategy({ tokenURL: 'not a url' })).to.throw(TypeError, /tokenURL/);
      expect(() => strategy({ authorizationURL: 'x.com/auth' })).to.throw(TypeError, /authorizationURL/);
      expect(() => strategy({ userProfileURL: 'nope' })).to.throw(TypeError, /userProfileURL/);
      expect(() => strategy({ timeoutMs: 0 })).to.throw(TypeError, /timeoutMs/);
      // Node's timers cannot wait past 2^31-1 ms: every request would time out after 1 ms.
      expect(() => strategy({ timeoutMs: 2 ** 31 })).to.throw(RangeError, /`timeoutMs`/).with.property('code', 'ERR_OUT_OF_RANGE');
      expect(() => strategy({ timeoutMs: 1.5 })).to.throw(RangeError, /`timeoutMs`/).with.property('code', 'ERR_OUT_OF_RANGE');
    });

    it('keeps the client secret and a cookie store\'s keys out of util.inspect and JSON of the strategy, hidden properties included', () => {
      const cookieSecret = 'a-cookie-secret-of-at-least-32-characters!';
      expectSecretsOutOfPrint(strategy({ store: new EncryptedCookieStateStore({ secret: cookieSecret }) }), [CLIENT_SECRET, cookieSecret]);
    });

    it('does not mutate the options object', () => {
      const options = Object.freeze({ clientID: CLIENT_ID, callbackURL: CALLBACK, scope: Object.freeze(['offline.access']), includeEmail: true, userFields: Object.freeze(['id']) });
      const before = JSON.stringify(options);
      expect(() => new XOAuth2PkceStrategy(options, okVerify)).to.not.throw();
      expect(JSON.stringify(options)).to.equal(before);
    });
  });

  describe('starting a sign-in', () => {
    it('redirects to X with exactly response_type, client_id, redirect_uri, scope, state, code_challenge and code_challenge_method=S256', async () => {
      const store = new RecordingStore();
      const session: Record<string, unknown> = {};
      const { result, url, state, challenge } = await start(strategy({ store }), session);
      expect(`${url.origin}${url.pathname}`).to.equal(AUTHORIZE);
      expect([...url.searchParams.keys()]).to.deep.equal(['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method']);
      expect(Object.fromEntries(url.searchParams)).to.deep.include({
        response_type: 'code',
        client_id: CLIENT_ID,
        redirect_uri: CALLBACK,
        scope: 'tweet.read users.read',
        code_challenge_method: 'S256',
      });
      // Space-joined scopes go out as %20, as X's docs show.
      expect(result.url).to.include('&scope=tweet.read%20users.read&');
      // The challenge is the S256 hash of the verifier that was stored, which never leaves the server.
      expect(store.verifiers).to.have.length(1);
      expect(store.verifiers[0]).to.match(/^[A-Za-z0-9_-]{43,}$/);
      expect(challenge).to.equal(codeChallengeS256(store.verifiers[0]!));
      expect(result.url).to.not.include(store.verifiers[0]);
      expect(Buffer.from(state, 'base64url').length * 8).to.be.at.least(128);
      expect(JSON.stringify(session['oauth2:x'])).to.include(state);
      expect(store.metas[0]).to.deep.equal({
        authorizationURL: AUTHORIZE,
        tokenURL: `${X}/2/oauth2/token`,
        clientID: CLIENT_ID,
        callbackURL: CALLBACK,
        // The sign-in is bound to this strategy: its name, client ID and redirect_uri.
        binding: pendingBinding('oauth2', 'x-oauth2', CLIENT_ID, CALLBACK),
      });
    });

    it('uses a fresh verifier, challenge and state for every sign-in', async () => {
      const s = strategy();
      const session: Record<string, unknown> = {};
      const a = await start(s, session);
      const b = await start(s, session);
      expect(a.state).to.not.equal(b.state);
      expect(a.challenge).to.not.equal(b.challenge);
    });

    it('asks for the configured scopes plus tweet.read and users.read, space-joined, from a string or an array', async () => {
      const fromArray = await start(strategy({ scope: ['offline.access', 'tweet.write'] }));
      expect(fromArray.url.searchParams.get('scope')).to.equal('offline.access tweet.write tweet.read users.read');
      const fromString = await start(strategy({ scope: 'users.read  offline.access' }));
      expect(fromString.url.searchParams.get('scope')).to.equal('users.read offline.access tweet.read');
    });

    it('lets passport.authenticate(name, { scope }) override the scopes, still adding the required ones', async () => {
      const s = strategy({ scope: ['like.read'] });
      expect((await start(s, {}, { scope: 'offline.access' })).url.searchParams.get('scope')).to.equal('offline.access tweet.read users.read');
      expect((await start(s, {}, { scope: ['follows.read', 'users.read'] })).url.searchParams.get('scope')).to.equal('follows.read users.read tweet.read');
      expect((await start(s)).url.searchParams.get('scope')).to.equal('like.read tweet.read users.read');
    });

    it('adds no scope when skipUserProfile is true, and users.email with includeEmail', async () => {
      expect((await start(strategy({ scope: ['offline.access'], skipUserProfile: true }))).url.searchParams.get('scope')).to.equal('offline.access');
      expect((await start(strategy({ includeEmail: true }))).url.searchParams.get('scope')).to.equal('tweet.read users.read users.email');
      // A skipUserProfile function may load the profile, so the required scopes stay.
      expect((await start(strategy({ scope: 'offline.access', skipUserProfile: () => false }))).url.searchParams.get('scope')).to.equal('offline.access tweet.read users.read');
    });

    it('errors on a malformed per-request scope', async () => {
      const result = await runStrategy(strategy(), fakeRequest({ headers: HOST }), { scope: 7 });
      expect(result.type).to.equal('error');
      expect(result.error).to.be.instanceOf(TypeError);
    });

    it('adds authorizationParams() of a subclass, which cannot override the PKCE parameters', async () => {
      class Custom extends XOAuth2PkceStrategy {
        override authorizationParams(): Record<string, string> {
          return { prompt: 'login', state: 'attacker', code_challenge_method: 'plain' };
        }
      }
      const s = new Custom({ clientID: CLIENT_ID, callbackURL: CALLBACK }, okVerify);
      const { url } = await start(s);
      expect(url.searchParams.get('prompt')).to.equal('login');
      expect(url.searchParams.getAll('state')).to.have.length(1).and.not.include('attacker');
      expect(url.searchParams.getAll('code_challenge_method')).to.deep.equal(['S256']);
    });

    it('sends a throw while the consent URL is built to the error path, even from a store that calls back later', async () => {
      // A store whose store() calls back asynchronously: a throw there would reach uncaughtException.
      const later = (state: string): XPkceStateStore => ({
        store: (_req, _verifier, _appState, _meta, cb) => void setImmediate(() => cb(null, state)),
        verify: (_req, _state, cb) => cb(null, false),
      });
      class WithParams extends XOAuth2PkceStrategy {
        override authorizationParams(): Record<string, string> {
          return { lang: 'x\udc00' };
        }
      }
      const cases = [
        new WithParams({ clientID: CLIENT_ID, callbackURL: CALLBACK, store: later('good-state') }, okVerify),
        strategy({ store: later('s\ud800') }),
      ];
      for (const s of cases) {
        const result = await runStrategy(s, fakeRequest({ session: {}, headers: HOST }));
        expect(result.type).to.equal('error');
        expect(result.error).to.be.instanceOf(URIError);
      }
    });

    it('takes the authorization page from authorizationURL and keeps its own query', async () => {
      const { url } = await start(strategy({ authorizationURL: 'https://auth.example/oauth2/authorize?tenant=7' }));
      expect(`${url.origin}${url.pathname}`).to.equal('https://auth.example/oauth2/authorize');
      expect(url.searchParams.get('tenant')).to.equal('7');
      expect(url.searchParams.get('response_type')).to.equal('code');
    });

    it('writes the consent page URL as the WHATWG URL parser would, whatever the characters of each part', async () => {
      class Custom extends XOAuth2PkceStrategy {
        override authorizationParams(): Record<string, string> {
          return { 'lang tag': "fr'CA (été)", prompt: 'a+b&c=d#e' };
        }
      }
      const s = new Custom(
        { clientID: "c'id é", callbackURL: "http://127.0.0.1:3000/cb?x='1'", authorizationURL: "https://u:p@auth.example/o'a/authorize?tenant=7&state=own&q=%27a b#frag'" },
        okVerify,
      );
      for (const options of [{}, { scope: ['tweet.read', "odd'scope"], callbackURL: "http://127.0.0.1:3000/per'request" }]) {
        const { result, url, state, challenge } = await start(s, {}, options);
        // The reference: the URL API, as the consent URL was built before it was written by hand.
        const expected = new URL("https://u:p@auth.example/o'a/authorize?tenant=7&state=own&q=%27a b#frag'");
        const pairs: Array<[string, string]> = [
          ['response_type', 'code'],
          ['client_id', "c'id é"],
          ['redirect_uri', (options as { callbackURL?: string }).callbackURL ?? "http://127.0.0.1:3000/cb?x='1'"],
          ['scope', 'scope' in options ? "tweet.read odd'scope users.read" : 'tweet.read users.read'],
          ['state', state],
          ['code_challenge', challenge],
          ['code_challenge_method', 'S256'],
          ['tenant', '7'],
          ['q', "'a b"],
          ['lang tag', "fr'CA (été)"],
          ['prompt', 'a+b&c=d#e'],
        ];
        expected.search = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
        expect(result.url).to.equal(expected.href);
        expect(url.searchParams.getAll('state')).to.deep.equal([state]);
      }
    });

    it('sends the browser to the consent page under a baseURL that is not X\'s, never to x.com', async () => {
      for (const [baseURL, page] of [
        ['http://127.0.0.1:4010', 'http://127.0.0.1:4010/i/oauth2/authorize'],
        ['http://localhost:4010/x/', 'http://localhost:4010/x/i/oauth2/authorize'],
        ['https://api.x.com', AUTHORIZE],
        ['https://api.x.com/', AUTHORIZE],
        ['https://api.twitter.com', AUTHORIZE],
      ] as const) {
        const { url } = await start(strategy({ baseURL }));
        expect(`${url.origin}${url.pathname}`, baseURL).to.equal(page);
      }
      // An explicit authorizationURL still wins over the derived one.
      const { url } = await start(strategy({ baseURL: 'http://127.0.0.1:4010', authorizationURL: 'https://auth.example/authorize' }));
      expect(`${url.origin}${url.pathname}`).to.equal('https://auth.example/authorize');
    });

    it('resolves a relative callbackURL against the request, as passport-oauth2 does on the callback', async () => {
      const s = strategy({ callbackURL: '/auth/x/callback', proxy: true });
      const { url } = await start(s, {}, {}, { host: 'app.example', 'x-forwarded-proto': 'https' });
      expect(url.searchParams.get('redirect_uri')).to.equal('https://app.example/auth/x/callback');
      const { url: perRequest } = await start(strategy(), {}, { callbackURL: 'http://127.0.0.1:3000/other' });
      expect(perRequest.searchParams.get('redirect_uri')).to.equal('http://127.0.0.1:3000/other');
    });

    it('resolves a relative callbackURL on Fastify, whose request has no `connection` (the socket is under `raw`)', async () => {
      const s = strategy({ callbackURL: '/auth/x/callback' });
      const req = fakeRequest({ session: {}, headers: { host: 'app.example' } }) as XAuthRequest;
      delete req.connection;
      delete req.socket;
      req.raw = { socket: { encrypted: true } };
      const result = await runStrategy(s, req);
      expect(result.type, result.error?.message).to.equal('redirect');
      expect(new URL(result.url!).searchParams.get('redirect_uri')).to.equal('https://app.example/auth/x/callback');
    });

    it('refuses (400 X_CALLBACK_MALFORMED), never throws, when a relative callbackURL meets a Host that cannot form a URL; the code is in no error or warning', async () => {
      const warnings = await warningsDuring(async () => {
        for (const headers of [{ host: '[::1' }, { host: 'a.com:443, b.com:8080' }, { host: 'app.example', 'x-forwarded-host': 'a.com:443 b.com' }]) {
          const s = strategy({ callbackURL: '/auth/x/callback', proxy: true });
          const started = await runStrategy(s, fakeRequest({ session: {}, headers }));
          expect(started, `start, ${JSON.stringify(headers)}`).to.include({ type: 'fail', status: 400 });
          expect((started.challenge as { code: string }).code).to.equal('X_CALLBACK_MALFORMED');
          for (const query of [{ code: CODE, state: 'a-state-of-this-session' }, { error: 'invalid_scope', state: 'a-state-of-this-session' }]) {
            const outcome = await runStrategy(s, fakeRequest({ session: {}, query, headers }));
            expect(outcome, `callback, ${JSON.stringify(headers)}`).to.include({ type: 'fail', status: 400 });
            const info = outcome.challenge as { code: string; hint: string };
            expect(info.code).to.equal('X_CALLBACK_MALFORMED');
            expect(info.hint).to.include('absolute `callbackURL`').and.not.include(CODE);
          }
        }
      });
      for (const w of warnings) expect(`${w.name} ${w.message}`).not.to.include(CODE).and.not.include('DEP0170');
    });

    it('errors with a message that says what to add when there is no session', async () => {
      const result = await runStrategy(strategy(), fakeRequest({ session: null, headers: HOST }));
      expect(result.type).to.equal('error');
      expect(result.error).to.be.instanceOf(XSessionError).and.have.property('code', 'X_SESSION_REQUIRED');
      expect(result.error!.message).to.match(/express-session/).and.match(/x-oauth2/);
    });

    it('warns once when the sign-in starts on another host than callbackURL', async () => {
      const ours = await warningsDuring(async () => {
        const s = strategy();
        for (let i = 0; i < 3; i++) await start(s, {}, {}, { host: 'localhost:3000' });
        await start(s); // same host: no warning anyway
      }, { code: 'PASSPORT_X_HOST_MISMATCH' });
      expect(ours).to.have.length(1);
      expect(ours[0]!.message).to.include('"localhost"').and.include('"127.0.0.1"').and.include('x-oauth2');
    });

    it('reads the browser\'s host from a trusted proxy\'s X-Forwarded-Host: no warning when it is the callback\'s, one (with the callback\'s scheme) when it is not', async () => {
      const behindProxy = { host: '127.0.0.1:3000', 'x-forwarded-host': 'app.example.com', 'x-forwarded-proto': 'https' };
      const quiet = await warningsDuring(async () => {
        // nginx's default proxy_pass: Host is the upstream's; the browser is on app.example.com.
        await start(strategy({ callbackURL: 'https://app.example.com/auth/x/callback', proxy: true }), {}, {}, behindProxy);
        const app = { get: (setting: string) => (setting === 'trust proxy' ? true : undefined) };
        const trusted = await runStrategy(strategy({ callbackURL: 'https://app.example.com/auth/x/callback' }), Object.assign(fakeRequest({ session: {}, headers: behindProxy }), { app }));
        expect(trusted.type).to.equal('redirect');
      }, { code: 'PASSPORT_X_HOST_MISMATCH' });
      expect(quiet).to.deep.equal([]);
      const said = await warningsDuring(async () => {
        // The browser on another host than the callback's: said, with the callback's scheme.
        await start(strategy({ callbackURL: 'https://app.example.com/auth/x/callback', proxy: true }), {}, {}, { ...behindProxy, 'x-forwarded-host': 'www.example.com' });
        // Not trusted: the Host counts, as for the callback URL.
        await start(strategy({ callbackURL: 'https://app.example.com/auth/x/callback' }), {}, {}, behindProxy);
      }, { code: 'PASSPORT_X_HOST_MISMATCH' });
      expect(said).to.have.length(2);
      expect(said[0]!.message).to.include('started on host "www.example.com"').and.include('https://app.example.com...');
      expect(said[1]!.message).to.include('started on host "127.0.0.1"');
    });

    it('falls back to the strategy\'s callbackURL when passport.authenticate gives an empty one, on both legs', async () => {
      const started = await start(strategy(), {}, { callbackURL: '' }, HOST);
      expect(started.url.searchParams.get('redirect_uri')).to.equal(CALLBACK);
    });

    it('reads the callback\'s query from req.url when the framework gave no req.query (Passport on node:http or connect)', async () => {
      const s = strategy({ skipUserProfile: true });
      const { state, session } = await start(s);
      const scope = nock(X).post('/2/oauth2/token').reply(200, TOKEN_ANSWER);
      const req = fakeRequest({ session, headers: HOST, url: `/auth/x/callback?code=${CODE}&state=${state}` }) as XAuthRequest;
      delete req.query;
      const result = await runStrategy(s, req);
      scope.done();
      expect(result.type, result.error?.message).to.equal('success');
      // A repeated parameter stays a refusal, as with Express's parser.
      const twice = fakeRequest({ session: {}, headers: HOST, url: `/auth/x/callback?code=${CODE}&code=${CODE}&state=${state}` }) as XAuthRequest;
      delete twice.query;
      expect(await runStrategy(s, twice)).to.include({ type: 'fail', status: 400 });
    });

    it("reads a getter req.query (Express 5 parses the query string again on every read) once on each leg, and on a Cancel", async () => {
      const s = strategy({ skipUserProfile: true });
      /** A request whose `query` is a getter that counts its reads and parses `url` afresh each time, as Express 5's does. */
      const counted = (url: string, session: Record<string, unknown>): { req: XAuthRequest; reads: () => number } => {
        let reads = 0;
        const req = fakeRequest({ session, headers: HOST, url }) as XAuthRequest;
        delete req.query;
        Object.defineProperty(req, 'query', {
          get: () => {
            reads += 1;
            return Object.fromEntries(new URL(url, 'http://127.0.0.1').searchParams);
          },
        });
        return { req, reads: () => reads };
      };
      const session: Record<string, unknown> = {};
      const first = counted('/auth/x', session);
      const started = await runStrategy(s, first.req);
      expect(started.type).to.equal('redirect');
      expect(first.reads()).to.equal(1);
      const state = new URL(started.url as string).searchParams.get('state') as string;
      const scope = nock(X).post('/2/oauth2/token').reply(200, TOKEN_ANSWER);
      const callback = counted(`/auth/x/callback?code=${CODE}&state=${state}`, session);
      const result = await runStrategy(s, callback.req);
      scope.done();
      expect(result.type, result.error?.message).to.equal('success');
      expect(callback.reads()).to.equal(1);
      // The user's Cancel on X: the error path reads the same parsed query.
      const again = await runStrategy(s, counted('/auth/x', session).req);
      const pending = new URL(again.url as string).searchParams.get('state') as string;
      const cancel = counted(`/auth/x/callback?error=access_denied&state=${pending}`, session);
      const cancelled = await runStrategy(s, cancel.req);
      expect(cancelled).to.include({ type: 'fail', status: 403 });
      expect(cancelled.challenge).to.include({ code: XFailureCode.ACCESS_DENIED });
      expect(cancel.reads()).to.equal(1);
    });

    it("lets a throw from Passport's fail() in authenticate()'s own tick go up to the framework, once, with no call to error()", () => {
      const thrown = new Error('the app\'s failure callback threw');
      const calls: string[] = [];
      const instance = throwingActionsCopy(strategy(), calls, 'fail', thrown);
      // An empty `error` is refused in the same tick: the framework's catch (Express's router) answers the throw.
      expect(() => instance.authenticate(fakeRequest({ session: {}, headers: HOST, query: { error: '' } }))).to.throw(thrown);
      expect(calls).to.deep.equal(['fail']);
    });

    it("lets a throw from Passport's fail() or error() go up to the framework once when the store answers at once, with nothing called after it", async () => {
      const thrown = new Error('the app\'s failure handling threw');
      const s = strategy();
      const { session, state } = await start(s);
      // A used callback (no pending state), a Cancel of a state not issued here, a Cancel found by verify() (a store without drop()): fail() throws.
      const noDrop = strategy({ store: pkceStore({ store: (_r, _v, _s, _m, cb) => cb(null, 'h'), verify: (_r, _s, cb) => cb(null, false) }) });
      for (const [instance, query] of [
        [s, { code: CODE, state: 'not-issued-here' }],
        [s, { error: 'access_denied', state: 'not-issued-here' }],
        [noDrop, { error: 'access_denied', state: 'h' }],
      ] as const) {
        const calls: string[] = [];
        const copy = throwingActionsCopy(instance as XOAuth2PkceStrategy, calls, 'fail', thrown);
        expect(() => copy.authenticate(callback(session, query)), JSON.stringify(query)).to.throw(thrown);
        expect(calls, JSON.stringify(query)).to.deep.equal(['fail']);
      }
      expect(JSON.stringify(session), 'the real sign-in is still pending').to.include(state);
      // The start, with a store that fails at once: error() throws.
      const failing = strategy({ store: pkceStore({ store: (_r, _v, _s, _m, cb) => cb(new Error('redis down')), verify: (_r, _s, cb) => cb(null, false) }) });
      const calls: string[] = [];
      const copy = throwingActionsCopy(failing, calls, 'error', thrown);
      expect(() => copy.authenticate(fakeRequest({ session: {}, headers: HOST }))).to.throw(thrown);
      expect(calls).to.deep.equal(['error']);
    });

    it('errors when the state store fails or answers no state', async () => {
      const failing = strategy({
        store: pkceStore({ store: (_r, _v, _s, _m, cb) => cb(new Error('redis down')), verify: (_r, _s, cb) => cb(null, false) }),
      });
      const failed = await runStrategy(failing, fakeRequest({ headers: HOST }));
      expect(failed).to.include({ type: 'error' });
      expect(failed.error!.message).to.equal('redis down');
      const empty = strategy({ store: pkceStore({ store: (_r, _v, _s, _m, cb) => cb(null, ''), verify: (_r, _s, cb) => cb(null, false) }) });
      const none = await runStrategy(empty, fakeRequest({ headers: HOST }));
      expect(none.type).to.equal('error');
      expect(none.error!.message).to.match(/no `state` value/);
      const throwing = strategy({
        store: pkceStore({
          store: () => {
            throw new Error('sync failure');
          },
          verify: (_r, _s, cb) => cb(null, false),
        }),
      });
      expect((await runStrategy(throwing, fakeRequest({ headers: HOST }))).error!.message).to.equal('sync failure');
    });
  });

  describe('the callback', () => {
    it('confidential client: sends the token request byte for byte, with Basic credentials and no secret in the body', async () => {
      const store = new RecordingStore();
      const s = strategy({ store });
      const { session, state, challenge } = await start(s);
      const log: TokenRequest[] = [];
      const scopes = [tokenScope(log), usersMeScope()];
      const result = await runStrategy(s, callback(session, { code: CODE, state }));
      scopes.forEach((sc) => sc.done());
      expect(result.type, result.error?.message).to.equal('success');
      expect(log).to.have.length(1);
      const verifier = store.verifiers[0]!;
      expect(log[0]!.body).to.equal(`grant_type=authorization_code&code=${CODE}&redirect_uri=${CALLBACK_ENCODED}&code_verifier=${verifier}&client_id=cid-ABC%3A123`);
      expect(log[0]!.headers.authorization).to.equal(BASIC);
      expect(log[0]!.headers['content-type']).to.equal('application/x-www-form-urlencoded');
      expect(log[0]!.body).to.not.include('client_secret');
      expect(log[0]!.body).to.not.include('sec%2Fret');
      // The verifier X receives hashes to the challenge sent to the consent page.
      const sent = new URLSearchParams(log[0]!.body).get('code_verifier')!;
      expect(codeChallengeS256(sent)).to.equal(challenge);
    });

    it('public client: client_id in the body and no Authorization header', async () => {
      const store = new RecordingStore();
      const s = strategy({ clientSecret: undefined, store });
      const { session, state } = await start(s);
      const log: TokenRequest[] = [];
      const scopes = [tokenScope(log), usersMeScope()];
      const result = await runStrategy(s, callback(session, { code: CODE, state }));
      scopes.forEach((sc) => sc.done());
      expect(result.type).to.equal('success');
      expect(log[0]!.body).to.equal(`grant_type=authorization_code&code=${CODE}&redirect_uri=${CALLBACK_ENCODED}&code_verifier=${store.verifiers[0]}&client_id=cid-ABC%3A123`);
      expect(log[0]!.headers).to.not.have.property('authorization');
      expect(log[0]!.headers['content-type']).to.equal('application/x-www-form-urlencoded');
    });

    it("clientType 'public' with a clientSecret given sends the secret nowhere", async () => {
      const s = strategy({ clientType: 'public' });
      const { session, state } = await start(s);
      const log: TokenRequest[] = [];
      const scopes = [tokenScope(log), usersMeScope()];
      const result = await runStrategy(s, callback(session, { code: CODE, state }));
      scopes.forEach((sc) => sc.done());
      expect(result.type).to.equal('success');
      expect(log[0]!.headers).to.not.have.property('authorization');
      expect(JSON.stringify(log[0])).to.not.include('secret');
    });

    it('calls verify(accessToken, refreshToken, profile, done) with the profile from users/me', async () => {
      const s = strategy();
      const { session, state } = await start(s);
      const scopes = [tokenScope(), usersMeScope(DEFAULT_FIELDS, { ...USER, url: 'https://t.co/x' }, { 'x-access-level': 'read-write' })];
      const result = await runStrategy(s, callback(session, { code: CODE, state }));
      scopes.forEach((sc) => sc.done());
      const user = result.user as { accessToken: string; refreshToken: string; profile: XProfile };
      expect(user.accessToken).to.equal(ACCESS_TOKEN);
      expect(user.refreshToken).to.equal(REFRESH_TOKEN);
      expect(user.profile).to.include({
        provider: 'x',
        id: USER.id,
        username: 'XDevelopers',
        displayName: 'X Dev',
        profileUrl: 'https://x.com/XDevelopers',
        _accessLevel: 'read-write',
      });
      expect(user.profile.photos).to.deep.equal([{ value: USER.profile_image_url }]);
      expect(user.profile).to.not.have.property('emails');
      expect(user.profile._json).to.deep.equal({ ...USER, url: 'https://t.co/x' });
      expect(JSON.parse(user.profile._raw)).to.deep.equal({ data: { ...USER, url: 'https://t.co/x' } });
      expect(X_OAUTH2_DEFAULT_USER_FIELDS.join(',')).to.equal(DEFAULT_FIELDS);
    });

    it('passes an undefined refresh token when X issues none (no offline.access)', async () => {
      const s = strategy();
      const { session, state } = await start(s);
      const { refresh_token: _none, ...answer } = TOKEN_ANSWER;
      const scopes = [tokenScope([], 200, { ...answer, scope: 'tweet.read users.read' }), usersMeScope()];
      const result = await runStrategy(s, callback(session, { code: CODE, state }));
      scopes.forEach((sc) => sc.done());
      expect(result.type).to.equal('success');
      expect((result.user as { refreshToken: unknown }).refreshToken).to.equal(undefined);
    });

    it('calls verify(accessToken, refreshToken, params, profile, done) with X\'s token answer as params, and its token set', async () => {
      let seen: { params?: XOAuth2TokenParams; profile?: XProfile } = {};
      const s = new XOAuth2PkceStrategy({ clientID: CLIENT_ID, clientSecret: CLIENT_SECRET, callbackURL: CALLBACK }, (accessToken: string, refreshToken: string | undefined, params: XOAuth2TokenParams, profile: XProfile, done: Done) => {
        seen = { params, profile };
        done(null, { accessToken, refreshToken });
      });
      const { session, state } = await start(s);
      const scopes = [tokenScope(), usersMeScope()];
      const before = Date.now();
      const result = await runStrategy(s, callback(session, { code: CODE, state }));
      scopes.forEach((sc) => sc.done());
      expect(result.type).to.equal('success');
      const params = seen.params!;
      expect(params).to.include({ expires_in: 7200, scope: 'tweet.read users.read offline.access', token_type: 'bearer' });
      expect(JSON.parse(JSON.stringify(params))).to.deep.equal(TOKEN_ANSWER);
      expect(Object.keys(params)).to.not.include('tokenSet');
      expect(params.tokenSet).to.include({ accessToken: ACCESS_TOKEN, refreshToken: REFRESH_TOKEN, tokenType: 'bearer', expiresIn: 7200 });
      expect(params.tokenSet.scope).to.deep.equal(['tweet.read', 'users.read', 'offline.access']);
      expect(params.tokenSet.expiresAt!.getTime()).to.be.within(before + 7200_000, Date.now() + 7200_000);
      expect(seen.profile!.id).to.equal(USER.id);
    });

    it('passes req first with passReqToCallback, in both arities', async () => {
      let seenReq: unknown;
      const five = new XOAuth2PkceStrategy({ clientID: CLIENT_ID, callbackURL: CALLBACK, passReqToCallback: true }, (req, accessToken, _refreshToken, profile, done) => {
        seenReq = req;
        done(null, `${accessToken}:${profile.id}`);
      });
      const six = new XOAuth2PkceStrategy({ clientID: CLIENT_ID, callbackURL: CALLBACK, passReqToCallback: true }, (req: XAuthRequest, _accessToken: string, _refreshToken: string | undefined, params: XOAuth2TokenParams, profile: XProfile, done: Done) => {
        seenReq = req;
        done(null, `${params.token_type}:${profile.username}`);
      });
      for (const [s, expected] of [
        [five, `${ACCESS_TOKEN}:${USER.id}`],
        [six, 'bearer:XDevelopers'],
      ] as const) {
        const { session, state } = await start(s);
        const scopes = [tokenScope(), usersMeScope()];
        const req = callback(session, { code: CODE, state });
        const result = await runStrategy(s, req);
        scopes.forEach((sc) => sc.done());
        expect(seenReq).to.equal(req);
        expect(result.user).to.equal(expected);
      }
    });

    it('with includeEmail, asks users/me for confirmed_email and maps it to profile.emails', async () => {
      const s = strategy({ includeEmail: true });
      const { session, state, url } = await start(s);
      expect(url.searchParams.get('scope')).to.include('users.email');
      const scopes = [tokenScope(), usersMeScope(`${DEFAULT_FIELDS},confirmed_email`, { ...USER, confirmed_email: 'dev@example.com' })];
      const result = await runStrategy(s, callback(session, { code: CODE, state }));
      scopes.forEach((sc) => sc.done());
      expect((result.user as { profile: XProfile }).profile.emails).to.deep.equal([{ value: 'dev@example.com' }]);
    });

    it('asks users/me for the userFields option (array or comma-separated)', async () => {
      for (const userFields of [['id', 'username', 'public_metrics'], 'id, username,public_metrics']) {
        const s = strategy({ userFields });
        const { session, state } = await start(s);
        const scopes = [tokenScope(), usersMeScope('id,username,public_metrics')];
        const result = await runStrategy(s, callback(session, { code: CODE, state }));
        scopes.forEach((sc) => sc.done());
        expect(result.type).to.equal('success');
      }
    });

    it('with skipUserProfile, calls no users/me and passes an undefined profile', async () => {
      let profiles: unknown[] = [];
      const verify: XOAuth2Verify = (_a, _r, profile, done) => {
        profiles.push(profile);
        done(null, { ok: true });
      };
      const asyncSkip = (_token: string, done: (err: Error | null, skip?: boolean) => void): void => done(null, true);
      for (const skipUserProfile of [true, () => true, asyncSkip]) {
        profiles = [];
        const s = strategy({ skipUserProfile }, verify);
        const { session, state } = await start(s);
        const token = tokenScope();
        const result = await runStrategy(s, callback(session, { code: CODE, state }));
        token.done();
        expect(result.type).to.equal('success');
        expect(profiles).to.deep.equal([undefined]);
        expect(nock.pendingMocks()).to.deep.equal([]);
      }
    });

    it('derives the token and users/me URLs from baseURL, and lets each be overridden', async () => {
      const base = 'http://127.0.0.1:9';
      let s = strategy({ baseURL: `${base}/` });
      let started = await start(s);
      let scopes = [tokenScope([], 200, TOKEN_ANSWER, base), usersMeScope(DEFAULT_FIELDS, USER, {}, base)];
      expect((await runStrategy(s, callback(started.session, { code: CODE, state: started.state }))).type).to.equal('success');
      scopes.forEach((sc) => sc.done());
      // The consent page follows baseURL too: a local X never sends the browser to the real x.com.
      expect(`${started.url.origin}${started.url.pathname}`).to.equal(`${base}/i/oauth2/authorize`);

      s = strategy({ tokenURL: 'https://token.example/t', userProfileURL: 'https://me.example/me' });
      started = await start(s);
      scopes = [tokenScope([], 200, TOKEN_ANSWER, 'https://token.example', '/t'), usersMeScope(DEFAULT_FIELDS, USER, {}, 'https://me.example', '/me')];
      expect((await runStrategy(s, callback(started.session, { code: CODE, state: started.state }))).type).to.equal('success');
      scopes.forEach((sc) => sc.done());
    });

    it('sends every request through the `fetch` option', async () => {
      const counting = countingFetch();
      const s = strategy({ fetch: counting.fetch });
      const { session, state } = await start(s);
      expect(counting.urls).to.deep.equal([]);
      const scopes = [tokenScope(), usersMeScope()];
      expect((await runStrategy(s, callback(session, { code: CODE, state }))).type).to.equal('success');
      scopes.forEach((sc) => sc.done());
      expect(counting.urls).to.deep.equal([`${X}/2/oauth2/token`, `${X}/2/users/me?user.fields=${encodeURIComponent(DEFAULT_FIELDS)}`]);
    });

    it('sends the same redirect_uri as on the consent page when callbackURL is relative', async () => {
      const store = new RecordingStore();
      const s = strategy({ callbackURL: '/auth/x/callback', store });
      const { session, state, url } = await start(s);
      expect(url.searchParams.get('redirect_uri')).to.equal(CALLBACK);
      const log: TokenRequest[] = [];
      const scopes = [tokenScope(log), usersMeScope()];
      expect((await runStrategy(s, fakeRequest({ session, query: { code: CODE, state }, headers: HOST, url: '/auth/x/callback' }))).type).to.equal('success');
      scopes.forEach((sc) => sc.done());
      expect(new URLSearchParams(log[0]!.body).get('redirect_uri')).to.equal(CALLBACK);
    });

    it('hands back app state given at the start as info.state', async () => {
      const s = strategy();
      const { session, state } = await start(s, {}, { state: { returnTo: '/settings' } });
      const scopes = [tokenScope(), usersMeScope()];
      const result = await runStrategy(s, callback(session, { code: CODE, state }));
      scopes.forEach((sc) => sc.done());
      expect(result.info).to.deep.equal({ state: { returnTo: '/settings' } });
    });

    it('hands back the app state as info.state when X refuses the code, and never writes into the verify callback\'s info', async () => {
      const s = strategy();
      const first = await start(s, {}, { state: { returnTo: '/settings' } });
      const refusedScope = tokenScope([], 400, { error: 'invalid_request', error_description: 'Value passed for the token was invalid.' });
      const refused = await runStrategy(s, callback(first.session, { code: CODE, state: first.state }));
      refusedScope.done();
      expect(refused).to.include({ type: 'fail', status: 401 });
      expect((refused.challenge as XFailureInfo).state).to.deep.equal({ returnTo: '/settings' });
      // A verify callback answering a string info with app state: once a 500 (strict mode).
      const greeting = strategy({}, (_a, _r, _p, done) => done(null, { id: 'u' }, 'Welcome back'));
      const second = await start(greeting, {}, { state: { returnTo: '/settings' } });
      const scopes = [tokenScope(), usersMeScope()];
      const result = await runStrategy(greeting, callback(second.session, { code: CODE, state: second.state }));
      scopes.forEach((sc) => sc.done());
      expect(result).to.include({ type: 'success' });
      expect(result.info).to.deep.equal({ message: 'Welcome back', state: { returnTo: '/settings' } });
    });

    describe('refused before any request to X', () => {
      // No interceptor is set up and the network is disabled (test/support/setup.ts); the counting
      // fetch proves nothing was even attempted.
      async function refused(s: XOAuth2PkceStrategy, counting: { urls: string[] }, req: XAuthRequest): Promise<Outcome> {
        const result = await runStrategy(s, req);
        expect(counting.urls).to.deep.equal([]);
        expect(nock.pendingMocks()).to.deep.equal([]);
        return result;
      }

      it('fails a state that was not issued to this session, keeping the real one', async () => {
        const counting = countingFetch();
        const s = strategy({ fetch: counting.fetch });
        const { session, state } = await start(s);
        // Same length, last character changed: only the constant-time comparison can tell them apart.
        const forged = `${state.slice(0, -1)}${state.endsWith('A') ? 'B' : 'A'}`;
        const result = await refused(s, counting, callback(session, { code: CODE, state: forged }));
        expect(result).to.include({ type: 'fail', status: 403 });
        expect(failureHint(result.challenge, XFailureCode.CALLBACK_UNKNOWN)).to.match(/state that was not issued to this session/);
        expect(JSON.stringify(session)).to.include(state);
      });

      it('fails when the session has no pending sign-in, with the cause and the fix', async () => {
        const counting = countingFetch();
        const result = await refused(strategy({ fetch: counting.fetch }), counting, callback({}, { code: CODE, state: 'some-state' }));
        expect(result).to.include({ type: 'fail', status: 403 });
        const hint = failureHint(result.challenge, XFailureCode.NO_PENDING_SIGN_IN);
        expect(hint).to.match(/no pending state/).and.match(/localhost and 127\.0\.0\.1/).and.match(/shared session store/).and.match(/sign in again/i);
      });

      it('fails a callback without state, with an empty state, or with repeated parameters (400)', async () => {
        const counting = countingFetch();
        const s = strategy({ fetch: counting.fetch });
        const { session } = await start(s);
        for (const query of [{ code: CODE }, { code: CODE, state: '' }, { code: [CODE, 'x'], state: 'a' }, { code: CODE, state: ['a', 'b'] }, { code: '', state: 'a' }]) {
          const result = await refused(s, counting, callback(session, query));
          expect(result).to.include({ type: 'fail', status: 400 });
          expect(failureHint(result.challenge, XFailureCode.CALLBACK_MALFORMED)).to.match(/missing its code or state/);
        }
      });

      it('fails (400) a code X never sends, before the pending sign-in is used or X is asked; then the real callback still works', async () => {
        const counting = countingFetch();
        const s = strategy({ fetch: counting.fetch });
        const { session, state } = await start(s);
        const before = JSON.stringify(session);
        for (const code of ['c'.repeat(1025), 'with space', 'caf\u00e9', '\ud800', 'line\nbreak']) {
          const result = await refused(s, counting, callback(session, { code, state }));
          expect(result, code.slice(0, 20)).to.include({ type: 'fail', status: 400 });
          expect(failureHint(result.challenge, XFailureCode.CALLBACK_MALFORMED)).to.match(/code is not one X sends/);
        }
        expect(JSON.stringify(session), 'the pending sign-in is untouched').to.equal(before);
        const scopes = [tokenScope(), usersMeScope()];
        expect((await runStrategy(s, callback(session, { code: CODE, state }))).type).to.equal('success');
        scopes.forEach((sc) => sc.done());
      });

      it('fails a replayed callback', async () => {
        const counting = countingFetch();
        const s = strategy({ fetch: counting.fetch });
        const { session, state } = await start(s);
        const scopes = [tokenScope(), usersMeScope()];
        expect((await runStrategy(s, callback(session, { code: CODE, state }))).type).to.equal('success');
        scopes.forEach((sc) => sc.done());
        counting.urls.length = 0;
        const replay = await refused(s, counting, callback(session, { code: CODE, state }));
        expect(replay).to.include({ type: 'fail', status: 403 });
        expect(failureHint(replay.challenge, XFailureCode.NO_PENDING_SIGN_IN)).to.match(/already used/);
      });

      it('fails a sign-in older than 10 minutes', async () => {
        let now = Date.now();
        const counting = countingFetch();
        const s = strategy({ fetch: counting.fetch, store: new XPkceSessionStore({ now: () => now }) });
        const { session, state } = await start(s);
        now += PENDING_TTL_MS;
        const result = await refused(s, counting, callback(session, { code: CODE, state }));
        expect(result).to.include({ type: 'fail', status: 401 });
        expect(failureHint(result.challenge, XFailureCode.SIGN_IN_EXPIRED)).to.match(/more than 10 minutes ago and has expired/);
      });

      it('fails a Cancel (?error=access_denied) on a sign-in older than 10 minutes as expired (401), not as a stranger\'s state', async () => {
        let now = Date.now();
        const counting = countingFetch();
        const s = strategy({ fetch: counting.fetch, store: new XPkceSessionStore({ now: () => now }) });
        const { session, state } = await start(s);
        now += PENDING_TTL_MS;
        const late = await refused(s, counting, callback(session, { error: 'access_denied', state }));
        expect(late).to.include({ type: 'fail', status: 401 });
        expect(failureHint(late.challenge, XFailureCode.SIGN_IN_EXPIRED)).to.match(/more than 10 minutes ago and has expired/);
        // Dropped on the way: the same Cancel again finds no sign-in in progress (a reload).
        const again = await refused(s, counting, callback(session, { error: 'access_denied', state }));
        expect(again).to.include({ type: 'fail', status: 403 });
        failureHint(again.challenge, XFailureCode.NO_PENDING_SIGN_IN);
      });

      it('errors with what to add when the callback has no session', async () => {
        const counting = countingFetch();
        const result = await refused(strategy({ fetch: counting.fetch }), counting, callback(null, { code: CODE, state: 'some-state' }));
        expect(result.type).to.equal('error');
        expect(result.error).to.be.instanceOf(XSessionError);
        expect(result.error!.message).to.match(/express-session/);
      });

      it('fails with "You cancelled the sign-in with X." (403) on ?error=access_denied and drops that pending state only', async () => {
        const counting = countingFetch();
        const s = strategy({ fetch: counting.fetch });
        const session: Record<string, unknown> = {};
        const denied = await start(s, session);
        const other = await start(s, session);
        const result = await refused(s, counting, callback(session, { error: 'access_denied', state: denied.state }));
        expect(result).to.include({ type: 'fail', status: 403 });
        expect(failureHint(result.challenge, XFailureCode.ACCESS_DENIED)).to.match(/pressed Cancel/);
        expect((result.challenge as XFailureInfo).message).to.equal('You cancelled the sign-in with X.');
        expect(JSON.stringify(session)).to.not.include(denied.state);
        expect(JSON.stringify(session)).to.include(other.state);
      });

      it('turns RFC 6749\'s other ?error= codes into an XOAuthError saying what X said and what to do, and drops the state', async () => {
        const counting = countingFetch();
        const s = strategy({ fetch: counting.fetch });
        const { session, state } = await start(s);
        const result = await refused(
          s,
          counting,
          callback(session, { error: 'invalid_scope', error_description: 'Scope\nnot allowed', error_uri: 'https://docs.x.com/scopes', state }),
        );
        expect(result.type).to.equal('error');
        const err = result.error as XOAuthError;
        expect(err).to.be.instanceOf(XOAuthError);
        // X's text arrives through the query string: kept, but with control characters (here a newline) made spaces.
        expect(err).to.include({ code: 'X_OAUTH_ERROR', error: 'invalid_scope', description: 'Scope not allowed', uri: 'https://docs.x.com/scopes' });
        expect(err.message).to.include('invalid_scope (Scope not allowed)').and.match(/Check the `scope` option/);
        // For the person: the site's setup is wrong, not something signing in again cures.
        expect(err.userMessage).to.equal('Sign-in with X is not set up correctly on this site.');
        expect(session).to.not.have.property('oauth2:x');
        const second = await start(s);
        const busy = await refused(s, counting, callback(second.session, { error: 'temporarily_unavailable', state: second.state }));
        expect(busy.error).to.be.instanceOf(XOAuthError).with.property('error', 'temporarily_unavailable');
        expect(busy.error!.message).to.match(/try again later/);
      });

      it('fails (403 X_AUTHORIZATION_REFUSED), never errors, on an ?error= none of RFC 6749\'s codes, even with this session\'s state: anyone can send it with their own', async () => {
        const counting = countingFetch();
        const s = strategy({ fetch: counting.fetch });
        const { session, state } = await start(s);
        const unknown = await refused(s, counting, callback(session, { error: 'weird_error', error_description: 'Call\n555-0100 now', error_uri: 'javascript:alert(1)', state }));
        expect(unknown).to.include({ type: 'fail', status: 403 });
        const info = unknown.challenge as XFailureInfo;
        expect(info.message).to.equal('X did not complete the sign-in. Sign in again.');
        // The developer sees what came back, on one line, capped; the person does not.
        expect(failureHint(info, XFailureCode.AUTHORIZATION_REFUSED)).to.include('weird_error (Call 555-0100 now)').and.match(/RFC 6749 section 4\.1\.2\.1/);
        expect(JSON.stringify(info)).not.to.include('javascript:');
        expect(session).to.not.have.property('oauth2:x');
        const second = await start(s);
        const proto = await refused(s, counting, callback(second.session, { error: 'constructor', state: second.state }));
        expect(proto).to.include({ type: 'fail', status: 403 });
        expect(failureHint(proto.challenge, XFailureCode.AUTHORIZATION_REFUSED)).to.include('constructor').and.not.match(/native code/);
      });

      it('does not believe an ?error= whose state this session did not issue, nor one without a state', async () => {
        const counting = countingFetch();
        const s = strategy({ fetch: counting.fetch });
        const { session, state } = await start(s);
        const forged = await refused(s, counting, callback(session, { error: 'server_error', error_description: 'Call 555-0100 for help', state: 'not-issued' }));
        expect(forged).to.include({ type: 'fail', status: 403 });
        expect(failureHint(forged.challenge, XFailureCode.CALLBACK_UNKNOWN)).to.match(/not issued to this session/);
        expect(JSON.stringify(forged.challenge)).to.not.include('555-0100');
        const stateless = await refused(s, counting, callback(session, { error: 'server_error' }));
        expect(stateless).to.include({ type: 'fail', status: 400 });
        expect(failureHint(stateless.challenge, XFailureCode.CALLBACK_MALFORMED)).to.match(/no state/);
        // The real pending sign-in is untouched by either.
        expect(JSON.stringify(session)).to.include(state.slice(0, 8));
      });

      it('logs the developer\'s hint once per strategy instance and code, never a secret, and tells the person only the short message', async () => {
        const warnings = await warningsDuring(async () => {
          const counting = countingFetch();
          const a = strategy({ fetch: counting.fetch, name: 'x-a' });
          const b = strategy({ fetch: counting.fetch, name: 'x-b' });
          for (const s of [a, a, a, b]) {
            const result = await refused(s, counting, callback({}, { code: CODE, state: 'never-issued' }));
            expect((result.challenge as XFailureInfo).message).to.equal('This browser has no sign-in in progress. Sign in again.');
          }
          await refused(a, counting, callback({}, { code: CODE }));
        });
        const ours = warnings.filter((w) => w.code?.startsWith('PASSPORT_X_') && w.code !== 'PASSPORT_X_HOST_MISMATCH');
        expect(ours.map((w) => `${w.code} ${w.message.slice(0, 20)}`)).to.deep.equal([
          'PASSPORT_X_NO_PENDING_SIGN_IN passport-x (x-a): Th',
          'PASSPORT_X_NO_PENDING_SIGN_IN passport-x (x-b): Th',
          'PASSPORT_X_CALLBACK_MALFORMED passport-x (x-a): Th',
        ]);
        expect(ours[0]!.message).to.match(/no pending state/);
        for (const w of ours) expectNoSecrets(w, [...SECRETS, 'never-issued']);
      });

      it('logs a used callback of a signed-in session (a reload after signing in) apart, so the warning a real miss needs still comes', async () => {
        const { value: signedIn, warnings: ours } = await withWarnings(async () => {
          const counting = countingFetch();
          const s = strategy({ fetch: counting.fetch, name: 'x-reload' });
          // passport.session() put the signed-in user on the request.
          const outcome = await refused(s, counting, Object.assign(callback({}, { code: CODE, state: 'used-already' }), { user: { id: '1' } }));
          await refused(s, counting, callback({}, { code: CODE, state: 'never-issued' }));
          return outcome;
        }, { code: 'PASSPORT_X_NO_PENDING_SIGN_IN' });
        expect(signedIn).to.include({ type: 'fail', status: 403 });
        expect(failureHint(signedIn.challenge, XFailureCode.NO_PENDING_SIGN_IN)).to.match(/signed in already: if this was a reload.*nothing to fix; otherwise the causes above apply/);
        expect((signedIn.challenge as XFailureInfo).message).to.equal('This browser has no sign-in in progress. Sign in again.');
        expect(ours).to.have.length(2);
        expect(ours[0]!.message).to.match(/signed in already/);
        expect(ours[1]!.message).to.match(/no pending state/).and.not.match(/signed in already/);
      });

      it('fails (400) ?error=access_denied with an empty or repeated state: only a callback without any state may be a Cancel', async () => {
        const counting = countingFetch();
        const s = strategy({ fetch: counting.fetch });
        const { session, state } = await start(s);
        const before = JSON.stringify(session);
        for (const bad of ['', [state, state]]) {
          const result = await refused(s, counting, callback(session, { error: 'access_denied', state: bad }));
          expect(result, JSON.stringify(bad)).to.include({ type: 'fail', status: 400 });
          expect(failureHint(result.challenge, XFailureCode.CALLBACK_MALFORMED)).to.match(/no state \(or an empty or repeated one\)/);
        }
        expect(JSON.stringify(session), 'the pending sign-in is untouched').to.equal(before);
        const none = await refused(s, counting, callback(session, { error: 'access_denied' }));
        expect(none).to.include({ type: 'fail', status: 403 });
        expect((none.challenge as XFailureInfo).code).to.equal(XFailureCode.ACCESS_DENIED);
      });

      it('fails a malformed error parameter (400)', async () => {
        const counting = countingFetch();
        const result = await refused(strategy({ fetch: counting.fetch }), counting, callback({}, { error: ['access_denied', 'x'] }));
        expect(result).to.include({ type: 'fail', status: 400 });
        expect(failureHint(result.challenge, XFailureCode.CALLBACK_MALFORMED)).to.match(/malformed `error` parameter/);
      });
    });

    it('fails when verify says no user, and errors when verify throws', async () => {
      const none = strategy({}, (_a, _r, _p, done: Done) => done(null, false, { message: 'not allowed' }));
      let started = await start(none);
      let scopes = [tokenScope(), usersMeScope()];
      const failed = await runStrategy(none, callback(started.session, { code: CODE, state: started.state }));
      scopes.forEach((sc) => sc.done());
      expect(failed).to.deep.equal({ type: 'fail', challenge: { message: 'not allowed' } });

      const boom = strategy({}, () => {
        throw new Error('db down');
      });
      started = await start(boom);
      scopes = [tokenScope(), usersMeScope()];
      const errored = await runStrategy(boom, callback(started.session, { code: CODE, state: started.state }));
      scopes.forEach((sc) => sc.done());
      expect(errored.type).to.equal('error');
      expect(errored.error!.message).to.equal('db down');
    });
  });

  describe('two strategies sharing a store or a session (each sign-in bound to its strategy)', () => {
    const CALLBACK_B = 'http://127.0.0.1:3000/auth/x-b/callback';
    const cookieSecret = 'a-cookie-secret-of-at-least-32-characters!';

    /** A request with a Node response behind it (the cookie store sets cookies there) and the browser's cookies. */
    function withResponse(init: Parameters<typeof fakeRequest>[0] & { cookie?: string }): XAuthRequest & { res: ServerResponse } {
      const headers = { ...HOST, ...(init.cookie ? { cookie: init.cookie } : {}) };
      return Object.assign(fakeRequest({ ...init, headers }), { res: new ServerResponse(new IncomingMessage(new Socket())) });
    }

    function cookiesSetBy(req: { res: ServerResponse }): string {
      return ([req.res.getHeader('set-cookie') ?? []].flat() as string[]).map((c) => c.split(';')[0]).join('; ');
    }

    const setups: Array<[string, () => [XOAuth2PkceStrategy, XOAuth2PkceStrategy]]> = [
      ['their default session stores, in one session', () => [strategy({ name: 'x-a', clientID: 'client-a' }), strategy({ name: 'x-b', clientID: 'client-b', callbackURL: CALLBACK_B })]],
      [
        'one XPkceSessionStore',
        () => {
          const store = new XPkceSessionStore();
          return [strategy({ name: 'x-a', clientID: 'client-a', store }), strategy({ name: 'x-b', clientID: 'client-b', callbackURL: CALLBACK_B, store })];
        },
      ],
      [
        'one EncryptedCookieStateStore',
        () => {
          const store = new EncryptedCookieStateStore({ secret: cookieSecret });
          return [strategy({ name: 'x-a', clientID: 'client-a', store }), strategy({ name: 'x-b', clientID: 'client-b', callbackURL: CALLBACK_B, store })];
        },
      ],
      [
        'one XPkceSessionStore, same client and callback, another name',
        () => {
          const store = new XPkceSessionStore();
          return [strategy({ name: 'x-a', store }), strategy({ name: 'x-b', store })];
        },
      ],
      [
        'one XPkceSessionStore, same name and client, another callback URL',
        () => {
          const store = new XPkceSessionStore();
          return [strategy({ store }), strategy({ store, callbackURL: CALLBACK_B })];
        },
      ],
    ];
    for (const [what, make] of setups) {
      it(`refuses the other strategy's callback with 403, sending nothing to X and leaving the sign-in to its own callback: ${what}`, async () => {
        const counting = countingFetch();
        const [a, b] = make();
        for (const sx of [a, b]) (sx as unknown as { http: { fetch: typeof fetch } }).http.fetch = counting.fetch;
        const session: Record<string, unknown> = {};
        const startReq = withResponse({ session });
        const started = await runStrategy(a, startReq);
        expect(started.type, started.error?.message).to.equal('redirect');
        const state = new URL(started.url!).searchParams.get('state')!;
        const cookie = cookiesSetBy(startReq);

        const crossedReq = withResponse({ session, query: { code: CODE, state }, cookie });
        const crossed = await runStrategy(b, crossedReq);
        expect(crossed).to.include({ type: 'fail', status: 403 });
        expect(failureHint(crossed.challenge, XFailureCode.CALLBACK_UNKNOWN)).to.be.a('string');
        expect(counting.urls).to.deep.equal([]);
        // Nothing of A's was cleared: no cookie store's Max-Age=0 for A's cookie went to the browser.
        expect(cookiesSetBy(crossedReq)).to.equal('');

        // The other strategy's attempt consumed nothing: A's own callback still completes.
        const scopes = [tokenScope(), usersMeScope()];
        const own = await runStrategy(a, withResponse({ session, query: { code: CODE, state }, cookie }));
        scopes.forEach((sc) => sc.done());
        expect(own.type, own.error?.message).to.equal('success');
      });
    }

    it('refuses the other strategy\'s ?error= callback as not issued (403), leaving the pending sign-in', async () => {
      const store = new XPkceSessionStore();
      const a = strategy({ name: 'x-a', clientID: 'client-a', store });
      const b = strategy({ name: 'x-b', clientID: 'client-b', callbackURL: CALLBACK_B, store });
      const { session, state } = await start(a);
      const crossed = await runStrategy(b, callback(session, { error: 'server_error', error_description: 'not yours', state }));
      expect(crossed).to.include({ type: 'fail', status: 403 });
      expect(failureHint(crossed.challenge, XFailureCode.CALLBACK_UNKNOWN)).to.match(/not issued to this session/);
      expect(JSON.stringify(session)).to.include(state);
    });

    it('still completes a sign-in started before bindings existed (a session entry without one, in the format of that release)', async () => {
      const s = strategy();
      const { session, state } = await start(s);
      // As releases before the compact format wrote it: { pending: [entry objects] }, the verifier as codeVerifier, and no binding.
      const [createdAt, , handle, codeVerifier] = (session['oauth2:x'] as string[])[0]!.split(' ');
      expect(handle).to.equal(state);
      session['oauth2:x'] = { pending: [{ handle, codeVerifier, createdAt: parseInt(createdAt!, 36) }] };
      const scopes = [tokenScope(), usersMeScope()];
      const result = await runStrategy(s, callback(session, { code: CODE, state }));
      scopes.forEach((sc) => sc.done());
      expect(result.type).to.equal('success');
    });
  });

  describe('a custom state store', () => {
    /** An in-memory store with passport-oauth2's PKCE interface and a 4-argument verify. */
    function memoryStore() {
      const pending = new Map<string, { verifier: string; state: unknown }>();
      const calls: Array<{ method: string; args: unknown[] }> = [];
      let n = 0;
      return {
        pending,
        calls,
        store(req: XAuthRequest, verifier: string, state: unknown, meta: XPkceStateMeta, cb: PkceStateStored): void {
          calls.push({ method: 'store', args: [req, verifier, state, meta] });
          const handle = `custom-handle-${++n}`;
          pending.set(handle, { verifier, state });
          cb(null, handle);
        },
        verify(req: XAuthRequest, providedState: string, meta: XPkceStateMeta, cb: PkceStateVerified): void {
          calls.push({ method: 'verify', args: [req, providedState, meta] });
          const entry = pending.get(providedState);
          pending.delete(providedState);
          if (!entry) return cb(null, false, { message: 'unknown state' });
          cb(null, entry.verifier, entry.state);
        },
        drop(_req: XAuthRequest, providedState: string, cb: (err?: Error | null) => void): void {
          calls.push({ method: 'drop', args: [providedState] });
          pending.delete(providedState);
          cb(null);
        },
      };
    }

    it('is used for both legs, with meta, and needs no session', async () => {
      const store = memoryStore();
      const s = strategy({ store });
      const startReq = fakeRequest({ session: null, headers: HOST });
      const result = await runStrategy(s, startReq, { state: 'app-state' });
      expect(result.type).to.equal('redirect');
      const url = new URL(result.url!);
      expect(url.searchParams.get('state')).to.equal('custom-handle-1');
      const [stored] = store.calls;
      expect(stored!.args[0]).to.equal(startReq);
      expect(url.searchParams.get('code_challenge')).to.equal(codeChallengeS256(stored!.args[1] as string));
      expect(stored!.args[2]).to.equal('app-state');
      const meta = { authorizationURL: AUTHORIZE, tokenURL: `${X}/2/oauth2/token`, clientID: CLIENT_ID, callbackURL: CALLBACK, binding: pendingBinding('oauth2', 'x-oauth2', CLIENT_ID, CALLBACK) };
      expect(stored!.args[3]).to.deep.equal(meta);

      const log: TokenRequest[] = [];
      const scopes = [tokenScope(log), usersMeScope()];
      const done = await runStrategy(s, callback(null, { code: CODE, state: 'custom-handle-1' }));
      scopes.forEach((sc) => sc.done());
      expect(done.type).to.equal('success');
      expect(done.info).to.deep.equal({ state: 'app-state' });
      expect(store.calls[1]!.args[2]).to.deep.equal(meta);
      expect(new URLSearchParams(log[0]!.body).get('code_verifier')).to.equal(stored!.args[1]);
    });

    it('fails with its message when it refuses the state, and is asked to drop a denied one', async () => {
      const store = memoryStore();
      const s = strategy({ store });
      const refused = await runStrategy(s, callback(null, { code: CODE, state: 'nope' }));
      expect(refused).to.deep.equal({ type: 'fail', challenge: { message: 'unknown state' }, status: 403 });
      await runStrategy(s, fakeRequest({ session: null, headers: HOST }));
      const denied = await runStrategy(s, callback(null, { error: 'access_denied', state: 'custom-handle-1' }));
      expect(denied.type).to.equal('fail');
      expect(store.calls.at(-1)).to.deep.equal({ method: 'drop', args: ['custom-handle-1'] });
      expect(store.pending.size).to.equal(0);
    });

    it('works without drop, and with a 3-argument verify', async () => {
      const pending = new Map<string, string>();
      const s = strategy({
        store: pkceStore({
          store: (_req, verifier, _state, _meta, cb) => {
            pending.set('h', verifier);
            cb(null, 'h');
          },
          verify: (_req, state, cb) => cb(null, pending.get(state) ?? false, { message: 'no' }),
        }),
      });
      await runStrategy(s, fakeRequest({ session: null, headers: HOST }));
      expect((await runStrategy(s, callback(null, { error: 'access_denied', state: 'h' }))).type).to.equal('fail');
      const scopes = [tokenScope(), usersMeScope()];
      expect((await runStrategy(s, callback(null, { code: CODE, state: 'h' }))).type).to.equal('success');
      scopes.forEach((sc) => sc.done());
    });

    describe('and a forged ?error= callback', () => {
      const HUGE = `Call 555-0100 for help\r\n${'x'.repeat(50_000)}`;

      it('without drop(): a state this session did not issue fails with 403, asked of verify(), never a 500 with the stranger\'s text', async () => {
        const verified: string[] = [];
        const s = strategy({
          store: pkceStore({
            store: (_req, _verifier, _state, _meta, cb) => cb(null, 'h'),
            verify: (_req, state, cb) => {
              verified.push(state);
              cb(null, state === 'h' ? 'v'.repeat(43) : false, { message: 'no' });
            },
          }),
        });
        for (const error of ['server_error', 'access_denied', 'invalid_request']) {
          const forged = await runStrategy(s, callback(null, { error, error_description: HUGE, state: 'not-issued' }));
          expect(forged, error).to.include({ type: 'fail', status: 403 });
          expect(failureHint(forged.challenge, XFailureCode.CALLBACK_UNKNOWN)).to.match(/not issued to this session/);
          expect(JSON.stringify(forged)).to.not.include('555-0100');
        }
        expect(verified).to.deep.equal(['not-issued', 'not-issued', 'not-issued']);
      });

      it('without drop(): X\'s error on a state this session issued is believed, the state consumed by verify()', async () => {
        const pending = new Set(['h']);
        const s = strategy({
          store: pkceStore({
            store: (_req, _verifier, _state, _meta, cb) => cb(null, 'h'),
            verify: (_req, state, cb) => (pending.delete(state) ? cb(null, 'v'.repeat(43)) : cb(null, false, { message: 'no' })),
          }),
        });
        const result = await runStrategy(s, callback(null, { error: 'temporarily_unavailable', state: 'h' }));
        expect(result.error).to.be.instanceOf(XOAuthError).and.include({ error: 'temporarily_unavailable' });
        expect(pending.size).to.equal(0);
      });

      it('with a drop() that does not say whether it found the state: refused with 403, X\'s text not trusted', async () => {
        const store = memoryStore();
        const s = strategy({ store });
        await runStrategy(s, fakeRequest({ session: null, headers: HOST }));
        const result = await runStrategy(s, callback(null, { error: 'server_error', error_description: HUGE, state: 'custom-handle-1' }));
        expect(result).to.include({ type: 'fail', status: 403 });
        expect(failureHint(result.challenge, XFailureCode.AUTHORIZATION_REFUSED)).to.match(/drop\(\) did not say/);
        expect(JSON.stringify(result)).to.not.include('555-0100');
      });

      it('caps X\'s error_description and strips its control characters, even for a state this session issued', async () => {
        const s = strategy();
        const { session, state } = await start(s);
        const result = await runStrategy(s, callback(session, { error: 'server_error', error_description: HUGE, error_uri: `https://x.com/${'y'.repeat(5000)}`, state }));
        const err = result.error as XOAuthError;
        expect(err).to.be.instanceOf(XOAuthError);
        expect(err.description!.length).to.be.at.most(503);
        expect(err.description).to.match(/^Call 555-0100 for help x+\.\.\.$/);
        expect(err.error).to.equal('server_error');
        expect(err.uri).to.equal(undefined);
        expect(err.message.length).to.be.below(1000);
        expect(JSON.stringify(err) + err.message).to.not.match(/\p{Cc}/u);
        // A code with a control character is none of RFC 6749's: a failure, its text capped and stripped in the hint.
        const again = await start(s);
        const odd = await runStrategy(s, callback(again.session, { error: 'server_error\u0000', error_description: HUGE, state: again.state }));
        expect(odd).to.include({ type: 'fail', status: 403 });
        const hint = failureHint(odd.challenge, XFailureCode.AUTHORIZATION_REFUSED);
        expect(hint).to.include('server_error (Call 555-0100 for help x').and.not.match(/\p{Cc}/u);
        expect(hint.length).to.be.below(1000);
      });
    });

    it('errors, sending nothing, when it accepts the state but returns no verifier', async () => {
      const counting = countingFetch();
      const s = strategy({ fetch: counting.fetch, store: pkceStore({ store: (_r, _v, _s, _m, cb) => cb(null, 'h'), verify: (_r, _s, cb) => (cb as (e: null, ok: boolean) => void)(null, true) }) });
      const result = await runStrategy(s, callback(null, { code: CODE, state: 'h' }));
      expect(result.type).to.equal('error');
      expect(result.error!.message).to.match(/no PKCE code verifier/);
      expect(counting.urls).to.deep.equal([]);
    });
  });

  describe('errors from X', () => {
    async function exchange(s: XOAuth2PkceStrategy, scopes: () => nock.Scope[]): Promise<Outcome> {
      const { session, state } = await start(s);
      const set = scopes();
      const result = await runStrategy(s, callback(session, { code: CODE, state }));
      set.forEach((sc) => sc.done());
      expect(result.type).to.equal('error');
      return result;
    }

    it('turns a token endpoint OAuth error into an XOAuthError with status, error and description', async () => {
      const result = await exchange(strategy(), () => [
        tokenScope([], 400, { error: 'unsupported_grant_type', error_description: 'The grant type is not supported.' }),
      ]);
      const err = result.error as XOAuthError;
      expect(err).to.be.instanceOf(XOAuthError);
      expect(err).to.include({ status: 400, error: 'unsupported_grant_type', description: 'The grant type is not supported.', code: 'X_OAUTH_ERROR' });
      expect(err.message).to.match(/exchange the authorization code/).and.include('The grant type is not supported.');
      assertNoSecret(err);
    });

    it('says what to do on invalid_client', async () => {
      const client = await exchange(strategy(), () => [tokenScope([], 401, { error: 'invalid_client', error_description: 'Missing valid authorization header' })]);
      expect(client.error).to.be.instanceOf(XOAuthError).and.have.property('status', 401);
      expect(client.error!.message).to.match(/client ID, client secret and the client type/);
    });

    describe('a code X refuses (it lives 30 s and works once)', () => {
      async function refusedExchange(status: number, answer: unknown, code = CODE): Promise<Outcome> {
        const s = strategy();
        const { session, state } = await start(s);
        const scope = tokenScope([], status, answer);
        const result = await runStrategy(s, callback(session, { code, state }));
        scope.done();
        return result;
      }

      it("fails (401, X_GRANT_REFUSED), not a server error, when the caller's made-up code spells a piece of X's refusal", async () => {
        // Anyone can start a sign-in and send a code of their choosing: it is redacted from X's answer, and must not change how the answer is read.
        for (const code of ['error', 'invalid_request', 'error_description']) {
          const result = await refusedExchange(400, { error: 'invalid_request', error_description: 'Value passed for the token was invalid.' }, code);
          expect(result, code).to.include({ type: 'fail', status: 401 });
          expect((result.challenge as XFailureInfo).code).to.equal(XFailureCode.GRANT_REFUSED);
        }
      });

      for (const [status, answer] of [
        [400, { error: 'invalid_request', error_description: 'Value passed for the token was invalid.' }],
        [400, { error: 'invalid_request', error_description: 'Value passed for the authorization code was invalid.' }],
        [400, { error: 'invalid_request' }],
        [400, { error: 'invalid_grant', error_description: 'Value passed for the token was invalid.' }],
        [401, { error: 'invalid_grant' }],
      ] as const) {
        it(`fails (401, X_GRANT_REFUSED) on ${status} ${answer.error}, not a server error, with X's words in the hint`, async () => {
          const result = await refusedExchange(status, answer);
          expect(result).to.include({ type: 'fail', status: 401 });
          const info = result.challenge as XFailureInfo;
          expect(info.message).to.equal('This sign-in took too long or was already used. Sign in again.');
          const hint = failureHint(info, XFailureCode.GRANT_REFUSED);
          expect(hint).to.include(`HTTP ${status} ${answer.error}`).and.match(/30 seconds from the moment the user authorizes/);
          // A code is issued when the user authorizes: time on the consent page does not age it, a delayed callback does.
          expect(hint).to.include('held the callback up').and.not.include('on the consent page');
          if ('error_description' in answer) expect(hint).to.include(answer.error_description);
        });
      }

      it('keeps the code, verifier and client secret out of the hint even when X echoes them', async () => {
        const store = new RecordingStore();
        const s = strategy({ store });
        const { session, state } = await start(s);
        const verifier = store.verifiers[0]!;
        const scope = tokenScope([], 400, { error: 'invalid_grant', error_description: `code ${CODE} verifier ${verifier} secret ${CLIENT_SECRET} ${BASIC}` });
        const result = await runStrategy(s, callback(session, { code: CODE, state }));
        scope.done();
        const hint = failureHint(result.challenge, XFailureCode.GRANT_REFUSED);
        expect(hint).to.include('[redacted]').and.match(/several instances, each with its own.*RedisReplayGuard/);
        expectNoSecrets(new Error(hint), [...SECRETS, verifier]);
        expectNoSecrets(result.challenge, [...SECRETS, verifier]);
      });

      for (const [what, setup] of [
        ['a 5xx with invalid_grant', () => tokenScope([], 503, { error: 'invalid_grant' })],
        ['a network failure', () => nock(X).post('/2/oauth2/token').replyWithError('socket hang up')],
        ['invalid_client', () => tokenScope([], 401, { error: 'invalid_client' })],
        // The request, not the code: signing in again would fail the same way.
        ['invalid_request for a missing client_id', () => tokenScope([], 400, { error: 'invalid_request', error_description: 'Missing required parameter [client_id].' })],
        ['invalid_request for the redirect_uri', () => tokenScope([], 400, { error: 'invalid_request', error_description: 'Value passed for the redirect uri did not match the uri of the authorization code.' })],
      ] as const) {
        it(`keeps ${what} an error (X failing, or the app's configuration)`, async () => {
          const s = strategy();
          const { session, state } = await start(s);
          const scope = setup();
          const result = await runStrategy(s, callback(session, { code: CODE, state }));
          scope.done();
          expect(result.type).to.equal('error');
        });
      }
    });

    it('turns a users/me problem JSON into an XAPIError', async () => {
      const result = await exchange(strategy(), () => [
        tokenScope(),
        nock(X)
          .get('/2/users/me')
          .query(true)
          .reply(401, { title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' }, { 'content-type': 'application/problem+json' }),
      ]);
      const err = result.error as XAPIError;
      expect(err).to.be.instanceOf(XAPIError).and.not.be.instanceOf(XRateLimitError);
      expect(err).to.include({ status: 401, title: 'Unauthorized', type: 'about:blank', xMessage: 'Unauthorized', code: 'X_API_ERROR' });
      expect(err.message).to.match(/users\/me/);
      // A 401 for the token X had just issued: the likely cause is a code exchanged twice (instances without one shared guard).
      expect(err.hint).to.match(/exchanged twice/).and.match(/replayGuard: new RedisReplayGuard/);
      expect(err.message).to.include(err.hint).and.not.match(/Check the app's keys and the token/);
      expect(err.response?.status).to.equal(401);
      assertNoSecret(err);
    });

    it('turns a users/me errors array into an XAPIError', async () => {
      const body = { errors: [{ message: 'The `user.fields` query parameter value [nope] is not one of [id,name]', title: 'Invalid Request' }], title: 'Invalid Request', detail: 'One or more parameters to your request was invalid.', type: 'https://api.twitter.com/2/problems/invalid-request' };
      const result = await exchange(strategy({ userFields: ['nope'] }), () => [tokenScope(), nock(X).get('/2/users/me').query({ 'user.fields': 'nope' }).reply(400, body)]);
      const err = result.error as XAPIError;
      expect(err).to.be.instanceOf(XAPIError).and.include({ status: 400, title: 'Invalid Request', type: 'https://api.twitter.com/2/problems/invalid-request' });
      expect(err.errors).to.have.length(1);
      expect(err.xMessage).to.include('user.fields');
    });

    it('turns a 429 from users/me into an XRateLimitError with the reset time', async () => {
      const result = await exchange(strategy(), () => [
        tokenScope(),
        nock(X)
          .get('/2/users/me')
          .query(true)
          .reply(429, { title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 }, { 'x-rate-limit-limit': '75', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': '1700000000' }),
      ]);
      const err = result.error as XRateLimitError;
      expect(err).to.be.instanceOf(XRateLimitError).and.include({ status: 429, code: 'X_RATE_LIMITED' });
      expect(err.resetAt?.toISOString()).to.equal('2023-11-14T22:13:20.000Z');
      expect(err.rateLimit).to.deep.equal({ limit: 75, remaining: 0, reset: new Date(1700000000 * 1000) });
    });

    it('refuses a 200 token answer that is not a bearer token, and a users/me answer without data', async () => {
      const notBearer = await exchange(strategy(), () => [tokenScope([], 200, { ...TOKEN_ANSWER, token_type: 'mac' })]);
      expect(notBearer.error).to.be.instanceOf(XRequestError).and.have.property('code', 'X_INVALID_RESPONSE');
      const noToken = await exchange(strategy(), () => [tokenScope([], 200, { token_type: 'bearer' })]);
      expect(noToken.error).to.be.instanceOf(XRequestError).and.have.property('code', 'X_INVALID_RESPONSE');
      const html = await exchange(strategy(), () => [tokenScope([], 200, '<html>proxy</html>')]);
      expect(html.error).to.be.instanceOf(XRequestError).and.have.property('code', 'X_INVALID_RESPONSE');
      const noData = await exchange(strategy(), () => [tokenScope(), nock(X).get('/2/users/me').query(true).reply(200, { errors: [] })]);
      expect(noData.error).to.be.instanceOf(XRequestError).and.have.property('code', 'X_INVALID_RESPONSE');
      assertNoSecret(noData.error);
    });

    it('refuses a users/me answer whose id is not a number or whose username has characters no handle has, and takes X\'s longest of each', async () => {
      for (const data of [{ ...USER, id: '12ab' }, { ...USER, id: '1'.repeat(21) }, { ...USER, username: '<b>x' }, { ...USER, username: 'ada lovelace' }]) {
        const result = await exchange(strategy(), () => [tokenScope(), usersMeScope(DEFAULT_FIELDS, data)]);
        expect(result.error, JSON.stringify(data)).to.be.instanceOf(XRequestError).and.have.property('code', 'X_INVALID_RESPONSE');
        assertNoSecret(result.error);
      }
      // A 64-bit id (20 digits) and a legacy handle of 20 characters with `_`.
      const longest = { ...USER, id: '18446744073709551615', username: 'An_Old_Handle_Of_20c' };
      const s = strategy();
      const { session, state } = await start(s);
      const scopes = [tokenScope(), usersMeScope(DEFAULT_FIELDS, longest)];
      const ok = await runStrategy(s, callback(session, { code: CODE, state }));
      scopes.forEach((sc) => sc.done());
      expect(ok.type).to.equal('success');
      expect((ok.user as { profile: XProfile }).profile).to.include({ id: longest.id, username: longest.username });
    });

    it('refuses a token from X with characters outside printable ASCII (X_INVALID_RESPONSE at the token step, not a network error at the next)', async () => {
      for (const [field, bad] of [['access_token', 'AAAA\u20acBBBB-access-token-0001'], ['access_token', 'at with-a-space-0001'], ['refresh_token', 'rt-\u00e9-0001']] as const) {
        for (const fetch of [undefined, countingFetch().fetch]) {
          const s = strategy(fetch ? { fetch } : {});
          const { session, state } = await start(s);
          const scope = tokenScope([], 200, { ...TOKEN_ANSWER, [field]: bad });
          const result = await runStrategy(s, callback(session, { code: CODE, state }));
          scope.done();
          const label = `${field} ${JSON.stringify(bad)}${fetch ? ', fetch' : ''}`;
          expect(result.error, label).to.be.instanceOf(XRequestError).and.have.property('code', 'X_INVALID_RESPONSE');
          expect(result.error!.message, label).to.include(`\`${field}\` with characters other than printable ASCII`);
          expect(nock.pendingMocks(), 'users/me never asked').to.deep.equal([]);
          assertNoSecret(result.error, [bad]);
        }
      }
    });

    it('refuses an access token with CR/LF from X (X_INVALID_RESPONSE) before sending it in a header, with the fetch option', async () => {
      const counting = countingFetch();
      const s = strategy({ fetch: counting.fetch });
      const { session, state } = await start(s);
      const bad = 'at-evil-0001\r\nx-injected: 1';
      const scope = tokenScope([], 200, { ...TOKEN_ANSWER, access_token: bad });
      const result = await runStrategy(s, callback(session, { code: CODE, state }));
      scope.done();
      expect(result.error).to.be.instanceOf(XRequestError).and.have.property('code', 'X_INVALID_RESPONSE');
      expect(result.error!.message).to.match(/`access_token` with a control character/);
      expect(counting.urls).to.deep.equal([`${X}/2/oauth2/token`]);
      assertNoSecret(result.error, [bad]);
    });

    it('throws a TypeError naming clientID, clientSecret or callbackURL when it holds a control character', () => {
      for (const [name, options] of [
        ['clientID', { clientID: 'cid\r\nx' }],
        ['clientSecret', { clientSecret: 'cs-1234\n' }],
        ['callbackURL', { callbackURL: `${CALLBACK}\r\nSet-Cookie: a=b` }],
      ] as const) {
        expect(() => strategy(options), name).to.throw(TypeError, new RegExp(`\`${name}\`.*control character`));
        try {
          strategy(options);
        } catch (err) {
          expect((err as Error).message).to.not.include('cs-1234').and.not.include('Set-Cookie');
        }
      }
    });

    it('errors with X_INVALID_RESPONSE, never an uncaught exception, when username holds a lone surrogate', async () => {
      const s = strategy();
      const { session, state } = await start(s);
      const scopes = [
        tokenScope(),
        nock(X).get('/2/users/me').query(true).reply(200, `{"data":{"id":"1","name":"n","username":"a\\udc00b"}}`, { 'content-type': 'application/json' }),
      ];
      const result = await runStrategy(s, callback(session, { code: CODE, state }));
      scopes.forEach((sc) => sc.done());
      expect(result.type).to.equal('error');
      expect(result.error).to.be.instanceOf(XRequestError).and.have.property('code', 'X_INVALID_RESPONSE');
      expect(result.error!.message).to.match(/`username` that is not well-formed Unicode/);
    });

    it('leaks no client secret, code, verifier or token, even when X echoes them back', async () => {
      const store = new RecordingStore();
      const s = strategy({ store });
      const { session, state } = await start(s);
      const verifier = store.verifiers[0]!;
      const echo = nock(X)
        .post('/2/oauth2/token')
        .reply(401, { error: 'invalid_client', error_description: `code ${CODE} verifier ${verifier} secret ${CLIENT_SECRET} rejected` });
      const result = await runStrategy(s, callback(session, { code: CODE, state }));
      echo.done();
      expect(result.error).to.be.instanceOf(XOAuthError);
      expect(result.error!.message).to.include('[redacted]');
      assertNoSecret(result.error, [verifier]);

      const again = await start(s);
      const scopes = [tokenScope(), nock(X).get('/2/users/me').query(true).reply(401, { title: 'Unauthorized', detail: `token ${ACCESS_TOKEN} is invalid`, type: 'about:blank', status: 401 })];
      const meFailed = await runStrategy(s, callback(again.session, { code: CODE, state: again.state }));
      scopes.forEach((sc) => sc.done());
      expect(meFailed.error).to.be.instanceOf(XAPIError);
      expect(meFailed.error!.message).to.include('[redacted]');
      assertNoSecret(meFailed.error, [store.verifiers[1]!]);
    });

    it('leaks no Basic credentials when X or a proxy echoes the Authorization header it was sent', async () => {
      const store = new RecordingStore();
      const s = strategy({ store });
      const { session, state } = await start(s);
      const echo = nock(X)
        .post('/2/oauth2/token')
        .reply(function () {
          const sent = String(this.req.headers.authorization);
          return [401, JSON.stringify({ error: 'invalid_client', error_description: `bad header ${sent} (${sent.slice(6)})`, errors: [{ message: sent }] }), { 'content-type': 'application/json', 'x-echo': sent }];
        });
      const result = await runStrategy(s, callback(session, { code: CODE, state }));
      echo.done();
      expect(result.error).to.be.instanceOf(XOAuthError);
      expect(result.error!.message).to.include('bad header Basic [redacted]');
      assertNoSecret(result.error, [store.verifiers[0]!]);
      expect(inspect((result.error as XOAuthError).response, { depth: 5 })).to.not.include(BASIC.slice(6));
    });

    it('times out a hung token endpoint after timeoutMs', async () => {
      const s = strategy({ timeoutMs: 50 });
      const { session, state } = await start(s);
      const scope = nock(X).post('/2/oauth2/token').delay(500).reply(200, TOKEN_ANSWER);
      const result = await runStrategy(s, callback(session, { code: CODE, state }));
      expect(result.type).to.equal('error');
      expect(result.error).to.be.instanceOf(XRequestError).and.have.property('code', 'X_REQUEST_TIMEOUT');
      expect(result.error!.message).to.match(/within 50 ms/);
      assertNoSecret(result.error);
      scope.done();
    });

    it('times out a hung users/me after timeoutMs', async () => {
      const s = strategy({ timeoutMs: 50 });
      const { session, state } = await start(s);
      const scopes = [tokenScope(), nock(X).get('/2/users/me').query(true).delay(500).reply(200, { data: USER })];
      const result = await runStrategy(s, callback(session, { code: CODE, state }));
      expect(result.error).to.be.instanceOf(XRequestError).and.have.property('code', 'X_REQUEST_TIMEOUT');
      scopes.forEach((sc) => sc.done());
    });
  });
});
