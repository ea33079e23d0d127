// The example app as `npm start` runs it: `sh -c 'node --import tsx example-app/server.ts'`. A
// SIGTERM sent to npm (a process manager, a container's stop) ends the shell, which does not pass
// the signal on; the app must stop then too, not stay behind holding its port.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback port nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The status of GET / on `port`, or the error's code (ECONNREFUSED once nothing listens). */
function probe(port: number): Promise<number | string> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end();
  });
}

/** Resolves with the output so far once `text` appears in the child's stdout. */
function waitForOutput(child: ChildProcess, text: string, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no "${text}" within ${ms} ms; output: ${out}`)), ms);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (out.includes(text)) {
        clearTimeout(timer);
        resolve(out);
      }
    });
  });
}

async function untilRefused(port: number, ms: number): Promise<number | string> {
  const end = Date.now() + ms;
  let last = await probe(port);
  while (last !== 'ECONNREFUSED' && Date.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    last = await probe(port);
  }
  return last;
}

describe('the example app under `npm start`', function () {
  this.timeout(60_000);
  const started: ChildProcess[] = [];

  afterEach(function () {
    // Each shell leads a process group of its own: end the group, the app with it.
    for (const child of started.splice(0)) {
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // the group has ended already
      }
    }
  });

  async function startUnderShell(lifecycle: string | undefined): Promise<{ shell: ChildProcess; port: number; output: string }> {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: '127.0.0.1' };
    delete env.npm_lifecycle_event;
    if (lifecycle !== undefined) env.npm_lifecycle_event = lifecycle;
    for (const name of ['X_CLIENT_ID', 'X_CLIENT_SECRET', 'X_CONSUMER_KEY', 'X_CONSUMER_SECRET', 'REDIS_URL', 'PUBLIC_URL']) delete env[name];
    // What npm runs for the start script (package.json), under the same kind of shell.
    const shell = spawn('sh', ['-c', 'node --import tsx example-app/server.ts'], { env, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    started.push(shell);
    const output = await waitForOutput(shell, 'Press Ctrl+C to stop.', 45_000);
    expect(await probe(port)).to.equal(200);
    return { shell, port, output };
  }

  it('stops when the shell npm started it under is ended by a SIGTERM', async function () {
    if (process.platform === 'win32') this.skip();
    const { shell, port } = await startUnderShell('start');
    const lines: string[] = [];
    shell.stdout!.on('data', (chunk: Buffer) => lines.push(chunk.toString('utf8')));
    shell.kill('SIGTERM');
    expect(await untilRefused(port, 10_000)).to.equal('ECONNREFUSED');
    expect(lines.join('')).to.include('the process that started this app has ended: stopping.');
  });

  it('outlives its shell when started by hand (not by npm), as a process under nohup would', async function () {
    if (process.platform === 'win32') this.skip();
    const { shell, port } = await startUnderShell(undefined);
    shell.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await probe(port)).to.equal(200);
    // The app still answers to its own SIGTERM, sent to the group the shell led.
    process.kill(-(shell.pid as number), 'SIGTERM');
    expect(await untilRefused(port, 10_000)).to.equal('ECONNREFUSED');
  });
});
