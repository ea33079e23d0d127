// Cold start and footprint for `npm run bench`: how long `require()` of each package takes in a
// fresh Node process, and how much it installs (the package and its runtime dependencies).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/** One package's cold start and installed size. */
export interface StartupResult {
  id: string;
  label: string;
  /** Median time of `require()` in a fresh process, ms. */
  requireMs: number;
  /** Every run's time, ms. */
  requireRunsMs: number[];
  /** The package as installed (for passport-x: what `npm pack` ships), bytes. */
  ownBytes: number;
  /** Its runtime dependencies (`dependencies` and `optionalDependencies`, transitively; npm installs both), bytes. */
  dependencyBytes: number;
  /** The dependencies counted, name@version. */
  dependencies: string[];
  /** Files installed (package + dependencies). */
  files: number;
}

const PACKAGES = [
  { id: 'passport-x', label: 'passport-x', require: join(ROOT, 'dist/index.js'), dir: ROOT },
  { id: 'passport-twitter', label: 'passport-twitter 1.0.4', require: 'passport-twitter', dir: join(ROOT, 'node_modules/passport-twitter') },
  {
    id: 'superface',
    label: '@superfaceai/passport-twitter-oauth2 1.2.4',
    require: '@superfaceai/passport-twitter-oauth2',
    dir: join(ROOT, 'node_modules/@superfaceai/passport-twitter-oauth2'),
  },
];

/** `require(spec)` in a fresh process, timed from inside it (process start-up itself excluded). */
function timeRequire(spec: string): number {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(spec)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const run = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`require(${spec}) failed: ${run.stderr}`);
  return Number(run.stdout);
}

function dirSize(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue; // nested dependencies are counted as dependencies
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const inner = dirSize(path);
      bytes += inner.bytes;
      files += inner.files;
    } else if (entry.isFile()) {
      bytes += statSync(path).size;
      files += 1;
    }
  }
  return { bytes, files };
}

/** Node's lookup: `node_modules/<name>` in `from` and each directory above it. */
function packageDir(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

function manifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
}

/** The runtime dependency closure of the package in `dir`: directories, deduplicated as npm hoists them. */
function dependencyDirs(dir: string): string[] {
  const seen = new Set<string>();
  const visit = (from: string): void => {
    const m = manifest(from);
    for (const name of Object.keys({ ...m.dependencies, ...m.optionalDependencies })) {
      const found = packageDir(name, from);
      if (!found || seen.has(found)) continue;
      seen.add(found);
      visit(found);
    }
  };
  visit(dir);
  return [...seen];
}

/** What `npm pack` puts in passport-x's tarball (the build must exist). */
function packedSize(): { bytes: number; files: number } {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const [pack] = JSON.parse(out) as Array<{ unpackedSize: number; entryCount: number }>;
  if (!pack) throw new Error('npm pack --dry-run printed nothing');
  return { bytes: pack.unpackedSize, files: pack.entryCount };
}

/** Cold start (median of `runs` fresh processes each) and installed size of passport-x and the two peers. */
export function measureStartup(runs: number): StartupResult[] {
  const times = new Map<string, number[]>(PACKAGES.map((p) => [p.id, []]));
  // Interleaved, so that a busy moment of the machine hits every package alike.
  for (let r = 0; r < runs; r++) for (const p of PACKAGES) times.get(p.id)!.push(timeRequire(p.require));
  return PACKAGES.map((p) => {
    const own = p.id === 'passport-x' ? packedSize() : dirSize(p.dir);
    const deps = dependencyDirs(p.dir);
    let dependencyBytes = 0;
    let files = own.files;
    for (const d of deps) {
      const size = dirSize(d);
      dependencyBytes += size.bytes;
      files += size.files;
    }
    const runsMs = times.get(p.id)!;
    return {
      id: p.id,
      label: p.label,
      requireMs: median(runsMs),
      requireRunsMs: runsMs,
      ownBytes: own.bytes,
      dependencyBytes,
      dependencies: deps.map((d) => {
        const m = manifest(d);
        return `${m.name}@${m.version}`;
      }),
      files,
    };
  });
}

export function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
