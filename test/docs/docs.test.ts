// The front page and the guides: what issue 13 asks of README.md (short, npm-ready, one host
// rule), and the block extraction that `npm run docs:snippets` type-checks.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import * as passportX from '../../lib/index';
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

describe('docs/reference.md', () => {
  const reference = readFileSync(join(root, 'docs', 'reference.md'), 'utf8');
  const exported = passportX as unknown as Record<string, unknown>;
  /** The section of the page under the heading `title`, up to the next heading. */
  const section = (title: string): string => {
    const start = reference.indexOf(`\n## ${title}\n`);
    expect(start, title).to.be.greaterThan(-1);
    const end = reference.indexOf('\n## ', start + 1);
    return reference.slice(start, end < 0 ? undefined : end);
  };
  /** The rows of the first table of `text`, cells trimmed, header and rule left out. */
  const rows = (text: string): string[][] =>
    text
      .split('\n')
      .filter((line) => line.startsWith('| '))
      .slice(1)
      .map((line) => line.slice(1, -1).split(' | ').map((cell) => cell.trim()));
  const unquote = (cell: string): string => /^`(.*)`$/.exec(cell)?.[1] ?? cell;

  it('gives the value of every exported constant that is a number or a string, as the package has it', () => {
    const table = rows(section('Defaults and limits'));
    const documented = Object.fromEntries(table.map(([name, value]) => [unquote(name ?? ''), JSON.parse(unquote(value ?? '')) as unknown]));
    const constants = Object.fromEntries(Object.entries(exported).filter(([, value]) => typeof value === 'number' || typeof value === 'string'));
    expect(Object.keys(constants).length).to.be.greaterThan(10);
    expect(documented).to.deep.equal(constants);
  });

  it('lists the scopes and user fields as the package has them', () => {
    const text = section('Scopes and user fields');
    const items = text.split('\n- ').slice(1);
    const listed = (name: string): string[] => {
      const item = items.find((i) => i.startsWith(`\`${name}\``));
      expect(item, name).to.be.a('string');
      const list = (item as string).slice((item as string).indexOf(':'));
      return [...list.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string).filter((word) => !/[A-Z(]/.test(word));
    };
    expect(listed('X_OAUTH2_DEFAULT_SCOPES')).to.deep.equal([...passportX.X_OAUTH2_DEFAULT_SCOPES]);
    expect(listed('X_OAUTH2_DEFAULT_USER_FIELDS')).to.deep.equal([...passportX.X_OAUTH2_DEFAULT_USER_FIELDS]);
    expect(listed('X_OAUTH2_SCOPES')).to.deep.equal([...passportX.X_OAUTH2_SCOPES]);
    expect(listed('X_USER_FIELDS')).to.deep.equal([...passportX.X_USER_FIELDS]);
    const [field, scope] = listed('X_USER_FIELD_SCOPES');
    expect({ [field as string]: scope }).to.deep.equal(passportX.X_USER_FIELD_SCOPES);
  });

  it("gives every failure's sentence for the person signing in, word for word", () => {
    const table = rows(section('What the person signing in reads'));
    const documented = Object.fromEntries(table.map(([code, message]) => [unquote(code ?? ''), message]));
    expect(documented).to.deep.equal(passportX.X_FAILURE_MESSAGES);
    expect(Object.keys(documented).sort()).to.deep.equal(Object.values(passportX.XFailureCode).sort());
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
