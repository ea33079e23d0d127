import { expect } from 'chai';
import { expectNoSecrets, rejectionOf, secretSpellings, type SecretToScan } from './support/assertions';
import nock from 'nock';
import { inspect } from 'node:util';
import { XAPIError, XErrorCode, XOAuthError, XRateLimitError, XRequestError } from '../lib/errors';
import {
  getBearerToken,
  getReverseAuthParameters,
  invalidateAccessToken,
  invalidateBearerToken,
  oauth1AuthorizationHeader,
  refreshAccessToken,
  revokeToken,
  type XHelperOptions,
} from '../lib/helpers';
import { forgetWarnedRepairs } from '../lib/endpoints';
import { oauth1AuthorizationHeader as signerHeader } from '../lib/oauth1-signature';
import { verifyOAuth1Request } from '../lib/testing/oauth1-verifier';
import { signedReply, type SignedRequestRecord } from './support/oauth1-nock';
import { warningsDuring } from './support/warnings';

const BASE = 'https://api.x.com';
const CONSUMER_KEY = 'test-consumer-key';
const CONSUMER_SECRET = 'consumer-secret-Zk3q';
const TOKEN = '1234-user-access-token-Hq8';
const TOKEN_SECRET = 'user-token-secret-Pw2';
// X's app-only bearer tokens carry percent-encoded characters (X doc "Application-only authentication").
const BEARER = 'AAAAAAAAAAAAAAAAAAAAAbearer%2Bvalue%2FQx9%3D';
const CLIENT_ID = 'client-id-abc';
const CLIENT_SECRET = 'client-secret-Vb7';
const REFRESH_TOKEN = 'refresh-token-Lm4';
const ACCESS_TOKEN = 'oauth2-access-token-Rt5';

/** What one request to the mock X carried. */
interface Seen {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
  body: string;
}

/** A nock reply function that records the request and answers `status`/`body`. */
function recordAnd(seen: Seen[], status: number, body: string | Record<string, unknown>, headers: Record<string, string> = {}) {
  return function (this: nock.ReplyFnContext, uri: string, reqBody: nock.Body): [number, string | Record<string, unknown>, Record<string, string>] {
    seen.push({
      method: this.req.method,
      path: uri,
      headers: { ...(this.req.headers as Record<string, string | undefined>) },
      body: typeof reqBody === 'string' ? reqBody : JSON.stringify(reqBody),
    });
    return [status, body, headers];
  };
}



/** A fetch that counts its calls and passes them on to the global one (and so to nock). */
function countingFetch(): { fetch: typeof fetch; calls: () => number } {
  let calls = 0;
  return {
    fetch: (input, init) => {
      calls += 1;
      return fetch(input, init);
    },
    calls: () => calls,
  };
}

// ---------------------------------------------------------------- shared behaviour, table-driven

interface HelperCase {
  name: string;
  path: string;
  /** Calls the helper with valid credentials and the given shared options. */
  call: (options?: XHelperOptions) => Promise<unknown>;
  /** A 2xx answer X documents for this call. */
  ok: [number, string | Record<string, unknown>];
  /** Every secret the helper holds; `{ id, secret }` for a pair it sends as HTTP Basic. */
  secrets: SecretToScan[];
}

const helpers: HelperCase[] = [
  {
    name: 'getBearerToken',
    path: '/oauth2/token',
    call: (o) => getBearerToken({ ...o, consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET }),
    ok: [200, { token_type: 'bearer', access_token: BEARER }],
    secrets: [{ id: CONSUMER_KEY, secret: CONSUMER_SECRET }],
  },
  {
    name: 'invalidateBearerToken',
    path: '/oauth2/invalidate_token',
    call: (o) => invalidateBearerToken({ ...o, consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, bearerToken: BEARER }),
    ok: [200, { access_token: BEARER }],
    secrets: [{ id: CONSUMER_KEY, secret: CONSUMER_SECRET }, BEARER],
  },
  {
    name: 'invalidateAccessToken',
    path: '/1.1/oauth/invalidate_token',
    call: (o) => invalidateAccessToken({ ...o, consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, token: TOKEN, tokenSecret: TOKEN_SECRET }),
    ok: [200, { access_token: TOKEN }],
    secrets: [CONSUMER_SECRET, TOKEN, TOKEN_SECRET],
  },
  {
    name: 'refreshAccessToken',
    path: '/2/oauth2/token',
    call: (o) => refreshAccessToken({ ...o, clientID: CLIENT_ID, clientSecret: CLIENT_SECRET, refreshToken: REFRESH_TOKEN }),
    ok: [200, { token_type: 'bearer', expires_in: 7200, access_token: ACCESS_TOKEN, scope: 'users.read', refresh_token: 'new-refresh' }],
    secrets: [{ id: CLIENT_ID, secret: CLIENT_SECRET }, REFRESH_TOKEN],
  },
  {
    name: 'revokeToken',
    path: '/2/oauth2/revoke',
    call: (o) => revokeToken({ ...o, clientID: CLIENT_ID, clientSecret: CLIENT_SECRET, token: ACCESS_TOKEN, tokenTypeHint: 'access_token' }),
    ok: [200, { revoked: true }],
    secrets: [{ id: CLIENT_ID, secret: CLIENT_SECRET }, ACCESS_TOKEN],
  },
  {
    name: 'getReverseAuthParameters',
    path: '/oauth/request_token',
    call: (o) => getReverseAuthParameters({ ...o, consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET }),
    ok: [200, 'OAuth oauth_nonce="n", oauth_signature_method="HMAC-SHA1", oauth_timestamp="1", oauth_consumer_key="k", oauth_token="t", oauth_signature="s%3D", oauth_version="1.0"'],
    secrets: [CONSUMER_SECRET],
  },
];

interface ErrorShape {
  shape: string;
  /** The answer, given the secrets X might echo back in it. */
  answer: (echo: string) => [number, string, Record<string, string>];
  check: (err: Error) => void;
}

const RESET_EPOCH = 1_900_000_000;

const errorShapes: ErrorShape[] = [
  {
    shape: 'OAuth error JSON',
    answer: (echo) => [400, JSON.stringify({ error: 'invalid_request', error_description: `Value passed for the token was invalid: ${echo}` }), { 'content-type': 'application/json' }],
    check: (err) => {
      expect(err).to.be.instanceOf(XOAuthError);
      const e = err as XOAuthError;
      expect(e).to.include({ code: XErrorCode.OAUTH_ERROR, status: 400, error: 'invalid_request' });
      expect(e.description).to.match(/^Value passed for the token was invalid: \[redacted\]/);
      expect(e.message).to.match(/\(HTTP 400\): invalid_request/);
    },
  },
  {
    shape: 'v1.1 errors array',
    answer: (echo) => [401, JSON.stringify({ errors: [{ code: 89, message: `Invalid or expired token. ${echo}` }] }), { 'content-type': 'application/json' }],
    check: (err) => {
      expect(err).to.be.instanceOf(XAPIError).and.not.instanceOf(XRateLimitError);
      const e = err as XAPIError;
      expect(e).to.include({ code: XErrorCode.API_ERROR, status: 401, xCode: 89 });
      expect(e.errors).to.have.length(1);
      expect(e.message).to.match(/code 89: Invalid or expired token\./).and.match(/sign the user in again/);
    },
  },
  {
    shape: 'v2 problem JSON',
    answer: (echo) => [
      401,
      JSON.stringify({ title: 'Unauthorized', type: 'about:blank', status: 401, detail: `Unauthorized ${echo}` }),
      { 'content-type': 'application/problem+json' },
    ],
    check: (err) => {
      expect(err).to.be.instanceOf(XAPIError);
      const e = err as XAPIError;
      expect(e).to.include({ status: 401, title: 'Unauthorized', type: 'about:blank', xCode: undefined });
      expect(e.xMessage).to.match(/^Unauthorized/);
    },
  },
  {
    shape: 'HTML from a proxy',
    answer: (echo) => [502, `<html><body><h1>502 Bad Gateway</h1><!-- ${echo} --></body></html>`, { 'content-type': 'text/html' }],
    check: (err) => {
      expect(err).to.be.instanceOf(XAPIError);
      expect(err).to.include({ status: 502, xCode: undefined });
      expect(err.message).to.match(/HTML page, most likely from a proxy/).and.not.include('<html>');
    },
  },
  {
    shape: 'empty body',
    answer: () => [503, '', {}],
    check: (err) => {
      expect(err).to.be.instanceOf(XAPIError);
      expect(err).to.include({ status: 503 });
      expect(err.message).to.match(/with an empty body/).and.match(/retry later/);
    },
  },
  {
    shape: '429 with reset headers',
    answer: (echo) => [
      429,
      JSON.stringify({ errors: [{ code: 88, message: `Rate limit exceeded ${echo}` }] }),
      { 'content-type': 'application/json', 'x-rate-limit-limit': '15', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(RESET_EPOCH) },
    ],
    check: (err) => {
      expect(err).to.be.instanceOf(XRateLimitError);
      const e = err as XRateLimitError;
      expect(e.code).to.equal(XErrorCode.RATE_LIMITED);
      expect(e.rateLimit).to.deep.equal({ limit: 15, remaining: 0, reset: new Date(RESET_EPOCH * 1000) });
      expect(e.resetAt?.getTime()).to.equal(RESET_EPOCH * 1000);
      expect(e.message).to.include(`Retry after ${new Date(RESET_EPOCH * 1000).toISOString()}`);
    },
  },
];

for (const helper of helpers) {
  describe(`${helper.name}: shared behaviour`, () => {
    // X, or a proxy in between, might echo any secret back in any spelling: as sent, encoded,
    // decoded, or the very Authorization header (Basic, Bearer, OAuth) the helper sent.
    const echo = helper.secrets.flatMap((s) => secretSpellings(s)).join(' ');

    it('resolves on the answer X documents', async () => {
      const scope = nock(BASE).post(helper.path).reply(...helper.ok);
      await helper.call();
      scope.done();
    });

    for (const { shape, answer, check } of errorShapes) {
      it(`rejects with the typed error for ${shape}, with no secret in it`, async () => {
        const scope = nock(BASE).post(helper.path).reply(...answer(echo));
        const err = await rejectionOf(helper.call());
        scope.done();
        check(err);
        expectNoSecrets(err, helper.secrets);
      });
    }

    it('rejects with X_REQUEST_TIMEOUT when X does not answer within timeoutMs', async () => {
      const scope = nock(BASE).post(helper.path).delay(2000).reply(...helper.ok);
      const started = Date.now();
      const err = await rejectionOf(helper.call({ timeoutMs: 50 }));
      expect(Date.now() - started).to.be.below(1500);
      expect(err).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.TIMEOUT });
      expect(err.message).to.include('within 50 ms');
      expect((err.cause as Error).name).to.equal('TimeoutError');
      expect(scope.isDone()).to.equal(true);
      expectNoSecrets(err, helper.secrets);
    });

    it('rejects with X_REQUEST_ABORTED when the caller aborts', async () => {
      const scope = nock(BASE).post(helper.path).delay(2000).reply(...helper.ok);
      const controller = new AbortController();
      const reason = new Error('user went away');
      setTimeout(() => controller.abort(reason), 20);
      const err = await rejectionOf(helper.call({ signal: controller.signal }));
      expect(err).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.ABORTED });
      expect(err.cause).to.equal(reason);
      expect(scope.isDone()).to.equal(true);
    });

    it('sends nothing when the signal is already aborted', async () => {
      const scope = nock(BASE).post(helper.path).reply(...helper.ok);
      const spy = countingFetch();
      const err = await rejectionOf(helper.call({ signal: AbortSignal.abort(), fetch: spy.fetch }));
      expect(err).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.ABORTED });
      expect(spy.calls(), 'fetch was never called').to.equal(0);
      expect(scope.isDone()).to.equal(false);
    });

    it('rejects with X_NETWORK_ERROR, keeping the cause, when the connection fails', async () => {
      const scope = nock(BASE).post(helper.path).replyWithError('socket hang up');
      const err = await rejectionOf(helper.call());
      scope.done();
      expect(err).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.NETWORK_ERROR });
      expect((err.cause as Error).message).to.equal('socket hang up');
      expect(err.message).to.match(/Could not reach X at https:\/\/api\.x\.com\//);
      expectNoSecrets(err, helper.secrets);
    });

    it('uses baseURL (trailing slash or not) and the given fetch', async () => {
      const scope = nock('http://127.0.0.1:4100').post(`/emulator${helper.path}`).reply(...helper.ok);
      const spy = countingFetch();
      await helper.call({ baseURL: 'http://127.0.0.1:4100/emulator/', fetch: spy.fetch });
      scope.done();
      expect(spy.calls()).to.equal(1);
    });

    const badShared: Array<[string, Record<string, unknown>, RegExp]> = [
      ['baseURL that is not http(s)', { baseURL: 'ftp://api.x.com' }, /`baseURL` must be an absolute http\(s\) URL/],
      ['baseURL that is not a URL', { baseURL: 'api.x.com' }, /`baseURL`/],
      // The endpoint path would land in the query or fragment, and the credentials go to the base's own path.
      ['baseURL with a query', { baseURL: 'http://127.0.0.1:4100/?tenant=a' }, /`baseURL` must be an origin and an optional path, without a \?query or #fragment/],
      ['baseURL with a fragment', { baseURL: 'http://127.0.0.1:4100#frag' }, /`baseURL` must be an origin and an optional path/],
      ['timeoutMs of 0', { timeoutMs: 0 }, /`timeoutMs` must be a positive number/],
      ['timeoutMs that is not a number', { timeoutMs: '100' }, /`timeoutMs`/],
      ['signal that is not an AbortSignal', { signal: { aborted: false } }, /`signal` to be an AbortSignal/],
      ['fetch that is not a function', { fetch: 'fetch' }, /`fetch` to be a fetch function/],
    ];
    it('rejects a timeoutMs past 2^31-1 ms with a RangeError ERR_OUT_OF_RANGE before sending anything', async () => {
      const scope = nock(BASE).post(helper.path).reply(...helper.ok);
      const spy = countingFetch();
      const err = await rejectionOf(helper.call({ fetch: spy.fetch, timeoutMs: 2 ** 31 }));
      expect(err).to.be.instanceOf(RangeError).and.include({ code: 'ERR_OUT_OF_RANGE' });
      expect(err.message).to.match(/`timeoutMs`/);
      expect(spy.calls()).to.equal(0);
      expect(scope.isDone()).to.equal(false);
    });

    for (const [what, options, message] of badShared) {
      it(`rejects a ${what} with a TypeError before sending anything`, async () => {
        const scope = nock(BASE).post(helper.path).reply(...helper.ok);
        const spy = countingFetch();
        const promise = helper.call({ fetch: spy.fetch, ...(options as XHelperOptions) });
        expect(promise).to.be.instanceOf(Promise);
        const err = await rejectionOf(promise);
        expect(err).to.be.instanceOf(TypeError);
        expect(err.message).to.match(message);
        expect(spy.calls()).to.equal(0);
        expect(scope.isDone()).to.equal(false);
      });
    }
  });
}

/**
 * The process warnings of `code` that `run` causes, with the once-per-process-and-kind warnings of
 * endpoints.ts forgotten first: whichever test of the run met a kind first had its warning.
 */
async function onceWarningsDuring(code: string, run: () => Promise<void>): Promise<Error[]> {
  forgetWarnedRepairs();
  return warningsDuring(run, { code });
}

// ---------------------------------------------------------------- control characters

describe('every helper, given a credential with a control character', () => {
  // Each credential argument of each helper, with the `fetch` option (where undici's own error would quote the header).
  const cases: Array<[string, string, string, (f: typeof fetch, bad: string) => Promise<unknown>]> = [
    ['getBearerToken', 'consumerKey', '/oauth2/token', (f, bad) => getBearerToken({ consumerKey: bad, consumerSecret: CONSUMER_SECRET, fetch: f })],
    ['getBearerToken', 'consumerSecret', '/oauth2/token', (f, bad) => getBearerToken({ consumerKey: CONSUMER_KEY, consumerSecret: bad, fetch: f })],
    ['invalidateBearerToken', 'bearerToken', '/oauth2/invalidate_token', (f, bad) => invalidateBearerToken({ consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, bearerToken: bad, fetch: f })],
    ['invalidateAccessToken', 'token', '/1.1/oauth/invalidate_token', (f, bad) => invalidateAccessToken({ consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, token: bad, tokenSecret: TOKEN_SECRET, fetch: f })],
    ['invalidateAccessToken', 'tokenSecret', '/1.1/oauth/invalidate_token', (f, bad) => invalidateAccessToken({ consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, token: TOKEN, tokenSecret: bad, fetch: f })],
    ['refreshAccessToken', 'clientID', '/2/oauth2/token', (f, bad) => refreshAccessToken({ clientID: bad, refreshToken: REFRESH_TOKEN, fetch: f })],
    ['refreshAccessToken', 'clientSecret', '/2/oauth2/token', (f, bad) => refreshAccessToken({ clientID: CLIENT_ID, clientSecret: bad, refreshToken: REFRESH_TOKEN, fetch: f })],
    ['refreshAccessToken', 'refreshToken', '/2/oauth2/token', (f, bad) => refreshAccessToken({ clientID: CLIENT_ID, refreshToken: bad, fetch: f })],
    ['revokeToken', 'token', '/2/oauth2/revoke', (f, bad) => revokeToken({ clientID: CLIENT_ID, token: bad, fetch: f })],
    ['getReverseAuthParameters', 'consumerSecret', '/oauth/request_token', (f, bad) => getReverseAuthParameters({ consumerKey: CONSUMER_KEY, consumerSecret: bad, fetch: f })],
  ];
  for (const [helper, name, path, call] of cases) {
    for (const [what, bad] of [['CR/LF', 'value-1234\r\nx-injected: 1'], ['NUL', 'value\u00001234'], ['DEL', 'value\u007f1234']] as const) {
      it(`${helper}() rejects a ${name} with ${what} with a TypeError naming it, sending nothing`, async () => {
        await expectArgumentError(path, (f) => call(f, bad), name, [bad, 'value-1234']);
      });
    }
  }
});

// ---------------------------------------------------------------- per helper

/** Runs `call` with bad arguments and checks: a rejected promise, a TypeError naming `name`, no request. */
async function expectArgumentError(path: string, call: (fetchImpl: typeof fetch) => Promise<unknown>, name: string, mustNotQuote: string[] = []): Promise<void> {
  const scope = nock(BASE).post(path).reply(500, 'must not be requested');
  const spy = countingFetch();
  const err = await rejectionOf(call(spy.fetch));
  expect(err).to.be.instanceOf(TypeError);
  expect(err.message).to.include(`\`${name}\``).and.include('Nothing was sent to X');
  for (const value of mustNotQuote) expect(err.message).to.not.include(value);
  expect(spy.calls()).to.equal(0);
  expect(scope.isDone()).to.equal(false);
}

describe('getBearerToken', () => {
  // X doc "Application-only authentication", step 1: this key and secret, and the Basic credentials
  // the page derives from them (also in /work/shared/x-protocol.md, "Published test vectors").
  const DOC_KEY = 'xvz1evFS4wEEPTGEFPHBog';
  const DOC_SECRET = 'L8qq9PZyRg6ieKGEKhZolGC0vJWLw8iEJ88DRdyOg';
  const DOC_BASIC = 'eHZ6MWV2RlM0d0VFUFRHRUZQSEJvZzpMOHFxOVBaeVJnNmllS0dFS2hab2xHQzB2SldMdzhpRUo4OERSZHlPZw==';
  // The same page's example answer.
  const DOC_ANSWER = { token_type: 'bearer', access_token: 'AAAA%2FAAA%3DAAAAAAAA' };

  it('sends the documented request, with the documented Basic credentials, and resolves to the token', async () => {
    const seen: Seen[] = [];
    const scope = nock(BASE).post('/oauth2/token').reply(recordAnd(seen, 200, DOC_ANSWER));
    const token = await getBearerToken({ consumerKey: DOC_KEY, consumerSecret: DOC_SECRET });
    scope.done();
    expect(token).to.equal('AAAA%2FAAA%3DAAAAAAAA');
    expect(seen).to.have.length(1);
    expect(seen[0]).to.deep.include({ method: 'POST', path: '/oauth2/token', body: 'grant_type=client_credentials' });
    expect(seen[0]!.headers.authorization).to.equal(`Basic ${DOC_BASIC}`);
    expect(seen[0]!.headers['content-type']).to.equal('application/x-www-form-urlencoded;charset=UTF-8');
  });

  it('form-encodes key and secret before base64 (RFC 6749 section 2.3.1)', async () => {
    const seen: Seen[] = [];
    const scope = nock(BASE).post('/oauth2/token').reply(recordAnd(seen, 200, DOC_ANSWER));
    await getBearerToken({ consumerKey: 'key:with/colon', consumerSecret: 'sec ret+=' });
    scope.done();
    // Written out by hand: ':' -> %3A, '/' -> %2F, ' ' -> '+', '+' -> %2B, '=' -> %3D.
    expect(seen[0]!.headers.authorization).to.equal(`Basic ${Buffer.from('key%3Awith%2Fcolon:sec+ret%2B%3D').toString('base64')}`);
  });

  it('accepts token_type in any case, as X has sent "Bearer" too', async () => {
    const scope = nock(BASE).post('/oauth2/token').reply(200, { token_type: 'Bearer', access_token: 'tok' });
    expect(await getBearerToken({ consumerKey: DOC_KEY, consumerSecret: DOC_SECRET })).to.equal('tok');
    scope.done();
  });

  const invalid: Array<[string, string, RegExp]> = [
    ['a body that is not JSON', 'access_token=AAAA', /a body that is not JSON/],
    ['a JSON array', '[]', /JSON that is not an object/],
    ['no access_token', '{"token_type":"bearer"}', /without `access_token`/],
    ['no token_type', '{"access_token":"AAAA"}', /without `token_type`/],
    ['a token that is not a bearer token', '{"token_type":"mac","access_token":"AAAA"}', /not of type bearer/],
  ];
  for (const [what, body, message] of invalid) {
    it(`rejects X_INVALID_RESPONSE on a 2xx with ${what}`, async () => {
      const scope = nock(BASE).post('/oauth2/token').reply(200, body, { 'content-type': 'application/json' });
      const err = await rejectionOf(getBearerToken({ consumerKey: DOC_KEY, consumerSecret: DOC_SECRET }));
      scope.done();
      expect(err).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.INVALID_RESPONSE, status: 200 });
      expect(err.message).to.match(message);
    });
  }

  it('never quotes a 2xx body that is not JSON, even in the cause', async () => {
    const scope = nock(BASE).post('/oauth2/token').reply(200, 'tokensecretvalue=1');
    const err = await rejectionOf(getBearerToken({ consumerKey: DOC_KEY, consumerSecret: DOC_SECRET }));
    scope.done();
    expect(err.cause).to.be.instanceOf(SyntaxError);
    expect(inspect(err, { depth: 10 })).to.not.include('tokensecre');
  });

  const bad: Array<[string, Record<string, unknown>, string]> = [
    ['no consumerKey', { consumerSecret: DOC_SECRET }, 'consumerKey'],
    ['an empty consumerKey', { consumerKey: '', consumerSecret: DOC_SECRET }, 'consumerKey'],
    ['no consumerSecret', { consumerKey: DOC_KEY }, 'consumerSecret'],
    ['a consumerSecret that is not a string', { consumerKey: DOC_KEY, consumerSecret: 42 }, 'consumerSecret'],
  ];
  for (const [what, options, name] of bad) {
    it(`rejects ${what} with a TypeError naming it, sending nothing`, async () => {
      await expectArgumentError('/oauth2/token', (f) => getBearerToken({ ...(options as { consumerKey: string; consumerSecret: string }), fetch: f }), name, [DOC_SECRET]);
    });
  }

  it('rejects a missing options object with a TypeError', async () => {
    const err = await rejectionOf(getBearerToken(undefined as unknown as { consumerKey: string; consumerSecret: string }));
    expect(err).to.be.instanceOf(TypeError);
    expect(err.message).to.match(/getBearerToken\(\) needs an options object/);
  });

  it('does not mutate its options', async () => {
    const scope = nock(BASE).post('/oauth2/token').reply(200, DOC_ANSWER);
    const options = Object.freeze({ consumerKey: DOC_KEY, consumerSecret: DOC_SECRET });
    await getBearerToken(options);
    scope.done();
    expect(options).to.deep.equal({ consumerKey: DOC_KEY, consumerSecret: DOC_SECRET });
  });
});

describe('invalidateBearerToken', () => {
  it('posts the token, Basic-authenticated, and resolves when X echoes it', async () => {
    const seen: Seen[] = [];
    const scope = nock(BASE).post('/oauth2/invalidate_token').reply(recordAnd(seen, 200, { access_token: BEARER }));
    await invalidateBearerToken({ consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, bearerToken: BEARER });
    scope.done();
    expect(seen[0]).to.deep.include({ method: 'POST', path: '/oauth2/invalidate_token' });
    // As issued, as X's examples send it: the form decodes it to `+`, `/` and `=`, never to `%2B`...
    expect(seen[0]!.body).to.equal(`access_token=${BEARER}`);
    expect(new URLSearchParams(seen[0]!.body).get('access_token')).to.equal(decodeURIComponent(BEARER));
    expect(seen[0]!.headers.authorization).to.equal(`Basic ${Buffer.from(`${CONSUMER_KEY}:${CONSUMER_SECRET}`).toString('base64')}`);
    expect(seen[0]!.headers['content-type']).to.match(/^application\/x-www-form-urlencoded/);
  });

  it('sends the token as issued whichever spelling the caller holds, and accepts the echo percent-decoded, as X may send it', async () => {
    const seen: Seen[] = [];
    const scope = nock(BASE).post('/oauth2/invalidate_token').reply(recordAnd(seen, 200, { access_token: decodeURIComponent(BEARER) }));
    await invalidateBearerToken({ consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, bearerToken: decodeURIComponent(BEARER) });
    scope.done();
    expect(seen[0]!.body).to.equal(`access_token=${BEARER}`);
  });

  it('accepts the echo percent-decoded when the token was sent as issued, percent-encoded', async () => {
    const scope = nock(BASE).post('/oauth2/invalidate_token').reply(200, { access_token: decodeURIComponent(BEARER) });
    await invalidateBearerToken({ consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, bearerToken: BEARER });
    scope.done();
  });

  it('accepts the echo percent-encoded', async () => {
    const plain = decodeURIComponent(BEARER);
    const scope = nock(BASE).post('/oauth2/invalidate_token').reply(200, { access_token: encodeURIComponent(plain) });
    await invalidateBearerToken({ consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, bearerToken: plain });
    scope.done();
  });

  const invalid: Array<[string, string, RegExp]> = [
    ['another token than the one sent', JSON.stringify({ access_token: 'AAAAsomeoneelse' }), /a different token than the one sent/],
    ['no access_token', '{}', /without `access_token`/],
    ['a body that is not JSON', 'ok', /not JSON/],
  ];
  for (const [what, body, message] of invalid) {
    it(`rejects X_INVALID_RESPONSE when X confirms ${what}`, async () => {
      const scope = nock(BASE).post('/oauth2/invalidate_token').reply(200, body);
      const err = await rejectionOf(invalidateBearerToken({ consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, bearerToken: BEARER }));
      scope.done();
      expect(err).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.INVALID_RESPONSE });
      expect(err.message).to.match(message);
      expectNoSecrets(err, [BEARER, CONSUMER_SECRET]);
    });
  }

  it('rejects a missing bearerToken with a TypeError, sending nothing', async () => {
    await expectArgumentError(
      '/oauth2/invalidate_token',
      (f) => invalidateBearerToken({ consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, fetch: f } as unknown as Parameters<typeof invalidateBearerToken>[0]),
      'bearerToken',
      [CONSUMER_SECRET],
    );
  });
});

describe('invalidateAccessToken', () => {
  const secrets = { consumers: { [CONSUMER_KEY]: CONSUMER_SECRET }, tokens: { [TOKEN]: TOKEN_SECRET } };

  it('posts to /1.1/oauth/invalidate_token, signed with the user token (verified as X would)', async () => {
    const log: SignedRequestRecord[] = [];
    const scope = nock(BASE).post('/1.1/oauth/invalidate_token').reply(signedReply(BASE, secrets, [200, { access_token: TOKEN }], log));
    await invalidateAccessToken({ consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, token: TOKEN, tokenSecret: TOKEN_SECRET });
    scope.done();
    expect(log).to.have.length(1);
    expect(log[0]!.verification.ok).to.equal(true);
    expect(log[0]!.oauth).to.include({ oauth_consumer_key: CONSUMER_KEY, oauth_token: TOKEN, oauth_signature_method: 'HMAC-SHA1', oauth_version: '1.0' });
    expect(log[0]!.body).to.equal('');
    expect(log[0]!.url).to.equal(`${BASE}/1.1/oauth/invalidate_token`);
  });

  it('is refused, as by X, when signed with the wrong token secret', async () => {
    const log: SignedRequestRecord[] = [];
    const scope = nock(BASE).post('/1.1/oauth/invalidate_token').reply(signedReply(BASE, secrets, [200, { access_token: TOKEN }], log));
    const err = await rejectionOf(invalidateAccessToken({ consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, token: TOKEN, tokenSecret: 'not-the-secret' }));
    scope.done();
    expect(log[0]!.verification).to.include({ ok: false, reason: 'bad_signature' });
    expect(err).to.be.instanceOf(XAPIError).and.include({ status: 401, xCode: 32 });
    expectNoSecrets(err, ['not-the-secret', TOKEN, CONSUMER_SECRET]);
  });

  const invalid: Array<[string, string, RegExp]> = [
    ['a body that is not JSON', 'done', /not JSON/],
    ['no access_token', '{"ok":true}', /without `access_token`/],
    ['another token than the one sent', '{"access_token":"someone-elses-token"}', /a different token than the one sent/],
  ];
  for (const [what, body, message] of invalid) {
    it(`rejects X_INVALID_RESPONSE on a 2xx with ${what}`, async () => {
      const scope = nock(BASE).post('/1.1/oauth/invalidate_token').reply(200, body);
      const err = await rejectionOf(invalidateAccessToken({ consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, token: TOKEN, tokenSecret: TOKEN_SECRET }));
      scope.done();
      expect(err).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.INVALID_RESPONSE });
      expect(err.message).to.match(message);
    });
  }

  for (const name of ['token', 'tokenSecret', 'consumerSecret']) {
    it(`rejects an empty ${name} with a TypeError naming it, sending nothing`, async () => {
      const options = { consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, token: TOKEN, tokenSecret: TOKEN_SECRET, [name]: '' };
      await expectArgumentError('/1.1/oauth/invalidate_token', (f) => invalidateAccessToken({ ...options, fetch: f }), name, [CONSUMER_SECRET, TOKEN, TOKEN_SECRET]);
    });
  }
});

describe('refreshAccessToken', () => {
  const ANSWER = {
    token_type: 'bearer',
    expires_in: 7200,
    access_token: 'new-access-token',
    scope: 'tweet.read users.read offline.access',
    refresh_token: 'new-refresh-token',
  };

  it('refreshes as a public client: client_id in the body, no Authorization header', async () => {
    const seen: Seen[] = [];
    const scope = nock(BASE).post('/2/oauth2/token').reply(recordAnd(seen, 200, ANSWER));
    const before = Date.now();
    const tokens = await refreshAccessToken({ clientID: CLIENT_ID, refreshToken: REFRESH_TOKEN });
    const after = Date.now();
    scope.done();
    expect(seen[0]).to.deep.include({ method: 'POST', path: '/2/oauth2/token' });
    expect(seen[0]!.headers['content-type']).to.equal('application/x-www-form-urlencoded');
    expect(seen[0]!.headers).to.not.have.property('authorization');
    expect(Object.fromEntries(new URLSearchParams(seen[0]!.body))).to.deep.equal({ grant_type: 'refresh_token', refresh_token: REFRESH_TOKEN, client_id: CLIENT_ID });
    expect(tokens).to.deep.include({
      accessToken: 'new-access-token',
      refreshToken: 'new-refresh-token',
      tokenType: 'bearer',
      expiresIn: 7200,
      scope: ['tweet.read', 'users.read', 'offline.access'],
    });
    expect(tokens.expiresAt).to.be.instanceOf(Date);
    expect(tokens.expiresAt!.getTime()).to.be.within(before + 7_200_000, after + 7_200_000);
  });

  it('refreshes as a confidential client: Basic over the form-encoded ID and secret, and no secret in the body', async () => {
    const seen: Seen[] = [];
    const scope = nock(BASE).post('/2/oauth2/token').reply(recordAnd(seen, 200, ANSWER));
    await refreshAccessToken({ clientID: 'my client', clientSecret: 'se/cr+et', refreshToken: REFRESH_TOKEN });
    scope.done();
    // Written out by hand: ' ' -> '+', '/' -> %2F, '+' -> %2B (RFC 6749 section 2.3.1).
    expect(seen[0]!.headers.authorization).to.equal(`Basic ${Buffer.from('my+client:se%2Fcr%2Bet').toString('base64')}`);
    const body = new URLSearchParams(seen[0]!.body);
    expect(body.get('client_id')).to.equal('my client');
    expect(body.has('client_secret')).to.equal(false);
    expect(seen[0]!.body).to.not.include('se%2Fcr');
  });

  it('rejects with XOAuthError, saying what to do, when X refuses a used refresh token', async () => {
    // X's answer to a refresh token that was already rotated away (shape from /work/shared/x-protocol.md).
    const scope = nock(BASE)
      .post('/2/oauth2/token')
      .reply(400, { error: 'invalid_request', error_description: 'Value passed for the token was invalid.' });
    const err = await rejectionOf(refreshAccessToken({ clientID: CLIENT_ID, clientSecret: CLIENT_SECRET, refreshToken: REFRESH_TOKEN }));
    scope.done();
    expect(err).to.be.instanceOf(XOAuthError).and.include({ error: 'invalid_request', description: 'Value passed for the token was invalid.' });
    expect(err.message).to.match(/refresh the access token/).and.match(/already used, expired or revoked/);
  });

  // Refused whatever else the answer holds: there is no usable pair in it.
  const unusable: Array<[string, Record<string, unknown> | string, RegExp]> = [
    ['a body that is not JSON', 'access_token=x', /not JSON/],
    ['no access_token', { token_type: 'bearer' }, /without `access_token`/],
    ['a refresh_token that is not a string', { ...ANSWER, refresh_token: 42 }, /invalid `refresh_token`/],
  ];
  for (const [what, body, message] of unusable) {
    it(`rejects X_INVALID_RESPONSE on a 2xx with ${what}`, async () => {
      const scope = nock(BASE).post('/2/oauth2/token').reply(200, body);
      const err = await rejectionOf(refreshAccessToken({ clientID: CLIENT_ID, refreshToken: REFRESH_TOKEN }));
      scope.done();
      expect(err).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.INVALID_RESPONSE });
      expect(err.message).to.match(message);
      expectNoSecrets(err, [REFRESH_TOKEN]);
    });
  }

  // A malformed optional field: [what, the field's bad value, the error's words, the field in the kept set as X's default would give it].
  const malformed: Array<[string, Record<string, unknown>, RegExp, Record<string, unknown>]> = [
    ['a token that is not a bearer token', { token_type: 'mac' }, /not of type bearer/, { tokenType: 'bearer' }],
    ['an expires_in that is not a number', { expires_in: 'soon' }, /invalid `expires_in`/, { expiresIn: 7200 }],
    ['a negative expires_in', { expires_in: -1 }, /invalid `expires_in`/, { expiresIn: 7200 }],
    ['an expires_in of 0', { expires_in: 0 }, /invalid `expires_in`/, { expiresIn: 7200 }],
    ['an expires_in of 1e308 (an Invalid Date as expiresAt)', { expires_in: 1e308 }, /invalid `expires_in`/, { expiresIn: 7200 }],
    ['an expires_in past one year', { expires_in: 365 * 24 * 3600 + 1 }, /invalid `expires_in`/, { expiresIn: 7200 }],
    ['an expires_in that is a boolean', { expires_in: true }, /invalid `expires_in`/, { expiresIn: 7200 }],
    ['an expires_in that is an array', { expires_in: [7200] }, /invalid `expires_in`/, { expiresIn: 7200 }],
    ['an expires_in in hexadecimal', { expires_in: '0x1C20' }, /invalid `expires_in`/, { expiresIn: 7200 }],
    ['an expires_in in exponent notation', { expires_in: '1e3' }, /invalid `expires_in`/, { expiresIn: 7200 }],
    ['an expires_in with spaces', { expires_in: ' 7200 ' }, /invalid `expires_in`/, { expiresIn: 7200 }],
    ['a scope that is not a string', { scope: ['users.read'] }, /invalid `scope`/, { scope: [] }],
  ];
  const { refresh_token: _rotated, ...ANSWER_WITHOUT_REFRESH } = ANSWER;
  for (const [what, field, message] of malformed) {
    it(`rejects X_INVALID_RESPONSE on a 2xx with ${what} and no new refresh token (the one sent still works)`, async () => {
      const scope = nock(BASE).post('/2/oauth2/token').reply(200, { ...ANSWER_WITHOUT_REFRESH, ...field });
      const err = await rejectionOf(refreshAccessToken({ clientID: CLIENT_ID, refreshToken: REFRESH_TOKEN }));
      scope.done();
      expect(err).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.INVALID_RESPONSE });
      expect(err.message).to.match(message);
      expectNoSecrets(err, [REFRESH_TOKEN]);
    });
  }

  it('keeps a rotation X made though a field of its answer is malformed (refusing it would lose the grant), and warns once per kind, naming no token', async () => {
    const warnings = await onceWarningsDuring('PASSPORT_X_REFRESH_ANSWER_REPAIRED', async () => {
      for (const [what, field, , kept] of malformed) {
        const scope = nock(BASE).post('/2/oauth2/token').reply(200, { ...ANSWER, ...field });
        const before = Date.now();
        const tokens = await refreshAccessToken({ clientID: CLIENT_ID, refreshToken: REFRESH_TOKEN });
        scope.done();
        expect(tokens, what).to.deep.include({ accessToken: 'new-access-token', refreshToken: 'new-refresh-token', ...kept });
        if ('expiresIn' in kept) expect(tokens.expiresAt!.getTime(), what).to.be.within(before + 7_200_000, Date.now() + 7_200_000);
      }
    });
    // Three kinds of repair, each said once: the token type, the lifetime, the scopes.
    expect(warnings.map((w) => /carried (a `token_type`|an invalid `expires_in`|an invalid `scope`)/.exec(w.message)?.[1])).to.have.members(['a `token_type`', 'an invalid `expires_in`', 'an invalid `scope`']);
    for (const w of warnings) {
      expect(w.message).to.match(/already rotated the refresh token/);
      expectNoSecrets(w, [REFRESH_TOKEN, 'new-refresh-token', 'new-access-token']);
    }
  });

  it('answers the refresh token it sent when X answers none, which leaves it valid (RFC 6749 section 6), and no scope when X lists none', async () => {
    const { refresh_token: _dropped, scope: _none, ...withoutRefresh } = ANSWER;
    const scope = nock(BASE).post('/2/oauth2/token').reply(200, withoutRefresh);
    const tokens = await refreshAccessToken({ clientID: CLIENT_ID, refreshToken: REFRESH_TOKEN });
    scope.done();
    expect(tokens).to.deep.include({ accessToken: 'new-access-token', refreshToken: REFRESH_TOKEN, scope: [] });
  });

  it('accepts expires_in up to one year, and as a numeric string, with a valid expiresAt', async () => {
    for (const expiresIn of [1, 7200, '7200', 365 * 24 * 3600]) {
      const scope = nock(BASE).post('/2/oauth2/token').reply(200, { ...ANSWER, expires_in: expiresIn });
      const before = Date.now();
      const tokens = await refreshAccessToken({ clientID: CLIENT_ID, refreshToken: REFRESH_TOKEN });
      const after = Date.now();
      scope.done();
      expect(tokens.expiresIn).to.equal(Number(expiresIn));
      expect(tokens.expiresAt!.getTime()).to.be.within(before + Number(expiresIn) * 1000, after + Number(expiresIn) * 1000);
    }
  });

  it('attaches a 2xx answer no parser can read without the live tokens X put in it', async () => {
    const live = ['at-NEW-live-access-token-0000000001', 'rt-NEW-live-refresh-token-000000001'];
    for (const body of [
      `{"token_type":"bearer","access_token":"${live[0]}","refresh_token":"${live[1]}"`,
      `access_token=${live[0]}&refresh_token=${live[1]}`,
      `<html><pre>${live[0]} ${live[1]}</pre></html>`,
    ]) {
      const scope = nock(BASE).post('/2/oauth2/token').reply(200, body, { 'content-type': 'text/html' });
      const err = await rejectionOf(refreshAccessToken({ clientID: CLIENT_ID, clientSecret: CLIENT_SECRET, refreshToken: REFRESH_TOKEN }));
      scope.done();
      expect(err).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.INVALID_RESPONSE, status: 200 });
      expect((err as XRequestError).response?.body).to.include('[redacted]');
      expectNoSecrets(err, [...live, { id: CLIENT_ID, secret: CLIENT_SECRET }, REFRESH_TOKEN]);
    }
  });

  const bad: Array<[string, Record<string, unknown>, string]> = [
    ['no clientID', { refreshToken: REFRESH_TOKEN }, 'clientID'],
    ['no refreshToken', { clientID: CLIENT_ID }, 'refreshToken'],
    ['an empty clientSecret', { clientID: CLIENT_ID, clientSecret: '', refreshToken: REFRESH_TOKEN }, 'clientSecret'],
    ['a refreshToken that is not a string', { clientID: CLIENT_ID, refreshToken: { token: REFRESH_TOKEN } }, 'refreshToken'],
  ];
  for (const [what, options, name] of bad) {
    it(`rejects ${what} with a TypeError naming it, sending nothing`, async () => {
      await expectArgumentError('/2/oauth2/token', (f) => refreshAccessToken({ ...(options as { clientID: string; refreshToken: string }), fetch: f }), name, [REFRESH_TOKEN]);
    });
  }
});

describe('revokeToken', () => {
  for (const tokenTypeHint of ['access_token', 'refresh_token'] as const) {
    it(`posts token, token_type_hint=${tokenTypeHint} and client_id (RFC 7009 section 2.1) and resolves on {"revoked":true}`, async () => {
      const seen: Seen[] = [];
      const scope = nock(BASE).post('/2/oauth2/revoke').reply(recordAnd(seen, 200, { revoked: true }));
      await revokeToken({ clientID: CLIENT_ID, token: ACCESS_TOKEN, tokenTypeHint });
      scope.done();
      expect(seen[0]).to.deep.include({ method: 'POST', path: '/2/oauth2/revoke' });
      expect(seen[0]!.headers).to.not.have.property('authorization');
      expect(seen[0]!.headers['content-type']).to.equal('application/x-www-form-urlencoded');
      expect(Object.fromEntries(new URLSearchParams(seen[0]!.body))).to.deep.equal({ token: ACCESS_TOKEN, token_type_hint: tokenTypeHint, client_id: CLIENT_ID });
    });
  }

  it('sends token_type_hint=access_token when not given (X requires a hint), and authenticates a confidential client with Basic', async () => {
    const seen: Seen[] = [];
    const scope = nock(BASE).post('/2/oauth2/revoke').reply(recordAnd(seen, 200, { revoked: true }));
    await revokeToken({ clientID: CLIENT_ID, clientSecret: CLIENT_SECRET, token: ACCESS_TOKEN });
    scope.done();
    expect(seen[0]!.headers.authorization).to.equal(`Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`);
    expect(Object.fromEntries(new URLSearchParams(seen[0]!.body))).to.deep.equal({ token: ACCESS_TOKEN, token_type_hint: 'access_token', client_id: CLIENT_ID });
  });

  it('resolves on an empty 200, which RFC 7009 section 2.2 allows', async () => {
    const scope = nock(BASE).post('/2/oauth2/revoke').reply(200, '');
    await revokeToken({ clientID: CLIENT_ID, token: ACCESS_TOKEN });
    scope.done();
  });

  it('resolves on {"revoked":false}: RFC 7009 section 2.2 answers 200 for a token that is invalid or already revoked', async () => {
    const scope = nock(BASE).post('/2/oauth2/revoke').reply(200, { revoked: false });
    await revokeToken({ clientID: CLIENT_ID, token: ACCESS_TOKEN, tokenTypeHint: 'refresh_token' });
    scope.done();
  });

  // RFC 7009 section 2.2: "The content of the response body is ignored by the client as all
  // necessary information is conveyed in the response code." A body X does not send is warned about.
  const odd: Array<[string, string, string]> = [
    ['a body that is not JSON', `revoked ${ACCESS_TOKEN}`, 'a body that is not JSON'],
    ['a JSON array', `["${ACCESS_TOKEN}"]`, 'a JSON body that is not an object'],
    ['"revoked" as the string "false"', '{"revoked":"false"}', 'a JSON body without a boolean `revoked`'],
    ['no "revoked" field', `{"status":"ok","token":"${ACCESS_TOKEN}"}`, 'a JSON body without a boolean `revoked`'],
    ['"revoked" only under __proto__', '{"__proto__":{"revoked":true}}', 'a JSON body without a boolean `revoked`'],
  ];
  it('resolves on every 2xx whatever its body (RFC 7009 section 2.2), and warns once per kind of body X does not send, never quoting it', async () => {
    const warnings = await onceWarningsDuring('PASSPORT_X_REVOKE_ANSWER_UNEXPECTED', async () => {
      for (const [what, body] of [...odd, ...odd]) {
        const scope = nock(BASE).post('/2/oauth2/revoke').reply(200, body);
        await revokeToken({ clientID: CLIENT_ID, token: ACCESS_TOKEN }).catch((err: unknown) => expect.fail(`${what}: ${String(err)}`));
        scope.done();
      }
      // X's own answers and RFC 7009's empty one say nothing.
      for (const body of ['{"revoked":true}', '{"revoked":false}', '', ' ']) {
        const scope = nock(BASE).post('/2/oauth2/revoke').reply(200, body);
        await revokeToken({ clientID: CLIENT_ID, token: ACCESS_TOKEN });
        scope.done();
      }
    });
    // Three kinds, each said once, though each body came twice.
    expect(warnings.map((w) => /had (.*), where X answers/.exec(w.message)?.[1])).to.have.members([...new Set(odd.map(([, , kind]) => kind))]);
    for (const w of warnings) {
      expect(w.message).to.include('The token was taken as revoked, as RFC 7009 section 2.2 says of a 200.').and.include('check what sits between the app and X');
      expectNoSecrets(w, [ACCESS_TOKEN]);
    }
  });

  it('still rejects a non-2xx with the typed error of X\'s status: a 503, an OAuth error', async () => {
    let scope = nock(BASE).post('/2/oauth2/revoke').reply(503, 'unavailable');
    expect(await rejectionOf(revokeToken({ clientID: CLIENT_ID, token: ACCESS_TOKEN }))).to.include({ code: XErrorCode.API_ERROR, status: 503 });
    scope.done();
    scope = nock(BASE).post('/2/oauth2/revoke').reply(401, { error: 'invalid_client', error_description: 'Missing valid authorization header' });
    expect(await rejectionOf(revokeToken({ clientID: CLIENT_ID, token: ACCESS_TOKEN }))).to.include({ code: XErrorCode.OAUTH_ERROR, status: 401 });
    scope.done();
  });

  it('rejects a tokenTypeHint other than access_token or refresh_token with a TypeError, not quoting it', async () => {
    const hint = 'id-token-lookalike-secret';
    await expectArgumentError(
      '/2/oauth2/revoke',
      (f) => revokeToken({ clientID: CLIENT_ID, token: ACCESS_TOKEN, tokenTypeHint: hint as 'access_token', fetch: f }),
      'tokenTypeHint',
      [hint, ACCESS_TOKEN],
    );
  });

  it('rejects a missing token with a TypeError, sending nothing', async () => {
    await expectArgumentError('/2/oauth2/revoke', (f) => revokeToken({ clientID: CLIENT_ID, fetch: f } as unknown as Parameters<typeof revokeToken>[0]), 'token');
  });
});

describe('getReverseAuthParameters', () => {
  const secrets = { consumers: { [CONSUMER_KEY]: CONSUMER_SECRET } };
  // Shape of X's answer (X doc "Reverse Auth", step 1): the text of an OAuth header for the mobile client.
  const HEADER_TEXT =
    'OAuth oauth_nonce="L9gVMmVPa7DbEJP7iaeRUGBvvvOGNAVFzWNBWmYsLU", oauth_signature_method="HMAC-SHA1", oauth_timestamp="1318467427", oauth_consumer_key="test-consumer-key", oauth_token="8ldIZyxQeVrFZXFOZH5tAwj6vzJYuLQpl0WUEYtWc", oauth_signature="0Zsv%2Bxsmna1bxRj8sY3FNrqMdW0%3D", oauth_version="1.0"';

  it('posts x_auth_mode=reverse_auth to /oauth/request_token, app-signed (verified as X would), and resolves to X\'s header text', async () => {
    const log: SignedRequestRecord[] = [];
    const scope = nock(BASE).post('/oauth/request_token').reply(signedReply(BASE, secrets, [200, `${HEADER_TEXT}\n`], log));
    const text = await getReverseAuthParameters({ consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET });
    scope.done();
    expect(text).to.equal(HEADER_TEXT);
    expect(log[0]!.verification.ok).to.equal(true);
    expect(log[0]!.body).to.equal('x_auth_mode=reverse_auth');
    expect(log[0]!.oauth).to.not.have.any.keys('oauth_token', 'oauth_callback');
    expect(log[0]!.oauth.oauth_consumer_key).to.equal(CONSUMER_KEY);
  });

  const invalid: Array<[string, string]> = [
    ['form-encoded tokens instead of a header', 'oauth_token=a&oauth_token_secret=b'],
    ['an OAuth header without a signature', 'OAuth oauth_token="a"'],
    ['an HTML page', '<html>hello</html>'],
  ];
  for (const [what, body] of invalid) {
    it(`rejects X_INVALID_RESPONSE on a 2xx with ${what}`, async () => {
      const scope = nock(BASE).post('/oauth/request_token').reply(200, body);
      const err = await rejectionOf(getReverseAuthParameters({ consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET }));
      scope.done();
      expect(err).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.INVALID_RESPONSE });
      expect(err.message).to.match(/not an OAuth header/);
    });
  }

  it('rejects a missing consumerSecret with a TypeError, sending nothing', async () => {
    await expectArgumentError(
      '/oauth/request_token',
      (f) => getReverseAuthParameters({ consumerKey: CONSUMER_KEY, fetch: f } as unknown as Parameters<typeof getReverseAuthParameters>[0]),
      'consumerSecret',
    );
  });
});

describe('oauth1AuthorizationHeader (re-exported)', () => {
  it('is the signer of lib/oauth1-signature, whose vectors are in oauth1-signature.test.ts', () => {
    expect(oauth1AuthorizationHeader).to.equal(signerHeader);
  });

  it('signs a request X (here: the verifier) accepts', () => {
    const url = `${BASE}/1.1/statuses/update.json?include_entities=true`;
    const authorization = oauth1AuthorizationHeader({ method: 'POST', url, params: { status: 'Hello, X!' }, consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, token: TOKEN, tokenSecret: TOKEN_SECRET });
    const result = verifyOAuth1Request(
      { method: 'POST', url, authorization, body: 'status=Hello%2C%20X%21', contentType: 'application/x-www-form-urlencoded' },
      { consumerSecret: (k) => (k === CONSUMER_KEY ? CONSUMER_SECRET : undefined), tokenSecret: (t) => (t === TOKEN ? TOKEN_SECRET : undefined) },
    );
    expect(result.ok).to.equal(true);
  });
});
