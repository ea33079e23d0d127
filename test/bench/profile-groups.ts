// Splits the CPU profiles of `npm run bench -- --profile <id,id,...>` by whose code ran: each module
// of passport-x's dist/, the floor's floor.ts, each npm package (a peer's among them), Node.js, the
// garbage collector; and a row for the own code of passport-x or the floor, their groups summed. Self time, as a share of the process's CPU
// (idle left out) in a window of each process's life: by default its second half, the warm-up's
// last 2,500 or so sign-ins (warm code: V8 compiles little past the first 2,000) and the round the
// bench measures. One column per candidate, the processes of each summed.
//   npx tsx test/bench/profile-groups.ts <dir the bench printed> [--from 0.5] [--max-gap 10000] [--top 25]
// The bench writes each candidate's profiles into a subdirectory named by its id, one per round. A
// sample spanning more than 10 ms (--max-gap, in µs) is left out: until run 88 the bench stopped
// (SIGSTOP) each app process between its rounds, and its profiler with it, so that the first sample
// after a stop spanned the whole stop, credited to whatever ran then (the garbage collector,
// `(program)`, a timer); a profile of an app the machine stalled still has such samples. The lines
// per process under the table show any process that still stands out.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The parts of a V8 CPU profile (`.cpuprofile`) read here. */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string } }>;
  samples: number[];
  timeDeltas: number[];
}

/** Where passport-x's build lives, as the bench's apps load it. */
const DIST = `${resolve(__dirname, '../../dist')}/`;

/** The group of one sampled frame, or undefined for V8's `(idle)`. */
export function groupOf(frame: { functionName: string; url: string }, dist = DIST): string | undefined {
  const { functionName } = frame;
  if (functionName === '(idle)') return undefined;
  // V8 names a module by its file: URL (an ES module, or one tsx loaded) or by its path (CommonJS).
  const url = frame.url.startsWith('file://') ? fileURLToPath(frame.url) : frame.url;
  if (url === '') return functionName.startsWith('(') ? `V8 ${functionName}` : 'native code';
  if (url.startsWith(dist)) return `passport-x ${url.slice(dist.length).replace(/\.js$/, '')}`;
  if (url.endsWith('/test/bench/floor.ts')) return 'floor (floor.ts)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return `npm ${pkg[1]}`;
  if (url.startsWith('node:')) return 'Node.js';
  return 'other';
}

/**
 * Self time in µs per group, over the samples from `from` (0 to 1) of the profile's duration on,
 * leaving out any sample that spans more than `maxGapUs` (the process was stopped, not running).
 */
export function groupTimes(profile: CpuProfile, from = 0.5, dist = DIST, maxGapUs = 10_000): Map<string, number> {
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const total = profile.timeDeltas.reduce((a, b) => a + b, 0);
  const times = new Map<string, number>();
  let t = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    if (t < from * total || dt > maxGapUs) return;
    const frame = frames.get(id);
    if (!frame) throw new Error(`profile sample ${i} names node ${id}, which the profile does not have`);
    const group = groupOf(frame, dist);
    if (group !== undefined) times.set(group, (times.get(group) ?? 0) + dt);
  });
  return times;
}

function main(): void {
  const args = process.argv.slice(2);
  const flag = (name: string, fallback: number): number => {
    const i = args.indexOf(`--${name}`);
    if (i < 0) return fallback;
    const value = Number(args.splice(i, 2)[1]);
    if (!Number.isFinite(value)) throw new Error(`--${name} takes a number`);
    return value;
  };
  const from = flag('from', 0.5);
  const maxGapUs = flag('max-gap', 10_000);
  const top = flag('top', 25);
  const [dir] = args;
  if (!dir) throw new Error('usage: profile-groups.ts <dir> [--from 0.5] [--max-gap 10000] [--top 25]');
  const candidates = readdirSync(dir).filter((d) => statSync(join(dir, d)).isDirectory()).sort();
  if (candidates.length === 0) throw new Error(`${dir} holds no candidate subdirectories: give the directory \`npm run bench -- --profile ...\` printed`);
  const total = (times: Map<string, number>): number => [...times.values()].reduce((a, b) => a + b, 0);
  const ownOf = (times: Map<string, number>): number => total(new Map([...times].filter(([g]) => g.startsWith('passport-x ') || g === 'floor (floor.ts)')));
  const perProcess: string[] = [];
  const columns = candidates.map((c) => {
    const sum = new Map<string, number>();
    const files = readdirSync(join(dir, c)).filter((f) => f.endsWith('.cpuprofile'));
    for (const f of files) {
      const times = groupTimes(JSON.parse(readFileSync(join(dir, c, f), 'utf8')) as CpuProfile, from, DIST, maxGapUs);
      for (const [g, us] of times) sum.set(g, (sum.get(g) ?? 0) + us);
      const busy = total(times);
      const of = (us: number): string => `${((100 * us) / busy).toFixed(1)}%`;
      perProcess.push(
        `${c}/${f}: ${(busy / 1e3).toFixed(0)} ms, own code ${of(ownOf(times))}, garbage collector ${of(times.get('V8 (garbage collector)') ?? 0)}, (program) ${of(times.get('V8 (program)') ?? 0)}`,
      );
    }
    return { c, files: files.length, sum, all: total(sum) };
  });
  const groups = [...new Set(columns.flatMap((col) => [...col.sum.keys()]))];
  const share = (col: (typeof columns)[number], g: string): number => (100 * (col.sum.get(g) ?? 0)) / col.all;
  groups.sort((a, b) => Math.max(...columns.map((col) => share(col, b))) - Math.max(...columns.map((col) => share(col, a))));
  const pct = (x: number): string => `${x.toFixed(2)}%`;
  console.log(`Self time as a share of each candidate's CPU, from ${Math.round(from * 100)}% of each process's life on`);
  console.log(`| group | ${columns.map((col) => `${col.c} (${col.files} processes, ${(col.all / 1e3).toFixed(0)} ms)`).join(' | ')} |`);
  console.log(`|---|${columns.map(() => '---|').join('')}`);
  console.log(`| its own code (passport-x's or the floor's) | ${columns.map((col) => pct((100 * ownOf(col.sum)) / col.all)).join(' | ')} |`);
  for (const g of groups.slice(0, top)) console.log(`| ${g} | ${columns.map((col) => pct(share(col, g))).join(' | ')} |`);
  console.log('\nEach process (CPU in the window, and three shares of it):');
  for (const line of perProcess) console.log(line);
}

if (require.main === module) main();
