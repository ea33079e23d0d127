import http from 'node:http';
import { readFileSync, readdirSync } from 'node:fs';
import { signIns } from './driver';
import { forkBench } from './processes';
import { CANDIDATES } from './candidates';
function threads(pid: number): Map<string, number> {
  const m = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim().replace(/\d+$/, '#');
      const f = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      const key = `${comm}${tid === String(pid) ? ' (main)' : ''}`;
      m.set(key + ' u', (m.get(key + ' u') ?? 0) + Number(f[11]) * 10000);
      m.set(key + ' s', (m.get(key + ' s') ?? 0) + Number(f[12]) * 10000);
    } catch { /* gone */ }
  }
  return m;
}
(async () => {
  const ids = process.argv.slice(2);
  const x = await forkBench('fake-x-server.ts', []);
  const base = `http://127.0.0.1:${x.port}`;
  const apps = [] as Array<{ id: string; pid: number; port: number; flow: any; acc: Map<string, number>; n: number }>;
  for (const id of ids) {
    const a = await forkBench('app.ts', [id, base]);
    apps.push({ id, pid: a.child.pid!, port: a.port, flow: CANDIDATES.find((c) => c.id === id)!.flow, acc: new Map(), n: 0 });
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  for (let w = 0; w < 10; w++) for (const a of apps) await signIns(agent, a.port, a.id, a.flow, 500, 8);
  for (const a of apps) process.kill(a.pid, 'SIGSTOP');
  for (let r = 0; r < 30; r++) {
    for (const a of (r % 2 ? [...apps].reverse() : apps)) {
      process.kill(a.pid, 'SIGCONT');
      const b = threads(a.pid);
      await signIns(agent, a.port, a.id, a.flow, 200, 8);
      const e = threads(a.pid);
      process.kill(a.pid, 'SIGSTOP');
      for (const [k, v] of e) a.acc.set(k, (a.acc.get(k) ?? 0) + v - (b.get(k) ?? 0));
      a.n += 200;
    }
  }
  const keys = new Set(apps.flatMap((a) => [...a.acc.keys()]));
  console.log('thread'.padEnd(34), apps.map((a) => a.id.padStart(20)).join(''));
  for (const k of [...keys].sort()) {
    const vals = apps.map((a) => (a.acc.get(k) ?? 0) / a.n);
    if (vals.every((v) => v === 0)) continue;
    console.log(k.padEnd(34), vals.map((v) => v.toFixed(1).padStart(20)).join(''));
  }
  console.log('total'.padEnd(34), apps.map((a) => ([...a.acc.values()].reduce((s, v) => s + v, 0) / a.n).toFixed(1).padStart(20)).join(''));
  for (const a of apps) process.kill(a.pid, 'SIGKILL');
  await x.stop(); agent.destroy();
})();
