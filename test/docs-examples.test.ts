// The complete tests of docs/examples/ (docs/testing.md shows them) run as a user runs them: the
// mocha one with mocha and tsx, the node:test one with `node --import tsx --test`, each in its own
// process, importing passport-x and passport-x/testing by the package's name (dist/, built by npm test).
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(__dirname, '..');

/** Runs a command in the repository; its output and exit code, without rejecting on failure. */
async function runIn(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, args, { cwd: root, env: { ...process.env, NO_COLOR: '1' } });
    return { code: 0, output: `${stdout}\n${stderr}` };
  } catch (err) {
    const failed = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : 1, output: `${failed.stdout ?? ''}\n${failed.stderr ?? ''}` };
  }
}

describe('the testing examples of the docs', function () {
  this.timeout(120_000);

  before(function () {
    if (!existsSync(join(root, 'dist', 'testing', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does).');
  });

  it('docs/examples/testing-mocha.test.ts passes under mocha', async () => {
    const { code, output } = await runIn([join(root, 'node_modules', 'mocha', 'bin', 'mocha.js'), '--no-config', '--import=tsx', 'docs/examples/testing-mocha.test.ts']);
    expect(code, output).to.equal(0);
    expect(output).to.match(/\b3 passing\b/).and.not.to.match(/\bfailing\b/);
  });

  it('docs/examples/testing-node.test.ts passes under node:test', async () => {
    const { code, output } = await runIn(['--import', 'tsx', '--test', '--test-reporter', 'tap', 'docs/examples/testing-node.test.ts']);
    expect(code, output).to.equal(0);
    expect(output).to.match(/^# pass 3$/m).and.to.match(/^# fail 0$/m);
  });
});
