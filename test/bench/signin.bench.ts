// `npm run bench`: what a sign-in through each strategy costs next to a bare client making the
// same requests to X with fetch, and how many connections each opens once warm.
//   OAuth 1.0a: request token, access token, verify_credentials (three signed requests).
//   OAuth 2.0:  token exchange, users/me (the redirect leg makes no request).
// X is a minimal local stand-in in its own process, so only the client's CPU is measured.
// The bar: at most 10% more CPU than the bare client, and no new connection to X once warm.
// Exits non-zero when either is missed.
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fakeRequest, runStrategy } from '../support/passport-harness';

// The shipped build, as users run it.
const { XOAuth1Strategy, XOAuth2PkceStrategy } = require(resolve(__dirname, '../../dist/index.js')) as typeof import('../../lib/index');
const StockOAuthStrategy = require('passport-oauth1').Strategy;

const SIGN_INS = Number(process.env.BENCH_SIGN_INS ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const KEY = 'bench-consumer-key';
const SECRET = 'bench-consumer-secret';
const CALLBACK = 'http://localhost:3000/auth/x/callback';

// ------------------------------------------------------------ the bare clients
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

async function bareOAuth1SignIn(base: string): Promise<void> {
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

async function bareOAuth2SignIn(base: string): Promise<void> {
  const body = new URLSearchParams({ grant_type: 'authorization_code', code: 'c', redirect_uri: CALLBACK, code_verifier: 'v'.repeat(43), client_id: KEY }).toString();
  const tokens = JSON.parse(
    await (
      await fetch(`${base}/2/oauth2/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${KEY}:${SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body,
      })
    ).text(),
  );
  const me = JSON.parse(await (await fetch(`${base}/2/users/me?user.fields=id,name,username,profile_image_url`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).text());
  if (!me.data?.id) throw new Error('bare client: no user');
}

// ------------------------------------------------------------ passport-x
type Runnable = Parameters<typeof runStrategy>[0];
function strategySignIn(strategy: Runnable, callbackQuery: (redirect: URL) => Record<string, string>) {
  return async (): Promise<void> => {
    const session: Record<string, unknown> = {};
    const started = await runStrategy(strategy, fakeRequest({ session, headers: { host: 'localhost:3000' } }));
    if (started.type !== 'redirect') throw new Error(`sign-in start: ${started.type} ${started.error?.message ?? ''}`);
    const done = await runStrategy(strategy, fakeRequest({ session, query: callbackQuery(new URL(started.url!)), headers: { host: 'localhost:3000' } }));
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
const ms = (us: number): string => `${(us / 1000).toFixed(3)} ms`;

async function main(): Promise<void> {
  const server = spawn(process.execPath, ['--import', 'tsx', resolve(__dirname, 'fake-x-server.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [portLine] = (await once(createInterface({ input: server.stdout! }), 'line')) as [string];
    const base = `http://127.0.0.1:${portLine.trim()}`;
    const connections = async (): Promise<number> => (JSON.parse(await (await fetch(`${base}/stats`)).text()) as { connections: number }).connections;

    const oauth1 = new XOAuth1Strategy({ consumerKey: KEY, consumerSecret: SECRET, callbackURL: CALLBACK, baseURL: base }, (_t, _s, profile, done) => done(null, profile));
    const oauth2 = new XOAuth2PkceStrategy(
      { clientID: KEY, clientSecret: SECRET, callbackURL: CALLBACK, baseURL: base, authorizationURL: `${base}/i/oauth2/authorize`, userFields: ['id', 'name', 'username', 'profile_image_url'] },
      (_a, _r, profile, done) => done(null, profile),
    );
    const scenarios = [
      {
        name: 'OAuth 1.0a',
        passportX: strategySignIn(oauth1, (u) => ({ oauth_token: u.searchParams.get('oauth_token')!, oauth_verifier: 'v' })),
        bare: (): Promise<void> => bareOAuth1SignIn(base),
      },
      {
        name: 'OAuth 2.0',
        passportX: strategySignIn(oauth2, (u) => ({ code: 'c', state: u.searchParams.get('state')! })),
        bare: (): Promise<void> => bareOAuth2SignIn(base),
      },
    ];

    let ok = true;
    const rows: Array<[string, string]> = [];
    for (const scenario of scenarios) {
      // Warm up both (JIT, connection pools), then alternate rounds so drift hits both alike.
      await cpuOf(100, scenario.passportX);
      await cpuOf(100, scenario.bare);
      const warm = await connections();
      const xs: number[] = [];
      const bs: number[] = [];
      const ratios: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const b = await cpuOf(SIGN_INS, scenario.bare);
        const x = await cpuOf(SIGN_INS, scenario.passportX);
        bs.push(b);
        xs.push(x);
        ratios.push(x / b);
      }
      // /stats itself opens no connection: fetch reuses its pooled one.
      const opened = (await connections()) - warm;
      const ratio = median(ratios);
      ok &&= ratio <= 1.1 && opened === 0;
      rows.push(
        [`${scenario.name}: bare fetch client, CPU per sign-in`, ms(median(bs))],
        [`${scenario.name}: passport-x, CPU per sign-in`, ms(median(xs))],
        [`${scenario.name}: passport-x / bare (median of ${ROUNDS} rounds)`, `${ratio.toFixed(3)} (bar: <= 1.100)`],
        [`${scenario.name}: new connections over ${ROUNDS * SIGN_INS * 2} warm sign-ins`, `${opened} (bar: 0)`],
      );
    }

    // For comparison: stock passport-oauth1 (the `oauth` package sends Connection: close).
    const stock = new StockOAuthStrategy(
      { requestTokenURL: `${base}/oauth/request_token`, accessTokenURL: `${base}/oauth/access_token`, userAuthorizationURL: `${base}/oauth/authenticate`, consumerKey: KEY, consumerSecret: SECRET, callbackURL: CALLBACK },
      (_t: string, _s: string, profile: unknown, done: (e: null, u: unknown) => void) => done(null, profile ?? {}),
    );
    const stockBefore = await connections();
    await cpuOf(20, strategySignIn(stock, (u) => ({ oauth_token: u.searchParams.get('oauth_token')!, oauth_verifier: 'v' })));
    rows.push(['stock passport-oauth1: new connections per sign-in (2 requests)', String(((await connections()) - stockBefore) / 20)]);

    for (const [k, v] of rows) console.log(`${k.padEnd(66)} ${v}`);
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
