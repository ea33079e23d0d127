// Assertions shared by the unit tests.
import { expect } from 'chai';
import { format, inspect } from 'node:util';
import passport from 'passport';
import { wellFormed } from '../../lib/errors';
import { X_FAILURE_MESSAGES, type XFailureCodeValue, type XFailureInfo } from '../../lib/failure';

/** The rejection of `promise`, failing the test when it resolves or rejects with a non-Error. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(Error);
    return err as Error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

/** A credential to scan for: a secret on its own, or an HTTP Basic pair (client ID or consumer key, and its secret). */
export type SecretToScan = string | { id: string; secret: string };

// RFC 3986 section 2.1 percent-encoding, as OAuth 1.0a header values use it (RFC 5849 section 3.6).
function rfc3986(value: string): string {
  return encodeURIComponent(wellFormed(value)).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

// application/x-www-form-urlencoded (WHATWG URL standard): space becomes '+'.
function formEncoded(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/**
 * Every spelling a credential can take on its way into an error: as sent, percent-encoded
 * (encodeURIComponent and RFC 3986), form-encoded (`+` for space), percent-decoded, JSON-escaped
 * (with and without `\/`), `Bearer <token>`, an OAuth header value `oauth_token="..."`, and for a
 * Basic pair both `base64(enc(id):enc(secret))` (RFC 6749 section 2.3.1) and `base64(id:secret)`
 * with the secret's own spellings. Written independently of lib/errors.ts on purpose: a scanner
 * that shared the redaction's code would share its blind spots.
 *
 * @example
 * ```ts
 * secretSpellings({ id: 'cid', secret: 'a b/c' }); // ['a b/c', 'a%20b%2Fc', 'a+b%2Fc', ..., base64('cid:a+b%2Fc'), base64('cid:a b/c')]
 * ```
 */
export function secretSpellings(credential: SecretToScan): string[] {
  const secret = typeof credential === 'string' ? credential : credential.secret;
  // A lone surrogate goes out as U+FFFD (UTF-8): the scanner looks for that spelling too, and never throws on it.
  const out = new Set<string>([secret, wellFormed(secret), encodeURIComponent(wellFormed(secret)), rfc3986(secret), formEncoded(secret)]);
  try {
    out.add(decodeURIComponent(secret));
  } catch {
    /* not percent-encoded */
  }
  const json = JSON.stringify(secret).slice(1, -1);
  out.add(json);
  out.add(json.replace(/\//g, '\\/'));
  out.add(`Bearer ${secret}`);
  out.add(`oauth_token="${rfc3986(secret)}"`);
  if (typeof credential !== 'string') {
    const { id } = credential;
    for (const basic of [base64(`${formEncoded(id)}:${formEncoded(secret)}`), base64(`${id}:${secret}`), base64(`${rfc3986(id)}:${rfc3986(secret)}`)]) {
      out.add(basic);
      out.add(`Basic ${basic}`);
      out.add(encodeURIComponent(basic));
    }
  }
  return [...out].filter((s) => s !== '');
}

// JSON.stringify as a JSON logger does it, tolerating cycles and BigInts instead of throwing.
function safeJSON(value: unknown): string {
  const seen = new WeakSet<object>();
  try {
    return (
      JSON.stringify(value, (_key, v: unknown) => {
        if (typeof v === 'bigint') return v.toString();
        if (typeof v === 'object' && v !== null) {
          if (seen.has(v)) return '[Circular]';
          seen.add(v);
        }
        return v;
      }) ?? ''
    );
  } catch (err) {
    return `[JSON.stringify threw: ${(err as Error).message}]`;
  }
}

const UNLIMITED = { depth: Infinity, maxStringLength: Infinity, maxArrayLength: Infinity, breakLength: Infinity } as const;

/** Every text a log may make of `value`: message, stack, String, JSON and util.inspect with and without hidden properties. */
function viewsOf(value: unknown): Array<[string, string]> {
  const views: Array<[string, string]> = [];
  if (value instanceof Error) {
    views.push(['message', value.message], ['stack', value.stack ?? '']);
  }
  let asString: string;
  try {
    asString = String(value);
  } catch {
    asString = '';
  }
  views.push(
    ['String()', asString],
    ['JSON.stringify', safeJSON(value)],
    ['util.inspect', inspect(value, { depth: 10 })],
    ['util.inspect (unlimited)', inspect(value, UNLIMITED)],
    // showHidden also prints the non-enumerable `response` (X's answer, already redacted).
    ['util.inspect showHidden', inspect(value, { ...UNLIMITED, showHidden: true })],
  );
  return views;
}

/** `err`, its `cause`, the cause's cause... and the `errors` of an AggregateError, each once. */
function causeChain(err: unknown): unknown[] {
  const chain: unknown[] = [];
  const queue: unknown[] = [err];
  const seen = new Set<unknown>();
  while (queue.length > 0) {
    const next = queue.shift();
    if (next === undefined || next === null || seen.has(next)) continue;
    seen.add(next);
    chain.push(next);
    if (typeof next === 'object') {
      queue.push((next as { cause?: unknown }).cause);
      const errors = (next as { errors?: unknown }).errors;
      if (next instanceof AggregateError && Array.isArray(errors)) queue.push(...(errors as unknown[]));
    }
  }
  return chain;
}

/**
 * The one secret scanner of the test suite: fails when any credential, in any of its
 * {@link secretSpellings}, shows in any way an error may reach a log (message, stack, String,
 * JSON.stringify, util.inspect with and without hidden properties), for the error and for every
 * error of its `cause` chain, recursively.
 *
 * @param err - the error to scan
 * @param secrets - the credentials sent; pass `{ id, secret }` for a pair sent as HTTP Basic
 */
export function expectNoSecrets(err: unknown, secrets: ReadonlyArray<SecretToScan>): void {
  const spellings = [...new Set(secrets.flatMap((s) => secretSpellings(s)))];
  causeChain(err).forEach((link, depth) => {
    for (const [where, view] of viewsOf(link)) {
      for (const spelling of spellings) {
        if (view.includes(spelling)) {
          expect.fail(`a secret, spelled "${spelling.slice(0, 4)}...", in the ${where} of the error${depth > 0 ? ` (cause depth ${depth})` : ''}`);
        }
      }
    }
  });
}

/**
 * Checks that `info` is the XFailureInfo of `code` (the person's short message for that code, the
 * code, a developer hint, and nothing else but an optional app `state`) and returns its hint, for
 * the caller to check the diagnosis.
 */
export function failureHint(info: unknown, code: XFailureCodeValue): string {
  expect(info, 'an XFailureInfo').to.be.an('object');
  const failure = info as XFailureInfo;
  expect(Object.keys(failure).filter((k) => k !== 'state')).to.have.members(['message', 'hint', 'code']);
  expect(failure.code).to.equal(code);
  expect(failure.message).to.equal(X_FAILURE_MESSAGES[code]);
  expect(failure.hint).to.be.a('string').and.not.equal('');
  return failure.hint;
}

/**
 * Checks that a strategy keeps `secrets` out of every way an app may print it: JSON, `util.inspect`
 * with and without hidden properties (`console.dir` with `showHidden`), `console.log('%o')`, and a
 * Passport instance holding it; nor any Buffer (a key derived from a secret, as a cookie store's).
 */
export function expectSecretsOutOfPrint(strategy: passport.Strategy, secrets: readonly string[]): void {
  const app = new passport.Passport().use(strategy);
  const views = [JSON.stringify(strategy), inspect(strategy, { depth: 10 }), inspect(strategy, { depth: Infinity, showHidden: true }), format('%o', strategy), inspect(app, { depth: Infinity, showHidden: true })];
  for (const text of views) {
    for (const secret of secrets) expect(text).to.not.include(secret);
    expect(text).to.not.match(/<Buffer|Uint8Array/);
  }
}
