// `npm run bench`: what a sign-in through XOAuth1Strategy costs next to a bare client making
// the same three requests to X (request token, access token, verify_credentials), and how
// many connections each opens once warm. X is a minimal local stand-in in its own process,
// so only the client's CPU is measured. The bar: at most 10% more CPU than the bare client,
// and no new connection to X once warm. Exits non-zero when either is missed.
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fakeRequest, runStrategy } from '../support/passport-harness';

// The shipped build, as users run it.
const { XOAuth1Strategy } = require(resolve(__dirname, '../../dist/index.js')) as typeof import('../../lib/index');
const StockOAuthStrategy = require('passport-oauth1').Strategy;

const SIGN_INS = Number(process.env.BENCH_SIGN_INS ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const KEY = 'bench-consumer-key';
const SECRET = 'bench-consumer-secret';
const CALLBACK = 'http://localhost:3000/auth/x/callback';

// ------------------------------------------------------------ the bare client
const enc = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
function authorization(method: string, url: string, extra: Record<string, string>, tokenSecret = ''): string {
  const u = new URL(url);
  const oauth: Record<string, string> = {
    oauth_consumer_key: KEY,
    oauth_nonce: randomBytes(16).toString('hex'),
    oauth_signature_method: 'HMAC-SHA1',
    oauth_timestamp: String(Math.floor(Date.now() / 1000)),
    oauth_version: '1.0',
    ...extra,
  };
  const params = [...Object.entries(oauth), ...u.searchParams].map(([k, v]) => `${enc(k)}=${enc(v)}`).sort();
  const base = `${method}&${enc(`${u.origin}${u.pathname}`)}&${enc(params.join('&'))}`;
  oauth.oauth_signature = createHmac('sha1', `${enc(SECRET)}&${enc(tokenSecret)}`).update(base).digest('base64');
  return `OAuth ${Object.entries(oauth).map(([k, v]) => `${enc(k)}="${enc(v)}"`).join(', ')}`;
}

async function bareSignIn(base: string): Promise<void> {
  const rtURL = `${base}/oauth/request_token`;
  const rt = new URLSearchParams(await (await fetch(rtURL, { method: 'POST', headers: { authorization: authorization('POST', rtURL, { oauth_callback: CALLBACK }) } })).text());
  const atURL = `${base}/oauth/access_token`;
  const at = new URLSearchParams(
    await (await fetch(atURL, { method: 'POST', headers: { authorization: authorization('POST', atURL, { oauth_token: rt.get('oauth_token')!, oauth_verifier: 'v' }, rt.get('oauth_token_secret')!) } })).text(),
  );
  const vcURL = `${base}/1.1/account/verify_credentials.json?include_email=false&skip_status=true&include_entities=false`;
  const user = JSON.parse(await (await fetch(vcURL, { headers: { authorization: authorization('GET', vcURL, { oauth_token: at.get('oauth_token')! }, at.get('oauth_token_secret')!) } })).text());
  if (!user.id_str) throw new Error('bare client: no user');
}

// ------------------------------------------------------------ passport-x
function strategySignIn(strategy: { authenticate: unknown; name: string }) {
  return async (): Promise<void> => {
    const session: Record<string, unknown> = {};
    const started = await runStrategy(strategy as never, fakeRequest({ session, headers: { host: 'localhost:3000' } }));
    if (started.type !== 'redirect') throw new Error(`sign-in start: ${started.type} ${started.error?.message ?? ''}`);
    const token = new URL(started.url!).searchParams.get('oauth_token')!;
    const done = await runStrategy(strategy as never, fakeRequest({ session, query: { oauth_token: token, oauth_verifier: 'v' }, headers: { host: 'localhost:3000' } }));
    if (done.type !== 'success') throw new Error(`sign-in callback: ${done.type} ${done.error?.message ?? ''}`);
  };
}

async function cpuOf(n: number, signIn: () => Promise<void>): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) await signIn();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const server = spawn(process.execPath, ['--import', 'tsx', resolve(__dirname, 'fake-x-server.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [portLine] = (await once(createInterface({ input: server.stdout! }), 'line')) as [string];
    const base = `http://127.0.0.1:${portLine.trim()}`;
    const connections = async (): Promise<number> => (JSON.parse(await (await fetch(`${base}/stats`)).text()) as { connections: number }).connections;

    const strategy = new XOAuth1Strategy({ consumerKey: KEY, consumerSecret: SECRET, callbackURL: CALLBACK, baseURL: base }, (_t, _s, profile, done) => done(null, profile));
    const passportX = strategySignIn(strategy);
    const bare = (): Promise<void> => bareSignIn(base);

    // Warm up both (JIT, connection pool), then alternate rounds so drift hits both alike.
    await cpuOf(100, passportX);
    await cpuOf(100, bare);
    const connectionsWarm = await connections();
    const ratios: number[] = [];
    const xs: number[] = [];
    const bs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const b = await cpuOf(SIGN_INS, bare);
      const x = await cpuOf(SIGN_INS, passportX);
      bs.push(b);
      xs.push(x);
      ratios.push(x / b);
    }
    // /stats itself opens no connection: fetch reuses the pooled one.
    const newConnections = (await connections()) - connectionsWarm;

    // For comparison: stock passport-oauth1 (the `oauth` package sends Connection: close).
    const stock = new StockOAuthStrategy(
      { requestTokenURL: `${base}/oauth/request_token`, accessTokenURL: `${base}/oauth/access_token`, userAuthorizationURL: `${base}/oauth/authenticate`, consumerKey: KEY, consumerSecret: SECRET, callbackURL: CALLBACK },
      (_t: string, _s: string, profile: unknown, done: (e: null, u: unknown) => void) => done(null, profile ?? {}),
    );
    const stockBefore = await connections();
    await cpuOf(20, strategySignIn(stock));
    const stockPerSignIn = ((await connections()) - stockBefore) / 20;

    const ratio = median(ratios);
    const rows: Array<[string, string]> = [
      ['bare client (fetch + HMAC-SHA1), CPU per sign-in', `${(median(bs) / 1000).toFixed(3)} ms`],
      ['passport-x XOAuth1Strategy, CPU per sign-in', `${(median(xs) / 1000).toFixed(3)} ms`],
      ['passport-x / bare (median of rounds)', `${ratio.toFixed(3)} (bar: <= 1.100)`],
      [`new connections to X over ${ROUNDS * SIGN_INS * 2} warm sign-ins`, `${newConnections} (bar: 0)`],
      ['stock passport-oauth1: connections per sign-in (2 requests)', `${stockPerSignIn}`],
    ];
    for (const [k, v] of rows) console.log(`${k.padEnd(62)} ${v}`);
    const ok = ratio <= 1.1 && newConnections === 0;
    console.log(ok ? 'bench: PASS' : 'bench: FAIL');
    process.exitCode = ok ? 0 : 1;
  } finally {
    server.kill();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
