// The canned X of `npm run bench`: X's sign-in endpoints (OAuth 1.0a and 2.0) answering at once,
// shaped as X answers them (bodies and headers), checking nothing. It runs in its own process
// (forked by signin.bench.ts) so its CPU is never counted against a candidate, and counts the TCP
// connections and TLS handshakes clients open. Plain HTTP, or TLS when given a certificate.
//   fork('fake-x-server.ts', ['--cert', certFile, '--key', keyFile])
// Forked, it sends `{ port }` once listening and answers `{ cmd: 'stats' }` with `{ stats }` over
// IPC (every bench forks it with processes.ts's forkBench).
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

/** What the canned X counted since it started. */
export interface FakeXStats {
  /** TCP connections accepted. */
  connections: number;
  /** TLS handshakes completed (0 over plain HTTP). */
  handshakes: number;
  /** ... of which resumed a TLS session (abbreviated handshake). */
  resumedHandshakes: number;
  /** Requests answered, by path. */
  requests: Record<string, number>;
}

const stats: FakeXStats = { connections: 0, handshakes: 0, resumedHandshakes: 0, requests: {} };

// Headers X sends on every API answer (taken from real answers of api.x.com), so a client that
// turns each header into an object pays for it as it would against X.
const X_HEADERS: Array<[string, string]> = [
  ['cache-control', 'no-cache, no-store, max-age=0'],
  ['pragma', 'no-cache'],
  ['server', 'tsa_b'],
  ['strict-transport-security', 'max-age=631138519'],
  ['x-connection-hash', 'a8c1b8e5b6b0d3e1f0b8a4d6c1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0'],
  ['x-content-type-options', 'nosniff'],
  ['x-frame-options', 'SAMEORIGIN'],
  ['x-response-time', '12'],
  ['x-transaction-id', '8a1b2c3d4e5f6a7b'],
  ['x-xss-protection', '0'],
];
const RATE_LIMIT: Array<[string, string]> = [
  ['x-rate-limit-limit', '75'],
  ['x-rate-limit-remaining', '74'],
  ['x-rate-limit-reset', '1767225600'],
];

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json; charset=utf-8';
const ACCESS_TOKEN_1 = '1234567890123456789-Qb7tZ0dF3kL9mN2pR5sV8wY1aC4eG7hJ0kM3nP';
const ACCESS_SECRET_1 = 'W2x5A8c1E4g7J0m3P6s9V2y5B8d1F4h7K0n3Q6t9W2z5C8';
// X's v1.1 user as account/verify_credentials answers it (skip_status=true, include_entities=false);
// its numeric id is larger than a JavaScript number holds, as X's are (hence id_str).
const V1_USER = JSON.stringify({
  id: 'NUMERIC_ID',
  id_str: '1234567890123456789',
  name: 'Bench User',
  screen_name: 'bench_user',
  location: 'Loopback',
  description: 'A user of the canned X that `npm run bench` signs in, again and again.',
  url: null,
  protected: false,
  followers_count: 42,
  friends_count: 17,
  listed_count: 1,
  created_at: 'Wed Mar 05 10:00:00 +0000 2014',
  favourites_count: 120,
  utc_offset: null,
  time_zone: null,
  geo_enabled: false,
  verified: false,
  statuses_count: 256,
  lang: null,
  contributors_enabled: false,
  is_translator: false,
  is_translation_enabled: false,
  profile_background_color: 'F5F8FA',
  profile_background_image_url: null,
  profile_background_image_url_https: null,
  profile_background_tile: false,
  profile_image_url: 'http://pbs.twimg.com/profile_images/1/bench_normal.jpg',
  profile_image_url_https: 'https://pbs.twimg.com/profile_images/1/bench_normal.jpg',
  profile_link_color: '1DA1F2',
  profile_sidebar_border_color: 'C0DEED',
  profile_sidebar_fill_color: 'DDEEF6',
  profile_text_color: '333333',
  profile_use_background_image: true,
  has_extended_profile: false,
  default_profile: true,
  default_profile_image: false,
  following: false,
  follow_request_sent: false,
  notifications: false,
  translator_type: 'none',
  withheld_in_countries: [],
  suspended: false,
  needs_phone_verification: false,
}).replace('"NUMERIC_ID"', '1234567890123456789');
// X's v2 user as 2/users/me answers it, with the user.fields passport-x asks for by default.
const V2_USER = JSON.stringify({
  data: {
    id: '1234567890123456789',
    name: 'Bench User',
    username: 'bench_user',
    profile_image_url: 'https://pbs.twimg.com/profile_images/1/bench_normal.jpg',
    url: '',
    description: 'A user of the canned X that `npm run bench` signs in, again and again.',
    verified: false,
    created_at: '2014-03-05T10:00:00.000Z',
    protected: false,
  },
});
const OAUTH2_TOKEN = JSON.stringify({
  token_type: 'bearer',
  expires_in: 7200,
  access_token: 'VGhpcyBpcyBhIGJlbmNoIGFjY2VzcyB0b2tlbiBzaGFwZWQgbGlrZSBYJ3M6MTc2NzIyNTYwMDAwMDoxOjE6YXQ6MQ',
  scope: 'tweet.read users.read',
});

let issued = 0;

function answer(res: http.ServerResponse, status: number, type: string, body: string, rateLimited: boolean, accessLevel: boolean): void {
  const headers: Array<[string, string]> = [['content-type', type], ['date', new Date().toUTCString()], ...X_HEADERS];
  if (rateLimited) headers.push(...RATE_LIMIT);
  if (accessLevel) headers.push(['x-access-level', 'read']);
  headers.push(['content-length', String(Buffer.byteLength(body))]);
  res.writeHead(status, headers.flat());
  res.end(body);
}

function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
  req.resume();
  req.on('end', () => {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    stats.requests[path] = (stats.requests[path] ?? 0) + 1;
    switch (path) {
      case '/oauth/request_token': {
        issued += 1;
        // X's request tokens: 27 characters; unique per request, as the callback must match one.
        const token = `rt${String(issued).padStart(25, '0')}`;
        return answer(res, 200, FORM, `oauth_token=${token}&oauth_token_secret=rs${token.slice(2)}xYz12&oauth_callback_confirmed=true`, false, false);
      }
      case '/oauth/access_token':
        return answer(res, 200, FORM, `oauth_token=${ACCESS_TOKEN_1}&oauth_token_secret=${ACCESS_SECRET_1}&user_id=1234567890123456789&screen_name=bench_user`, false, false);
      case '/1.1/account/verify_credentials.json':
        return answer(res, 200, JSON_TYPE, V1_USER, true, true);
      case '/2/oauth2/token':
        return answer(res, 200, JSON_TYPE, OAUTH2_TOKEN, false, false);
      case '/2/users/me':
        return answer(res, 200, JSON_TYPE, V2_USER, true, true);
      default:
        return answer(res, 404, JSON_TYPE, '{"errors":[{"code":34,"message":"Sorry, that page does not exist."}]}', false, false);
    }
  });
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

const certFile = arg('--cert');
const keyFile = arg('--key');
const server =
  certFile && keyFile
    ? https.createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, handle)
    : http.createServer(handle);
server.on('connection', (_socket: Socket) => {
  stats.connections += 1;
});
server.on('secureConnection', (socket: TLSSocket) => {
  stats.handshakes += 1;
  if (socket.isSessionReused()) stats.resumedHandshakes += 1;
});
// Idle kept-alive connections stay open (0: no keep-alive time-out), so the new connections counted
// are the ones each client chose to open. Real X closes idle ones after a while: a client then
// reconnects whatever it does, once per idle socket, not once per sign-in.
server.keepAliveTimeout = 0;

process.on('message', (message: { cmd?: string }) => {
  if (message.cmd === 'stats') process.send?.({ stats });
});
process.on('disconnect', () => process.exit(0));
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (!address || typeof address !== 'object') return;
  process.send?.({ port: address.port });
});
