// The emulator as a whole: starting and stopping, fixtures and options, the router, fault
// injection, the request log, and what happens when something goes wrong inside it.
import { expect } from 'chai';
import dns from 'node:dns';
import { connect } from 'node:net';
import { ServerResponse, request, type Server } from 'node:http';
import { fetchUsersMe, requestOAuth2Token, xEndpoints } from '../../lib/endpoints';
import { XErrorCode, XRateLimitError, XRequestError } from '../../lib/errors';
import { oauth1AuthorizationHeader } from '../../lib/oauth1-signature';
import { DEFAULT_CALLBACK_URLS, presetFault, startXEmulator, X_EMULATOR_FAULT_PRESETS, type XEmulator, type XEmulatorFaultPreset, type XEmulatorOptions } from '../../lib/testing';
import { TokenStore } from '../../lib/testing/token-store';
import { authorizeURL, CALLBACK, consent, expectXError, rawRequest, RFC7636_VERIFIER, signedFetch } from './emulator-client';
import { warningsDuring } from '../support/warnings';

describe('emulator', () => {
  let x: XEmulator;

  beforeEach(async () => {
    x = await startXEmulator();
  });
  afterEach(() => x.close());

  /** A user access token, through the consent page. */
  async function userAccessToken(emulator: XEmulator = x): Promise<string> {
    const location = await consent(authorizeURL(emulator, {}));
    const client = { clientID: emulator.apps.confidential.clientID, clientSecret: emulator.apps.confidential.clientSecret };
    const grant = { grant_type: 'authorization_code', code: location.searchParams.get('code')!, redirect_uri: CALLBACK, code_verifier: RFC7636_VERIFIER };
    return (await requestOAuth2Token(xEndpoints(emulator.baseURL).oauth2Token, client, grant, {}, 'exchange the code')).tokens.accessToken;
  }

  describe('startXEmulator', () => {
    it('listens on 127.0.0.1 on a free port, and gives the URLs to hand to the strategies', () => {
      expect(x.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(x.baseURL).to.equal(x.url);
      expect(x.authorizationURL).to.equal(`${x.url}/i/oauth2/authorize`);
    });

    it('has readable default fixtures: one OAuth 1.0a app, a confidential and a public OAuth 2.0 client, two users', () => {
      expect(x.apps.oauth1).to.include({ consumerKey: 'emulator-consumer-key', consumerSecret: 'emulator-consumer-secret', accessLevel: 'read-write', requestEmail: true });
      for (const app of [x.apps.oauth1, x.apps.confidential, x.apps.public]) {
        expect(app.callbackURLs, 'X\'s advice for local development').to.deep.equal(['http://127.0.0.1:3000/auth/x/callback', 'http://127.0.0.1:3000/auth/x/oauth1/callback']);
      }
      expect(x.apps.confidential).to.include({ clientID: 'emulator-confidential-client-id', clientSecret: 'emulator-confidential-client-secret' });
      expect(x.apps.public).to.include({ clientID: 'emulator-public-client-id' });
      expect(x.apps.public.clientSecret).to.equal(undefined);
      expect(x.users.map((u) => u.username)).to.deep.equal(['ada', 'grace']);
      expect(x.users[0].email).to.equal('ada@example.com');
      expect(x.users[1]!.email).to.equal(undefined);
      expect(x.users[0].profileImageURL).to.equal(`${x.url}/profile_images/${x.users[0].id}.svg`);
    });

    it('exposes frozen fixtures, so a test cannot change the emulator behind its back', () => {
      expect(Object.isFrozen(x.apps)).to.equal(true);
      expect(Object.isFrozen(x.apps.oauth1)).to.equal(true);
      expect(Object.isFrozen(x.users)).to.equal(true);
      expect(Object.isFrozen(x.users[0])).to.equal(true);
    });

    it('replaces fixtures with the users and apps options, without changing the objects given', async () => {
      const users = [Object.freeze({ id: '42', username: 'marvin', name: 'Marvin', email: 'marvin@example.com' })];
      const options: XEmulatorOptions = Object.freeze({
        users,
        apps: Object.freeze({ public: Object.freeze({ name: 'My SPA', clientID: 'my-spa', callbackURLs: Object.freeze([CALLBACK]) }) }),
      });
      const custom = await startXEmulator(options);
      try {
        expect(custom.users.map((u) => u.id)).to.deep.equal(['42']);
        expect(custom.apps.public).to.include({ name: 'My SPA', clientID: 'my-spa' });
        expect(custom.apps.confidential.clientID, 'the other apps keep their defaults').to.equal('emulator-confidential-client-id');
        expect(users[0]).to.not.have.property('profileImageURL');
        const page = await (await fetch(authorizeURL(custom, { client_id: 'my-spa' }))).text();
        expect(page).to.include('Authorize My SPA to access your account?');
        expect(page).to.include('Marvin');
        expect(page).to.not.include('Ada Lovelace');
      } finally {
        await custom.close();
      }
    });

    it('refuses a host beyond loopback unless allowNonLoopback is true: its keys are public', async () => {
      for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.com', '128.0.0.1']) {
        const err = await startXEmulator({ host }).then(
          async (started) => {
            await started.close();
            return undefined;
          },
          (e: unknown) => e,
        );
        expect(err, host).to.be.instanceOf(TypeError);
        expect((err as TypeError).message).to.match(/`host` must be a loopback address/).and.match(/allowNonLoopback: true/);
      }
      expect(await startXEmulator({ host: '127.0.0.1', allowNonLoopback: 'yes' as unknown as boolean }).catch((e: unknown) => e)).to.be.instanceOf(TypeError);
    });

    it('listens on any loopback address, and elsewhere with allowNonLoopback, warning then', async () => {
      const loopback = await warningsDuring(async () => {
        for (const host of ['127.0.0.1', 'localhost', '127.0.0.2']) {
          const started = await startXEmulator({ host });
          await started.close();
        }
      }, { code: 'PASSPORT_X_EMULATOR_NOT_LOOPBACK' });
      expect(loopback).to.deep.equal([]);
      const ours = await warningsDuring(async () => {
        const exposed = await startXEmulator({ host: '0.0.0.0', allowNonLoopback: true });
        try {
          expect(exposed.url).to.match(/^http:\/\/0\.0\.0\.0:\d+$/);
        } finally {
          await exposed.close();
        }
      }, { code: 'PASSPORT_X_EMULATOR_NOT_LOOPBACK' });
      expect(ours).to.have.length(1);
      expect(ours[0]!.message).to.include('0.0.0.0').and.include('public');
    });

    it('refuses a loopback name that resolves to another address, checking the address it bound', async () => {
      const lookup = dns.lookup;
      // A hosts file mapping localhost elsewhere, as net.Server#listen sees it (the emulator closes at once).
      const elsewhere = ((_host: string, callback: (err: null, address: string, family: number) => void) => callback(null, '0.0.0.0', 4)) as unknown as typeof dns.lookup;
      dns.lookup = elsewhere;
      let err: unknown;
      try {
        err = await startXEmulator({ host: 'localhost' }).then(
          async (started) => {
            await started.close();
            return undefined;
          },
          (e: unknown) => e,
        );
      } finally {
        dns.lookup = lookup;
      }
      expect(err).to.be.instanceOf(TypeError);
      expect((err as TypeError).message).to.include('localhost resolved to 0.0.0.0, which is not a loopback address').and.include('allowNonLoopback: true');
    });

    it('refuses bad options with a TypeError that says what to fix', async () => {
      const cases: Array<[unknown, RegExp]> = [
        [{ port: -1 }, /`port`/],
        [{ port: 1.5 }, /`port`/],
        [{ host: '' }, /`host`/],
        [{ now: 1 }, /`now`/],
        [{ accessTokenTtlMs: 999 }, /`accessTokenTtlMs`/],
        [{ accessTokenTtlMs: 1500.5 }, /`accessTokenTtlMs`/],
        [{ accessTokenTtlMs: '7200000' }, /`accessTokenTtlMs`/],
        [{ users: [] }, /`users`/],
        [{ users: [{ id: 'abc', username: 'a', name: 'A' }] }, /users\[0\]\.id/],
        [{ users: [{ id: '1', username: 'not a handle', name: 'A' }] }, /users\[0\]\.username/],
        [{ users: [{ id: '1', username: 'a', name: 'A' }, { id: '1', username: 'b', name: 'B' }] }, /two users have the id/],
        [{ apps: { public: { name: 'P', clientID: 'p', clientSecret: 's' } } }, /apps\.public\.clientSecret/],
        [{ apps: { confidential: { name: 'C', clientID: 'c' } } }, /apps\.confidential\.clientSecret/],
        [{ apps: { confidential: { name: 'C', clientID: 'same', clientSecret: 's' }, public: { name: 'P', clientID: 'same' } } }, /must differ/],
        [{ apps: { oauth1: { name: 'A', consumerKey: 'k', consumerSecret: 's', callbackURLs: ['/relative'] } } }, /callbackURLs\[0\]/],
        [{ apps: { oauth1: { name: 'A', consumerKey: 'k', consumerSecret: 's', accessLevel: 'admin' } } }, /accessLevel/],
      ];
      for (const [options, message] of cases) {
        const err = await startXEmulator(options as XEmulatorOptions).then(
          async (started) => {
            await started.close();
            return undefined;
          },
          (e: unknown) => e,
        );
        expect(err, JSON.stringify(options)).to.be.instanceOf(TypeError);
        expect((err as TypeError).message, JSON.stringify(options)).to.match(message);
      }
    });

    it('rejects when the port is taken', async () => {
      const port = Number(new URL(x.url).port);
      const err = await startXEmulator({ port }).then(
        async (started) => {
          await started.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect((err as NodeJS.ErrnoException).code).to.equal('EADDRINUSE');
    });
  });

  describe('the router', () => {
    it('answers 404 code 34 to an unknown path or a method an endpoint does not take', async () => {
      await expectXError(await fetch(`${x.url}/1.1/statuses/update.json`, { method: 'POST' }), 404, 34);
      await expectXError(await fetch(`${x.url}/oauth/request_token`), 404, 34);
      await expectXError(await fetch(`${x.url}/2/users/me`, { method: 'POST' }), 404, 34);
    });

    it('serves the default profile pictures, escaped', async () => {
      const custom = await startXEmulator({ users: [{ id: '7', username: 'amp', name: 'Tom & <Jerry>' }] });
      try {
        const response = await fetch(custom.users[0].profileImageURL!);
        expect(response.status).to.equal(200);
        expect(response.headers.get('content-type')).to.equal('image/svg+xml');
        const svg = await response.text();
        expect(svg).to.include('<title>Tom &#38; &#60;Jerry&#62;</title>');
        expect(svg).to.not.include('<Jerry>');
        await expectXError(await fetch(`${custom.url}/profile_images/8.svg`), 404, 34);
      } finally {
        await custom.close();
      }
    });

    it('serves a request whose Host header names no valid host as addressed to itself, never with a 500', async () => {
      // Each of the last three parses as a URL, but with user info, a query or a path after the host.
      for (const host of ['a b', '', '127.0.0.1:99999', 'user@127.0.0.1', '127.0.0.1?x', '127.0.0.1/x']) {
        const answer = await rawRequest(x, `GET /2/users/me HTTP/1.1\r\nHost: ${host}\r\nConnection: close`);
        expect(answer.status, host).to.equal(401);
        expect(JSON.parse(answer.body), host).to.include({ title: 'Unauthorized', status: 401 });
      }
      // OAuth 1.0a: the request was signed for the emulator's own URL, the one it reached.
      const requestToken = await rawRequest(x, 'POST /oauth/request_token HTTP/1.1\r\nHost: a b\r\nConnection: close\r\nContent-Length: 0');
      expect(requestToken.status).to.equal(400);
      expect(JSON.parse(requestToken.body)).to.deep.equal({ errors: [{ code: 215, message: 'Bad Authentication data.' }] });
      expect(x.requests.map((r) => r.status)).to.deep.equal([401, 401, 401, 401, 401, 401, 400]);
    });

    it('takes a Host with anything but a name and a port for no host: a request signed for the name in it is refused', async () => {
      // Signed for evil.example: were the Host read as naming it, the signature would check out.
      const signedFor = (url: string): string =>
        oauth1AuthorizationHeader({ method: 'POST', url, params: { oauth_callback: CALLBACK }, consumerKey: x.apps.oauth1.consumerKey, consumerSecret: x.apps.oauth1.consumerSecret });
      for (const host of ['@evil.example', ':@evil.example', 'user@evil.example', 'evil.example\\', 'evil.example/x', 'evil.example?x', 'evil.example#x']) {
        const answer = await rawRequest(x, `POST /oauth/request_token HTTP/1.1\r\nHost: ${host}\r\nAuthorization: ${signedFor('http://evil.example/oauth/request_token')}\r\nConnection: close\r\nContent-Length: 0`);
        expect(answer.status, host).to.equal(401);
      }
      // The same request with a Host that is only the name is taken as addressed to it: the signature holds.
      const named = await rawRequest(x, `POST /oauth/request_token HTTP/1.1\r\nHost: evil.example\r\nAuthorization: ${signedFor('http://evil.example/oauth/request_token')}\r\nConnection: close\r\nContent-Length: 0`);
      expect(named.status).to.equal(200);
    });

    it('reads a path that starts with // as a path, never as a host: no endpoint is served under another name', async () => {
      for (const target of ['//evil.example/2/users/me', '//2/users/me', '//127.0.0.1/2/users/me']) {
        const answer = await rawRequest(x, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close`);
        expect(answer.status, target).to.equal(404);
        expect(JSON.parse(answer.body), target).to.deep.equal({ errors: [{ code: 34, message: 'Sorry, that page does not exist.' }] });
      }
      expect(x.requests.map((r) => r.path)).to.deep.equal(['//evil.example/2/users/me', '//2/users/me', '//127.0.0.1/2/users/me']);
    });

    it('logs a client that hangs up before its body ended as a 400 that did nothing, not as a failure of the emulator', async () => {
      await new Promise<void>((resolve, reject) => {
        const socket = connect(Number(new URL(x.url).port), '127.0.0.1', () => {
          socket.write('POST /2/oauth2/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 50\r\n\r\ngrant_type=');
          setTimeout(() => {
            socket.destroy();
            resolve();
          }, 50);
        });
        socket.on('error', reject);
      });
      const started = Date.now();
      while (x.requests.length === 0 && Date.now() - started < 2000) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(x.requests).to.have.length(1);
      expect(x.requests[0]).to.include({ method: 'POST', path: '/2/oauth2/token', status: 400 });
      expect(x.requests[0]!.reason).to.match(/^the request's body did not arrive in full \(aborted\): nothing was done; the client left before the answer, which was not sent$/);
      expect(x.serverErrors).to.deep.equal([]);
    });

    it('answers a request target that is no URL with 404 code 34 (X: "the URI requested is invalid")', async () => {
      const answer = await rawRequest(x, 'GET http://[/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close');
      expect(answer.status).to.equal(404);
      expect(JSON.parse(answer.body)).to.deep.equal({ errors: [{ code: 34, message: 'Sorry, that page does not exist.' }] });
      expect(x.requests).to.deep.equal([{ method: 'GET', path: 'http://[/', status: 404, reason: 'the request target is not a URL' }]);
    });

    it('answers 413 to a body over 64 KiB', async () => {
      const response = await fetch(`${x.url}/2/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `a=${'x'.repeat(70_000)}` });
      expect(response.status).to.equal(413);
    });

    it('lets a client still sending a body over 64 KiB read the 413 before the connection closes', async () => {
      const body = Buffer.alloc(4 * 1024 * 1024, 'x');
      for (let i = 0; i < 3; i++) {
        const outcome = await new Promise<number | Error>((resolve) => {
          const req = request(`${x.url}/2/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', resolve);
          req.end(body);
        });
        expect(outcome, `attempt ${i + 1}`).to.equal(413);
      }
    });

    it('answers 413 and closes the connection as soon as a body passes 64 KiB, even one that never ends', async () => {
      const head = 'POST /2/oauth2/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked';
      // Seven chunks of 16 KiB, and never the last chunk that would end the body.
      const answer = await rawRequest(x, head, `4000\r\n${'x'.repeat(0x4000)}\r\n`.repeat(7));
      expect(answer.status).to.equal(413);
      expect(answer.headers.connection).to.equal('close');
      expect(answer.body).to.equal('Request body too large');
      // A Content-Length over the cap is refused before a byte of the body is read.
      const announced = await rawRequest(x, 'POST /2/oauth2/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10000000');
      expect(announced.status).to.equal(413);
      expect(x.requests.map((r) => r.status)).to.deep.equal([413, 413]);
    });
  });

  describe('failNext', () => {
    it('answers the next request to the path with the fault, then serves normally', async () => {
      const token = await userAccessToken();
      const reset = Math.floor(Date.now() / 1000) + 900;
      x.failNext('/2/users/me', {
        status: 429,
        headers: { 'x-rate-limit-limit': '75', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(reset) },
        body: { title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 },
      });
      const err = await fetchUsersMe(xEndpoints(x.baseURL).usersMe, token, [], {}).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(XRateLimitError);
      expect((err as XRateLimitError).rateLimit).to.deep.equal({ limit: 75, remaining: 0, reset: new Date(reset * 1000) });
      expect((await fetchUsersMe(xEndpoints(x.baseURL).usersMe, token, [], {})).data.id).to.equal(x.users[0].id);
    });

    it('uses faults queued for one path in order, and leaves other paths alone', async () => {
      x.failNext('/oauth2/token', { status: 503, body: 'Service Unavailable', headers: { 'content-type': 'text/plain' } });
      x.failNext('/oauth2/token', { status: 500 });
      expect((await fetch(`${x.url}/2/oauth2/token`, { method: 'POST' })).status, 'another path').to.equal(400);
      const first = await fetch(`${x.url}/oauth2/token?any=query`, { method: 'POST' });
      expect(first.status).to.equal(503);
      expect(first.headers.get('content-type')).to.equal('text/plain');
      expect(await first.text()).to.equal('Service Unavailable');
      const second = await fetch(`${x.url}/oauth2/token`, { method: 'GET' });
      expect(second.status).to.equal(500);
      expect(await second.text()).to.equal('');
      await expectXError(await fetch(`${x.url}/oauth2/token`, { method: 'POST' }), 403, 99);
    });

    it('delays the answer by delayMs: a client with a shorter time-out sees a time-out', async () => {
      const token = await userAccessToken();
      x.failNext('/2/users/me', { delayMs: 400 });
      // The time-out's code says it fired before the answer came (the answer would have succeeded).
      const from = x.requests.length;
      const err = await fetchUsersMe(xEndpoints(x.baseURL).usersMe, token, [], { timeoutMs: 100 }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(XRequestError);
      expect((err as XRequestError).code).to.equal(XErrorCode.TIMEOUT);
      // The log says the answer was never sent: the client had left (X acted on the request all the same).
      while (x.requests.length === from) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(x.requests[from]).to.deep.equal({ method: 'GET', path: '/2/users/me', status: 200, reason: 'the client left before the answer, which was not sent' });
    });

    it('answers both of two pipelined requests when the first is delayed (the second waits for its socket, it has not left)', async () => {
      x.failNext('/2/users/me', { delayMs: 200 });
      const from = x.requests.length;
      const answers = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(new URL(x.url).port), '127.0.0.1');
        let text = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (text += chunk));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
        socket.write('GET /2/users/me HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /2/users/me HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
      });
      expect(answers.match(/^HTTP\/1\.1 401 /gm)).to.have.length(2);
      expect(x.requests.slice(from).map((r) => r.reason ?? '')).to.not.include.members(['the client left before the answer, which was not sent']);
    });

    it('without a status, answers normally after the delay', async () => {
      const token = await userAccessToken();
      x.failNext('/2/users/me', { delayMs: 150 });
      const started = Date.now();
      const me = await fetchUsersMe(xEndpoints(x.baseURL).usersMe, token, [], {});
      expect(Date.now() - started).to.be.at.least(140);
      expect(me.data.id).to.equal(x.users[0].id);
    });

    it('with a status and a delay, answers the fault after the delay', async () => {
      x.failNext('/2/users/me', { status: 503, delayMs: 120 });
      const started = Date.now();
      expect((await fetch(`${x.url}/2/users/me`)).status).to.equal(503);
      expect(Date.now() - started).to.be.at.least(110);
    });

    it('refuses a fault it cannot answer', () => {
      const bad: Array<[unknown, unknown]> = [
        ['2/users/me', { status: 500 }],
        ['https://api.x.com/2/users/me', { status: 500 }],
        ['/2/users/me?user.fields=id', { status: 500 }],
        ['/2/users/me', { status: 99 }],
        ['/2/users/me', { status: 700 }],
        ['/2/users/me', { delayMs: -1 }],
        ['/2/users/me', { delayMs: 2 ** 31 }],
        ['/2/users/me', {}],
        ['/2/users/me', { status: 500, headers: { 'bad header': 'x' } }],
        ['/2/users/me', { status: 500, headers: { 'x-ok': 'line\nbreak' } }],
        ['/2/users/me', null],
        // Headers or a body without a status would be dropped: the normal answer comes, with its own.
        ['/2/users/me', { delayMs: 10, headers: { 'x-rate-limit-remaining': '0' } }],
        ['/2/users/me', { delayMs: 10, body: 'late' }],
      ];
      for (const [path, fault] of bad) {
        expect(() => x.failNext(path as string, fault as { status: number }), JSON.stringify([path, fault])).to.throw(TypeError, /failNext/);
      }
    });
    it('refuses, when called, a body JSON cannot write, naming it; the fault is not used up', async () => {
      const cycle: Record<string, unknown> = {};
      cycle.self = cycle;
      for (const body of [{ id: 1n }, cycle, () => 'body', Symbol('body')]) {
        expect(() => x.failNext('/2/users/me', { status: 503, body }), String(typeof body)).to.throw(TypeError, /failNext `body`/);
      }
      expect((await fetch(`${x.url}/2/users/me`)).status, 'nothing was queued').to.equal(401);
    });

    it('writes the JSON body when called: a later change to the object changes nothing', async () => {
      const body = { title: 'Service Unavailable' };
      x.failNext('/2/users/me', { status: 503, body });
      body.title = 'changed';
      const response = await fetch(`${x.url}/2/users/me`);
      expect(response.headers.get('content-type')).to.equal('application/json; charset=utf-8');
      expect(await response.json()).to.deep.equal({ title: 'Service Unavailable' });
    });

    it('reads the path as a request spells it: a trailing slash, dot segments and spaces', async () => {
      x.failNext('/2/users/me/', { status: 503 });
      x.failNext('/2/oauth2/../users/me', { status: 502 });
      x.failNext('/a path', { status: 504 });
      expect((await fetch(`${x.url}/2/users/me`)).status).to.equal(503);
      expect((await fetch(`${x.url}/2/users/me`)).status).to.equal(502);
      expect((await fetch(`${x.url}/a%20path`)).status).to.equal(504);
    });
  });

  describe('the request log', () => {
    it('lists method, path and status of each request, and why a refusal happened', async () => {
      await fetch(`${x.url}/2/users/me?user.fields=id`, { headers: { authorization: 'Bearer nope' } });
      x.failNext('/oauth2/token', { status: 503 });
      await fetch(`${x.url}/oauth2/token`, { method: 'POST' });
      await fetch(authorizeURL(x, {}));
      expect(x.requests).to.deep.equal([
        { method: 'GET', path: '/2/users/me', status: 401, reason: 'unknown, expired or revoked access token' },
        { method: 'POST', path: '/oauth2/token', status: 503, reason: 'injected by failNext' },
        { method: 'GET', path: '/i/oauth2/authorize', status: 200 },
      ]);
    });

    it('holds no secret: no query, body, token, verifier or code', async () => {
      const token = await userAccessToken();
      const requestToken = new URLSearchParams(await (await signedFetch(x, { method: 'POST', path: '/oauth/request_token', oauth: { oauth_callback: CALLBACK } })).text());
      const location = await consent(`${x.url}/oauth/authenticate?oauth_token=${requestToken.get('oauth_token')}`);
      const log = JSON.stringify(x.requests);
      const secrets = [
        token,
        requestToken.get('oauth_token')!,
        requestToken.get('oauth_token_secret')!,
        location.searchParams.get('oauth_verifier')!,
        x.apps.oauth1.consumerKey,
        x.apps.oauth1.consumerSecret,
        x.apps.confidential.clientSecret,
        RFC7636_VERIFIER,
      ];
      for (const secret of secrets) expect(log).to.not.include(secret);
      for (const record of x.requests) expect(Object.keys(record)).to.satisfy((keys: string[]) => keys.every((k) => ['method', 'path', 'status', 'reason'].includes(k)));
    });

    it('is a copy: changing it changes nothing', async () => {
      await fetch(`${x.url}/nowhere`);
      const log = x.requests as unknown as Array<{ status: number }>;
      log[0]!.status = 200;
      log.pop();
      expect(x.requests).to.deep.equal([{ method: 'GET', path: '/nowhere', status: 404, reason: 'no such endpoint' }]);
    });
  });

  describe('failures inside the emulator', () => {
    it('answers 500 in X\'s format when a handler fails, and keeps serving', async () => {
      let broken = false;
      const fragile = await startXEmulator({ now: () => (broken ? Number.NaN : Date.now()) });
      try {
        broken = true;
        await expectXError(await fetch(authorizeURL(fragile, {})), 500, 131);
        expect(fragile.requests[0]!.reason).to.match(/the emulator failed: .*`now`/);
        broken = false;
        expect((await fetch(authorizeURL(fragile, {}))).status).to.equal(200);
      } finally {
        await fragile.close();
      }
    });
  });

  describe('server errors', () => {
    it('records an error the server emits after listening, warns, and keeps serving', async () => {
      const emfile = Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' });
      // What net.Server emits when accept() fails; without a listener, emit would throw it.
      const ours = await warningsDuring(() => (x as unknown as { server: Server }).server.emit('error', emfile), { code: 'PASSPORT_X_EMULATOR_SERVER_ERROR' });
      expect(x.serverErrors).to.deep.equal([emfile]);
      expect(ours.map((w) => w.message)).to.deep.equal([`passport-x/testing: the X emulator at ${x.url} had a server error and keeps serving: accept EMFILE`]);
      await expectXError(await fetch(`${x.url}/nowhere`), 404, 34);
      (x.serverErrors as Error[]).pop();
      expect(x.serverErrors, 'a copy').to.have.length(1);
    });
  });

  describe('a full memory', () => {
    it('answers as X over capacity: 503 code 130 on v1.1 and OAuth paths, the problem on /2/ paths, a page on the consent page', async () => {
      // Each of the emulator's maps capped at 1 (100,000 by default).
      (x as unknown as { context: { store: TokenStore } }).context.store = new TokenStore(Date.now, { capacity: 1 });
      expect((await signedFetch(x, { method: 'POST', path: '/oauth/request_token', oauth: { oauth_callback: CALLBACK } })).status).to.equal(200);
      await expectXError(await signedFetch(x, { method: 'POST', path: '/oauth/request_token', oauth: { oauth_callback: CALLBACK } }), 503, 130);
      expect(x.requests.at(-1)).to.deep.equal({
        method: 'POST',
        path: '/oauth/request_token',
        status: 503,
        reason: 'the emulator already holds 1 OAuth 1.0a nonces, its cap: it forgets them as they expire',
      });

      // One sign-in fills the maps of codes used, access and refresh tokens; the next exchange finds them full.
      expect((await userAccessToken()).length).to.be.above(0);
      const location = await consent(authorizeURL(x, {}));
      const exchange = await fetch(`${x.url}/2/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${x.apps.confidential.clientID}:${x.apps.confidential.clientSecret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'authorization_code', code: location.searchParams.get('code')!, redirect_uri: CALLBACK, code_verifier: RFC7636_VERIFIER }),
      });
      expect(exchange.status).to.equal(503);
      expect(exchange.headers.get('content-type')).to.equal('application/problem+json; charset=utf-8');
      expect(await exchange.json()).to.deep.equal({ title: 'Service Unavailable', detail: 'Service Unavailable', type: 'about:blank', status: 503 });

      const page = await fetch(authorizeURL(x, {}));
      expect([page.status, page.headers.get('content-type')]).to.deep.equal([200, 'text/html; charset=utf-8']);
      const full = await fetch(authorizeURL(x, {}));
      expect(full.status).to.equal(503);
      expect(await full.text()).to.include('X is over capacity').and.include('1 pending consents, its cap');
    });
  });

  describe('answers Node refuses to write', () => {
    it('answers 500 code 131 instead, and logs what was sent, not the answer that could not be', async () => {
      const writeHead = ServerResponse.prototype.writeHead;
      let refused = 0;
      // As Node refuses a header value it cannot send (ERR_INVALID_CHAR), once, for the 404.
      ServerResponse.prototype.writeHead = function (this: ServerResponse, ...args: Parameters<ServerResponse['writeHead']>) {
        if (args[0] === 404 && refused++ === 0) throw Object.assign(new TypeError('Invalid character in header content ["x-example"]'), { code: 'ERR_INVALID_CHAR' });
        return writeHead.apply(this, args);
      } as ServerResponse['writeHead'];
      let response: Response;
      try {
        response = await fetch(`${x.url}/nowhere`);
      } finally {
        ServerResponse.prototype.writeHead = writeHead;
      }
      await expectXError(response, 500, 131);
      expect(x.requests).to.deep.equal([
        { method: 'GET', path: '/nowhere', status: 500, reason: 'the emulator could not write its 404 answer: Invalid character in header content ["x-example"]' },
      ]);
    });
  });

  describe('close', () => {
    it('ends promptly with a request in flight, and the client sees the connection end', async () => {
      const other = await startXEmulator();
      other.failNext('/2/users/me', { status: 200, delayMs: 60_000 });
      const pending = fetch(`${other.url}/2/users/me`).then(
        () => 'answered',
        () => 'failed',
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = Date.now();
      await other.close();
      expect(Date.now() - started).to.be.below(1000);
      expect(await pending).to.equal('failed');
      expect(await fetch(`${other.url}/2/users/me`).then(() => 'answered', () => 'failed')).to.equal('failed');
    });

    it('ends promptly after keep-alive requests, and can be called twice', async () => {
      const other = await startXEmulator();
      for (let i = 0; i < 3; i++) await (await fetch(`${other.url}/nowhere`)).text();
      const started = Date.now();
      await Promise.all([other.close(), other.close()]);
      expect(Date.now() - started).to.be.below(1000);
    });
  });

  describe('fault presets', () => {
    const REPLIES: Array<[XEmulatorFaultPreset, string, number, unknown]> = [
      [
        'credits-depleted',
        '/2/users/me',
        402,
        '{"account_id":1500000000000000999,"title":"CreditsDepleted","detail":"Your enrolled account [1500000000000000999] does not have any credits to fulfill this request.","type":"https://api.twitter.com/2/problems/credits"}',
      ],
      [
        'usage-cap',
        '/1.1/account/verify_credentials.json',
        429,
        {
          account_id: '1500000000000000999',
          product_name: 'standard-basic',
          title: 'UsageCapExceeded',
          period: 'Monthly',
          scope: 'Product',
          detail: 'Usage cap exceeded: Monthly product cap',
          type: 'https://api.twitter.com/2/problems/usage-capped',
        },
      ],
      ['over-capacity', '/2/users/me', 503, { title: 'Service Unavailable', detail: 'Service Unavailable', type: 'about:blank', status: 503 }],
      ['over-capacity', '/oauth/request_token', 503, { errors: [{ code: 130, message: 'Over capacity' }] }],
    ];
    for (const [preset, path, status, body] of REPLIES) {
      it(`answers '${preset}' on ${path} with X's ${status} body, then serves normally`, async () => {
        x.failNext(path, preset);
        const method = path === '/oauth/request_token' ? 'POST' : 'GET';
        const response = await fetch(`${x.url}${path}`, { method });
        expect(response.status).to.equal(status);
        const text = await response.text();
        if (typeof body === 'string') expect(text).to.equal(body);
        else expect(JSON.parse(text)).to.deep.equal(body);
        if (status !== 503) {
          // Billing refusals come with rate-limit headers that leave requests to spare: waiting does not help.
          expect(response.headers.get('x-rate-limit-remaining')).to.equal('74');
          expect(Number(response.headers.get('x-rate-limit-reset'))).to.be.above(Date.now() / 1000);
        }
        expect(x.requests.at(-1)).to.deep.equal({ method, path, status, reason: `injected by failNext ('${preset}')` });
        expect((await fetch(`${x.url}${path}`, { method })).status, 'the next request is served').to.not.equal(status);
      });
    }

    it('are listed, and presetFault gives the same fault to compose with a delay', async () => {
      expect(X_EMULATOR_FAULT_PRESETS).to.deep.equal(['credits-depleted', 'usage-cap', 'over-capacity']);
      const fault = presetFault('credits-depleted', '/2/users/me');
      x.failNext('/2/users/me', { ...fault, delayMs: 100 });
      const started = Date.now();
      const response = await fetch(`${x.url}/2/users/me`);
      expect(Date.now() - started).to.be.at.least(90);
      expect(response.status).to.equal(402);
      expect(((await response.json()) as { title: string }).title).to.equal('CreditsDepleted');
    });

    it('refuses a preset it does not know, naming the ones it does', () => {
      expect(() => x.failNext('/2/users/me', 'credits-exhausted' as XEmulatorFaultPreset)).to.throw(TypeError, /'credits-depleted', 'usage-cap', 'over-capacity'/);
    });
  });

  describe('callback URLs while running', () => {
    it('registers a URL for every app or the apps named, shows it in x.apps, and unregisters it', async () => {
      const url = 'http://127.0.0.1:4567/auth/x/callback';
      const page = (redirectURI: string) => fetch(authorizeURL(x, { redirect_uri: redirectURI }));
      expect((await page(url)).status).to.equal(400);
      x.addCallbackURL(url, 'confidential');
      expect(x.apps.confidential.callbackURLs).to.deep.equal([...DEFAULT_CALLBACK_URLS, url]);
      expect(x.apps.public.callbackURLs).to.deep.equal(DEFAULT_CALLBACK_URLS);
      expect(Object.isFrozen(x.apps.confidential.callbackURLs)).to.equal(true);
      expect((await page(url)).status).to.equal(200);
      x.addCallbackURL(url);
      expect(x.apps.oauth1.callbackURLs).to.include(url);
      expect(x.removeCallbackURL(url)).to.equal(true);
      expect(x.removeCallbackURL(url)).to.equal(false);
      expect((await page(url)).status).to.equal(400);
    });

    it('refuses what X\'s portal refuses: a bad URL, an 11th URL, an unknown app', () => {
      expect(() => x.addCallbackURL('javascript:alert(1)')).to.throw(TypeError, /scheme/);
      expect(() => x.addCallbackURL('not a url')).to.throw(TypeError, /absolute URL/);
      expect(() => x.addCallbackURL('http://127.0.0.1/cb', 'mobile' as 'public')).to.throw(TypeError, /`apps`/);
      for (let i = 2; i < 10; i++) x.addCallbackURL(`http://127.0.0.1:${4000 + i}/cb`, 'public');
      expect(() => x.addCallbackURL('http://127.0.0.1:5000/cb', 'public')).to.throw(RangeError, /10 callback URLs/);
      expect(x.apps.public.callbackURLs).to.have.length(10);
    });

    it('takes at most 10 callback URLs per app in the fixtures', async () => {
      const urls = Array.from({ length: 11 }, (_, i) => `https://app.example/cb${i}`);
      const err = await startXEmulator({ apps: { public: { name: 'P', clientID: 'p', callbackURLs: urls } } }).then(
        () => expect.fail('started'),
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(TypeError).and.have.property('message').that.match(/at most 10 per app/);
    });
  });
});
