// The Redis adapters (lib/redis.ts) against a real redis-server this file starts, through both
// client libraries an app may pass in: node-redis (`redis`) and ioredis. Every behaviour is
// checked with each client, and the two are checked to agree on keys (one app may run both).
import { expect } from 'chai';
import { Redis as IORedis } from 'ioredis';
import { createClient } from 'redis';
import { setTimeout as sleep } from 'node:timers/promises';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { DEFAULT_REDIS_PREFIX, RedisReplayGuard, RedisTokenLock, detectRedisClient, lockRetryWait, nextLockRetryDelay, type XRedisClient } from '../lib/redis';
import { XError, XLockTimeoutError } from '../lib/errors';
import { startRedisServer, type RedisServer } from './support/redis';
import { warningsDuring, type ProcessWarning } from './support/warnings';

type NodeRedis = ReturnType<typeof createClient>;

describe("the lock's back-off schedule", () => {
  it('doubles the delay up to the cap, and waits 50-100 % of it, never past the bound and at least 1 ms', () => {
    const delays: number[] = [];
    for (let delay = 10, i = 0; i < 8; i++, delay = nextLockRetryDelay(delay, 80)) delays.push(delay);
    expect(delays).to.deep.equal([10, 20, 40, 80, 80, 80, 80, 80]);
    for (const delay of delays) {
      expect(lockRetryWait(delay, 10_000, () => 0)).to.equal(delay / 2);
      expect(lockRetryWait(delay, 10_000, () => 0.5)).to.equal(delay * 0.75);
      const longest = lockRetryWait(delay, 10_000, () => 1 - Number.EPSILON);
      expect(longest).to.be.below(delay).and.at.least(delay * 0.99);
    }
    // The bound: no wait past the time left, and never 0 (a busy loop).
    expect(lockRetryWait(80, 7, () => 0.9)).to.equal(7);
    expect(lockRetryWait(80, 0, () => 0.9)).to.equal(1);
    expect(lockRetryWait(1, 100, () => 0)).to.equal(1);
    // Jitter: the same delay gives different waits for different draws.
    expect(new Set([0, 0.25, 0.5, 0.75].map((r) => lockRetryWait(80, 10_000, () => r))).size).to.equal(4);
  });
});

describe('Redis adapters', function () {
  this.timeout(20_000);
  let redis: RedisServer;
  let nodeRedis: NodeRedis;
  let ioredis: IORedis;
  /** The test's own look into Redis. */
  let inspector: NodeRedis;

  before(async function () {
    redis = await startRedisServer();
    nodeRedis = createClient({ url: redis.url });
    await nodeRedis.connect();
    inspector = createClient({ url: redis.url });
    await inspector.connect();
    ioredis = new IORedis(redis.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
    await ioredis.connect();
  });

  after(async function () {
    if (nodeRedis?.isOpen) await nodeRedis.quit();
    if (inspector?.isOpen) await inspector.quit();
    if (ioredis && ioredis.status !== 'end') await ioredis.quit();
    await redis?.stop();
  });

  beforeEach(async function () {
    await inspector.flushAll();
  });

  const sha256 = (text: string): string => createHash('sha256').update(text).digest('base64url');

  describe('telling the clients apart', function () {
    it('recognises a node-redis client by its sendCommand and an ioredis client by its defineCommand', function () {
      expect(detectRedisClient(nodeRedis)).to.equal('node-redis');
      expect(detectRedisClient(ioredis)).to.equal('ioredis');
      expect(new RedisReplayGuard({ client: nodeRedis }).clientKind).to.equal('node-redis');
      expect(new RedisTokenLock({ client: ioredis }).clientKind).to.equal('ioredis');
    });

    it('recognises a node-redis cluster and an ioredis cluster without connecting', function () {
      const { createCluster } = require('redis') as typeof import('redis');
      const { Cluster } = require('ioredis') as typeof import('ioredis');
      expect(detectRedisClient(createCluster({ rootNodes: [{ url: redis.url }] }))).to.equal('node-redis');
      const cluster = new Cluster([{ host: '127.0.0.1', port: redis.port }], { lazyConnect: true });
      expect(detectRedisClient(cluster)).to.equal('ioredis');
      cluster.disconnect();
    });

    it('refuses something that is not a client with a TypeError naming client', function () {
      for (const bad of [null, undefined, 42, 'redis://x', {}, { set() {}, eval() {} }, { set() {}, sendCommand() {} }, { send_command() {}, set() {} }]) {
        expect(() => detectRedisClient(bad), String(bad)).to.throw(TypeError, /client/);
        expect(() => new RedisReplayGuard({ client: bad as XRedisClient }), String(bad)).to.throw(TypeError, /client/);
        expect(() => new RedisTokenLock({ client: bad as XRedisClient }), String(bad)).to.throw(TypeError, /client/);
      }
    });

    it('refuses missing options, a missing client and a bad prefix', function () {
      expect(() => new RedisReplayGuard(undefined as never)).to.throw(TypeError, /options must be an object/);
      expect(() => new RedisTokenLock({} as never)).to.throw(TypeError, /options\.client is required/);
      expect(() => new RedisReplayGuard({ client: nodeRedis, prefix: '' })).to.throw(TypeError, /options\.prefix/);
      expect(() => new RedisTokenLock({ client: nodeRedis, prefix: 3 as never })).to.throw(TypeError, /options\.prefix/);
    });
  });

  for (const which of ['node-redis', 'ioredis'] as const) {
    const client = (): XRedisClient => (which === 'node-redis' ? nodeRedis : ioredis);

    describe(`RedisReplayGuard over ${which}`, function () {
      it('gives a key to the first claim only, until its TTL passes', async function () {
        const guard = new RedisReplayGuard({ client: client() });
        expect(await guard.claim('state-1', 300)).to.equal(true);
        expect(await guard.claim('state-1', 300)).to.equal(false);
        expect(await guard.claim('state-2', 300)).to.equal(true);
        await sleep(350);
        expect(await guard.claim('state-1', 300)).to.equal(true);
      });

      it('gives a key to exactly one of 50 parallel claims', async function () {
        const guard = new RedisReplayGuard({ client: client() });
        const results = await Promise.all(Array.from({ length: 50 }, () => guard.claim('raced', 10_000)));
        expect(results.filter(Boolean)).to.have.length(1);
      });

      it('stores the SHA-256 of the key under the passport-x: namespace with a TTL, never the key itself', async function () {
        const guard = new RedisReplayGuard({ client: client() });
        const secretish = 'oauth-state-that-must-not-be-stored';
        await guard.claim(secretish, 60_000);
        const keys = await inspector.keys('*');
        expect(keys).to.deep.equal([`passport-x:claim:${sha256(secretish)}`]);
        expect(guard.redisKey(secretish)).to.equal(keys[0]);
        // The claim's value is random per call (see "a reply lost" below), and never the key.
        const value = await inspector.get(keys[0]!);
        expect(value).to.match(/^[A-Za-z0-9_-]{22}$/);
        await guard.claim('another', 60_000);
        expect(await inspector.get(guard.redisKey('another'))).to.match(/^[A-Za-z0-9_-]{22}$/).and.not.equal(value);
        const pttl = await inspector.pTTL(keys[0]!);
        expect(pttl).to.be.within(1, 60_000);
        expect(keys.join()).not.to.include(secretish);
      });

      it('uses the prefix option', async function () {
        const guard = new RedisReplayGuard({ client: client(), prefix: 'myapp:px:' });
        await guard.claim('k', 1000);
        expect(await inspector.keys('*')).to.deep.equal([`myapp:px:claim:${sha256('k')}`]);
        expect(DEFAULT_REDIS_PREFIX).to.equal('passport-x:');
      });

      it('refuses a bad key or TTL before it reaches Redis', async function () {
        const guard = new RedisReplayGuard({ client: client() });
        for (const bad of [0, -1, 1.5, NaN, Infinity, '100', undefined]) {
          let caught: unknown;
          await guard.claim('k', bad as number).catch((err: unknown) => (caught = err));
          expect(caught, String(bad)).to.be.instanceOf(RangeError).with.property('message').that.matches(/ttlMs/);
        }
        for (const bad of ['', 42, undefined]) {
          let caught: unknown;
          await guard.claim(bad as string, 1000).catch((err: unknown) => (caught = err));
          expect(caught, String(bad)).to.be.instanceOf(TypeError).with.property('message').that.matches(/key/);
        }
        expect(await inspector.keys('*')).to.deep.equal([]);
      });
    });

    describe(`RedisTokenLock over ${which}`, function () {
      it('runs fn holding a random-valued key with the TTL, returns its value and releases the key', async function () {
        const lock = new RedisTokenLock({ client: client() });
        const redisKey = lock.redisKey('user-1');
        expect(redisKey).to.equal(`passport-x:lock:${sha256('user-1')}`);
        let seen: { value: string | null; pttl: number } | undefined;
        const out = await lock.withLock('user-1', 5000, async () => {
          seen = { value: await inspector.get(redisKey), pttl: await inspector.pTTL(redisKey) };
          return 'result';
        });
        expect(out).to.equal('result');
        expect(seen!.value).to.match(/^[A-Za-z0-9_-]{22}$/);
        expect(seen!.pttl).to.be.within(1, 5000);
        expect(await inspector.exists(redisKey)).to.equal(0);
      });

      it('gives fn the lease { expiresAt: when the SET that took the key was sent + ttlMs }: a take answered late leaves fn less time, never more than Redis keeps the key', async function () {
        const lock = new RedisTokenLock({ client: client() });
        const before = Date.now();
        const lease = await lock.withLock('user-1', 5000, async (l) => l);
        // Counted on the monotonic clock and given on the wall clock's whole milliseconds: within 1 ms of them.
        expect(lease!.expiresAt).to.be.within(before + 5000 - 1, Date.now() + 5000);
        // A client that sends the SET 300 ms late (queuing while it reconnects): the lease counts from the call.
        const late = new Proxy(client() as object, {
          get(target, prop, receiver) {
            const value = Reflect.get(target, prop, receiver) as unknown;
            if (prop === 'set' && typeof value === 'function') {
              return async (...args: unknown[]) => {
                await sleep(300);
                return (value as (...a: unknown[]) => unknown).apply(target, args);
              };
            }
            return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
          },
        }) as XRedisClient;
        const slowLock = new RedisTokenLock({ client: late });
        let seen: { leftByLease: number; pttl: number } | undefined;
        await slowLock.withLock('user-2', 5000, async (l) => {
          const leftByLease = l!.expiresAt - Date.now();
          seen = { leftByLease, pttl: await inspector.pTTL(slowLock.redisKey('user-2')) };
        });
        expect(seen!.leftByLease).to.be.at.most(5000 - 290);
        expect(seen!.pttl, 'Redis keeps the key longer than the lease says').to.be.greaterThan(seen!.leftByLease);
      });

      it('counts the lease and the wait on the monotonic clock: a wall clock stepped back during the take lengthens neither', async function () {
        // A client whose SET is answered after the wall clock stepped back 10 s (NTP, a resumed VM).
        const realNow = Date.now;
        const steppingBack = new Proxy(client() as object, {
          get(target, prop, receiver) {
            const value = Reflect.get(target, prop, receiver) as unknown;
            if (prop === 'set' && typeof value === 'function') {
              return async (...args: unknown[]) => {
                const answer = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
                if (Date.now === realNow) Date.now = () => realNow() - 10_000;
                return answer;
              };
            }
            return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
          },
        }) as XRedisClient;
        try {
          let leftByLease = 0;
          await new RedisTokenLock({ client: steppingBack }).withLock('user-3', 5000, async (l) => {
            leftByLease = l!.expiresAt - Date.now();
          });
          expect(Date.now, 'the clock stepped back').not.to.equal(realNow);
          expect(leftByLease, 'no more than the TTL, not the TTL plus the step').to.be.within(4000, 5000);
        } finally {
          Date.now = realNow;
        }
        // A waiter: the other holder keeps the key; the clock steps back after the first attempt.
        const waiter = new RedisTokenLock({ client: steppingBack, acquireTimeoutMs: 150, retryDelayMs: 10, maxRetryDelayMs: 40 });
        await inspector.set(waiter.redisKey('held-2'), 'another-holder', { PX: 10_000 });
        const started = performance.now();
        let caught: unknown;
        try {
          await waiter.withLock('held-2', 1000, async () => undefined).catch((err: unknown) => (caught = err));
        } finally {
          Date.now = realNow;
        }
        expect(caught).to.be.instanceOf(XLockTimeoutError);
        expect((caught as XLockTimeoutError).waitedMs).to.be.within(150, 1000);
        expect(performance.now() - started, 'gave up after acquireTimeoutMs, not 10 s later').to.be.below(1000);
      });

      it('releases the key when fn throws, and rethrows fn\'s error', async function () {
        const lock = new RedisTokenLock({ client: client() });
        const boom = new Error('boom');
        let caught: unknown;
        await lock.withLock('user-1', 5000, async () => {
          throw boom;
        }).catch((err: unknown) => (caught = err));
        expect(caught).to.equal(boom);
        expect(await inspector.exists(lock.redisKey('user-1'))).to.equal(0);
      });

      it('lets one holder at a time run, across lock instances and both client libraries', async function () {
        const locks = [new RedisTokenLock({ client: nodeRedis, retryDelayMs: 2, maxRetryDelayMs: 10 }), new RedisTokenLock({ client: ioredis, retryDelayMs: 2, maxRetryDelayMs: 10 })];
        let inside = 0;
        let most = 0;
        let runs = 0;
        await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            locks[i % 2]!.withLock('shared', 5000, async () => {
              inside++;
              most = Math.max(most, inside);
              await sleep(3);
              runs++;
              inside--;
            }),
          ),
        );
        expect(runs).to.equal(20);
        expect(most).to.equal(1);
      });

      it('does not hold up other keys', async function () {
        const lock = new RedisTokenLock({ client: client(), acquireTimeoutMs: 0 });
        await inspector.set(lock.redisKey('busy'), 'someone-else', { PX: 5000 });
        expect(await lock.withLock('free', 1000, async () => 'ran')).to.equal('ran');
      });

      it('gives up after acquireTimeoutMs with XLockTimeoutError, without running fn', async function () {
        const lock = new RedisTokenLock({ client: client(), acquireTimeoutMs: 150, retryDelayMs: 10, maxRetryDelayMs: 40 });
        await inspector.set(lock.redisKey('held'), 'another-holder', { PX: 10_000 });
        let ran = false;
        const started = Date.now();
        let caught: unknown;
        await lock.withLock('held', 1000, async () => {
          ran = true;
        }).catch((err: unknown) => (caught = err));
        const took = Date.now() - started;
        expect(ran).to.equal(false);
        expect(caught).to.be.instanceOf(XLockTimeoutError).and.instanceOf(XError);
        const err = caught as XLockTimeoutError;
        expect(err.code).to.equal('X_LOCK_TIMEOUT');
        expect(err.message).to.match(/acquireTimeoutMs = 150 ms/);
        expect(err.waitedMs).to.be.at.least(150);
        expect(err.attempts).to.be.within(3, 16);
        expect(took).to.be.within(150, 1000);
        // The other holder's key is untouched.
        expect(await inspector.get(lock.redisKey('held'))).to.equal('another-holder');
      });

      it('waits, by default, up to twice the TTL: enough for a dead holder\'s key to expire', async function () {
        const lock = new RedisTokenLock({ client: client(), retryDelayMs: 5, maxRetryDelayMs: 20 });
        // A holder that died: its key stays until its TTL passes.
        await inspector.set(lock.redisKey('orphan'), 'dead-holder', { PX: 250 });
        const started = Date.now();
        expect(await lock.withLock('orphan', 300, async () => 'took over')).to.equal('took over');
        // Not before the orphan's key expired; the upper bound leaves room for a busy machine's timers.
        expect(Date.now() - started).to.be.within(200, 2_000);
      });

      it('backs off exponentially with jitter between attempts, up to maxRetryDelayMs', async function () {
        const attemptsAt: number[] = [];
        const counting = new Proxy(client() as object, {
          get(target, prop, receiver) {
            const value = Reflect.get(target, prop, receiver) as unknown;
            if (prop === 'set' && typeof value === 'function') {
              return (...args: unknown[]) => {
                attemptsAt.push(performance.now());
                return (value as (...a: unknown[]) => unknown).apply(target, args);
              };
            }
            return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
          },
        }) as XRedisClient;
        const lock = new RedisTokenLock({ client: counting, acquireTimeoutMs: 700, retryDelayMs: 10, maxRetryDelayMs: 80 });
        await inspector.set(lock.redisKey('held'), 'another-holder', { PX: 10_000 });
        await lock.withLock('held', 1000, async () => undefined).catch(() => undefined);
        const gaps = attemptsAt.slice(1).map((t, i) => t - attemptsAt[i]!);
        expect(gaps.length).to.be.within(6, 40);
        // First waits grow (10 -> 20 -> 40, each 50-100 %). Timers never fire early, so these lower
        // bounds hold on a loaded machine; the cap (an upper bound a busy machine's late timers can
        // pass) is checked exactly on the schedule itself, in "the lock's back-off schedule" below.
        expect(gaps[0]).to.be.at.least(4);
        expect(Math.max(...gaps.slice(3))).to.be.at.least(35);
        // Jitter: the capped waits are not all the same length.
        const capped = gaps.slice(4, -1).map((g) => Math.round(g));
        expect(new Set(capped).size).to.be.greaterThan(1);
      });

      it('never releases a key that expired and was taken by the next holder', async function () {
        const lock = new RedisTokenLock({ client: client(), retryDelayMs: 5, maxRetryDelayMs: 10 });
        const redisKey = lock.redisKey('slow');
        let secondValue: string | null = null;
        await lock.withLock('slow', 100, async () => {
          await sleep(150); // outlives its TTL
          // The next holder takes the expired lock meanwhile.
          await inspector.set(redisKey, 'next-holder', { PX: 5000, NX: true });
          secondValue = await inspector.get(redisKey);
        });
        expect(secondValue).to.equal('next-holder');
        expect(await inspector.get(redisKey)).to.equal('next-holder');
      });

      it('refuses bad arguments and options with errors naming them', async function () {
        const lock = new RedisTokenLock({ client: client() });
        const tries: Array<[unknown, unknown, unknown, RegExp, ErrorConstructor]> = [
          ['', 1000, async () => 1, /key/, TypeError],
          [42, 1000, async () => 1, /key/, TypeError],
          ['k', 0, async () => 1, /ttlMs/, RangeError],
          ['k', 10.5, async () => 1, /ttlMs/, RangeError],
          ['k', 2 ** 31, async () => 1, /ttlMs must be a whole number of milliseconds from 1 to 2147483647/, RangeError],
          ['k', 1000, 'not a function', /fn/, TypeError],
        ];
        for (const [key, ttl, fn, message, type] of tries) {
          let caught: unknown;
          await lock.withLock(key as string, ttl as number, fn as () => Promise<number>).catch((err: unknown) => (caught = err));
          expect(caught, String(message)).to.be.instanceOf(type).with.property('message').that.matches(message);
        }
        expect(() => new RedisTokenLock({ client: client(), acquireTimeoutMs: -1 })).to.throw(RangeError, /acquireTimeoutMs/);
        expect(() => new RedisTokenLock({ client: client(), retryDelayMs: 0 })).to.throw(RangeError, /retryDelayMs/);
        // Past Node's longest timer (2^31-1 ms), a wait fires after 1 ms: a busy retry.
        for (const name of ['acquireTimeoutMs', 'retryDelayMs', 'maxRetryDelayMs'] as const) {
          expect(() => new RedisTokenLock({ client: client(), [name]: 2 ** 31 }), name).to.throw(RangeError, new RegExp(`${name} must be a number of milliseconds from \\d+ to 2147483647`));
        }
        expect(() => new RedisTokenLock({ client: client(), maxRetryDelayMs: NaN })).to.throw(RangeError, /maxRetryDelayMs/);
        expect(() => new RedisTokenLock({ client: client(), retryDelayMs: 100, maxRetryDelayMs: 50 })).to.throw(RangeError, /maxRetryDelayMs/);
        expect(await inspector.keys('*')).to.deep.equal([]);
      });
    });
  }

  describe('both client libraries on one Redis', function () {
    it('agree on keys: a claim taken through one is refused through the other', async function () {
      const viaNode = new RedisReplayGuard({ client: nodeRedis });
      const viaIO = new RedisReplayGuard({ client: ioredis });
      expect(await viaNode.claim('shared', 10_000)).to.equal(true);
      expect(await viaIO.claim('shared', 10_000)).to.equal(false);
      expect(viaNode.redisKey('x')).to.equal(viaIO.redisKey('x'));
    });
  });

  describe('a reply lost with the connection (the command resent by ioredis, not by node-redis)', function () {
    /**
     * A loopback proxy to the test's Redis that, once, forwards the first command naming `marker`
     * and then drops both connections when Redis answers it, so the client never gets that reply.
     * ioredis reconnects and sends the command again (autoResendUnfulfilledCommands, its default).
     */
    async function replyDroppingProxy(marker: string): Promise<{ port: number; dropped: () => boolean; close: () => void }> {
      let dropped = false;
      const sockets: Socket[] = [];
      const server: Server = createServer((down) => {
        const up = connect(redis.port, '127.0.0.1');
        sockets.push(down, up);
        let cutting = false;
        down.on('data', (chunk: Buffer) => {
          up.write(chunk);
          if (!dropped && chunk.includes(marker)) {
            dropped = cutting = true;
            up.once('data', () => {
              down.destroy();
              up.destroy();
            });
          }
        });
        up.on('data', (chunk: Buffer) => {
          if (!cutting) down.write(chunk);
        });
        for (const socket of [down, up]) socket.on('error', () => undefined);
        down.on('close', () => up.destroy());
        up.on('close', () => down.destroy());
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      return {
        port: (server.address() as AddressInfo).port,
        dropped: () => dropped,
        close: () => {
          for (const socket of sockets) socket.destroy();
          server.close();
        },
      };
    }

    async function throughProxy<T>(marker: string, run: (client: IORedis) => Promise<T>): Promise<T> {
      const proxy = await replyDroppingProxy(marker);
      const client = new IORedis(proxy.port, '127.0.0.1', { retryStrategy: () => 20 });
      try {
        const result = await run(client);
        expect(proxy.dropped(), 'the proxy dropped the reply').to.equal(true);
        return result;
      } finally {
        client.disconnect();
        proxy.close();
      }
    }

    it('RedisReplayGuard: the claim Redis applied is this call\'s, not "already taken"', async function () {
      const guard = new RedisReplayGuard({ client: ioredis });
      const claimed = await throughProxy(':claim:', (client) => new RedisReplayGuard({ client }).claim('state-of-a-lost-reply', 60_000));
      expect(claimed, 'the only claim of the key').to.equal(true);
      // Still one claim: anyone else is refused.
      expect(await guard.claim('state-of-a-lost-reply', 60_000)).to.equal(false);
      expect(await inspector.keys('*')).to.have.length(1);
    });

    it('RedisTokenLock over node-redis, which does not resend: the take fails with XLockTimeoutError, and the lock its SET took is released at once, not left for its TTL', async function () {
      const proxy = await replyDroppingProxy(':lock:');
      const client = createClient({ url: `redis://127.0.0.1:${proxy.port}`, socket: { reconnectStrategy: () => 20 } });
      client.on('error', () => undefined);
      await client.connect();
      let ran = false;
      let caught: unknown;
      try {
        await new RedisTokenLock({ client }).withLock('user-of-a-lost-reply', 30_000, async () => {
          ran = true;
        }).catch((err: unknown) => (caught = err));
        expect(proxy.dropped(), 'the proxy dropped the reply').to.equal(true);
        expect(caught).to.be.instanceOf(XLockTimeoutError).and.include({ code: 'X_LOCK_TIMEOUT', attempts: 1 });
        expect((caught as Error).message).to.include('Redis answered the command that takes the lock with an error').and.include('a dropped connection');
        expect(ran).to.equal(false);
        // The SET reached Redis: the release (sent once node-redis reconnected) deletes it long before its 30 s TTL.
        const started = Date.now();
        while ((await inspector.keys('*')).length > 0 && Date.now() - started < 5000) await sleep(10);
        expect(await inspector.keys('*'), 'released').to.deep.equal([]);
      } finally {
        await client.disconnect().catch(() => undefined);
        proxy.close();
      }
    });

    it('RedisTokenLock: the holder whose SET Redis applied runs at once, never waiting for its own lock', async function () {
      // acquireTimeoutMs 0: a holder that took its own lock for someone else's gives up at once (XLockTimeoutError).
      const ran = await throughProxy(':lock:', (client) => new RedisTokenLock({ client, acquireTimeoutMs: 0 }).withLock('user-of-a-lost-reply', 30_000, async () => 'ran'));
      expect(ran).to.equal('ran');
      expect(await inspector.keys('*'), 'released').to.deep.equal([]);
    });
  });

  describe('when Redis fails', function () {
    it('rejects with the client\'s error: nothing swallowed', async function () {
      const closed = createClient({ url: redis.url });
      await closed.connect();
      await closed.quit();
      let caught: unknown;
      await new RedisReplayGuard({ client: closed }).claim('k', 1000).catch((err: unknown) => (caught = err));
      expect(caught).to.be.instanceOf(Error);
      caught = undefined;
      let ran = false;
      const warnings = await warningsSettled(async () => {
        await new RedisTokenLock({ client: closed }).withLock('k', 1000, async () => {
          ran = true;
        }).catch((err: unknown) => (caught = err));
      });
      // The release after the failed take fails too (the client is closed), and says nothing: the error says it all.
      expect(warnings.filter((w) => w.code === 'PASSPORT_X_LOCK_RELEASE_FAILED')).to.deep.equal([]);
      // The lock's is typed (retry later, as for a Redis that does not answer), the client's error its cause.
      expect(caught).to.be.instanceOf(XLockTimeoutError).and.include({ code: 'X_LOCK_TIMEOUT', attempts: 1 });
      expect((caught as Error).cause).to.be.instanceOf(Error).with.property('message').that.matches(/closed/i);
      expect(ran).to.equal(false);
    });

    for (const which of ['node-redis', 'ioredis'] as const) {
      it(`RedisTokenLock over ${which}: a take Redis refuses (a memory limit under noeviction) fails with XLockTimeoutError, its cause Redis's error, nothing run and nothing warned`, async function () {
        const client = which === 'node-redis' ? nodeRedis : ioredis;
        let ran = false;
        let caught: unknown;
        await inspector.configSet({ maxmemory: '1', 'maxmemory-policy': 'noeviction' });
        let warnings: Error[];
        try {
          warnings = await warningsSettled(async () => {
            await new RedisTokenLock({ client }).withLock('user-1', 1000, async () => {
              ran = true;
            }).catch((err: unknown) => (caught = err));
          });
        } finally {
          await inspector.configSet({ maxmemory: '0' });
        }
        expect(caught).to.be.instanceOf(XLockTimeoutError).and.include({ code: 'X_LOCK_TIMEOUT', attempts: 1 });
        const message = (caught as Error).message;
        expect(message).to.include('Redis answered the command that takes the lock with an error (OOM command not allowed').and.include('a memory limit with noeviction').and.include('retry later');
        expect((caught as Error).cause).to.be.instanceOf(Error).with.property('message').that.matches(/^OOM command not allowed/);
        expect(ran).to.equal(false);
        expect(warnings.filter((w) => (w as { code?: string }).code === 'PASSPORT_X_LOCK_RELEASE_FAILED'), 'the failed take is the error, not a release warning').to.deep.equal([]);
        expect(await inspector.keys('*')).to.deep.equal([]);
      });
    }

    for (const which of ['node-redis', 'ioredis'] as const) {
      it(`RedisTokenLock over ${which}: a Redis that does not answer fails the call within the lock's TTL, and a lock its late answer took is released`, async function () {
        const client = which === 'node-redis' ? nodeRedis : ioredis;
        const lock = new RedisTokenLock({ client });
        let ran = false;
        const started = Date.now();
        redis.pause();
        let caught: unknown;
        try {
          await lock.withLock('user-of-a-hung-redis', 1000, async () => {
            ran = true;
          }).catch((err: unknown) => (caught = err));
        } finally {
          redis.resume();
        }
        const waited = Date.now() - started;
        expect(caught).to.be.instanceOf(XLockTimeoutError).and.include({ code: 'X_LOCK_TIMEOUT', attempts: 1 });
        expect((caught as Error).message).to.match(/Redis did not answer the command that takes the lock within the lock's TTL \(1000 ms\)/).and.match(/Check that the Redis server is up/);
        expect(waited, 'gave up at the TTL').to.be.within(950, 3000);
        expect(ran).to.equal(false);
        // The SET went through once Redis went on: released at once, not after its 1000 ms TTL.
        const resumed = Date.now();
        while ((await inspector.keys('*')).length > 0 && Date.now() - resumed < 2000) await sleep(10);
        expect(await inspector.keys('*')).to.deep.equal([]);
        // The key would expire 1000 ms after the SET that Redis ran on resuming: gone sooner, it was released.
        expect(Date.now() - resumed, 'released before the TTL would have expired it').to.be.below(950);
      });
    }

    it('an EVAL Redis refuses after a null SET (an ACL without scripting) is "taken": a claim is false, a lock waiter waits and gives up with XLockTimeoutError', async function () {
      const calls: string[] = [];
      // The key exists (SET answers null); the EVAL that checks whose it is fails, as under `-@scripting`.
      const noScripting = {
        set: async () => {
          calls.push('set');
          return null;
        },
        eval: async () => {
          calls.push('eval');
          throw new Error("NOPERM User default has no permissions to run the 'eval' command");
        },
        sendCommand: async () => undefined,
      } as unknown as XRedisClient;
      expect(await new RedisReplayGuard({ client: noScripting }).claim('state-1', 60_000)).to.equal(false);
      expect(calls).to.deep.equal(['set', 'eval']);
      calls.length = 0;
      let ran = false;
      const err = await new RedisTokenLock({ client: noScripting, acquireTimeoutMs: 60, retryDelayMs: 5, maxRetryDelayMs: 10 })
        .withLock('user-1', 1000, async () => {
          ran = true;
        })
        .catch((e: unknown) => e);
      expect(err).to.be.instanceOf(XLockTimeoutError).with.property('message').that.matches(/stayed taken by another holder/);
      expect(ran).to.equal(false);
      expect(calls.filter((c) => c === 'set').length, 'retried').to.be.at.least(2);
    });

    /** A node-redis-shaped client whose SET works and whose EVAL (the release) does what `release` says. */
    function releaseFailing(release: () => Promise<unknown>): XRedisClient {
      return { set: async () => 'OK', eval: release, sendCommand: async () => undefined } as unknown as XRedisClient;
    }

    /** The warnings `run` causes, listening 10 ms longer: the lock is released after fn's value is known. */
    function warningsSettled(run: () => Promise<void>): Promise<ProcessWarning[]> {
      return warningsDuring(run, { settleMs: 10 });
    }

    it("RedisTokenLock: a release Redis refuses after fn succeeded returns fn's value, and warns once per lock instance, whatever the key", async function () {
      const lock = new RedisTokenLock({ client: releaseFailing(async () => Promise.reject(new Error('Socket closed unexpectedly'))) });
      const results: string[] = [];
      const warnings = await warningsSettled(async () => {
        results.push(await lock.withLock('user-1', 5000, async () => 'refreshed'));
        results.push(await lock.withLock('user-2', 5000, async () => 'refreshed again'));
        // fn's own error still wins over the release's.
        const err = await lock.withLock('user-3', 5000, async () => Promise.reject(new Error('from fn'))).catch((e: unknown) => e);
        expect(err).to.have.property('message', 'from fn');
      });
      expect(results).to.deep.equal(['refreshed', 'refreshed again']);
      const ours = warnings.filter((w) => (w as { code?: string }).code === 'PASSPORT_X_LOCK_RELEASE_FAILED');
      expect(ours).to.have.length(1);
      expect(ours[0]!.message).to.include('could not release a lock: Redis answered an error (Socket closed unexpectedly)').and.include('expires at the end of its TTL');
    });

    it("RedisTokenLock: a release Redis never answers ends at the lock's TTL with fn's value", async function () {
      const lock = new RedisTokenLock({ client: releaseFailing(() => new Promise(() => undefined)) });
      let value: string | undefined;
      const started = Date.now();
      const warnings = await warningsSettled(async () => {
        value = await lock.withLock('user-1', 200, async () => 'refreshed');
      });
      expect(value).to.equal('refreshed');
      expect(Date.now() - started).to.be.within(190, 2000);
      expect(warnings.map((w) => w.message).join('\n')).to.include("Redis did not answer within the lock's TTL (200 ms)");
    });
  });
});
