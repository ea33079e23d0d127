// Each candidate strategy alone: start and callback driven in one process as Passport drives them
// (test/support/passport-harness.ts: a fresh Object.create(strategy) per request, a plain session
// object), against the canned X in its own process, 8 sign-ins at a time. No Express, no
// express-session, no browser sockets: what is left is the strategy's own work and its requests to
// X, the part of a sign-in a strategy decides. Candidates of a flow take turns in alternating
// rounds; medians. Reported next to the whole-app figures of signin.bench.ts, which include
// everything else (and move much more with the machine's load).
//
// Run: `npm run build && npx tsx test/bench/strategy.bench.ts`, or call benchStrategies().
import type { AuthenticatingStrategy } from '../support/passport-harness';
import { CANDIDATES } from './candidates';
import { harnessSignIn } from './driver';
import { forkBench } from './processes';

/** One candidate's figure: CPU µs (user + system) of this process per sign-in, and its ratio to its flow's floor. */
export interface StrategyBenchResult {
  id: string;
  label: string;
  cpuUsPerSignIn: number;
  ratioToFloor: number;
}

const HOST = '127.0.0.1:3000';
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** CPU per sign-in of `n` sign-ins, `concurrency` at a time. */
async function cpuPer(n: number, concurrency: number, signIn: () => Promise<void>): Promise<number> {
  const before = process.cpuUsage();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next += 1;
      await signIn();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n;
}

/** Measures every candidate alone. Starts (and stops) the canned X itself. */
export async function benchStrategies(options: { signIns?: number; rounds?: number; warmup?: number } = {}): Promise<StrategyBenchResult[]> {
  const signIns = options.signIns ?? 800;
  const rounds = options.rounds ?? 9;
  const warmup = options.warmup ?? 5000;
  const x = await forkBench('fake-x-server.ts', []);
  try {
    const base = `http://127.0.0.1:${x.port}`;
    const runs = new Map<string, () => Promise<void>>();
    for (const c of CANDIDATES) {
      const strategy = c.create(base, (profile, done) => done(null, { id: profile.id })) as unknown as AuthenticatingStrategy;
      runs.set(c.id, () => harnessSignIn(strategy, c.flow, HOST, c.id));
    }
    for (const c of CANDIDATES) await cpuPer(warmup, 8, runs.get(c.id)!);
    const figures = new Map<string, number[]>(CANDIDATES.map((c) => [c.id, []]));
    for (let r = 0; r < rounds; r++) {
      for (const c of r % 2 === 0 ? CANDIDATES : [...CANDIDATES].reverse()) figures.get(c.id)!.push(await cpuPer(signIns, 8, runs.get(c.id)!));
    }
    return CANDIDATES.map((c) => {
      const floor = CANDIDATES.find((k) => k.floor && k.flow === c.flow)!;
      // Per round against the floor of the same round, then the median.
      const ratios = figures.get(c.id)!.map((x, i) => x / figures.get(floor.id)![i]!);
      return { id: c.id, label: c.label, cpuUsPerSignIn: median(figures.get(c.id)!), ratioToFloor: median(ratios) };
    });
  } finally {
    await x.stop();
  }
}

/** The results as label/value rows, for a bench table. */
export function strategyRows(results: readonly StrategyBenchResult[]): Array<[string, string]> {
  return results.map((r): [string, string] => [`${r.label}, alone: CPU per sign-in, vs floor`, `${r.cpuUsPerSignIn.toFixed(1)} us, ${r.ratioToFloor.toFixed(2)}x`]);
}

if (require.main === module) {
  benchStrategies().then(
    (results) => {
      for (const [k, v] of strategyRows(results)) console.log(`${k.padEnd(72)} ${v}`);
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 2;
    },
  );
}
