// Exactly once: a double click, a reload or Back sends one sign-in's callback several times at
// once, with one cookie. Over real HTTP on loopback, against the X emulator, 2, 5 and 20 parallel
// callbacks per sign-in, over both protocols, with the session store (express-session, which loads
// a separate copy of the session for each request) and with EncryptedCookieStateStore (a cookie
// cannot be consumed), on one instance and on two instances sharing a RedisReplayGuard (a
// redis-server this suite starts; one instance on node-redis, the other on ioredis). The emulator's
// request log must show exactly one exchange per sign-in; one callback succeeds, every other one
// gets a 4xx, none a 500. Controls without a shared claim show what the claim prevents.
import { expect } from 'chai';
import { RedisStore } from 'connect-redis';
import express, { type NextFunction, type Request, type Response } from 'express';
import session, { type Store } from 'express-session';
import { Redis as IORedis } from 'ioredis';
import { Passport } from 'passport';
import { createClient } from 'redis';
import { XOAuth1Strategy } from '../../lib/oauth1-strategy';
import { XOAuth2PkceStrategy } from '../../lib/oauth2-strategy';
import type { XProfile } from '../../lib/profile';
import { RedisReplayGuard } from '../../lib/redis';
import { EncryptedCookieStateStore } from '../../lib/state/encrypted-cookie';
import type { XReplayGuard } from '../../lib/state/replay-guard';
import { DEFAULT_CALLBACK_URLS, startXEmulator, type XEmulator, type XEmulatorRequestRecord } from '../../lib/testing';
import { Browser, answerConsent, serveOnLoopback, type LoopbackServer } from '../support/browserless';
import { startRedisServer, type RedisServer } from '../support/redis';

const SESSION_SECRET = 'exactly-once-e2e-session-secret-32+chars';
const COOKIE_SECRET = 'exactly-once-e2e-cookie-state-secret-32+';

type StoreKind = 'session' | 'cookie';

const PROTOCOLS = [
  { name: 'OAuth 2.0', path: '/auth/x2', exchange: '/2/oauth2/token' },
  { name: 'OAuth 1.0a', path: '/auth/x1', exchange: '/oauth/access_token' },
] as const;

type Protocol = (typeof PROTOCOLS)[number];

/** One running app instance: its own Express app, Passport, strategies and Redis connections. */
interface Instance {
  server: LoopbackServer;
  close(): Promise<void>;
}

interface InstanceOptions {
  store: StoreKind;
  /** The app's public origin: callback URLs name it, whichever instance serves them. */
  publicOrigin: string;
  /** express-session's store (default: its MemoryStore, this instance's own). */
  sessionStore?: Store | undefined;
  /** The strategies' replay guard (default: each strategy's own in-process guard). */
  replayGuard?: XReplayGuard | undefined;
  /** Closed with the instance. */
  cleanup?: (() => Promise<unknown>) | undefined;
  /**
   * The callback route as a plain `passport.authenticate(name, { failureMessage: true })` with no
   * session middleware: Passport's fail() then throws (it keeps the message in req.session.messages).
   */
  failureMessageWithoutSession?: boolean | undefined;
}

/** What a callback request got. */
interface Answer {
  status: number;
  body: { user?: string; code?: string; message?: string };
}

/**
 * An Express app with both strategies at /auth/x2 and /auth/x1 (plus /callback), answering each
 * callback in JSON: 200 and the user, or the failure's status and code. An error goes to
 * Express's default handler: a 500.
 */
async function startInstance(x: XEmulator, options: InstanceOptions, server?: LoopbackServer): Promise<Instance> {
  const passport = new Passport();
  const cookieStore = options.store === 'cookie' ? new EncryptedCookieStateStore({ secret: COOKIE_SECRET }) : undefined;
  const shared = { ...(cookieStore ? { store: cookieStore } : {}), ...(options.replayGuard ? { replayGuard: options.replayGuard } : {}) };
  const done = (profile: XProfile, cb: (err: null, user: string) => void): void => cb(null, profile.id);
  // X matches callback URLs exactly: register the app's, as in the developer portal.
  x.addCallbackURL(`${options.publicOrigin}/auth/x2/callback`, 'confidential');
  x.addCallbackURL(`${options.publicOrigin}/auth/x1/callback`, 'oauth1');
  passport.use(
    new XOAuth2PkceStrategy(
      {
        clientID: x.apps.confidential.clientID,
        clientSecret: x.apps.confidential.clientSecret,
        callbackURL: `${options.publicOrigin}/auth/x2/callback`,
        baseURL: x.baseURL,
        authorizationURL: x.authorizationURL,
        ...shared,
      },
      (_accessToken, _refreshToken, profile, cb) => done(profile, cb),
    ),
  );
  passport.use(
    new XOAuth1Strategy(
      {
        consumerKey: x.apps.oauth1.consumerKey,
        consumerSecret: x.apps.oauth1.consumerSecret,
        callbackURL: `${options.publicOrigin}/auth/x1/callback`,
        baseURL: x.baseURL,
        ...shared,
      },
      (_token, _tokenSecret, profile, cb) => done(profile, cb),
    ),
  );
  passport.serializeUser((user, cb) => cb(null, user));
  passport.deserializeUser((id: string, cb) => cb(null, id));

  const app = express();
  const useSession = options.store === 'session';
  if (useSession) {
    app.use(session({ secret: SESSION_SECRET, resave: false, saveUninitialized: false, ...(options.sessionStore ? { store: options.sessionStore } : {}) }));
    app.use(passport.session());
  }
  for (const [name, path] of [
    ['x-oauth2', '/auth/x2'],
    ['x-oauth1', '/auth/x1'],
  ] as const) {
    app.get(path, passport.authenticate(name, { session: useSession }));
    if (options.failureMessageWithoutSession) {
      app.get(`${path}/callback`, passport.authenticate(name, { session: false, failureMessage: true }), (req: Request, res: Response) => void res.json({ user: req.user }));
      continue;
    }
    app.get(`${path}/callback`, (req: Request, res: Response, next: NextFunction) => {
      passport.authenticate(name, { session: useSession }, (err: unknown, user: string | false, info?: { code?: string; message?: string }, status?: number) => {
        if (err) return next(err);
        if (!user) return res.status(status ?? 401).json({ code: info?.code, message: info?.message });
        if (!useSession) return res.json({ user });
        req.logIn(user, (e) => (e ? next(e) : res.json({ user })));
      })(req, res, next);
    });
  }
  // Quiet: a 500 is what some tests expect to see; its text is not needed.
  app.use((_err: unknown, _req: Request, res: Response, _next: NextFunction) => void res.status(500).json({ code: 'internal' }));

  const listening = server ?? (await serveOnLoopback());
  listening.server.on('request', app);
  return {
    server: listening,
    async close() {
      await listening.close();
      await options.cleanup?.();
    },
  };
}

/**
 * Signs in up to the callback in `browser` (instance `start` serves the sign-in, user `userId`
 * consents on X), and answers the callback URL X redirected to, not yet opened.
 */
async function throughConsent(browser: Browser, start: Instance, protocol: Protocol, userId: string): Promise<string> {
  const consent = await browser.open(`${start.server.origin}${protocol.path}`);
  const atCallback = await answerConsent(browser, consent, { userId, stopBefore: (url) => url.pathname === `${protocol.path}/callback` });
  expect(atCallback.stoppedBefore, 'X redirected to the callback').to.be.a('string');
  return atCallback.stoppedBefore!;
}

/** Sends `count` copies of the callback at once, with the one cookie the browser has, spread over `instances` in turn. */
async function parallelCallbacks(browser: Browser, callbackURL: string, count: number, instances: Instance[]): Promise<Answer[]> {
  const requests = Array.from({ length: count }, (_, i) => {
    const url = new URL(callbackURL);
    const target = new URL(instances[i % instances.length]!.server.origin);
    url.host = target.host;
    return browser.request(url.href);
  });
  return (await Promise.all(requests)).map((r) => ({ status: r.status, body: JSON.parse(r.body) as Answer['body'] }));
}

function exchangesSince(x: XEmulator, from: number, protocol: Protocol): XEmulatorRequestRecord[] {
  return x.requests.slice(from).filter((r) => r.path === protocol.exchange);
}

describe('exactly one exchange per sign-in, however many copies of its callback arrive at once', function () {
  this.timeout(60_000);
  let x: XEmulator;
  let redis: RedisServer;
  const running: Instance[] = [];

  before(async function () {
    x = await startXEmulator();
    redis = await startRedisServer();
  });

  afterEach(async function () {
    for (const instance of running.splice(0)) await instance.close();
    // X matches callback URLs exactly and allows 10 per app: unregister this test's (startInstance registered them).
    for (const app of [x.apps.oauth1, x.apps.confidential]) for (const url of app.callbackURLs) if (!DEFAULT_CALLBACK_URLS.includes(url)) x.removeCallbackURL(url);
  });

  after(async function () {
    await x?.close();
    await redis?.stop();
  });

  async function oneInstance(store: StoreKind, replayGuard?: XReplayGuard): Promise<Instance[]> {
    const server = await serveOnLoopback();
    const instance = await startInstance(x, { store, publicOrigin: server.origin, replayGuard }, server);
    running.push(instance);
    return [instance];
  }

  /**
   * Two instances, as two processes would be: each its own Redis connections. A guards with
   * node-redis, B with ioredis; with the session store, both keep sessions in Redis (connect-redis).
   * Without `sharedGuard`, each strategy keeps its default in-process guard (the control).
   */
  async function twoInstances(store: StoreKind, sharedGuard = true): Promise<Instance[]> {
    const serverA = await serveOnLoopback();
    const instances: Instance[] = [];
    for (const name of ['A', 'B'] as const) {
      const nodeRedis = createClient({ url: redis.url });
      await nodeRedis.connect();
      const ioredis = new IORedis(redis.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
      await ioredis.connect();
      const replayGuard = sharedGuard ? new RedisReplayGuard({ client: name === 'A' ? nodeRedis : ioredis }) : undefined;
      const sessionStore = store === 'session' ? new RedisStore({ client: nodeRedis, prefix: 'exactly-once-e2e:' }) : undefined;
      const cleanup = async (): Promise<void> => {
        await nodeRedis.quit();
        await ioredis.quit();
      };
      const instance = await startInstance(x, { store, publicOrigin: serverA.origin, replayGuard, sessionStore, cleanup }, name === 'A' ? serverA : undefined);
      running.push(instance);
      instances.push(instance);
    }
    return instances;
  }

  const TOPOLOGIES = [
    { name: 'one instance (its in-process guard)', make: (store: StoreKind) => oneInstance(store) },
    { name: 'two instances sharing a RedisReplayGuard', make: (store: StoreKind) => twoInstances(store) },
  ];

  for (const topology of TOPOLOGIES) {
    describe(topology.name, () => {
      for (const protocol of PROTOCOLS) {
        for (const store of ['session', 'cookie'] as const) {
          it(`${protocol.name}, ${store === 'session' ? 'session store' : 'EncryptedCookieStateStore'}: of 2, 5 and 20 parallel callbacks, one signs in, the others get a 4xx, and X sees one exchange`, async function () {
            const instances = await topology.make(store);
            for (const [i, count] of [2, 5, 20].entries()) {
              const user = x.users[i % x.users.length]!;
              const browser = new Browser();
              const callbackURL = await throughConsent(browser, instances[0]!, protocol, user.id);
              const from = x.requests.length;
              const answers = await parallelCallbacks(browser, callbackURL, count, instances);
              const label = `${count} callbacks`;

              const exchanges = exchangesSince(x, from, protocol);
              expect(exchanges.map((r) => r.status), `${label}: one exchange at X, accepted`).to.deep.equal([200]);
              const won = answers.filter((a) => a.status === 200);
              expect(won.map((a) => a.body.user), `${label}: one sign-in`).to.deep.equal([user.id]);
              const lost = answers.filter((a) => a.status !== 200);
              expect(lost, label).to.have.length(count - 1);
              expect(answers.filter((a) => a.status >= 500), `${label}: no 500`).to.deep.equal([]);
              for (const a of lost) {
                // The cookie cannot be consumed, so the claim refuses every copy; with sessions, a copy
                // that loads the session after the winner saved it is refused by the store first.
                if (store === 'cookie' || a.status === 409) {
                  expect(a, label).to.deep.equal({ status: 409, body: { code: 'X_SIGN_IN_IN_PROGRESS', message: 'This sign-in is already being completed. If nothing happens, sign in again.' } });
                } else {
                  expect(a.status, label).to.equal(403);
                }
              }
            }
          });
        }
      }
    });
  }

  describe("when the app's failure handling throws (failureMessage: true without a session)", () => {
    it('a copy that lost the claim, refused in a later tick, ends in the error handler\'s 500: the process lives on, and X sees one exchange', async function () {
      const server = await serveOnLoopback();
      const instance = await startInstance(x, { store: 'cookie', publicOrigin: server.origin, failureMessageWithoutSession: true }, server);
      running.push(instance);
      for (const protocol of PROTOCOLS) {
        const browser = new Browser();
        const callbackURL = await throughConsent(browser, instance, protocol, x.users[0].id);
        const from = x.requests.length;
        const answers = await parallelCallbacks(browser, callbackURL, 3, [instance]);
        expect(exchangesSince(x, from, protocol), protocol.name).to.have.length(1);
        expect(answers.map((a) => a.status).sort(), protocol.name).to.deep.equal([200, 500, 500]);
      }
    });
  });

  describe('controls: without a claim shared by every copy', () => {
    it('one instance whose guard lets everything through: each copy with the cookie reaches X, X revokes the grant, and they end in 401 X_GRANT_REFUSED', async function () {
      const passThrough: XReplayGuard = { claim: async () => true };
      const [instance] = await oneInstance('cookie', passThrough);
      const protocol = PROTOCOLS[0];
      const browser = new Browser();
      const callbackURL = await throughConsent(browser, instance!, protocol, x.users[0].id);
      const from = x.requests.length;
      const answers = await parallelCallbacks(browser, callbackURL, 5, [instance!]);
      const exchanges = exchangesSince(x, from, protocol);
      expect(exchanges).to.have.length(5);
      expect(exchanges.filter((r) => r.reason === 'authorization code already used; the tokens issued for it were revoked')).to.have.length(4);
      // The copies whose code X refused fail for the person (sign in again), not as server errors; the one
      // that got tokens errors when X revokes them under it (RFC 6749 section 4.1.2), or signs in if it was quicker.
      const refused = answers.filter((a) => a.status === 401 && a.body.code === 'X_GRANT_REFUSED');
      expect(refused.length).to.be.at.least(4);
      expect(answers.filter((a) => !refused.includes(a)).every((a) => a.status === 500 || a.status === 200)).to.equal(true);
    });

    it('two instances, each with its own in-process guard: each instance lets one copy through to X', async function () {
      const instances = await twoInstances('cookie', false);
      for (const protocol of PROTOCOLS) {
        const browser = new Browser();
        const callbackURL = await throughConsent(browser, instances[0]!, protocol, x.users[0].id);
        const from = x.requests.length;
        const answers = await parallelCallbacks(browser, callbackURL, 6, instances);
        expect(exchangesSince(x, from, protocol), protocol.name).to.have.length(2);
        expect(answers.filter((a) => a.status === 409), protocol.name).to.have.length(4);
        // Of the two that reached X, the second is refused (401 X_GRANT_REFUSED, not a 500); the first signs in, or errors when X revokes its tokens.
        expect(answers.filter((a) => a.status === 401 && a.body.code === 'X_GRANT_REFUSED'), protocol.name).to.have.length(1);
        expect(answers.filter((a) => a.status === 200 || a.status === 500), protocol.name).to.have.length(1);
      }
    });
  });
});
