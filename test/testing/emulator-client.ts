// What the emulator's tests use to drive it over real HTTP: OAuth 1.0a requests signed with
// passport-x's signer, the consent form read and posted as a browser would, and PKCE values.
import { expect } from 'chai';
import { connect } from 'node:net';
import { formEncodeOAuth, signOAuth1Request, type OAuthParamList } from '../../lib/oauth1-signature';
import type { XAuthRequest } from '../../lib/request';
import type { XEmulator } from '../../lib/testing';
import { fakeRequest, runStrategy, type StrategyOutcome } from '../support/passport-harness';

/** RFC 7636 Appendix B: this verifier's S256 challenge is `E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM`. */
export const RFC7636_VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
export const RFC7636_CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

/** The callback URL the default fixtures register (X's advice for local development: 127.0.0.1, not localhost). */
export const CALLBACK = 'http://127.0.0.1:3000/auth/x/callback';

/** One OAuth 1.0a request to sign and send. */
export interface SignedRequest {
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string>;
  /** Form-body parameters (POST). */
  form?: Record<string, string>;
  /** Extra protocol parameters for the header: `oauth_callback`, `oauth_verifier`. */
  oauth?: Record<string, string>;
  consumerKey?: string;
  consumerSecret?: string;
  token?: string;
  tokenSecret?: string;
  /** Seconds since the epoch (default: now). */
  timestamp?: number;
  nonce?: string;
  /** Rewrites the signed header before sending, to break it. */
  tamperHeader?: (header: string) => string;
  /** Rewrites the body after signing. */
  tamperBody?: (body: string) => string;
}

/** Signs a request with passport-x's signer (lib/oauth1-signature.ts) and sends it with global fetch. */
export async function signedFetch(x: XEmulator, request: SignedRequest): Promise<Response> {
  const url = new URL(request.path, x.url);
  for (const [k, v] of Object.entries(request.query ?? {})) url.searchParams.set(k, v);
  const form: OAuthParamList = Object.entries(request.form ?? {});
  const signed = signOAuth1Request({
    method: request.method,
    url: url.href,
    params: [...Object.entries(request.oauth ?? {}), ...form],
    consumerKey: request.consumerKey ?? x.apps.oauth1.consumerKey,
    consumerSecret: request.consumerSecret ?? x.apps.oauth1.consumerSecret,
    token: request.token,
    tokenSecret: request.tokenSecret,
    timestamp: request.timestamp,
    nonce: request.nonce,
  });
  const headers: Record<string, string> = { authorization: request.tamperHeader ? request.tamperHeader(signed.header) : signed.header };
  const init: RequestInit = { method: request.method, headers };
  if (request.method === 'POST') {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    const body = formEncodeOAuth(form);
    init.body = request.tamperBody ? request.tamperBody(body) : body;
  }
  return fetch(url, init);
}

/** A v1.1 error body, checked: `{"errors":[{"code":...,"message":...}]}`. */
export async function expectXError(response: Response, status: number, code: number): Promise<void> {
  expect(response.status).to.equal(status);
  const body = (await response.json()) as { errors: Array<{ code: number; message: string }> };
  expect(body.errors).to.have.length(1);
  expect(body.errors[0]!.code).to.equal(code);
  expect(body.errors[0]!.message).to.be.a('string').and.not.equal('');
}

/** An OAuth 2.0 error body, checked: `{"error":...,"error_description":...}`. */
export async function expectOAuth2Error(response: Response, status: number, error: string): Promise<string> {
  expect(response.status).to.equal(status);
  const body = (await response.json()) as { error: string; error_description: string };
  expect(body.error).to.equal(error);
  expect(body.error_description).to.be.a('string').and.not.equal('');
  return body.error_description;
}

function decodeEntities(value: string): string {
  return value.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e] as string);
}

/** The consent page's form, read from its HTML as a browser would. */
export interface ConsentForm {
  action: string;
  hidden: Record<string, string>;
  users: Array<{ id: string; checked: boolean }>;
}

/** Reads the consent form of a page. */
export function readConsentForm(html: string): ConsentForm {
  const action = /<form method="post" action="([^"]+)">/.exec(html)?.[1];
  expect(action, 'the page has a POST form').to.be.a('string');
  const hidden: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) hidden[decodeEntities(m[1]!)] = decodeEntities(m[2]!);
  const users = [...html.matchAll(/<input type="radio" name="user_id" value="([^"]+)"( checked)?>/g)].map((m) => ({ id: decodeEntities(m[1]!), checked: m[2] !== undefined }));
  return { action: decodeEntities(action!), hidden, users };
}

/** Loads a consent page (expects 200) and reads its form. */
export async function loadConsentForm(pageURL: string): Promise<ConsentForm> {
  const response = await fetch(pageURL);
  expect(response.status, 'the consent page loads').to.equal(200);
  expect(response.headers.get('content-type')).to.match(/^text\/html/);
  return readConsentForm(await response.text());
}

/** Posts a consent form as the browser does on a click, and returns the answer unfollowed. */
export async function submitConsentForm(pageURL: string, form: ConsentForm, action: 'authorize' | 'cancel', userId?: string): Promise<Response> {
  const fields = new URLSearchParams({ ...form.hidden, action });
  const selected = userId ?? form.users.find((u) => u.checked)?.id;
  if (selected !== undefined) fields.set('user_id', selected);
  return fetch(new URL(form.action, pageURL), { method: 'POST', body: fields, redirect: 'manual' });
}

/** Loads the consent page, clicks a button, and returns the `Location` it redirects to (expects 302). */
export async function consent(pageURL: string, action: 'authorize' | 'cancel' = 'authorize', userId?: string): Promise<URL> {
  const form = await loadConsentForm(pageURL);
  const response = await submitConsentForm(pageURL, form, action, userId);
  expect(response.status, 'the consent form redirects').to.equal(302);
  const location = response.headers.get('location');
  expect(location).to.be.a('string');
  return new URL(location!);
}

/** The OAuth 2.0 consent page URL for a client. */
export function authorizeURL(x: XEmulator, params: Record<string, string | undefined>): string {
  const url = new URL(x.authorizationURL);
  const defaults: Record<string, string> = {
    response_type: 'code',
    client_id: x.apps.confidential.clientID,
    redirect_uri: CALLBACK,
    scope: 'tweet.read users.read offline.access',
    state: 'state-123',
    code_challenge: RFC7636_CHALLENGE,
    code_challenge_method: 'S256',
  };
  for (const [k, v] of Object.entries({ ...defaults, ...params })) if (v !== undefined) url.searchParams.set(k, v);
  return url.href;
}

/** Sends a form POST with optional Basic credentials. */
export function postForm(url: string, form: Record<string, string>, basic?: { id: string; secret: string }): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basic) headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(basic.id)}:${encodeURIComponent(basic.secret)}`).toString('base64')}`;
  return fetch(url, { method: 'POST', headers, body: new URLSearchParams(form) });
}

/** A clock the test moves by hand. */
export class TestClock {
  ms = Date.now();
  readonly now = (): number => this.ms;
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

/** A strategy as the passport harness drives it. */
interface HarnessStrategy {
  authenticate(req: XAuthRequest, options?: Record<string, unknown>): void;
}

/**
 * Signs in through a strategy pointed at the emulator with `callbackURL` {@link CALLBACK}: starts
 * the sign-in, answers the consent page as `userId` (default: the preselected user), and runs the
 * callback X redirects to. Resolves with the callback's outcome.
 */
export async function signInThrough(strategy: HarnessStrategy, userId?: string): Promise<StrategyOutcome> {
  const session: Record<string, unknown> = {};
  const headers = { host: new URL(CALLBACK).host };
  const started = await runStrategy(strategy, fakeRequest({ session, headers }));
  expect(started.type, started.error?.message).to.equal('redirect');
  const location = await consent(started.url!, 'authorize', userId);
  expect(`${location.origin}${location.pathname}`).to.equal(CALLBACK);
  return runStrategy(strategy, fakeRequest({ session, headers, query: Object.fromEntries(location.searchParams), url: `${location.pathname}${location.search}` }));
}

/** An answer read off a raw socket: the status line's code, the headers (names lower-cased) and the body as sent. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The body of a chunked answer (RFC 9112 section 7.1), chunk extensions and trailers left out. */
function unchunk(sent: string): string {
  let body = '';
  let at = 0;
  for (;;) {
    const lineEnd = sent.indexOf('\r\n', at);
    const size = parseInt(sent.slice(at, lineEnd), 16);
    if (lineEnd === -1 || !(size > 0)) return body;
    body += sent.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}

/**
 * Sends `head` (the request line and headers, CRLF-separated, without the blank line) and then
 * `body` over a raw socket to the emulator, for requests fetch will not send (a bad `Host`, a
 * body that never ends), and resolves with the first answer once the emulator closes the
 * connection (send `Connection: close`, or a request it closes after).
 */
export function rawRequest(x: XEmulator, head: string, body = ''): Promise<RawAnswer> {
  const { hostname, port } = new URL(x.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(`${head}\r\n\r\n${body}`));
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
    });
    // A connection closed with part of the request unread may end in a reset: what arrived before it counts.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      const at = received.indexOf('\r\n\r\n');
      if (at === -1) return reject(new Error(`the connection closed without an answer: ${JSON.stringify(received.slice(0, 200))}`));
      const [statusLine = '', ...lines] = received.slice(0, at).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const sent = received.slice(at + 4);
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: headers['transfer-encoding'] === 'chunked' ? unchunk(sent) : sent });
    });
  });
}
