// CPU per sign-in by thread of each candidate's app: the main thread (where the app's and the
// strategy's JavaScript runs) apart from the other threads (V8's workers, which collect garbage and
// compile, and libuv's pool). One
// app process per candidate (test/bench/app.ts), warmed up in turns, then measured in turns of 200
// sign-ins with the other apps stopped (SIGSTOP); each thread's user and system time is read from
// /proc/<pid>/task/<tid>/stat (Linux only; clock ticks of 10 ms, so a figure moves by about 2 µs).
//   npx tsx test/bench/threads.ts floor-oauth2 floor-oauth2-again passport-x-oauth2 superface [--turns 30]
// Run `npm run build` first: passport-x's candidates load dist/.
import http from 'node:http';
import { readFileSync, readdirSync } from 'node:fs';
import { CANDIDATES } from './candidates';
import { signIns } from './driver';
import { forkBench } from './processes';

/** CPU µs so far of each of `pid`'s threads, keyed by the thread's kind (main or worker) and user or system. */
function threadTimes(pid: number): Map<string, number> {
  const times = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    // Fields after the command name (which may hold spaces, in parentheses): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const kind = tid === String(pid) ? 'main thread' : 'other threads';
    times.set(`${kind}, user`, (times.get(`${kind}, user`) ?? 0) + Number(fields[11]) * 10_000);
    times.set(`${kind}, system`, (times.get(`${kind}, system`) ?? 0) + Number(fields[12]) * 10_000);
  }
  return times;
}

async function main(): Promise<void> {
  const turnsAt = process.argv.indexOf('--turns');
  const turns = turnsAt < 0 ? 30 : Number(process.argv[turnsAt + 1]);
  const ids = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--turns');
  const candidates = ids.map((id) => {
    const c = CANDIDATES.find((k) => k.id === id);
    if (!c) throw new Error(`unknown candidate ${id}; one of ${CANDIDATES.map((k) => k.id).join(', ')}`);
    return c;
  });
  const x = await forkBench('fake-x-server.ts', []);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const apps = [];
  try {
    for (const c of candidates) {
      const app = await forkBench('app.ts', [c.id, `http://127.0.0.1:${x.port}`]);
      apps.push({ c, app, pid: app.child.pid as number, spent: new Map<string, number>(), signIns: 0 });
    }
    for (let w = 0; w < 10; w++) for (const a of apps) await signIns(agent, a.app.port, a.c.id, a.c.flow, 500, 8);
    for (const a of apps) process.kill(a.pid, 'SIGSTOP');
    for (let t = 0; t < turns; t++) {
      for (const a of t % 2 === 0 ? apps : [...apps].reverse()) {
        // Read while the app is stopped, so that what it does right after a turn counts too.
        const before = threadTimes(a.pid);
        process.kill(a.pid, 'SIGCONT');
        await signIns(agent, a.app.port, a.c.id, a.c.flow, 200, 8);
        process.kill(a.pid, 'SIGSTOP');
        await new Promise((resolve) => setTimeout(resolve, 20));
        const after = threadTimes(a.pid);
        for (const [k, v] of after) a.spent.set(k, (a.spent.get(k) ?? 0) + v - (before.get(k) ?? 0));
        a.signIns += 200;
      }
    }
    const rows = ['main thread, user', 'main thread, system', 'other threads, user', 'other threads, system'];
    console.log(`| CPU µs per sign-in | ${apps.map((a) => a.c.id).join(' | ')} |`);
    console.log(`|---|${apps.map(() => '---').join('|')}|`);
    for (const row of [...rows, 'total']) {
      const values = apps.map((a) => (row === 'total' ? [...a.spent.values()].reduce((s, v) => s + v, 0) : (a.spent.get(row) ?? 0)) / a.signIns);
      console.log(`| ${row} | ${values.map((v, i) => `${v.toFixed(1)}${i > 0 ? ` (${(v / (values[0] as number)).toFixed(2)}x)` : ''}`).join(' | ')} |`);
    }
  } finally {
    for (const a of apps) {
      try {
        process.kill(a.pid, 'SIGCONT');
      } catch {
        // already gone
      }
      await a.app.stop();
    }
    agent.destroy();
    await x.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
