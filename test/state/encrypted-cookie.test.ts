import { expect } from 'chai';
import { failureHint } from '../support/assertions';
import { XFailureCode, X_FAILURE_MESSAGES, type XFailureCodeValue, type XFailureInfo } from '../../lib/failure';
import { MAX_CLOCK_SKEW_MS, pendingBinding } from '../../lib/state/pending';
import type { XPkceStateMeta } from '../../lib/state/pkce-session';
import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { XSessionError } from '../../lib/errors';
import type { XAuthRequest } from '../../lib/request';
import { DEFAULT_COOKIE_STATE_MAX_AGE_MS, EncryptedCookieStateStore, MAX_PENDING_COOKIE_BYTES, MAX_PENDING_COOKIES, type EncryptedCookieStateStoreOptions } from '../../lib/state/encrypted-cookie';

const SECRET = 'a-32-character-secret-for-tests!!';
const OLD_SECRET = 'the-previous-secret-of-at-least-32-chars';
const OTHER_APP_SECRET = 'another-apps-secret-also-32-chars-long';
const TOKEN_SECRET = 'request-token-secret-value';
const VERIFIER = 'pkce-code-verifier-dBjftJeZ4CVP-mB92K27uhbUJU1p1r';
const META = { authorizationURL: 'https://x.com/i/oauth2/authorize', tokenURL: 'https://api.x.com/2/oauth2/token', clientID: 'client-id' };

interface Cookie {
  name: string;
  value: string;
  attributes: Record<string, string | true>;
}

function parseSetCookie(header: string): Cookie {
  const [pair, ...attrs] = header.split(';').map((s) => s.trim());
  const eq = pair!.indexOf('=');
  const attributes: Record<string, string | true> = {};
  for (const a of attrs) {
    const i = a.indexOf('=');
    if (i < 0) attributes[a.toLowerCase()] = true;
    else attributes[a.slice(0, i).toLowerCase()] = a.slice(i + 1);
  }
  return { name: pair!.slice(0, eq), value: pair!.slice(eq + 1), attributes };
}

/** A real Node response, as Express hands it over in `req.res`. */
function nodeResponse(): ServerResponse {
  return new ServerResponse(new IncomingMessage(new Socket()));
}

function setCookiesOf(res: ServerResponse): Cookie[] {
  const h = res.getHeader('set-cookie');
  const list = h === undefined ? [] : Array.isArray(h) ? h : [String(h)];
  return list.map(parseSetCookie);
}

/** A browser's cookie jar for one site: keeps what Set-Cookie sets, drops what Max-Age=0 clears. */
class Jar {
  readonly cookies = new Map<string, string>();

  take(res: ServerResponse): Cookie[] {
    const cookies = setCookiesOf(res);
    for (const c of cookies) {
      if (c.attributes['max-age'] === '0') this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    return cookies;
  }

  header(): string {
    return [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; ');
  }
}

function request(jar: Jar | string | undefined, extra: Partial<XAuthRequest> = {}): XAuthRequest & { res: ServerResponse } {
  const cookie = typeof jar === 'string' ? jar : jar?.header();
  return { headers: cookie ? { cookie } : {}, query: {}, res: nodeResponse(), ...extra };
}

type Loaded = { err: Error | null; value: string | false | undefined; info: unknown };

function set(store: EncryptedCookieStateStore, req: XAuthRequest, token: string, tokenSecret = TOKEN_SECRET): Promise<Error | null | undefined> {
  return new Promise((resolve) => store.set(req, token, tokenSecret, undefined, {}, (err) => resolve(err)));
}

function get(store: EncryptedCookieStateStore, req: XAuthRequest, token: string): Promise<Loaded> {
  return new Promise((resolve) => store.get(req, token, (err, value, info) => resolve({ err, value, info })));
}

function storeState(store: EncryptedCookieStateStore, req: XAuthRequest, state?: unknown, verifier = VERIFIER): Promise<{ err: Error | null; handle: string | undefined }> {
  return new Promise((resolve) => store.store(req, verifier, state, META, (err, handle) => resolve({ err, handle })));
}

function verify(store: EncryptedCookieStateStore, req: XAuthRequest, handle: string): Promise<Loaded> {
  return new Promise((resolve) => store.verify(req, handle, (err, value, info) => resolve({ err, value: value as string | false | undefined, info })));
}

function getWith(store: EncryptedCookieStateStore, req: XAuthRequest, token: string, meta: object): Promise<Loaded> {
  return new Promise((resolve) => store.get(req, token, meta, (err, value, info) => resolve({ err, value, info })));
}

function verifyWith(store: EncryptedCookieStateStore, req: XAuthRequest, handle: string, meta: XPkceStateMeta): Promise<Loaded> {
  return new Promise((resolve) => store.verify(req, handle, meta, (err, value, info) => resolve({ err, value: value as string | false | undefined, info })));
}

/** `drop`'s answer: the error, and whether the handle was a pending sign-in (`found`); its `info`, when not, in {@link dropInfo}. */
function dropFound(store: EncryptedCookieStateStore, req: XAuthRequest, handle: string): Promise<{ err: Error | null | undefined; found: boolean | undefined }> {
  return new Promise((resolve) => store.drop(req, handle, (err, found) => resolve({ err, found })));
}

/** `drop`'s whole answer, its `info` (why nothing was found) included. */
function dropInfo(store: EncryptedCookieStateStore, req: XAuthRequest, handle: string): Promise<{ err: Error | null | undefined; found: boolean | undefined; info: XFailureInfo | undefined }> {
  return new Promise((resolve) => store.drop(req, handle, (err, found, info) => resolve({ err, found, info })));
}

/**
 * The refusal's developer hint, after checking the failure's shape: the person's short message
 * for `code`, the code itself, and a hint (the diagnosis the tests below check).
 */
function hintOf(result: Loaded, code: XFailureCodeValue): string {
  expect(result.err).to.equal(null);
  expect(result.value).to.equal(false);
  const info = result.info as XFailureInfo;
  expect(info).to.have.all.keys('message', 'hint', 'code');
  expect(info.code).to.equal(code);
  expect(info.message).to.equal(X_FAILURE_MESSAGES[code]);
  expect(info.hint).to.be.a('string');
  return info.hint;
}

function expectNoSecrets(message: string, ...secrets: string[]): void {
  for (const s of [SECRET, OLD_SECRET, TOKEN_SECRET, VERIFIER, ...secrets]) expect(message).to.not.include(s);
}

/** Starts an OAuth 1.0a sign-in for `token` in `jar` and returns the cookie it set. */
async function started(store: EncryptedCookieStateStore, jar: Jar, token: string): Promise<Cookie> {
  const req = request(jar);
  expect(await set(store, req, token)).to.equal(null);
  const cookies = jar.take(req.res);
  expect(cookies).to.have.length(1);
  return cookies[0]!;
}

/**
 * Seals a payload the way the store documents it, independently of its code: key =
 * HKDF-SHA256(secret, salt 'passport-x', info 'cookie-state v1'), value =
 * base64url(0x02 || length of binding || binding || iv || ciphertext || tag), AES-256-GCM with
 * `<cookie name>\n<binding>` as additional authenticated data.
 */
function sealBySpec(secret: string, name: string, payload: unknown, binding = ''): string {
  const key = Buffer.from(hkdfSync('sha256', secret, 'passport-x', 'cookie-state v1', 32));
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(`${name}\n${binding}`));
  const ct = Buffer.concat([cipher.update(JSON.stringify(payload)), cipher.final()]);
  return Buffer.concat([Buffer.from([2, Buffer.byteLength(binding)]), Buffer.from(binding), iv, ct, cipher.getAuthTag()]).toString('base64url');
}

/** The format before bindings (version 1): base64url(0x01 || iv || ciphertext || tag), the cookie name alone as AAD. */
function sealBySpecV1(secret: string, name: string, payload: unknown): string {
  const key = Buffer.from(hkdfSync('sha256', secret, 'passport-x', 'cookie-state v1', 32));
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(name));
  const ct = Buffer.concat([cipher.update(JSON.stringify(payload)), cipher.final()]);
  return Buffer.concat([Buffer.from([1]), iv, ct, cipher.getAuthTag()]).toString('base64url');
}

function flipByte(value: string, index: number): string {
  const raw = Buffer.from(value, 'base64url');
  const i = index < 0 ? raw.length + index : index;
  raw[i] = raw[i]! ^ 0x01;
  return raw.toString('base64url');
}

describe('encrypted cookie state store', () => {
  describe('as the OAuth 1.0a request-token store', () => {
    it('returns the token secret sealed at the start, and clears the cookie on the callback', async () => {
      const store = new EncryptedCookieStateStore({ secret: SECRET });
      const jar = new Jar();
      const cookie = await started(store, jar, 'request-token-1');
      expect(cookie.name).to.match(/^__xauth_[0-9a-f]{16}$/);
      expect(cookie.value).to.not.include(TOKEN_SECRET);
      expect(Buffer.from(cookie.value, 'base64url').toString('latin1')).to.not.include(TOKEN_SECRET);

      const callback = request(jar);
      const loaded = await get(store, callback, 'request-token-1');
      expect(loaded).to.deep.equal({ err: null, value: TOKEN_SECRET, info: undefined });
      const cleared = jar.take(callback.res);
      expect(cleared).to.have.length(1);
      expect(cleared[0]).to.deep.include({ name: cookie.name, value: '' });
      expect(cleared[0]!.attributes).to.deep.include({ 'max-age': '0', path: '/', httponly: true, samesite: 'Lax' });
      expect(jar.cookies.size).to.equal(0);

      await new Promise<void>((resolve, reject) => store.destroy(callback, 'request-token-1', (err) => (err ? reject(err) : resolve())));
    });

    it('is single use: a second callback with the same token finds no cookie', async () => {
      const store = new EncryptedCookieStateStore({ secret: SECRET });
      const jar = new Jar();
      await started(store, jar, 'tok');
      const first = request(jar);
      expect((await get(store, first, 'tok')).value).to.equal(TOKEN_SECRET);
      jar.take(first.res);
      const replay = request(jar);
      const message = hintOf(await get(store, replay, 'tok'), XFailureCode.NO_PENDING_SIGN_IN);
      expect(message).to.match(/found no sign-in cookie \(__xauth_\.\.\.\) for its request token/);
      expect(message).to.match(/already used/);
      expect(setCookiesOf(replay.res)).to.have.length(0);
    });

    it('fails a token whose cookie the browser did not send, naming the likely causes and the fix', async () => {
      const store = new EncryptedCookieStateStore({ secret: SECRET });
      const message = hintOf(await get(store, request(undefined), 'Z2J1Lh7-request-token'), XFailureCode.NO_PENDING_SIGN_IN);
      expect(message).to.match(/blocks cookies/);
      expect(message).to.match(/another host than the callback URL/);
      expect(message).to.match(/expired cookie/);
      expect(message).to.match(/another browser/);
      expect(message).to.match(/Fix: /);
      expectNoSecrets(message, 'Z2J1Lh7-request-token');
    });

    it('drops the cookie of a sign-in the user cancelled on X', async () => {
      const store = new EncryptedCookieStateStore({ secret: SECRET });
      const jar = new Jar();
      await started(store, jar, 'denied-token');
      await started(store, jar, 'other-token');
      const denied = request(jar);
      expect(await dropFound(store, denied, 'denied-token')).to.deep.equal({ err: null, found: true });
      expect(jar.take(denied.res)).to.have.length(1);
      expect(jar.cookies.size).to.equal(1);
      // the other sign-in is untouched
      expect((await get(store, request(jar), 'other-token')).value).to.equal(TOKEN_SECRET);
      // nothing to clear for an unknown token
      const unknown = request(jar);
      const none = await dropInfo(store, unknown, 'never-issued');
      expect(none).to.deep.include({ err: null, found: false });
      // No cookie for it at all: the cookie store's own diagnosis (a cookie the browser deleted once expired, another host...).
      expect(failureHint(none.info, XFailureCode.NO_PENDING_SIGN_IN)).to.match(/found no sign-in cookie .* deleted the expired cookie/);
      expect(setCookiesOf(unknown.res)).to.have.length(0);
    });

    it('says nothing of why for a cookie of this handle it cannot vouch for (tampered): the strategy refuses it as unknown', async () => {
      const store = new EncryptedCookieStateStore({ secret: SECRET });
      const jar = new Jar();
      await started(store, jar, 'denied-token');
      for (const [name, value] of jar.cookies) jar.cookies.set(name, `${value.slice(0, -4)}AAAA`);
      expect(await dropInfo(store, request(jar), 'denied-token')).to.deep.equal({ err: null, found: false, info: undefined });
    });

    it('clears an expired sign-in\'s cookie on cancel, but does not call it pending (X\'s ?error= for it is not trusted)', async () => {
      let now = 1_700_000_000_000;
      const store = new EncryptedCookieStateStore({ secret: SECRET, now: () => now });
      const jar = new Jar();
      await started(store, jar, 'late-token');
      now += DEFAULT_COOKIE_STATE_MAX_AGE_MS;
      const denied = request(jar);
      const late = await dropInfo(store, denied, 'late-token');
      expect(late).to.deep.include({ err: null, found: false });
      // Why: it expired, as the callback with a verifier would have been told.
      expect(failureHint(late.info, XFailureCode.SIGN_IN_EXPIRED)).to.match(/more than 10 minutes ago and its cookie has expired/);
      expect(setCookiesOf(denied.res).map((c) => c.attributes['max-age'])).to.deep.equal(['0']);
    });
  });

  describe('as the OAuth 2.0 PKCE state store', () => {
    it('generates a 256-bit state and returns the verifier and the app state for it', async () => {
      const store = new EncryptedCookieStateStore({ secret: SECRET });
      const jar = new Jar();
      const start = request(jar);
      const { err, handle } = await storeState(store, start, { returnTo: '/settings' });
      expect(err).to.equal(null);
      expect(handle).to.match(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(handle!, 'base64url')).to.have.length(32);
      const [cookie] = jar.take(start.res);
      expect(cookie!.value).to.not.include(VERIFIER);

      const callback = request(jar);
      const loaded = await verify(store, callback, handle!);
      expect(loaded).to.deep.equal({ err: null, value: VERIFIER, info: { returnTo: '/settings' } });
      expect(jar.take(callback.res)[0]!.attributes['max-age']).to.equal('0');
    });

    it('generates a different state for every sign-in', async () => {
      const store = new EncryptedCookieStateStore({ secret: SECRET });
      const handles = new Set<string>();
      for (let i = 0; i < 20; i++) handles.add((await storeState(store, request(undefined))).handle!);
      expect(handles.size).to.equal(20);
    });

    it('returns no app state when none was given', async () => {
      const store = new EncryptedCookieStateStore({ secret: SECRET });
      const jar = new Jar();
      const start = request(jar);
      const { handle } = await storeState(store, start);
      jar.take(start.res);
      expect(await verify(store, request(jar), handle!)).to.deep.equal({ err: null, value: VERIFIER, info: undefined });
    });

    it('fails a callback without a state parameter', async () => {
      const store = new EncryptedCookieStateStore({ secret: SECRET });
      const message = hintOf(await verify(store, request(undefined), undefined as unknown as string), XFailureCode.CALLBACK_MALFORMED);
      expect(message).to.match(/has no state parameter/);
    });

    it('refuses to start without a PKCE verifier', async () => {
      const store = new EncryptedCookieStateStore({ secret: SECRET });
      const { err } = await storeState(store, request(undefined), undefined, '');
      expect(err).to.be.instanceOf(TypeError);
      expect(err!.message).to.match(/code verifier/);
    });

    it('refuses an app state too large for a cookie, saying what to pass instead', async () => {
      const store = new EncryptedCookieStateStore({ secret: SECRET });
      const start = request(undefined);
      const { err } = await storeState(store, start, { blob: 'x'.repeat(4000) });
      expect(err).to.be.instanceOf(RangeError);
      expect(err!.message).to.match(/more than the 4096 browsers keep.*smaller `state`/);
      expect(setCookiesOf(start.res)).to.have.length(0);
    });

    it('does not accept an OAuth 2.0 cookie for an OAuth 1.0a callback', async () => {
      const store = new EncryptedCookieStateStore({ secret: SECRET });
      const jar = new Jar();
      const start = request(jar);
      const { handle } = await storeState(store, start);
      jar.take(start.res);
      const message = hintOf(await get(store, request(jar), handle!), XFailureCode.CALLBACK_UNKNOWN);
      expect(message).to.match(/does not belong to this X callback's request token/);
    });
  });

  describe('binding to the strategy (shared store, issue 9 item 11)', () => {
    const A: XPkceStateMeta = { ...META, binding: pendingBinding('oauth2', 'x-a', 'client-a', 'http://127.0.0.1/a/cb') };
    const B: XPkceStateMeta = { ...META, binding: pendingBinding('oauth2', 'x-b', 'client-b', 'http://127.0.0.1/b/cb') };

    it('accepts a state only with the binding it was sealed for, and tells the other strategy it is not its own', async () => {
      const store = new EncryptedCookieStateStore({ secret: SECRET });
      const jar = new Jar();
      const startReq = request(jar);
      const handle = await new Promise<string>((resolve, reject) => store.store(startReq, VERIFIER, undefined, A, (err, h) => (err ? reject(err) : resolve(h!))));
      jar.take(startReq.res);
      const other = await verifyWith(store, request(jar), handle, B);
      expect(hintOf(other, XFailureCode.CALLBACK_UNKNOWN)).to.match(/started by another strategy sharing this store/);

      const jar2 = new Jar();
      const start2 = request(jar2);
      const handle2 = await new Promise<string>((resolve, reject) => store.store(start2, VERIFIER, undefined, A, (err, h) => (err ? reject(err) : resolve(h!))));
      jar2.take(start2.res);
      expect((await verifyWith(store, request(jar2), handle2, A)).value).to.equal(VERIFIER);
    });

    it('derives the binding from passport-oauth2\'s meta (client ID and redirect_uri) when the strategy sets none', async () => {
      const store = new EncryptedCookieStateStore({ secret: SECRET });
      const jar = new Jar();
      const startReq = request(jar);
      const handle = await new Promise<string>((resolve, reject) => store.store(startReq, VERIFIER, undefined, META, (err, h) => (err ? reject(err) : resolve(h!))));
      jar.take(startReq.res);
      const otherClient = await verifyWith(store, request(jar), handle, { ...META, clientID: 'another-client' });
      expect(hintOf(otherClient, XFailureCode.CALLBACK_UNKNOWN)).to.match(/another strategy/);
    });

    it('fails a cookie whose clear-text binding was rewritten to the other strategy\'s: it is authenticated data', async () => {
      const store = new EncryptedCookieStateStore({ secret: SECRET });
      const jar = new Jar();
      const startReq = request(jar);
      const handle = await new Promise<string>((resolve, reject) => store.store(startReq, VERIFIER, undefined, A, (err, h) => (err ? reject(err) : resolve(h!))));
      const [cookie] = jar.take(startReq.res);
      const raw = Buffer.from(cookie!.value, 'base64url');
      const rewritten = Buffer.concat([raw.subarray(0, 2), Buffer.from(B.binding!), raw.subarray(2 + raw[1]!)]).toString('base64url');
      jar.cookies.set(cookie!.name, rewritten);
      expect(hintOf(await verifyWith(store, request(jar), handle, B), XFailureCode.CALLBACK_UNKNOWN)).to.match(/failed decryption/);
    });
  });

  it('has the arities passport-oauth1 and passport-oauth2 dispatch on', () => {
    const store = new EncryptedCookieStateStore({ secret: SECRET });
    // passport-oauth1: get/4 (with meta: the strategy binding), set/6 (with app state), destroy/3;
    // passport-oauth2: store/5 (with PKCE verifier), verify/4 (with meta: the strategy binding);
    // passport-x's strategies: drop/4 (with meta: the strategy binding).
    expect([store.get.length, store.set.length, store.destroy.length, store.store.length, store.verify.length, store.drop.length]).to.deep.equal([4, 6, 3, 5, 4, 4]);
  });

  it(`keeps at most ${MAX_PENDING_COOKIES} pending sign-ins in one browser, clearing the oldest first`, async () => {
    let now = 1_000_000;
    const store = new EncryptedCookieStateStore({ secret: SECRET, now: () => now });
    const jar = new Jar();
    const tokens = Array.from({ length: MAX_PENDING_COOKIES + 2 }, (_, i) => `token-${i}`);
    for (const token of tokens) {
      now += 1000;
      const req = request(jar);
      expect(await set(store, req, token)).to.equal(null);
      jar.take(req.res);
      expect(jar.cookies.size).to.be.at.most(MAX_PENDING_COOKIES);
    }
    // The two oldest are gone; the newest five still work.
    for (const [i, token] of tokens.entries()) {
      const loaded = await get(store, request(jar), token);
      expect(loaded.value, token).to.equal(i < 2 ? false : TOKEN_SECRET);
    }
  });

  it('counts and clears only its own cookies (prefix and 16 hex digits), never the app\'s that share a short prefix', async () => {
    const store = new EncryptedCookieStateStore({ secret: SECRET, cookieName: 'auth' });
    const jar = new Jar();
    // The app's session cookie, and a lookalike with the prefix, both older than any sign-in.
    jar.cookies.set('auth_session', 's%3Athe-apps-session');
    jar.cookies.set('auth0123456789abcdeZ', 'not-ours-either');
    const tokens = Array.from({ length: MAX_PENDING_COOKIES + 1 }, (_, i) => `token-${i}`);
    for (const token of tokens) {
      const req = request(jar);
      expect(await set(store, req, token)).to.equal(null);
      const cleared = jar.take(req.res).filter((c) => c.attributes['max-age'] === '0').map((c) => c.name);
      expect(cleared).to.not.include('auth_session').and.not.include('auth0123456789abcdeZ');
    }
    expect(jar.cookies.get('auth_session')).to.equal('s%3Athe-apps-session');
    expect(jar.cookies.get('auth0123456789abcdeZ')).to.equal('not-ours-either');
    expect([...jar.cookies.keys()].filter((n) => /^auth[0-9a-f]{16}$/.test(n))).to.have.length(MAX_PENDING_COOKIES);
  });

  it(`keeps its cookies within ${MAX_PENDING_COOKIE_BYTES} bytes of the Cookie header together: a large app state leaves room for fewer sign-ins`, async () => {
    let now = 1_000_000;
    const store = new EncryptedCookieStateStore({ secret: SECRET, now: () => now });
    const jar = new Jar();
    const bytes = (): number => [...jar.cookies].reduce((n, [name, value]) => n + name.length + 1 + value.length + 2, 0);
    const big = { returnTo: `/${'p'.repeat(1000)}` };
    const handles: string[] = [];
    for (let i = 0; i < 4; i++) {
      now += 1000;
      const start = request(jar);
      const { err, handle } = await storeState(store, start, big);
      expect(err).to.equal(null);
      handles.push(handle!);
      jar.take(start.res);
      expect(bytes(), `after sign-in ${i + 1}`).to.be.at.most(MAX_PENDING_COOKIE_BYTES);
    }
    // Each cookie is about 1.5 KB: only the newest two fit, and the newest still works.
    expect(jar.cookies.size).to.equal(2);
    expect((await verify(store, request(jar), handles[3]!)).value).to.equal(VERIFIER);
    expect((await verify(store, request(jar), handles[0]!)).value).to.equal(false);
  });

  it('opens at most 20 of a hostile Cookie header\'s many lookalike cookies when making room, and still keeps the newest sign-ins', async () => {
    let now = 1_000_000;
    const store = new EncryptedCookieStateStore({ secret: SECRET, now: () => now });
    // 300 of our own, genuine cookies (started in separate browsers, then put in one header).
    const many = new Jar();
    for (let i = 0; i < 300; i++) {
      now += 1;
      const jar = new Jar();
      const cookie = await started(store, jar, `token-${i}`);
      many.cookies.set(cookie.name, cookie.value);
    }
    const opened: string[] = [];
    const open = (store as unknown as { open: (...args: unknown[]) => unknown }).open;
    (store as unknown as { open: (...args: unknown[]) => unknown }).open = function (this: unknown, ...args: unknown[]) {
      opened.push(String(args[1]));
      return open.apply(this, args);
    };
    now += 1;
    const req = request(many);
    expect(await set(store, req, 'newest')).to.equal(null);
    many.take(req.res);
    expect(opened).to.have.length(20);
    expect(many.cookies.size).to.equal(MAX_PENDING_COOKIES);
    expect((await get(store, request(many), 'newest')).value).to.equal(TOKEN_SECRET);
  });

  it('keeps two sign-ins started in two tabs apart, for both protocols', async () => {
    const store = new EncryptedCookieStateStore({ secret: SECRET });
    const jar = new Jar();
    await started(store, jar, 'tab-1-token');
    const second = request(jar);
    await set(store, second, 'tab-2-token', 'second-secret');
    jar.take(second.res);
    const third = request(jar);
    const { handle } = await storeState(store, third, 'tab-3');
    jar.take(third.res);
    expect(jar.cookies.size).to.equal(3);

    const r2 = request(jar);
    expect((await get(store, r2, 'tab-2-token')).value).to.equal('second-secret');
    jar.take(r2.res);
    const r3 = request(jar);
    expect(await verify(store, r3, handle!)).to.deep.equal({ err: null, value: VERIFIER, info: 'tab-3' });
    jar.take(r3.res);
    const r1 = request(jar);
    expect((await get(store, r1, 'tab-1-token')).value).to.equal(TOKEN_SECRET);
    jar.take(r1.res);
    expect(jar.cookies.size).to.equal(0);
  });

  describe('rejects cookies it cannot trust', () => {
    for (const [part, index] of [
      ['the version byte', 0],
      ['the IV', 5],
      ['the ciphertext', 20],
      ['the authentication tag', -3],
    ] as const) {
      it(`fails when a byte of ${part} was changed, and clears the cookie`, async () => {
        const store = new EncryptedCookieStateStore({ secret: SECRET });
        const jar = new Jar();
        const cookie = await started(store, jar, 'tok');
        jar.cookies.set(cookie.name, flipByte(cookie.value, index));
        const callback = request(jar);
        const message = hintOf(await get(store, callback, 'tok'), XFailureCode.CALLBACK_UNKNOWN);
        expect(message).to.match(/failed decryption: it was modified/);
        expectNoSecrets(message, cookie.value);
        expect(jar.take(callback.res)).to.deep.equal([{ name: cookie.name, value: '', attributes: { 'max-age': '0', path: '/', httponly: true, samesite: 'Lax' } }]);
      });
    }

    it('fails a cookie that is not even base64url', async () => {
      const store = new EncryptedCookieStateStore({ secret: SECRET });
      const jar = new Jar();
      const cookie = await started(store, jar, 'tok');
      jar.cookies.set(cookie.name, 'not*base64');
      expect(hintOf(await get(store, request(jar), 'tok'), XFailureCode.CALLBACK_UNKNOWN)).to.match(/failed decryption/);
    });

    it('fails a cookie copied under the name of another sign-in', async () => {
      const store = new EncryptedCookieStateStore({ secret: SECRET });
      const jar = new Jar();
      const a = await started(store, jar, 'token-a');
      const b = await started(store, jar, 'token-b');
      jar.cookies.set(b.name, a.value);
      const message = hintOf(await get(store, request(jar), 'token-b'), XFailureCode.CALLBACK_UNKNOWN);
      expect(message).to.match(/failed decryption: it was modified, copied from another sign-in/);
      // token-a's own cookie still works
      expect((await get(store, request(jar), 'token-a')).value).to.equal(TOKEN_SECRET);
    });

    it('fails a cookie made by an app with another secret, saying the secret is not this app\'s', async () => {
      const ours = new EncryptedCookieStateStore({ secret: SECRET });
      const theirs = new EncryptedCookieStateStore({ secret: OTHER_APP_SECRET });
      const jar = new Jar();
      await started(theirs, jar, 'tok');
      const message = hintOf(await get(ours, request(jar), 'tok'), XFailureCode.CALLBACK_UNKNOWN);
      expect(message).to.match(/none was made with this app's secret/);
      expect(message).to.match(/secret: \[current, previous\]/);
      expectNoSecrets(message, OTHER_APP_SECRET);
    });

    it('fails a cookie sealed with another secret under this sign-in\'s name', async () => {
      const store = new EncryptedCookieStateStore({ secret: SECRET });
      const jar = new Jar();
      const cookie = await started(store, jar, 'tok');
      jar.cookies.set(cookie.name, sealBySpec(OTHER_APP_SECRET, cookie.name, { handle: 'tok', kind: 'oauth1', exp: Date.now() + 60000, data: { tokenSecret: 'forged' } }));
      expect(hintOf(await get(store, request(jar), 'tok'), XFailureCode.CALLBACK_UNKNOWN)).to.match(/failed decryption/);
    });

    it('opens a cookie sealed exactly as documented (HKDF-SHA256, AES-256-GCM, name and binding as AAD)', async () => {
      const store = new EncryptedCookieStateStore({ secret: SECRET });
      const jar = new Jar();
      const cookie = await started(store, jar, 'tok');
      const binding = pendingBinding('oauth1', 'x-oauth1', 'ck', 'http://127.0.0.1/cb');
      jar.cookies.set(cookie.name, sealBySpec(SECRET, cookie.name, { handle: 'tok', kind: 'oauth1', exp: Date.now() + 60000, data: { tokenSecret: 'by-spec' } }, binding));
      expect((await getWith(store, request(jar), 'tok', { binding })).value).to.equal('by-spec');
    });

    it('still opens a cookie of the format before bindings (version 1), for the few minutes such a sign-in lives', async () => {
      const store = new EncryptedCookieStateStore({ secret: SECRET });
      const jar = new Jar();
      const cookie = await started(store, jar, 'tok');
      jar.cookies.set(cookie.name, sealBySpecV1(SECRET, cookie.name, { handle: 'tok', kind: 'oauth1', exp: Date.now() + 60000, data: { tokenSecret: 'v1' } }));
      expect((await getWith(store, request(jar), 'tok', { binding: 'any-strategy' })).value).to.equal('v1');
    });

    it('fails a genuine cookie whose sealed handle is not the callback\'s', async () => {
      const store = new EncryptedCookieStateStore({ secret: SECRET });
      const jar = new Jar();
      const cookie = await started(store, jar, 'tok');
      jar.cookies.set(cookie.name, sealBySpec(SECRET, cookie.name, { handle: 'another-token', kind: 'oauth1', exp: Date.now() + 60000, data: { tokenSecret: 's' } }));
      const message = hintOf(await get(store, request(jar), 'tok'), XFailureCode.CALLBACK_UNKNOWN);
      expect(message).to.match(/does not belong to this X callback's request token/);
      expectNoSecrets(message, 'another-token');
    });

    it('fails a genuine cookie whose content is not a pending sign-in', async () => {
      const store = new EncryptedCookieStateStore({ secret: SECRET });
      const jar = new Jar();
      const cookie = await started(store, jar, 'tok');
      jar.cookies.set(cookie.name, sealBySpec(SECRET, cookie.name, { handle: 'tok', kind: 'oauth1', exp: Date.now() + 60000, data: { tokenSecret: 42 } }));
      expect(hintOf(await get(store, request(jar), 'tok'), XFailureCode.CALLBACK_UNKNOWN)).to.match(/failed decryption/);
    });
  });

  describe('expiry', () => {
    it(`accepts a callback up to maxAgeMs (default ${DEFAULT_COOKIE_STATE_MAX_AGE_MS / 60000} minutes) after the start, and fails it after`, async () => {
      let now = 1_700_000_000_000;
      const store = new EncryptedCookieStateStore({ secret: SECRET, now: () => now });
      const jar = new Jar();
      await started(store, jar, 'young');
      const cookie = await started(store, jar, 'old');
      expect(cookie.attributes['max-age']).to.equal('600');

      now += DEFAULT_COOKIE_STATE_MAX_AGE_MS - 1;
      expect((await get(store, request(jar), 'young')).value).to.equal(TOKEN_SECRET);
      now += 1;
      const callback = request(jar);
      const message = hintOf(await get(store, callback, 'old'), XFailureCode.SIGN_IN_EXPIRED);
      expect(message).to.equal('This X sign-in was started more than 10 minutes ago and its cookie has expired. Sign in again.');
      expect(jar.take(callback.res)[0]!.attributes['max-age']).to.equal('0');
    });

    it('honours maxAgeMs, in the cookie and in the sealed expiry', async () => {
      let now = 5_000_000;
      const store = new EncryptedCookieStateStore({ secret: SECRET, maxAgeMs: 120_000, now: () => now });
      const jar = new Jar();
      const start = request(jar);
      const { handle } = await storeState(store, start);
      expect(jar.take(start.res)[0]!.attributes['max-age']).to.equal('120');
      now += 120_000;
      expect(hintOf(await verify(store, request(jar), handle!), XFailureCode.SIGN_IN_EXPIRED)).to.match(/more than 2 minutes ago/);
    });
  });

  describe('instances that disagree', () => {
    it('lets a cookie live this store\'s maxAgeMs at most, whatever the sealing store\'s was, and never blames the clock for it', async () => {
      let now = 1_700_000_000_000;
      const clock = () => now;
      // A deploy lowers maxAgeMs from 30 to 10 minutes: a sign-in started on an old instance ends on a new one.
      const old = new EncryptedCookieStateStore({ secret: SECRET, maxAgeMs: 30 * 60_000, now: clock });
      const current = new EncryptedCookieStateStore({ secret: SECRET, maxAgeMs: 10 * 60_000, now: clock });
      const jar = new Jar();
      await started(old, jar, 'soon');
      await started(old, jar, 'late');
      expect((await get(current, request(jar), 'soon')).value, 'at once').to.equal(TOKEN_SECRET);
      now += 10 * 60_000;
      // Past this store's 10 minutes (its replay claim's span), though the cookie says 30.
      expect(hintOf(await get(current, request(jar), 'late'), XFailureCode.SIGN_IN_EXPIRED)).to.match(/more than 10 minutes ago/);
    });

    it('refuses a cookie sealed more than MAX_CLOCK_SKEW_MS ahead of this clock, and accepts one up to it', async () => {
      let now = 1_700_000_000_000;
      const store = new EncryptedCookieStateStore({ secret: SECRET, now: () => now });
      const jar = new Jar();
      await started(store, jar, 'ahead');
      await started(store, jar, 'slightly');
      now -= MAX_CLOCK_SKEW_MS;
      expect((await get(store, request(jar), 'slightly')).value).to.equal(TOKEN_SECRET);
      now -= 1;
      expect(hintOf(await get(store, request(jar), 'ahead'), XFailureCode.SIGN_IN_EXPIRED)).to.match(/later than this server's clock/).and.match(/NTP/);
    });

    it('checks a cookie sealed before the issue time was sealed (no iat) against its expiry, within this store\'s life and a minute', async () => {
      let now = 1_700_000_000_000;
      const store = new EncryptedCookieStateStore({ secret: SECRET, now: () => now });
      const jar = new Jar();
      const cookie = await started(store, jar, 'tok');
      const binding = pendingBinding('oauth1', 'x-oauth1', 'ck', 'http://127.0.0.1/cb');
      const noIat = (exp: number, tokenSecret: string): string => sealBySpec(SECRET, cookie.name, { handle: 'tok', kind: 'oauth1', exp, data: { tokenSecret } }, binding);
      // In the format without `iat`, expiring within this store's 10 minutes and a minute: accepted.
      jar.cookies.set(cookie.name, noIat(now + 11 * 60_000, 'no-iat'));
      expect((await getWith(store, request(jar), 'tok', { binding })).value).to.equal('no-iat');
      // Expiring later (sealed by a store with a longer maxAgeMs): accepted, it could be used again after
      // its first use's claim (11 minutes) has lapsed, while its expiry still holds.
      jar.cookies.set(cookie.name, noIat(now + 30 * 60_000, 'too-long'));
      expect(hintOf(await getWith(store, request(jar), 'tok', { binding }), XFailureCode.SIGN_IN_EXPIRED)).to.match(/carries no issue time/).and.match(/more than 10 minutes/);
      // The same cookie 19 minutes on (11 minutes before its expiry) is accepted: the window it is accepted in is no longer than a claim.
      now += 19 * 60_000;
      expect((await getWith(store, request(jar), 'tok', { binding })).value).to.equal('too-long');
      now += 11 * 60_000;
      expect(hintOf(await getWith(store, request(jar), 'tok', { binding }), XFailureCode.SIGN_IN_EXPIRED)).to.match(/more than 10 minutes ago/);
      jar.cookies.set(cookie.name, sealBySpec(SECRET, cookie.name, { handle: 'tok', kind: 'oauth1', exp: Date.now() + 60_000, iat: 'yesterday', data: { tokenSecret: 'bad-iat' } }, binding));
      expect(hintOf(await getWith(store, request(jar), 'tok', { binding }), XFailureCode.CALLBACK_UNKNOWN), 'an iat that is not a number').to.match(/failed decryption/);
    });
  });

  describe('secret rotation', () => {
    it('opens cookies sealed with the previous secret while it is listed second, and seals new ones with the first', async () => {
      const before = new EncryptedCookieStateStore({ secret: OLD_SECRET });
      const rotating = new EncryptedCookieStateStore({ secret: [SECRET, OLD_SECRET] });
      const after = new EncryptedCookieStateStore({ secret: SECRET });
      const jar = new Jar();
      await started(before, jar, 'started-before');
      const r = request(jar);
      expect((await get(rotating, r, 'started-before')).value).to.equal(TOKEN_SECRET);
      expect(jar.take(r.res)[0]!.attributes['max-age']).to.equal('0');

      await started(rotating, jar, 'started-during');
      expect((await get(after, request(jar), 'started-during')).value).to.equal(TOKEN_SECRET);
    });

    it('rejects cookies of the previous secret once it is removed', async () => {
      const before = new EncryptedCookieStateStore({ secret: OLD_SECRET });
      const after = new EncryptedCookieStateStore({ secret: [SECRET] });
      const jar = new Jar();
      await started(before, jar, 'tok');
      const message = hintOf(await get(after, request(jar), 'tok'), XFailureCode.CALLBACK_UNKNOWN);
      expect(message).to.match(/none was made with this app's secret: the secret was changed without keeping the old one/);
      expectNoSecrets(message);
    });

    it('says "no cookie for this sign-in" rather than "foreign" when the other cookies are this app\'s', async () => {
      const store = new EncryptedCookieStateStore({ secret: [SECRET, OLD_SECRET] });
      const jar = new Jar();
      await started(new EncryptedCookieStateStore({ secret: OLD_SECRET }), jar, 'other-sign-in');
      expect(hintOf(await get(store, request(jar), 'tok'), XFailureCode.NO_PENDING_SIGN_IN)).to.match(/found no sign-in cookie/);
    });
  });

  describe('cookie attributes', () => {
    async function attributesFor(options: Partial<EncryptedCookieStateStoreOptions>, extra: Partial<XAuthRequest> = {}): Promise<Cookie> {
      const store = new EncryptedCookieStateStore({ secret: SECRET, ...options });
      const req = request(undefined, extra);
      expect(await set(store, req, 'tok')).to.equal(null);
      const cookies = setCookiesOf(req.res);
      expect(cookies).to.have.length(1);
      return cookies[0]!;
    }

    it('sets HttpOnly, SameSite=Lax, Path=/ and Max-Age, and no Secure on plain http', async () => {
      const c = await attributesFor({});
      expect(c.attributes).to.deep.equal({ 'max-age': '600', path: '/', httponly: true, samesite: 'Lax' });
    });

    it('sets Secure when the request came over https (req.secure, as Express sets it)', async () => {
      expect((await attributesFor({}, { secure: true })).attributes.secure).to.equal(true);
      expect((await attributesFor({}, { secure: false })).attributes).to.not.have.property('secure');
    });

    it('sets Secure from Koa\'s ctx.secure and from Fastify\'s request.protocol', async () => {
      expect((await attributesFor({}, { ctx: { secure: true } })).attributes.secure).to.equal(true);
      expect((await attributesFor({}, { protocol: 'https' })).attributes.secure).to.equal(true);
      expect((await attributesFor({}, { protocol: 'http' })).attributes).to.not.have.property('secure');
    });

    it('trusts X-Forwarded-Proto only with proxy: true', async () => {
      const headers = { 'x-forwarded-proto': 'https, http' };
      expect((await attributesFor({ proxy: true }, { headers, secure: false })).attributes.secure).to.equal(true);
      expect((await attributesFor({}, { headers, secure: false })).attributes).to.not.have.property('secure');
      expect((await attributesFor({ proxy: true }, { headers: { 'x-forwarded-proto': 'http' }, secure: true })).attributes).to.not.have.property('secure');
    });

    it('follows an explicit secure option whatever the request', async () => {
      expect((await attributesFor({ secure: true }, { secure: false })).attributes.secure).to.equal(true);
      expect((await attributesFor({ secure: false }, { secure: true })).attributes).to.not.have.property('secure');
    });

    it('uses the configured prefix and path, and forces Secure for __Host- names', async () => {
      const c = await attributesFor({ cookieName: '__Host-xs_' });
      expect(c.name).to.match(/^__Host-xs_[0-9a-f]{16}$/);
      expect(c.attributes).to.deep.include({ secure: true, path: '/' });
      expect((await attributesFor({ path: '/auth' })).attributes.path).to.equal('/auth');
    });

    it('supports SameSite=None with Secure', async () => {
      expect((await attributesFor({ sameSite: 'none', secure: true })).attributes).to.deep.include({ samesite: 'None', secure: true });
      // A __Host- or __Secure- name forces Secure: SameSite=None needs no `secure: true` written out.
      expect((await attributesFor({ sameSite: 'none', cookieName: '__Secure-x_' }, { secure: false })).attributes).to.deep.include({ samesite: 'None', secure: true });
    });

    it('knows the cookie prefixes in any case, as browsers do (RFC 6265bis): __host- forces Secure and Path=/', async () => {
      expect((await attributesFor({ cookieName: '__host-xs_' }, { secure: false })).attributes).to.deep.include({ secure: true, path: '/' });
      expect((await attributesFor({ cookieName: '__SECURE-xs_' }, { secure: false })).attributes.secure).to.equal(true);
      expect(() => new EncryptedCookieStateStore({ secret: SECRET, cookieName: '__host-x_', path: '/auth' })).to.throw(TypeError, /needs `path: '\/'`/);
      expect(() => new EncryptedCookieStateStore({ secret: SECRET, cookieName: '__HOST-x_', secure: false })).to.throw(TypeError, /needs Secure cookies/);
    });

    it('clears the cookie with the same attributes it was set with', async () => {
      const store = new EncryptedCookieStateStore({ secret: SECRET, path: '/auth', proxy: true });
      const jar = new Jar();
      const start = request(jar, { headers: { 'x-forwarded-proto': 'https' } });
      await set(store, start, 'tok');
      jar.take(start.res);
      const callback = request(jar);
      callback.headers['x-forwarded-proto'] = 'https';
      await get(store, callback, 'tok');
      expect(setCookiesOf(callback.res)[0]!.attributes).to.deep.equal({ 'max-age': '0', path: '/auth', httponly: true, samesite: 'Lax', secure: true });
    });
  });

  describe('where it sets cookies', () => {
    it('appends to the Set-Cookie headers already on a Node/Express response', async () => {
      const store = new EncryptedCookieStateStore({ secret: SECRET });
      const req = request(undefined);
      req.res.setHeader('Set-Cookie', 'app=1');
      await set(store, req, 'tok');
      expect(setCookiesOf(req.res).map((c) => c.name)).to.have.length(2).and.include('app');
    });

    it('uses Koa\'s ctx.append when koa-passport put ctx on the request', async () => {
      const store = new EncryptedCookieStateStore({ secret: SECRET });
      const appended: Array<[string, string]> = [];
      const ctx = { append: (field: string, value: string) => appended.push([field, value]), secure: false, headerSent: false };
      // A complete Node response beside ctx (koa-passport's req.res is ctx.res): ctx must win over it.
      const res = { getHeader: () => undefined, setHeader: () => expect.fail('koa-passport\'s res.setHeader replaces headers'), appendHeader: () => expect.fail('ctx.append, not res') };
      expect(await set(store, { headers: {}, ctx, res }, 'tok')).to.equal(null);
      expect(appended).to.have.length(1);
      expect(appended[0]![0]).to.equal('Set-Cookie');
      const jar = parseSetCookie(appended[0]![1]);
      expect((await get(store, { headers: { cookie: `${jar.name}=${jar.value}` }, ctx }, 'tok')).value).to.equal(TOKEN_SECRET);
      expect(parseSetCookie(appended[1]![1]).attributes['max-age']).to.equal('0');
    });

    it('uses a Fastify reply exposed as request.reply', async () => {
      const store = new EncryptedCookieStateStore({ secret: SECRET });
      const headers: Array<[string, string]> = [];
      const reply = { header: (k: string, v: string) => headers.push([k, v]), sent: false };
      expect(await set(store, { headers: {}, raw: {}, reply }, 'tok')).to.equal(null);
      expect(headers).to.have.length(1);
      expect(headers[0]![0]).to.equal('set-cookie');
    });

    it('fails with a typed error naming what to add when no response is reachable', async () => {
      const store = new EncryptedCookieStateStore({ secret: SECRET });
      const err = await set(store, { headers: {} }, 'tok');
      expect(err).to.be.instanceOf(XSessionError);
      expect(err!.message).to.match(/no `res` \(Express sets it\), no `ctx` \(koa-passport sets it\) and no `reply`/);
      expect(err!.message).to.match(/fastify\.addHook\('onRequest'/);
      // the callback needs it too, to clear the cookie
      const jar = new Jar();
      await started(store, jar, 'tok');
      const loaded = await get(store, { headers: { cookie: jar.header() } }, 'tok');
      expect(loaded.err).to.be.instanceOf(XSessionError);
    });

    it('fails with a typed error when the response headers were already sent', async () => {
      const store = new EncryptedCookieStateStore({ secret: SECRET });
      const req = request(undefined);
      req.res.writeHead(200);
      const err = await set(store, req, 'tok');
      expect(err).to.be.instanceOf(XSessionError);
      expect(err!.message).to.match(/headers were already sent/);
      // Koa's ctx.headerSent and Fastify's reply.sent say the same.
      const ctx = { append: () => expect.fail('appended after the headers were sent'), headerSent: true };
      expect(await set(store, { headers: {}, ctx }, 'tok')).to.be.instanceOf(XSessionError).with.property('message').that.matches(/headers were already sent/);
      const reply = { header: () => expect.fail('set after the reply was sent'), sent: true };
      expect(await set(store, { headers: {}, raw: {}, reply }, 'tok')).to.be.instanceOf(XSessionError).with.property('message').that.matches(/headers were already sent/);
    });

    it('reads only its own cookies among the others in the Cookie header', async () => {
      const store = new EncryptedCookieStateStore({ secret: SECRET });
      const jar = new Jar();
      const cookie = await started(store, jar, 'tok');
      const header = `sid=abc; theme="dark"; ${cookie.name}=${cookie.value}; junk; =x`;
      expect((await get(store, request(header), 'tok')).value).to.equal(TOKEN_SECRET);
    });
  });

  describe('options', () => {
    const bad: Array<[string, unknown, RegExp]> = [
      ['no options', undefined, /requires an options object with a `secret`/],
      ['no secret', {}, /requires the `secret` option: a random string of at least 32 characters/],
      ['a short secret', { secret: 'short' }, /`secret` must be a string of at least 32 characters \(got 5 characters\)/],
      ['an empty rotation list', { secret: [] }, /requires the `secret` option/],
      ['a short previous secret', { secret: [SECRET, 'old'] }, /`secret\[1\]` must be a string of at least 32 characters/],
      ['a non-string secret', { secret: [SECRET, 42] }, /`secret\[1\]`.*got number/],
      ['a cookie name with a space', { secret: SECRET, cookieName: 'x auth' }, /`cookieName` must be a non-empty cookie-name token/],
      ['an empty cookie name', { secret: SECRET, cookieName: '' }, /`cookieName`/],
      ['a zero maxAgeMs', { secret: SECRET, maxAgeMs: 0 }, /`maxAgeMs` must be a number of milliseconds from 1000 to 3600000/],
      ['a day-long maxAgeMs', { secret: SECRET, maxAgeMs: 86_400_000 }, /`maxAgeMs`/],
      ['SameSite=Strict', { secret: SECRET, sameSite: 'strict' }, /'strict' cannot work: browsers do not send Strict cookies on X's redirect back/],
      ['SameSite=None without Secure', { secret: SECRET, sameSite: 'none' }, /`sameSite: 'none'` needs `secure: true`/],
      ['__Host- without Secure', { secret: SECRET, cookieName: '__Host-x_', secure: false }, /needs Secure cookies/],
      ['__Host- with a path', { secret: SECRET, cookieName: '__Host-x_', path: '/auth' }, /needs `path: '\/'`/],
      ['a relative path', { secret: SECRET, path: 'auth' }, /`path` must start with `\/`/],
      ['a path with a semicolon', { secret: SECRET, path: '/a;Domain=evil' }, /`path`/],
      ['a non-boolean secure', { secret: SECRET, secure: 'yes' }, /`secure` must be true, false, or left out/],
      ['a non-function clock', { secret: SECRET, now: 5 }, /`now` must be a function/],
    ];
    for (const [what, options, message] of bad) {
      it(`refuses ${what} with a TypeError that says what to pass`, () => {
        expect(() => new EncryptedCookieStateStore(options as EncryptedCookieStateStoreOptions)).to.throw(TypeError, message);
      });
    }

    it('never puts the secret into an option error', () => {
      const secret = 'x'.repeat(31);
      expect(() => new EncryptedCookieStateStore({ secret })).to.throw(TypeError).with.property('message').that.does.not.include(secret);
    });

    it('does not mutate its options', () => {
      const options = Object.freeze({ secret: Object.freeze([SECRET, OLD_SECRET]) as readonly string[], cookieName: '__Host-x_' });
      expect(() => new EncryptedCookieStateStore(options)).to.not.throw();
      expect(options).to.deep.equal({ secret: [SECRET, OLD_SECRET], cookieName: '__Host-x_' });
    });
  });
});
