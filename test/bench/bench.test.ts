// A smoke run of `npm run bench` with tiny numbers: it runs every section end to end and writes
// well-formed JSON. It asserts no timing: performance claims live in `npm run bench` alone.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { groupOf, groupTimes, type CpuProfile } from './profile-groups';
import { turnOrder, williamsOrders } from './turns';

const ROOT = resolve(__dirname, '../..');

function run(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
  // Without c8's NODE_V8_COVERAGE: the bench's processes load the build, not lib/.
  const env = { ...process.env, ...extraEnv };
  delete env.NODE_V8_COVERAGE;
  return new Promise((resolveRun, reject) => {
    const child = spawn('npm', ['run', '--silent', 'bench:smoke', '--', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code, output }));
  });
}

const isNumber = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value);

/** The parts of the bench's JSON this test reads. */
interface BenchJSON {
  machine: object;
  settings: { smoke: boolean; rounds: number };
  http: Section;
  https: Section & { skipped?: string };
  memory: { scenarios: Array<Record<string, unknown> & { id: string }> };
  startup: Array<Record<string, unknown> & { id: string }>;
  extra: Record<string, { rows: Array<[string, string]>; results?: Array<Record<string, unknown> & { id?: string }> }>;
  targets: Array<{ met: unknown }>;
  ok: unknown;
}
interface Section {
  transport: string;
  noise: Array<{ flow: string; ratioToFloor: number; roundRange: [number, number] }>;
  candidates: Array<Record<string, unknown> & { id: string; rounds: unknown[]; ratioToPeer?: number }>;
}

describe('npm run bench (smoke run)', function () {
  this.timeout(240_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'passport-x-bench-smoke-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs every section with tiny numbers and writes its results as well-formed JSON', async () => {
    const json = join(dir, 'results.json');
    const { code, output } = await run(['--json', json]);
    expect(code, output).to.equal(0);
    const results = JSON.parse(readFileSync(json, 'utf8')) as BenchJSON;

    expect(results.machine).to.include.keys('cpu', 'cores', 'node');
    expect(results.settings).to.include({ smoke: true });
    const ids = ['floor-oauth1', 'floor-oauth1-again', 'passport-x-oauth1', 'passport-twitter', 'floor-oauth2', 'floor-oauth2-again', 'passport-x-oauth2', 'superface'];
    const sections = [results.http, ...(results.https.skipped ? [] : [results.https])];
    for (const section of sections) {
      expect(section.candidates.map((c) => c.id)).to.deep.equal(ids);
      for (const c of section.candidates) {
        for (const field of ['signInsPerSec', 'cpuUsPerSignIn', 'ratioToFloor', 'newConnectionsPerSignIn', 'handshakesPerSignIn', 'heapAfterMB']) {
          expect(isNumber(c[field]), `${section.transport} ${c.id} ${field}`).to.equal(true);
        }
        expect(c.rounds).to.have.length(results.settings.rounds);
        // Each round on a new process of its own, warmed up right before it.
        const rounds = c.rounds as Array<{ process: number; pid: number }>;
        expect(rounds.map((round) => round.process), `${section.transport} ${c.id}`).to.deep.equal(Array.from({ length: results.settings.rounds }, (_, r) => r));
        expect(new Set(rounds.map((round) => round.pid)).size, `${section.transport} ${c.id}: a process per round`).to.equal(results.settings.rounds);
      }
      // Each flow's A/A control: the floor against itself, with the lowest and highest round.
      expect(section.noise.map((n) => n.flow)).to.deep.equal(['oauth1', 'oauth2']);
      for (const n of section.noise) {
        expect(isNumber(n.ratioToFloor), `${section.transport} ${n.flow} noise`).to.equal(true);
        expect(n.roundRange[0]).to.be.at.most(n.ratioToFloor);
        expect(n.roundRange[1]).to.be.at.least(n.ratioToFloor);
      }
      expect(section.candidates.filter((c) => isNumber(c.ratioToPeer)).map((c) => c.id)).to.deep.equal([
        'passport-x-oauth1',
        'passport-x-oauth2',
      ]);
    }

    expect(results.memory.scenarios.map((s) => s.id)).to.include.members(['passport-x-oauth2-session', 'passport-x-oauth1-session', 'passport-x-oauth2-cookie', 'passport-x-oauth1-cookie']);
    for (const s of results.memory.scenarios) {
      for (const field of ['maxPendingPerSession', 'bytesPerSession', 'heapBefore', 'heapAfter']) expect(isNumber(s[field]), `${s.id} ${field}`).to.equal(true);
    }

    expect(results.startup.map((s) => s.id)).to.deep.equal(['passport-x', 'passport-twitter', 'superface']);
    for (const s of results.startup) {
      for (const field of ['requireMs', 'ownBytes', 'dependencyBytes']) expect(isNumber(s[field]), `${s.id} ${field}`).to.equal(true);
    }

    // The figures of claim.bench.ts, tokens.bench.ts and strategy.bench.ts, run by the same command.
    expect(results.extra).to.have.keys('claim', 'tokens', 'strategy');
    for (const section of Object.values(results.extra)) expect(section.rows).to.be.an('array').that.is.not.empty;
    // Every candidate alone, each with its CPU per sign-in and its ratio to its floor.
    const alone = results.extra.strategy!.results!;
    expect(alone.map((r) => r.id)).to.deep.equal(results.http.candidates.map((c) => c.id));
    for (const r of alone) for (const field of ['cpuUsPerSignIn', 'ratioToFloor']) expect(isNumber(r[field]), `${r.id} ${field}`).to.equal(true);

    expect(results.targets).to.be.an('array').that.is.not.empty;
    for (const t of results.targets) {
      expect(t).to.have.keys('name', 'value', 'bar', 'met');
      expect(t.met).to.be.a('boolean');
    }
    expect(results.ok).to.be.a('boolean');
    // The table is printed too.
    expect(output).to.include('passport-x XOAuth2PkceStrategy').and.include('Targets').and.include('A/A control, OAuth 2.0: the floor against itself');
  });

  it('without redis-server, says so at the start and skips only the Redis rows of tokens.bench.ts', async () => {
    const json = join(dir, 'no-redis.json');
    const { code, output } = await run(['--only', 'extra', '--json', json], { REDIS_SERVER: join(dir, 'no-such-redis-server') });
    expect(code, output).to.equal(0);
    expect(output).to.include('bench: redis-server is missing, so tokens.bench.ts will skip its Redis rows').and.include('apt-get install redis-server');
    const rows = (JSON.parse(readFileSync(json, 'utf8')) as BenchJSON).extra.tokens!.rows;
    // The in-memory rows are there; the Redis part is one row that says why it was skipped.
    expect(rows.filter(([name]) => name.startsWith('tokens, in memory'))).to.have.length(3);
    expect(rows.filter(([name]) => name.startsWith('tokens, Redis'))).to.deep.equal([['tokens, Redis', rows.at(-1)![1]]]);
    expect(rows.at(-1)![1]).to.match(/^skipped: redis-server is missing: running ".*no-such-redis-server --version" failed/);
  });

  it('goes on past a section that throws, writes the JSON of the others, and exits with 2', async () => {
    const json = join(dir, 'failed-section.json');
    // `true` answers --version, then exits at once instead of serving: tokens.bench.ts throws.
    const { code, output } = await run(['--only', 'startup,extra', '--json', json], { REDIS_SERVER: 'true' });
    expect(code, output).to.equal(2);
    expect(output).to.include('bench: the tokens.bench.ts section failed').and.include('FAILED the tokens.bench.ts section');
    const results = JSON.parse(readFileSync(json, 'utf8')) as BenchJSON & { failures: Array<{ section: string; error: string }> };
    expect(results.failures.map((f) => f.section)).to.deep.equal(['tokens.bench.ts']);
    expect(results.failures[0]!.error).to.include('redis-server exited before it was ready');
    // The sections before and beside it kept their figures; the run is not ok.
    expect(results.startup.map((s) => s.id)).to.deep.equal(['passport-x', 'passport-twitter', 'superface']);
    expect(results.extra).to.have.keys('claim', 'strategy');
    expect(results.ok).to.equal(false);
  });

  it('refuses a bad option with a message naming it, and writes nothing', async () => {
    const json = join(dir, 'refused.json');
    const { code, output } = await run(['--rounds', '0', '--json', json]);
    expect(code).to.not.equal(0);
    expect(output).to.include('--rounds must be a positive whole number');
    expect(existsSync(json)).to.equal(false);
  });
});

describe('bench: the order of the turns (turns.ts)', () => {
  it('gives Williams\' orders: every candidate in every place and after every other equally often, never after itself', () => {
    for (let n = 1; n <= 9; n++) {
      const orders = williamsOrders(n);
      expect(orders, `n=${n}`).to.have.length(n % 2 === 0 ? n : 2 * n);
      const places = Array.from({ length: n }, () => new Array<number>(n).fill(0));
      const follows = Array.from({ length: n }, () => new Array<number>(n).fill(0));
      for (const order of orders) {
        expect([...order].sort((a, b) => a - b), `n=${n}: a permutation`).to.deep.equal(Array.from({ length: n }, (_, i) => i));
        order.forEach((c, place) => (places[c]![place]! += 1));
        for (let i = 1; i < n; i++) follows[order[i - 1]!]![order[i]!]! += 1;
      }
      const each = orders.length / n;
      for (let c = 0; c < n; c++) {
        expect(places[c], `n=${n}: candidate ${c} in each place`).to.deep.equal(new Array<number>(n).fill(each));
        for (let d = 0; d < n; d++) expect(follows[c]![d], `n=${n}: ${d} after ${c}`).to.equal(c === d ? 0 : (orders.length * (n - 1)) / (n * (n - 1)));
      }
      // Across the turns, the cycle included: for an even n > 2 the last of one order is never the first of the next.
      if (n > 2 && n % 2 === 0) orders.forEach((order, k) => expect(orders[(k + 1) % orders.length]![0], `n=${n}: after order ${k}`).to.not.equal(order[n - 1]));
    }
  });

  it('never lets a candidate run two slices back to back, and leaves the even orders as they are', () => {
    for (let n = 2; n <= 9; n++) {
      const orders = williamsOrders(n);
      let last: number | undefined;
      for (let k = 0; k < 4 * orders.length; k++) {
        const order = turnOrder(orders, k, last);
        expect([...order].sort((a, b) => a - b), `n=${n}, turn ${k}`).to.deep.equal(Array.from({ length: n }, (_, i) => i));
        expect(order[0], `n=${n}, turn ${k}: the first is not the last of the turn before`).to.not.equal(last);
        if (n > 2 && n % 2 === 0) expect(order, `n=${n}, turn ${k}`).to.deep.equal(orders[k % orders.length]);
        last = order[n - 1];
      }
    }
  });
});

describe('bench: the split of CPU profiles by whose code ran (profile-groups.ts)', () => {
  const DIST = '/repo/dist/';
  it('puts each frame in its group, and idle time in none', () => {
    expect(groupOf({ functionName: 'verify', url: `${DIST}state/pkce-session.js` }, DIST)).to.equal('passport-x state/pkce-session');
    expect(groupOf({ functionName: 'store', url: `file://${DIST}state/pkce-session.js` }, DIST)).to.equal('passport-x state/pkce-session');
    expect(groupOf({ functionName: '(anonymous)', url: 'file:///repo/test/bench/floor.ts' }, DIST)).to.equal('floor (floor.ts)');
    expect(groupOf({ functionName: 'session', url: 'file:///repo/node_modules/express-session/index.js' }, DIST)).to.equal('npm express-session');
    expect(groupOf({ functionName: 'x', url: 'file:///repo/node_modules/@superfaceai/passport-twitter-oauth2/dist/index.js' }, DIST)).to.equal('npm @superfaceai/passport-twitter-oauth2');
    expect(groupOf({ functionName: 'writeHead', url: 'node:_http_server' }, DIST)).to.equal('Node.js');
    expect(groupOf({ functionName: '(garbage collector)', url: '' }, DIST)).to.equal('V8 (garbage collector)');
    expect(groupOf({ functionName: 'writev', url: '' }, DIST)).to.equal('native code');
    expect(groupOf({ functionName: 'main', url: 'file:///elsewhere/app.js' }, DIST)).to.equal('other');
    expect(groupOf({ functionName: '(idle)', url: '' }, DIST)).to.equal(undefined);
  });

  it('sums self time per group from the given share of the profile on, leaves out samples spanning a stop, and refuses a sample of no node', () => {
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: { functionName: '(idle)', url: '' } },
        { id: 2, callFrame: { functionName: 'store', url: `${DIST}state/pkce-session.js` } },
        { id: 3, callFrame: { functionName: '(garbage collector)', url: '' } },
      ],
      // 10 samples of 100 us: the first half is 2,2,2,3,1; the second 2,3,3,1,2.
      samples: [2, 2, 2, 3, 1, 2, 3, 3, 1, 2],
      timeDeltas: new Array<number>(10).fill(100),
    };
    expect([...groupTimes(profile, 0, DIST)]).to.deep.equal([['passport-x state/pkce-session', 500], ['V8 (garbage collector)', 300]]);
    expect([...groupTimes(profile, 0.5, DIST)]).to.deep.equal([['passport-x state/pkce-session', 200], ['V8 (garbage collector)', 200]]);
    // A sample spanning a stop of the process (here 50 ms) counts for nothing.
    const stopped = { ...profile, timeDeltas: [...profile.timeDeltas.slice(0, 9), 50_000] };
    expect([...groupTimes(stopped, 0, DIST)]).to.deep.equal([['passport-x state/pkce-session', 400], ['V8 (garbage collector)', 300]]);
    expect([...groupTimes(stopped, 0, DIST, 100_000)]).to.deep.equal([['passport-x state/pkce-session', 50_400], ['V8 (garbage collector)', 300]]);
    expect(() => groupTimes({ ...profile, samples: [9] }, 0, DIST)).to.throw(/node 9/);
  });
});
