/**
 * Pending authorizations kept in the server session: the request tokens of OAuth 1.0a sign-ins
 * and the state and PKCE verifier of OAuth 2.0 ones. Shared by both session stores.
 *
 * Unlike passport-oauth1/oauth2's stores, which keep one pending sign-in per session, this keeps
 * a few (two tabs both succeed), expires them, finds them in constant time, and deletes each on use.
 */
import { s256 } from '../pkce';
import { XSessionError } from '../errors';
import { XFailureCode, failureOf, type XFailureCodeValue, type XFailureInfo } from '../failure';
import type { XAuthRequest } from '../request';

/** How long a started sign-in stays valid: 10 minutes. */
export const PENDING_TTL_MS = 10 * 60 * 1000;

/** The longest `ttlMs` a session store takes: 1 hour, as the cookie store's `maxAgeMs`. A sign-in is minutes on X's consent page. */
export const MAX_PENDING_TTL_MS = 60 * 60 * 1000;

/** How many started sign-ins one session keeps at most; the oldest go first. */
export const MAX_PENDING = 5;

/**
 * How far the clocks that date and check a pending sign-in may disagree, in ms: one minute. The
 * callback's replay claim lasts this much longer than a pending sign-in lives, so that an instance
 * whose clock is behind never accepts a sign-in whose claim is gone, and a pending sign-in dated
 * later than that in the future (the server's clock was set back, or the instances' clocks differ
 * by more) is refused rather than accepted past its claim.
 */
export const MAX_CLOCK_SKEW_MS = 60_000;

/** One pending authorization: a `handle` (request token or state) and what the callback needs. */
export interface PendingEntry {
  handle: string;
  /** The {@link pendingBinding} of the strategy that started it (absent in entries from before bindings). */
  binding?: string;
  /** When it was started, ms since the epoch. */
  createdAt: number;
  /** What the callback needs: the PKCE code verifier (OAuth 2.0) or the request token's secret (OAuth 1.0a). */
  secret?: string;
  /** The app state of `passport.authenticate(name, { state })`, if any. */
  state?: unknown;
  [field: string]: unknown;
}

/** Limits of a pending list. */
export interface PendingLimits {
  ttlMs: number;
  max: number;
  now: () => number;
}

/** Default limits. */
export const DEFAULT_PENDING_LIMITS: PendingLimits = { ttlMs: PENDING_TTL_MS, max: MAX_PENDING, now: () => Date.now() };

/**
 * Constant-time string comparison: every UTF-16 code unit of both is compared, whatever differs, with
 * no branch on the values. Only the length may leak, and X's tokens and our states have a fixed,
 * public length. (No `crypto.timingSafeEqual`: it needs two buffers per comparison, made from the
 * strings, and it compares their UTF-8, in which two different lone surrogates are the same bytes.)
 */
export function safeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** The session, or an {@link XSessionError} that says what to add. */
export function requireSession(req: XAuthRequest, strategyName: string): Record<string, unknown> {
  const session = req.session;
  if (!session || typeof session !== 'object') {
    throw new XSessionError(
      `passport-x (${strategyName}) needs a session to remember the sign-in between the redirect to X and the callback, and req.session is missing. ` +
        'Add session middleware before passport (Express: app.use(session({ secret, resave: false, saveUninitialized: false })) from express-session; ' +
        'Koa: app.use(session(app)) from koa-session), or pass the strategy a `store` that needs no session, such as EncryptedCookieStateStore.',
    );
  }
  return session;
}

/*
 * How a session keeps its pending sign-ins, under the store's key: an array, one element per
 * sign-in, oldest first. An element is a string "<createdAt, base 36> <binding> <handle> <secret>"
 * (a session store serialises, hashes and copies the session on every request: one string costs it
 * far less than an object of four fields), or, for a sign-in with app state or a space in a value,
 * the entry object. Sessions written before this format, `{ pending: [entry objects] }` with the
 * secret as `codeVerifier` or `tokenSecret`, are read as well.
 */

// A time in ms since the epoch, in base 36 (8 digits until the year 2059).
const BASE36_TIME = /^[0-9a-z]{1,11}$/;

/** A stored element as an entry, or undefined when it is not one (a session store may hold anything). */
function decodeEntry(stored: unknown): PendingEntry | undefined {
  if (typeof stored === 'string') {
    const parts = stored.split(' ');
    if (parts.length !== 4) return undefined;
    if (!BASE36_TIME.test(parts[0] as string) || parts[2] === '') return undefined;
    const createdAt = parseInt(parts[0] as string, 36);
    const entry: PendingEntry = { handle: parts[2] as string, createdAt, secret: parts[3] as string };
    if (parts[1] !== '') entry.binding = parts[1] as string;
    return entry;
  }
  if (typeof stored !== 'object' || stored === null) return undefined;
  const e = stored as PendingEntry;
  if (typeof e.handle !== 'string' || typeof e.createdAt !== 'number' || (e.binding !== undefined && typeof e.binding !== 'string')) return undefined;
  // Entries from before this format kept the secret under its own name.
  if (e.secret === undefined) {
    const legacy = typeof e.codeVerifier === 'string' ? e.codeVerifier : e.tokenSecret;
    if (typeof legacy === 'string') return { ...e, secret: legacy };
  }
  return e;
}

/** An entry as stored: the compact string when it can be, else the object. */
function encodeEntry(entry: PendingEntry): unknown {
  const { handle, binding, secret } = entry;
  const compact =
    entry.state === undefined &&
    typeof secret === 'string' &&
    handle !== '' &&
    !handle.includes(' ') &&
    !secret.includes(' ') &&
    (binding === undefined || (binding !== '' && !binding.includes(' ')));
  return compact ? `${entry.createdAt.toString(36)} ${binding ?? ''} ${handle} ${secret}` : entry;
}

/** The stored elements of a session's pending sign-ins (this format's array, or the older `{ pending }`), each to {@link decodeEntry}; `[]` when there are none. */
function elementsOf(session: Record<string, unknown>, key: string): readonly unknown[] {
  const slot = session[key];
  if (Array.isArray(slot)) return slot as unknown[];
  return slot && typeof slot === 'object' && Array.isArray((slot as { pending?: unknown }).pending) ? (slot as { pending: unknown[] }).pending : [];
}

function save(session: Record<string, unknown>, key: string, stored: unknown[]): void {
  if (stored.length === 0) {
    // Assign before deleting: @fastify/secure-session's session is a Proxy whose `delete` does nothing.
    session[key] = undefined;
    delete session[key];
  } else {
    session[key] = stored;
  }
}

/**
 * The limits a store was given, checked: `ttlMs` a positive number of ms, `maxPending` a
 * positive whole number, `now` a function. Throws a TypeError naming the bad option.
 */
export function pendingLimits(options: { ttlMs?: number | undefined; maxPending?: number | undefined; now?: (() => number) | undefined }, store: string): PendingLimits {
  const { ttlMs, maxPending, now } = options;
  if (ttlMs !== undefined && !(typeof ttlMs === 'number' && Number.isFinite(ttlMs) && ttlMs > 0 && ttlMs <= MAX_PENDING_TTL_MS)) {
    throw new TypeError(`${store}: \`ttlMs\` must be a positive number of milliseconds, at most ${MAX_PENDING_TTL_MS} (1 hour)`);
  }
  if (maxPending !== undefined && !(Number.isInteger(maxPending) && maxPending > 0)) {
    throw new TypeError(`${store}: \`maxPending\` must be a positive whole number`);
  }
  if (now !== undefined && typeof now !== 'function') throw new TypeError(`${store}: \`now\` must be a function`);
  // Whole milliseconds: an entry's time is stored in base 36, which has no fraction.
  const clock = now === undefined ? DEFAULT_PENDING_LIMITS.now : () => Math.floor(now());
  return { ttlMs: ttlMs ?? DEFAULT_PENDING_LIMITS.ttlMs, max: maxPending ?? DEFAULT_PENDING_LIMITS.max, now: clock };
}

/** A new entry: one object shape whatever is given (no spreads of optional fields). */
export function pendingEntry(handle: string, secret: string, createdAt: number, binding: string | undefined, state: unknown): PendingEntry {
  const entry: PendingEntry = { handle, createdAt, secret };
  if (binding !== undefined) entry.binding = binding;
  if (state !== undefined) entry.state = state;
  return entry;
}

/** Adds an entry, dropping expired ones and the oldest beyond `max`. */
export function addPending(session: Record<string, unknown>, key: string, entry: PendingEntry, limits: PendingLimits = DEFAULT_PENDING_LIMITS): void {
  const now = limits.now();
  const stored: unknown[] = [];
  for (const element of elementsOf(session, key)) {
    const e = decodeEntry(element);
    if (e !== undefined && now - e.createdAt < limits.ttlMs) stored.push(element);
  }
  stored.push(encodeEntry(entry));
  save(session, key, stored.length > limits.max ? stored.slice(-limits.max) : stored);
}

/**
 * What binds a pending sign-in to the strategy that started it: its kind, the strategy's name, the
 * client (OAuth 2.0 client ID or OAuth 1.0a consumer key) and the redirect URI, hashed (SHA-256,
 * base64url, 128 bits) so that it stays short in a session or a cookie's additional data. Two
 * strategies sharing a store or a session then never accept each other's callbacks.
 */
export function pendingBinding(kind: 'oauth1' | 'oauth2', strategyName: string, client: string, redirectURI: string): string {
  return s256(JSON.stringify(['passport-x pending v1', kind, strategyName, client, redirectURI])).slice(0, 22);
}

/**
 * A strategy's last {@link pendingBinding}, kept: a strategy asks for the same one on every sign-in
 * (its name, client and callback URL), and a SHA-256 per leg is a measurable share of one.
 * Create one per strategy instance; it answers afresh whenever an input changes.
 */
export class PendingBindingCache {
  private name = '';
  private client = '';
  private redirectURI = '';
  private binding = '';

  constructor(private readonly kind: 'oauth1' | 'oauth2') {}

  /** {@link pendingBinding} of these inputs. */
  of(strategyName: string, client: string, redirectURI: string): string {
    if (this.binding === '' || strategyName !== this.name || client !== this.client || redirectURI !== this.redirectURI) {
      this.binding = pendingBinding(this.kind, strategyName, client, redirectURI);
      this.name = strategyName;
      this.client = client;
      this.redirectURI = redirectURI;
    }
    return this.binding;
  }
}

/**
 * The binding a store was handed in `meta`: `meta.binding` when the strategy set it (both of
 * passport-x's strategies do), else one derived from what passport-oauth1/oauth2 put in `meta` on
 * both legs (the client, and for OAuth 2.0 the redirect URI). `undefined` when there is no meta
 * at all (a direct call with the shorter argument list): nothing to check against.
 */
export function bindingOf(meta: unknown, kind: 'oauth1' | 'oauth2'): string | undefined {
  if (typeof meta !== 'object' || meta === null) return undefined;
  const m = meta as Record<string, unknown>;
  if (typeof m.binding === 'string') return m.binding;
  const client = kind === 'oauth2' ? m.clientID : m.consumerKey;
  const redirectURI = kind === 'oauth2' ? m.callbackURL : undefined;
  return pendingBinding(kind, '', typeof client === 'string' ? client : '', typeof redirectURI === 'string' ? redirectURI : '');
}

/**
 * Whether a pending sign-in sealed or stored with binding `kept` may be used by a callback bound to
 * `binding`: the same binding, or either missing (a direct call without meta checks nothing; a
 * sign-in from before bindings existed is accepted for its one short life). Both session stores and
 * the cookie store decide by it.
 */
export function bindingAccepts(kept: string | undefined, binding: string | undefined): boolean {
  return binding === undefined || kept === undefined || kept === binding;
}

/**
 * The `meta` and the callback of a store method passport calls by its arity, `(req, handle, cb)` or
 * `(req, handle, meta, cb)`: both session stores and the cookie store take either.
 */
export function metaAndCallback<M, C>(metaOrCallback: M | C, maybeCallback: C | undefined): [M | undefined, C] {
  return typeof metaOrCallback === 'function' ? [undefined, metaOrCallback as C] : [metaOrCallback as M, maybeCallback as C];
}

/** Whether entry `e` may be used by a callback bound to `binding` ({@link bindingAccepts}). */
function boundTo(e: PendingEntry, binding: string | undefined): boolean {
  return bindingAccepts(e.binding, binding);
}

/**
 * The callback of a store's `drop()`, which forgets the pending sign-in of a callback the user
 * cancelled on X (or that X answered with an error): whether it was a sign-in this session started
 * and may still finish (`found`), and, when it was not, optionally why, as the failure the strategy
 * ends the callback with (for example `X_SIGN_IN_EXPIRED`, for one started too long ago). A
 * `found: false` without `info` is `X_CALLBACK_UNKNOWN`.
 */
export type PendingDropped = (err?: Error | null, found?: boolean, info?: XFailureInfo) => void;

/** Why a callback matched no pending entry. */
export type PendingMiss = 'none' | 'unknown' | 'expired' | 'future';

/** The outcome of {@link takePending}. */
export type TakeResult = { entry: PendingEntry } | { miss: PendingMiss };

/**
 * Finds the entry whose handle equals `handle` (every entry compared in constant time),
 * removes it (single use) and returns it. Expired entries are removed on the way.
 */
export function takePending(
  session: Record<string, unknown>,
  key: string,
  handle: string,
  limits: PendingLimits = DEFAULT_PENDING_LIMITS,
  binding?: string,
): TakeResult {
  const now = limits.now();
  let found: PendingEntry | undefined;
  let pending = false;
  const live: unknown[] = [];
  // One pass: every entry is compared (constant time), the match and the expired ones left out.
  // Another strategy's entry is left alone: its own callback must still find it.
  for (const stored of elementsOf(session, key)) {
    const e = decodeEntry(stored);
    if (e === undefined) continue;
    pending = true;
    if (safeEqual(e.handle, handle) && boundTo(e, binding) && !found) found = e;
    else if (now - e.createdAt < limits.ttlMs) live.push(stored);
  }
  // Nothing in the session is a pending sign-in: left as it is.
  if (!pending) return { miss: 'none' };
  save(session, key, live);
  // Nothing but expired entries: as good as none pending (the classic causes), not a stranger's handle.
  if (!found) return { miss: live.length === 0 ? 'none' : 'unknown' };
  const miss = lifeMissOf(found, now, limits);
  return miss === undefined ? { entry: found } : { miss };
}

/**
 * A session store's `drop()`: the entry of `handle` taken as its callback would take it (single use,
 * expired ones removed), answered as `found`, or `false` with why not ({@link pendingMissInfo}: none
 * pending, not this session's, expired). No session is nothing pending, not an error: the user only
 * pressed Cancel. `what` names the handle for the message ("state", "request token").
 */
export function dropPending(req: XAuthRequest, key: string, handle: unknown, limits: PendingLimits, binding: string | undefined, what: string, callback: PendingDropped): void {
  const session = req.session;
  const result: TakeResult = session && typeof session === 'object' ? takePending(session, key, typeof handle === 'string' ? handle : '', limits, binding) : { miss: 'none' };
  if ('miss' in result) return callback(null, false, pendingMissInfo(result.miss, what, limits.ttlMs));
  callback(null, true);
}

/** Why `entry` is no longer pending at `now`: older than `ttlMs`, or dated in the future; undefined while it lives. */
function lifeMissOf(entry: PendingEntry, now: number, limits: PendingLimits): 'expired' | 'future' | undefined {
  if (now - entry.createdAt >= limits.ttlMs) return 'expired';
  // Dated in the future: it would live past the callback's claim (see MAX_CLOCK_SKEW_MS).
  if (entry.createdAt - now > MAX_CLOCK_SKEW_MS) return 'future';
  return undefined;
}

/** What went wrong, the likely cause and the fix: the failure message for each miss. */
export function pendingMissMessage(miss: PendingMiss, what: string, ttlMs: number = PENDING_TTL_MS): string {
  switch (miss) {
    case 'none':
      return (
        `This X sign-in callback matches no sign-in started in this browser session (no pending ${what} in the session). ` +
        'If this callback was already used (a reload or the back button), simply sign in again. Otherwise, likely causes: the sign-in started on another host than the callback URL (e.g. localhost and 127.0.0.1), so the browser did not send the session cookie; ' +
        'the session was not saved before the redirect to X; several app instances without a shared session store; ' +
        'or a Secure session cookie on plain http; or a SameSite=Strict session cookie, which the browser does not send on the way back from X\'s site; or a sign-in finished in another tab of this browser, and signing in regenerated the session (Passport 0.6 and later do), dropping this tab\'s pending sign-in. ' +
        'Fix: browse the app on the callback URL\'s host, make sure the session store saves before the redirect (it reports its errors, and says it saved only once it did; nothing regenerates or destroys the session between the start and the callback), use a shared session store, mark the cookie Secure only behind https and SameSite=Lax, and pass keepSessionInfo: true to passport.authenticate on the callback route (or to req.logIn in a custom callback) to keep other tabs\' sign-ins. Then sign in again.'
      );
    case 'unknown':
      return (
        `This X sign-in callback carries a ${what} that was not issued to this session, or was already used (a replayed or forged callback, a sign-in started in another browser, or one started by another strategy sharing this session: another name, client or callback URL), ` +
        'or its sign-in started at the same moment as another in this session (two tabs at once): the session middleware saves each request\'s copy of the session whole, so the later save kept only its own pending sign-in. ' +
        'If every sign-in ends here, the browser is likely sending another session\'s cookie with the callback: the sign-in started on another host than the callback URL (e.g. localhost and 127.0.0.1) and this host still holds an earlier sign-in\'s session, or the session was not saved before the redirect to X, or the instances do not share a session store. Sign in again.'
      );
    case 'expired':
      return `This X sign-in was started more than ${describeDuration(ttlMs)} ago and has expired. Sign in again.`;
    case 'future':
      return futureMissMessage(what);
  }
}

/**
 * The diagnosis of a pending sign-in dated later than {@link MAX_CLOCK_SKEW_MS} in the future, for
 * the session stores and the cookie store alike.
 */
export function futureMissMessage(what: string): string {
  return (
    `This X sign-in callback's ${what} was issued at a time more than ${MAX_CLOCK_SKEW_MS / 1000} seconds later than this server's clock shows, so it was refused ` +
    '(accepted, it could outlive the replay claim that lets a callback reach X only once). Likely causes: the server\'s clock was set back after the sign-in started, ' +
    'or the app\'s instances\' clocks differ by more than that. Fix: keep every instance\'s clock synchronised (NTP). Sign in again.'
  );
}

/** The code of each miss: no pending sign-in at all, one this session did not issue (or already used), one too old. */
const MISS_CODES: Record<PendingMiss, XFailureCodeValue> = {
  none: XFailureCode.NO_PENDING_SIGN_IN,
  unknown: XFailureCode.CALLBACK_UNKNOWN,
  expired: XFailureCode.SIGN_IN_EXPIRED,
  future: XFailureCode.SIGN_IN_EXPIRED,
};

/**
 * The failure of a callback that matched no pending sign-in: a short message for the person, and
 * {@link pendingMissMessage}'s diagnosis (what happened, the likely causes, the fix) as the hint.
 */
export function pendingMissInfo(miss: PendingMiss, what: string, ttlMs: number = PENDING_TTL_MS): XFailureInfo {
  return failureOf(MISS_CODES[miss], pendingMissMessage(miss, what, ttlMs));
}

function describeDuration(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} minute${ms === 60_000 ? '' : 's'}`;
  return `${Math.round(ms / 1000)} seconds`;
}
