// Child processes of `npm run bench`: forked TypeScript modules that talk over IPC.
import { fork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

/** A forked bench process and a way to ask it something over IPC. */
export interface BenchChild {
  child: ChildProcess;
  /** Sends `message` and resolves with the first answer that has the field `key`. */
  ask<T>(message: object, key: string): Promise<T>;
  stop(): Promise<void>;
}

/**
 * Forks `file` (under test/bench) with tsx's CommonJS hook (no loader thread, unlike `--import tsx`) and --expose-gc; resolves once it sends `{ port }`, or at once when `waitForPort` is false. */
export async function forkBench(
  file: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; execArgv?: string[]; waitForPort?: boolean; execPath?: string; valgrindArgs?: string[] } = {},
): Promise<BenchChild & { port: number }> {
  // Under a wrapper (valgrind): `wrapper ...its args node ...node's args file ...args`, the IPC channel passed through.
  const nodeArgs = ['--require', 'tsx/cjs', '--expose-gc', ...(options.execArgv ?? [])];
  const child = fork(resolve(__dirname, file), args, {
    execPath: options.execPath ?? process.execPath,
    execArgv: options.execPath ? [...(options.valgrindArgs ?? []), process.execPath, ...nodeArgs] : nodeArgs,
    env: options.env ?? process.env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  const ask = <T>(message: object, key: string): Promise<T> =>
    new Promise<T>((resolveAnswer, reject) => {
      const onMessage = (answer: Record<string, unknown>): void => {
        if (!(key in answer)) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolveAnswer(answer as T);
      };
      const onExit = (code: number | null): void => {
        child.off('message', onMessage);
        reject(new Error(`${file} exited (${code}) before answering ${JSON.stringify(message)}`));
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
      if (Object.keys(message).length > 0) child.send(message);
    });
  // A process under --cpu-prof writes its profile as it exits (15 to 17 MB of JSON at a 200 µs
  // interval): it gets two minutes before the kill, not 5 s. In one run at that interval two of
  // the floor's five profiles were missing (cause not seen: the old kill was silent); a kill now says so.
  const profiling = (options.execArgv ?? []).some((arg) => arg.startsWith('--cpu-prof'));
  const graceMs = profiling ? 120_000 : 5000;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      // Disconnecting lets the child exit on its own, so --cpu-prof can write its profile.
      if (child.connected) child.disconnect();
      const timer = setTimeout(() => {
        process.stderr.write(`bench: ${file} (pid ${child.pid}) did not exit within ${graceMs / 1000} s of its stop; killed${profiling ? ', and its CPU profile is lost' : ''}\n`);
        child.kill();
      }, graceMs);
      await exited;
      clearTimeout(timer);
    }
  };
  let port = 0;
  if (options.waitForPort !== false) {
    try {
      port = (await ask<{ port: number }>({}, 'port')).port;
    } catch (err) {
      await stop();
      throw err;
    }
  }
  return { child, ask, stop, port };
}
