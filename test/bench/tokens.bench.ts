// `tsx test/bench/tokens.bench.ts` (after `npm run build`): what XTokenManager.getAccessToken costs
// on a fresh token, next to the floor: the app reading its store and checking the expiry itself.
//   In memory: a Map of JSON strings (what the manager adds: argument checks, reviving the set).
//   In Redis: the same JSON in a redis-server this script starts, through node-redis (the round
//   trip dominates); Redis's own command counts prove the fresh path sends one GET and no lock.
// Exits non-zero when a fresh token costs anything but one store.get (a lock, a request to X).
// `benchTokens()` returns the rows, for a bench runner that prints several scripts side by side.
import { resolve } from 'node:path';
import { createClient } from 'redis';
import { redisServerMissing, startRedisServer } from '../support/redis';

// The shipped build, as users run it.
const { XTokenManager, RedisTokenLock } = require(resolve(__dirname, '../../dist/index.js')) as typeof import('../../lib/index');
type XTokenSet = import('../../lib/index').XTokenSet;
type XTokenStore = import('../../lib/index').XTokenStore;
type XTokenLock = import('../../lib/index').XTokenLock;

const CALLS = Number(process.env.BENCH_TOKEN_CALLS ?? 20_000);
const REDIS_CALLS = Number(process.env.BENCH_TOKEN_REDIS_CALLS ?? 3_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const USER = 'bench-user';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const us = (n: number): string => `${n.toFixed(2)} µs`;

/** CPU (user + system) per call of `call`, in µs, and wall time per call, in µs. */
async function cost(n: number, call: () => Promise<unknown>): Promise<{ cpu: number; wall: number }> {
  const start = process.hrtime.bigint();
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) await call();
  const used = process.cpuUsage(before);
  return { cpu: (used.user + used.system) / n, wall: Number(process.hrtime.bigint() - start) / 1000 / n };
}

/** Runs floor and manager in alternating rounds (drift hits both alike); medians. */
async function sideBySide(n: number, floor: () => Promise<unknown>, manager: () => Promise<unknown>) {
  await cost(Math.min(n, 2000), floor);
  await cost(Math.min(n, 2000), manager);
  const f: Array<{ cpu: number; wall: number }> = [];
  const m: Array<{ cpu: number; wall: number }> = [];
  for (let r = 0; r < ROUNDS; r++) {
    f.push(await cost(n, floor));
    m.push(await cost(n, manager));
  }
  return {
    floorCPU: median(f.map((c) => c.cpu)),
    managerCPU: median(m.map((c) => c.cpu)),
    floorWall: median(f.map((c) => c.wall)),
    managerWall: median(m.map((c) => c.wall)),
  };
}

function freshSet(): XTokenSet {
  return {
    accessToken: 'bench-access-token-'.padEnd(90, 'a'),
    refreshToken: 'bench-refresh-token-'.padEnd(90, 'r'),
    tokenType: 'bearer',
    expiresIn: 7200,
    expiresAt: new Date(Date.now() + 2 * 3600_000),
    scope: ['tweet.read', 'users.read', 'offline.access'],
  };
}

/** A lock and an X that must never be used on the fresh path. */
const forbiddenLock: XTokenLock = {
  withLock: () => Promise.reject(new Error('bench: the fresh path took the lock')),
};
const NO_X = 'http://127.0.0.1:9'; // discard port: any request would fail

/** The rows of this bench; throws when the fresh path costs more than one store.get. */
export async function benchTokens(): Promise<Array<[string, string]>> {
  const rows: Array<[string, string]> = [];

  // ---------------------------------------------------------------- in memory
  const memory = new Map<string, string>([[USER, JSON.stringify(freshSet())]]);
  let gets = 0;
  const memoryStore: XTokenStore = {
    get: async (key) => {
      gets++;
      const json = memory.get(key);
      return json === undefined ? undefined : (JSON.parse(json) as XTokenSet);
    },
    set: async () => {
      throw new Error('bench: the fresh path stored');
    },
    delete: async () => {
      throw new Error('bench: the fresh path deleted');
    },
  };
  const inMemory = new XTokenManager({ clientID: 'bench', baseURL: NO_X, store: memoryStore, lock: forbiddenLock });
  const floorRead = async (): Promise<string> => {
    const tokens = await memoryStore.get(USER);
    if (!tokens || new Date(tokens.expiresAt as string).getTime() - Date.now() <= 60_000) throw new Error('bench: not fresh');
    return tokens.accessToken;
  };
  const before = gets;
  const token = await inMemory.getAccessToken(USER);
  if (gets - before !== 1 || token !== freshSet().accessToken) throw new Error('bench: a fresh token did not cost exactly one store.get');
  const mem = await sideBySide(CALLS, floorRead, () => inMemory.getAccessToken(USER));
  rows.push(
    ['tokens, in memory: the app reads its store itself, CPU per call', us(mem.floorCPU)],
    ['tokens, in memory: XTokenManager.getAccessToken (fresh), CPU per call', us(mem.managerCPU)],
    [`tokens, in memory: manager - floor (median of ${ROUNDS} rounds)`, `${us(mem.managerCPU - mem.floorCPU)} (${(mem.managerCPU / mem.floorCPU).toFixed(2)}x)`],
  );

  // ---------------------------------------------------------------- Redis
  // Without redis-server, the Redis rows are skipped and say why (as the HTTPS section without
  // openssl): a bench that ran for half an hour does not end in a throw that loses its figures.
  const missing = redisServerMissing();
  if (missing !== undefined) {
    rows.push(['tokens, Redis', `skipped: redis-server is missing: ${missing}`]);
    return rows;
  }
  const redis = await startRedisServer();
  const client = createClient({ url: redis.url });
  try {
    await client.connect();
    await client.set(`tokens:${USER}`, JSON.stringify(freshSet()));
    const redisStore: XTokenStore = {
      get: async (key) => {
        const json = await client.get(`tokens:${key}`);
        return json === null ? undefined : (JSON.parse(json) as XTokenSet);
      },
      set: (key, tokens) => client.set(`tokens:${key}`, JSON.stringify(tokens)),
      delete: (key) => client.del(`tokens:${key}`),
    };
    const inRedis = new XTokenManager({ clientID: 'bench', baseURL: NO_X, store: redisStore, lock: new RedisTokenLock({ client }) });
    const floorRedis = async (): Promise<string> => {
      const tokens = await redisStore.get(USER);
      if (!tokens || new Date(tokens.expiresAt as string).getTime() - Date.now() <= 60_000) throw new Error('bench: not fresh');
      return tokens.accessToken;
    };
    await client.configResetStat();
    const counted = 500;
    for (let i = 0; i < counted; i++) await inRedis.getAccessToken(USER);
    const stats = await client.info('commandstats');
    const calls = (command: string): number => Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
    if (calls('get') !== counted || calls('set') !== 0 || calls('eval') !== 0) {
      throw new Error(`bench: ${counted} fresh getAccessToken sent GET x${calls('get')}, SET x${calls('set')}, EVAL x${calls('eval')} to Redis`);
    }
    const red = await sideBySide(REDIS_CALLS, floorRedis, () => inRedis.getAccessToken(USER));
    rows.push(
      [`tokens, Redis: commands per fresh getAccessToken (${counted} calls)`, 'GET x1, SET (lock) x0, EVAL x0'],
      ['tokens, Redis: the app reads its store itself, CPU / wall per call', `${us(red.floorCPU)} / ${us(red.floorWall)}`],
      ['tokens, Redis: XTokenManager.getAccessToken (fresh), CPU / wall per call', `${us(red.managerCPU)} / ${us(red.managerWall)}`],
      [`tokens, Redis: manager / floor, CPU (median of ${ROUNDS} rounds)`, `${(red.managerCPU / red.floorCPU).toFixed(3)}`],
    );
  } finally {
    if (client.isOpen) await client.quit();
    await redis.stop();
  }
  return rows;
}

if (require.main === module) {
  benchTokens().then(
    (rows) => {
      for (const [k, v] of rows) console.log(`${k.padEnd(74)} ${v}`);
      console.log('bench tokens: PASS');
    },
    (err: unknown) => {
      console.error(err);
      console.log('bench tokens: FAIL');
      process.exitCode = 1;
    },
  );
}
