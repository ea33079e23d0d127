/**
 * A pending-authorization store that needs no server-side state: each started sign-in lives
 * in its own encrypted, authenticated, short-lived cookie. For apps without server sessions
 * (`session: false`, APIs that issue their own JWT) and for several app instances without a
 * shared session store.
 *
 * One instance serves both strategies: it has passport-oauth1's request-token store methods
 * (`get`, `set`, `destroy`) and passport-oauth2's PKCE state store methods (`store`, `verify`),
 * plus `drop` for a sign-in the user cancelled on X.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { XSessionError } from '../errors';
import { XFailureCode, failureOf, type XFailureCodeValue, type XFailureInfo } from '../failure';
import { frameworkSaysSecure, type XAuthRequest } from '../request';
import { createState } from '../pkce';
import { MAX_CLOCK_SKEW_MS, bindingAccepts, bindingOf, futureMissMessage, safeEqual, metaAndCallback, type PendingDropped } from './pending';
import type { PkceStateStored, PkceStateVerified, XPkceStateMeta, XPkceStateStore } from './pkce-session';
import type { RequestTokenLoaded, XRequestTokenStore } from './request-token-session';

/** Default prefix of the cookie names; the rest of each name is derived from the sign-in's handle. */
export const DEFAULT_COOKIE_STATE_PREFIX = '__xauth_';

/** Default lifetime of a pending sign-in's cookie: 10 minutes. */
export const DEFAULT_COOKIE_STATE_MAX_AGE_MS = 10 * 60 * 1000;

/** Shortest accepted secret, in characters: 32 random characters (e.g. base64) carry at least 192 bits, beyond guessing. */
export const MIN_COOKIE_SECRET_LENGTH = 32;

// A pending sign-in should not outlive the few minutes a user spends on X's consent page.
const MAX_MAX_AGE_MS = 60 * 60 * 1000;
// RFC 6265 section 6.1: browsers keep at least 4096 bytes per cookie (name, value and attributes).
const MAX_SET_COOKIE_BYTES = 4096;
// How many of our prefixed cookies one callback tries to open when diagnosing a miss.
const MAX_COOKIES_EXAMINED = 20;

/** How many pending sign-ins (cookies) one browser keeps at most, as the session stores do. */
export const MAX_PENDING_COOKIES = 5;
/**
 * How many bytes of the Cookie header this store's cookies take at most, all together (each
 * `name=value; `): the oldest are cleared to stay within it. Five sign-ins with a short app `state`
 * take about 2 KB; a large `state` leaves room for fewer. Proxies refuse a request whose Cookie
 * header passes 8 KB (nginx), Node 16 KB for all headers (431): the app's own cookies need the rest.
 */
export const MAX_PENDING_COOKIE_BYTES = 4096;
// Version 2: `0x02 || binding length || binding || iv || ciphertext || tag`, the binding (the
// strategy's name, client and redirect URI, hashed: not secret) in the clear and in the AAD.
// Version 1 (`0x01 || iv || ciphertext || tag`, AAD the name alone) is still opened, unbound.
const FORMAT_VERSION = 2;
const LEGACY_FORMAT_VERSION = 1;
const MAX_BINDING_BYTES = 64;
const IV_BYTES = 12; // NIST SP 800-38D section 8.2: 96-bit IVs for GCM
const TAG_BYTES = 16;
const HKDF_SALT = 'passport-x';
const HKDF_INFO_ENCRYPTION = 'cookie-state v1';
const HKDF_INFO_COOKIE_NAME = 'cookie-state v1 cookie-name';
// RFC 6265 section 4.1.1: a cookie name is an RFC 7230 token.
const COOKIE_NAME_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
// A cookie's name: the prefix, then the first 16 hex digits of HMAC(name key, handle).
const COOKIE_NAME_HEX_DIGITS = 16;
const HEX_16 = /^[0-9a-f]{16}$/;

/** Options of {@link EncryptedCookieStateStore}. */
export interface EncryptedCookieStateStoreOptions {
  /**
   * The secret the cookie keys derive from (HKDF-SHA256): a random string of at least 32
   * characters, or `[current, ...previous]` to rotate: new cookies use the first, cookies of
   * sign-ins started before the rotation still open with the others. Required.
   */
  secret: string | readonly string[];
  /** Prefix of the cookie names (default `'__xauth_'`); `'__Host-xauth_'` makes browsers enforce Secure, Path=/ and no Domain. */
  cookieName?: string | undefined;
  /** How long a started sign-in stays valid, in ms (default 10 minutes, at most 1 hour). */
  maxAgeMs?: number | undefined;
  /** Mark the cookies `Secure`. Default: when the request came over https (see `proxy`). */
  secure?: boolean | undefined;
  /** Trust `X-Forwarded-Proto` to tell whether the request came over https (behind a TLS-terminating proxy). Default false. */
  proxy?: boolean | undefined;
  /** Cookie `Path` (default `'/'`). It must cover both the sign-in route and the callback route. */
  path?: string | undefined;
  /** Cookie `SameSite`: `'lax'` (default) or `'none'` (needs `secure: true`). `'strict'` is refused: the browser would not send the cookie on X's redirect back. */
  sameSite?: 'lax' | 'none' | undefined;
  /** Clock, ms since the epoch (tests). */
  now?: (() => number) | undefined;
}

type Kind = 'oauth1' | 'oauth2';

/** What the cookie carries (encrypted), and the binding it was sealed with. */
interface CookiePayload {
  /** The strategy binding authenticated with the cookie (version 2), `undefined` for a version 1 cookie. */
  binding?: string | undefined;
  /** The request token (OAuth 1.0a) or the `state` value (OAuth 2.0). */
  handle: string;
  kind: Kind;
  /** Expiry, ms since the epoch: when sealed, plus the sealing store's `maxAgeMs`. */
  exp: number;
  /**
   * When it was sealed, ms since the epoch, on the sealing instance's clock. Absent in cookies sealed
   * before it was added: those are checked against `exp` alone.
   */
  iat?: number;
  /** `{ tokenSecret }` or `{ verifier, state? }`. */
  data: Record<string, unknown>;
}

interface CookieKeys {
  encryption: Buffer;
  cookieName: Buffer;
}

type Miss = 'none' | 'foreign' | 'tampered' | 'expired' | 'future' | 'outlives' | 'mismatch' | 'other-strategy' | 'no-handle';

/** Where Set-Cookie headers go: the response object a framework makes reachable from `req`. */
interface CookieSink {
  append(setCookie: string): void;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** A request header as a string (a repeated one joined), or undefined: a value that is no string (an adapter's own `headers`) counts as none. */
function headerValue(req: XAuthRequest, name: string): string | undefined {
  const value = (req.headers as Record<string, unknown> | undefined)?.[name];
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) return undefined;
  const strings = value.filter((v): v is string => typeof v === 'string');
  return strings.length > 0 ? strings.join('; ') : undefined;
}

/**
 * Finds the response behind `req`: Koa's context (koa-passport sets `req.ctx`), a Fastify
 * reply put on `req.reply` by an `onRequest` hook, or Node's `ServerResponse` (Express sets `req.res`).
 */
function cookieSink(req: XAuthRequest): CookieSink {
  const ctx = req.ctx;
  if (isObject(ctx) && typeof ctx.append === 'function') {
    return {
      append(setCookie) {
        if (ctx.headerSent === true) throw headersSentError();
        (ctx.append as (field: string, value: string) => void)('Set-Cookie', setCookie);
      },
    };
  }
  const reply = req.reply;
  if (isObject(reply) && typeof reply.header === 'function') {
    return {
      append(setCookie) {
        if (reply.sent === true) throw headersSentError();
        // Fastify's reply.header appends to an existing set-cookie instead of replacing it.
        (reply.header as (key: string, value: string) => void)('set-cookie', setCookie);
      },
    };
  }
  const res = req.res;
  if (isObject(res) && typeof res.setHeader === 'function' && typeof res.getHeader === 'function') {
    return {
      append(setCookie) {
        if (res.headersSent === true) throw headersSentError();
        if (typeof res.appendHeader === 'function') {
          (res.appendHeader as (name: string, value: string) => void)('Set-Cookie', setCookie);
          return;
        }
        const prev = (res.getHeader as (name: string) => unknown)('Set-Cookie');
        const list = Array.isArray(prev) ? prev.map(String) : prev === undefined ? [] : [String(prev)];
        (res.setHeader as (name: string, value: string[]) => void)('Set-Cookie', [...list, setCookie]);
      },
    };
  }
  throw new XSessionError(
    'passport-x EncryptedCookieStateStore must set a cookie, but found no response to set it on: the request has no `res` (Express sets it), ' +
      'no `ctx` (koa-passport sets it) and no `reply`. Fastify: add `fastify.decorateRequest(\'reply\', null)` and ' +
      '`fastify.addHook(\'onRequest\', async (request, reply) => { request.reply = reply })` before @fastify/passport. ' +
      'Plain Node or connect: set `req.res = res` before passport.authenticate().',
  );
}

function headersSentError(): XSessionError {
  return new XSessionError(
    'passport-x EncryptedCookieStateStore could not set its cookie because the response headers were already sent. ' +
      'Call passport.authenticate() before anything writes the response.',
  );
}

/** Whether `name` is one this store makes: `prefix` and 16 lower-case hex digits, nothing else. */
function isStoreCookieName(name: string, prefix: string): boolean {
  return name.length === prefix.length + COOKIE_NAME_HEX_DIGITS && name.startsWith(prefix) && HEX_16.test(name.slice(prefix.length));
}

/**
 * The request's cookies this store makes (`prefix` and 16 hex digits; first occurrence wins, as
 * RFC 6265 section 5.4 orders the most specific first). Only these are ever counted or cleared: a
 * short prefix (`auth`) must not make the store clear the app's own `auth_session`.
 */
function prefixedCookies(req: XAuthRequest, prefix: string): Map<string, string> {
  const jar = new Map<string, string>();
  const header = headerValue(req, 'cookie');
  if (!header) return jar;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    if (!isStoreCookieName(name, prefix) || jar.has(name)) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    jar.set(name, value);
  }
  return jar;
}

/** What `name=value` adds to the Cookie header, with its `; ` separator. */
function cookiePairBytes(name: string, value: string): number {
  return name.length + 1 + value.length + 2;
}

function deriveKeys(secret: string): CookieKeys {
  // RFC 5869 HKDF: one key for AES-256-GCM, an independent one for naming cookies.
  const derive = (info: string): Buffer => Buffer.from(hkdfSync('sha256', secret, HKDF_SALT, info, 32));
  return { encryption: derive(HKDF_INFO_ENCRYPTION), cookieName: derive(HKDF_INFO_COOKIE_NAME) };
}

/** The AES-GCM additional data of a version 2 cookie: its name and the strategy binding. */
function additionalData(name: string, binding: string): Buffer {
  return Buffer.from(`${name}\n${binding}`, 'utf8');
}

function checkedSecrets(secret: unknown): string[] {
  const list = typeof secret === 'string' ? [secret] : Array.isArray(secret) ? (secret as unknown[]) : undefined;
  if (!list || list.length === 0) {
    throw new TypeError(
      `EncryptedCookieStateStore requires the \`secret\` option: a random string of at least ${MIN_COOKIE_SECRET_LENGTH} characters ` +
        '(e.g. `openssl rand -base64 48`), or `[current, previous]` while rotating.',
    );
  }
  list.forEach((s, i) => {
    if (typeof s !== 'string' || s.length < MIN_COOKIE_SECRET_LENGTH) {
      const which = typeof secret === 'string' ? '`secret`' : `\`secret[${i}]\``;
      throw new TypeError(
        `EncryptedCookieStateStore: ${which} must be a string of at least ${MIN_COOKIE_SECRET_LENGTH} characters ` +
          `(got ${typeof s === 'string' ? `${s.length} characters` : typeof s}); generate one with \`openssl rand -base64 48\`.`,
      );
    }
  });
  return list as string[];
}

function missMessage(miss: Miss, what: string, prefix: string, maxAgeMs: number): string {
  const minutes = Math.max(1, Math.round(maxAgeMs / 60000));
  switch (miss) {
    case 'none':
      return (
        `This X sign-in callback found no sign-in cookie (${prefix}...) for its ${what}, so it matches no sign-in started in this browser. ` +
        'Likely causes: the browser blocks cookies for this site; the sign-in started on another host than the callback URL (e.g. localhost and 127.0.0.1); ' +
        `the sign-in was started more than ${minutes} minutes ago and the browser deleted the expired cookie; ` +
        'the sign-in was started in another browser, or this callback was already used (the cookie is cleared on the first callback); ' +
        'or the cookie is marked Secure on plain http. Fix: allow cookies for this site, browse the app on the callback URL\'s host, ' +
        'set `secure` to match how the app is served, and make the cookie `path` cover both routes. Then sign in again.'
      );
    case 'foreign':
      return (
        'This X sign-in callback came with sign-in cookies, but none was made with this app\'s secret: the secret was changed without keeping ' +
        'the old one (rotate with `secret: [current, previous]`), another app on this host uses the same cookie prefix, ' +
        'or the cookie was forged. Sign in again.'
      );
    case 'tampered':
      return (
        `The sign-in cookie for this X callback failed decryption: it was modified, copied from another sign-in, or made with a secret this app no longer has ` +
        '(keep the previous secret in `secret: [current, previous]` until pending sign-ins have expired). Sign in again.'
      );
    case 'expired':
      return `This X sign-in was started more than ${minutes} minutes ago and its cookie has expired. Sign in again.`;
    case 'future':
      return futureMissMessage(what);
    case 'outlives':
      return (
        `This X sign-in's cookie was made by an earlier version of passport-x (it carries no issue time), and its expiry lies more than ${minutes} minutes ` +
        '(this store\'s maxAgeMs) and a minute ahead: accepted, it could outlive the replay claim that lets a callback reach X only once, so it was refused. ' +
        'Cookies made since carry their issue time. Sign in again.'
      );
    case 'mismatch':
      return `The sign-in cookie does not belong to this X callback's ${what} (a forged or mixed-up callback). Sign in again.`;
    case 'other-strategy':
      return (
        `This X sign-in callback's ${what} belongs to a sign-in started by another strategy sharing this store (another name, client or callback URL): ` +
        'each strategy must finish its own sign-ins on its own callback route. A forged or mixed-up callback, or two routes mounted with the wrong strategy. Sign in again.'
      );
    case 'no-handle':
      return `This X sign-in callback has no ${what} parameter, so it cannot be matched to a sign-in started in this browser. Sign in again.`;
  }
}

const MISS_CODES: Record<Miss, XFailureCodeValue> = {
  none: XFailureCode.NO_PENDING_SIGN_IN,
  foreign: XFailureCode.CALLBACK_UNKNOWN,
  tampered: XFailureCode.CALLBACK_UNKNOWN,
  expired: XFailureCode.SIGN_IN_EXPIRED,
  future: XFailureCode.SIGN_IN_EXPIRED,
  outlives: XFailureCode.SIGN_IN_EXPIRED,
  mismatch: XFailureCode.CALLBACK_UNKNOWN,
  'other-strategy': XFailureCode.CALLBACK_UNKNOWN,
  'no-handle': XFailureCode.CALLBACK_MALFORMED,
};

/** The failure of each miss: a short message for the person, {@link missMessage}'s diagnosis as the hint. */
function missInfo(miss: Miss, what: string, prefix: string, maxAgeMs: number): XFailureInfo {
  return failureOf(MISS_CODES[miss], missMessage(miss, what, prefix, maxAgeMs));
}

/** How long, in ms, the cookie each request's callback was accepted with stays acceptable anywhere, for the claim that guards it. */
const ACCEPTED_FOR = new WeakMap<object, number>();

/**
 * How long the cookie a callback was just accepted with stays acceptable on any instance, in ms
 * from its acceptance (on the accepting store's clock): until its `exp`, set by the instance that
 * sealed it (an instance may accept it for less, never for longer). The claim of that callback
 * must last that long, on whichever instance claims it: the claiming instance's own `maxAgeMs`
 * may be shorter than the sealing one's (instances configured apart, a deploy that raised it).
 * Undefined when `req`'s callback was not accepted by an `EncryptedCookieStateStore`. Internal.
 */
export function cookieAcceptedFor(req: object): number | undefined {
  return ACCEPTED_FOR.get(req);
}

/**
 * Keeps each pending sign-in (the OAuth 1.0a request token's secret, or the OAuth 2.0 `state`
 * and PKCE code verifier) in its own cookie, encrypted and authenticated with AES-256-GCM under
 * a key derived from `secret`, so no server-side state is needed: use it with
 * `session: false` and with app instances that share nothing but the secret.
 *
 * - Each sign-in gets its own cookie, named `<cookieName><16 hex digits of HMAC(key, handle)>`,
 *   so two tabs signing in at once both succeed.
 * - The cookie name and the strategy's binding (its name, client and redirect URI, hashed) are
 *   the encryption's additional authenticated data, and the handle is inside: a cookie renamed,
 *   copied to another sign-in, presented to another strategy sharing the store, or altered fails.
 * - It expires after `maxAgeMs` (default 10 minutes): `Max-Age` for the browser, and an
 *   expiry inside the ciphertext the callback checks.
 * - Every callback clears the cookie (`Max-Age=0`), whatever the outcome, but for a cookie sealed
 *   for another strategy sharing the store: that one is refused and left for its own callback.
 * - A start clears the oldest of the browser's sign-in cookies beyond five, or beyond 4 KB of the
 *   Cookie header together; only cookies named
 *   like the store's (`cookieName` and 16 hex digits) are counted or cleared.
 * - HttpOnly, SameSite=Lax (sent on X's top-level redirect back), Secure over https.
 * - Rotation: `secret: [current, previous]` seals with the first and opens with any.
 *
 * A failed check ends the sign-in with a Passport failure (`callback(null, false, info)`, an
 * `XFailureInfo`), as the session stores do: a short message for the person, and a hint saying
 * what happened and what to do, never a secret.
 * Unlike a session store it cannot revoke a cookie a thief copied before the callback: the
 * expiry bounds that, and X accepts each request token and authorization code only once.
 *
 * Express sets `req.res` and koa-passport sets `req.ctx`, which the store uses to set cookies.
 * With @fastify/passport, expose the reply: `fastify.decorateRequest('reply', null)` and
 * `fastify.addHook('onRequest', async (request, reply) => { request.reply = reply })`.
 *
 * @example
 * ```ts
 * const store = new EncryptedCookieStateStore({ secret: process.env.COOKIE_STATE_SECRET! });
 * passport.use(new XOAuth1Strategy({ consumerKey, consumerSecret, callbackURL, store }, verify));
 * passport.use(new XOAuth2PkceStrategy({ clientID, callbackURL, store }, verify2));
 * app.get('/auth/x/callback', passport.authenticate('x-oauth1', { session: false }), issueJwt);
 * ```
 */
export class EncryptedCookieStateStore implements XRequestTokenStore, XPkceStateStore {
  // A getter (set in the constructor), not a value: util.inspect shows a getter as [Getter] without
  // calling it, even with showHidden; a non-enumerable value it prints. (A #private field would not do:
  // passport-x and Passport call methods on Object.create() copies, which have no private fields.)
  declare private readonly keys: readonly CookieKeys[];
  private readonly prefix: string;
  private readonly maxAgeMs: number;
  private readonly secure: boolean | undefined;
  private readonly proxy: boolean;
  private readonly path: string;
  private readonly sameSite: 'Lax' | 'None';
  private readonly now: () => number;

  constructor(options: EncryptedCookieStateStoreOptions) {
    if (!isObject(options)) throw new TypeError('EncryptedCookieStateStore requires an options object with a `secret`.');
    const secrets = checkedSecrets(options.secret);
    const prefix = options.cookieName ?? DEFAULT_COOKIE_STATE_PREFIX;
    if (typeof prefix !== 'string' || !COOKIE_NAME_TOKEN.test(prefix)) {
      throw new TypeError('EncryptedCookieStateStore: `cookieName` must be a non-empty cookie-name token (letters, digits and !#$%&\'*+-.^_`|~; no spaces, `=` or `;`).');
    }
    const maxAgeMs = options.maxAgeMs ?? DEFAULT_COOKIE_STATE_MAX_AGE_MS;
    if (typeof maxAgeMs !== 'number' || !Number.isFinite(maxAgeMs) || maxAgeMs < 1000 || maxAgeMs > MAX_MAX_AGE_MS) {
      throw new TypeError('EncryptedCookieStateStore: `maxAgeMs` must be a number of milliseconds from 1000 to 3600000 (1 hour); the default is 600000 (10 minutes).');
    }
    if (options.secure !== undefined && typeof options.secure !== 'boolean') {
      throw new TypeError('EncryptedCookieStateStore: `secure` must be true, false, or left out (then Secure is set when the request came over https).');
    }
    const path = options.path ?? '/';
    // RFC 6265 section 4.1.1 path-value: no control characters and no ';' (nor spaces, here).
    if (typeof path !== 'string' || !/^\/[!-:<-~]*$/.test(path)) {
      throw new TypeError('EncryptedCookieStateStore: `path` must start with `/` and contain no `;`, spaces or control characters.');
    }
    const sameSite = options.sameSite ?? 'lax';
    if (sameSite !== 'lax' && sameSite !== 'none') {
      throw new TypeError(
        "EncryptedCookieStateStore: `sameSite` must be 'lax' (default) or 'none'. 'strict' cannot work: browsers do not send Strict cookies on X's redirect back to the callback.",
      );
    }
    // RFC 6265bis section 4.1.3: browsers match the prefixes case-insensitively (`__host-` too).
    const lowerPrefix = prefix.toLowerCase();
    const hostPrefix = lowerPrefix.startsWith('__host-');
    const securePrefix = hostPrefix || lowerPrefix.startsWith('__secure-');
    if (sameSite === 'none' && options.secure !== true && !(securePrefix && options.secure === undefined)) {
      throw new TypeError("EncryptedCookieStateStore: `sameSite: 'none'` needs `secure: true`; browsers reject SameSite=None cookies without Secure.");
    }
    if (securePrefix && options.secure === false) {
      throw new TypeError('EncryptedCookieStateStore: a `cookieName` starting with __Host- or __Secure- needs Secure cookies; remove `secure: false`.');
    }
    if (hostPrefix && path !== '/') {
      throw new TypeError("EncryptedCookieStateStore: a `cookieName` starting with __Host- needs `path: '/'` (RFC 6265bis cookie prefixes).");
    }
    if (options.now !== undefined && typeof options.now !== 'function') throw new TypeError('EncryptedCookieStateStore: `now` must be a function returning ms since the epoch.');

    // Non-enumerable: the keys stay out of util.inspect and JSON of the store and of any strategy holding it.
    const keys = secrets.map(deriveKeys);
    Object.defineProperty(this, 'keys', { get: () => keys, enumerable: false });
    this.prefix = prefix;
    this.maxAgeMs = maxAgeMs;
    this.secure = securePrefix ? true : options.secure;
    this.proxy = options.proxy === true;
    this.path = path;
    this.sameSite = sameSite === 'none' ? 'None' : 'Lax';
    this.now = options.now ?? (() => Date.now());
  }

  /** How long a pending sign-in (its cookie) lives, in ms: `maxAgeMs`. The strategies' replay claims last as long, and a minute more, for clocks that disagree. */
  get ttlMs(): number {
    return this.maxAgeMs;
  }

  // --- passport-oauth1's request-token store -------------------------------------------

  /**
   * Returns the secret of request token `token` from its cookie, and clears the cookie. With
   * `meta` (passport-oauth1 passes it to a 4-argument get), only a cookie sealed for the same
   * strategy (name, consumer key, callback URL) is accepted.
   */
  get(req: XAuthRequest, token: string, callback: RequestTokenLoaded): void;
  get(req: XAuthRequest, token: string, meta: object, callback: RequestTokenLoaded): void;
  get(req: XAuthRequest, token: string, metaOrCallback: object | RequestTokenLoaded, maybeCallback?: RequestTokenLoaded): void {
    const [meta, callback] = metaAndCallback(metaOrCallback, maybeCallback);
    this.take(req, token, 'oauth1', 'request token', bindingOf(meta, 'oauth1'), (err, data, info) => {
      if (err) return callback(err);
      if (!data) return callback(null, false, info);
      const secret = data.tokenSecret;
      if (typeof secret !== 'string') return callback(null, false, missInfo('tampered', 'request token', this.prefix, this.maxAgeMs));
      callback(null, secret, data.state);
    });
  }

  /** Seals the request token's secret into a cookie named after the token, bound to the strategy of `meta`. */
  set(req: XAuthRequest, token: string, tokenSecret: string, state: unknown, meta: object, callback: (err?: Error | null) => void): void {
    if (typeof token !== 'string' || token === '' || typeof tokenSecret !== 'string') {
      return callback(new TypeError('EncryptedCookieStateStore.set needs the request token and its secret as strings.'));
    }
    this.seal(req, token, 'oauth1', state === undefined ? { tokenSecret } : { tokenSecret, state }, bindingOf(meta, 'oauth1'), callback);
  }

  /** Nothing to do: `get` already cleared the cookie. */
  destroy(_req: XAuthRequest, _token: string, callback: (err?: Error | null) => void): void {
    callback(null);
  }

  /**
   * Clears the cookie of a sign-in the user cancelled on X (`?denied=` or `?error=access_denied&state=`),
   * and says whether it was one: a genuine cookie for this handle. With `meta` (both strategies pass
   * it), only a cookie sealed for the same strategy counts, and is cleared: another strategy's
   * sign-in sharing this store is left for its own callback, as the session stores do.
   */
  drop(req: XAuthRequest, handle: string, callback: PendingDropped): void;
  drop(req: XAuthRequest, handle: string, meta: object, callback: PendingDropped): void;
  drop(
    req: XAuthRequest,
    handle: string,
    metaOrCallback: object | PendingDropped,
    maybeCallback?: PendingDropped,
  ): void {
    const [meta, callback] = metaAndCallback(metaOrCallback, maybeCallback);
    let found = false;
    // Why nothing was found, when the store can tell: no cookie for this handle at all (the browser
    // deleted it once expired, or never sent it), or a genuine one past its life. Else the strategy's own refusal.
    let miss: Miss | undefined;
    let what = 'state or request token';
    try {
      if (typeof handle !== 'string' || handle === '') return callback(null, false);
      const jar = prefixedCookies(req, this.prefix);
      const sink = cookieSink(req);
      let named = false;
      for (const keys of this.keys) {
        const name = this.cookieName(keys, handle);
        const value = jar.get(name);
        if (value === undefined) continue;
        named = true;
        const payload = this.open(keys, name, value);
        // Not ours (tampered, another secret's, another handle's): nothing this sign-in started.
        if (!payload || !safeEqual(payload.handle, handle)) continue;
        if (!bindingAccepts(payload.binding, bindingOf(meta, payload.kind))) continue;
        sink.append(this.clearingCookie(name, req));
        // An expired sign-in is nothing pending: X's `?error=` text for it is not trusted.
        const life = this.lifeMiss(payload, this.now());
        if (life === undefined) found = true;
        else {
          miss ??= life;
          what = payload.kind === 'oauth2' ? 'state' : 'request token';
        }
      }
      if (!named) miss = 'none';
    } catch (err) {
      return callback(err as Error);
    }
    if (found || miss === undefined) return callback(null, found);
    callback(null, false, missInfo(miss, what, this.prefix, this.maxAgeMs));
  }

  // --- passport-oauth2's PKCE state store ----------------------------------------------

  /**
   * Generates the `state` (256 random bits, base64url), seals it with the PKCE `verifier` and
   * the app's state into a cookie, and returns it through `callback` for the authorization URL.
   */
  store(req: XAuthRequest, verifier: string, state: unknown, meta: XPkceStateMeta, callback: PkceStateStored): void {
    if (typeof verifier !== 'string' || verifier === '') {
      return callback(new TypeError('EncryptedCookieStateStore.store needs the PKCE code verifier; enable PKCE on the strategy.'));
    }
    const handle = createState();
    const data: Record<string, unknown> = { verifier };
    if (state !== undefined && state !== null) data.state = state;
    this.seal(req, handle, 'oauth2', data, bindingOf(meta, 'oauth2'), (err) => (err ? callback(err) : callback(null, handle)));
  }

  /**
   * Checks the callback's `state` against its cookie, clears the cookie, and returns the verifier
   * and the app's state. With `meta` (passport-oauth2 passes it to a 4-argument verify), only a
   * cookie sealed for the same strategy (name, client ID, redirect_uri) is accepted.
   */
  verify(req: XAuthRequest, providedState: string, callback: PkceStateVerified): void;
  verify(req: XAuthRequest, providedState: string, meta: XPkceStateMeta, callback: PkceStateVerified): void;
  verify(req: XAuthRequest, providedState: string, metaOrCallback: XPkceStateMeta | PkceStateVerified, maybeCallback?: PkceStateVerified): void {
    const [meta, callback] = metaAndCallback(metaOrCallback, maybeCallback);
    this.take(req, providedState, 'oauth2', 'state', bindingOf(meta, 'oauth2'), (err, data, info) => {
      if (err) return callback(err);
      if (!data) return callback(null, false, info);
      const verifier = data.verifier;
      if (typeof verifier !== 'string') return callback(null, false, missInfo('tampered', 'state', this.prefix, this.maxAgeMs));
      callback(null, verifier, data.state);
    });
  }

  // --- internals ------------------------------------------------------------------------

  private cookieName(keys: CookieKeys, handle: string): string {
    return this.prefix + createHmac('sha256', keys.cookieName).update(handle, 'utf8').digest('hex').slice(0, COOKIE_NAME_HEX_DIGITS);
  }

  private isSecure(req: XAuthRequest): boolean {
    if (this.secure !== undefined) return this.secure;
    if (this.proxy) {
      const forwarded = headerValue(req, 'x-forwarded-proto');
      if (forwarded) return forwarded.split(',')[0]!.trim().toLowerCase() === 'https';
    }
    const said = frameworkSaysSecure(req);
    if (said !== undefined) return said;
    const raw = req.raw;
    const socket = req.socket ?? (isObject(raw) ? raw.socket : undefined);
    return isObject(socket) && socket.encrypted === true;
  }

  private attributes(req: XAuthRequest, maxAgeSeconds: number): string {
    return `; Max-Age=${maxAgeSeconds}; Path=${this.path}; HttpOnly; SameSite=${this.sameSite}${this.isSecure(req) ? '; Secure' : ''}`;
  }

  private clearingCookie(name: string, req: XAuthRequest): string {
    return `${name}=${this.attributes(req, 0)}`;
  }

  private seal(req: XAuthRequest, handle: string, kind: Kind, data: Record<string, unknown>, binding: string | undefined, callback: (err?: Error | null) => void): void {
    let setCookie: string;
    let pairBytes: number;
    let sink: CookieSink;
    try {
      sink = cookieSink(req);
      const keys = this.keys[0]!;
      const name = this.cookieName(keys, handle);
      const now = this.now();
      const payload: CookiePayload = { handle, kind, exp: now + this.maxAgeMs, iat: now, data };
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', keys.encryption, iv, { authTagLength: TAG_BYTES });
      const bound = Buffer.from(binding ?? '', 'utf8');
      if (bound.length > MAX_BINDING_BYTES) throw new RangeError('EncryptedCookieStateStore: the strategy binding is too long.');
      // The name and the binding are authenticated with the content, so a cookie copied under another
      // name, or presented to another strategy (another name, client or redirect URI), fails.
      cipher.setAAD(additionalData(name, binding ?? ''));
      const ciphertext = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()]);
      const value = Buffer.concat([Buffer.from([FORMAT_VERSION, bound.length]), bound, iv, ciphertext, cipher.getAuthTag()]).toString('base64url');
      setCookie = `${name}=${value}${this.attributes(req, Math.ceil(this.maxAgeMs / 1000))}`;
      pairBytes = cookiePairBytes(name, value);
      if (Buffer.byteLength(setCookie) > MAX_SET_COOKIE_BYTES) {
        throw new RangeError(
          `EncryptedCookieStateStore: this sign-in's cookie would be ${Buffer.byteLength(setCookie)} bytes, more than the ${MAX_SET_COOKIE_BYTES} browsers keep. ` +
            'Pass a smaller `state` to passport.authenticate() (e.g. an ID or a short return path).',
        );
      }
    } catch (err) {
      return callback(err as Error);
    }
    try {
      for (const stale of this.oldestBeyondLimit(req, pairBytes)) sink.append(this.clearingCookie(stale, req));
      sink.append(setCookie);
    } catch (err) {
      return callback(err as Error);
    }
    callback(null);
  }

  /**
   * The names of this store's cookies to clear so that, with the one being set (`newPairBytes`
   * long in the Cookie header), at most MAX_PENDING_COOKIES remain and they take at most
   * MAX_PENDING_COOKIE_BYTES: unreadable ones first, then the oldest. Without a bound, a page that
   * opens the sign-in URL again and again, or with a large app `state`, would grow the Cookie
   * header until the site (or its proxy) answers every request with 431 or 400.
   */
  private oldestBeyondLimit(req: XAuthRequest, newPairBytes: number): string[] {
    const jar = prefixedCookies(req, this.prefix);
    let bytes = newPairBytes;
    for (const [name, value] of jar) bytes += cookiePairBytes(name, value);
    if (jar.size < MAX_PENDING_COOKIES && bytes <= MAX_PENDING_COOKIE_BYTES) return [];
    let examined = 0;
    const aged = [...jar].map(([name, value]) => {
      let exp = -Infinity;
      // Each try is an AES-GCM open per key: a Cookie header of hundreds of well-formed names costs
      // MAX_COOKIES_EXAMINED tries at most, the rest counted unreadable (cleared first).
      if (examined++ < MAX_COOKIES_EXAMINED) {
        for (const keys of this.keys) {
          const payload = this.open(keys, name, value);
          if (payload) {
            exp = payload.exp;
            break;
          }
        }
      }
      return { name, exp, bytes: cookiePairBytes(name, value) };
    });
    aged.sort((a, b) => a.exp - b.exp);
    const cleared: string[] = [];
    let kept = aged.length;
    for (const cookie of aged) {
      if (kept < MAX_PENDING_COOKIES && bytes <= MAX_PENDING_COOKIE_BYTES) break;
      cleared.push(cookie.name);
      kept -= 1;
      bytes -= cookie.bytes;
    }
    return cleared;
  }

  private open(keys: CookieKeys, name: string, value: string): CookiePayload | undefined {
    if (!BASE64URL.test(value)) return undefined;
    const raw = Buffer.from(value, 'base64url');
    let start: number;
    let binding: string | undefined;
    if (raw[0] === FORMAT_VERSION && raw.length >= 2) {
      const length = raw[1]!;
      start = 2 + length;
      binding = raw.subarray(2, start).toString('utf8');
    } else if (raw[0] === LEGACY_FORMAT_VERSION) {
      start = 1;
    } else {
      return undefined;
    }
    if (raw.length < start + IV_BYTES + 1 + TAG_BYTES) return undefined;
    const iv = raw.subarray(start, start + IV_BYTES);
    const tag = raw.subarray(raw.length - TAG_BYTES);
    const ciphertext = raw.subarray(start + IV_BYTES, raw.length - TAG_BYTES);
    let plain: string;
    try {
      const decipher = createDecipheriv('aes-256-gcm', keys.encryption, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(binding === undefined ? Buffer.from(name, 'utf8') : additionalData(name, binding));
      decipher.setAuthTag(tag);
      plain = Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch {
      return undefined; // wrong key, altered bytes or another name: GCM's tag check failed
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(plain);
    } catch {
      return undefined;
    }
    if (
      !isObject(parsed) ||
      typeof parsed.handle !== 'string' ||
      (parsed.kind !== 'oauth1' && parsed.kind !== 'oauth2') ||
      typeof parsed.exp !== 'number' ||
      (parsed.iat !== undefined && typeof parsed.iat !== 'number') ||
      !isObject(parsed.data)
    ) {
      return undefined;
    }
    return { ...(parsed as unknown as CookiePayload), binding };
  }

  /** Finds, clears and checks the cookie of `handle`; single use from the app's point of view. */
  private take(
    req: XAuthRequest,
    handle: unknown,
    kind: Kind,
    what: string,
    binding: string | undefined,
    callback: (err: Error | null, data?: Record<string, unknown>, info?: XFailureInfo) => void,
  ): void {
    const fail = (miss: Miss): void => callback(null, undefined, missInfo(miss, what, this.prefix, this.maxAgeMs));
    if (typeof handle !== 'string' || handle === '') return fail('no-handle');
    const jar = prefixedCookies(req, this.prefix);
    const found: Array<{ keys: CookieKeys; name: string; value: string }> = [];
    for (const keys of this.keys) {
      const name = this.cookieName(keys, handle);
      const value = jar.get(name);
      if (value !== undefined) found.push({ keys, name, value });
    }
    if (found.length === 0) return fail(this.anyOpens(jar) || jar.size === 0 ? 'none' : 'foreign');

    // Current secret first; a sign-in started before a rotation has the name and key of an older one.
    let payload: CookiePayload | undefined;
    for (const { keys, name, value } of found) {
      payload = this.open(keys, name, value);
      if (payload) break;
    }
    // Sealed for another strategy (another name, client or redirect URI) sharing this store (a version 1
    // cookie, from before bindings, is accepted for its short life; a direct call without meta checks nothing):
    // that strategy's pending sign-in, left for its own callback, as the session stores leave it.
    if (payload && payload.kind === kind && safeEqual(payload.handle, handle) && !bindingAccepts(payload.binding, binding)) return fail('other-strategy');
    // Whatever else the outcome, this cookie is used up: cleared before anything is decided.
    try {
      const sink = cookieSink(req);
      for (const { name } of found) sink.append(this.clearingCookie(name, req));
    } catch (err) {
      return callback(err as Error);
    }
    if (!payload) return fail('tampered');
    // A genuine cookie of the other protocol, or for another handle: a forged or mixed-up callback.
    if (payload.kind !== kind || !safeEqual(payload.handle, handle)) return fail('mismatch');
    const now = this.now();
    const miss = this.lifeMiss(payload, now);
    if (miss) return fail(miss);
    ACCEPTED_FOR.set(req, payload.exp - now);
    callback(null, payload.data);
  }

  /**
   * Whether `payload` is past its life here: 'expired', 'future' (sealed by a clock far ahead of this
   * one), 'outlives' (no `iat`, and an `exp` beyond this store's life), or undefined while it lives. It lives this store's maxAgeMs at most, whatever the sealing
   * store's was (instances configured apart, or a deploy that changed it). The claim that guards the
   * callback lasts as long as this store says, or until the cookie's `exp` when that is later (see
   * {@link cookieAcceptedFor}), and a minute more.
   */
  private lifeMiss(payload: CookiePayload, now: number): 'expired' | 'future' | 'outlives' | undefined {
    if (payload.iat === undefined) {
      // Sealed before cookies carried `iat`: only `exp` says when. One expiring later than this store's
      // maxAgeMs from now could still be accepted after the claim of its first use has lapsed.
      if (now >= payload.exp) return 'expired';
      if (payload.exp - now > this.maxAgeMs + MAX_CLOCK_SKEW_MS) return 'outlives';
      return undefined;
    }
    if (now >= Math.min(payload.exp, payload.iat + this.maxAgeMs)) return 'expired';
    // Sealed by a clock far ahead of this one: it would outlive the callback's claim (see MAX_CLOCK_SKEW_MS).
    if (payload.iat - now > MAX_CLOCK_SKEW_MS) return 'future';
    return undefined;
  }

  /** Whether any of the request's prefixed cookies is ours (another sign-in's), as opposed to all foreign. */
  private anyOpens(jar: Map<string, string>): boolean {
    let examined = 0;
    for (const [name, value] of jar) {
      if (examined++ >= MAX_COOKIES_EXAMINED) break;
      if (this.keys.some((k) => this.open(k, name, value) !== undefined)) return true;
    }
    return false;
  }
}
