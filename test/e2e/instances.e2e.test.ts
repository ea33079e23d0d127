// Several instances: nothing a sign-in needs between its start and its callback lives in one
// process's memory. Two instances of the Express example app (createExampleApp) share one
// Redis-backed session store (connect-redis on a redis-server this suite starts); each sign-in
// starts on instance A and its callback lands on instance B, over both protocols; then the same
// with B restarted between the start and the callback. A control run with each instance on its own
// MemoryStore shows the test can fail.
//
// The "load balancer": both instances are configured with one public URL, that of a small proxy
// on 127.0.0.1 which sends each request to the instance the test chooses (no sticky sessions).
// The browser only ever talks to the proxy, so its session cookie (host 127.0.0.1) and X's
// redirect to the callback URL reach whichever instance the proxy picks, as behind a real load
// balancer.
import { expect } from 'chai';
import { RedisStore } from 'connect-redis';
import type { Store } from 'express-session';
import { request as httpRequest } from 'node:http';
import { createClient } from 'redis';
import { startXEmulator, type XEmulator, type XEmulatorRequestRecord } from '../../lib/testing';
import { SESSION_COOKIE_NAME, createExampleApp } from '../../example-app/app';
import { emulatorConfig } from '../../example-app/config';
import { createRedisTokenStore } from '../../example-app/tokens';
import { ROUTES } from '../../example-app/views';
import { RedisTokenLock } from '../../lib/redis';
import { Browser, answerConsent, linkURL, serveOnLoopback, textOf, type LoopbackServer, type Page } from '../support/browserless';
import { startRedisServer, type RedisServer } from '../support/redis';
import { warningsDuring } from '../support/warnings';

/** Every instance signs the session cookie with the same secret (the README's SESSION_SECRET). */
const SESSION_SECRET = 'instances-e2e-shared-session-secret-32+chars';

/** One running instance of the example app: its own server, app, Passport and Redis connection. */
interface Instance {
  name: string;
  server: LoopbackServer;
  /** The paths of the requests it served, in order. */
  served: string[];
  /** Log lines of the app (failures). */
  logged: string[];
  close(): Promise<void>;
}

/** The load balancer: forwards each request to the instance `route` picks for its path. */
interface LoadBalancer {
  server: LoopbackServer;
  route: (path: string) => Instance;
}

async function startLoadBalancer(): Promise<LoadBalancer> {
  const lb: LoadBalancer = {
    server: undefined as unknown as LoopbackServer,
    route: () => {
      throw new Error('no route set');
    },
  };
  lb.server = await serveOnLoopback((req, res) => {
    const target = lb.route(req.url ?? '/');
    // No keep-alive to the instances: a restarted instance must get fresh connections.
    const upstream = httpRequest(
      { host: '127.0.0.1', port: target.server.port, method: req.method, path: req.url, headers: req.headers, agent: false },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(res);
      },
    );
    upstream.on('error', (err) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`load balancer: instance ${target.name} did not answer: ${err.message}`);
    });
    req.pipe(upstream);
  });
  return lb;
}

function isCallback(path: string): boolean {
  const pathname = new URL(path, 'http://lb').pathname;
  return pathname === ROUTES.oauth2Callback || pathname === ROUTES.oauth1Callback;
}

function requestsTo(x: XEmulator, path: string, from: number): XEmulatorRequestRecord[] {
  return x.requests.slice(from).filter((r) => r.path === path);
}

const FLOWS = [
  { protocol: 'OAuth 2.0', button: 'Sign in with X', callback: ROUTES.oauth2Callback, start: ROUTES.oauth2Start, exchange: '/2/oauth2/token', method: 'OAuth 2.0 with PKCE' },
  { protocol: 'OAuth 1.0a', button: 'Sign in with X (OAuth 1.0a)', callback: ROUTES.oauth1Callback, start: ROUTES.oauth1Start, exchange: '/oauth/access_token', method: 'OAuth 1.0a' },
] as const;

describe('several instances of the example app sharing a Redis session store', function () {
  this.timeout(30_000);
  let redis: RedisServer;
  let x: XEmulator;
  let lb: LoadBalancer;
  /** The test's own look into Redis. */
  let inspector: ReturnType<typeof createClient>;
  const running = new Set<Instance>();

  before(async function () {
    redis = await startRedisServer();
    inspector = createClient({ url: redis.url });
    await inspector.connect();
    x = await startXEmulator();
    lb = await startLoadBalancer();
  });

  after(async function () {
    for (const instance of running) await instance.close();
    if (inspector?.isOpen) await inspector.quit();
    await lb?.server.close();
    await x?.close();
    await redis?.stop();
  });

  /**
   * Starts an instance as its own process would: its own Redis connection and store (or, for the
   * control, its own MemoryStore), app and server, with the load balancer's URL as public URL.
   */
  async function startInstance(name: string, options: { sharedStore: boolean }): Promise<Instance> {
    const client = options.sharedStore ? createClient({ url: redis.url }) : undefined;
    if (client) {
      client.on('error', () => undefined); // reported through the store's callbacks instead
      await client.connect();
    }
    const sessionStore: Store | undefined = client ? new RedisStore({ client, prefix: 'passport-x-e2e:' }) : undefined;
    // The users' OAuth 2.0 tokens and the refresh lock are shared too, as server.ts does with REDIS_URL.
    const shared = client ? { tokenStore: createRedisTokenStore(client), tokenLock: new RedisTokenLock({ client }) } : {};
    const served: string[] = [];
    const logged: string[] = [];
    const app = createExampleApp({ ...emulatorConfig(x, lb.server.origin, SESSION_SECRET), sessionStore, ...shared, log: (line) => logged.push(line) });
    const server = await serveOnLoopback((req, res) => {
      served.push(new URL(req.url ?? '/', 'http://instance').pathname);
      app(req, res);
    });
    const instance: Instance = {
      name,
      server,
      served,
      logged,
      async close() {
        running.delete(instance);
        await server.close();
        if (client?.isOpen) await client.quit();
      },
    };
    running.add(instance);
    return instance;
  }

  /** From the home page (served by A), presses `button` and, on X, "Authorize app"; stops before the redirect to the callback. */
  async function startSignIn(browser: Browser, button: string, callbackPath: string, userId: string): Promise<Page> {
    const home = await browser.open(`${lb.server.origin}${ROUTES.home}`);
    const consent = await browser.open(linkURL(home, button));
    const atCallback = await answerConsent(browser, consent, { userId, stopBefore: (url) => url.pathname === callbackPath });
    expect(atCallback.stoppedBefore, 'X redirected to the callback URL').to.be.a('string');
    expect(new URL(atCallback.stoppedBefore!).origin).to.equal(lb.server.origin);
    return atCallback;
  }

  afterEach(async function () {
    for (const instance of running) await instance.close();
  });

  for (const flow of FLOWS) {
    it(`signs in over ${flow.protocol} when the sign-in starts on instance A and its callback lands on instance B`, async function () {
      const a = await startInstance('A', { sharedStore: true });
      const b = await startInstance('B', { sharedStore: true });
      lb.route = (path) => (isCallback(path) ? b : a);
      const grace = x.users[1]!;
      const from = x.requests.length;

      const browser = new Browser();
      const atCallback = await startSignIn(browser, flow.button, flow.callback, grace.id);
      // The pending sign-in is in Redis, under the session the browser's cookie names.
      const sessionID = /^s%3A([^.]+)\./.exec(browser.cookies('127.0.0.1').get(SESSION_COOKIE_NAME) ?? '')?.[1];
      expect(sessionID, 'a signed express-session cookie').to.be.a('string');
      expect(await inspector.exists(`passport-x-e2e:${sessionID}`)).to.equal(1);
      const profile = await browser.open(atCallback.stoppedBefore!);

      expect(profile.url).to.equal(`${lb.server.origin}${ROUTES.profile}`);
      const text = textOf(profile.body);
      expect(text).to.contain(`${grace.name} @${grace.username}`);
      expect(text).to.contain(`Signed in with ${flow.method}`);
      // OAuth 2.0: A shows the token B stored (in the shared token store): its expiry, two hours away.
      if (flow.protocol === 'OAuth 2.0') expect(text).to.match(/Access token expires .*\(in 2 hours\)/);
      // A served the start, B the callback (and only it); the profile page, back on A, reads the session B wrote.
      expect(a.served).to.deep.equal([ROUTES.home, flow.start, ROUTES.profile]);
      expect(b.served).to.deep.equal([flow.callback]);
      expect(requestsTo(x, flow.exchange, from)).to.have.length(1);
      expect([...a.logged, ...b.logged]).to.deep.equal([]);
    });

    it(`signs in over ${flow.protocol} when the instance that gets the callback restarted after the sign-in started`, async function () {
      const a = await startInstance('A', { sharedStore: true });
      const b = await startInstance('B', { sharedStore: true });
      lb.route = (path) => (isCallback(path) ? b : a);
      const ada = x.users[0];
      const from = x.requests.length;

      const browser = new Browser();
      const atCallback = await startSignIn(browser, flow.button, flow.callback, ada.id);
      // B goes away (its server, app, Passport, strategies and Redis connection) and comes back as a new process would.
      await b.close();
      const restarted = await startInstance('B (restarted)', { sharedStore: true });
      lb.route = (path) => (isCallback(path) ? restarted : a);

      const profile = await browser.open(atCallback.stoppedBefore!);
      expect(profile.url).to.equal(`${lb.server.origin}${ROUTES.profile}`);
      expect(textOf(profile.body)).to.contain(`${ada.name} @${ada.username}`);
      expect(b.served).to.deep.equal([]);
      expect(restarted.served).to.deep.equal([flow.callback]);
      expect(requestsTo(x, flow.exchange, from)).to.have.length(1);
      expect([...a.logged, ...restarted.logged]).to.deep.equal([]);
    });
  }

  it('control: with a MemoryStore per instance, the callback on the other instance finds no pending sign-in', async function () {
    const a = await startInstance('A', { sharedStore: false });
    const b = await startInstance('B', { sharedStore: false });
    // The person reads a short message; the diagnosis goes to the developer, logged once per strategy and code.
    const warnings = await warningsDuring(async () => {
      for (const flow of FLOWS) {
        // Sticky from the callback on: the failure message is in B's session, which only B knows.
        let callbackSeen = false;
        lb.route = (path) => {
          callbackSeen ||= isCallback(path);
          return callbackSeen ? b : a;
        };
        const from = x.requests.length;
        const browser = new Browser();
        const atCallback = await startSignIn(browser, flow.button, flow.callback, x.users[0].id);
        const landed = await browser.open(atCallback.stoppedBefore!);
        expect(landed.url, flow.protocol).to.equal(`${lb.server.origin}${ROUTES.home}`);
        expect(textOf(landed.body), flow.protocol).to.contain('This browser has no sign-in in progress. Sign in again.');
        expect(requestsTo(x, flow.exchange, from), flow.protocol).to.deep.equal([]);
      }
    }, { code: 'PASSPORT_X_NO_PENDING_SIGN_IN' });
    const hints = warnings.map((w) => w.message);
    expect(hints).to.have.length(FLOWS.length);
    for (const hint of hints) expect(hint).to.contain('several app instances without a shared session store');
  });
});
