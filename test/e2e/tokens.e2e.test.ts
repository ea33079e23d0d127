// Several processes, one user, one refresh token: 3 child processes (test/support/token-worker.ts)
// x 50 concurrent XTokenManager.getAccessToken calls for a user whose access token is about to
// expire, their token store a JSON value in Redis (a redis-server this suite starts), X the
// emulator in this process.
//
// - With RedisTokenLock: exactly one refresh reaches X; all 150 callers get the same token, which
//   X accepts (users/me); the store holds the newest pair.
// - Control, each process with only its own in-process lock: more than one refresh reaches X, X
//   refuses the used refresh token, and the user's tokens are lost: the lock is what prevents it.
// - The process holding the lock is SIGKILLed: the lock expires after its TTL and another process
//   refreshes, once.
//
// In every run the emulator holds the first refresh for 800 ms, so the processes that do not
// hold the lock are surely asking while the refresh is in flight.
import { expect } from 'chai';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createClient } from 'redis';
import { fetchUsersMe, xEndpoints, type XTokenSet } from '../../lib/endpoints';
import { RedisTokenLock } from '../../lib/redis';
import { startXEmulator, type XEmulator } from '../../lib/testing';
import { startRedisServer, type RedisServer } from '../support/redis';
import { redisJSONStore, signInOnEmulator } from '../support/token-fixtures';
import type { TokenRunConfig, TokenWorkerMessage } from '../support/token-worker';

const WORKER = join(__dirname, '..', 'support', 'token-worker.ts');
const PROCESSES = 3;
const CALLERS = 50;
/** How late the emulator answers the first refresh of each run. */
const REFRESH_DELAY_MS = 800;

type Done = Extract<TokenWorkerMessage, { type: 'done' }>;

interface Worker {
  child: ChildProcess;
  /** Resolves with the next message of `type` (for `userKey`, when given) not yet taken. */
  next(type: TokenWorkerMessage['type'], userKey?: string): Promise<TokenWorkerMessage>;
}

function startWorker(redisURL: string): Worker {
  const child = fork(WORKER, [], {
    execArgv: ['--require', 'tsx/cjs'],
    env: { ...process.env, TOKEN_WORKER_REDIS_URL: redisURL },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const unread: TokenWorkerMessage[] = [];
  const waiters: Array<{ matches: (m: TokenWorkerMessage) => boolean; resolve: (m: TokenWorkerMessage) => void; reject: (err: Error) => void }> = [];
  child.on('message', (message: TokenWorkerMessage) => {
    const waiter = waiters.find((w) => w.matches(message));
    if (waiter) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(message);
    } else unread.push(message);
  });
  child.on('exit', (code, signal) => {
    for (const waiter of waiters.splice(0)) waiter.reject(new Error(`worker ${child.pid} exited (${signal ?? code}) before answering`));
  });
  return {
    child,
    next(type, userKey) {
      const matches = (m: TokenWorkerMessage): boolean => m.type === type && (userKey === undefined || ('userKey' in m && m.userKey === userKey));
      const seen = unread.find(matches);
      if (seen) {
        unread.splice(unread.indexOf(seen), 1);
        return Promise.resolve(seen);
      }
      if (child.exitCode !== null || child.signalCode !== null) return Promise.reject(new Error(`worker ${child.pid} already exited`));
      return new Promise((resolve, reject) => waiters.push({ matches, resolve, reject }));
    },
  };
}

async function stopWorker(worker: Worker): Promise<void> {
  if (worker.child.exitCode !== null || worker.child.signalCode !== null) return;
  const exited = once(worker.child, 'exit');
  worker.child.kill('SIGKILL');
  await exited;
}

describe('XTokenManager across processes (Redis store and lock, emulator)', function () {
  this.timeout(30_000);
  let redis: RedisServer;
  let x: XEmulator;
  let inspector: ReturnType<typeof createClient>;
  /** The app's instances, started once for every run (the slow part); the kill run goes last. */
  let workers: Worker[] = [];

  before(async function () {
    [redis, x] = await Promise.all([startRedisServer(), startXEmulator()]);
    inspector = createClient({ url: redis.url });
    await inspector.connect();
    workers = Array.from({ length: PROCESSES }, () => startWorker(redis.url));
    await Promise.all(workers.map((w) => w.next('ready')));
  });

  after(async function () {
    await Promise.all(workers.map(stopWorker));
    if (inspector?.isOpen) await inspector.quit();
    await x?.close();
    await redis?.stop();
  });

  /** A new user key, signed in, stored with an access token that expires in 5 s (due: refreshBeforeMs is 60 s). */
  async function userAboutToExpire(userKey: string): Promise<XTokenSet> {
    const tokens = await signInOnEmulator(x);
    await redisJSONStore(inspector).set(userKey, { ...tokens, expiresAt: new Date(Date.now() + 5_000) });
    return tokens;
  }

  async function storedPair(userKey: string): Promise<XTokenSet | undefined> {
    const value = await redisJSONStore(inspector).get(userKey);
    return (value ?? undefined) as XTokenSet | undefined;
  }

  async function acceptedByX(accessToken: string): Promise<boolean> {
    try {
      return (await fetchUsersMe(xEndpoints(x.baseURL).usersMe, accessToken, [], {})).data.id === x.users[0].id;
    } catch {
      return false;
    }
  }

  /** Sends one run to every process at once. */
  function run(userKey: string, options: Partial<TokenRunConfig>): Worker[] {
    const config: TokenRunConfig = {
      baseURL: x.baseURL,
      clientID: x.apps.confidential.clientID,
      clientSecret: x.apps.confidential.clientSecret,
      userKey,
      callers: CALLERS,
      lock: 'redis',
      timeoutMs: 5_000,
      lockTtlMs: 8_000,
      ...options,
    };
    expect(workers.every((w) => w.child.exitCode === null && w.child.signalCode === null), 'every process is running').to.equal(true);
    // The first refresh to reach X is answered late: the others ask meanwhile.
    x.failNext('/2/oauth2/token', { delayMs: REFRESH_DELAY_MS });
    for (const worker of workers) worker.child.send({ type: 'run', ...config });
    return workers;
  }

  async function results(of: Worker[], userKey: string): Promise<Done[]> {
    return (await Promise.all(of.map((w) => w.next('done', userKey)))) as Done[];
  }

  /** The refreshes X answered since `from` (an index into x.requests). */
  function refreshesSince(from: number): Array<{ status: number }> {
    return x.requests.slice(from).filter((r) => r.method === 'POST' && r.path === '/2/oauth2/token');
  }

  it('refreshes once for 3 processes x 50 callers with RedisTokenLock: every caller gets the same token, X accepts it, the store holds the newest pair', async function () {
    const userKey = 'user-locked';
    const original = await userAboutToExpire(userKey);
    const from = x.requests.length;
    const outcomes = await results(run(userKey, { lock: 'redis' }), userKey);

    expect(outcomes.flatMap((r) => r.errors)).to.deep.equal([]);
    const tokens = outcomes.flatMap((r) => r.tokens);
    expect(tokens).to.have.length(PROCESSES * CALLERS);
    expect(new Set(tokens).size, 'one token for every caller').to.equal(1);
    expect(tokens[0]).not.to.equal(original.accessToken);
    expect(refreshesSince(from).map((r) => r.status), 'exactly one refresh reached X').to.deep.equal([200]);
    expect(await acceptedByX(tokens[0]!)).to.equal(true);
    const stored = await storedPair(userKey);
    expect(stored!.accessToken).to.equal(tokens[0]);
    expect(x.isRefreshTokenValid(stored!.refreshToken!), 'the stored refresh token is the newest').to.equal(true);
    expect(x.isRefreshTokenValid(original.refreshToken!)).to.equal(false);
    // The lock was released.
    expect(await inspector.exists(new RedisTokenLock({ client: inspector }).redisKey(userKey))).to.equal(0);
  });

  it('control: without the shared lock, the processes refresh more than once and X refuses the used refresh token', async function () {
    const userKey = 'user-unlocked';
    const original = await userAboutToExpire(userKey);
    const from = x.requests.length;
    const outcomes = await results(run(userKey, { lock: 'in-process' }), userKey);

    const refreshes = refreshesSince(from);
    expect(refreshes.length, 'more than one refresh reached X').to.be.greaterThan(1);
    expect(refreshes.filter((r) => r.status === 400).length, 'X refused the burned refresh token').to.be.at.least(1);
    // A process X refused reads the store again: it gets the pair another process stored by then, else
    // it deletes the tokens and its callers get X_REFRESH_TOKEN_REVOKED (signed out). Which, the race decides.
    const codes = new Set(outcomes.flatMap((r) => r.errors).map((e) => e.code));
    for (const code of codes) expect(code).to.equal('X_REFRESH_TOKEN_REVOKED');
    expect(x.isRefreshTokenValid(original.refreshToken!)).to.equal(false);
  });

  it('lets another process refresh, once, after the process holding the lock is killed and the lock expires', async function () {
    const userKey = 'user-killed';
    const original = await userAboutToExpire(userKey);
    const from = x.requests.length;
    const lockTtlMs = 2_500;
    const started = run(userKey, { lock: 'redis', timeoutMs: 2_000, lockTtlMs, dieHoldingLock: `test-victim:${userKey}` });
    const holder = await Promise.race(started.map((w) => w.next('holding', userKey).then(() => w)));
    const killedAt = Date.now();
    holder.child.kill('SIGKILL');
    await once(holder.child, 'exit');
    const survivors = started.filter((w) => w !== holder);
    const outcomes = await results(survivors, userKey);
    const tookOver = Date.now() - killedAt;

    expect(outcomes.flatMap((r) => r.errors)).to.deep.equal([]);
    const tokens = outcomes.flatMap((r) => r.tokens);
    expect(tokens).to.have.length((PROCESSES - 1) * CALLERS);
    expect(new Set(tokens).size).to.equal(1);
    expect(refreshesSince(from).map((r) => r.status), 'one refresh, by a survivor').to.deep.equal([200]);
    expect(await acceptedByX(tokens[0]!)).to.equal(true);
    expect((await storedPair(userKey))!.accessToken).to.equal(tokens[0]);
    expect(x.isRefreshTokenValid(original.refreshToken!)).to.equal(false);
    // The survivors waited for the dead holder's lock to expire, not for a time-out of their own.
    expect(tookOver).to.be.within(lockTtlMs - 600, lockTtlMs + 6_000);
  });
});
