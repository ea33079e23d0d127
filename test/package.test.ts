// Installs the packed package (npm pack) into a temp folder and uses it as an app would:
// from CommonJS and from ESM, the main entry and passport-x/testing.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(__dirname, '..');

describe('the packed package', function () {
  this.timeout(120_000);
  let dir: string;
  let tarball: string;
  let files: string[];

  before(async function () {
    if (!existsSync(join(root, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).');
    dir = mkdtempSync(join(tmpdir(), 'passport-x-pack-'));
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: root });
    const packed = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = join(dir, packed[0]!.filename);
    files = packed[0]!.files.map((f) => f.path);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    // --offline: the dependencies come from npm's cache, filled by `npm ci`; the test reaches no network.
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], { cwd: dir });
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ships only the build, README, LICENSE and package.json', () => {
    for (const f of files) expect(f).to.match(/^(dist\/|README\.md$|LICENSE$|package\.json$)/);
    expect(files).to.include.members(['dist/index.js', 'dist/index.mjs', 'dist/index.d.ts', 'dist/testing/index.js', 'README.md', 'LICENSE']);
    expect(files.some((f) => f.endsWith('.d.ts.map'))).to.equal(true);
  });

  it('works from CommonJS', async () => {
    writeFileSync(
      join(dir, 'app.cjs'),
      `const { XOAuth1Strategy, XAPIError } = require('passport-x');
       const { startXEmulator } = require('passport-x/testing');
       const s = new XOAuth1Strategy({ consumerKey: 'k', consumerSecret: 's', callbackURL: 'http://localhost/cb' }, (t, ts, p, done) => done(null, p));
       console.log(JSON.stringify({ name: s.name, err: typeof XAPIError, emulator: typeof startXEmulator }));`,
    );
    const { stdout } = await run(process.execPath, ['app.cjs'], { cwd: dir });
    expect(JSON.parse(stdout)).to.deep.equal({ name: 'x-oauth1', err: 'function', emulator: 'function' });
  });

  it('works from ESM, sharing the CommonJS classes', async () => {
    writeFileSync(
      join(dir, 'app.mjs'),
      `import { XOAuth1Strategy, XAPIError } from 'passport-x';
       import { startXEmulator } from 'passport-x/testing';
       import { createRequire } from 'node:module';
       const require = createRequire(import.meta.url);
       const s = new XOAuth1Strategy({ consumerKey: 'k', consumerSecret: 's', callbackURL: 'http://localhost/cb' }, (t, ts, p, done) => done(null, p));
       console.log(JSON.stringify({ name: s.name, same: require('passport-x').XAPIError === XAPIError, emulator: typeof startXEmulator }));`,
    );
    const { stdout } = await run(process.execPath, ['app.mjs'], { cwd: dir });
    expect(JSON.parse(stdout)).to.deep.equal({ name: 'x-oauth1', same: true, emulator: 'function' });
  });
});
