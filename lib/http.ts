/**
 * The one HTTP client of passport-x: every request to X, from either strategy or any
 * helper, goes through {@link sendToX}. It adds the time-out, honours the caller's
 * AbortSignal, caps the answer's size, never follows redirects, and turns failures into
 * typed errors.
 *
 * By default it speaks HTTP with `node:http`/`node:https` over kept-alive connections shared
 * by the whole process, so a warm server opens no new connection to X per sign-in (the
 * `oauth` package under passport-oauth1 sends `Connection: close` on each request). Measured
 * by `npm run bench`, that costs about half the CPU of global `fetch`, whose time-out signal
 * and `redirect: 'manual'` alone add a third to a sign-in. Pass `fetch` to use a `fetch`
 * implementation instead.
 */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { urlToHttpOptions } from 'node:url';
import { XError, XErrorCode, XRequestError, errorFromResponse, redactError, redactedAnswer, type XRawResponse, type XRedactable } from './errors';

/** Default time-out of every request to X, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** Largest answer accepted from X, in bytes. X's sign-in answers are a few KiB. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

/** How a request to X is sent: the options every helper accepts (the strategies take `timeoutMs` and `fetch`). */
export interface XHttpOptions {
  /** Give up after this many milliseconds (default 10000). */
  timeoutMs?: number | undefined;
  /** Abort the request with this signal. */
  signal?: AbortSignal | undefined;
  /**
   * Send requests with this `fetch` implementation instead of passport-x's kept-alive `node:http`
   * client. `timeoutMs` and `signal` still end each request when it ignores its signal, or answers
   * a body stream no signal reaches. A URL with user info is sent without it, its credentials as
   * Basic unless the request carries its own `Authorization`, as over `node:http`.
   */
  fetch?: typeof fetch | undefined;
}

/** One request to X. */
export interface XHttpRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  /** Form-encoded body, for POST. */
  body?: string;
  /** What is being done, for error messages ("get a request token"). */
  operation: string;
  /** Values that must never appear in an error: each secret sent, and `{ id, secret }` for HTTP Basic credentials. */
  secrets?: ReadonlyArray<XRedactable>;
  /**
   * Every value of `headers` is made of characters that cannot be control characters: an OAuth 1.0a
   * `Authorization` header from the signer, whose every value goes through RFC 3986 encoding (some 400
   * characters three times a sign-in), or Basic credentials, which are base64. They are not scanned for one.
   */
  encodedHeaders?: boolean;
  /**
   * Fresh headers for a resend: an OAuth 1.0a request is signed again, since its nonce is single
   * use (RFC 5849 section 3.3) and X refuses a request that repeats one. Without it, a resent
   * request (a GET on a kept-alive connection that X reset before answering) repeats its headers.
   */
  resign?: () => Record<string, string>;
}

/** Whether an exchange may be resent once on a fresh connection, and with which headers: `true` the same, a function fresh ones. */
type Retry = boolean | (() => string[]);

// Every control character but horizontal tab, which RFC 9110 section 5.5 allows in a field value.
const CONTROL_IN_FIELD_VALUE = /[^\P{Cc}\t]/u;

// What was sent with each 2xx answer, so an answer attached to an error is scrubbed of it too: on the
// answer itself, under a symbol and non-enumerable (a WeakMap entry per request cost several times more,
// mostly in the garbage collector).
const SENT_SECRETS = Symbol('passport-x sent secrets');
const sentSecretsOf = (raw: XRawResponse): ReadonlyArray<XRedactable> | undefined =>
  raw instanceof NodeAnswer ? NodeAnswer.secretsOf(raw) : (raw as { [SENT_SECRETS]?: ReadonlyArray<XRedactable> })[SENT_SECRETS];

/** The longest time-out Node's timers can wait: 2^31-1 ms, about 24.8 days. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Validates a user-supplied `timeoutMs` and returns it or the default: a TypeError when it is not
 * a positive number, a RangeError with `code: 'ERR_OUT_OF_RANGE'` (as Node's own) when it is not a
 * whole number up to {@link MAX_TIMEOUT_MS}. Node's setTimeout turns a longer delay into 1 ms
 * (with a TimeoutOverflowWarning), so every request would time out at once.
 */
export function resolveTimeout(timeoutMs: number | undefined, name = 'timeoutMs'): number {
  if (timeoutMs === undefined) return DEFAULT_TIMEOUT_MS;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new TypeError(`passport-x: \`${name}\` must be a positive number of milliseconds`);
  }
  if (!Number.isInteger(timeoutMs) || timeoutMs > MAX_TIMEOUT_MS) {
    // Only the too-large case has the timers' reason: a fraction is refused as the unit's.
    const why = timeoutMs > MAX_TIMEOUT_MS ? "Node's timers cannot wait longer and would fire after 1 ms" : 'timers count whole milliseconds';
    const err = new RangeError(`passport-x: \`${name}\` must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS} (about 24.8 days); ${why}.`);
    Object.defineProperty(err, 'code', { value: 'ERR_OUT_OF_RANGE', enumerable: true });
    throw err;
  }
  return timeoutMs;
}

/**
 * A promise that rejects with the signal's reason once it aborts, and never settles before: raced
 * against each step of a fetch exchange, so the deadline and the caller's signal end the exchange
 * even when the `fetch` given ignores its signal, or answers a body stream not tied to it.
 */
function abortion(signal: AbortSignal): Promise<never> {
  const aborted = new Promise<never>((_resolve, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
  // Raced, not awaited on its own: no unhandled rejection when nothing is racing it any more.
  aborted.catch(() => undefined);
  return aborted;
}

async function readCapped(response: Response, aborted: Promise<never>): Promise<string> {
  // content-length counts the bytes on the wire; fetch may decompress them, so it only rules
  // out an answer early, and the decoded body is counted as it is read.
  const declared = response.headers.get('content-length');
  if (declared !== null && Number(declared) > MAX_RESPONSE_BYTES) {
    response.body?.cancel().catch(() => undefined);
    throw new RangeError('too large');
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  // Given up (the deadline, the caller's signal): let the stream go, without waiting on it.
  aborted.catch(() => reader.cancel().catch(() => undefined));
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await Promise.race([reader.read(), aborted]);
    if (done) break;
    size += value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      reader.cancel().catch(() => undefined);
      throw new RangeError('too large');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Internal: an answer node:http hands over as an upgrade (101 Switching Protocols), which X never sends. */
class UnexpectedUpgrade extends Error {
  constructor(status: number | undefined) {
    super(`${status ?? 101} Switching Protocols: a switch to another protocol, not an HTTP answer`);
    this.name = 'UnexpectedUpgrade';
  }
}

/**
 * Internal: X's status line and headers arrived, then the exchange failed before the body ended
 * (the connection closed, the deadline passed, the caller aborted). `answer` is what arrived: the
 * status and the headers, no body (what came of it may end in the middle of a secret X echoed,
 * which redaction would not recognise). X did answer, so the request reached it.
 */
class AnswerCutShort extends Error {
  constructor(
    readonly answer: XRawResponse,
    readonly reason: unknown,
  ) {
    super('the answer ended before its body did');
    this.name = 'AnswerCutShort';
  }
}

/** Internal: the answer passed {@link MAX_RESPONSE_BYTES}. */
class AnswerTooLarge extends RangeError {
  constructor(readonly status: number | undefined) {
    super('too large');
  }
}

/**
 * The `Keep-Alive: timeout=<seconds>` of the last answer on a connection, when X sent one, for
 * {@link keepConnection}. A WeakMap, not a property on Node's socket: the connection leaves with it.
 */
const keepAliveHints = new WeakMap<Duplex, number>();

/**
 * The initial delay of TCP keep-alive probes on an idle connection: Node's default `keepAliveMsecs`,
 * which the agents keep (not passed as an option: the agent copies its options into every request's).
 */
const KEEP_ALIVE_MSECS = 1000;

/**
 * What Node 20's `Agent.prototype.keepSocketAlive` does with a connection whose answer ended, for
 * an agent without a `timeout` option (ours): keep it (TCP keep-alive on, unref'd, no idle
 * time-out), unless the answer's `Keep-Alive` announced a time-out of 1 s or less, which leaves no
 * safe time to reuse it. Node reads that hint from `res.headers`, which node:http makes on the
 * first read: an object of every header of X's answer (some twenty, with its rate-limit headers),
 * made for each answer only to read one of them. The hint is read here from the raw list instead
 * (see {@link NodeExchange.answered}), which spared an OAuth 2.0 sign-in about 3.6 kB of garbage
 * and a quarter of what passport-x added to it alone (docs/performance-method.md).
 */
function keepConnection(socket: Duplex): boolean {
  const connection = socket as Socket;
  connection.setKeepAlive(true, KEEP_ALIVE_MSECS);
  connection.unref();
  const hint = keepAliveHints.get(socket);
  if (hint !== undefined) {
    keepAliveHints.delete(socket);
    // Node's margin: the hint less a second, and no reuse when nothing is left.
    if (hint * 1000 - 1000 <= 0) return false;
  }
  if (connection.timeout !== 0) connection.setTimeout(0);
  return true;
}

class XHttpAgent extends http.Agent {
  override keepSocketAlive(socket: Duplex): boolean {
    return keepConnection(socket);
  }
}

class XHttpsAgent extends https.Agent {
  override keepSocketAlive(socket: Duplex): boolean {
    return keepConnection(socket);
  }
}

// Kept-alive connections to X, shared by every strategy and helper in the process.
const agents = {
  'http:': new XHttpAgent({ keepAlive: true, scheduling: 'lifo' }),
  'https:': new XHttpsAgent({ keepAlive: true, scheduling: 'lifo' }),
};

/** The seconds of a `Keep-Alive` header's leading `timeout=<seconds>`, as Node's agent reads it. */
const KEEP_ALIVE_TIMEOUT = /^timeout=(\d+)/;

/** The first value of header `name` (lower case) in Node's `rawHeaders`, as `IncomingMessage.headers` would give it. */
function rawHeader(raw: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i] as string;
    if (key.length === name.length && key.toLowerCase() === name) return raw[i + 1];
  }
  return undefined;
}

/**
 * An answer from node:http: status and body as own properties, and `headers`, WHATWG `Headers`
 * made from Node's raw list only when first read (then kept, so writes to them stay). A sign-in
 * never reads them: it reads the one header it needs with {@link responseHeader}, from the raw
 * list. Making a `Headers` per answer cost a sign-in more than the rest of reading the answer, and
 * the first one loads Node's undici (about 1.5 MB of heap and its code) into an app that may use
 * nothing else of it. What an app sees of an answer (an error's `response`) is a plain object made
 * by {@link redactedAnswer} or {@link errorFromResponse}. The secrets its request sent are kept in a
 * private field, where no log sees them (a non-enumerable property per answer cost more than the
 * rest of making it).
 */
class NodeAnswer implements XRawResponse {
  readonly status: number;
  readonly body: string;
  #raw: readonly string[];
  #headers: Headers | undefined;
  #secrets: ReadonlyArray<XRedactable> | undefined;

  constructor(status: number, raw: readonly string[], body: string) {
    this.status = status;
    this.body = body;
    this.#raw = raw;
  }

  get headers(): Headers {
    if (this.#headers === undefined) {
      const headers = new Headers();
      const raw = this.#raw;
      for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i] as string, raw[i + 1] as string);
      this.#headers = headers;
    }
    return this.#headers;
  }

  /** `headers.get(name)` for a lower-case `name`, read from the raw list while no `Headers` was made. */
  static header(answer: NodeAnswer, name: string): string | null {
    if (answer.#headers !== undefined) return answer.#headers.get(name);
    const raw = answer.#raw;
    let value: string | null = null;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const key = raw[i] as string;
      if (key.length === name.length && key.toLowerCase() === name) value = value === null ? (raw[i + 1] as string) : `${value}, ${raw[i + 1] as string}`;
    }
    return value;
  }

  /** Records what the request sent, for the redaction of this answer should it end up attached to an error. */
  static keepSecrets(answer: NodeAnswer, secrets: ReadonlyArray<XRedactable>): void {
    answer.#secrets = secrets;
  }

  static secretsOf(answer: NodeAnswer): ReadonlyArray<XRedactable> | undefined {
    return answer.#secrets;
  }
}

/** Header `name` (lower case) of an answer from {@link sendToX}, as `raw.headers.get(name)` gives it, without making a `Headers`. */
export function responseHeader(raw: XRawResponse, name: string): string | null {
  return raw instanceof NodeAnswer ? NodeAnswer.header(raw, name) : raw.headers.get(name);
}

/** What node:http needs of a URL. */
interface Target {
  secure: boolean;
  hostname: string;
  port: string;
  path: string;
  /** The `Host` header: the URL's host, brackets and non-default port as the URL writes them. */
  host: string;
  /** `Basic` credentials from the URL's user info, when it has some. */
  basic: string | undefined;
}

// Each URL sendToX was given, parsed once: a process calls a handful of X's endpoints, again and
// again. Bounded all the same: emptied when it reaches TARGETS_KEPT.
const targets = new Map<string, Target>();
const TARGETS_KEPT = 100;

function targetOf(url: string): Target {
  let target = targets.get(url);
  if (target === undefined) {
    const whatwg = new URL(url);
    const parsed = urlToHttpOptions(whatwg);
    target = {
      secure: parsed.protocol === 'https:',
      hostname: parsed.hostname as string,
      port: String(parsed.port ?? ''),
      path: parsed.path as string,
      host: whatwg.host,
      basic: parsed.auth ? `Basic ${Buffer.from(parsed.auth).toString('base64')}` : undefined,
    };
    if (targets.size >= TARGETS_KEPT) targets.clear();
    targets.set(url, target);
  }
  return target;
}

/** The request in flight and, once the deadline passed or the caller aborted, why it was cut. */
interface InFlight {
  req: http.ClientRequest | undefined;
  /** The exchange of `req`, to end it when node:http will tell it nothing more (see {@link cut}). */
  exchange: NodeExchange | undefined;
  cut: unknown;
  /** fetch's controller (with the `fetch` option), else undefined. */
  controller: AbortController | undefined;
  /** Whether the deadline passed. */
  timedOut: boolean;
  /** The deadline's timer, from {@link arm}. */
  timer: NodeJS.Timeout | undefined;
  /** The caller's signal and its listener, from {@link arm}. */
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** A request not yet in flight; `controller` for fetch. One shape for every request. */
function inFlight(controller: AbortController | undefined): InFlight {
  return { req: undefined, exchange: undefined, cut: undefined, controller, timedOut: false, timer: undefined, signal: undefined, onAbort: undefined };
}

/**
 * Starts the exchange's deadline and listens to the caller's signal. One timer for the whole
 * exchange, not AbortSignal.timeout()/any(): those cost 20-50 us each on Node 20, a measurable share
 * of a sign-in (see `npm run bench`). What a failure needs (its message, the cause) is only made when
 * one happens.
 */
function arm(flight: InFlight, timeoutMs: number, signal: AbortSignal | undefined): void {
  flight.timer = setTimeout(onDeadline, timeoutMs, flight, timeoutMs);
  if (signal) {
    const onAbort = (): void => abortFlight(flight, signal.reason);
    flight.signal = signal;
    flight.onAbort = onAbort;
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  }
}

/** Stops what {@link arm} started. */
function disarm(flight: InFlight): void {
  clearTimeout(flight.timer);
  if (flight.onAbort) flight.signal?.removeEventListener('abort', flight.onAbort);
}

/**
 * Cuts the request in flight (and any retry of it) with `reason`. Destroying a request makes
 * node:http emit its 'error', which ends the exchange; a request node:http has already destroyed
 * without a word (it does so with an answer it cannot hand over) emits nothing more, so its exchange
 * is ended here: the deadline and the caller's signal bound every exchange, whatever its answer did.
 */
function cut(flight: InFlight, reason: unknown): void {
  flight.cut ??= reason;
  const req = flight.req;
  if (req === undefined) return;
  const err = reason instanceof Error ? reason : new Error('aborted', { cause: reason });
  if (req.destroyed) flight.exchange?.requestFailed(err);
  else req.destroy(err);
}

/** How an exchange ends: with an error, or with X's answer. */
type Exchanged = (err: unknown, raw?: NodeAnswer) => void;

/**
 * One exchange over node:http(s): calls back once with status, headers and the (capped) body text,
 * or with why there is none. `headers` is a flat list of names and values, as `rawHeaders`: node:http
 * writes such a list as it is, where an object goes through `setHeader` one header at a time (a
 * validation, a lower-cased copy and an array each).
 */
function exchange(url: Target, method: string, headers: string[], body: string | undefined, flight: InFlight, retry: Retry, done: Exchanged): void {
  const x = new NodeExchange(url, method, headers, body, flight, retry, done);
  // No `signal` option: Node ties an AbortSignal to the request with listeners that cost more than
  // the rest of sending it; sendToX's deadline timer and the caller's signal destroy the request instead.
  // A literal of one shape, not a spread of `url`: V8 gave each spread copy here a new hidden class.
  // No `protocol` (the transport and its agent give it) and no `auth` (the headers carry it): the agent
  // copies these options once per request, so each key left out is a copy less.
  const options: http.RequestOptions = { hostname: url.hostname, port: url.port, path: url.path, method, headers, agent: url.secure ? agents['https:'] : agents['http:'] };
  // Each listener only passes on to a method of the exchange (see NodeExchange).
  const req = url.secure ? https.request(options, (res) => x.answered(res)) : http.request(options, (res) => x.answered(res));
  flight.req = req;
  flight.exchange = x;
  req.on('error', (err: NodeJS.ErrnoException) => x.requestFailed(err));
  // 101 Switching Protocols with an Upgrade header: without this listener node:http destroys the
  // socket and emits neither 'response' nor 'error', and the exchange would wait for its deadline.
  req.on('upgrade', (res: http.IncomingMessage, socket: Duplex) => x.upgraded(res, socket));
  req.end(body);
}

/**
 * The state and the work of one {@link exchange}. The work is in methods, and the listeners node:http
 * needs are one-line closures that pass on to them: V8 drops a function's optimised code once every
 * closure of it has died (a closure made per request, at a full garbage collection between two
 * requests) and compiles it again when it is hot again, so work left in per-request closures was
 * compiled again and again for as long as the app ran (`node --trace-opt`).
 */
class NodeExchange {
  private readonly url: Target;
  private readonly method: string;
  private readonly headers: string[];
  private readonly body: string | undefined;
  private readonly flight: InFlight;
  private readonly retry: Retry;
  private readonly done: Exchanged;
  /** X's answer, once its status line and headers arrived. */
  private answer: http.IncomingMessage | undefined;
  /** Whether `done` was called. */
  private over: boolean;
  // X's sign-in answers come in one chunk: kept without an array.
  private first: Buffer | undefined;
  private chunks: Buffer[] | undefined;
  private size: number;

  constructor(url: Target, method: string, headers: string[], body: string | undefined, flight: InFlight, retry: Retry, done: Exchanged) {
    this.url = url;
    this.method = method;
    this.headers = headers;
    this.body = body;
    this.flight = flight;
    this.retry = retry;
    this.done = done;
    this.answer = undefined;
    this.over = false;
    this.first = undefined;
    this.chunks = undefined;
    this.size = 0;
  }

  /** Calls back once: the first outcome wins. A failure after X's answer arrived carries what arrived of it. */
  private end(err: unknown, raw?: NodeAnswer): void {
    if (this.over) return;
    this.over = true;
    const res = this.answer;
    if (err !== null && res !== undefined && !(err instanceof AnswerTooLarge) && !(err instanceof UnexpectedUpgrade)) {
      err = new AnswerCutShort(new NodeAnswer(res.statusCode ?? 0, res.rawHeaders, ''), err);
    }
    this.done(err, raw);
  }

  /** X's status line and headers: refuses an answer declared too large, else reads its body. */
  answered(res: http.IncomingMessage): void {
    this.answer = res;
    // For keepConnection, once the answer ends: X's Keep-Alive hint, if it sent one.
    const keepAlive = rawHeader(res.rawHeaders, 'keep-alive');
    if (keepAlive !== undefined) {
      const seconds = KEEP_ALIVE_TIMEOUT.exec(keepAlive)?.[1];
      if (seconds !== undefined && res.socket) keepAliveHints.set(res.socket, Number.parseInt(seconds, 10));
    }
    const declared = Number(rawHeader(res.rawHeaders, 'content-length'));
    if (Number.isFinite(declared) && declared > MAX_RESPONSE_BYTES) {
      this.end(new AnswerTooLarge(res.statusCode));
      res.destroy();
      return;
    }
    res.on('data', (chunk: Buffer) => this.data(res, chunk));
    // A connection closed mid-answer destroys `res` with "aborted" (ECONNRESET): an 'error' (Node 16+), no 'aborted' listener needed.
    res.on('error', (err: Error) => this.end(err));
    res.on('end', () => this.ended(res));
  }

  private data(res: http.IncomingMessage, chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size > MAX_RESPONSE_BYTES) {
      this.end(new AnswerTooLarge(res.statusCode));
      res.destroy();
      return;
    }
    if (this.first === undefined) this.first = chunk;
    else (this.chunks ??= [this.first]).push(chunk);
  }

  private ended(res: http.IncomingMessage): void {
    const text = this.chunks ? Buffer.concat(this.chunks).toString('utf8') : this.first ? this.first.toString('utf8') : '';
    this.end(null, new NodeAnswer(res.statusCode ?? 0, res.rawHeaders, text));
  }

  /** X's answer was 101 Switching Protocols, an upgrade to another protocol: X never sends it. */
  upgraded(res: http.IncomingMessage, socket: Duplex): void {
    this.answer = res;
    socket.destroy();
    this.end(new UnexpectedUpgrade(res.statusCode));
  }

  requestFailed(err: NodeJS.ErrnoException): void {
    // X (or a proxy) may close an idle kept-alive connection just as it is reused: retry once on a
    // fresh one, as Node's docs advise. GET only: a POST (a code exchange, a refresh) may have
    // reached X before the reset, and sending it twice could burn a single-use code or token.
    // While this exchange is not over, the flight's request is its own: a retry replaces it only after.
    if (this.retry !== false && this.method === 'GET' && this.answer === undefined && !this.over && this.flight.req?.reusedSocket && err.code === 'ECONNRESET' && this.flight.cut === undefined) {
      let headers = this.headers;
      if (this.retry !== true) {
        try {
          headers = this.retry();
        } catch {
          // Signed once with the same inputs, it signs again; should it not, the reset is the failure.
          return this.end(err);
        }
      }
      this.over = true;
      exchange(this.url, this.method, headers, this.body, this.flight, false, this.done);
      return;
    }
    this.end(err);
  }
}

const DEFAULT_HEADERS = { accept: 'application/json', 'user-agent': 'passport-x' } as const;
const FORM = 'application/x-www-form-urlencoded';

/**
 * Sends one request to X and resolves to its 2xx answer. Rejects with
 * {@link XRequestError} (time-out, abort, network, too large) or with the typed error
 * {@link errorFromResponse} makes of a non-2xx answer.
 */
export function sendToX(request: XHttpRequest, options: XHttpOptions = {}): Promise<XRawResponse> {
  return new Promise((resolve, reject) => sendToXThen(request, options, resolve, reject));
}

/**
 * {@link sendToX} for callback-style code (the strategies): calls `onAnswer` with X's 2xx answer, or
 * `onError` with the error sendToX would reject with. Once, always asynchronously, and outside
 * node:http's events and any promise chain, with {@link settle}'s guarantees: a throw in `onAnswer`
 * goes to `onError`, and one in `onError` becomes a process warning. No promise: over node:http, a
 * sign-in's requests each spare one, with the async functions and microtasks around it.
 */
export function sendToXThen(request: XHttpRequest, options: XHttpOptions, onAnswer: (raw: XRawResponse) => void, onError: (err: Error) => void): void {
  let timeoutMs: number;
  try {
    timeoutMs = resolveTimeout(options.timeoutMs);
    // The defaults are constants: only the caller's headers can hold a control character.
    if (request.encodedHeaders !== true && request.headers !== undefined) checkHeaderValues(request.headers, request);
  } catch (err) {
    return failSoon(onError, err);
  }
  if (options.fetch) settle(sendWithFetch(request, options, options.fetch, timeoutMs), onAnswer, onError);
  else sendWithNode(request, options, timeoutMs, onAnswer, onError);
}

/** Calls `onError` with `err` on the next tick, as {@link settle} would a rejection. */
export function failSoon(onError: (err: Error) => void, err: unknown): void {
  process.nextTick(deliver, onError, asError(err), undefined);
}

/** {@link sendToXThen} over node:http(s), settled from the exchange's callback. */
function sendWithNode(request: XHttpRequest, options: XHttpOptions, timeoutMs: number, onAnswer: (raw: XRawResponse) => void, onError: (err: Error) => void): void {
  // The deadline and the caller's signal destroy the request in flight.
  const flight = inFlight(undefined);
  arm(flight, timeoutMs, options.signal);
  const send = new NodeSend(request, options, timeoutMs, flight, onAnswer, onError);
  // Passes on to a method, as the exchange's listeners do (see NodeExchange).
  const done: Exchanged = (err, raw) => send.settle(err, raw);
  // Already aborted: send nothing.
  if (flight.cut !== undefined) return done(flight.cut);
  try {
    const target = targetOf(request.url);
    // A signed request is resent signed again (a fresh nonce); any other with the same headers.
    const retry: Retry = request.resign === undefined ? true : () => headerListOf({ ...request, headers: (request.resign as () => Record<string, string>)() }, target);
    exchange(target, request.method, headerListOf(request, target), request.body, flight, retry, done);
  } catch (err) {
    // What node:http refuses at once (a URL it cannot parse, a header name that is no token) fails as
    // any request that could not be sent: typed, its cause redacted, the timer stopped.
    done(err);
  }
}

/** A request of {@link sendWithNode}: what settling it needs. */
class NodeSend {
  private readonly request: XHttpRequest;
  private readonly options: XHttpOptions;
  private readonly timeoutMs: number;
  private readonly flight: InFlight;
  private readonly secrets: ReadonlyArray<XRedactable>;
  private readonly onAnswer: (raw: XRawResponse) => void;
  private readonly onError: (err: Error) => void;

  constructor(request: XHttpRequest, options: XHttpOptions, timeoutMs: number, flight: InFlight, onAnswer: (raw: XRawResponse) => void, onError: (err: Error) => void) {
    this.request = request;
    this.options = options;
    this.timeoutMs = timeoutMs;
    this.flight = flight;
    this.secrets = request.secrets ?? [];
    this.onAnswer = onAnswer;
    this.onError = onError;
  }

  /** The exchange's outcome: X's 2xx answer to `onAnswer`, anything else as its typed error to `onError`. */
  settle(err: unknown, raw: NodeAnswer | undefined): void {
    const { request, secrets } = this;
    disarm(this.flight);
    let answer: XRawResponse | undefined;
    let failure: unknown;
    // Called from node:http's events: whatever goes wrong making the error is the error, never a throw there.
    try {
      if (raw === undefined) failure = err instanceof AnswerTooLarge ? tooLarge(request, err.status) : failureOf(request, this.options, this.flight, this.timeoutMs, secrets, err);
      else answer = accepted(raw, request, secrets);
    } catch (thrown) {
      failure = thrown;
    }
    // On a later tick: out of node:http's events, and after the agent took back the connection (node:http
    // frees it on the tick it queues as the answer ends), so a request sent from `onAnswer` reuses it.
    if (answer === undefined) failSoon(this.onError, failure);
    else process.nextTick(deliver, this.onAnswer, answer, this.onError);
  }
}

/**
 * The request's headers as node:http writes them: `Host`, the defaults unless the request names its
 * own, the request's, a form's `content-type` and `content-length` (0 for a POST without a body), and
 * the URL's user info as Basic credentials when the request has no `authorization` (node:http's rule
 * for `auth`).
 */
function headerListOf(request: XHttpRequest, target: Target): string[] {
  const own = request.headers;
  const list = ['host', target.host];
  let named = 0;
  if (own !== undefined) {
    for (const name in own) {
      const lower = name.toLowerCase();
      if (lower === 'accept') named |= 1;
      else if (lower === 'user-agent') named |= 2;
      else if (lower === 'content-type') named |= 4;
      else if (lower === 'authorization') named |= 8;
      else if (lower === 'host') {
        list[1] = own[name] as string;
        continue;
      }
      list.push(name, own[name] as string);
    }
  }
  if ((named & 1) === 0) list.push('accept', DEFAULT_HEADERS.accept);
  if ((named & 2) === 0) list.push('user-agent', DEFAULT_HEADERS['user-agent']);
  if ((named & 8) === 0 && target.basic !== undefined) list.push('authorization', target.basic);
  if (request.body !== undefined) {
    if ((named & 4) === 0) list.push('content-type', FORM);
    list.push('content-length', String(Buffer.byteLength(request.body)));
  } else if (request.method === 'POST') {
    // An empty POST (an OAuth 1.0a request or access token, its parameters in the Authorization
    // header) says so, as fetch and every other client do (RFC 9110 section 8.6): given a list of
    // headers without one, node:http would send it chunked.
    list.push('content-length', '0');
  }
  return list;
}

/**
 * The URL fetch is given and the Basic credentials of its user info: a URL with user info
 * (`https://user:pass@host`) goes without it, its credentials as Basic unless the request carries
 * its own `authorization`, as over node:http. fetch refuses such a URL, quoting it whole in its error.
 */
function fetchURLOf(request: XHttpRequest): { url: string; basic: string | undefined } {
  // No user info without an "@"; a URL that cannot be parsed is left for fetch to refuse.
  if (!request.url.includes('@')) return { url: request.url, basic: undefined };
  let basic: string | undefined;
  try {
    // node:http's rule, as the node:http client reads it.
    basic = targetOf(request.url).basic;
  } catch {
    return { url: request.url, basic: undefined };
  }
  if (basic === undefined) return { url: request.url, basic: undefined };
  const url = new URL(request.url);
  url.username = '';
  url.password = '';
  return { url: url.href, basic };
}

/** {@link sendToX} with a `fetch` implementation. */
async function sendWithFetch(request: XHttpRequest, options: XHttpOptions, doFetch: typeof fetch, timeoutMs: number): Promise<XRawResponse> {
  // The request's own headers replace the defaults whatever their case, as in headerListOf: fetch
  // would send a mixed-case name beside its lowercase default, both values joined.
  const headers: Record<string, string> = { ...DEFAULT_HEADERS };
  const own = request.headers;
  if (own !== undefined) for (const name in own) headers[name.toLowerCase()] = own[name] as string;
  if (request.body !== undefined) headers['content-type'] ??= FORM;
  const { url, basic } = fetchURLOf(request);
  if (basic !== undefined) headers.authorization ??= basic;
  // fetch needs a signal: an AbortController, aborted by the deadline timer or the caller's signal.
  const controller = new AbortController();
  const flight = inFlight(controller);
  arm(flight, timeoutMs, options.signal);
  const secrets = request.secrets ?? [];
  let raw: XRawResponse;
  try {
    // Already aborted: send nothing, as over node:http. A fetch that ignores its signal would
    // still send the request (a refresh would rotate a token whose new pair nobody reads).
    if (controller.signal.aborted) throw failureOf(request, options, flight, timeoutMs, secrets, controller.signal.reason);
    // redirect: 'manual': a redirect would carry the code, verifier or refresh token elsewhere.
    const init: RequestInit = { method: request.method, signal: controller.signal, redirect: 'manual', headers };
    if (request.body !== undefined) init.body = request.body;
    const aborted = abortion(controller.signal);
    let response: Response;
    try {
      const answer = doFetch(url, init);
      // Given up before it answered: an answer that still comes is let go, its body unread.
      aborted.catch(() => answer.then((late) => late.body?.cancel().catch(() => undefined), () => undefined));
      response = await Promise.race([answer, aborted]);
    } catch (err) {
      throw failureOf(request, options, flight, timeoutMs, secrets, err);
    }
    try {
      raw = { status: response.status, headers: response.headers, body: await readCapped(response, aborted) };
    } catch (err) {
      if (err instanceof RangeError) throw tooLarge(request, response.status);
      // X answered: its status and headers are what it said (the body so far is not kept by readCapped).
      throw failureOf(request, options, flight, timeoutMs, secrets, new AnswerCutShort({ status: response.status, headers: response.headers, body: '' }, err));
    }
  } finally {
    disarm(flight);
  }
  return accepted(raw, request, secrets);
}

/**
 * A 2xx answer, with what its request sent kept for its redaction should it end up attached to an
 * error; any other answer throws the typed error {@link errorFromResponse} makes of it.
 */
function accepted(raw: XRawResponse, request: XHttpRequest, secrets: ReadonlyArray<XRedactable>): XRawResponse {
  if (raw.status < 200 || raw.status > 299) throw errorFromResponse(raw, request.operation, secrets);
  if (secrets.length > 0) {
    if (raw instanceof NodeAnswer) NodeAnswer.keepSecrets(raw, secrets);
    else Object.defineProperty(raw, SENT_SECRETS, { value: secrets });
  }
  return raw;
}

/**
 * RFC 9110 section 5.5: no CR, LF or NUL in a field value. Refused here, naming the header and never
 * quoting it: a fetch implementation's own error would quote it, and read like a DNS failure.
 */
function checkHeaderValues(headers: Record<string, string>, request: XHttpRequest): void {
  for (const name in headers) {
    if (CONTROL_IN_FIELD_VALUE.test(headers[name] as string)) {
      throw new TypeError(`passport-x: the \`${name}\` header of the request to ${whereOf(request)} to ${request.operation} would contain a control character (a credential with CR/LF in it?); nothing was sent.`);
    }
  }
}

/** Where a request went, for messages: origin and path, never the query. */
function whereOf(request: XHttpRequest): string {
  const target = new URL(request.url);
  return `${target.origin}${target.pathname}`;
}

/** The deadline of an exchange passed: cut it with a TimeoutError. */
function onDeadline(flight: InFlight, timeoutMs: number): void {
  flight.timedOut = true;
  abortFlight(flight, new DOMException(`The request took longer than ${timeoutMs} ms.`, 'TimeoutError'));
}

/** Aborts the exchange in flight: fetch's through its controller, node:http's by destroying the request. */
function abortFlight(flight: InFlight, reason: unknown): void {
  if (flight.controller) flight.controller.abort(reason);
  else cut(flight, reason);
}

/**
 * The error of an exchange that got no whole answer: aborted by the caller, timed out, or a network
 * failure, its cause redacted. When X's status and headers had arrived ({@link AnswerCutShort}), a
 * refusal (4xx, 5xx) is the typed error of what X said, as {@link errorFromResponse} makes it (a 429
 * a rate limit, with its reset time); a 2xx says that X answered.
 */
function failureOf(request: XHttpRequest, options: XHttpOptions, flight: InFlight, timeoutMs: number, secrets: ReadonlyArray<XRedactable>, err: unknown): XError {
  const where = whereOf(request);
  if (options.signal?.aborted) {
    return new XRequestError(XErrorCode.ABORTED, `The request to ${where} to ${request.operation} was aborted by the caller.`, { cause: redactError(options.signal.reason, secrets) });
  }
  if (err instanceof AnswerCutShort) return cutShortFailure(request, flight, timeoutMs, secrets, err);
  if (flight.timedOut) {
    return new XRequestError(
      XErrorCode.TIMEOUT,
      `X did not answer the request to ${where} to ${request.operation} within ${timeoutMs} ms. X may be slow or unreachable from this server; retry, or raise \`timeoutMs\`.`,
      { cause: redactError(timeoutReason(flight, err), secrets) },
    );
  }
  const malformed = malformedAnswerOf(err);
  if (malformed !== undefined) {
    return new XRequestError(
      XErrorCode.INVALID_RESPONSE,
      `X's answer to the request to ${where} to ${request.operation} was not valid HTTP (${malformed.message}), which X does not send: a proxy between this server and X may be rewriting answers, or \`baseURL\` points somewhere else than X. ` +
        'The request did reach the other end: a code or refresh token it carried may be used up.',
      { cause: malformed },
    );
  }
  if (refusedBeforeSending(err)) {
    return new XRequestError(
      XErrorCode.NETWORK_ERROR,
      `The request to ${where} to ${request.operation} was not sent: Node refused it, because its URL or a header (a token, say) holds a character HTTP does not allow. ` +
        'This is no network failure and retrying does not help: check the values given to passport-x (`baseURL`, the endpoint URLs, tokens passed to a helper).',
      { cause: redactError(err, secrets) },
    );
  }
  return new XRequestError(
    XErrorCode.NETWORK_ERROR,
    `Could not reach X at ${where} to ${request.operation}. Check this server's network, DNS and proxy settings, and the \`baseURL\` option.`,
    // A fetch implementation may quote a header value in its error (undici does for an invalid one).
    { cause: redactError(err, secrets) },
  );
}

/**
 * An HTTP parser's error for an answer it could not parse (code `HPE_...`), copied without the raw
 * bytes of the answer it keeps (node:http's `rawPacket`, undici's `data`), which may hold the
 * credentials X just issued. Those are no secret this request sent, so redaction cannot find them,
 * and a logger that writes the cause as JSON or with `util.inspect` would write them all. The
 * message is the parser's fixed reason ("Parse Error: Invalid header value char"; undici's
 * "Response does not match the HTTP/1.1 protocol (...)"). The global `fetch` (undici) wraps it in
 * its own `TypeError` ("fetch failed", "terminated"): the error is looked for down the cause
 * chain, a few links deep, and the wrapper dropped. `undefined` for any other error.
 */
function malformedAnswerOf(err: unknown): Error | undefined {
  if (err instanceof UnexpectedUpgrade) return err;
  let link: unknown = err;
  for (let depth = 0; depth < 4 && link instanceof Error; depth++, link = link.cause) {
    const code = (link as NodeJS.ErrnoException).code;
    if (typeof code !== 'string' || !code.startsWith('HPE_')) continue;
    const copy = new Error(link.message);
    copy.name = link.name;
    if (link.stack !== undefined) copy.stack = link.stack;
    Object.defineProperty(copy, 'code', { value: code, enumerable: true });
    return copy;
  }
  return undefined;
}

// What node:http throws when it refuses to send a request as given (a character a header or the path
// cannot hold, a header name that is no token, a URL it cannot parse).
const REFUSED_CODES = new Set(['ERR_INVALID_CHAR', 'ERR_INVALID_HTTP_TOKEN', 'ERR_HTTP_INVALID_HEADER_VALUE', 'ERR_UNESCAPED_CHARACTERS', 'ERR_INVALID_URL']);

/** Whether `err` is Node's (or fetch's) refusal to send the request at all, rather than a failure to reach X. */
function refusedBeforeSending(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && REFUSED_CODES.has(code)) return true;
  // fetch (undici) refuses a header value outside Latin-1 with a TypeError about a ByteString.
  return err instanceof TypeError && /ByteString/.test(err.message);
}

/** The time-out's own TimeoutError, else `err`: what fetch rejects with on abort differs between fetch implementations. */
function timeoutReason(flight: InFlight, err: unknown): unknown {
  return (flight.controller ? flight.controller.signal.reason : flight.cut) ?? err;
}

/** {@link failureOf} for an answer whose status and headers arrived, but not all of its body. */
function cutShortFailure(request: XHttpRequest, flight: InFlight, timeoutMs: number, secrets: ReadonlyArray<XRedactable>, cut: AnswerCutShort): XError {
  const { answer } = cut;
  // A body Node's parser refused (a bad chunk): its error without the raw bytes, which may hold what X just issued.
  const malformed = flight.timedOut ? undefined : malformedAnswerOf(cut.reason);
  const reason = flight.timedOut ? timeoutReason(flight, cut.reason) : cut.reason;
  const cause = malformed ?? redactError(reason, secrets);
  const how = flight.timedOut
    ? `its body did not arrive in full within ${timeoutMs} ms`
    : malformed !== undefined
      ? `its body was not valid HTTP (${malformed.message})`
      : 'the connection closed before its body ended';
  if (answer.status < 200 || answer.status > 299) {
    // What X said is the cause, whatever became of the body: its status and rate-limit headers. In
    // place of the body, what became of it, which the message then quotes.
    const refused = errorFromResponse({ status: answer.status, headers: answer.headers, body: `[${how}]` }, request.operation, secrets);
    Object.defineProperty(refused, 'cause', { value: cause, configurable: true, writable: true });
    return refused;
  }
  const where = whereOf(request);
  return new XRequestError(
    flight.timedOut ? XErrorCode.TIMEOUT : XErrorCode.INVALID_RESPONSE,
    `X answered the request to ${where} to ${request.operation} with HTTP ${answer.status}, but ${how}. The request did reach X: a code or refresh token it carried may be used up, and what X issued for it is lost. ` +
      'X may be slow, or a proxy between this server and X cut the answer; retry, or sign in again.',
    { status: answer.status, cause },
  );
}

function tooLarge(request: XHttpRequest, status: number | undefined): XRequestError {
  return new XRequestError(XErrorCode.RESPONSE_TOO_LARGE, `X's answer from ${whereOf(request)} was larger than ${MAX_RESPONSE_BYTES} bytes; refusing it.`, { status });
}

/** Parses a 2xx JSON answer; a body that is not a JSON object is an {@link XRequestError}. */
export function parseJSONObject(raw: XRawResponse, operation: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.body);
  } catch (err) {
    // V8's SyntaxError quotes up to ten characters of the body, which may be part of a token:
    // keep the error's kind and position, never the quote.
    const position = err instanceof Error ? /at position \d+/.exec(err.message)?.[0] : undefined;
    throw invalidResponse(raw, operation, 'a body that is not JSON', new SyntaxError(`The body is not valid JSON${position ? ` (${position})` : ''}.`));
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidResponse(raw, operation, 'JSON that is not an object');
  }
  return parsed as Record<string, unknown>;
}

/** The error for a 2xx answer whose body is not what X documents. */
export function invalidResponse(raw: XRawResponse, operation: string, what: string, cause?: unknown): XRequestError {
  return new XRequestError(
    XErrorCode.INVALID_RESPONSE,
    `X answered the request to ${operation} with ${what}, which is not what X documents. A proxy may be rewriting answers, or \`baseURL\` points somewhere else than X.`,
    // X answered 2xx, so the body may hold live credentials: attach it with them redacted.
    { status: raw.status, response: redactedAnswer(raw, sentSecretsOf(raw)), cause },
  );
}

/**
 * Hands a promise's outcome to passport's callback-style code, outside the promise chain (a throw
 * there must not become an unhandled rejection that leaves the request hanging), and never lets a
 * throw escape to `uncaughtException`, where it would stop the server: a throw in `onValue` (a
 * profile mapping, passport's callback) goes to `onError`, the strategy's error path; a throw in
 * `onError` itself, which has nowhere left to go, is reported as a process warning
 * (`PASSPORT_X_CALLBACK_THREW`) with the error.
 */
export function settle<T>(promise: Promise<T>, onValue: (value: T) => void, onError: (err: Error) => void): void {
  promise.then(
    (value) => process.nextTick(deliver, onValue, value, onError),
    (err: unknown) => process.nextTick(deliver, onError, asError(err), undefined),
  );
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new XError(XErrorCode.NETWORK_ERROR, String(err));
}

function deliver<T>(callback: (value: T) => void, value: T, onThrow: ((err: Error) => void) | undefined): void {
  let thrown: unknown;
  try {
    callback(value);
    return;
  } catch (err) {
    thrown = err;
  }
  if (onThrow) {
    try {
      onThrow(asError(thrown));
      return;
    } catch (again) {
      thrown = again;
    }
  }
  warnCallbackThrew(thrown);
}

/**
 * A throw from a sign-in's error path, which has nowhere left to go: a process warning
 * (`PASSPORT_X_CALLBACK_THREW`) with the error, never an `uncaughtException`. Internal.
 */
export function warnCallbackThrew(thrown: unknown, detail = 'A callback of passport-x threw after its error path had been taken; the request may not have been answered.'): void {
  const err = asError(thrown);
  process.emitWarning(err.stack ?? err.message, { code: 'PASSPORT_X_CALLBACK_THREW', detail });
}
