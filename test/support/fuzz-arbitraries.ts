// fast-check generators for what an attacker (or a broken X) can send: callback queries as
// `qs` and `querystring` parse them, request bodies, and X's profile answers. Values come as
// specs (missing, empty, repeated, bracketed, huge, near misses of a real handle...), resolved
// to a query string or a body at run time, when the real handle of a pending sign-in is known.
import fc from 'fast-check';

/**
 * `value`, printed by fast-check (in a counterexample) as `describe` says: a 100 KB value as its
 * length, not as 100 KB of text.
 */
export function printable<T extends object>(value: T, describe: (v: T) => string): T {
  Object.defineProperty(value, fc.toStringMethod, { value: () => describe(value), enumerable: false });
  return value;
}

// ---------------------------------------------------------------- text

/** Code units an attacker likes: C0 and C1 controls, NUL, CR/LF, line and paragraph separators, the BOM. */
const CONTROL = fc.constantFrom('\u0000', '\u0001', '\t', '\n', '\r', '\r\n', '\u001b', '\u007f', '\u0085', '\u2028', '\u2029', '\ufeff', '\u200b');
/** Lone UTF-16 surrogates: not well-formed Unicode, and `encodeURIComponent` throws on them. */
const LONE_SURROGATE = fc.oneof(
  fc.integer({ min: 0xd800, max: 0xdbff }).map((u) => String.fromCharCode(u)),
  fc.integer({ min: 0xdc00, max: 0xdfff }).map((u) => String.fromCharCode(u)),
);
/** Characters with a meaning in URLs, forms, cookies, HTML or JSON. */
const SYNTAX = fc.constantFrom('&', '=', ';', '%', '+', '#', '?', '/', '\\', '"', "'", '<', '>', ' ', '[', ']', '{', '}', ',', '.', '..', '*', '$', '`');

/** One "character" of hostile text: mostly ordinary, often not. */
export const hostileChar: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: CONTROL },
  { weight: 2, arbitrary: LONE_SURROGATE },
  { weight: 2, arbitrary: SYNTAX },
);

/** Short hostile text, possibly empty. */
export const hostileText: fc.Arbitrary<string> = fc.string({ unit: hostileChar, maxLength: 24 });

/** About 100 KB of text: one character repeated, or a short hostile pattern repeated. */
export const hugeText: fc.Arbitrary<string> = fc
  .tuple(fc.oneof(fc.constantFrom('a', '%', '\u0000', '\ud800', 'é', '😀'), fc.string({ unit: hostileChar, minLength: 1, maxLength: 8 })), fc.integer({ min: 90_000, max: 110_000 }))
  .map(([pattern, length]) => pattern.repeat(Math.ceil(length / pattern.length)).slice(0, length));

/** Percent sequences a decoder must survive: truncated, not hex, overlong, a surrogate as UTF-8 (WTF-8), an invalid byte. */
export const malformedPercent = fc.constantFrom('%', '%z', '%zz', '%E0%A4%A', '%C0%AF', '%ED%A0%80', '%ED%B0%80', '%FF', '%00', '%0D%0A', '%25', '%u0041', '%%41');

// ---------------------------------------------------------------- values

/** How one callback parameter appears in a request. `placeholder` values stand for the real handle or secret of a pending sign-in. */
export type ValueSpec =
  | { kind: 'text'; text: string }
  | { kind: 'huge'; text: string }
  | { kind: 'malformed'; raw: string }
  | { kind: 'key-only' }
  | { kind: 'repeated'; texts: string[] }
  | { kind: 'brackets'; texts: string[] }
  | { kind: 'indexed'; texts: string[] }
  | { kind: 'nested'; path: string[]; text: string }
  | { kind: 'scalar'; value: number | boolean | null }
  | { kind: 'near-miss'; of: 'handle' | 'secret'; mutation: Mutation }
  | { kind: 'real-secret' };

/** A small change to a real value: each one yields a different value. */
export type Mutation =
  | { op: 'replace'; at: number; char: string }
  | { op: 'drop-last' }
  | { op: 'append'; text: string }
  | { op: 'prepend'; text: string }
  | { op: 'case' }
  | { op: 'truncate'; keep: number };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), char: hostileChar }),
  fc.constant({ op: 'drop-last' as const }),
  fc.record({ op: fc.constant('append' as const), text: fc.string({ unit: hostileChar, minLength: 1, maxLength: 3 }) }),
  fc.record({ op: fc.constant('prepend' as const), text: fc.string({ unit: hostileChar, minLength: 1, maxLength: 3 }) }),
  fc.constant({ op: 'case' as const }),
  fc.record({ op: fc.constant('truncate' as const), keep: fc.nat({ max: 40 }) }),
);

/** `value` changed by `m`, never equal to `value`. */
export function mutate(value: string, m: Mutation): string {
  let out: string;
  switch (m.op) {
    case 'replace': {
      const at = value.length === 0 ? 0 : m.at % value.length;
      out = value.slice(0, at) + m.char + value.slice(at + 1);
      break;
    }
    case 'drop-last':
      out = value.slice(0, -1);
      break;
    case 'append':
      out = value + m.text;
      break;
    case 'prepend':
      out = m.text + value;
      break;
    case 'case':
      out = [...value].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');
      break;
    case 'truncate':
      out = value.slice(0, Math.min(m.keep, value.length - 1));
      break;
  }
  return out === value ? `${value}x` : out;
}

const smallTexts = fc.array(hostileText, { minLength: 2, maxLength: 4 });
const keyText = fc.oneof(fc.constantFrom('a', 'b', '0', '1', '__proto__', 'constructor', 'prototype', 'length', 'toString'), fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 6 }).filter((s) => !/[[\]&=#%]/.test(s)));

/** A parameter value an attacker can send, without the placeholders of a pending sign-in. */
export const hostileValue: fc.Arbitrary<ValueSpec> = fc.oneof(
  { weight: 6, arbitrary: hostileText.map((text): ValueSpec => ({ kind: 'text', text })) },
  { weight: 2, arbitrary: fc.constant<ValueSpec>({ kind: 'text', text: '' }) },
  { weight: 1, arbitrary: hugeText.map((text): ValueSpec => ({ kind: 'huge', text })) },
  { weight: 2, arbitrary: malformedPercent.map((raw): ValueSpec => ({ kind: 'malformed', raw })) },
  { weight: 1, arbitrary: fc.constant<ValueSpec>({ kind: 'key-only' }) },
  { weight: 2, arbitrary: smallTexts.map((texts): ValueSpec => ({ kind: 'repeated', texts })) },
  { weight: 2, arbitrary: smallTexts.map((texts): ValueSpec => ({ kind: 'brackets', texts })) },
  { weight: 1, arbitrary: smallTexts.map((texts): ValueSpec => ({ kind: 'indexed', texts })) },
  { weight: 2, arbitrary: fc.record({ path: fc.array(keyText, { minLength: 1, maxLength: 3 }), text: hostileText }).map(({ path, text }): ValueSpec => ({ kind: 'nested', path, text })) },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null)).map((value): ValueSpec => ({ kind: 'scalar', value })) },
);

// ---------------------------------------------------------------- callback requests

/** Every parameter X's callbacks carry, of both protocols, and a few an attacker adds. */
export const OAUTH2_CALLBACK_PARAMS = ['code', 'state', 'error', 'error_description', 'error_uri'] as const;
export const OAUTH1_CALLBACK_PARAMS = ['oauth_token', 'oauth_verifier', 'denied'] as const;
const EXTRA_PARAMS = ['__proto__', 'constructor', 'hasOwnProperty', 'iss', 'scope', 'session_state'];

/** One parameter of a callback request: its name, its value, and whether it travels in the query or the body. */
export interface ParamSpec {
  name: string;
  value: ValueSpec;
  where: 'query' | 'body';
}

/** A callback request: its parameters, how a body (if any) is encoded, and a Cookie header an attacker wrote. */
export interface CallbackSpec {
  params: ParamSpec[];
  body: 'form' | 'json';
  cookie?: string | undefined;
}

/** The protocol a callback goes to. */
export type Protocol = 'oauth1' | 'oauth2';

const paramName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom<string>(...OAUTH2_CALLBACK_PARAMS, ...OAUTH1_CALLBACK_PARAMS) },
  { weight: 1, arbitrary: fc.constantFrom(...EXTRA_PARAMS) },
  { weight: 1, arbitrary: fc.string({ unit: hostileChar, maxLength: 8 }) },
);

function paramSpec(name: fc.Arbitrary<string>, value: fc.Arbitrary<ValueSpec>): fc.Arbitrary<ParamSpec> {
  return fc.record({ name, value, where: fc.oneof({ weight: 5, arbitrary: fc.constant('query' as const) }, { weight: 1, arbitrary: fc.constant('body' as const) }) });
}

/** Limits the huge values of one request, so the request stays under the test server's header limit. */
function fewHuge(spec: CallbackSpec): boolean {
  return spec.params.filter((p) => p.value.kind === 'huge').length <= 2;
}

// A Cookie header is visible ASCII (fetch refuses CR, LF and NUL); `;` separates the pairs.
const cookieText = fc.string({ unit: fc.constantFrom(...'AZaz09-_+/=%"., \t:!#$&*\\'.split('')), maxLength: 40 });
const base64url = fc.stringMatching(/^[A-Za-z0-9_-]{0,400}$/);
const cookieName = fc.oneof(
  fc.stringMatching(/^[0-9a-f]{16}$/).map((hex) => `__xauth_${hex}`),
  cookieText.map((t) => `__xauth_${t.replace(/[=;\s]/g, '')}`),
  fc.constantFrom('sid', 'connect.sid', '__xauth_', '__Host-xauth_x', '', '=', 'a'),
);
const cookieValue = fc.oneof(base64url, base64url.map((v) => `"${v}"`), base64url.map((v) => `AQ${v}`), cookieText.map((t) => `s:${t}`), cookieText);
const cookiePair = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(cookieName, cookieValue).map(([n, v]) => `${n}=${v}`) },
  { weight: 1, arbitrary: fc.constantFrom('', 'novalue', '=value', ';', '__xauth_=') },
);

/** A Cookie header from an attacker: our cookie prefix with junk, express-session's name with junk, broken pairs, duplicates. */
export const hostileCookieHeader: fc.Arbitrary<string> = fc.array(cookiePair, { minLength: 1, maxLength: 30 }).map((pairs) => pairs.join('; '));

/** Any callback request: every parameter optional, repeated, bracketed, huge or broken, in the query or the body; sometimes with hostile cookies. */
export const hostileCallback: fc.Arbitrary<CallbackSpec> = fc
  .record({
    // Mostly with one of the keys that make a request a callback (of either protocol), so most requests reach the callback code.
    key: fc.option(paramSpec(fc.constantFrom('code', 'error', 'oauth_token', 'denied'), hostileValue), { freq: 4, nil: undefined }),
    params: fc.array(paramSpec(paramName, hostileValue), { maxLength: 6 }),
    body: fc.constantFrom('form' as const, 'json' as const),
    cookie: fc.option(hostileCookieHeader, { freq: 3, nil: undefined }),
  })
  .map(({ key, params, body, cookie }): CallbackSpec => ({ params: key ? [key, ...params] : params, body, cookie }))
  .filter(fewHuge)
  .map((spec) => printable(spec, describeSpec));

/** The keys that make each protocol's strategy treat a request as X's redirect back, not as the start of a sign-in. */
const CALLBACK_KEYS: Record<Protocol, readonly string[]> = { oauth1: ['oauth_token', 'denied'], oauth2: ['code', 'error'] };

/**
 * A forged callback for a session with a sign-in pending: never the real handle (state or
 * request token), but near misses of it, and the real secret (the code, or the verifier) that a
 * leak could expose. Always carries one of the protocol's callback keys in the query, so it is
 * taken as a callback, not as the start of another sign-in.
 */
export function forgedCallback(protocol: Protocol): fc.Arbitrary<CallbackSpec> {
  const handleName = protocol === 'oauth1' ? 'oauth_token' : 'state';
  const secretName = protocol === 'oauth1' ? 'oauth_verifier' : 'code';
  const forHandle = fc.oneof(hostileValue, mutation.map((m): ValueSpec => ({ kind: 'near-miss', of: 'handle', mutation: m })));
  const forSecret = fc.oneof(hostileValue, fc.constant<ValueSpec>({ kind: 'real-secret' }), mutation.map((m): ValueSpec => ({ kind: 'near-miss', of: 'secret', mutation: m })));
  const named = (name: string): fc.Arbitrary<ParamSpec> =>
    paramSpec(fc.constant(name), name === handleName ? forHandle : name === secretName ? forSecret : hostileValue);
  const key = fc.constantFrom(...CALLBACK_KEYS[protocol]);
  return fc
    .record({
      key,
      keyValue: protocol === 'oauth1' ? forHandle : forSecret,
      others: fc.array(
        fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom<string>(handleName, secretName).chain(named) },
          { weight: 2, arbitrary: paramSpec(paramName, hostileValue) },
        ),
        { maxLength: 5 },
      ),
      body: fc.constantFrom('form' as const, 'json' as const),
    })
    .map(({ key, keyValue, others, body }): CallbackSpec => {
      // `denied` and `error` carry no handle of their own; the key's value is then just hostile text.
      const value: ValueSpec = key === 'oauth_token' || key === 'code' ? keyValue : { kind: 'text', text: 'access_denied' };
      return { params: [{ name: key, value, where: 'query' }, ...others], body };
    })
    .filter(fewHuge)
    .map((spec) => printable(spec, describeSpec));
}

// ---------------------------------------------------------------- wire encoding

/** The WTF-8 bytes of one UTF-16 code unit below 0x10000, percent-encoded. */
const percentCache = new Map<number, string>();
function percentBytes(unit: number): string {
  const cached = percentCache.get(unit);
  if (cached !== undefined) return cached;
  const bytes = unit < 0x80 ? [unit] : unit < 0x800 ? [0xc0 | (unit >> 6), 0x80 | (unit & 0x3f)] : [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)];
  const encoded = bytes.map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  percentCache.set(unit, encoded);
  return encoded;
}

/** Runs of UTF-16 surrogates without their other half. */
const LONE_SURROGATES = /(?:[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff])+/g;

/** RFC 3986 percent-encoding of well-formed text (encodeURIComponent leaves !'()* alone). */
function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => percentBytes(c.charCodeAt(0)));
}

/**
 * Percent-encodes text as RFC 3986 does, and a lone surrogate as the three WTF-8 bytes a broken
 * client would send (`%ED%A0%80`), where `encodeURIComponent` would throw.
 */
export function percentEncode(text: string): string {
  let out = '';
  let last = 0;
  for (const run of text.matchAll(LONE_SURROGATES)) {
    const parts: string[] = [];
    for (let k = 0; k < run[0].length; k++) parts.push(percentBytes(run[0].charCodeAt(k)));
    out += rfc3986(text.slice(last, run.index)) + parts.join('');
    last = run.index + run[0].length;
  }
  return out + rfc3986(text.slice(last));
}

/** The real values of a pending sign-in that placeholders stand for. */
export interface RealValues {
  /** The state (OAuth 2.0) or request token (OAuth 1.0a). */
  handle: string;
  /** The code (OAuth 2.0) or verifier (OAuth 1.0a). */
  secret: string;
}

/** A value spec with its placeholders filled in; `undefined` when there is nothing to fill them with. */
function resolve(value: ValueSpec, real: RealValues | undefined): ValueSpec {
  if (value.kind === 'real-secret') return { kind: 'text', text: real ? real.secret : 'no-pending-sign-in' };
  if (value.kind === 'near-miss') return { kind: 'text', text: mutate(real ? real[value.of] : 'no-pending-sign-in', value.mutation) };
  return value;
}

/** `name=value` pairs, already percent-encoded, for a query string or a form body. */
function encodedPairs(name: string, value: ValueSpec): string[] {
  const key = percentEncode(name);
  const pair = (k: string, text: string): string => `${k}=${percentEncode(text)}`;
  switch (value.kind) {
    case 'text':
    case 'huge':
      return [pair(key, value.text)];
    case 'malformed':
      return [`${key}=${value.raw}`];
    case 'key-only':
      return [key];
    case 'repeated':
      return value.texts.map((t) => pair(key, t));
    case 'brackets':
      return value.texts.map((t) => pair(`${key}[]`, t));
    case 'indexed':
      return value.texts.map((t, i) => pair(`${key}[${i}]`, t));
    case 'nested':
      return [pair(`${key}${value.path.map((p) => `[${percentEncode(p)}]`).join('')}`, value.text)];
    case 'scalar':
      return [pair(key, String(value.value))];
    case 'near-miss':
    case 'real-secret':
      throw new Error('placeholders are resolved before encoding');
  }
}

/** The JSON a value becomes in a JSON body. */
function jsonValue(value: ValueSpec): unknown {
  switch (value.kind) {
    case 'text':
    case 'huge':
      return value.text;
    case 'malformed':
      return value.raw;
    case 'key-only':
      return '';
    case 'repeated':
    case 'brackets':
    case 'indexed':
      return value.texts;
    case 'nested': {
      let out: unknown = value.text;
      for (const key of [...value.path].reverse()) {
        const level: Record<string, unknown> = {};
        // An own `__proto__` key, as JSON.parse makes one.
        Object.defineProperty(level, key, { value: out, enumerable: true, writable: true, configurable: true });
        out = level;
      }
      return out;
    }
    case 'scalar':
      return value.value;
    case 'near-miss':
    case 'real-secret':
      throw new Error('placeholders are resolved before encoding');
  }
}

/** A callback spec as HTTP: the query string, and the body with its content type (none for a GET). */
export interface WireRequest {
  method: 'GET' | 'POST';
  query: string;
  body?: { contentType: string; text: string };
  cookie?: string;
}

/** Turns a spec into the request an attacker's client sends; `real` fills the placeholders. */
export function toWire(spec: CallbackSpec, real?: RealValues): WireRequest {
  const query: string[] = [];
  const form: string[] = [];
  const json: Record<string, unknown> = {};
  for (const param of spec.params) {
    const value = resolve(param.value, real);
    if (param.where === 'query') query.push(...encodedPairs(param.name, value));
    else if (spec.body === 'form') form.push(...encodedPairs(param.name, value));
    else Object.defineProperty(json, param.name, { value: jsonValue(value), enumerable: true, writable: true, configurable: true });
  }
  const hasBody = spec.params.some((p) => p.where === 'body');
  const wire: WireRequest = { method: hasBody ? 'POST' : 'GET', query: query.join('&') };
  if (spec.cookie !== undefined) wire.cookie = spec.cookie;
  if (hasBody) {
    // JSON.stringify writes lone surrogates as \ud800 escapes (ES2019), which JSON.parse turns back into lone surrogates.
    wire.body = spec.body === 'form' ? { contentType: 'application/x-www-form-urlencoded', text: form.join('&') } : { contentType: 'application/json', text: JSON.stringify(json) };
  }
  return wire;
}

/** A short description of a spec for failure messages: names, kinds and lengths, not 100 KB of text. */
export function describeSpec(spec: CallbackSpec): string {
  return spec.params
    .map((p) => {
      const v = p.value;
      const detail = v.kind === 'text' ? JSON.stringify(v.text) : v.kind === 'huge' ? `${v.text.length} chars` : v.kind === 'malformed' ? v.raw : v.kind;
      return `${p.where}:${JSON.stringify(p.name)}=${detail}`;
    })
    .join(' & ') + ` (${spec.body})${spec.cookie !== undefined ? ` with Cookie: ${JSON.stringify(spec.cookie.slice(0, 200))}` : ''}`;
}

// ---------------------------------------------------------------- X's answers

/** A string field X might send: ordinary, hostile, huge, a lone surrogate, or a key-like trap. */
const profileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 15 }) },
  { weight: 3, arbitrary: fc.string({ unit: hostileChar, maxLength: 20 }) },
  { weight: 2, arbitrary: fc.tuple(fc.string({ maxLength: 5 }), LONE_SURROGATE, fc.string({ maxLength: 5 })).map(([a, s, b]) => a + s + b) },
  { weight: 1, arbitrary: hugeText },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'javascript:alert(1)', '../../admin', '<script>alert(1)</script>', '%00', '') },
);

const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(profileString, { maxLength: 2 }),
  fc.dictionary(fc.constantFrom('a', '__proto__', 'toString'), profileString, { maxKeys: 2 }),
);

/** A field as X might send it: usually a string, sometimes the wrong type, sometimes absent. */
function field(valid: fc.Arbitrary<string>): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 5, arbitrary: valid }, { weight: 2, arbitrary: profileString }, { weight: 1, arbitrary: wrongType }, { weight: 1, arbitrary: fc.constant(undefined) });
}

const idString = fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }).map(String);
const handle = fc.stringMatching(/^[A-Za-z0-9_]{1,15}$/);
const https = handle.map((h) => `https://pbs.twimg.com/profile_images/${h}_normal.jpg`);

/** An object with own keys as JSON.parse makes them, `__proto__` included. */
function withOwnKeys(entries: Array<[string, unknown]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of entries) {
    if (value !== undefined) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

const protoTrap = fc.option(
  fc.oneof(
    fc.constant<[string, unknown]>(['__proto__', { polluted: 'yes', isAdmin: true, screen_name: 'evil', username: 'evil', id_str: '1' }]),
    fc.constant<[string, unknown]>(['constructor', { prototype: { polluted: 'yes' } }]),
    fc.tuple(fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'), wrongType),
  ),
  { nil: undefined },
);

/** An answer body of X, printed short in counterexamples. */
export interface AnswerBody {
  text: string;
}

function answerBody(text: string): AnswerBody {
  return printable({ text }, (b) => describeBody(b.text));
}

/** The body of a v1.1 `account/verify_credentials` answer, possibly hostile, as JSON text. */
export const v1ProfileBody: fc.Arbitrary<AnswerBody> = fc
  .record({
    id: fc.oneof(fc.integer(), fc.double(), fc.constant(undefined), wrongType),
    id_str: field(idString),
    screen_name: field(handle),
    name: field(fc.string({ maxLength: 30 })),
    profile_image_url_https: field(https),
    email: field(fc.emailAddress()),
    trap: protoTrap,
  })
  .map(({ trap, ...fields }) => answerBody(JSON.stringify(withOwnKeys([...Object.entries(fields), ...(trap ? [trap] : [])]))));

/** The body of a v2 `users/me` answer, possibly hostile, as JSON text; sometimes not even an object with `data`. */
export const v2ProfileBody: fc.Arbitrary<AnswerBody> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .record({
        id: field(idString),
        username: field(handle),
        name: field(fc.string({ maxLength: 30 })),
        profile_image_url: field(https),
        confirmed_email: field(fc.emailAddress()),
        trap: protoTrap,
      })
      .map(({ trap, ...fields }) => JSON.stringify({ data: withOwnKeys([...Object.entries(fields), ...(trap ? [trap] : [])]) })),
  },
  { weight: 1, arbitrary: wrongType.map((data) => JSON.stringify({ data })) },
  { weight: 1, arbitrary: fc.constantFrom('[]', 'null', '"data"', '{"data":{"__proto__":{"id":"1","username":"evil"}}}', '{"__proto__":{"data":{"id":"1","username":"evil"}}}') },
).map(answerBody);

/** A short description of a profile body for failure messages. */
export function describeBody(body: string): string {
  // JSON.stringify shows control characters and lone surrogates as escapes.
  const shown = JSON.stringify(body.length > 300 ? body.slice(0, 300) : body);
  return body.length > 300 ? `${shown}... (${body.length} chars)` : shown;
}

/** The body of an OAuth 2.0 token answer (`POST /2/oauth2/token`), possibly hostile, as JSON text. */
export const tokenAnswerBody: fc.Arbitrary<AnswerBody> = fc
  .record({
    token_type: field(fc.constantFrom('bearer', 'Bearer', 'BEARER')),
    access_token: field(fc.stringMatching(/^[A-Za-z0-9_-]{20,80}$/)),
    expires_in: fc.oneof(
      { weight: 3, arbitrary: fc.constant(7200) },
      { weight: 3, arbitrary: fc.oneof(fc.double(), fc.integer(), fc.constantFrom(0, -1, 1e308, -1e308, 2 ** 53, 1e-300, 86_400 * 366)) },
      { weight: 2, arbitrary: wrongType },
      { weight: 1, arbitrary: fc.constantFrom('7200', '1e308', 'Infinity', 'NaN', '', ' ', '0x10') },
      { weight: 1, arbitrary: fc.constant(undefined) },
    ),
    refresh_token: field(fc.stringMatching(/^[A-Za-z0-9_-]{20,80}$/)),
    scope: field(fc.constantFrom('tweet.read users.read', 'tweet.read users.read offline.access', '')),
    trap: protoTrap,
  })
  .map(({ trap, ...fields }) => answerBody(JSON.stringify(withOwnKeys([...Object.entries(fields), ...(trap ? [trap] : [])]))));
