// Type-checks every ```ts block of README.md and docs/**/*.md, and every example file under
// docs/examples/, under strict settings, as a user's own TypeScript app would compile them.
//
//   npm run docs:snippets               check (needs dist/: run `npm run build` first)
//   npm run docs:snippets -- --write    also copy docs/examples/* files into their included blocks
//
// Each block becomes its own ES module (`.mts`) in a scratch folder inside the repository, so
// `from 'passport-x'` resolves through the package's own `exports` to the built `dist/` (package
// self-reference), and express, passport, ... resolve from node_modules, exactly as in an app.
// Errors are reported at the Markdown file and line they come from.
//
// Two HTML comments, on the line before a block, change how it is checked:
//   <!-- example: docs/examples/name.ts -->   the block must equal that file (which is compiled
//                                             in place instead); --write copies the file in.
//   <!-- snippet: known-failure <reason> -->  the block is expected not to compile yet (a typing
//                                             bug being fixed); the check fails once it compiles,
//                                             so the marker is removed when the fix lands.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

const root = resolve(__dirname, '..', '..');
const scratch = join(root, '.docs-snippets');
const write = process.argv.includes('--write');

/** One fenced ```ts block of a Markdown file. */
export interface Block {
  /** Markdown file, relative to the repository root. */
  file: string;
  /** 1-based line of the block's first code line (the line after the opening fence). */
  line: number;
  /** The code, with the fence's indentation removed. */
  code: string;
  /** 0-based index of the opening fence line and of the closing fence line in the file. */
  openIndex: number;
  closeIndex: number;
  /** The fence's indentation, to write an included example back. */
  indent: string;
  /** `<!-- example: path -->` before the block. */
  example?: string;
  /** `<!-- snippet: known-failure reason -->` before the block. */
  knownFailure?: string;
}

/** The Markdown files to check: README.md and docs/**\/*.md, except the generated API reference. */
function markdownFiles(): string[] {
  const files = ['README.md'];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        if (relative(root, path) !== join('docs', 'api')) walk(path);
      } else if (name.endsWith('.md')) files.push(relative(root, path));
    }
  };
  if (existsSync(join(root, 'docs'))) walk(join(root, 'docs'));
  return files;
}

/** The example files: docs/examples/**\/*.ts and *.mts. */
function exampleFiles(): string[] {
  const dir = join(root, 'docs', 'examples');
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.m?ts$/.test(name) && !name.endsWith('.d.ts')) files.push(path);
    }
  };
  if (existsSync(dir)) walk(dir);
  return files;
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/;
const EXAMPLE = /^\s*<!--\s*example:\s*(\S+)\s*-->\s*$/;
const KNOWN_FAILURE = /^\s*<!--\s*snippet:\s*known-failure\s+(.+?)\s*-->\s*$/;

/** The ```ts / ```typescript blocks of one Markdown file (CommonMark fences, also inside lists). */
export function blocksOf(file: string, text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const [, indent = '', fence = '', lang = ''] = open;
    let close = i + 1;
    while (close < lines.length && !new RegExp(`^\\s*${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`).test(lines[close]!)) close++;
    if (lang === 'ts' || lang === 'typescript') {
      const code = lines
        .slice(i + 1, close)
        .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l.trimStart()))
        .join('\n');
      const block: Block = { file, line: i + 2, code: `${code}\n`, openIndex: i, closeIndex: close, indent };
      let prev = i - 1;
      while (prev >= 0 && lines[prev]!.trim() === '') prev--;
      const marker = prev >= 0 ? lines[prev]! : '';
      const example = EXAMPLE.exec(marker)?.[1];
      const known = KNOWN_FAILURE.exec(marker)?.[1];
      if (example) block.example = example;
      if (known) block.knownFailure = known;
      blocks.push(block);
    }
    i = close;
  }
  return blocks;
}

/** The compiler options of a strict TypeScript app (Node 20, ES modules). */
const options: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  lib: ['lib.es2022.d.ts'],
  module: ts.ModuleKind.Node16,
  moduleResolution: ts.ModuleResolutionKind.Node16,
  moduleDetection: ts.ModuleDetectionKind.Force,
  strict: true,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  noImplicitOverride: true,
  noFallthroughCasesInSwitch: true,
  esModuleInterop: true,
  skipLibCheck: true,
  // NestJS's decorators (parameter decorators included) need the legacy ones, as Nest's own starter sets.
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  types: ['node', 'mocha'],
  noEmit: true,
};

/** A compiler host that parses each file and resolves each import once, for all the programs. */
function cachingHost(): ts.CompilerHost {
  const host = ts.createCompilerHost(options);
  const memo = <T>(fn: (key: string) => T): ((key: string) => T) => {
    const seen = new Map<string, T>();
    return (key) => {
      if (!seen.has(key)) seen.set(key, fn(key));
      return seen.get(key) as T;
    };
  };
  host.fileExists = memo(host.fileExists.bind(host));
  host.readFile = memo(host.readFile.bind(host));
  const files = new Map<string, ts.SourceFile | undefined>();
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    if (!files.has(fileName)) files.set(fileName, getSourceFile(fileName, languageVersion, onError, shouldCreate));
    return files.get(fileName);
  };
  const resolutions = ts.createModuleResolutionCache(host.getCurrentDirectory(), (name) => name, options);
  host.resolveModuleNameLiterals = (literals, containingFile, redirectedReference, compilerOptions, containingSourceFile) =>
    literals.map((literal) =>
      ts.resolveModuleName(
        literal.text,
        containingFile,
        compilerOptions,
        host,
        resolutions,
        redirectedReference,
        ts.getModeForUsageLocation(containingSourceFile, literal, compilerOptions),
      ),
    );
  return host;
}

function main(): number {
  if (!existsSync(join(root, 'dist', 'index.d.ts'))) {
    console.error('docs:snippets: dist/ is missing: run `npm run build` first (snippets import passport-x through its exports, from dist/).');
    return 1;
  }
  const problems: string[] = [];
  const blocks: Block[] = [];
  for (const file of markdownFiles()) {
    const text = readFileSync(join(root, file), 'utf8');
    const found = blocksOf(file, text);
    // Included examples: the block must be the file, verbatim.
    const lines = text.split('\n');
    let rewritten = false;
    for (const block of [...found].reverse()) {
      if (!block.example) continue;
      const examplePath = join(root, block.example);
      if (!existsSync(examplePath)) {
        problems.push(`${file}:${block.line - 1}: <!-- example: ${block.example} --> names a file that does not exist`);
        continue;
      }
      const source = readFileSync(examplePath, 'utf8').replace(/\n*$/, '\n');
      if (source === block.code) continue;
      if (write) {
        const body = source.replace(/\n$/, '').split('\n').map((l) => (l === '' ? '' : block.indent + l));
        lines.splice(block.openIndex + 1, block.closeIndex - block.openIndex - 1, ...body);
        rewritten = true;
      } else {
        problems.push(`${file}:${block.line}: this block differs from ${block.example}; run \`npm run docs:snippets -- --write\` to copy the file in`);
      }
    }
    if (rewritten) {
      writeFileSync(join(root, file), lines.join('\n'));
      console.log(`docs:snippets: copied the examples into ${file}`);
    }
    blocks.push(...found.filter((b) => !b.example));
  }

  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  const bySnippet = new Map<string, Block>();
  try {
    for (const block of blocks) {
      const name = `${block.file.replace(/[\\/.]/g, '_')}_L${block.line}.mts`;
      const path = join(scratch, name);
      writeFileSync(path, block.code);
      bySnippet.set(path, block);
    }
    const examples = exampleFiles();
    // One program per block, as each is its own app (a module augmentation in one, e.g.
    // @fastify/secure-session's, must not change how another compiles); parsed files are shared.
    const host = cachingHost();
    const diagnostics: ts.Diagnostic[] = [];
    for (const roots of [...[...bySnippet.keys()].map((path) => [path]), examples]) {
      if (roots.length > 0) diagnostics.push(...ts.getPreEmitDiagnostics(ts.createProgram(roots, options, host)));
    }
    const failing = new Map<Block, string[]>();
    for (const d of diagnostics) {
      const message = ts.flattenDiagnosticMessageText(d.messageText, '\n    ');
      if (!d.file || d.start === undefined) {
        problems.push(`error TS${d.code}: ${message}`);
        continue;
      }
      const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
      const block = bySnippet.get(resolve(d.file.fileName));
      if (block) {
        const where = `${block.file}:${block.line + line}:${character + 1 + block.indent.length}`;
        failing.set(block, [...(failing.get(block) ?? []), `${where} error TS${d.code}: ${message}`]);
      } else {
        problems.push(`${relative(root, d.file.fileName).split(sep).join('/')}:${line + 1}:${character + 1} error TS${d.code}: ${message}`);
      }
    }
    let known = 0;
    for (const block of blocks) {
      const errors = failing.get(block);
      if (block.knownFailure) {
        if (errors) {
          known++;
          console.log(`docs:snippets: known failure at ${block.file}:${block.line} (${block.knownFailure}):\n  ${errors.join('\n  ')}`);
        } else {
          problems.push(`${block.file}:${block.line}: this block now compiles: remove its <!-- snippet: known-failure ${block.knownFailure} --> marker`);
        }
      } else if (errors) {
        problems.push(...errors);
      }
    }
    if (problems.length > 0) {
      console.error(problems.join('\n'));
      console.error(`docs:snippets: ${problems.length} problem(s) in ${blocks.length} blocks and ${examples.length} example files.`);
      return 1;
    }
    console.log(`docs:snippets: ${blocks.length} blocks and ${examples.length} example files compile${known ? ` (${known} known failure(s), listed above)` : ''}.`);
    return 0;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

// Run as a script (`npm run docs:snippets`); imported by its test for blocksOf().
if (require.main === module) process.exitCode = main();
