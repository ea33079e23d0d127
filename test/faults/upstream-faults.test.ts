// The upstream fault matrix: every endpoint passport-x calls, against every way X (or something
// between this server and X) can misbehave. One `it` per endpoint and fault, each run with both
// HTTP clients (passport-x's node:http client and the `fetch` option) and, for the strategies,
// with both pending-state stores (the session and EncryptedCookieStateStore). Each case asserts
// a typed error with the right code, that no redirect was followed, that X saw exactly one
// request (no retry), that no pending sign-in was left behind for a replay, and that no
// credential, in any spelling, shows anywhere in the error.
import { expect } from 'chai';
import { XError, XErrorCode, XRateLimitError } from '../../lib/errors';
import { getBearerToken, getReverseAuthParameters, invalidateAccessToken, invalidateBearerToken, refreshAccessToken, revokeToken } from '../../lib/helpers';
import { forgetWarnedRepairs } from '../../lib/endpoints';
import { MAX_RESPONSE_BYTES } from '../../lib/http';
import { XOAuth1Strategy } from '../../lib/oauth1-strategy';
import { XOAuth2PkceStrategy } from '../../lib/oauth2-strategy';
import type { XVerifyCallback } from '../../lib/passport-base';
import type { XProfile } from '../../lib/profile';
import { EncryptedCookieStateStore } from '../../lib/state/encrypted-cookie';
import { expectNoSecrets, type SecretToScan } from '../support/assertions';
import {
  CREDENTIALS,
  ENDPOINT_PATHS,
  RATE_LIMIT_RESET,
  gzipBomb,
  startFaultyX,
  type EndpointId,
  type FaultId,
  type FaultyX,
} from '../support/fuzz-faulty-x';
import { fakeRequest, runStrategy, type StrategyOutcome } from '../support/passport-harness';
import { withoutNock } from '../support/setup';
import { withWarnings } from '../support/warnings';

// ---------------------------------------------------------------- the expected outcomes

/** The two ways passport-x sends a request: its own kept-alive node:http client, or the `fetch` option. */
type Client = 'node:http' | 'fetch';
type StoreKind = 'session' | 'cookie';

/**
 * A plain 402 (not X's `credits-depleted` problem) is an X_API_ERROR today. This is the one place
 * to change should plain 402s get a code of their own.
 */
// X answers 402 only when the app's pay-per-use credits are used up: every 402 is XCreditsDepletedError.
const PLAIN_402_CODE: string = XErrorCode.CREDITS_DEPLETED;

/** What each fault must produce: the error code (per client where the clients differ) and the HTTP status on the error. */
interface FaultCase {
  title: string;
  code: string | Record<Client, string>;
  status?: number;
}

const FAULTS: Record<FaultId, FaultCase> = {
  'rate-limited-with-reset': { title: '429 with x-rate-limit-reset', code: XErrorCode.RATE_LIMITED, status: 429 },
  'rate-limited-without-reset': { title: '429 without x-rate-limit-reset (v1.1 code 88)', code: XErrorCode.RATE_LIMITED, status: 429 },
  'payment-required': { title: '402 Payment Required (a plain problem, still the credits)', code: PLAIN_402_CODE, status: 402 },
  'server-error-500': { title: '500 with an errors array', code: XErrorCode.API_ERROR, status: 500 },
  'bad-gateway-502-html': { title: "502 with a load balancer's HTML page", code: XErrorCode.API_ERROR, status: 502 },
  'unavailable-503-text': { title: '503 with plain text and Retry-After', code: XErrorCode.API_ERROR, status: 503 },
  'html-page-200': { title: '200 with an HTML page', code: XErrorCode.INVALID_RESPONSE, status: 200 },
  'xml-200': { title: '200 with XML', code: XErrorCode.INVALID_RESPONSE, status: 200 },
  'plain-text-200': { title: '200 with plain text', code: XErrorCode.INVALID_RESPONSE, status: 200 },
  'invalid-json-200': { title: '200 with truncated JSON holding a token', code: XErrorCode.INVALID_RESPONSE, status: 200 },
  'wrong-types-200': { title: "200 with X's fields in the wrong types", code: XErrorCode.INVALID_RESPONSE, status: 200 },
  'proto-keys-200': { title: "200 with X's fields only under __proto__ and constructor.prototype", code: XErrorCode.INVALID_RESPONSE, status: 200 },
  'body-2mb-declared': { title: 'a 2 MB body with content-length', code: XErrorCode.RESPONSE_TOO_LARGE },
  'body-2mb-chunked': { title: 'a 2 MB chunked body without content-length', code: XErrorCode.RESPONSE_TOO_LARGE },
  // node:http does not inflate (passport-x asks for no encoding), so it reads the compressed bytes and
  // refuses them as not JSON; fetch inflates, and passport-x stops reading at its cap.
  'gzip-bomb': { title: 'a gzip bomb (256 MiB of zeros in 260 KB)', code: { 'node:http': XErrorCode.INVALID_RESPONSE, fetch: XErrorCode.RESPONSE_TOO_LARGE } },
  // X answered (its status line came): the error says so, with the status, never "could not reach X".
  'slow-drip': { title: 'a slow drip of the body past timeoutMs', code: XErrorCode.TIMEOUT, status: 200 },
  'reset-mid-body': { title: 'a TCP reset in the middle of the body', code: XErrorCode.INVALID_RESPONSE, status: 200 },
  // A refusal whose body never ends is what X said: its status and rate-limit headers, whatever the body did.
  'unavailable-503-reset-mid-body': { title: '503, then a TCP reset in the middle of the body', code: XErrorCode.API_ERROR, status: 503 },
  'rate-limited-slow-drip': { title: '429 with x-rate-limit-reset, then a slow drip of the body past timeoutMs', code: XErrorCode.RATE_LIMITED, status: 429 },
  'redirect-302-other-host': { title: '302 to another host', code: XErrorCode.API_ERROR, status: 302 },
  'redirect-307-other-host': { title: '307 (method and body kept) to another host', code: XErrorCode.API_ERROR, status: 307 },
};

/**
 * RFC 7009 section 2.2: a revocation's 2xx is the answer, whatever its body ("The content of the
 * response body is ignored by the client"). revokeToken resolves on these, and says once per process
 * and kind of body that X's answer was odd (PASSPORT_X_REVOKE_ANSWER_UNEXPECTED). A 2xx whose body
 * did not arrive in full (the drip, the reset) or passed the size cap is still refused.
 */
const REVOKED_WHATEVER_THE_BODY: ReadonlySet<FaultId> = new Set<FaultId>(['html-page-200', 'xml-200', 'plain-text-200', 'invalid-json-200', 'wrong-types-200', 'proto-keys-200']);

/** Whether the case resolves: a revocation X answered 2xx with a whole body (node:http reads the gzip bomb's compressed bytes whole; fetch inflates it past the cap). */
function resolves(endpoint: EndpointId, fault: FaultId, client: Client): boolean {
  return endpoint === 'oauth2_revoke' && (REVOKED_WHATEVER_THE_BODY.has(fault) || (fault === 'gzip-bomb' && client === 'node:http'));
}

function expectedCode(fault: FaultId, client: Client): string {
  const code = FAULTS[fault].code;
  return typeof code === 'string' ? code : code[client];
}

/**
 * The time-out of every request: for the drip, well below the 5 s it drips and above what the
 * legs before the faulty endpoint take on a loaded machine; generous otherwise.
 */
function timeoutFor(fault: FaultId): number {
  return fault === 'slow-drip' || fault === 'rate-limited-slow-drip' ? 750 : 15_000;
}

// ---------------------------------------------------------------- the credentials

/** Every credential this matrix uses, as the scanner takes them: each secret alone, and the Basic pairs. */
function credentialsToScan(extra: string[] = []): SecretToScan[] {
  const { consumerKey, consumerSecret, clientID, clientSecret, ...rest } = CREDENTIALS;
  return [
    consumerSecret,
    clientSecret,
    { id: consumerKey, secret: consumerSecret },
    { id: clientID, secret: clientSecret },
    ...Object.values(rest),
    ...extra,
  ];
}

// ---------------------------------------------------------------- one run of one case

/** What one run of a case hands back for the common checks. */
interface RunResult {
  error: unknown;
  /** Secrets found during the run (the PKCE code verifier), scanned for too. */
  extraSecrets: string[];
}

interface RunContext {
  x: FaultyX;
  other: FaultyX;
  client: Client;
  store: StoreKind | undefined;
  fault: FaultId;
  endpoint: EndpointId;
  /** Bytes passport-x read through `fetch` (the gzip bomb must not be inflated past the cap). */
  fetched: { bytes: number };
}

/** A fetch that counts the bytes of the answers its caller reads. */
function countingFetch(counter: { bytes: number }): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    if (!response.body) return response;
    const counted = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          counter.bytes += chunk.byteLength;
          controller.enqueue(chunk);
        },
      }),
    );
    return new Response(counted, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

function httpOptions(ctx: RunContext): { baseURL: string; timeoutMs: number; fetch?: typeof fetch } {
  return { baseURL: ctx.x.baseURL, timeoutMs: timeoutFor(ctx.fault), ...(ctx.client === 'fetch' ? { fetch: countingFetch(ctx.fetched) } : {}) };
}

const COOKIE_SECRET = 'fault-matrix-cookie-state-secret-32-chars+/=';
const CALLBACK_URL = 'http://127.0.0.1:9/auth/x/callback';

/**
 * A browser session as the strategies see it: the server session (session store) or a cookie jar
 * (cookie store, no session at all). Each request gets a response object collecting Set-Cookie.
 */
class BrowserSession {
  readonly session: Record<string, unknown> = {};
  readonly jar = new Map<string, string>();
  constructor(readonly store: StoreKind) {}

  request(query: Record<string, string>): { req: ReturnType<typeof fakeRequest>; done(): void } {
    const setCookies: string[] = [];
    const headers: Record<string, string> = {};
    if (this.jar.size > 0) headers.cookie = [...this.jar].map(([n, v]) => `${n}=${v}`).join('; ');
    const req = fakeRequest({ query, session: this.store === 'session' ? this.session : null, headers });
    req.res = {
      headersSent: false,
      getHeader: () => undefined,
      setHeader: (_name: string, value: string | string[]) => setCookies.push(...[value].flat()),
      appendHeader: (_name: string, value: string) => setCookies.push(value),
    };
    return {
      req,
      done: () => {
        for (const header of setCookies) {
          const [pair, ...attributes] = header.split(';').map((s) => s.trim());
          const eq = pair!.indexOf('=');
          const name = pair!.slice(0, eq);
          if (attributes.some((a) => /^max-age=0$/i.test(a))) this.jar.delete(name);
          else this.jar.set(name, pair!.slice(eq + 1));
        }
      },
    };
  }

  /** Runs one request of the sign-in through the strategy, as Passport would, and keeps the cookies it set. */
  async run(strategy: Parameters<typeof runStrategy>[0], query: Record<string, string>): Promise<StrategyOutcome> {
    const { req, done } = this.request(query);
    const outcome = await runStrategy(strategy, req, {}, { timeoutMs: 20_000 });
    done();
    return outcome;
  }

  /** What a replay could use: the session's content, or the cookies left in the jar. */
  leftovers(): string {
    return this.store === 'session' ? JSON.stringify(this.session) : [...this.jar.keys()].join('; ');
  }
}

function storeFor(kind: StoreKind): { store?: EncryptedCookieStateStore } {
  return kind === 'cookie' ? { store: new EncryptedCookieStateStore({ secret: COOKIE_SECRET }) } : {};
}

const verify = (...args: unknown[]): void => {
  const done = args[args.length - 1] as XVerifyCallback;
  const profile = args[args.length - 2] as XProfile;
  done(null, { id: profile.id });
};

/** The strategy's error, after checking it ended the request with `error`, not a redirect, a fail or a success. */
function errorOf(outcome: StrategyOutcome, what: string): Error {
  expect(outcome.type, `${what}: the strategy's action (${JSON.stringify(outcome.challenge ?? outcome.url ?? '')})`).to.equal('error');
  return outcome.error!;
}

/**
 * After a failed callback: nothing a replay could use is left (the handle is gone from the session,
 * the cookie from the jar), and replaying the callback is a 4xx fail that sends nothing to X.
 */
async function expectNothingPending(ctx: RunContext, browser: BrowserSession, strategy: Parameters<typeof runStrategy>[0], callback: Record<string, string>, handle: string): Promise<void> {
  const left = browser.leftovers();
  if (browser.store === 'session') expect(left, 'the session still holds the sign-in').to.not.include(handle);
  else expect(left, 'the cookie jar still holds a sign-in cookie').to.equal('');
  const before = ctx.x.received.length;
  const replay = await browser.run(strategy, callback);
  expect(replay.type, 'a replayed callback').to.equal('fail');
  expect(replay.status ?? 401, 'the status of the replayed callback').to.be.within(400, 499);
  expect(ctx.x.received.length, 'requests to X from the replayed callback').to.equal(before);
}

async function oauth1SignIn(ctx: RunContext): Promise<RunResult> {
  const store = ctx.store!;
  const strategy = new XOAuth1Strategy(
    { consumerKey: CREDENTIALS.consumerKey, consumerSecret: CREDENTIALS.consumerSecret, callbackURL: CALLBACK_URL, ...httpOptions(ctx), ...storeFor(store) },
    verify as never,
  );
  const browser = new BrowserSession(store);
  const callback = { oauth_token: CREDENTIALS.requestToken, oauth_verifier: CREDENTIALS.verifier };
  const start = await browser.run(strategy, {});
  if (ctx.endpoint === 'request_token') {
    const error = errorOf(start, 'the start of the sign-in');
    expect(browser.leftovers(), 'what the failed start left pending').to.equal(store === 'session' ? '{}' : '');
    // Nothing was issued, so the callback X would have sent matches nothing.
    await expectNothingPending(ctx, browser, strategy, callback, CREDENTIALS.requestToken);
    return { error, extraSecrets: [] };
  }
  expect(start.type, 'the start of the sign-in').to.equal('redirect');
  const error = errorOf(await browser.run(strategy, callback), 'the callback');
  await expectNothingPending(ctx, browser, strategy, callback, CREDENTIALS.requestToken);
  return { error, extraSecrets: [] };
}

async function oauth2SignIn(ctx: RunContext): Promise<RunResult> {
  const store = ctx.store!;
  const strategy = new XOAuth2PkceStrategy(
    {
      clientID: CREDENTIALS.clientID,
      clientSecret: CREDENTIALS.clientSecret,
      callbackURL: CALLBACK_URL,
      authorizationURL: `${ctx.x.baseURL}/i/oauth2/authorize`,
      ...httpOptions(ctx),
      ...storeFor(store),
    },
    verify as never,
  );
  const browser = new BrowserSession(store);
  const start = await browser.run(strategy, {});
  expect(start.type, 'the start of the sign-in').to.equal('redirect');
  const state = new URL(start.url!).searchParams.get('state')!;
  const callback = { code: CREDENTIALS.code, state };
  const error = errorOf(await browser.run(strategy, callback), 'the callback');
  const exchange = ctx.x.requestsTo('/2/oauth2/token')[0];
  const codeVerifier = exchange ? new URLSearchParams(exchange.body).get('code_verifier') : null;
  expect(codeVerifier, 'the code verifier sent to X').to.be.a('string');
  await expectNothingPending(ctx, browser, strategy, callback, state);
  return { error, extraSecrets: [codeVerifier!, state] };
}

/** A helper's call: its rejection, or `undefined` when it resolved (which only {@link resolves} cases may). */
function helperCall(run: (ctx: RunContext) => Promise<unknown>): (ctx: RunContext) => Promise<RunResult> {
  return async (ctx) => ({ error: await run(ctx).then(() => undefined, (err: unknown) => err), extraSecrets: [] });
}

/** Every endpoint passport-x calls, and how to make passport-x call it. */
const ENDPOINTS: Array<{ id: EndpointId; title: string; strategy: boolean; run(ctx: RunContext): Promise<RunResult> }> = [
  { id: 'request_token', title: 'POST /oauth/request_token (XOAuth1Strategy starting a sign-in)', strategy: true, run: oauth1SignIn },
  { id: 'access_token', title: 'POST /oauth/access_token (XOAuth1Strategy callback)', strategy: true, run: oauth1SignIn },
  { id: 'verify_credentials', title: 'GET /1.1/account/verify_credentials.json (XOAuth1Strategy profile)', strategy: true, run: oauth1SignIn },
  { id: 'oauth2_token_exchange', title: 'POST /2/oauth2/token code exchange (XOAuth2PkceStrategy callback)', strategy: true, run: oauth2SignIn },
  { id: 'users_me', title: 'GET /2/users/me (XOAuth2PkceStrategy profile)', strategy: true, run: oauth2SignIn },
  {
    id: 'oauth2_refresh',
    title: 'POST /2/oauth2/token refresh (refreshAccessToken)',
    strategy: false,
    run: helperCall((ctx) => refreshAccessToken({ clientID: CREDENTIALS.clientID, clientSecret: CREDENTIALS.clientSecret, refreshToken: CREDENTIALS.refreshToken, ...httpOptions(ctx) })),
  },
  {
    id: 'oauth2_revoke',
    title: 'POST /2/oauth2/revoke (revokeToken)',
    strategy: false,
    run: helperCall((ctx) =>
      revokeToken({ clientID: CREDENTIALS.clientID, clientSecret: CREDENTIALS.clientSecret, token: CREDENTIALS.oauth2AccessToken, tokenTypeHint: 'access_token', ...httpOptions(ctx) }),
    ),
  },
  {
    id: 'bearer_token',
    title: 'POST /oauth2/token (getBearerToken)',
    strategy: false,
    run: helperCall((ctx) => getBearerToken({ consumerKey: CREDENTIALS.consumerKey, consumerSecret: CREDENTIALS.consumerSecret, ...httpOptions(ctx) })),
  },
  {
    id: 'bearer_invalidation',
    title: 'POST /oauth2/invalidate_token (invalidateBearerToken)',
    strategy: false,
    run: helperCall((ctx) =>
      invalidateBearerToken({ consumerKey: CREDENTIALS.consumerKey, consumerSecret: CREDENTIALS.consumerSecret, bearerToken: CREDENTIALS.bearerToken, ...httpOptions(ctx) }),
    ),
  },
  {
    id: 'oauth1_invalidate_token',
    title: 'POST /1.1/oauth/invalidate_token (invalidateAccessToken)',
    strategy: false,
    run: helperCall((ctx) =>
      invalidateAccessToken({
        consumerKey: CREDENTIALS.consumerKey,
        consumerSecret: CREDENTIALS.consumerSecret,
        token: CREDENTIALS.accessToken,
        tokenSecret: CREDENTIALS.accessTokenSecret,
        ...httpOptions(ctx),
      }),
    ),
  },
  {
    id: 'reverse_auth',
    title: 'POST /oauth/request_token with x_auth_mode=reverse_auth (getReverseAuthParameters)',
    strategy: false,
    run: helperCall((ctx) => getReverseAuthParameters({ consumerKey: CREDENTIALS.consumerKey, consumerSecret: CREDENTIALS.consumerSecret, ...httpOptions(ctx) })),
  },
];

/** The checks every run of every case makes. */
async function runCase(endpoint: (typeof ENDPOINTS)[number], fault: FaultId, client: Client, store: StoreKind | undefined): Promise<void> {
  const other = await startFaultyX();
  const x = await startFaultyX({ id: fault, endpoint: endpoint.id, otherHost: other.baseURL });
  const ctx: RunContext = { x, other, client, store, fault, endpoint: endpoint.id, fetched: { bytes: 0 } };
  const where = `${client}${store ? `, ${store} store` : ''}`;
  try {
    const { error, extraSecrets } = await endpoint.run(ctx);
    if (resolves(endpoint.id, fault, client)) {
      expect(error, `(${where}) RFC 7009: the revocation's 2xx is the answer, whatever its body`).to.equal(undefined);
      expect(other.received, `(${where}) requests the other host received`).to.deep.equal([]);
      expect(x.requestsTo(ENDPOINT_PATHS[endpoint.id]), `(${where}) requests to the endpoint (a retry?)`).to.have.length(1);
      expect(Object.prototype, 'Object.prototype after the answer').to.not.have.any.keys('oauth_token', 'access_token', 'revoked', 'data', 'id_str', 'token_type', 'text');
      return;
    }
    const expected = expectedCode(fault, client);
    expect(error, `(${where}) the error is an XError`).to.be.instanceOf(XError);
    const err = error as XError;
    expect(err.code, `(${where}) the error's code; message: ${err.message}`).to.equal(expected);
    const status = FAULTS[fault].status;
    if (status !== undefined) expect(err.status, `(${where}) the error's status`).to.equal(status);
    if (fault === 'slow-drip' || fault === 'reset-mid-body') {
      expect(err.message, `(${where}) the message says X answered`).to.match(/^X answered the request to .* with HTTP 200, but .*The request did reach X/).and.not.match(/Could not reach X/);
    }
    if (fault === 'rate-limited-with-reset' || fault === 'rate-limited-slow-drip') expect((err as XRateLimitError).resetAt?.getTime(), `(${where}) resetAt`).to.equal(RATE_LIMIT_RESET * 1000);
    if (fault === 'rate-limited-without-reset') expect((err as XRateLimitError).resetAt, `(${where}) resetAt`).to.equal(undefined);
    if (fault === 'gzip-bomb' && client === 'fetch') {
      expect(ctx.fetched.bytes, `(${where}) bytes inflated and read from the gzip bomb`).to.be.below(MAX_RESPONSE_BYTES + 4 * 1024 * 1024);
    }
    expect(other.received, `(${where}) requests the other host received (a redirect was followed)`).to.deep.equal([]);
    expect(x.requestsTo(ENDPOINT_PATHS[endpoint.id]), `(${where}) requests to the faulty endpoint (a retry?)`).to.have.length(1);
    expect(Object.prototype, 'Object.prototype after the answer').to.not.have.any.keys('oauth_token', 'access_token', 'revoked', 'data', 'id_str', 'token_type', 'text');
    expectNoSecrets(error, credentialsToScan(extraSecrets));
  } catch (err) {
    if (err instanceof Error) err.message = `(${where}) ${err.message}`;
    throw err;
  } finally {
    await x.close();
    await other.close();
  }
}

describe('Upstream fault matrix: every endpoint passport-x calls, against every way X can misbehave', function () {
  // Generous: the suite runs on a shared machine, under c8. A case takes milliseconds; the drip takes timeoutMs.
  this.timeout(60_000);
  withoutNock();
  before(() => {
    gzipBomb();
  });

  it('covers every endpoint passport-x calls and every fault of the matrix', () => {
    expect(ENDPOINTS.map((e) => e.id)).to.have.members(Object.keys(ENDPOINT_PATHS));
    expect(ENDPOINTS.length * Object.keys(FAULTS).length, 'cases').to.equal(11 * 21);
  });

  for (const endpoint of ENDPOINTS) {
    describe(endpoint.title, () => {
      for (const [fault, { title }] of Object.entries(FAULTS) as Array<[FaultId, FaultCase]>) {
        const clients: Client[] = ['node:http', 'fetch'];
        const outcomeFor = (client: Client): string => (resolves(endpoint.id, fault, client) ? 'a resolved revocation (RFC 7009) and a warning' : expectedCode(fault, client));
        const outcomes = clients.map(outcomeFor);
        const expected = outcomes[0] === outcomes[1] ? outcomes[0]! : clients.map((c, i) => `${outcomes[i]} (${c})`).join(', ');
        it(`answers ${title} with ${expected}`, async () => {
          const stores: Array<StoreKind | undefined> = endpoint.strategy ? ['session', 'cookie'] : [undefined];
          const runs = clients.flatMap((client) => stores.map((store) => ({ client, store })));
          const warned = clients.some((client) => resolves(endpoint.id, fault, client));
          // Once per process and kind: forgotten first, so that this case's kind warns again.
          if (warned) forgetWarnedRepairs();
          const { value: results, warnings } = await withWarnings(() => Promise.allSettled(runs.map(({ client, store }) => runCase(endpoint, fault, client, store))), { code: 'PASSPORT_X_REVOKE_ANSWER_UNEXPECTED' });
          if (warned) {
            expect(warnings, 'the odd answer is said once').to.have.length(1);
            expect(warnings[0]!.message).to.include('The token was taken as revoked, as RFC 7009 section 2.2 says of a 200.');
            expectNoSecrets(warnings[0], credentialsToScan());
          } else {
            expect(warnings, 'no revocation warning').to.deep.equal([]);
          }
          const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as Error);
          if (failures.length > 0) {
            const first = failures[0]!;
            first.message = `${failures.length} of ${runs.length} runs failed; the first: ${first.message}`;
            throw first;
          }
        });
      }
    });
  }
});
