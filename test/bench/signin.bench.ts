// `npm run bench`: what a sign-in costs through passport-x, next to the floor (the cheapest
// possible Passport strategy making the same requests) and the two peers, side by side in one run.
//
//   sign-in speed (HTTP, then HTTPS): the same Express 5 app (express-session's MemoryStore,
//     passport), in processes of its own for each candidate; the same driver (this process)
//     signing users in 8 at a time over kept-alive loopback HTTP; the same canned X in its own
//     process. Each round runs on new app processes, one per candidate, started together, warmed
//     up together with 5,000 sign-ins each (in turns), measured right after and then stopped:
//     identical code can run up to twice as slow in one process as in another for as long as that
//     process lives, so a figure from a single process is partly its luck; the median over rounds,
//     each from processes of its own, is not. Rounds of 400 sign-ins per candidate, the candidates
//     interleaved within each round (slices of 50 sign-ins in turn, in Williams' orders), medians
//     of 5 rounds. Each flow's
//     floor is also measured a second time, in other processes, as a candidate (the A/A control):
//     its ratio to the floor, 1.00 on a quiet machine, is printed as the run's noise next to the
//     table and the targets, which are judged as they are. Per candidate: sign-ins/s, CPU of its
//     app processes per sign-in, the ratio to its flow's floor (per round, then the median), new connections to X per sign-in
//     (counted at the canned X), TLS handshakes per sign-in, heap after GC at the end of each round.
//   memory: 100,000 abandoned sign-ins over 10,000 sessions (see memory.ts).
//   cold start and footprint: require() time in a fresh process, installed size (startup.ts).
//
// Writes every figure as JSON (`--json <path>`, default <tmpdir>/passport-x-bench.json) and
// exits non-zero when a target is missed (targets are not judged with `--smoke`), with 2 when a
// section threw (the others still run and reach the JSON).
// Options: --rounds N --sign-ins N --slice N --concurrency N --warmup N --memory-sign-ins N
//   --memory-sessions N --cold-runs N --only http,https,memory,startup,extra
//   --profile <id,id,...> (a CPU profile of each of these candidates' app processes, in a subdirectory per candidate)
//   --profile-interval <us> (sampling interval of --profile, default 1000)
//   --candidates <id,id,...> (a subset, with the floor of each flow it includes; targets then judge only what ran)
//   --smoke (tiny numbers, for `npm test`: checks the bench runs and writes well-formed JSON).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CANDIDATES, type Candidate, type Flow } from './candidates';
import { signIns } from './driver';
import type { FakeXStats } from './fake-x-server';
import type { MemoryResult } from './memory';
import { forkBench, type BenchChild } from './processes';
import { turnOrder, williamsOrders } from './turns';
import { measureStartup, median, type StartupResult } from './startup';
import { redisServerMissing } from '../support/redis';

// ------------------------------------------------------------------ settings
function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}
const smoke = process.argv.includes('--smoke');
const num = (name: string, full: number, tiny: number): number => {
  const value = Number(option(name) ?? (smoke ? tiny : full));
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`--${name} must be a positive whole number`);
  return value;
};
const rounds = num('rounds', 5, 2);
const settings = {
  rounds,
  signInsPerRound: num('sign-ins', 400, 8),
  concurrency: num('concurrency', 8, 4),
  slice: num('slice', 50, 8),
  warmup: num('warmup', 5000, 4),
  memorySignIns: num('memory-sign-ins', 100_000, 40),
  memorySessions: num('memory-sessions', 10_000, 8),
  coldRuns: num('cold-runs', 15, 1),
  sections: (option('only') ?? 'http,https,memory,startup,extra').split(','),
  profile: option('profile'),
  profileIntervalUs: num('profile-interval', 1000, 1000),
  candidates: option('candidates')?.split(','),
  pin: !process.argv.includes('--no-pin'),
  smoke,
};
const jsonPath = resolve(option('json') ?? join(tmpdir(), 'passport-x-bench.json'));

// ------------------------------------------------------------------ results
interface RoundFigures {
  cpuUsPerSignIn: number;
  signInsPerSec: number;
  /** Median over the round's slices of this CPU / the floor's in the same turn. */
  ratioToFloor: number;
  /** The same against the peer (passport-x only). */
  ratioToPeer?: number;
  /** Which of the candidate's processes ran this round (0-based): a new one each round. */
  process: number;
  /** That process's pid. */
  pid: number;
  /** CPU per sign-in of each slice, us. */
  sliceCpuUsPerSignIn: number[];
  /** ... of which user time (the rest is the kernel's: sockets, loopback). */
  sliceUserUsPerSignIn: number[];
  userUsPerSignIn: number;
  newConnections: number;
  handshakes: number;
  resumedHandshakes: number;
}

interface Slice {
  cpuUs: number;
  userUs: number;
  ms: number;
  newConnections: number;
  handshakes: number;
  resumedHandshakes: number;
}

interface CandidateResult {
  id: string;
  label: string;
  flow: Flow;
  floor: boolean;
  /** The A/A control of its flow (see Candidate.control). */
  control: boolean;
  signInsPerSec: number;
  cpuUsPerSignIn: number;
  /** Median over rounds of each round's ratio to the floor (see RoundFigures). */
  ratioToFloor: number;
  /** For passport-x: the same against its peer. */
  ratioToPeer?: number;
  peer?: string;
  newConnectionsPerSignIn: number;
  handshakesPerSignIn: number;
  resumedHandshakesPerSignIn: number;
  heapAfterMB: number;
  rounds: RoundFigures[];
}

/** A flow's A/A control in one section: the floor's code measured against itself. */
interface Noise {
  flow: Flow;
  /** Median over rounds, as every candidate's ratio. */
  ratioToFloor: number;
  /** The lowest and highest round. */
  roundRange: [number, number];
}

interface SectionResult {
  transport: 'http' | 'https';
  /** The run's noise, from each flow's A/A control. */
  noise: Noise[];
  /** How each candidate trusts the canned X's certificate (https only). */
  trust?: string;
  candidates: CandidateResult[];
}

interface Target {
  name: string;
  value: number;
  bar: string;
  met: boolean;
}

const PEER: Partial<Record<string, string>> = { 'passport-x-oauth1': 'passport-twitter', 'passport-x-oauth2': 'superface' };

// ------------------------------------------------------------------ CPU affinity
// The app being measured on one CPU, everything else (this driver, the canned X) on the others:
// the three are busy at once, and sharing CPUs they would evict each other's caches by turns.
const CPU_COUNT = cpus().length;
const canPin = settings.pin && CPU_COUNT >= 2 && spawnSync('sh', ['-c', 'command -v taskset'], { stdio: 'ignore' }).status === 0;
function pin(pid: number, cpuList: string): void {
  if (canPin) spawnSync('taskset', ['-a', '-c', '-p', cpuList, String(pid)], { stdio: 'ignore' });
}
const APP_CPU = String(CPU_COUNT - 1);
const OTHER_CPUS = CPU_COUNT === 2 ? '0' : `0-${CPU_COUNT - 2}`;

// ------------------------------------------------------------------ the sign-in comparison
async function startX(tls?: { cert: string; key: string }): Promise<BenchChild & { port: number }> {
  const x = await forkBench('fake-x-server.ts', tls ? ['--cert', tls.cert, '--key', tls.key] : []);
  pin(x.child.pid!, OTHER_CPUS);
  return x;
}

async function xStats(x: BenchChild): Promise<FakeXStats> {
  return (await x.ask<{ stats: FakeXStats }>({ cmd: 'stats' }, 'stats')).stats;
}

async function cpuOf(app: BenchChild): Promise<NodeJS.CpuUsage> {
  return (await app.ask<{ cpu: NodeJS.CpuUsage }>({ cmd: 'cpu' }, 'cpu')).cpu;
}

const RUN = CANDIDATES.filter((c) => !settings.candidates || c.floor || c.control || settings.candidates.includes(c.id)).filter(
  (c) => !settings.candidates || settings.candidates.some((id) => CANDIDATES.find((k) => k.id === id)?.flow === c.flow),
);

/** `total` sign-ins cut in slices of `--slice` (the last one shorter): what each turn runs. */
function sliceCounts(total: number): number[] {
  return Array.from({ length: Math.ceil(total / settings.slice) }, (_, s) => Math.min(settings.slice, total - s * settings.slice));
}

const TURN_ORDERS = williamsOrders(RUN.length);
let turnsTaken = 0;
let lastInTurn: number | undefined;

/**
 * `total` sign-ins for every candidate of the run, in slices of `--slice` taken in turns, each turn
 * in the next of {@link williamsOrders} (see {@link turnOrder}; the count goes on from one call to
 * the next). The candidates share one CPU: one that ran two slices back to back, as the first and
 * the last of an alternating order (A B C, C B A, ...) did at every other turn, found its code and
 * data still in the caches, and measured cheaper in those turns (the OAuth 1.0a floor, first of the
 * table, by up to a tenth: its A/A control measured 1.31x and 1.20x in those turns of two runs,
 * 0.96x and 1.03x in the others). No candidate now follows itself, and each follows every other as often.
 */
async function inTurns(total: number, each: (c: Candidate, count: number) => Promise<void>): Promise<void> {
  for (const count of sliceCounts(total)) {
    const order = turnOrder(TURN_ORDERS, turnsTaken, lastInTurn);
    turnsTaken += 1;
    for (const i of order) await each(RUN[i]!, count);
    lastInTurn = order[order.length - 1];
  }
}

async function compare(transport: 'http' | 'https', tls?: { cert: string; key: string }): Promise<SectionResult> {
  const x = await startX(tls);
  const baseURL = `${transport}://127.0.0.1:${x.port}`;
  const profileDir = settings.profile ? mkdtempSync(join(tmpdir(), 'passport-x-bench-prof-')) : undefined;
  // The app processes of the round under way, one per candidate, each with its own keep-alive agent on the driver's side.
  let apps = new Map<string, BenchChild & { port: number; agent: http.Agent }>();
  const stopApps = async (): Promise<void> => {
    for (const app of apps.values()) {
      app.agent.destroy();
      await app.stop();
    }
    apps = new Map();
  };
  try {
    const run = async (c: Candidate, app: BenchChild & { port: number; agent: http.Agent }, count: number): Promise<Slice> => {
      const before = await xStats(x);
      const cpuBefore = await cpuOf(app);
      const ms = await signIns(app.agent, app.port, c.id, c.flow, count, settings.concurrency);
      const cpuAfter = await cpuOf(app);
      const after = await xStats(x);
      return {
        cpuUs: cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system,
        userUs: cpuAfter.user - cpuBefore.user,
        ms,
        newConnections: after.connections - before.connections,
        handshakes: after.handshakes - before.handshakes,
        resumedHandshakes: after.resumedHandshakes - before.resumedHandshakes,
      };
    };
    const rounds = new Map<string, RoundFigures[]>(RUN.map((c) => [c.id, []]));
    const heaps = new Map<string, number[]>(RUN.map((c) => [c.id, []]));
    for (let r = 0; r < settings.rounds; r++) {
      // Each round on new app processes, one per candidate, started together (they are idle until
      // driven), warmed up together and measured right after, then stopped: no app ever waits
      // between its warm-up and its round. Until run 89 every process of the run was started and
      // warmed up first, and each then waited, stopped (SIGSTOP), until its round, re-warmed with
      // 1,000 sign-ins. After a wait of 90 s, the kernel's reclaim (DAMON) had unmapped its memory,
      // and it took about 3,000 sign-ins, not 1,000, to come back: the sign-ins 1,000 to 1,500 after
      // the wait cost the OAuth 2.0 floor 17% more than before it and XOAuth2PkceStrategy 26% more,
      // so the later rounds, whose processes had waited longest, measured each candidate partly on
      // how fast it came back (the first round, whose processes never waited, measured passport-x
      // lower than the others in most runs).
      // A new process per round also keeps one process's luck (identical code can cost up to twice
      // as much in one process as in another, for as long as it lives) from deciding more than one round.
      await Promise.all(
        RUN.map(async (c) => {
          const env: NodeJS.ProcessEnv = { ...process.env };
          // Every candidate trusts the canned X's self-signed certificate the same way: Node's own
          // NODE_EXTRA_CA_CERTS, read at start-up, so each verifies the certificate as it would X's.
          if (tls) env.NODE_EXTRA_CA_CERTS = tls.cert;
          else delete env.NODE_EXTRA_CA_CERTS;
          const execArgv = settings.profile?.split(',').includes(c.id) && profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, c.id)}`, `--cpu-prof-interval=${settings.profileIntervalUs}`] : [];
          const app = await forkBench('app.ts', [c.id, baseURL], { env, execArgv });
          pin(app.child.pid!, APP_CPU);
          apps.set(c.id, { ...app, agent: new http.Agent({ keepAlive: true, maxSockets: 2 * settings.concurrency }) });
        }),
      );
      // Warm-up (JIT, connection pools), not counted: 5,000 sign-ins per process by default.
      // V8 goes on compiling an Express app's hot functions for thousands of sign-ins (node
      // --trace-opt, per 1,000 sign-ins of XOAuth2PkceStrategy's app: 1,071 ms, 453, 141, 64, 21,
      // then 0 to 30; the floor's and superface's the same shape, each at its own pace), and that
      // compiling is CPU of the app process: after a short warm-up a round measures how fast each
      // candidate's code gets optimised, not what a sign-in costs a running server. The first
      // sign-ins of the warm-up run twice as many at a time, so each client's pool of connections
      // to X reaches the most the round will ask of it: a request issued as another's socket is
      // being released, or a few callbacks bunched by load, would otherwise still open one in the
      // round. The last ones too (see below): a cold app's first sign-ins overlap their requests to
      // X less than a warm one's, so its pool may not yet have grown to what the round asks of it.
      // The rest is taken in turns by the round's processes (slices of --slice, the order
      // alternating), not one process after another: a process warmed up early then sat idle while
      // the others warmed up, and paid for it for thousands of sign-ins. Four OAuth 2.0 apps warmed
      // up one after another, then measured in turns over 3,000 sign-ins each: 9.5, 9.5, 6.2 and 2.0
      // minor page faults per sign-in and 1,456, 1,697, 1,149 and 914 us of CPU, in the order they
      // warmed up, whichever candidate was where (the same four in the opposite order: 9.5, 8.8, 6.3,
      // 2.8); warmed up in turns, 4.5, 2.2, 2.7 and 4.3 faults.
      const burst = Math.min(settings.warmup, 16 * settings.concurrency);
      for (const c of RUN) {
        const app = apps.get(c.id)!;
        await signIns(app.agent, app.port, c.id, c.flow, burst, 2 * settings.concurrency);
      }
      for (const [s, count] of sliceCounts(Math.max(settings.warmup - 2 * burst, 1)).entries()) {
        for (const c of s % 2 === 1 ? [...RUN].reverse() : RUN) {
          const app = apps.get(c.id)!;
          await signIns(app.agent, app.port, c.id, c.flow, count, settings.concurrency);
        }
      }
      // The pool at its peak again, now that the app is warm (one run without this opened a
      // connection in the round for two candidates over HTTPS, the OAuth 1.0a floor's A/A control
      // among them), then one slice each in turns, so that no app starts the round from a burst.
      for (const c of RUN) {
        const app = apps.get(c.id)!;
        await signIns(app.agent, app.port, c.id, c.flow, burst, 2 * settings.concurrency);
      }
      for (const c of RUN) {
        const app = apps.get(c.id)!;
        await signIns(app.agent, app.port, c.id, c.flow, settings.slice, settings.concurrency);
      }
      // Within a round, the candidates take turns in slices of a few dozen sign-ins, in the orders
      // of inTurns: on a shared machine the load changes by the second, and this way it hits every
      // candidate of the round alike.
      const sums = new Map<string, Slice>(RUN.map((c) => [c.id, { cpuUs: 0, userUs: 0, ms: 0, newConnections: 0, handshakes: 0, resumedHandshakes: 0 }]));
      const perSlice = new Map<string, number[]>(RUN.map((c) => [c.id, []]));
      const userPerSlice = new Map<string, number[]>(RUN.map((c) => [c.id, []]));
      await inTurns(settings.signInsPerRound, async (c, count) => {
        const figures = await run(c, apps.get(c.id)!, count);
        perSlice.get(c.id)!.push(figures.cpuUs / count);
        userPerSlice.get(c.id)!.push(figures.userUs / count);
        const sum = sums.get(c.id)!;
        for (const key of Object.keys(sum) as Array<keyof Slice>) sum[key] += figures[key];
      });
      // A round's ratio to another candidate: the median over its slices of (this slice's CPU / the
      // other's in the same turn), so that a burst of load on the machine during one slice, or a
      // major GC, does not decide the round. The median over rounds, which ran on different
      // processes, keeps one slow process from deciding the result.
      const pairedRatio = (id: string, other: string): number => {
        const others = perSlice.get(other)!;
        return median(perSlice.get(id)!.map((x, i) => x / others[i]!));
      };
      for (const c of RUN) {
        const sum = sums.get(c.id)!;
        const floorId = RUN.find((f) => f.floor && f.flow === c.flow)!.id;
        const peer = PEER[c.id];
        const figures: RoundFigures = {
          cpuUsPerSignIn: sum.cpuUs / settings.signInsPerRound,
          signInsPerSec: settings.signInsPerRound / (sum.ms / 1000),
          ratioToFloor: pairedRatio(c.id, floorId),
          newConnections: sum.newConnections,
          handshakes: sum.handshakes,
          resumedHandshakes: sum.resumedHandshakes,
          process: r,
          pid: apps.get(c.id)!.child.pid!,
          sliceCpuUsPerSignIn: perSlice.get(c.id)!.map((x) => Math.round(x)),
          sliceUserUsPerSignIn: userPerSlice.get(c.id)!.map((x) => Math.round(x)),
          userUsPerSignIn: sum.userUs / settings.signInsPerRound,
        };
        if (peer && perSlice.has(peer)) figures.ratioToPeer = pairedRatio(c.id, peer);
        rounds.get(c.id)!.push(figures);
        // Heap after GC, at the end of the process's round.
        heaps.get(c.id)!.push((await apps.get(c.id)!.ask<{ heapUsed: number }>({ cmd: 'heap' }, 'heapUsed')).heapUsed);
      }
      await stopApps();
      process.stderr.write(`bench: ${transport} round ${r + 1}/${settings.rounds} done\n`);
    }
    const results: CandidateResult[] = [];
    for (const c of RUN) {
      const mine = rounds.get(c.id)!;
      const total = settings.rounds * settings.signInsPerRound;
      const heapUsed = median(heaps.get(c.id)!);
      const result: CandidateResult = {
        id: c.id,
        label: c.label,
        flow: c.flow,
        floor: c.floor,
        control: c.control === true,
        signInsPerSec: median(mine.map((m) => m.signInsPerSec)),
        cpuUsPerSignIn: median(mine.map((m) => m.cpuUsPerSignIn)),
        ratioToFloor: median(mine.map((m) => m.ratioToFloor)),
        newConnectionsPerSignIn: mine.reduce((n, m) => n + m.newConnections, 0) / total,
        handshakesPerSignIn: mine.reduce((n, m) => n + m.handshakes, 0) / total,
        resumedHandshakesPerSignIn: mine.reduce((n, m) => n + m.resumedHandshakes, 0) / total,
        heapAfterMB: heapUsed / 1024 / 1024,
        rounds: mine,
      };
      const peer = PEER[c.id];
      if (peer && rounds.has(peer)) {
        result.peer = peer;
        result.ratioToPeer = median(mine.map((m) => m.ratioToPeer!));
      }
      results.push(result);
    }
    const noise = results
      .filter((c) => c.control)
      .map((c): Noise => {
        const ratios = c.rounds.map((r) => r.ratioToFloor);
        return { flow: c.flow, ratioToFloor: c.ratioToFloor, roundRange: [Math.min(...ratios), Math.max(...ratios)] };
      });
    const section: SectionResult = { transport, noise, candidates: results };
    if (tls) {
      section.trust =
        'Every candidate verifies the certificate (NODE_EXTRA_CA_CERTS set for each app process); none uses rejectUnauthorized: false. ' +
        'passport-x and the floor keep their own https.Agent with keep-alive; superface (the oauth package) uses https.globalAgent (keep-alive, 5 s idle time-out); ' +
        'passport-twitter (the oauth package) sends Connection: close, so each request opens a connection and makes a TLS handshake (resumed when the agent has a session).';
    }
    return section;
  } finally {
    await stopApps();
    await x.stop();
    if (profileDir) process.stderr.write(`bench: CPU profile of ${settings.profile} (${transport}) in ${profileDir}\n`);
  }
}

// ------------------------------------------------------------------ TLS
function selfSignedCertificate(): { cert: string; key: string; dir: string } | { skipped: string } {
  const which = spawnSync('sh', ['-c', 'command -v openssl'], { encoding: 'utf8' });
  if (which.status !== 0) return { skipped: 'openssl is not installed, so no certificate could be made (node:crypto cannot make X.509 certificates)' };
  const dir = mkdtempSync(join(tmpdir(), 'passport-x-bench-tls-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  // ECDSA P-256, as X's own API certificates; valid for 127.0.0.1 only, for two days.
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
    { stdio: 'ignore' },
  );
  return { cert, key, dir };
}

// ------------------------------------------------------------------ memory
const MEMORY_SCENARIOS = ['replay-guard', 'passport-x-oauth2-session', 'passport-x-oauth1-session', 'passport-x-oauth2-cookie', 'passport-x-oauth1-cookie', 'superface-session'];

async function memory(): Promise<MemoryResult> {
  const x = await startX();
  try {
    const scenarios: MemoryResult['scenarios'] = [];
    // One process per scenario, so that nothing one leaves behind shows in another's heap.
    for (const id of MEMORY_SCENARIOS) {
      const config = { baseURL: `http://127.0.0.1:${x.port}`, signIns: settings.memorySignIns, sessions: settings.memorySessions, scenarios: [id] };
      const child = await forkBench('memory.ts', [JSON.stringify(config)], { waitForPort: false });
      try {
        scenarios.push(...(await child.ask<{ memory: MemoryResult }>({}, 'memory')).memory.scenarios);
      } finally {
        await child.stop();
      }
    }
    return { scenarios };
  } finally {
    await x.stop();
  }
}

// ------------------------------------------------------------------ a section that fails
/** The sections that threw: the run goes on without them, writes its JSON, and exits with 2. */
const failures: Array<{ section: string; error: string }> = [];

/**
 * Runs one section of the bench; when it throws, records and prints why and resolves to undefined,
 * so that the sections after it still run and the figures of every other section reach the JSON
 * (a run that failed in its last minute lost half an hour of figures).
 */
async function attempt<T>(section: string, run: () => Promise<T> | T): Promise<T | undefined> {
  try {
    return await run();
  } catch (err) {
    failures.push({ section, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    console.error(`\nbench: the ${section} section failed; the other sections go on, and the run will exit with 2.`, err);
    return undefined;
  }
}

// ------------------------------------------------------------------ figures from the other bench files
/** What claim.bench.ts and tokens.bench.ts measure, run in this process as they are written to be. */
interface ExtraResults {
  claim?: { results: Array<{ protocol: string; claimUs: number; signInUs: number; share: number }>; rows: Array<[string, string]> };
  tokens?: { rows: Array<[string, string]> };
  strategy?: { results: Array<{ id: string; cpuUsPerSignIn: number; ratioToFloor: number }>; rows: Array<[string, string]> };
}

async function extraBenches(): Promise<ExtraResults> {
  const extras: ExtraResults = {};
  if (existsSync(resolve(__dirname, 'claim.bench.ts'))) {
    await attempt('claim.bench.ts', async () => {
      const { benchClaim, claimRows } = require('./claim.bench') as typeof import('./claim.bench');
      const results = await benchClaim(smoke ? { callbacks: 50, signIns: 10, rounds: 1 } : {});
      extras.claim = { results, rows: claimRows(results) };
    });
  }
  if (existsSync(resolve(__dirname, 'strategy.bench.ts'))) {
    await attempt('strategy.bench.ts', async () => {
      const { benchStrategies, strategyRows } = require('./strategy.bench') as typeof import('./strategy.bench');
      const results = await benchStrategies(smoke ? { signIns: 8, rounds: 1, warmup: 8 } : {});
      extras.strategy = { results, rows: strategyRows(results) };
    });
  }
  if (existsSync(resolve(__dirname, 'tokens.bench.ts'))) {
    await attempt('tokens.bench.ts', async () => {
      // tokens.bench.ts reads its sizes from the environment when it loads.
      if (smoke) Object.assign(process.env, { BENCH_TOKEN_CALLS: '50', BENCH_TOKEN_REDIS_CALLS: '20', BENCH_ROUNDS: '1' });
      const { benchTokens } = require('./tokens.bench') as typeof import('./tokens.bench');
      extras.tokens = { rows: await benchTokens() };
    });
  }
  return extras;
}

// ------------------------------------------------------------------ report
function machine(): Record<string, unknown> {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) cpuModel = line.split(':')[1]!.trim();
  } catch {
    /* not Linux */
  }
  return { cpu: cpuModel, cores: cpus().length, node: process.version, platform: `${process.platform} ${process.arch}`, date: new Date().toISOString() };
}

const f = (n: number, digits: number): string => n.toFixed(digits);

function printSection(section: SectionResult): void {
  console.log(`\nSign-ins over ${section.transport.toUpperCase()} (${settings.rounds} rounds x ${settings.signInsPerRound}, ${settings.concurrency} at a time, medians)`);
  const head = ['', 'sign-ins/s', 'CPU us/sign-in', 'vs floor', 'vs peer', 'new conns/sign-in'];
  if (section.transport === 'https') head.push('TLS handshakes/sign-in');
  head.push('heap after (MB)');
  const rows = section.candidates.map((c) => {
    const row = [c.label, f(c.signInsPerSec, 0), f(c.cpuUsPerSignIn, 0), `${f(c.ratioToFloor, 2)}x`, c.ratioToPeer === undefined ? '' : `${f(c.ratioToPeer, 2)}x`, f(c.newConnectionsPerSignIn, 2)];
    if (section.transport === 'https') row.push(`${f(c.handshakesPerSignIn, 2)} (${f(c.resumedHandshakesPerSignIn, 2)} resumed)`);
    row.push(f(c.heapAfterMB, 1));
    return row;
  });
  console.log(`| ${head.join(' | ')} |`);
  console.log(`|${head.map(() => '---').join('|')}|`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
  for (const n of section.noise) console.log(noiseLine(n));
}

const FLOW_NAMES: Record<Flow, string> = { oauth1: 'OAuth 1.0a', oauth2: 'OAuth 2.0' };

/** What a flow's A/A control says of the run, in one line. */
function noiseLine(n: Noise): string {
  const off = Math.max(Math.abs(n.ratioToFloor - 1), Math.abs(n.roundRange[0] - 1), Math.abs(n.roundRange[1] - 1));
  return (
    `A/A control, ${FLOW_NAMES[n.flow]}: the floor against itself measured ${f(n.ratioToFloor, 2)}x (rounds ${f(n.roundRange[0], 2)}x to ${f(n.roundRange[1], 2)}x): ` +
    `in this run, a ratio within ${f(off, 2)} of its bar is within the machine's noise.`
  );
}

function judge(results: { http?: SectionResult | undefined; https?: SectionResult | undefined; memory?: MemoryResult | undefined }, extra: ExtraResults): Target[] {
  const targets: Target[] = [];
  const get = (s: SectionResult | undefined, id: string): CandidateResult | undefined => s?.candidates.find((c) => c.id === id);
  const httpX2 = get(results.http, 'passport-x-oauth2');
  const httpX1 = get(results.http, 'passport-x-oauth1');
  if (httpX2) {
    targets.push({ name: 'XOAuth2PkceStrategy CPU vs the OAuth 2.0 floor (HTTP)', value: httpX2.ratioToFloor, bar: '<= 1.10', met: httpX2.ratioToFloor <= 1.1 });
    if (httpX2.ratioToPeer !== undefined) targets.push({ name: 'XOAuth2PkceStrategy CPU vs superface (HTTP)', value: httpX2.ratioToPeer, bar: '< 1.00', met: httpX2.ratioToPeer < 1 });
  }
  if (httpX1) {
    targets.push({ name: 'XOAuth1Strategy CPU vs the OAuth 1.0a floor (HTTP)', value: httpX1.ratioToFloor, bar: '<= 1.20', met: httpX1.ratioToFloor <= 1.2 });
    if (httpX1.ratioToPeer !== undefined) targets.push({ name: 'XOAuth1Strategy CPU vs passport-twitter (HTTP)', value: httpX1.ratioToPeer, bar: '< 1.00', met: httpX1.ratioToPeer < 1 });
  }
  for (const section of [results.http, results.https]) {
    for (const id of ['passport-x-oauth1', 'passport-x-oauth2']) {
      const c = get(section, id);
      if (c) targets.push({ name: `${c.label}: new connections to X per warm sign-in (${section!.transport.toUpperCase()})`, value: c.newConnectionsPerSignIn, bar: '0.00', met: c.newConnectionsPerSignIn === 0 });
    }
  }
  for (const s of results.memory?.scenarios ?? []) {
    if (s.claimSetSize !== undefined && s.claimBound !== undefined) {
      targets.push({ name: `${s.label}: claims kept after ${s.signIns}`, value: s.claimSetSize, bar: `<= ${s.claimBound}`, met: s.claimSetSize <= s.claimBound });
      continue;
    }
    if (!s.id.startsWith('passport-x')) continue;
    if (s.sessions > 0) {
      targets.push({ name: `${s.label}: pending sign-ins kept per session`, value: s.maxPendingPerSession, bar: '<= 5', met: s.maxPendingPerSession <= 5 });
    } else {
      // Nothing kept: a leak of one small object per abandoned sign-in would pass 5 MB over 100,000.
      targets.push({ name: `${s.label}: heap kept per abandoned sign-in, bytes`, value: s.heapGrowthPerSignIn, bar: '< 50', met: s.heapGrowthPerSignIn < 50 });
    }
  }
  for (const r of extra.claim?.results ?? []) {
    targets.push({ name: `${r.protocol}: the replay claim's share of a sign-in's CPU (claim.bench.ts)`, value: r.share, bar: '< 0.02', met: r.share < 0.02 });
  }
  return targets;
}

async function main(): Promise<void> {
  if (!existsSync(resolve(__dirname, '../../dist/index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm run bench does).');
  const began = Date.now();
  // Said at the start, not after half an hour: without redis-server, the Redis rows of tokens.bench.ts are skipped.
  const noRedis = settings.sections.includes('extra') ? redisServerMissing() : undefined;
  if (noRedis !== undefined) console.log(`bench: redis-server is missing, so tokens.bench.ts will skip its Redis rows: ${noRedis}`);
  pin(process.pid, OTHER_CPUS);
  const out: Record<string, unknown> = { machine: machine(), settings, pinned: canPin ? { app: APP_CPU, driverAndX: OTHER_CPUS } : false };
  const results: { http?: SectionResult | undefined; https?: SectionResult | undefined; memory?: MemoryResult | undefined } = {};
  if (settings.sections.includes('http')) {
    results.http = await attempt('http', () => compare('http'));
    if (results.http) printSection(results.http);
  }
  if (settings.sections.includes('https')) {
    const tls = selfSignedCertificate();
    if ('skipped' in tls) {
      out.https = { skipped: tls.skipped };
      console.log(`\nHTTPS skipped: ${tls.skipped}`);
    } else {
      try {
        results.https = await attempt('https', () => compare('https', tls));
        if (results.https) printSection(results.https);
      } finally {
        rmSync(tls.dir, { recursive: true, force: true });
      }
    }
  }
  if (settings.sections.includes('memory')) results.memory = await attempt('memory', () => memory());
  if (results.memory) {
    console.log(`\nAbandoned sign-ins: ${settings.memorySignIns} started, never called back, over ${settings.memorySessions} sessions (heap after full GC)`);
    console.log('| | max pending/session | kept: bytes/session (of which pending) | heap before (MB) | heap after (MB) | heap growth per sign-in (bytes) |');
    console.log('|---|---|---|---|---|---|');
    for (const s of results.memory.scenarios) {
      const kept =
        s.claimSetSize !== undefined
          ? `${s.claimSetSize} claims kept (bound ${s.claimBound})`
          : s.sessions > 0
            ? `${s.bytesPerSession} (${s.pendingBytesPerSession})`
            : `0 (browser: ${s.cookieBytesPerSignIn} B of cookie per sign-in)`;
      console.log(`| ${s.label} | ${s.maxPendingPerSession} | ${kept} | ${f(s.heapBefore / 2 ** 20, 1)} | ${f(s.heapAfter / 2 ** 20, 1)} | ${s.heapGrowthPerSignIn} |`);
    }
  }
  let startup: StartupResult[] | undefined;
  if (settings.sections.includes('startup')) startup = await attempt('startup', () => measureStartup(settings.coldRuns));
  if (startup) {
    console.log(`\nCold start (require() in a fresh process, median of ${settings.coldRuns}) and installed size`);
    console.log('| | require() ms | package (kB) | runtime dependencies (kB) | files | dependencies |');
    console.log('|---|---|---|---|---|---|');
    for (const s of startup) {
      console.log(`| ${s.label} | ${f(s.requireMs, 1)} | ${f(s.ownBytes / 1024, 0)} | ${f(s.dependencyBytes / 1024, 0)} | ${s.files} | ${s.dependencies.join(', ')} |`);
    }
  }
  const extra = settings.sections.includes('extra') ? await extraBenches() : {};
  for (const [name, section] of Object.entries(extra) as Array<[string, { rows: Array<[string, string]> }]>) {
    console.log(`\n${name}.bench.ts`);
    for (const [k, v] of section.rows) console.log(`  ${k}: ${v}`);
  }
  const targets = judge(results, extra);
  // A section that failed judged nothing: the run is not ok.
  const ok = failures.length === 0 && targets.every((t) => t.met);
  Object.assign(out, { http: results.http, https: out.https ?? results.https, memory: results.memory, startup, extra, failures, targets, ok, seconds: (Date.now() - began) / 1000 });
  writeFileSync(jsonPath, `${JSON.stringify(out, null, 2)}\n`);
  console.log('\nTargets');
  for (const t of targets) console.log(`  ${t.met ? 'met   ' : 'MISSED'} ${t.name}: ${typeof t.value === 'number' && !Number.isInteger(t.value) ? t.value.toFixed(3) : t.value} (bar ${t.bar})`);
  // Judged as they are: the noise is reported next to them, never taken off them.
  for (const section of [results.http, results.https]) for (const n of section?.noise ?? []) console.log(`  (${section!.transport.toUpperCase()}) ${noiseLine(n)}`);
  for (const failure of failures) console.log(`  FAILED the ${failure.section} section (its error is above and in the JSON's \`failures\`)`);
  const verdict = failures.length > 0 ? `${failures.length} section(s) failed` : ok ? 'every target met' : 'a target was missed';
  console.log(`\nbench: ${verdict}${smoke ? ' (smoke run: not judged)' : ''}; results in ${jsonPath}`);
  process.exitCode = failures.length > 0 ? 2 : ok || smoke ? 0 : 1;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 2;
});
