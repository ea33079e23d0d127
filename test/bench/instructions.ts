// Instructions per sign-in, counted by valgrind's callgrind in the app process: a measure of what
// a candidate's code costs that moves much less with the machine's load than CPU time (which moves
// by tens of percent between runs on a shared machine); it still moves by a few percent between
// runs, with the garbage collector's timing. It leaves out what callgrind cannot see (the kernel's
// work on the sockets, cache misses), which the CPU figures of `npm run bench` include: use it to
// compare two versions of the code (several runs each), and `npm run bench` for what a sign-in costs.
//
//   npm run bench:instructions -- [candidate ids, default: every candidate] [--sign-ins N] [--warmup N] [--keep] [--cache]
//
// --cache also simulates the caches and the branch predictor (callgrind's --cache-sim and
// --branch-sim, about twice as slow) and reports, per sign-in, first-level instruction and data cache
// misses and mispredicted branches: what CPU time pays for beyond the instructions themselves. Their
// L1 is the machine's; the simulation is a model, not a measurement of the CPU.
//
// --keep leaves callgrind's output files in place, to see where the instructions go
// (`callgrind_annotate --inclusive=no <file>`: V8's and Node's C++ functions by name, JIT code by address).
//
// Each candidate's app (test/bench/app.ts) runs under `valgrind --tool=callgrind` with the
// instrumentation off during start-up and warm-up, on for the measured sign-ins only. Needs valgrind.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CANDIDATES } from './candidates';
import { signIns } from './driver';
import { forkBench } from './processes';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
}
const keep = process.argv.includes('--keep');
const cache = process.argv.includes('--cache');
const FLAGS = ['--keep', '--cache'];
const ids = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !(all[i - 1]?.startsWith('--') && !FLAGS.includes(all[i - 1]!)));
const signInCount = option('sign-ins', 400);
// As npm run bench: past the thousands of sign-ins over which V8 compiles the app's hot code (see signin.bench.ts).
const warmup = option('warmup', 5000);

async function main(): Promise<void> {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('bench:instructions needs valgrind (Debian: apt-get install valgrind).');
  }
  const x = await forkBench('fake-x-server.ts', []);
  const baseURL = `http://127.0.0.1:${x.port}`;
  const dir = mkdtempSync(join(tmpdir(), 'passport-x-callgrind-'));
  const rows: Array<{ id: string; perSignIn: number; events?: Record<string, number> }> = [];
  try {
    for (const c of CANDIDATES.filter((k) => ids.length === 0 || ids.includes(k.id))) {
      const out = join(dir, `${c.id}.out`);
      const app = await forkBench('app.ts', [c.id, baseURL], {
        execPath: 'valgrind',
        valgrindArgs: ['--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${out}`, '--smc-check=all', '-q', ...(cache ? ['--cache-sim=yes', '--branch-sim=yes'] : [])],
      });
      const agent = new http.Agent({ keepAlive: true });
      await signIns(agent, app.port, c.id, c.flow, warmup, 8);
      execFileSync('callgrind_control', ['-i', 'on', String(app.child.pid)], { stdio: 'ignore' });
      await signIns(agent, app.port, c.id, c.flow, signInCount, 8);
      execFileSync('callgrind_control', ['-i', 'off', String(app.child.pid)], { stdio: 'ignore' });
      agent.destroy();
      await app.stop();
      const file = readdirSync(dir).map((f) => join(dir, f)).find((f) => f.startsWith(out));
      const text = readFileSync(file!, 'utf8');
      // The event names (Ir first; with --cache, I1mr, D1mr, Bcm... too) and the largest totals line over them.
      const names = /^events:\s*(.*)$/m.exec(text)?.[1]?.trim().split(/\s+/) ?? ['Ir'];
      const totals = [...text.matchAll(/^(?:summary|totals):\s*([\d ]+)$/gm)].map((m) => m[1]!.trim().split(/\s+/).map(Number));
      const line = totals.sort((a, b) => (b[0] ?? 0) - (a[0] ?? 0))[0];
      const total = line?.[0] ?? 0;
      if (!Number.isFinite(total) || total === 0) throw new Error(`no instruction total in ${file}: ${text.slice(-500)}`);
      const row: (typeof rows)[number] = { id: c.id, perSignIn: total / signInCount };
      let said = `${c.id}: ${(total / signInCount / 1000).toFixed(0)}k instructions per sign-in`;
      if (cache) {
        row.events = Object.fromEntries(names.map((name, i) => [name, (line?.[i] ?? 0) / signInCount]));
        // First-level misses (instructions, data read, data write) and mispredicted branches (conditional, indirect).
        const per = (name: string): string => `${((row.events![name] ?? 0) / 1000).toFixed(1)}k`;
        said += `, L1 misses: instructions ${per('I1mr')}, data read ${per('D1mr')}, data write ${per('D1mw')}; mispredicted branches: conditional ${per('Bcm')}, indirect ${per('Bim')}`;
      }
      rows.push(row);
      process.stderr.write(`${said}\n`);
    }
  } finally {
    await x.stop();
    if (keep) process.stderr.write(`callgrind's files kept in ${dir} (read them with callgrind_annotate)\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(rows));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(2);
});
