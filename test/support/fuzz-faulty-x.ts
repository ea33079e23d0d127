// A small X for the upstream fault matrix: a plain node:http server that answers every endpoint
// passport-x calls as X does, except one, which misbehaves as the case says (rate limits, 5xx,
// HTML, XML, text, broken JSON, wrong types, `__proto__` keys, 2 MB, a gzip bomb, a slow drip, a
// reset mid-body, a redirect to another host). Error pages echo the request's Authorization
// header and body, as a proxy or a debugging X error page would, so the secret scanner has
// something to find. Records every request.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

/** X's endpoints passport-x calls, as the matrix names them. */
export type EndpointId =
  | 'request_token'
  | 'access_token'
  | 'verify_credentials'
  | 'oauth2_token_exchange'
  | 'users_me'
  | 'oauth2_refresh'
  | 'oauth2_revoke'
  | 'bearer_token'
  | 'bearer_invalidation'
  | 'oauth1_invalidate_token'
  | 'reverse_auth';

/** Every credential this X issues or expects, each with characters that percent-encoding changes (`/`, `+`, `=`). */
export const CREDENTIALS = {
  consumerKey: 'fault-consumer-key',
  consumerSecret: 'fault-consumer-SECRET/with+plus=and=',
  clientID: 'fault-client-id',
  clientSecret: 'fault-client-SECRET/ZmF1bHQ+=',
  requestToken: 'fault-request-TOKEN/1+x=',
  requestTokenSecret: 'fault-request-token-SECRET/2+y=',
  verifier: 'fault-VERIFIER/3+z=',
  accessToken: '12345-fault-access-TOKEN/4+w=',
  accessTokenSecret: 'fault-access-token-SECRET/5+v=',
  code: 'fault-authorization-CODE/6+u=',
  oauth2AccessToken: 'fault-oauth2-access-TOKEN/7+t=',
  refreshToken: 'fault-oauth2-refresh-TOKEN/8+s=',
  // X's app-only bearer tokens carry percent-encoded characters (%2F, %3D).
  bearerToken: 'AAAAAAAAAAAAAAAAAAAAAfault%2FBEARER%3Dtoken',
} as const;

/** Where each endpoint lives under the base URL. */
export const ENDPOINT_PATHS: Record<EndpointId, string> = {
  request_token: '/oauth/request_token',
  access_token: '/oauth/access_token',
  verify_credentials: '/1.1/account/verify_credentials.json',
  oauth2_token_exchange: '/2/oauth2/token',
  users_me: '/2/users/me',
  oauth2_refresh: '/2/oauth2/token',
  oauth2_revoke: '/2/oauth2/revoke',
  bearer_token: '/oauth2/token',
  bearer_invalidation: '/oauth2/invalidate_token',
  oauth1_invalidate_token: '/1.1/oauth/invalidate_token',
  reverse_auth: '/oauth/request_token',
};

const USER_V1 = { id: 6253282, id_str: '6253282', screen_name: 'ada', name: 'Ada Lovelace', profile_image_url_https: 'https://pbs.twimg.com/ada_normal.jpg' };
const USER_V2 = { data: { id: '6253282', username: 'ada', name: 'Ada Lovelace' } };
const REVERSE_AUTH_HEADER =
  'OAuth oauth_nonce="cmV2ZXJzZQ", oauth_signature_method="HMAC-SHA1", oauth_timestamp="1700000000", oauth_consumer_key="fault-consumer-key", oauth_token="reverse-token", oauth_signature="c2lnbmF0dXJl", oauth_version="1.0"';

function form(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}

/** X's normal answer at each path (reverse auth is the request-token path with `x_auth_mode=reverse_auth`). */
function normalAnswer(path: string, body: string): { type: string; body: string } {
  const json = (value: unknown): { type: string; body: string } => ({ type: 'application/json; charset=utf-8', body: JSON.stringify(value) });
  switch (path) {
    case '/oauth/request_token':
      if (new URLSearchParams(body).get('x_auth_mode') === 'reverse_auth') return { type: 'text/plain', body: REVERSE_AUTH_HEADER };
      return {
        type: 'text/html; charset=utf-8',
        body: form({ oauth_token: CREDENTIALS.requestToken, oauth_token_secret: CREDENTIALS.requestTokenSecret, oauth_callback_confirmed: 'true' }),
      };
    case '/oauth/access_token':
      return {
        type: 'text/html; charset=utf-8',
        body: form({ oauth_token: CREDENTIALS.accessToken, oauth_token_secret: CREDENTIALS.accessTokenSecret, user_id: USER_V1.id_str, screen_name: USER_V1.screen_name }),
      };
    case '/1.1/account/verify_credentials.json':
      return json(USER_V1);
    case '/1.1/oauth/invalidate_token':
      return json({ access_token: CREDENTIALS.accessToken });
    case '/oauth2/token':
      return json({ token_type: 'bearer', access_token: CREDENTIALS.bearerToken });
    case '/oauth2/invalidate_token':
      return json({ access_token: CREDENTIALS.bearerToken });
    case '/2/oauth2/token':
      return json({ token_type: 'bearer', expires_in: 7200, access_token: CREDENTIALS.oauth2AccessToken, scope: 'tweet.read users.read offline.access', refresh_token: CREDENTIALS.refreshToken });
    case '/2/oauth2/revoke':
      return json({ revoked: true });
    case '/2/users/me':
      return json(USER_V2);
    default:
      return { type: 'application/json', body: JSON.stringify({ errors: [{ code: 34, message: 'Sorry, that page does not exist.' }] }) };
  }
}

/** Whether the endpoint answers a form (OAuth 1.0a token endpoints), text (reverse auth) or JSON. */
function answerFormat(endpoint: EndpointId): 'form' | 'text' | 'json' {
  if (endpoint === 'request_token' || endpoint === 'access_token') return 'form';
  if (endpoint === 'reverse_auth') return 'text';
  return 'json';
}

/** The fields X documents for each endpoint's answer, with the wrong JSON types. */
const WRONG_TYPES: Record<EndpointId, unknown> = {
  request_token: { oauth_token: 12345, oauth_token_secret: ['secret'], oauth_callback_confirmed: true },
  access_token: { oauth_token: 12345, oauth_token_secret: { value: 'secret' }, user_id: 1, screen_name: null },
  verify_credentials: { id: '6253282', id_str: 6253282, screen_name: ['ada'], name: { first: 'Ada' } },
  oauth2_token_exchange: { token_type: 'bearer', access_token: 7200, expires_in: 'soon', refresh_token: ['x'], scope: 1 },
  users_me: { data: { id: 6253282, username: ['ada'], name: null } },
  oauth2_refresh: { token_type: ['bearer'], access_token: { token: 'x' }, expires_in: 'soon', refresh_token: 1 },
  // X documents {"revoked": true}; a string is not X's answer.
  oauth2_revoke: { revoked: 'false' },
  bearer_token: { token_type: 'bearer', access_token: 12345 },
  bearer_invalidation: { access_token: 12345 },
  oauth1_invalidate_token: { access_token: 12345 },
  reverse_auth: { oauth_token: 1, oauth_signature: true },
};

/** The endpoint's documented answer, but only under `__proto__` and `constructor.prototype`: a naive merge would lift it into the object. */
function protoKeysBody(endpoint: EndpointId): string {
  const format = answerFormat(endpoint);
  const documented: Record<EndpointId, Record<string, unknown>> = {
    request_token: { oauth_token: CREDENTIALS.requestToken, oauth_token_secret: CREDENTIALS.requestTokenSecret, oauth_callback_confirmed: 'true' },
    access_token: { oauth_token: CREDENTIALS.accessToken, oauth_token_secret: CREDENTIALS.accessTokenSecret },
    verify_credentials: USER_V1,
    oauth2_token_exchange: { token_type: 'bearer', access_token: CREDENTIALS.oauth2AccessToken },
    users_me: USER_V2,
    oauth2_refresh: { token_type: 'bearer', access_token: CREDENTIALS.oauth2AccessToken },
    oauth2_revoke: { revoked: true },
    bearer_token: { token_type: 'bearer', access_token: CREDENTIALS.bearerToken },
    bearer_invalidation: { access_token: CREDENTIALS.bearerToken },
    oauth1_invalidate_token: { access_token: CREDENTIALS.accessToken },
    reverse_auth: { oauth_signature: 'c2lnbmF0dXJl' },
  };
  const fields = documented[endpoint];
  if (format === 'form') {
    // Form keys that qs-like parsers nest: `__proto__[oauth_token]=...`.
    return Object.entries(fields)
      .flatMap(([k, v]) => [`__proto__%5B${k}%5D=${encodeURIComponent(String(v))}`, `constructor%5Bprototype%5D%5B${k}%5D=${encodeURIComponent(String(v))}`])
      .join('&');
  }
  if (format === 'text') return `{"__proto__":{"text":${JSON.stringify(REVERSE_AUTH_HEADER)}}}`;
  // JSON text, so "__proto__" is an own key as JSON.parse makes it, not the prototype.
  return `{"__proto__":${JSON.stringify(fields)},"constructor":{"prototype":${JSON.stringify(fields)}}}`;
}

/** The faults of the matrix. */
export type FaultId =
  | 'rate-limited-with-reset'
  | 'rate-limited-without-reset'
  | 'payment-required'
  | 'server-error-500'
  | 'bad-gateway-502-html'
  | 'unavailable-503-text'
  | 'html-page-200'
  | 'xml-200'
  | 'plain-text-200'
  | 'invalid-json-200'
  | 'wrong-types-200'
  | 'proto-keys-200'
  | 'body-2mb-declared'
  | 'body-2mb-chunked'
  | 'gzip-bomb'
  | 'slow-drip'
  | 'reset-mid-body'
  | 'unavailable-503-reset-mid-body'
  | 'rate-limited-slow-drip'
  | 'redirect-302-other-host'
  | 'redirect-307-other-host';

/** The `x-rate-limit-reset` the rate-limited case sends, epoch seconds. */
export const RATE_LIMIT_RESET = 1_900_000_000;

/** A gzip bomb: 256 members of 1 MiB of zeros each (256 MiB inflated), about 260 KB on the wire. Built once, on first use. */
let bomb: Buffer | undefined;
export function gzipBomb(): Buffer {
  bomb ??= Buffer.concat(Array<Buffer>(256).fill(gzipSync(Buffer.alloc(1024 * 1024), { level: 9 })));
  return bomb;
}
/** How many bytes the gzip bomb inflates to. */
export const GZIP_BOMB_INFLATED = 256 * 1024 * 1024;

/** How the faulty endpoint misbehaves, given the request's echo and the other host's URL. */
function misbehave(fault: FaultId, endpoint: EndpointId, res: ServerResponse, echo: string, otherHost: string, live: Set<NodeJS.Timeout>): void {
  const send = (status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': type, ...headers });
    res.end(body);
  };
  const problem = (status: number, title: string): string => JSON.stringify({ title, type: 'about:blank', status, detail: `${title}. ${echo}` });
  switch (fault) {
    case 'rate-limited-with-reset':
      return send(429, 'application/json', problem(429, 'Too Many Requests'), {
        'x-rate-limit-limit': '75',
        'x-rate-limit-remaining': '0',
        'x-rate-limit-reset': String(RATE_LIMIT_RESET),
      });
    case 'rate-limited-without-reset':
      return send(429, 'application/json', JSON.stringify({ errors: [{ code: 88, message: `Rate limit exceeded. ${echo}` }] }));
    case 'payment-required':
      // A plain 402, not X's credits-depleted problem.
      return send(402, 'application/json', problem(402, 'Payment Required'));
    case 'server-error-500':
      return send(500, 'application/json', JSON.stringify({ errors: [{ code: 131, message: `Internal error. ${echo}` }] }));
    case 'bad-gateway-502-html':
      return send(502, 'text/html', `<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><pre>${echo}</pre><hr>nginx</body></html>`);
    case 'unavailable-503-text':
      return send(503, 'text/plain', `Service Unavailable\n${echo}`, { 'retry-after': '30' });
    case 'html-page-200':
      return send(200, 'text/html; charset=utf-8', `<!DOCTYPE html><html><body><form action="/login"><input name="session"></form><!-- ${echo} --></body></html>`);
    case 'xml-200':
      return send(200, 'application/xml', `<?xml version="1.0" encoding="UTF-8"?><hash><error>Something is wrong</error><request>${echo}</request></hash>`);
    case 'plain-text-200':
      return send(200, 'text/plain', `OK\n${echo}`);
    case 'invalid-json-200':
      return send(200, 'application/json', `{"access_token":"${CREDENTIALS.oauth2AccessToken}","data":{"id":"1","echo":${JSON.stringify(echo)},`);
    case 'wrong-types-200':
      return send(200, 'application/json', JSON.stringify(WRONG_TYPES[endpoint]));
    case 'proto-keys-200':
      return send(200, answerFormat(endpoint) === 'form' ? 'application/x-www-form-urlencoded' : 'application/json', protoKeysBody(endpoint));
    case 'body-2mb-declared': {
      const body = Buffer.alloc(2 * 1024 * 1024, 'a');
      return send(200, 'application/json', body, { 'content-length': String(body.length) });
    }
    case 'body-2mb-chunked': {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 'a');
      let sent = 0;
      const pump = (): void => {
        while (sent < 2 * 1024 * 1024 && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end();
      };
      return pump();
    }
    case 'gzip-bomb':
      // No content-length: the size is found only by reading, as passport-x must.
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      return void res.end(gzipBomb());
    case 'slow-drip':
    case 'rate-limited-slow-drip': {
      const refused = fault === 'rate-limited-slow-drip';
      res.writeHead(refused ? 429 : 200, { 'content-type': 'application/json', 'content-length': '100000', ...(refused ? { 'x-rate-limit-reset': String(RATE_LIMIT_RESET) } : {}) });
      res.write('{');
      let left = 200;
      const timer = setInterval(() => {
        if (res.destroyed || --left <= 0) {
          clearInterval(timer);
          live.delete(timer);
          if (!res.destroyed) res.destroy();
          return;
        }
        res.write(' ');
      }, 25);
      live.add(timer);
      return;
    }
    case 'reset-mid-body':
    case 'unavailable-503-reset-mid-body': {
      res.writeHead(fault === 'reset-mid-body' ? 200 : 503, { 'content-type': 'application/json', 'content-length': '4096' });
      res.write(`{"access_token":"${CREDENTIALS.oauth2AccessToken}","padding":"${'x'.repeat(900)}`);
      // A TCP reset once the partial body is on its way.
      setImmediate(() => res.socket?.resetAndDestroy());
      return;
    }
    case 'redirect-302-other-host':
      return send(302, 'text/html', `<a href="${otherHost}/steal">Found</a>`, { location: `${otherHost}/steal${ENDPOINT_PATHS[endpoint]}` });
    case 'redirect-307-other-host':
      return send(307, 'text/html', `<a href="${otherHost}/steal">Temporary Redirect</a>`, { location: `${otherHost}/steal${ENDPOINT_PATHS[endpoint]}` });
  }
}

/** One request the server received. */
export interface ReceivedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: string;
}

/** A running faulty X (or the "other host" of the redirect cases, which misbehaves nowhere). */
export interface FaultyX {
  readonly baseURL: string;
  readonly received: ReceivedRequest[];
  /** The requests to `path`. */
  requestsTo(path: string): ReceivedRequest[];
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * Starts an X that misbehaves with `fault` at `endpoint` and answers everything else as X does.
 * Without a fault it only records (the other host of the redirect cases).
 */
export async function startFaultyX(fault?: { id: FaultId; endpoint: EndpointId; otherHost: string }): Promise<FaultyX> {
  const received: ReceivedRequest[] = [];
  const live = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      received.push({ method: req.method ?? 'GET', path, authorization: req.headers.authorization, body });
      const isReverseAuth = path === '/oauth/request_token' && new URLSearchParams(body).get('x_auth_mode') === 'reverse_auth';
      const targeted =
        fault !== undefined && path === ENDPOINT_PATHS[fault.endpoint] && (fault.endpoint === 'reverse_auth' ? isReverseAuth : fault.endpoint !== 'request_token' || !isReverseAuth);
      if (targeted) {
        // What a proxy's or X's debugging error page echoes: the request as it came.
        const echo = `${req.method} ${req.url} Authorization: ${req.headers.authorization ?? ''} Body: ${body}`;
        return misbehave(fault.id, fault.endpoint, res, echo, fault.otherHost, live);
      }
      const normal = normalAnswer(path, body);
      res.writeHead(200, { 'content-type': normal.type });
      res.end(normal.body);
    })().catch((err: unknown) => {
      res.destroy(err as Error);
    });
  });
  const baseURL = await listen(server);
  return {
    baseURL,
    received,
    requestsTo: (path) => received.filter((r) => r.path === path),
    close: async () => {
      for (const timer of live) clearInterval(timer);
      live.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
