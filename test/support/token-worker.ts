/**
 * One app instance of the several-processes XTokenManager test (test/e2e/tokens.e2e.test.ts),
 * run as its own process: `node --require tsx/cjs test/support/token-worker.ts`, with IPC.
 *
 * It connects to Redis and says `ready`; then, for each `run` message, builds an XTokenManager
 * over a JSON token store in Redis, with a RedisTokenLock (or, for the control run, only an
 * in-process lock), makes `callers` concurrent getAccessToken calls for one user and sends back
 * every outcome. One set of processes serves every run of the test: starting them is the slow part.
 *
 * With `dieHoldingLock`, the first process of the run to take the lock (decided in Redis, by
 * SET NX) reports `holding` and never proceeds: the parent SIGKILLs it there, as a process that
 * crashes while it holds the lock, before its refresh reached X.
 */
import { createClient } from 'redis';
import { InProcessTokenLock, type XTokenLock } from '../../lib/lock';
import { RedisTokenLock } from '../../lib/redis';
import { XTokenManager } from '../../lib/tokens';
import { redisJSONStore } from './token-fixtures';

/** One run, as the parent sends it (`{ type: 'run', ...TokenRunConfig }`). */
export interface TokenRunConfig {
  baseURL: string;
  clientID: string;
  clientSecret: string;
  userKey: string;
  callers: number;
  lock: 'redis' | 'in-process';
  timeoutMs: number;
  lockTtlMs: number;
  /** Redis key the would-be victim claims; set only in the kill run. */
  dieHoldingLock?: string | undefined;
}

/** Messages to the parent. */
export type TokenWorkerMessage =
  | { type: 'ready' }
  | { type: 'holding'; userKey: string }
  | { type: 'done'; userKey: string; tokens: string[]; errors: Array<{ name: string; code: string | undefined }> };

const send = (message: TokenWorkerMessage): void => {
  process.send?.(message);
};

function connectRedis(url: string) {
  return createClient({ url });
}
type RedisClient = ReturnType<typeof connectRedis>;

async function runOnce(client: RedisClient, config: TokenRunConfig): Promise<void> {
  const inner: XTokenLock =
    config.lock === 'redis' ? new RedisTokenLock({ client, acquireTimeoutMs: 10_000, retryDelayMs: 10, maxRetryDelayMs: 100 }) : new InProcessTokenLock();
  const lock: XTokenLock = {
    withLock(key, ttlMs, fn) {
      // The lease passed on: the manager times its refresh by the Redis lock's own.
      return inner.withLock(key, ttlMs, async (lease) => {
        if (config.dieHoldingLock && (await client.set(config.dieHoldingLock, String(process.pid), { NX: true, PX: 60_000 })) === 'OK') {
          send({ type: 'holding', userKey: config.userKey });
          await new Promise(() => undefined); // until SIGKILL
        }
        return fn(lease);
      });
    },
  };
  const tokens = new XTokenManager({
    clientID: config.clientID,
    clientSecret: config.clientSecret,
    baseURL: config.baseURL,
    timeoutMs: config.timeoutMs,
    lockTtlMs: config.lockTtlMs,
    store: redisJSONStore(client),
    lock,
  });
  const outcomes = await Promise.allSettled(Array.from({ length: config.callers }, () => tokens.getAccessToken(config.userKey)));
  const done: TokenWorkerMessage = { type: 'done', userKey: config.userKey, tokens: [], errors: [] };
  for (const outcome of outcomes) {
    if (outcome.status === 'fulfilled') done.tokens.push(outcome.value);
    else {
      const err = outcome.reason as { name?: string; code?: string };
      done.errors.push({ name: String(err?.name), code: err?.code });
    }
  }
  send(done);
}

async function main(): Promise<void> {
  const client = connectRedis(process.env.TOKEN_WORKER_REDIS_URL ?? '');
  await client.connect();
  process.on('message', (message: { type: string } & TokenRunConfig) => {
    if (message.type === 'run') void runOnce(client, message);
    else if (message.type === 'stop') void client.quit().then(() => process.disconnect?.());
  });
  send({ type: 'ready' });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
