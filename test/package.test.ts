// The packed package (npm pack), installed into a temp project as npm would lay it out and used
// as an app would: from CommonJS and from ESM, the main entry and passport-x/testing, and its
// types under node16 (CJS and ESM) and node10 resolution. No registry: the tarball is unpacked
// into node_modules/passport-x and its declared runtime dependencies are linked from this
// repository's node_modules, so an undeclared dependency fails here as it would for a user.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';

const run = promisify(execFile);
const root = resolve(__dirname, '..');

interface PackedFile {
  path: string;
  size: number;
}

/** Links `name` (a package of this repository's node_modules) into `nodeModules`. */
function link(nodeModules: string, name: string): void {
  const target = join(root, 'node_modules', name);
  if (!existsSync(target)) throw new Error(`${name} is not installed in this repository's node_modules`);
  mkdirSync(dirname(join(nodeModules, name)), { recursive: true });
  symlinkSync(target, join(nodeModules, name), 'dir');
}

/** Parsed declaration files, shared by the programs below: parsing @types/node once saves seconds per program. */
const parsed = new Map<string, ts.SourceFile>();

/** Type-checks `files` (relative to `dir`) with strict `options`; the diagnostics, formatted. */
function typeCheck(dir: string, files: string[], options: ts.CompilerOptions): string[] {
  const compilerOptions: ts.CompilerOptions = { strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, noEmit: true, types: ['node'], ...options };
  const host = ts.createCompilerHost(compilerOptions);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, ...rest) => {
    if (!fileName.endsWith('.d.ts')) return getSourceFile(fileName, languageVersion, ...rest);
    const key = `${fileName}\0${JSON.stringify(languageVersion)}`;
    let file = parsed.get(key);
    if (!file) {
      file = getSourceFile(fileName, languageVersion, ...rest);
      if (file) parsed.set(key, file);
    }
    return file;
  };
  const program = ts.createProgram(
    files.map((f) => join(dir, f)),
    compilerOptions,
    host,
  );
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file && d.start !== undefined ? `${d.file.fileName.slice(dir.length + 1)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: ` : '';
    return `${where}TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

describe('the packed package', function () {
  this.timeout(120_000);
  let dir: string;
  /** The consumer project, with passport-x unpacked into its node_modules. */
  let app: string;
  let files: PackedFile[];
  let tarball: string;
  let manifest: { dependencies?: Record<string, string> };

  const STALE_BUILD_FILE = join(root, 'dist', 'stale-build-file.js');

  before(async function () {
    if (!existsSync(join(root, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).');
    dir = mkdtempSync(join(tmpdir(), 'passport-x-pack-'));
    // What an old build left in dist/: npm pack must build afresh (prepack) and ship none of it.
    writeFileSync(STALE_BUILD_FILE, '// left by an earlier build\n');
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: root });
    const packed = JSON.parse(stdout) as Array<{ filename: string; files: PackedFile[] }>;
    files = packed[0]!.files;
    tarball = packed[0]!.filename;
    // npm puts a package's files under package/ in the tarball; npm install moves that folder to node_modules/<name>.
    await run('tar', ['-xzf', join(dir, tarball), '-C', dir]);
    app = join(dir, 'app');
    const nodeModules = join(app, 'node_modules');
    mkdirSync(nodeModules, { recursive: true });
    renameSync(join(dir, 'package'), join(nodeModules, 'passport-x'));
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    manifest = JSON.parse(readFileSync(join(nodeModules, 'passport-x', 'package.json'), 'utf8')) as typeof manifest;
    // What `npm install passport-x` brings: the declared dependencies (theirs resolve from where they live).
    for (const name of Object.keys(manifest.dependencies ?? {})) link(nodeModules, name);
    // What the app itself installs: passport (the peer), and the types it compiles with.
    for (const name of ['passport', '@types/node', '@types/passport', '@types/express']) link(nodeModules, name);
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    rmSync(STALE_BUILD_FILE, { force: true });
  });

  it('packs a fresh build (prepack), never what an earlier build left in dist/', () => {
    expect(files.map((f) => f.path)).to.not.include('dist/stale-build-file.js');
    expect(existsSync(STALE_BUILD_FILE), 'dist/ was rebuilt').to.equal(false);
  });

  it('ships only the build (no source maps), README, LICENSE and package.json', () => {
    const paths = files.map((f) => f.path);
    for (const f of paths) expect(f).to.match(/^(dist\/|README\.md$|LICENSE$|package\.json$)/);
    expect(paths).to.include.members([
      'dist/index.js',
      'dist/index.mjs',
      'dist/index.d.ts',
      'dist/index.d.mts',
      'dist/testing/index.js',
      'dist/testing/index.mjs',
      'dist/testing/index.d.ts',
      'dist/testing/index.d.mts',
      'README.md',
      'LICENSE',
    ]);
    // Maps would point at lib/*.ts, which is not shipped.
    expect(paths.filter((f) => f.endsWith('.map'))).to.deep.equal([]);
    for (const f of paths.filter((p) => /\.(m?js|d\.m?ts)$/.test(p))) {
      expect(readFileSync(join(app, 'node_modules', 'passport-x', f), 'utf8'), f).not.to.contain('sourceMappingURL');
    }
  });

  it('names its repository, home page and issue tracker', () => {
    const pkg = JSON.parse(readFileSync(join(app, 'node_modules', 'passport-x', 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg.repository).to.deep.equal({ type: 'git', url: 'git+https://github.com/passport-x/passport-x.git' });
    expect(pkg.homepage).to.equal('https://github.com/passport-x/passport-x#readme');
    expect(pkg.bugs).to.deep.equal({ url: 'https://github.com/passport-x/passport-x/issues' });
  });

  it('works from CommonJS', async () => {
    writeFileSync(
      join(app, 'app.cjs'),
      `const { XOAuth1Strategy, XAPIError } = require('passport-x');
       const { startXEmulator } = require('passport-x/testing');
       const s = new XOAuth1Strategy({ consumerKey: 'k', consumerSecret: 's', callbackURL: 'http://127.0.0.1/cb' }, (t, ts, p, done) => done(null, p));
       console.log(JSON.stringify({ name: s.name, err: typeof XAPIError, emulator: typeof startXEmulator }));`,
    );
    const { stdout } = await run(process.execPath, ['app.cjs'], { cwd: app });
    expect(JSON.parse(stdout)).to.deep.equal({ name: 'x-oauth1', err: 'function', emulator: 'function' });
  });

  it('works from ESM, sharing the CommonJS classes', async () => {
    writeFileSync(
      join(app, 'app.mjs'),
      `import { XOAuth1Strategy, XAPIError } from 'passport-x';
       import { startXEmulator } from 'passport-x/testing';
       import { createRequire } from 'node:module';
       const require = createRequire(import.meta.url);
       const s = new XOAuth1Strategy({ consumerKey: 'k', consumerSecret: 's', callbackURL: 'http://127.0.0.1/cb' }, (t, ts, p, done) => done(null, p));
       console.log(JSON.stringify({ name: s.name, same: require('passport-x').XAPIError === XAPIError, emulator: typeof startXEmulator }));`,
    );
    const { stdout } = await run(process.execPath, ['app.mjs'], { cwd: app });
    expect(JSON.parse(stdout)).to.deep.equal({ name: 'x-oauth1', same: true, emulator: 'function' });
  });

  it('has no default export from ESM, at run time as in its types', async () => {
    writeFileSync(join(app, 'default.mjs'), `import px from 'passport-x';\nconsole.log(typeof px);\n`);
    const failed = await run(process.execPath, ['default.mjs'], { cwd: app }).then(
      () => undefined,
      (err: { stderr: string }) => err,
    );
    expect(failed, 'a default import must fail at run time').to.not.equal(undefined);
    expect(failed!.stderr).to.match(/does not provide an export named 'default'/);
    // The types say so too: see "compile a strict consumer under node16, from ESM".
  });

  describe('types', () => {
    // The README's code, against the shipped .d.ts files: both entries, and the per-request options.
    const consumer = `
      import passport from 'passport';
      import { XOAuth2PkceStrategy, XOAuth1Strategy, XAPIError, type XProfile, type XOAuth2AuthenticateOptions, type XFailureInfo } from 'passport-x';
      import { startXEmulator, type XEmulator } from 'passport-x/testing';

      export async function setup(): Promise<XEmulator> {
        const x = await startXEmulator();
        passport.use(new XOAuth2PkceStrategy({ clientID: x.apps.public.clientID, callbackURL: 'http://127.0.0.1:3000/auth/x/callback', baseURL: x.baseURL },
          (_accessToken, _refreshToken, profile: XProfile, done) => done(null, { id: profile.id })));
        passport.use(new XOAuth1Strategy({ consumerKey: 'k', consumerSecret: 's', callbackURL: 'http://127.0.0.1:3000/cb' }, (_t, _s, profile, done) => done(null, profile)));
        return x;
      }
      const options: XOAuth2AuthenticateOptions = { scope: ['tweet.read', 'users.read'], state: { returnTo: '/settings' } };
      export const handlers = [
        passport.authenticate('x-oauth2', { state: { returnTo: '/settings' } }),
        passport.authenticate('x-oauth1', { forceLogin: true, screenName: 'ada', failureRedirect: '/' }),
        passport.authenticate('x-oauth2', { callbackURL: 'http://127.0.0.1:3000/auth/x/callback', scope: 'tweet.read' }),
        passport.authenticate('x-oauth2', options),
        // @ts-expect-error a misspelt option is a type error
        passport.authenticate('x-oauth1', { forceLogn: true }),
      ];
      export const isXError = (err: unknown): boolean => err instanceof XAPIError;
      export const short = (info: XFailureInfo): string => info.message;
    `;

    // skipLibCheck off once, so an error inside the shipped .d.ts files shows (the .d.mts ones only re-export them).
    for (const [label, file, options] of [
      ['node16, from CommonJS', 'consumer.cts', { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16, esModuleInterop: true, skipLibCheck: false }],
      ['node16, from ESM', 'consumer.mts', { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16, skipLibCheck: true }],
      ['node10 (moduleResolution: node)', 'consumer-node10.ts', { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, esModuleInterop: true, skipLibCheck: true }],
      ['bundler', 'consumer-bundler.ts', { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, esModuleInterop: true, skipLibCheck: true }],
    ] as const) {
      it(`compile a strict consumer under ${label}`, () => {
        writeFileSync(join(app, file), consumer);
        const extra: string[] = [];
        if (file === 'consumer.mts') {
          // A default import type-checks only if it works at run time; it does not (see above).
          writeFileSync(join(app, 'default.mts'), `import px from 'passport-x';\nexport const kind = typeof px;\n`);
          extra.push('default.mts');
        }
        const diagnostics = typeCheck(app, [file, ...extra], options);
        if (extra.length > 0) {
          const refused = diagnostics.filter((d) => d.startsWith('default.mts:'));
          expect(refused).to.have.length(1);
          expect(refused[0]).to.match(/^default\.mts:1: TS1192 /);
        }
        expect(diagnostics.filter((d) => !d.startsWith('default.mts:'))).to.deep.equal([]);
      });
    }

    it('compile without @types/passport (a Fastify or Koa app): the passport augmentation names nothing from it', async () => {
      const bare = join(dir, 'bare');
      mkdirSync(join(bare, 'node_modules'), { recursive: true });
      await run('tar', ['-xzf', join(dir, tarball), '-C', bare]);
      renameSync(join(bare, 'package'), join(bare, 'node_modules', 'passport-x'));
      for (const name of Object.keys(manifest.dependencies ?? {})) link(join(bare, 'node_modules'), name);
      link(join(bare, 'node_modules'), '@types/node');
      writeFileSync(join(bare, 'package.json'), JSON.stringify({ name: 'bare-consumer', private: true }));
      writeFileSync(
        join(bare, 'index.ts'),
        `import { XOAuth2PkceStrategy, type XOAuth2AuthenticateOptions } from 'passport-x';
         export const strategy = new XOAuth2PkceStrategy({ clientID: 'id', callbackURL: 'http://127.0.0.1:3000/cb' }, (_a, _r, profile, done) => done(null, profile));
         export const options: XOAuth2AuthenticateOptions = { state: { returnTo: '/' } };`,
      );
      expect(typeCheck(bare, ['index.ts'], { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16, skipLibCheck: false })).to.deep.equal([]);
    });

    it('resolve passport-x/testing under node10 to the shipped declarations', () => {
      const found = ts.resolveModuleName('passport-x/testing', join(app, 'consumer-node10.ts'), { moduleResolution: ts.ModuleResolutionKind.Node10 }, ts.sys);
      expect(found.resolvedModule?.resolvedFileName).to.equal(join(app, 'node_modules', 'passport-x', 'dist', 'testing', 'index.d.ts'));
    });
  });
});
