/**
 * A throwaway `redis-server` for the tests that share one session store between app instances:
 * started on a free loopback port with persistence off and a temp working directory, stopped
 * (and its directory removed) by {@link RedisServer.stop}.
 *
 * A missing `redis-server` is a failure, not a skip: the several-instances tests prove that a
 * sign-in survives moving between processes, and a silently skipped proof proves nothing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running redis-server. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>`, for the `redis` client's `createClient({ url })`. */
  url: string;
  port: number;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and removes its temp directory. */
  stop(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open, nothing is answered; a hung Redis. */
  pause(): void;
  /** Lets a paused server go on (SIGCONT): it then answers what it was sent. */
  resume(): void;
}

/** What to run: `REDIS_SERVER` if set (a path), else `redis-server` from PATH. */
function redisServerCommand(): string {
  return process.env.REDIS_SERVER?.trim() || 'redis-server';
}

/**
 * Why `redis-server` cannot be run here (what failed, and how to install it), or undefined when
 * it can: `REDIS_SERVER` if set (a path), else `redis-server` from PATH.
 */
export function redisServerMissing(command = redisServerCommand()): string | undefined {
  const probe = spawnSync(command, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (!probe.error && probe.status === 0) return undefined;
  return (
    `running "${command} --version" failed (${probe.error ? probe.error.message : `exit code ${probe.status}`}). ` +
    'Install it with `sudo apt-get install redis-server` (Debian/Ubuntu), or run `.ci/run`, which installs it; ' +
    'or set REDIS_SERVER to the path of a redis-server binary.'
  );
}

/** Throws, saying how to install it, when `redis-server` cannot be run. */
function requireRedisServer(command: string): void {
  const missing = redisServerMissing(command);
  if (missing !== undefined) throw new Error(`The several-instances tests need redis-server, and ${missing}`);
}

/** A loopback port that was free a moment ago (the OS picks it). */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('could not read the port of a loopback listener');
  return address.port;
}

/** Resolves once the server logs that it accepts connections; rejects if it exits first or takes over `timeoutMs`. */
function untilReady(child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve();
    };
    const onData = (): void => {
      if (/ready to accept connections/i.test(output())) done();
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
      done(new Error(`redis-server exited before it was ready (${signal ?? `exit code ${code}`}). Its output:\n${output()}`));
    const timer = setTimeout(() => done(new Error(`redis-server was not ready after ${timeoutMs} ms. Its output:\n${output()}`)), timeoutMs);
    child.stdout?.on('data', onData);
    child.on('exit', onExit);
    onData();
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts `redis-server` on 127.0.0.1 and a free port, with RDB snapshots and the append-only
 * file off and a fresh temp directory as its working directory.
 * Rejects with a message saying how to install redis-server when it is missing.
 */
export async function startRedisServer(): Promise<RedisServer> {
  const command = redisServerCommand();
  requireRedisServer(command);
  const dir = mkdtempSync(join(tmpdir(), 'passport-x-redis-'));
  let lastError: unknown;
  // The free port can be taken between the probe and redis-server's bind: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(
      command,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'notice'],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    const collect = (chunk: Buffer): void => {
      // Keep the tail only: enough to explain a failure.
      output = (output + chunk.toString('utf8')).slice(-8000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    // If the test run dies without after(), do not leave the server behind.
    const killOnExit = (): void => {
      child.kill('SIGKILL');
    };
    process.once('exit', killOnExit);
    try {
      await untilReady(child, () => output, 10_000);
    } catch (err) {
      process.off('exit', killOnExit);
      await stopChild(child);
      lastError = err;
      continue;
    }
    return {
      url: `redis://127.0.0.1:${port}`,
      port,
      async stop() {
        process.off('exit', killOnExit);
        // A paused server does not end on SIGTERM until it goes on.
        child.kill('SIGCONT');
        await stopChild(child);
        rmSync(dir, { recursive: true, force: true });
      },
      pause: () => void child.kill('SIGSTOP'),
      resume: () => void child.kill('SIGCONT'),
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError;
}
