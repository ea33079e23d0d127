// The memory part of `npm run bench`, in its own process (forked with --expose-gc by
// signin.bench.ts): many abandoned sign-ins (started, never called back) spread over many
// sessions, and what the server keeps of them.
//   session stores: each session loaded from and saved to express-session's MemoryStore as
//                   express-session does (JSON), so "bytes per session" is what any session
//                   store (Redis, a database) would hold;
//   cookie store:   no session at all; the cookies go to the browser (each abandoned sign-in
//                   comes from a browser without earlier sign-in cookies);
//   peer:           superface (passport-oauth2's PKCE session store), for comparison;
//   replay guard:   the default in-process MemoryReplayGuard both strategies claim callbacks in,
//                   given as many distinct claims (one per callback that reaches X) as sign-ins.
// The heap is measured after a full GC before the first sign-in and after the last.
// Sends `{ memory: MemoryResult }` over IPC and exits.
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import session from 'express-session';
import { CLIENT_ID, CLIENT_SECRET, CONSUMER_KEY, CONSUMER_SECRET, callbackURL } from './candidates';

/** What one scenario kept. */
export interface MemoryScenarioResult {
  id: string;
  label: string;
  signIns: number;
  sessions: number;
  /** Most pending sign-ins found in one session (0 for the cookie store). */
  maxPendingPerSession: number;
  /** Mean size of a stored session (express-session's JSON), bytes; 0 when nothing is stored. */
  bytesPerSession: number;
  /** ... of which the pending sign-ins (the size of an empty session subtracted). */
  pendingBytesPerSession: number;
  /** Bytes of Set-Cookie per abandoned sign-in the browser keeps (cookie store only). */
  cookieBytesPerSignIn?: number;
  /** Heap after a full GC, bytes, before the first sign-in and after the last. */
  heapBefore: number;
  heapAfter: number;
  /** (heapAfter - heapBefore) / signIns, bytes. */
  heapGrowthPerSignIn: number;
  /** The replay guard: claims it holds after the run, and its bound. */
  claimSetSize?: number;
  claimBound?: number;
  seconds: number;
}

export interface MemoryResult {
  scenarios: MemoryScenarioResult[];
}

interface Actions {
  redirect(url: string): void;
  fail(challenge?: unknown, status?: number): void;
  error(err: Error): void;
  success(user: unknown): void;
  pass(): void;
  authenticate(req: object, options?: object): void;
}

/** Runs one start leg as passport's middleware does (a fresh Object.create per request); resolves with the redirect. */
function start(strategy: object, req: object): Promise<string> {
  return new Promise((resolveStart, reject) => {
    const s = Object.create(strategy) as Actions;
    s.redirect = resolveStart;
    s.fail = (challenge) => reject(new Error(`fail ${JSON.stringify(challenge)}`));
    s.error = reject;
    s.success = () => reject(new Error('unexpected success'));
    s.pass = () => reject(new Error('unexpected pass'));
    s.authenticate(req, {});
  });
}

const gc = (globalThis as { gc?: () => void }).gc;
function heapAfterGC(): number {
  if (!gc) throw new Error('memory.ts needs node --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const EMPTY_SESSION = { cookie: { originalMaxAge: null, expires: null, httpOnly: true, path: '/' } };

type Store = session.MemoryStore & { sessions: Record<string, string> };

function loadSession(store: Store, sid: string): Promise<Record<string, unknown>> {
  return new Promise((resolveLoad, reject) =>
    store.get(sid, (err, sess) => (err ? reject(err) : resolveLoad((sess as unknown as Record<string, unknown>) ?? structuredClone(EMPTY_SESSION)))),
  );
}

function saveSession(store: Store, sid: string, sess: Record<string, unknown>): Promise<void> {
  return new Promise((resolveSave, reject) => store.set(sid, sess as unknown as session.SessionData, (err) => (err ? reject(err) : resolveSave())));
}

async function inParallel(count: number, concurrency: number, one: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next;
      next += 1;
      await one(i);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** A response that collects Set-Cookie headers, as Express's `req.res`. */
class CookieSink {
  headersSent = false;
  bytes = 0;
  private readonly headers = new Map<string, string[]>();
  setHeader(name: string, value: string[]): void {
    this.headers.set(name.toLowerCase(), value);
  }
  getHeader(name: string): string[] | undefined {
    return this.headers.get(name.toLowerCase());
  }
  appendHeader(name: string, value: string): void {
    const list = this.headers.get(name.toLowerCase()) ?? [];
    list.push(value);
    this.headers.set(name.toLowerCase(), list);
  }
  cookieBytes(): number {
    return (this.headers.get('set-cookie') ?? []).reduce((n, c) => n + Buffer.byteLength(c), 0);
  }
}

async function main(): Promise<void> {
  const [configJSON] = process.argv.slice(2);
  const config = JSON.parse(configJSON ?? '{}') as { baseURL: string; signIns: number; sessions: number; scenarios?: string[] };
  const { baseURL, signIns, sessions } = config;
  const px = require(resolve(__dirname, '../../dist/index.js')) as typeof import('../../lib/index');
  const headers = { host: '127.0.0.1:3000' };
  const verify = (...args: unknown[]): void => (args[args.length - 1] as (e: null, u: object) => void)(null, {});
  const cookieSecret = 'bench-cookie-secret-0123456789abcdefghijklmnopqrstuvwxyz';

  const scenarios: Array<{ id: string; label: string; strategy: () => object; kind: 'session' | 'cookie'; concurrency: number }> = [
    {
      id: 'passport-x-oauth2-session',
      label: 'passport-x XOAuth2PkceStrategy, session store',
      kind: 'session',
      concurrency: 1,
      strategy: () => new px.XOAuth2PkceStrategy({ clientID: CLIENT_ID, clientSecret: CLIENT_SECRET, callbackURL: callbackURL('m'), baseURL }, verify),
    },
    {
      id: 'passport-x-oauth1-session',
      label: 'passport-x XOAuth1Strategy, session store',
      kind: 'session',
      concurrency: 16,
      strategy: () => new px.XOAuth1Strategy({ consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, callbackURL: callbackURL('m'), baseURL }, verify),
    },
    {
      id: 'passport-x-oauth2-cookie',
      label: 'passport-x XOAuth2PkceStrategy, EncryptedCookieStateStore',
      kind: 'cookie',
      concurrency: 1,
      strategy: () =>
        new px.XOAuth2PkceStrategy(
          { clientID: CLIENT_ID, clientSecret: CLIENT_SECRET, callbackURL: callbackURL('m'), baseURL, store: new px.EncryptedCookieStateStore({ secret: cookieSecret }) },
          verify,
        ),
    },
    {
      id: 'passport-x-oauth1-cookie',
      label: 'passport-x XOAuth1Strategy, EncryptedCookieStateStore',
      kind: 'cookie',
      concurrency: 16,
      strategy: () =>
        new px.XOAuth1Strategy(
          { consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, callbackURL: callbackURL('m'), baseURL, store: new px.EncryptedCookieStateStore({ secret: cookieSecret }) },
          verify,
        ),
    },
    {
      id: 'superface-session',
      label: '@superfaceai/passport-twitter-oauth2 1.2.4, its session store',
      kind: 'session',
      concurrency: 1,
      strategy: () => {
        const { Strategy } = require('@superfaceai/passport-twitter-oauth2') as { Strategy: new (o: object, v: typeof verify) => object };
        return new Strategy(
          {
            clientType: 'confidential',
            clientID: CLIENT_ID,
            clientSecret: CLIENT_SECRET,
            callbackURL: callbackURL('m'),
            authorizationURL: `${baseURL}/i/oauth2/authorize`,
            tokenURL: `${baseURL}/2/oauth2/token`,
            scope: ['tweet.read', 'users.read'],
          },
          verify,
        );
      },
    },
  ];

  const results: MemoryScenarioResult[] = [];
  // The replay guard: what callbacks leave behind in process, whatever the state store.
  if (!config.scenarios || config.scenarios.includes('replay-guard')) {
    const guard = new px.MemoryReplayGuard();
    const key = (i: number): string => `${px.REPLAY_GUARD_KEY_PREFIX}${createHash('sha256').update(String(i)).digest('base64url')}`;
    await guard.claim(key(-1), 600_000);
    const heapBefore = heapAfterGC();
    const began = process.hrtime.bigint();
    for (let i = 0; i < signIns; i++) if (!(await guard.claim(key(i), 600_000))) throw new Error('a fresh key was refused');
    const seconds = Number(process.hrtime.bigint() - began) / 1e9;
    const heapAfter = heapAfterGC();
    results.push({
      id: 'replay-guard',
      label: 'passport-x default MemoryReplayGuard, one claim per callback',
      signIns,
      sessions: 0,
      maxPendingPerSession: 0,
      bytesPerSession: 0,
      pendingBytesPerSession: 0,
      heapBefore,
      heapAfter,
      heapGrowthPerSignIn: Math.round((heapAfter - heapBefore) / signIns),
      claimSetSize: guard.size,
      claimBound: guard.maxEntries,
      seconds,
    });
  }
  for (const scenario of scenarios.filter((s) => !config.scenarios || config.scenarios.includes(s.id))) {
    const strategy = scenario.strategy();
    const store = new session.MemoryStore() as Store;
    const sids = Array.from({ length: sessions }, (_, i) => `session-${i}`);
    // Warm the code paths once, so the "before" heap already holds the compiled code.
    if (scenario.kind === 'session') {
      const warm: Record<string, unknown> = structuredClone(EMPTY_SESSION);
      await start(strategy, { query: {}, headers, session: warm, url: '/start', method: 'GET' });
    } else {
      await start(strategy, { query: {}, headers, url: '/start', method: 'GET', res: new CookieSink() });
    }
    const heapBefore = heapAfterGC();
    const began = process.hrtime.bigint();
    let cookieBytes = 0;
    await inParallel(signIns, scenario.concurrency, async (i) => {
      if (scenario.kind === 'session') {
        // Sessions in turn, so that concurrent sign-ins never share one.
        const sid = sids[i % sessions] as string;
        const sess = await loadSession(store, sid);
        await start(strategy, { query: {}, headers, session: sess, url: '/start', method: 'GET' });
        await saveSession(store, sid, sess);
      } else {
        const res = new CookieSink();
        await start(strategy, { query: {}, headers, url: '/start', method: 'GET', res });
        cookieBytes += res.cookieBytes();
      }
    });
    const seconds = Number(process.hrtime.bigint() - began) / 1e9;
    const heapAfter = heapAfterGC();
    let maxPending = 0;
    let bytes = 0;
    const stored = Object.values(store.sessions);
    for (const json of stored) {
      bytes += Buffer.byteLength(json);
      const sess = JSON.parse(json) as Record<string, unknown>;
      for (const [key, value] of Object.entries(sess)) {
        if (key === 'cookie') continue;
        // passport-x keeps an array of pending sign-ins under its key (earlier releases: { pending: [...] });
        // passport-oauth2's store one object per session.
        const pending = Array.isArray(value) ? value : (value as { pending?: unknown[] })?.pending;
        maxPending = Math.max(maxPending, Array.isArray(pending) ? pending.length : 1);
      }
    }
    const emptyBytes = Buffer.byteLength(JSON.stringify(EMPTY_SESSION));
    const result: MemoryScenarioResult = {
      id: scenario.id,
      label: scenario.label,
      signIns,
      sessions: scenario.kind === 'session' ? sessions : 0,
      maxPendingPerSession: maxPending,
      bytesPerSession: stored.length === 0 ? 0 : Math.round(bytes / stored.length),
      pendingBytesPerSession: stored.length === 0 ? 0 : Math.round(bytes / stored.length - emptyBytes),
      heapBefore,
      heapAfter,
      heapGrowthPerSignIn: Math.round((heapAfter - heapBefore) / signIns),
      seconds,
    };
    if (scenario.kind === 'cookie') result.cookieBytesPerSignIn = Math.round(cookieBytes / signIns);
    results.push(result);
  }
  // Kept-alive sockets to the canned X would hold the process open: exit once the parent has the result.
  process.send?.({ memory: { scenarios: results } satisfies MemoryResult }, () => process.exit(0));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
