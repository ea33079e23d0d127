// The driver of `npm run bench`: the browser's side of a sign-in, over kept-alive loopback HTTP.
//   GET /<id>/start                       -> 302 to X, with the session cookie
//   (X's consent page is skipped: the browser's time there costs the app nothing)
//   GET /<id>/callback?<token or state>   -> 200 "ok", with the session cookie
// Several sign-ins run at once, each as a new browser (no cookie before its start).
import http from 'node:http';
import { fakeRequest, runStrategy, type AuthenticatingStrategy } from '../support/passport-harness';
import type { Flow } from './candidates';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function get(agent: http.Agent, port: number, path: string, cookie: string | undefined): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: `127.0.0.1:${port}`, accept: 'text/html' };
    if (cookie) headers.cookie = cookie;
    const req = http.request({ host: '127.0.0.1', port, path, agent, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The callback's query for a redirect to X: what X would send back for it. */
function callbackQuery(flow: Flow, location: string): string {
  const query = new URL(location).searchParams;
  if (flow === 'oauth1') {
    const token = query.get('oauth_token');
    if (!token) throw new Error(`the redirect to X carries no oauth_token: ${location}`);
    return `oauth_token=${encodeURIComponent(token)}&oauth_verifier=bench-verifier-32-characters-long`;
  }
  const state = query.get('state');
  if (!state) throw new Error(`the redirect to X carries no state: ${location}`);
  return `code=${'YmVuY2gtYXV0aG9yaXphdGlvbi1jb2RlLXNoYXBlZC1saWtlLVgnczoxOjE6YWM6MQ'}&state=${encodeURIComponent(state)}`;
}

/** One sign-in, start to callback; throws when it does not end in a signed-in session. */
export async function signIn(agent: http.Agent, port: number, id: string, flow: Flow): Promise<void> {
  const started = await get(agent, port, `/${id}/start`, undefined);
  const location = started.headers.location;
  if (started.status !== 302 || !location) throw new Error(`${id}: the start answered ${started.status} ${started.body.slice(0, 300)}`);
  const cookie = started.headers['set-cookie']?.map((c) => c.split(';')[0]).join('; ');
  const done = await get(agent, port, `/${id}/callback?${callbackQuery(flow, location)}`, cookie);
  if (done.status !== 200 || done.body !== 'ok') {
    throw new Error(`${id}: the callback answered ${done.status} ${done.headers.location ?? ''} ${done.body.slice(0, 300)}`);
  }
}

/**
 * Runs `count` sign-ins, `concurrency` at a time; resolves with the wall time in ms. Rejects on
 * the first sign-in that fails: a candidate that does not sign users in has no speed.
 */
export async function signIns(agent: http.Agent, port: number, id: string, flow: Flow, count: number, concurrency: number): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    while (next < count) {
      next += 1;
      await signIn(agent, port, id, flow);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/**
 * One sign-in driven in this process, as Passport drives it (test/support/passport-harness.ts: a
 * fresh `Object.create(strategy)` per request, a plain session object, the `Host` header `host`):
 * the start, then the callback with the state or request token of its redirect. Throws, naming
 * `label`, when the start does not redirect or the callback does not succeed.
 */
export async function harnessSignIn(strategy: AuthenticatingStrategy, flow: Flow, host: string, label: string): Promise<void> {
  const session: Record<string, unknown> = {};
  const headers = { host };
  const started = await runStrategy(strategy, fakeRequest({ session, headers }));
  if (started.type !== 'redirect') throw new Error(`${label}: the start ended in ${started.type} ${started.error?.message ?? ''}`);
  const to = new URL(started.url!).searchParams;
  const query = flow === 'oauth2' ? { code: 'YmVuY2gtY29kZQ', state: to.get('state')! } : { oauth_token: to.get('oauth_token')!, oauth_verifier: 'bench-verifier-32-characters-long' };
  const done = await runStrategy(strategy, fakeRequest({ session, query, headers }));
  if (done.type !== 'success') throw new Error(`${label}: the callback ended in ${done.type} ${done.error?.message ?? JSON.stringify(done.challenge)}`);
}
