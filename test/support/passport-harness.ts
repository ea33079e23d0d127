// Drives a Passport strategy the way passport's authenticate middleware does
// (passport/lib/middleware/authenticate.js): a fresh Object.create(strategy) per request,
// augmented with the five actions, then strategy.authenticate(req, options). The promise
// settles with the first action the strategy takes.
import type { XAuthRequest } from '../../lib/request';

/** The five actions a strategy can take. */
export type StrategyActionType = 'success' | 'fail' | 'redirect' | 'error' | 'pass';

/** The action a strategy took, with what it passed. Only the fields of that action are set. */
export interface StrategyOutcome {
  type: StrategyActionType;
  /** `success(user, info)` */
  user?: unknown;
  /** `success(user, info)` */
  info?: unknown;
  /** `fail(challenge, status)`; `fail(status)` leaves it undefined, as Passport does. */
  challenge?: unknown;
  /** `fail(challenge, status)` or `redirect(url, status)`, as the strategy passed it (Passport answers 401 / 302 when undefined). */
  status?: number;
  /** `redirect(url)` */
  url?: string;
  /** `error(err)` */
  error?: Error;
}

/** Anything with passport-strategy's `authenticate(req, options)`. */
export interface AuthenticatingStrategy {
  authenticate(req: XAuthRequest, options?: Record<string, unknown>): void;
}

/** Options of the harness itself (not of `authenticate`). */
export interface RunStrategyOptions {
  /** Reject when the strategy takes no action within this many ms (default 5000), so a hung strategy fails with a clear message. */
  timeoutMs?: number;
}

/**
 * Passport's per-request copy of `strategy` (as `passport.authenticate` makes it) whose actions only
 * record their names in `calls`, and the one named `throwing` throws `thrown` once recorded: the
 * app's failure or success handling throwing. For the tests of who answers such a throw.
 */
export function throwingActionsCopy<S extends object>(strategy: S, calls: string[], throwing: 'fail' | 'error' | 'success', thrown: Error): S {
  const action = (name: string) => (): void => {
    calls.push(name);
    if (name === throwing) throw thrown;
  };
  return Object.assign(Object.create(strategy) as S, { fail: action('fail'), error: action('error'), success: action('success'), redirect: action('redirect'), pass: action('pass') });
}

/**
 * Runs `strategy.authenticate(req, options)` as Passport does and resolves with the first
 * action the strategy takes. Rejects when `authenticate` throws (Passport would let it
 * propagate) or takes no action in time. A second action on the same request is a strategy
 * bug: it is thrown as an uncaught exception, which fails the running mocha test.
 *
 * @example
 * ```ts
 * const result = await runStrategy(strategy, fakeRequest({ session, query: { code, state } }));
 * expect(result.type).to.equal('success');
 * ```
 */
export function runStrategy(
  strategy: AuthenticatingStrategy,
  req: XAuthRequest,
  options: Record<string, unknown> = {},
  harness: RunStrategyOptions = {},
): Promise<StrategyOutcome> {
  const timeoutMs = harness.timeoutMs ?? 5000;
  return new Promise<StrategyOutcome>((resolve, reject) => {
    let first: StrategyActionType | undefined;
    const timer = setTimeout(() => {
      if (!first) reject(new Error(`The strategy took no action (success, fail, redirect, error or pass) within ${timeoutMs} ms.`));
    }, timeoutMs);
    const settle = (outcome: StrategyOutcome): void => {
      if (first) {
        const again = outcome.type;
        setImmediate(() => {
          throw new Error(`The strategy called ${again}() after it had already called ${first}() for the same request.`);
        });
        return;
      }
      first = outcome.type;
      clearTimeout(timer);
      resolve(outcome);
    };

    const instance = Object.create(strategy) as AuthenticatingStrategy & {
      success(user: unknown, info?: unknown): void;
      fail(challenge?: unknown, status?: number): void;
      redirect(url: string, status?: number): void;
      pass(): void;
      error(err: Error): void;
    };
    instance.success = (user, info) => settle({ type: 'success', user, info });
    instance.fail = (challenge, status) => {
      // Passport's fail(status) form.
      if (typeof challenge === 'number') settle({ type: 'fail', status: challenge });
      else settle({ type: 'fail', challenge, ...(status !== undefined ? { status } : {}) });
    };
    instance.redirect = (url, status) => settle({ type: 'redirect', url, ...(status !== undefined ? { status } : {}) });
    instance.pass = () => settle({ type: 'pass' });
    instance.error = (error) => settle({ type: 'error', error });

    try {
      instance.authenticate(req, options);
    } catch (err) {
      clearTimeout(timer);
      if (!first) reject(err as Error);
      else
        setImmediate(() => {
          throw err;
        });
    }
  });
}

/** What {@link fakeRequest} builds a request from. */
export interface FakeRequestInit {
  /** Parsed query string (default `{}`). */
  query?: Record<string, unknown>;
  /** Parsed body, for form-posted callbacks. */
  body?: unknown;
  /** The session object (default a fresh `{}`); `null` for an app without session middleware (no `req.session` at all). */
  session?: Record<string, unknown> | null;
  /** Request headers; names are lower-cased as Node does (default none). */
  headers?: Record<string, string | string[] | undefined>;
  /** HTTP method (default `'GET'`). */
  method?: string;
  /** Path and query (default `/` plus the query). */
  url?: string;
  /** Whether the connection is TLS (`req.connection.encrypted`, read when resolving a relative callbackURL). Default false. */
  secure?: boolean;
}

/** What {@link fakeRequest} returns: an {@link XAuthRequest} with the Node request fields passport-oauth1/oauth2 read. */
export type FakeRequest = XAuthRequest & {
  method: string;
  url: string;
  /** `req.connection.encrypted` (passport-oauth2's originalURL) */
  connection: { encrypted: boolean };
  /** The same object as `connection`, as on Node's IncomingMessage. */
  socket: { encrypted: boolean };
};

/**
 * A request object with what Passport strategies read of an Express/Node request:
 * `query`, `body`, `session`, `headers`, `method`, `url`, `connection.encrypted`.
 * Pass the same `session` object to the sign-in start and to its callback, as the browser's cookie would.
 */
export function fakeRequest(init: FakeRequestInit = {}): FakeRequest {
  const query = init.query ?? {};
  const headers: Record<string, string | string[] | undefined> = {};
  for (const [name, value] of Object.entries(init.headers ?? {})) headers[name.toLowerCase()] = value;
  const search = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => typeof e[1] === 'string')).toString();
  const socket = { encrypted: init.secure ?? false };
  const req: FakeRequest = {
    method: init.method ?? 'GET',
    url: init.url ?? `/${search ? `?${search}` : ''}`,
    query,
    headers,
    connection: socket,
    socket,
  };
  if (init.body !== undefined) req.body = init.body;
  if (init.session !== null) req.session = init.session ?? {};
  return req;
}
