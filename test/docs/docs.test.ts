// The front page and the guides: what issue 13 asks of README.md (short, npm-ready, one host
// rule), and the block extraction that `npm run docs:snippets` type-checks.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { blocksOf } from './check-snippets';

const root = join(__dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** README.md and docs/*.md (not the generated API reference). */
function markdownFiles(): Array<{ file: string; text: string }> {
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => ({ file: `docs/${name}`, text: readFileSync(join(root, 'docs', name), 'utf8') }));
  return [{ file: 'README.md', text: readme }, ...docs];
}

/** Every fenced code block's body, whatever its language. */
function codeBlocks(text: string): string[] {
  return [...text.matchAll(/^\s*(`{3,}|~{3,})[^\n]*\n([\s\S]*?)^\s*\1\s*$/gm)].map((m) => m[2] ?? '');
}

describe('README.md', () => {
  it('is at most 15 KB', () => {
    expect(Buffer.byteLength(readme)).to.be.at.most(15 * 1024);
  });

  it('keeps the quick start of the repository and the install of the package', () => {
    const lines = readme.split('\n');
    expect(lines).to.include('npm ci && npm test');
    expect(lines).to.include('npm ci && npm start');
    expect(lines).to.include('npm install passport-x passport express express-session');
  });

  it('shows OAuth 2.0 before OAuth 1.0a', () => {
    const oauth2 = readme.indexOf('## Sign in with X over OAuth 2.0');
    const oauth1 = readme.indexOf('## Sign in with X over OAuth 1.0a');
    expect(oauth2).to.be.greaterThan(-1);
    expect(oauth1).to.be.greaterThan(oauth2);
  });

  it('links only to absolute URLs, which also work on the npm registry page', () => {
    const targets = [...readme.matchAll(/\]\(([^)\s]+)[^)]*\)|^\[[^\]]+\]:\s*(\S+)|\bsrc="([^"]+)"/gm)].map((m) => m[1] ?? m[2] ?? m[3]);
    expect(targets.length).to.be.greaterThan(5);
    expect(targets.filter((t) => !/^https:\/\//.test(t ?? ''))).to.deep.equal([]);
  });
});

describe('README.md and the guides', () => {
  it('use 127.0.0.1 in every code block, never localhost', () => {
    const offending = markdownFiles().flatMap(({ file, text }) => codeBlocks(text).filter((code) => /localhost/.test(code)).map(() => file));
    expect(offending).to.deep.equal([]);
  });
});

describe('the docs:snippets block extraction', () => {
  it('finds ts blocks with the line of their first code line, and skips other languages', () => {
    const text = ['# Title', '', '```sh', 'npm test', '```', '', '```ts', 'const a = 1;', 'export { a };', '```', ''].join('\n');
    const blocks = blocksOf('x.md', text);
    expect(blocks.map((b) => ({ line: b.line, code: b.code }))).to.deep.equal([{ line: 8, code: 'const a = 1;\nexport { a };\n' }]);
  });

  it('removes the indentation of a block inside a list item', () => {
    const text = ['1. Start it:', '', '   ```typescript', '   if (ok) {', '     run();', '   }', '   ```'].join('\n');
    expect(blocksOf('x.md', text).map((b) => b.code)).to.deep.equal(['if (ok) {\n  run();\n}\n']);
  });

  it('reads the example and known-failure markers on the line before a block', () => {
    const text = [
      '<!-- example: docs/examples/a.test.ts -->',
      '',
      '```ts',
      'a();',
      '```',
      '<!-- snippet: known-failure a typing bug -->',
      '```ts',
      'b();',
      '```',
      'Plain text.',
      '```ts',
      'c();',
      '```',
    ].join('\n');
    const blocks = blocksOf('x.md', text);
    expect(blocks.map((b) => [b.example, b.knownFailure])).to.deep.equal([
      ['docs/examples/a.test.ts', undefined],
      [undefined, 'a typing bug'],
      [undefined, undefined],
    ]);
  });

  it('does not end a block at a longer fence line inside it', () => {
    const text = ['````ts', 'const md = `', '```', '`;', '````'].join('\n');
    expect(blocksOf('x.md', text).map((b) => b.code)).to.deep.equal(['const md = `\n```\n`;\n']);
  });
});
