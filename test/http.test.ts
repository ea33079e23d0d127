import { expect } from 'chai';
import nock from 'nock';
import { createServer, get, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as netServer, type AddressInfo } from 'node:net';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { inspect, promisify } from 'node:util';
import { XAPIError, XCreditsDepletedError, XErrorCode, XOAuthError, XRequestError, XUsageCapError, redactCredentials, type XRawResponse } from '../lib/errors';
import { expectNoSecrets, rejectionOf } from './support/assertions';
import { withoutNock } from './support/setup';
import { fetchVerifyCredentials } from '../lib/endpoints';
import { DEFAULT_TIMEOUT_MS, MAX_RESPONSE_BYTES, invalidResponse, parseJSONObject, resolveTimeout, responseHeader, sendToX, sendToXThen, settle, type XHttpRequest } from '../lib/http';

const BASE = 'https://api.x.com';


function post(path: string, extra: Partial<XHttpRequest> = {}): XHttpRequest {
  return { method: 'POST', url: `${BASE}${path}`, body: 'a=1', operation: 'do a test call', ...extra };
}

/** Starts a server on 127.0.0.1, port 0; the caller closes it. */
async function listen(handler: (res: ServerResponse, req: IncomingMessage) => void): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => handler(res, req));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}` };
}

/** A server on 127.0.0.1 that answers `{}` to every request once its body is read, keeping `pick(req)` of each in `seen`; the caller closes it. */
async function recording<T>(pick: (req: IncomingMessage) => T): Promise<{ server: Server; url: string; seen: T[] }> {
  const seen: T[] = [];
  const { server, url } = await listen((res, req) => {
    seen.push(pick(req));
    req.resume();
    req.on('end', () => res.end('{}'));
  });
  return { server, url, seen };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A server on 127.0.0.1 that answers `status` and `body` to every request, counting its connections. */
async function answering(status: number, body: string, keepAliveTimeoutMs?: number): Promise<{ url: string; connections: () => number; stop: () => Promise<void> }> {
  let connections = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.statusCode = status;
      res.end(body);
    });
  });
  server.on('connection', () => {
    connections += 1;
  });
  // Node's server announces it in each answer, `Keep-Alive: timeout=<seconds>` (5 by default).
  if (keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = keepAliveTimeoutMs;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`, connections: () => connections, stop: () => close(server) };
}

describe('http: sendToX', () => {
  describe('the request', () => {
    it('sends method, URL, body, the caller\'s headers, accept JSON and a form content type; resolves to the 2xx answer', async () => {
      let seen: { method: string; path: string; headers: Record<string, string>; body: unknown } | undefined;
      const scope = nock(BASE)
        .post('/oauth2/token')
        .reply(function (uri, body) {
          seen = { method: this.req.method, path: uri, headers: { ...this.req.headers }, body };
          return [200, '{"ok":true}', { 'x-rate-limit-remaining': '9' }];
        });
      const raw = await sendToX(post('/oauth2/token', { headers: { authorization: 'Basic abc' } }));
      scope.done();
      expect(seen).to.deep.include({ method: 'POST', path: '/oauth2/token', body: 'a=1' });
      expect(seen!.headers).to.include({ accept: 'application/json', authorization: 'Basic abc', 'content-type': 'application/x-www-form-urlencoded' });
      expect(raw.status).to.equal(200);
      expect(raw.body).to.equal('{"ok":true}');
      expect(raw.headers.get('x-rate-limit-remaining')).to.equal('9');
    });

    it('keeps a content type the caller set', async () => {
      let contentType: string | undefined;
      const scope = nock(BASE)
        .post('/oauth2/token')
        .reply(function () {
          contentType = this.req.headers['content-type'];
          return [200, '{}'];
        });
      await sendToX(post('/oauth2/token', { headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' } }));
      scope.done();
      expect(contentType).to.equal('application/x-www-form-urlencoded;charset=UTF-8');
    });

    it('sends a GET without body or content type', async () => {
      let headers: Record<string, string> = {};
      const scope = nock(BASE)
        .get('/2/users/me')
        .query({ 'user.fields': 'id' })
        .reply(function () {
          headers = { ...this.req.headers };
          return [200, '{}'];
        });
      await sendToX({ method: 'GET', url: `${BASE}/2/users/me?user.fields=id`, operation: 'x' });
      scope.done();
      expect(headers).to.not.have.property('content-type');
    });

    it('resolves on any 2xx, an empty 204 included', async () => {
      const scope = nock(BASE).post('/2/oauth2/revoke').reply(204);
      const raw = await sendToX(post('/2/oauth2/revoke'));
      scope.done();
      expect(raw).to.include({ status: 204, body: '' });
    });

    it('uses the fetch implementation it is given', async () => {
      const calls: Array<[string, RequestInit | undefined]> = [];
      const fakeFetch: typeof fetch = async (input, init) => {
        calls.push([String(input), init]);
        return new Response('{"from":"fake"}', { status: 200 });
      };
      const raw = await sendToX(post('/x'), { fetch: fakeFetch });
      expect(raw.body).to.equal('{"from":"fake"}');
      expect(calls).to.have.length(1);
      expect(calls[0]![0]).to.equal(`${BASE}/x`);
      expect(calls[0]![1]).to.include({ method: 'POST', body: 'a=1', redirect: 'manual' });
      expect(calls[0]![1]!.signal).to.be.instanceOf(AbortSignal);
    });
  });

  describe('non-2xx answers', () => {
    it('become the typed error errorFromResponse makes, with the request\'s secrets redacted', async () => {
      const scope = nock(BASE).post('/2/oauth2/token').reply(400, { error: 'invalid_grant', error_description: 'code abcd-secret-code is spent' });
      const err = await rejectionOf(sendToX(post('/2/oauth2/token', { secrets: ['abcd-secret-code'] })));
      scope.done();
      expect(err).to.be.instanceOf(XOAuthError).and.include({ status: 400, error: 'invalid_grant' });
      expect(err.message).to.include('do a test call').and.include('[redacted]');
      expect(inspect(err, { depth: 10 })).to.not.include('abcd-secret-code');
    });

    it('are not followed when they redirect: a 302 is an error, its Location never requested', async () => {
      const elsewhere = nock('https://elsewhere.example').get('/').reply(200, '{}');
      const scope = nock(BASE).post('/oauth/request_token').reply(302, '', { location: 'https://elsewhere.example/' });
      const err = await rejectionOf(sendToX(post('/oauth/request_token')));
      scope.done();
      expect(err).to.be.instanceOf(XAPIError).and.include({ status: 302 });
      expect(elsewhere.isDone()).to.equal(false);
    });
  });

  describe('control characters in a credential', () => {
    const TOKEN = 'at-value-1234\r\nx-injected: yes';

    it('refuses a header value with CR/LF before sending, naming the header and never quoting it, with the fetch option', async () => {
      let calls = 0;
      const fakeFetch: typeof fetch = async () => {
        calls += 1;
        return new Response('{}');
      };
      const err = await rejectionOf(sendToX({ method: 'GET', url: `${BASE}/2/users/me`, operation: 'load the profile', headers: { authorization: `Bearer ${TOKEN}` }, secrets: [TOKEN] }, { fetch: fakeFetch }));
      expect(err).to.be.instanceOf(TypeError).and.not.instanceOf(XRequestError);
      expect(err.message).to.include('`authorization` header').and.include('control character');
      expectNoSecrets(err, [TOKEN]);
      expect(calls).to.equal(0);
    });

    it('refuses it over node:http too, where it would otherwise read as a network failure', async () => {
      const err = await rejectionOf(sendToX({ method: 'GET', url: `${BASE}/2/users/me`, operation: 'x', headers: { authorization: `Bearer ${TOKEN}` }, secrets: [TOKEN] }));
      expect(err).to.be.instanceOf(TypeError);
      expectNoSecrets(err, [TOKEN]);
    });

    it('allows a horizontal tab, which RFC 9110 section 5.5 permits in a field value', async () => {
      const scope = nock(BASE).get('/x').reply(200, '{}');
      await sendToX({ method: 'GET', url: `${BASE}/x`, operation: 'x', headers: { 'x-test': 'a\tb' } });
      scope.done();
    });

    it('refuses exactly the Unicode control characters (Cc) but tab: NUL, DEL and C1 too, and nothing else', async () => {
      // Every BMP code unit whose character is Cc, checked against Unicode's own category.
      let refused = 0;
      for (let unit = 0; unit <= 0xffff; unit++) {
        const ch = String.fromCharCode(unit);
        const control = unit !== 0x09 && /\p{Cc}/u.test(ch);
        if (!control && unit !== 0x00a0 && unit !== 0x0041) continue;
        const headers = { 'x-test': `a${ch}b` };
        const fakeFetch: typeof fetch = async () => new Response('{}');
        const outcome = await sendToX({ method: 'GET', url: `${BASE}/x`, operation: 'x', headers }, { fetch: fakeFetch }).then(
          () => 'sent',
          (err: Error) => (err instanceof TypeError && /control character/.test(err.message) ? 'refused' : err.message),
        );
        expect(outcome, `U+${unit.toString(16).padStart(4, '0')}`).to.equal(control ? 'refused' : 'sent');
        if (control) refused += 1;
      }
      // U+0000-U+0008, U+000A-U+001F, U+007F-U+009F.
      expect(refused).to.equal(9 + 22 + 33);
    });

    it('redacts every spelling of the secrets from the cause of a network failure', async () => {
      const pair = { id: 'client-id', secret: 'client secret/1' };
      const basic = Buffer.from('client-id:client+secret%2F1').toString('base64');
      const quoting: typeof fetch = async () => {
        throw new TypeError('fetch failed', { cause: new Error(`getaddrinfo ENOTFOUND while sending "Basic ${basic}" and Bearer ${'refresh-tok-5678'}`) });
      };
      const err = await rejectionOf(sendToX(post('/2/oauth2/token', { secrets: [pair, 'refresh-tok-5678'] }), { fetch: quoting }));
      expect(err).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.NETWORK_ERROR });
      expect(((err.cause as Error).cause as Error).message).to.equal('getaddrinfo ENOTFOUND while sending "Basic [redacted]" and Bearer [redacted]');
      expectNoSecrets(err, [pair, 'refresh-tok-5678']);
    });
  });

  describe('time-out', () => {
    it('defaults to 10 s', () => {
      expect(DEFAULT_TIMEOUT_MS).to.equal(10_000);
      expect(resolveTimeout(undefined)).to.equal(10_000);
    });

    it('rejects with X_REQUEST_TIMEOUT when the answer does not start in time, naming the URL without its query', async () => {
      const scope = nock(BASE).post('/oauth/access_token').query(true).delay(2000).reply(200, 'late');
      const started = Date.now();
      const err = await rejectionOf(sendToX(post('/oauth/access_token?oauth_verifier=verifier-value'), { timeoutMs: 60 }));
      expect(Date.now() - started).to.be.within(50, 1500);
      expect(scope.isDone()).to.equal(true);
      expect(err).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.TIMEOUT, status: undefined });
      expect(err.message).to.equal(
        'X did not answer the request to https://api.x.com/oauth/access_token to do a test call within 60 ms. X may be slow or unreachable from this server; retry, or raise `timeoutMs`.',
      );
      expect((err.cause as DOMException).name).to.equal('TimeoutError');
    });

    it('rejects with X_REQUEST_TIMEOUT when the body stalls', async () => {
      const scope = nock(BASE).post('/x').delayBody(2000).reply(200, '{"late":true}');
      const err = await rejectionOf(sendToX(post('/x'), { timeoutMs: 60 }));
      expect(scope.isDone()).to.equal(true);
      expect(err).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.TIMEOUT });
    });

    it('times out against a real server that never answers', async () => {
      const { server, url } = await listen(() => undefined);
      try {
        const err = await rejectionOf(sendToX({ method: 'POST', url: `${url}/oauth2/token`, body: '', operation: 'x' }, { timeoutMs: 80 }));
        expect(err).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.TIMEOUT });
      } finally {
        await close(server);
      }
    });

    it('cuts each of several requests in flight at its own deadline, those with one time-out and those with others, and leaves no timer behind', async () => {
      const { server, url } = await listen((res, req) => {
        if (req.url === '/fast') res.end('{}');
      });
      // The deadline timers of this test's requests (set for their time-outs), left while neither fired nor cleared.
      const timeouts = new Set([5000, 150, 80, 400, ...Array.from({ length: 10 }, (_, i) => 100 + i)]);
      const { setTimeout: realSetTimeout, clearTimeout: realClearTimeout } = globalThis;
      const running = new Set<unknown>();
      let set = 0;
      globalThis.setTimeout = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
        const timer = realSetTimeout(
          (...given: unknown[]) => {
            running.delete(timer);
            callback(...given);
          },
          ms,
          ...args,
        );
        if (ms !== undefined && timeouts.has(ms)) {
          running.add(timer);
          set += 1;
        }
        return timer;
      }) as typeof setTimeout;
      globalThis.clearTimeout = ((timer: NodeJS.Timeout | undefined) => {
        running.delete(timer);
        realClearTimeout(timer);
      }) as typeof clearTimeout;
      const settled = (timeoutMs: number, path = '/hang'): Promise<{ err: unknown; ms: number }> => {
        const started = performance.now();
        return sendToX({ method: 'GET', url: `${url}${path}`, operation: 'x' }, { timeoutMs }).then(
          () => ({ err: undefined, ms: performance.now() - started }),
          (err: unknown) => ({ err, ms: performance.now() - started }),
        );
      };
      try {
        // A request that ends before its deadline takes its timer with it.
        expect((await settled(5000, '/fast')).err).to.equal(undefined);
        expect(set).to.equal(1);
        expect(running.size).to.equal(0);
        const first = settled(150);
        await new Promise((resolve) => realSetTimeout(resolve, 60));
        // Started 60 ms later with the same time-out: cut 150 ms after its own start, not at the first one's deadline.
        const second = settled(150);
        const fast = await settled(150, '/fast');
        // Shorter and longer time-outs at the same time, a dozen of them different.
        const others = [80, 400, ...Array.from({ length: 10 }, (_, i) => 100 + i)].map((timeoutMs) => settled(timeoutMs).then((r) => ({ ...r, timeoutMs })));
        const results = [{ ...(await first), timeoutMs: 150 }, { ...(await second), timeoutMs: 150 }, ...(await Promise.all(others))];
        expect(fast.err).to.equal(undefined);
        for (const [i, { err, ms, timeoutMs }] of results.entries()) {
          expect(err, `request ${i}`).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.TIMEOUT });
          expect((err as Error).message).to.include(`within ${timeoutMs} ms`);
          expect(ms, `request ${i} (time-out ${timeoutMs} ms)`).to.be.within(timeoutMs - 5, timeoutMs + 400);
        }
        expect(set).to.be.at.least(16);
        expect(running.size).to.equal(0);
      } finally {
        globalThis.setTimeout = realSetTimeout;
        globalThis.clearTimeout = realClearTimeout;
        await close(server);
      }
    });

    const bad: unknown[] = [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '1000', null];
    for (const timeoutMs of bad) {
      it(`refuses timeoutMs ${String(timeoutMs)} with a TypeError before fetching`, async () => {
        let calls = 0;
        const fakeFetch: typeof fetch = async () => {
          calls += 1;
          return new Response('{}');
        };
        const err = await rejectionOf(sendToX(post('/x'), { timeoutMs: timeoutMs as number, fetch: fakeFetch }));
        expect(err).to.be.instanceOf(TypeError);
        expect(err.message).to.equal('passport-x: `timeoutMs` must be a positive number of milliseconds');
        expect(calls).to.equal(0);
      });
    }
  });

  describe('time-out and abort with a fetch that does not cooperate', () => {
    // A fetch given through the `fetch` option may ignore its signal, or answer a body stream that
    // no signal reaches (a wrapper, a mock): the deadline and the caller's signal must still end it.
    const ignoresSignal: typeof fetch = () => new Promise<Response>(() => undefined);
    let cancelled = 0;
    const stalledBody: typeof fetch = async () =>
      new Response(
        new ReadableStream({
          pull: () => new Promise<void>(() => undefined),
          cancel: () => void (cancelled += 1),
        }),
        { status: 200 },
      );

    it('rejects with X_REQUEST_TIMEOUT when the fetch never answers or its body stalls, and lets the stalled body go', async () => {
      for (const [name, doFetch] of [['ignores its signal', ignoresSignal], ['stalls its body', stalledBody]] as const) {
        cancelled = 0;
        const err = await rejectionOf(sendToX(post('/x'), { fetch: doFetch, timeoutMs: 50 }));
        expect(err, name).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.TIMEOUT });
        if (doFetch === stalledBody) expect(cancelled, 'the body stream cancelled').to.equal(1);
      }
    });

    it("rejects with X_REQUEST_ABORTED when the caller's signal aborts, whatever the fetch does", async () => {
      for (const doFetch of [ignoresSignal, stalledBody]) {
        const controller = new AbortController();
        const pending = sendToX(post('/x'), { fetch: doFetch, signal: controller.signal, timeoutMs: 60_000 });
        setTimeout(() => controller.abort(new Error('the page was closed')), 20);
        const err = await rejectionOf(pending);
        expect(err).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.ABORTED });
      }
    });
  });

  describe('timeoutMs out of range', () => {
    for (const timeoutMs of [2 ** 31, 2 ** 53, 1e12, 10.5, 0.5]) {
      it(`refuses timeoutMs ${timeoutMs} with a RangeError ERR_OUT_OF_RANGE before fetching`, async () => {
        let calls = 0;
        const fakeFetch: typeof fetch = async () => {
          calls += 1;
          return new Response('{}');
        };
        const err = await rejectionOf(sendToX(post('/x'), { timeoutMs, fetch: fakeFetch }));
        expect(err).to.be.instanceOf(RangeError).and.include({ code: 'ERR_OUT_OF_RANGE' });
        expect(err.message).to.match(/`timeoutMs` must be a whole number of milliseconds from 1 to 2147483647/);
        // The timers' limit is the reason for a value above it only, not for a fraction.
        if (timeoutMs > 2 ** 31 - 1) expect(err.message).to.include('cannot wait longer and would fire after 1 ms');
        else expect(err.message).to.include('timers count whole milliseconds').and.not.include('cannot wait longer');
        expect(calls).to.equal(0);
      });
    }

    it('accepts the largest time-out Node can wait, 2^31-1 ms', () => {
      expect(resolveTimeout(2 ** 31 - 1)).to.equal(2147483647);
      expect(resolveTimeout(1)).to.equal(1);
    });
  });

  describe('abort', () => {
    it('rejects with X_REQUEST_ABORTED, the abort reason as cause, when the caller aborts mid-request', async () => {
      const scope = nock(BASE).post('/x').delay(2000).reply(200, '{}');
      const controller = new AbortController();
      const reason = new Error('client disconnected');
      setTimeout(() => controller.abort(reason), 20);
      const err = await rejectionOf(sendToX(post('/x'), { signal: controller.signal }));
      expect(scope.isDone()).to.equal(true);
      expect(err).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.ABORTED });
      expect(err.message).to.equal('The request to https://api.x.com/x to do a test call was aborted by the caller.');
      expect(err.cause).to.equal(reason);
    });

    it('sends nothing when the signal is already aborted', async () => {
      const scope = nock(BASE).post('/x').reply(200, '{}');
      const err = await rejectionOf(sendToX(post('/x'), { signal: AbortSignal.abort() }));
      expect(err).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.ABORTED });
      expect(scope.isDone()).to.equal(false);
    });

    it('sends nothing with the fetch option either when the signal is already aborted, even through a fetch that ignores its signal', async () => {
      let calls = 0;
      // A wrapper that drops the signal: called, it would send the request.
      const ignoresSignal: typeof fetch = async () => {
        calls += 1;
        return new Response('{}', { status: 200 });
      };
      const reason = new Error('gone');
      const err = await rejectionOf(sendToX(post('/x'), { signal: AbortSignal.abort(reason), fetch: ignoresSignal }));
      expect(err).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.ABORTED });
      expect(err.cause).to.equal(reason);
      expect(calls, 'fetch never called').to.equal(0);
    });

    it('calls it an abort, not a time-out, when the caller aborts after a long wait', async () => {
      const scope = nock(BASE).post('/x').delay(2000).reply(200, '{}');
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 30);
      const err = await rejectionOf(sendToX(post('/x'), { signal: controller.signal, timeoutMs: 5000 }));
      expect(scope.isDone()).to.equal(true);
      expect(err).to.include({ code: XErrorCode.ABORTED });
    });
  });

  describe('network errors', () => {
    it('reject with X_NETWORK_ERROR, the failure as cause', async () => {
      // An Error instance: nock 14 emits a plain object only to fetch, not to node:http requests.
      const scope = nock(BASE).post('/x').replyWithError(Object.assign(new Error('getaddrinfo ENOTFOUND api.x.com'), { code: 'ENOTFOUND' }));
      const err = await rejectionOf(sendToX(post('/x')));
      scope.done();
      expect(err).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.NETWORK_ERROR, status: undefined });
      expect(err.message).to.equal(
        'Could not reach X at https://api.x.com/x to do a test call. Check this server\'s network, DNS and proxy settings, and the `baseURL` option.',
      );
      expect(err.cause).to.include({ code: 'ENOTFOUND' });
    });

    it('say the request was not sent, never quoting it, when a header value holds a character HTTP does not allow (node:http and fetch)', async () => {
      const token = 'AAAA\u20acBBBB-secret-bearer-0001';
      for (const options of [{}, { fetch: globalThis.fetch }]) {
        const err = await rejectionOf(sendToX({ method: 'GET', url: 'http://127.0.0.1:1/x', operation: 'x', headers: { authorization: `Bearer ${token}` }, secrets: [token] }, options));
        expect(err).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.NETWORK_ERROR });
        expect(err.message, options.fetch ? 'fetch' : 'node:http').to.include('was not sent: Node refused it');
        expect(inspect(err, { depth: 5 })).not.to.include(token);
      }
    });

    it('reject with X_NETWORK_ERROR when the connection is refused', async () => {
      const { server, url } = await listen(() => undefined);
      await close(server);
      const err = await rejectionOf(sendToX({ method: 'GET', url: `${url}/x`, operation: 'x' }));
      expect(err).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.NETWORK_ERROR });
      // node:http rejects with the socket error itself.
      expect((err.cause as NodeJS.ErrnoException).code).to.equal('ECONNREFUSED');
    });

    it('reject with X_NETWORK_ERROR, and leave no timer running, when node:http refuses the request before sending it', async () => {
      const { setTimeout: realSetTimeout, clearTimeout: realClearTimeout } = globalThis;
      const deadlines = new Set<unknown>();
      const cleared: unknown[] = [];
      globalThis.setTimeout = ((callback: () => void, ms?: number, ...args: unknown[]) => {
        const timer = realSetTimeout(callback, ms, ...args);
        if (ms === 60_000) deadlines.add(timer);
        return timer;
      }) as typeof setTimeout;
      globalThis.clearTimeout = ((timer: NodeJS.Timeout | undefined) => {
        if (deadlines.has(timer)) cleared.push(timer);
        realClearTimeout(timer);
      }) as typeof clearTimeout;
      let err: Error;
      try {
        err = await rejectionOf(sendToX({ method: 'GET', url: 'http://127.0.0.1:1/x', operation: 'x', headers: { 'no token': 'v' } }, { timeoutMs: 60_000 }));
      } finally {
        globalThis.setTimeout = realSetTimeout;
        globalThis.clearTimeout = realClearTimeout;
      }
      expect(err).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.NETWORK_ERROR });
      expect((err.cause as NodeJS.ErrnoException).code).to.equal('ERR_INVALID_HTTP_TOKEN');
      // Not sent at all: the message says so, and not to check the network.
      expect(err.message).to.include('was not sent: Node refused it').and.not.include('Check this server\'s network');
      expect(deadlines.size, 'one deadline armed').to.equal(1);
      expect(cleared, 'and cleared').to.deep.equal([...deadlines]);
    });
    it('reject an answer that is not valid HTTP with X_INVALID_RESPONSE, never with its bytes (which may hold new tokens) in the cause', async () => {
      // A 200 token answer with a header Node's parser refuses (a space before the colon).
      const issued = 'fresh-refresh-token-from-a-garbled-answer-0001';
      const body = JSON.stringify({ token_type: 'bearer', access_token: 'fresh-access-token-0001', refresh_token: issued, expires_in: 7200 });
      const server = netServer((socket) => {
        socket.once('data', () => socket.end(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Bad : 1\r\nContent-Length: ${body.length}\r\n\r\n${body}`));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/2/oauth2/token`;
        const err = await rejectionOf(sendToX({ method: 'POST', url, body: 'grant_type=refresh_token', operation: 'refresh the token' }));
        expect(err).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.INVALID_RESPONSE, status: undefined });
        expect(err.message).to.include('was not valid HTTP (Parse Error:').and.include('may be used up').and.not.include('Could not reach X');
        const cause = err.cause as NodeJS.ErrnoException & { rawPacket?: unknown };
        expect(cause.code).to.match(/^HPE_/);
        expect(cause, 'no raw bytes kept').not.to.have.property('rawPacket');
        expectNoSecrets(err, ['fresh-access-token-0001', issued]);
        // As a logger that writes the cause as JSON (pino, winston) would.
        expect(JSON.stringify({ err, cause: { ...cause } })).not.to.include(issued);
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });

    it('reject a body that is not valid HTTP after a 200 status line (a bad chunk) with X_INVALID_RESPONSE and its status, never with its bytes in the cause', async () => {
      const issued = 'fresh-refresh-token-from-a-garbled-chunk-0001';
      const part = `{"token_type":"bearer","refresh_token":"${issued}"`;
      const server = netServer((socket) => {
        socket.once('data', () => socket.end(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${part.length.toString(16)}\r\n${part}\r\nZZ\r\n}\r\n0\r\n\r\n`));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/2/oauth2/token`;
        const err = await rejectionOf(sendToX({ method: 'POST', url, body: 'grant_type=refresh_token', operation: 'refresh the token' }));
        expect(err).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.INVALID_RESPONSE, status: 200 });
        expect(err.message).to.include('with HTTP 200, but its body was not valid HTTP (Parse Error:').and.include('did reach X').and.not.include('Could not reach X');
        const cause = err.cause as NodeJS.ErrnoException & { rawPacket?: unknown };
        expect(cause.code).to.match(/^HPE_/);
        expect(cause, 'no raw bytes kept').not.to.have.property('rawPacket');
        expectNoSecrets(err, [issued]);
        expect(JSON.stringify({ err, cause: { ...cause } })).not.to.include(issued);
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });

    // The global fetch (undici) wraps its parser's error, which keeps the answer's bytes in `data`,
    // in a TypeError ("fetch failed" for the head, "terminated" for the body).
    for (const [what, answerOf] of [
      ['a header', (body: string) => `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Bad: a\x01b\r\nContent-Length: ${body.length}\r\n\r\n${body}`],
      ['a chunk size', (body: string) => `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n${body}\r\n0\r\n\r\n`],
    ] as const) {
      it(`with the \`fetch\` option too: an answer whose ${what} is not valid HTTP is X_INVALID_RESPONSE, the parser's error found under fetch's TypeError and kept without its bytes`, async () => {
        const issued = 'fresh-refresh-token-from-a-garbled-fetch-0001';
        const body = JSON.stringify({ token_type: 'bearer', access_token: 'fresh-access-token-fetch-0001', refresh_token: issued, expires_in: 7200 });
        const server = netServer((socket) => {
          socket.once('data', () => socket.end(answerOf(body)));
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        try {
          const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/2/oauth2/token`;
          const err = await rejectionOf(sendToX({ method: 'POST', url, body: 'grant_type=refresh_token', operation: 'refresh the token' }, { fetch: globalThis.fetch }));
          expect(err).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.INVALID_RESPONSE });
          expect(err.message).to.match(/not valid HTTP \(Response does not match the HTTP\/1\.1 protocol/).and.include('did reach').and.not.include('Could not reach X');
          const cause = err.cause as NodeJS.ErrnoException & { data?: unknown };
          expect(cause.code).to.match(/^HPE_/);
          expect(cause, 'no raw bytes kept').not.to.have.property('data');
          expect(cause.cause, "fetch's wrapper dropped").to.equal(undefined);
          // Every view of the error and its causes: message, stack, JSON, util.inspect (as console.error prints it).
          expectNoSecrets(err, ['fresh-access-token-fetch-0001', issued]);
        } finally {
          await new Promise<void>((resolve) => server.close(() => resolve()));
        }
      });
    }

  });

  describe('size cap', () => {
    it(`accepts an answer of exactly ${MAX_RESPONSE_BYTES} bytes`, async () => {
      const scope = nock(BASE).post('/x').reply(200, 'a'.repeat(MAX_RESPONSE_BYTES));
      const raw = await sendToX(post('/x'));
      scope.done();
      expect(raw.body).to.have.length(MAX_RESPONSE_BYTES);
    });

    it('refuses an answer whose content-length is over the cap, without reading it', async () => {
      let pulled = 0;
      const fakeFetch: typeof fetch = async () =>
        new Response(
          new ReadableStream<Uint8Array>({
            pull(controller) {
              pulled += 1;
              controller.enqueue(new Uint8Array(1024));
            },
          }),
          { status: 200, headers: { 'content-length': String(MAX_RESPONSE_BYTES + 1) } },
        );
      const err = await rejectionOf(sendToX(post('/x'), { fetch: fakeFetch }));
      expect(err).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.RESPONSE_TOO_LARGE, status: 200 });
      expect(err.message).to.equal(`X's answer from https://api.x.com/x was larger than ${MAX_RESPONSE_BYTES} bytes; refusing it.`);
      // At most what the stream queued before it was cancelled.
      expect(pulled).to.be.below(4);
    });

    it('stops reading a streamed answer as soon as it passes the cap', async () => {
      let sent = 0;
      const chunk = new Uint8Array(64 * 1024);
      const fakeFetch: typeof fetch = async () =>
        new Response(
          new ReadableStream<Uint8Array>({
            pull(controller) {
              sent += chunk.byteLength;
              controller.enqueue(chunk);
            },
          }),
          { status: 200 },
        );
      const err = await rejectionOf(sendToX(post('/x'), { fetch: fakeFetch }));
      expect(err).to.include({ code: XErrorCode.RESPONSE_TOO_LARGE });
      expect(sent).to.be.within(MAX_RESPONSE_BYTES, MAX_RESPONSE_BYTES + 4 * chunk.byteLength);
    });

    it('applies to error answers too, and to a real server streaming without end', async () => {
      let written = 0;
      const { server, url } = await listen((res) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        const chunk = Buffer.alloc(64 * 1024, 'x');
        const pump = (): void => {
          while (!res.destroyed && written < 64 * MAX_RESPONSE_BYTES) {
            written += chunk.length;
            if (!res.write(chunk)) {
              res.once('drain', pump);
              return;
            }
          }
        };
        pump();
      });
      try {
        const err = await rejectionOf(sendToX({ method: 'GET', url: `${url}/x`, operation: 'x' }));
        expect(err).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.RESPONSE_TOO_LARGE, status: 500 });
        expect(written).to.be.below(64 * MAX_RESPONSE_BYTES);
      } finally {
        await close(server);
      }
    });
  });
});

describe('http: connections to X', () => {
  withoutNock();

  it('reuses one kept-alive connection for successive requests', async () => {
    const x = await answering(200, '{}');
    try {
      for (let i = 0; i < 5; i++) await sendToX({ method: i % 2 ? 'GET' : 'POST', url: x.url, operation: 'x', ...(i % 2 ? {} : { body: 'a=1' }) });
      expect(x.connections()).to.equal(1);
    } finally {
      await x.stop();
    }
  });

  it('reads X\'s Keep-Alive hint as Node\'s agent does: a connection announced to close within 1 s is not reused, one with 2 s or more is', async () => {
    for (const [keepAliveTimeoutMs, connections] of [
      [1000, 3],
      [2000, 1],
    ] as const) {
      const x = await answering(200, '{}', keepAliveTimeoutMs);
      try {
        for (let i = 0; i < 3; i++) await sendToX({ method: 'GET', url: x.url, operation: 'x' });
        expect(x.connections(), `Keep-Alive: timeout=${keepAliveTimeoutMs / 1000}`).to.equal(connections);
      } finally {
        await x.stop();
      }
    }
  });

  it('sends what the URL names (host, port, path with its query, and its user info as Basic credentials when no authorization is given), over both clients', async () => {
    const { server, url: origin, seen } = await recording((req) => ({ url: req.url, host: req.headers.host, authorization: req.headers.authorization }));
    const { port } = new URL(origin);
    try {
      // fetch refuses a URL with user info, quoting it whole: it is sent without it, as over node:http.
      for (const client of [{}, { fetch }]) {
        await sendToX({ method: 'GET', url: `http://u%20ser:p%40ss@127.0.0.1:${port}/2/users/me?user.fields=id`, operation: 'x' }, client);
        await sendToX({ method: 'GET', url: `http://u:p@127.0.0.1:${port}/y`, operation: 'x', headers: { Authorization: 'Bearer own' } }, client);
        await sendToX({ method: 'GET', url: `http://127.0.0.1:${port}/z?at=a@b`, operation: 'x' }, client);
        await sendToX({ method: 'POST', url: `http://client:s3cret@127.0.0.1:${port}/2/oauth2/token`, operation: 'x', body: 'a=1' }, client);
      }
      const once = [
        { url: '/2/users/me?user.fields=id', host: `127.0.0.1:${port}`, authorization: `Basic ${Buffer.from('u ser:p@ss').toString('base64')}` },
        { url: '/y', host: `127.0.0.1:${port}`, authorization: 'Bearer own' },
        { url: '/z?at=a@b', host: `127.0.0.1:${port}`, authorization: undefined },
        { url: '/2/oauth2/token', host: `127.0.0.1:${port}`, authorization: `Basic ${Buffer.from('client:s3cret').toString('base64')}` },
      ];
      expect(seen, 'node:http, then fetch').to.deep.equal([...once, ...once]);
    } finally {
      await close(server);
    }
  });

  it('never puts the user info of a URL in an error, over either client', async () => {
    // A port nothing listens on any more: the connection is refused.
    const { server, url } = await listen(() => undefined);
    await close(server);
    const { port } = new URL(url);
    for (const client of [{}, { fetch }]) {
      const err = await rejectionOf(sendToX({ method: 'POST', url: `http://proxyuser:s3cret-pass@127.0.0.1:${port}/2/oauth2/token`, operation: 'refresh a token', body: 'a=1' }, client));
      expect(err).to.be.instanceOf(XRequestError).and.include({ code: 'X_NETWORK_ERROR' });
      expect(err.message).to.include(`Could not reach X at http://127.0.0.1:${port}/2/oauth2/token`);
      expectNoSecrets(err, ['s3cret-pass']);
    }
  });

  it('sends each header once: the request\'s own Host, accept, user-agent and content-type replace the defaults, whatever their case, over both clients', async () => {
    const { server, url: origin, seen } = await recording((req) => req.rawHeaders);
    const url = `${origin}/t`;
    const names = (raw: string[]): string[] => raw.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    const value = (raw: string[], name: string): string | undefined => raw[raw.findIndex((n, i) => i % 2 === 0 && n.toLowerCase() === name) + 1];
    try {
      await sendToX({ method: 'POST', url, operation: 'x', body: 'é=1', headers: { Host: 'api.x.com', Accept: 'text/plain', 'User-Agent': 'mine/1', 'Content-Type': 'application/json' } });
      await sendToX({ method: 'POST', url, operation: 'x', body: 'é=1' });
      // fetch too (it sets Host itself): the request's own names, in any case, replace the defaults.
      await sendToX({ method: 'POST', url, operation: 'x', body: 'é=1', headers: { Accept: 'text/plain', 'User-Agent': 'mine/1', 'Content-Type': 'application/json' } }, { fetch });
      const [own, defaults, fetched] = seen as [string[], string[], string[]];
      for (const raw of seen) expect(new Set(names(raw)).size, `no header twice in ${raw.join(' ')}`).to.equal(names(raw).length);
      expect(value(own, 'host')).to.equal('api.x.com');
      expect(value(own, 'accept')).to.equal('text/plain');
      expect(value(own, 'user-agent')).to.equal('mine/1');
      expect(value(own, 'content-type')).to.equal('application/json');
      expect(value(own, 'content-length'), 'bytes, not characters').to.equal('4');
      expect(value(defaults, 'host')).to.equal(new URL(url).host);
      expect(value(defaults, 'accept')).to.equal('application/json');
      expect(value(defaults, 'user-agent')).to.equal('passport-x');
      expect(value(defaults, 'content-type')).to.equal('application/x-www-form-urlencoded');
      expect([value(fetched, 'accept'), value(fetched, 'user-agent'), value(fetched, 'content-type'), value(fetched, 'content-length')]).to.deep.equal(['text/plain', 'mine/1', 'application/json', '4']);
    } finally {
      await close(server);
    }
  });

  it('sends an empty POST (an OAuth 1.0a request or access token) with content-length 0, as fetch does, never chunked; a GET with neither', async () => {
    const { server, url: origin, seen } = await recording((req) => ({ method: req.method, 'content-length': req.headers['content-length'], 'transfer-encoding': req.headers['transfer-encoding'] }));
    const url = `${origin}/oauth/request_token`;
    try {
      for (const client of [{}, { fetch }]) {
        await sendToX({ method: 'POST', url, operation: 'get a request token', headers: { authorization: 'OAuth oauth_consumer_key="k"' } }, client);
        await sendToX({ method: 'GET', url, operation: 'x' }, client);
      }
      const post = { method: 'POST', 'content-length': '0', 'transfer-encoding': undefined };
      const get = { method: 'GET', 'content-length': undefined, 'transfer-encoding': undefined };
      expect(seen, 'node:http, then fetch').to.deep.equal([post, get, post, get]);
    } finally {
      await close(server);
    }
  });

  it('rejects, never throws into node:http\'s events, when making the error of an answer fails', async () => {
    const { server, url } = await listen((res) => {
      res.statusCode = 400;
      res.end('{"error":"invalid_request"}');
    });
    const broken = new Error('a secret that cannot be read');
    const secret = {
      id: 'client',
      get secret(): string {
        throw broken;
      },
    };
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown): void => void uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      const err = await rejectionOf(sendToX({ method: 'GET', url: `${url}/x`, operation: 'x', secrets: [secret] }));
      expect(err).to.equal(broken);
      expect(uncaught).to.deep.equal([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      await close(server);
    }
  });

  it('gives each answer Headers filled on first read that behave as the Headers of its raw header list', async () => {
    const rawHeaders = ['Content-Type', 'application/json', 'X-Access-Level', 'read', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'X-Dup', 'one', 'x-dup', 'two'];
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.sendDate = false;
        res.writeHead(200, rawHeaders);
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
    const read = async (): Promise<XRawResponse> => sendToX({ method: 'GET', url, operation: 'x' });
    const entries = (h: Headers): Array<[string, string]> => Array.from(h as unknown as Iterable<[string, string]>);
    try {
      // The reference: Headers filled at once from what Node received, as answers had before.
      const reference = await new Promise<Headers>((resolve, reject) => {
        get(url, (res) => {
          res.resume();
          const headers = new Headers();
          for (let i = 0; i < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
          res.on('end', () => resolve(headers));
        }).on('error', reject);
      });
      const first = await read();
      expect(first.headers).to.be.instanceOf(Headers);
      // Read through the fast path first: it must see what get() sees, before and after the fill.
      expect(responseHeader(first, 'x-access-level')).to.equal('read');
      expect(responseHeader(first, 'x-dup')).to.equal('one, two');
      expect(responseHeader(first, 'absent')).to.equal(null);
      expect(first.headers.get('x-dup')).to.equal('one, two');
      expect(responseHeader(first, 'x-dup')).to.equal('one, two');
      expect(first.headers.getSetCookie()).to.deep.equal(['a=1', 'b=2']);
      expect(first.headers.has('content-type')).to.equal(true);
      // Each way of reading fills it, on an answer nothing read before.
      const ways: Array<[string, (h: Headers) => unknown]> = [
        ['iteration', (h) => entries(h)],
        ['entries', (h) => Array.from((h as unknown as { entries(): Iterable<[string, string]> }).entries())],
        ['keys', (h) => Array.from((h as unknown as { keys(): Iterable<string> }).keys())],
        ['values', (h) => Array.from((h as unknown as { values(): Iterable<string> }).values())],
        ['forEach', (h) => {
          const seen: string[] = [];
          h.forEach((v, k) => seen.push(`${k}=${v}`));
          return seen;
        }],
        ['util.inspect', (h) => inspect(h)],
        ['new Headers(h)', (h) => entries(new Headers(h))],
        ['get', (h) => h.get('x-access-level')],
        ['getSetCookie', (h) => h.getSetCookie()],
      ];
      for (const [way, readWay] of ways) expect(readWay((await read()).headers), way).to.deep.equal(readWay(reference));
      // Writes apply to the filled list.
      const raw = await read();
      raw.headers.set('x-dup', 'three');
      raw.headers.append('x-new', 'n');
      raw.headers.delete('content-type');
      expect([raw.headers.get('x-dup'), raw.headers.get('x-new'), raw.headers.get('content-type'), raw.headers.get('x-access-level')]).to.deep.equal(['three', 'n', null, 'read']);
      // responseHeader reads the Headers once they are made, writes included.
      expect(responseHeader(raw, 'x-dup')).to.equal('three');
      expect(responseHeader(raw, 'content-type')).to.equal(null);
      // What an app sees of an answer, an error's response, is a plain object: a spread copy keeps its headers.
      const attached = invalidResponse(await read(), 'read x', 'a test body').response!;
      expect(Object.keys(attached).sort()).to.deep.equal(['body', 'headers', 'status']);
      expect({ ...attached }.headers.get('x-access-level')).to.equal('read');
      expect(entries({ ...attached }.headers)).to.deep.equal(entries(reference));
    } finally {
      await close(server);
    }
  });

  it('signs users in (both strategies) without loading Node\'s undici: no WHATWG Headers per answer', async function () {
    this.timeout(60_000);
    // In a process of its own: this one has loaded undici long ago (nock, fetch in other tests).
    const { stdout } = await promisify(execFile)(process.execPath, ['--require', 'tsx/cjs', join(__dirname, 'support', 'undici-probe.ts')], { cwd: join(__dirname, '..') });
    // Undici loads when `Headers` is read (the probe can see it), and not before, nor for the sign-ins.
    expect(JSON.parse(stdout)).to.deep.equal({ before: false, afterSignIns: false, afterHeaders: true });
  });

  it('does not resend a POST whose kept-alive connection was reset: X may have seen it', async () => {
    let posts = 0;
    const server = createServer((req, res) => {
      const socket = req.socket as typeof req.socket & { served?: number };
      socket.served = (socket.served ?? 0) + 1;
      if (socket.served > 1) return void socket.destroy();
      if (req.method === 'POST') posts += 1;
      req.resume();
      req.on('end', () => res.end('{}'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
    try {
      await sendToX({ method: 'GET', url, operation: 'x' });
      const err = await rejectionOf(sendToX({ method: 'POST', url, operation: 'exchange a code', body: 'code=c' }));
      expect(err).to.include({ code: XErrorCode.NETWORK_ERROR });
      expect(posts).to.equal(0);
    } finally {
      await close(server);
    }
  });

  it('never resends a request X refused for billing: a 402 or a usage cap is asked once, by both clients', async () => {
    const answers: Record<string, [number, string]> = {
      '/credits': [402, '{"title":"CreditsDepleted","detail":"Your enrolled account [1] does not have any credits to fulfill this request.","type":"https://api.twitter.com/2/problems/credits"}'],
      '/cap': [429, '{"title":"UsageCapExceeded","detail":"Usage cap exceeded: Monthly product cap","type":"https://api.twitter.com/2/problems/usage-capped"}'],
    };
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      const [status, body] = answers[req.url ?? ''] ?? [404, ''];
      req.resume();
      req.on('end', () => res.writeHead(status, { 'content-type': 'application/json', 'x-rate-limit-remaining': '74' }).end(body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (const client of [{}, { fetch }]) {
        for (const method of ['GET', 'POST'] as const) {
          const body = method === 'POST' ? { body: 'a=1' } : {};
          expect(await rejectionOf(sendToX({ method, url: `${origin}/credits`, operation: 'x', ...body }, client))).to.be.instanceOf(XCreditsDepletedError);
          expect(await rejectionOf(sendToX({ method, url: `${origin}/cap`, operation: 'x', ...body }, client))).to.be.instanceOf(XUsageCapError);
        }
      }
      expect(seen).to.deep.equal(Array.from({ length: 2 }, () => ['GET /credits', 'GET /cap', 'POST /credits', 'POST /cap']).flat());
    } finally {
      await close(server);
    }
  });

  it('retries once, on a fresh connection, when a kept-alive connection is closed as it is reused', async () => {
    let connections = 0;
    let served = 0;
    const server = createServer((req, res) => {
      const socket = req.socket as typeof req.socket & { served?: number };
      socket.served = (socket.served ?? 0) + 1;
      // The second request on a connection finds it closed, as when X drops an idle connection.
      if (socket.served > 1) return void socket.destroy();
      served += 1;
      req.resume();
      req.on('end', () => res.end(`{"n":${served}}`));
    });
    server.on('connection', () => {
      connections += 1;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
    try {
      expect((await sendToX({ method: 'GET', url, operation: 'x' })).body).to.equal('{"n":1}');
      expect((await sendToX({ method: 'GET', url, operation: 'x' })).body).to.equal('{"n":2}');
      expect(connections).to.equal(2);
    } finally {
      await close(server);
    }
  });

  it('signs a resent OAuth 1.0a GET again: a fresh nonce, never the one X may already have seen (RFC 5849 section 3.3)', async () => {
    const nonces: string[] = [];
    const server = createServer((req, res) => {
      nonces.push(/oauth_nonce="([^"]+)"/.exec(req.headers.authorization ?? '')?.[1] ?? 'none');
      const socket = req.socket as typeof req.socket & { served?: number };
      socket.served = (socket.served ?? 0) + 1;
      // The second request on the kept-alive connection reached X, then the connection was reset.
      if (socket.served > 1) return void socket.resetAndDestroy();
      res.setHeader('content-type', 'application/json');
      res.end('{"id_str":"1","screen_name":"a"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/1.1/account/verify_credentials.json`;
    const consumer = { consumerKey: 'ck', consumerSecret: 'cs-secret' };
    const token = { token: 'at-token', tokenSecret: 'as-secret' };
    try {
      await fetchVerifyCredentials(url, consumer, token, {});
      expect((await fetchVerifyCredentials(url, consumer, token, {})).json).to.deep.equal({ id_str: '1', screen_name: 'a' });
      expect(nonces, 'three requests: the first, the one reset, its resend').to.have.length(3);
      expect(new Set(nonces).size, 'each with its own nonce').to.equal(3);
    } finally {
      await close(server);
    }
  });
});

describe('http: parseJSONObject and invalidResponse', () => {
  const raw = (body: string): XRawResponse => ({ status: 200, headers: new Headers(), body });

  it('returns a JSON object', () => {
    expect(parseJSONObject(raw('{"a":1}'), 'x')).to.deep.equal({ a: 1 });
  });

  const invalid: Array<[string, string, string]> = [
    ['not JSON', 'oauth_token=secret-token-value', 'a body that is not JSON'],
    ['a JSON array', '[1]', 'JSON that is not an object'],
    ['JSON null', 'null', 'JSON that is not an object'],
    ['a JSON string', '"s"', 'JSON that is not an object'],
  ];
  for (const [what, body, says] of invalid) {
    it(`throws X_INVALID_RESPONSE for ${what}`, () => {
      let thrown: unknown;
      try {
        parseJSONObject(raw(body), 'get a token');
      } catch (err) {
        thrown = err;
      }
      expect(thrown).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.INVALID_RESPONSE, status: 200 });
      expect((thrown as Error).message).to.equal(
        `X answered the request to get a token with ${says}, which is not what X documents. A proxy may be rewriting answers, or \`baseURL\` points somewhere else than X.`,
      );
      // The answer is attached, with any credential in it redacted (X answered 2xx: it may be live).
      expect((thrown as XRequestError).response?.body).to.equal(redactCredentials(body));
      expect((thrown as XRequestError).response?.body).to.not.include('secret-token-value');
    });
  }

  it('keeps a SyntaxError as cause that does not quote the body (it may hold a token)', () => {
    let thrown: XRequestError | undefined;
    try {
      parseJSONObject(raw('{"access_token":"secret-token-value" oops}'), 'x');
    } catch (err) {
      thrown = err as XRequestError;
    }
    expect(thrown!.cause).to.be.instanceOf(SyntaxError);
    expect((thrown!.cause as Error).message).to.match(/^The body is not valid JSON/);
    expect(inspect(thrown, { depth: 10 })).to.not.match(/secret|token-val/);
  });

  it('invalidResponse attaches the answer and the cause', () => {
    const cause = new Error('why');
    const e = invalidResponse(raw('x'), 'op', 'something odd', cause);
    expect(e).to.include({ code: XErrorCode.INVALID_RESPONSE, status: 200 });
    expect(e.cause).to.equal(cause);
    expect(e.response?.body).to.equal('x');
  });
});

/** Runs `fn` and collects what reaches uncaughtException, unhandledRejection and process warnings until the event loop settles. */
async function escapes(fn: () => void, until: (seen: { uncaught: unknown[]; warnings: Error[] }) => boolean = () => true): Promise<{ uncaught: unknown[]; warnings: Error[] }> {
  const uncaught: unknown[] = [];
  const warnings: Error[] = [];
  const saved = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  const onUncaught = (err: unknown): void => void uncaught.push(err);
  const onRejection = (err: unknown): void => void uncaught.push(err);
  const onWarning = (w: Error): void => void warnings.push(w);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onRejection);
  process.on('warning', onWarning);
  try {
    fn();
    // Until what the test waits for happened (a real request takes a while), then a little longer for anything that would escape.
    for (const deadline = Date.now() + 5000; !until({ uncaught, warnings }) && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onRejection);
    process.off('warning', onWarning);
    for (const l of saved) process.on('uncaughtException', l);
  }
  return { uncaught, warnings };
}

describe('http: settle', () => {
  it('hands a value to the callback', async () => {
    const value = await new Promise<unknown>((resolve, reject) => settle(Promise.resolve(7), resolve, reject));
    expect(value).to.equal(7);
  });

  it('hands an Error through unchanged, and wraps anything else in an XError', async () => {
    const boom = new XRequestError(XErrorCode.TIMEOUT, 'late');
    const err1 = await new Promise<Error>((resolve) => settle(Promise.reject(boom), () => undefined, resolve));
    expect(err1).to.equal(boom);
    const err2 = await new Promise<Error>((resolve) => settle(Promise.reject('text'), () => undefined, resolve));
    expect(err2).to.be.instanceOf(Error).and.include({ message: 'text' });
  });

  it('routes a throw in the value callback to the error callback, never to uncaughtException', async () => {
    const routed: Error[] = [];
    const { uncaught } = await escapes(() =>
      settle(
        Promise.resolve(1),
        () => {
          throw new Error('from the callback');
        },
        (err) => routed.push(err),
      ),
    );
    expect(uncaught).to.deep.equal([]);
    expect(routed).to.have.length(1);
    expect(routed[0]).to.include({ message: 'from the callback' });
  });

  it('reports a throw in the error callback as a process warning, never as an uncaught exception', async () => {
    const { uncaught, warnings } = await escapes(() =>
      settle(Promise.reject(new Error('X down')), () => undefined, () => {
        throw new Error('the error path threw');
      }),
    );
    expect(uncaught).to.deep.equal([]);
    const ours = warnings.filter((w) => (w as Error & { code?: string }).code === 'PASSPORT_X_CALLBACK_THREW');
    expect(ours).to.have.length(1);
    expect(ours[0]!.message).to.include('the error path threw');
  });
});

describe('http: sendToXThen', () => {
  withoutNock();

  it('calls onAnswer with the 2xx answer on a later tick, never from within the call', async () => {
    const x = await answering(200, '{"ok":true}');
    try {
      let returned = false;
      const answer = await new Promise<XRawResponse>((resolve, reject) => {
        sendToXThen(
          { method: 'GET', url: x.url, operation: 'x' },
          {},
          (raw) => (returned ? resolve(raw) : reject(new Error('called back synchronously'))),
          reject,
        );
        returned = true;
      });
      expect(answer).to.include({ status: 200, body: '{"ok":true}' });
    } finally {
      await x.stop();
    }
  });

  it('calls onError, on a later tick and with nothing sent, for what sendToX refuses before sending', async () => {
    const x = await answering(200, '{}');
    try {
      let returned = false;
      const bad = (options: Parameters<typeof sendToXThen>[1], headers?: Record<string, string>): Promise<Error> =>
        new Promise<Error>((resolve, reject) => {
          returned = false;
          sendToXThen({ method: 'GET', url: x.url, operation: 'x', ...(headers ? { headers } : {}) }, options, () => reject(new Error('answered')), (err) =>
            returned ? resolve(err) : reject(new Error('called back synchronously')),
          );
          returned = true;
        });
      expect(await bad({ timeoutMs: -1 })).to.be.instanceOf(TypeError);
      const control = await bad({}, { authorization: 'Bearer abc\r\nx-injected: 1' });
      expect(control).to.be.instanceOf(TypeError);
      expect(control.message).to.include('`authorization` header').and.not.include('abc');
      expect(x.connections()).to.equal(0);
    } finally {
      await x.stop();
    }
  });

  it('calls onError with the typed error of a non-2xx answer', async () => {
    const x = await answering(401, '{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}');
    try {
      const err = await new Promise<Error>((resolve, reject) => sendToXThen({ method: 'GET', url: x.url, operation: 'x' }, {}, () => reject(new Error('answered')), resolve));
      expect(err).to.be.instanceOf(XAPIError).and.include({ status: 401 });
    } finally {
      await x.stop();
    }
  });

  it('sends a request made from onAnswer on the connection the answer came on: one connection for a chain of requests', async () => {
    const x = await answering(200, '{}');
    try {
      const statuses: number[] = [];
      await new Promise<void>((resolve, reject) => {
        const next = (): void =>
          sendToXThen(
            { method: statuses.length % 2 ? 'POST' : 'GET', url: x.url, operation: 'x', ...(statuses.length % 2 ? { body: 'a=1' } : {}) },
            {},
            (raw) => {
              statuses.push(raw.status);
              if (statuses.length < 4) next();
              else resolve();
            },
            reject,
          );
        next();
      });
      expect(statuses).to.deep.equal([200, 200, 200, 200]);
      expect(x.connections()).to.equal(1);
    } finally {
      await x.stop();
    }
  });

  it('goes through the `fetch` option when given', async () => {
    const x = await answering(200, '{"via":"fetch"}');
    try {
      let fetched = 0;
      const counting: typeof fetch = (input, init) => {
        fetched += 1;
        return fetch(input, init);
      };
      const raw = await new Promise<XRawResponse>((resolve, reject) => sendToXThen({ method: 'GET', url: x.url, operation: 'x' }, { fetch: counting }, resolve, reject));
      expect(raw.body).to.equal('{"via":"fetch"}');
      expect(fetched).to.equal(1);
    } finally {
      await x.stop();
    }
  });

  it('routes a throw in onAnswer to onError, and reports a throw in onError as a process warning; nothing reaches uncaughtException', async () => {
    const x = await answering(200, '{}');
    try {
      const routed: Error[] = [];
      const first = await escapes(() =>
        sendToXThen(
          { method: 'GET', url: x.url, operation: 'x' },
          {},
          () => {
            throw new Error('from onAnswer');
          },
          (err) => routed.push(err),
        ),
        () => routed.length > 0,
      );
      expect(first.uncaught).to.deep.equal([]);
      expect(routed.map((e) => e.message)).to.deep.equal(['from onAnswer']);

      const second = await escapes(() =>
        sendToXThen(
          { method: 'GET', url: x.url, operation: 'x' },
          {},
          () => {
            throw new Error('from onAnswer again');
          },
          () => {
            throw new Error('the error path threw');
          },
        ),
        (seen) => seen.warnings.length > 0,
      );
      expect(second.uncaught).to.deep.equal([]);
      const ours = second.warnings.filter((w) => (w as Error & { code?: string }).code === 'PASSPORT_X_CALLBACK_THREW');
      expect(ours).to.have.length(1);
      expect(ours[0]!.message).to.include('the error path threw');
    } finally {
      await x.stop();
    }
  });
});

describe('http: an answer node:http hands over as an upgrade (101 Switching Protocols)', () => {
  // Node's own node:http, as in an app: nock's interceptor handles an upgrade its own way.
  withoutNock();

  /** A server on 127.0.0.1 that answers every request with 101 Switching Protocols and an Upgrade header, then `after`. */
  async function switchingProtocols(after: 'stay open' | 'close'): Promise<{ url: string; stop: () => Promise<void> }> {
    const sockets = new Set<import('node:net').Socket>();
    const server = netServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.once('data', () => {
        socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
        if (after === 'close') socket.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      stop: async () => {
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  }

  for (const after of ['stay open', 'close'] as const) {
    for (const method of ['GET', 'POST'] as const) {
      it(`fails a ${method} answered 101 Switching Protocols (the connection left to ${after}) at once with X_INVALID_RESPONSE, not at its deadline`, async () => {
        const x = await switchingProtocols(after);
        try {
          const started = Date.now();
          const request: XHttpRequest = method === 'GET' ? { method, url: `${x.url}/2/users/me`, operation: 'load the profile', headers: { authorization: 'Bearer access-token-of-101' } } : post('', { url: `${x.url}/2/oauth2/token`, body: 'refresh_token=refresh-token-of-101' });
          const err = await rejectionOf(sendToX(request, { timeoutMs: 30_000 }));
          expect(err).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.INVALID_RESPONSE, status: undefined });
          expect(err.message).to.include('was not valid HTTP (101 Switching Protocols').and.include('may be used up');
          expect(Date.now() - started, 'failed at once').to.be.below(5_000);
          expectNoSecrets(err, ['access-token-of-101', 'refresh-token-of-101']);
        } finally {
          await x.stop();
        }
      });
    }
  }

  it('ends an exchange at its deadline even when node:http destroyed the request without an event', async () => {
    // Without its 'upgrade' listener, node:http answers a 101 by destroying the request silently:
    // no 'response', no 'error'. The deadline must still end the exchange, and so must an abort.
    const x = await switchingProtocols('stay open');
    // Each request node:http makes, as the exchange gets it, ignores an 'upgrade' listener. Patched on
    // the instance: whatever class a test library left as `http.ClientRequest`, this is the request sent.
    const httpModule = require('node:http') as typeof import('node:http');
    const realRequest = httpModule.request;
    let silenced = 0;
    httpModule.request = function (this: unknown, ...args: unknown[]) {
      const req = (realRequest as (...a: unknown[]) => import('node:http').ClientRequest).apply(this, args);
      const realOn = req.on;
      req.on = function (this: import('node:http').ClientRequest, event: string | symbol, listener: (...a: unknown[]) => void) {
        if (event !== 'upgrade') return realOn.call(this, event, listener);
        silenced += 1;
        return this;
      } as typeof realOn;
      return req;
    } as typeof realRequest;
    try {
      const timedOut = await rejectionOf(sendToX({ method: 'GET', url: `${x.url}/2/users/me`, operation: 'load the profile' }, { timeoutMs: 200 }));
      expect(timedOut).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.TIMEOUT });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const aborted = await rejectionOf(sendToX({ method: 'GET', url: `${x.url}/2/users/me`, operation: 'load the profile' }, { timeoutMs: 30_000, signal: controller.signal }));
      expect(aborted).to.be.instanceOf(XRequestError).and.include({ code: XErrorCode.ABORTED });
      expect(silenced, 'both requests went without their upgrade listener').to.equal(2);
    } finally {
      httpModule.request = realRequest;
      await x.stop();
    }
  });
});
