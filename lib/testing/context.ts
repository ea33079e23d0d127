/**
 * What every endpoint handler of the emulator receives: the request, read in full, and the
 * emulator's fixtures, memory and clock. Handlers are plain synchronous functions from
 * request to {@link Answer}, so the server alone deals with sockets, delays and logging.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Answer } from './answers';
import type { CallbackRegistry } from './callback-urls';
import type { EmulatorFixtures } from './fixtures';
import type { RateLimiter } from './rate-limits';
import type { TokenStore } from './token-store';

/** One request to the emulator, body included. */
export interface EmulatorRequest {
  /** `GET`, `POST`, ... */
  readonly method: string;
  /** The absolute URL as the client addressed it (from the `Host` header), which is what an OAuth 1.0a client signed. */
  readonly url: URL;
  /** The request headers, names lower-cased. */
  readonly headers: IncomingHttpHeaders;
  /** The body as text (UTF-8). */
  readonly body: string;
}

/** The emulator's state, shared by every handler. */
export interface EmulatorContext {
  readonly fixtures: EmulatorFixtures;
  readonly store: TokenStore;
  /** The clock of token lifetimes, codes and rate-limit windows, in milliseconds since the epoch (the `now` option). */
  readonly now: () => number;
  /**
   * The clock OAuth 1.0a timestamps are checked against and nonces remembered by: the real one,
   * `Date.now`, since clients sign with it. Moving `now` to expire tokens must not make every
   * signed request 401 code 135.
   */
  readonly timestampClock: () => number;
  /** The callback URLs registered for each app, editable while the emulator runs. */
  readonly callbacks: CallbackRegistry;
  /** The per-user rate-limit windows of the API endpoints. */
  readonly rateLimits: RateLimiter;
  /** Refuse a `client_secret` in the token request's body next to HTTP Basic (RFC 6749 section 2.3.1); X accepts it. */
  readonly strictClientAuthentication: boolean;
}

/** An endpoint: one function per X endpoint. */
export type Handler = (request: EmulatorRequest, context: EmulatorContext) => Answer;

/** A request header's value (the first one when repeated). */
export function header(request: EmulatorRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Whether the body is `application/x-www-form-urlencoded` (charset parameter allowed). */
export function isFormEncoded(request: EmulatorRequest): boolean {
  return /^application\/x-www-form-urlencoded\s*(;|$)/i.test(header(request, 'content-type') ?? '');
}

/** The form-encoded body's parameters; none when the body is not form-encoded. */
export function formParams(request: EmulatorRequest): URLSearchParams {
  return isFormEncoded(request) ? new URLSearchParams(request.body) : new URLSearchParams();
}

/** The value of a parameter given exactly once; `undefined` when missing, `null` when repeated (RFC 6749 section 3.1 forbids that). */
export function singleParam(params: URLSearchParams, name: string): string | undefined | null {
  const values = params.getAll(name);
  if (values.length > 1) return null;
  return values[0];
}

function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * HTTP Basic credentials, each part form-decoded as RFC 6749 section 2.3.1 and X's app-only
 * docs encode them. `undefined` when there is no Basic header; `null` when it is malformed.
 */
export function basicCredentials(request: EmulatorRequest): { id: string; secret: string } | undefined | null {
  const authorization = header(request, 'authorization');
  if (authorization === undefined || !/^basic\s/i.test(authorization)) return undefined;
  const encoded = authorization.slice(6).trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return null;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return null;
  const id = formDecode(decoded.slice(0, colon));
  const secret = formDecode(decoded.slice(colon + 1));
  if (id === undefined || secret === undefined || id === '') return null;
  return { id, secret };
}

/** Whether an X boolean query parameter is on: X reads `true`, `t` and `1` as true. */
export function isTrue(value: string | null): boolean {
  return value === 'true' || value === 't' || value === '1';
}

/** Whether an X boolean query parameter is off: `false`, `f` or `0`. */
export function isFalse(value: string | null): boolean {
  return value === 'false' || value === 'f' || value === '0';
}
