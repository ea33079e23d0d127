/**
 * Everything the emulator has issued and still remembers: request tokens, OAuth 1.0a access
 * tokens, app-only bearer tokens, pending OAuth 2.0 consents, authorization codes, OAuth 2.0
 * access and refresh tokens, and the OAuth 1.0a nonces seen. Expiry is computed from the
 * injectable clock at each look-up, so no timer runs; expired entries are swept as new ones come.
 *
 * Each map whose entries expire gives every entry the same lifetime, so its insertion order is its
 * expiry order and a sweep stops at the first entry still alive: each entry is looked at once.
 * Every map is capped ({@link STORE_CAPACITY}): past the cap, issuing throws {@link OverCapacityError},
 * which the emulator answers as X answers when over capacity (503).
 */
import { randomToken, xBearerToken } from './secrets';

/** How long things live in the emulator. */
export const LIFETIMES = {
  /** OAuth 1.0a request tokens (X does not document it; long enough for a person on the consent page). */
  requestTokenMs: 15 * 60_000,
  /** A consent page shown but not yet answered. */
  pendingAuthorizationMs: 10 * 60_000,
  /** OAuth 2.0 authorization codes: 30 s, single use (X doc "OAuth 2.0 Authorization Code Flow with PKCE"). */
  authorizationCodeMs: 30_000,
  /** OAuth 2.0 access tokens: two hours (`expires_in: 7200`). */
  oauth2AccessTokenS: 7200,
  /** OAuth 1.0a `oauth_timestamp` must be within this many seconds of the clock. */
  timestampWindowS: 300,
} as const;

/** An OAuth 1.0a request token (step 1); authorized once `verifier` and `userId` are set. */
export interface RequestTokenRecord {
  readonly token: string;
  readonly secret: string;
  readonly consumerKey: string;
  /** The `oauth_callback` given in step 1, or `'oob'`. */
  readonly callback: string;
  readonly expiresAt: number;
  verifier?: string;
  userId?: string;
}

/** An OAuth 1.0a access token: valid until invalidated (X's do not expire). */
export interface OAuth1AccessTokenRecord {
  readonly token: string;
  readonly secret: string;
  readonly consumerKey: string;
  readonly userId: string;
}

/** A consent page shown for an OAuth 2.0 authorization request, waiting for the user's answer. */
export interface PendingAuthorization {
  readonly id: string;
  readonly clientID: string;
  readonly redirectURI: string;
  readonly scopes: readonly string[];
  readonly state: string;
  readonly codeChallenge: string;
  /** RFC 7636 section 4.3: how the verifier became the challenge. */
  readonly codeChallengeMethod: 'S256' | 'plain';
  readonly expiresAt: number;
}

/** What an OAuth 2.0 grant is about: who, for which client, with which scopes. `grantId` ties together the tokens it produced. */
export interface OAuth2Grant {
  readonly clientID: string;
  readonly userId: string;
  readonly scopes: readonly string[];
  readonly grantId: string;
}

/** An authorization code; `usedAt` is set when it was exchanged. */
export interface AuthorizationCodeRecord extends OAuth2Grant {
  readonly code: string;
  readonly redirectURI: string;
  readonly codeChallenge: string;
  readonly codeChallengeMethod: 'S256' | 'plain';
  readonly expiresAt: number;
  usedAt?: number;
}

/** An OAuth 2.0 user access token. */
export interface OAuth2AccessTokenRecord extends OAuth2Grant {
  readonly token: string;
  readonly expiresAt: number;
}

/** An OAuth 2.0 refresh token; it works once (X rotates them). */
export interface RefreshTokenRecord extends OAuth2Grant {
  readonly token: string;
}

/** How many entries each of the store's maps holds at most: request tokens, access tokens, codes, nonces... */
export const STORE_CAPACITY = 100_000;

/** Thrown when issuing something would take a map of the store past its cap; the emulator answers 503, as X over capacity. */
export class OverCapacityError extends Error {
  constructor(what: string, capacity: number) {
    super(`the emulator already holds ${capacity} ${what}, its cap: it forgets them as they expire`);
    this.name = 'OverCapacityError';
  }
}

/** Forgets entries from the front of `map` while they are `expired`, and stops at the first one that is not. */
function sweepFront<V>(map: Map<string, V>, expired: (value: V) => boolean): void {
  for (const [key, value] of map) {
    if (!expired(value)) return;
    map.delete(key);
  }
}

/** How a {@link TokenStore} is made. */
export interface TokenStoreOptions {
  /** How long OAuth 2.0 access tokens live (default two hours, as X's). */
  accessTokenTtlMs?: number | undefined;
  /** How many entries each map holds at most (default {@link STORE_CAPACITY}). */
  capacity?: number | undefined;
  /** The clock nonces are remembered by: the one OAuth 1.0a timestamps are checked against (default `Date.now`). */
  timestampClock?: (() => number) | undefined;
}

/** The emulator's memory of what it issued. */
export class TokenStore {
  private readonly requestTokens = new Map<string, RequestTokenRecord>();
  private readonly oauth1AccessTokens = new Map<string, OAuth1AccessTokenRecord>();
  /** consumer key -> its one bearer token, and back. */
  private readonly bearerByApp = new Map<string, string>();
  private readonly appByBearer = new Map<string, string>();
  private readonly pending = new Map<string, PendingAuthorization>();
  /** Codes not used yet; once used, a code moves to `usedCodes`. */
  private readonly codes = new Map<string, AuthorizationCodeRecord>();
  private readonly usedCodes = new Map<string, AuthorizationCodeRecord>();
  private readonly oauth2AccessTokens = new Map<string, OAuth2AccessTokenRecord>();
  private readonly refreshTokens = new Map<string, RefreshTokenRecord>();
  /** nonce key -> when it was seen (ms). */
  private readonly nonces = new Map<string, number>();
  /**
   * How long a used authorization code is remembered: as long as the access tokens of its use
   * live, and at least X's two hours, so that a late second use still revokes what the first got.
   */
  private readonly usedCodeMemoryMs: number;

  /** How long OAuth 2.0 access tokens live (the emulator's `accessTokenTtlMs`). */
  readonly accessTokenTtlMs: number;
  private readonly capacity: number;
  private readonly timestampClock: () => number;

  /** @param now - the clock of lifetimes (the emulator's `now` option) */
  constructor(
    private readonly now: () => number,
    options: TokenStoreOptions = {},
  ) {
    this.accessTokenTtlMs = options.accessTokenTtlMs ?? LIFETIMES.oauth2AccessTokenS * 1000;
    this.capacity = options.capacity ?? STORE_CAPACITY;
    this.timestampClock = options.timestampClock ?? Date.now;
    this.usedCodeMemoryMs = Math.max(this.accessTokenTtlMs, LIFETIMES.oauth2AccessTokenS * 1000);
  }

  // ------------------------------------------------------------ OAuth 1.0a

  /** Issues a request token for `callback` (step 1). */
  issueRequestToken(consumerKey: string, callback: string): RequestTokenRecord {
    this.makeRoom(this.requestTokens, 'request tokens');
    const record: RequestTokenRecord = {
      token: randomToken(),
      secret: randomToken(),
      consumerKey,
      callback,
      expiresAt: this.now() + LIFETIMES.requestTokenMs,
    };
    this.requestTokens.set(record.token, record);
    return record;
  }

  /** The request token, unless unknown, used or expired. */
  requestToken(token: string): RequestTokenRecord | undefined {
    const record = this.requestTokens.get(token);
    return record && this.now() < record.expiresAt ? record : undefined;
  }

  /** Forgets a request token: it was exchanged, or the user cancelled. */
  dropRequestToken(token: string): void {
    this.requestTokens.delete(token);
  }

  /** Issues an OAuth 1.0a access token, `<user id>-<random>` as X's are. */
  issueOAuth1AccessToken(consumerKey: string, userId: string): OAuth1AccessTokenRecord {
    this.makeRoom(this.oauth1AccessTokens, 'OAuth 1.0a access tokens');
    const record: OAuth1AccessTokenRecord = { token: `${userId}-${randomToken()}`, secret: randomToken(), consumerKey, userId };
    this.oauth1AccessTokens.set(record.token, record);
    return record;
  }

  /** The OAuth 1.0a access token, unless unknown or invalidated. */
  oauth1AccessToken(token: string): OAuth1AccessTokenRecord | undefined {
    return this.oauth1AccessTokens.get(token);
  }

  /** Invalidates an OAuth 1.0a access token (`POST /1.1/oauth/invalidate_token`). */
  invalidateOAuth1AccessToken(token: string): void {
    this.oauth1AccessTokens.delete(token);
  }

  /**
   * Records a nonce; false when it was seen already. RFC 5849 section 3.3: a nonce is unique for
   * its timestamp, consumer and token. One seen at `t` (by the timestamp clock) is kept until
   * `t + 2 * window`: a replay after that fails the timestamp check anyway.
   */
  rememberNonce(key: string): boolean {
    this.sweep();
    if (this.nonces.has(key)) return false;
    this.makeRoom(this.nonces, 'OAuth 1.0a nonces');
    this.nonces.set(key, this.timestampClock());
    return true;
  }

  // ------------------------------------------------------------ App-only

  /** The app's bearer token: the same one every time until it is invalidated (X doc "Application-only authentication"). */
  bearerToken(consumerKey: string): string {
    let token = this.bearerByApp.get(consumerKey);
    if (token === undefined) {
      token = xBearerToken();
      this.bearerByApp.set(consumerKey, token);
      this.appByBearer.set(token, consumerKey);
    }
    return token;
  }

  /** The consumer key a bearer token belongs to, unless unknown or invalidated. */
  bearerTokenApp(token: string): string | undefined {
    return this.appByBearer.get(token);
  }

  /** The app's bearer token, if it has one that is not invalidated. */
  currentBearerToken(consumerKey: string): string | undefined {
    return this.bearerByApp.get(consumerKey);
  }

  /** Invalidates a bearer token; the app's next request gets a new one. */
  invalidateBearerToken(token: string): void {
    const app = this.appByBearer.get(token);
    if (app === undefined) return;
    this.appByBearer.delete(token);
    this.bearerByApp.delete(app);
  }

  // ------------------------------------------------------------ OAuth 2.0

  /** Remembers an authorization request whose consent page is shown; its id goes in the page's form. */
  startAuthorization(request: Omit<PendingAuthorization, 'id' | 'expiresAt'>): PendingAuthorization {
    this.makeRoom(this.pending, 'pending consents');
    const record: PendingAuthorization = { ...request, id: randomToken(16), expiresAt: this.now() + LIFETIMES.pendingAuthorizationMs };
    this.pending.set(record.id, record);
    return record;
  }

  /** A pending authorization, unless unknown, answered or expired. */
  pendingAuthorization(id: string): PendingAuthorization | undefined {
    const record = this.pending.get(id);
    return record && this.now() < record.expiresAt ? record : undefined;
  }

  /** Forgets a pending authorization: answered (single use). */
  dropAuthorization(id: string): void {
    this.pending.delete(id);
  }

  /** Issues an authorization code for a consent the user gave, which that answers; over capacity, the consent stays pending. */
  issueCode(authorization: PendingAuthorization, userId: string): AuthorizationCodeRecord {
    this.makeRoom(this.codes, 'authorization codes');
    this.pending.delete(authorization.id);
    const record: AuthorizationCodeRecord = {
      code: randomToken(),
      clientID: authorization.clientID,
      userId,
      scopes: authorization.scopes,
      grantId: randomToken(12),
      redirectURI: authorization.redirectURI,
      codeChallenge: authorization.codeChallenge,
      codeChallengeMethod: authorization.codeChallengeMethod,
      expiresAt: this.now() + LIFETIMES.authorizationCodeMs,
    };
    this.codes.set(record.code, record);
    return record;
  }

  /**
   * The authorization code, unless unknown or expired; a used one (with `usedAt`) as long as the
   * access tokens of its use live, so that a late second use still revokes what the first got
   * (RFC 6749 section 4.1.2).
   */
  code(code: string): AuthorizationCodeRecord | undefined {
    const now = this.now();
    const unused = this.codes.get(code);
    if (unused) return now < unused.expiresAt ? unused : undefined;
    const used = this.usedCodes.get(code);
    return used && now < this.usedCodeForgottenAt(used) ? used : undefined;
  }

  /**
   * Exchanges an unused code: marks it used now (remembered as used from then on, see
   * {@link TokenStore.code}) and issues its tokens. Over capacity, nothing changes.
   */
  exchangeCode(record: AuthorizationCodeRecord): { access: OAuth2AccessTokenRecord; refresh: RefreshTokenRecord | undefined } {
    this.makeRoom(this.usedCodes, 'used authorization codes');
    // Issuing checks its own room first and throws before changing anything; nothing below throws.
    const tokens = this.issueOAuth2Tokens(record);
    this.codes.delete(record.code);
    record.usedAt = this.now();
    this.usedCodes.set(record.code, record);
    return tokens;
  }

  /**
   * Issues an access token with the grant's scopes, and a refresh token with `refreshScopes` when
   * those hold `offline.access`: the grant's scopes, or on a refresh the used refresh token's. The
   * refresh token `replaces`, when given, is retired in the same step, and the new one takes its
   * place. Over capacity, it throws {@link OverCapacityError} before changing anything.
   */
  issueOAuth2Tokens(grant: OAuth2Grant, refreshScopes: readonly string[] = grant.scopes, replaces?: RefreshTokenRecord): { access: OAuth2AccessTokenRecord; refresh: RefreshTokenRecord | undefined } {
    this.makeRoom(this.oauth2AccessTokens, 'OAuth 2.0 access tokens');
    if (replaces) this.refreshTokens.delete(replaces.token);
    else if (refreshScopes.includes('offline.access')) this.makeRoom(this.refreshTokens, 'OAuth 2.0 refresh tokens');
    const base: OAuth2Grant = { clientID: grant.clientID, userId: grant.userId, scopes: grant.scopes, grantId: grant.grantId };
    const access: OAuth2AccessTokenRecord = { ...base, token: randomToken(), expiresAt: this.now() + this.accessTokenTtlMs };
    this.oauth2AccessTokens.set(access.token, access);
    let refresh: RefreshTokenRecord | undefined;
    if (refreshScopes.includes('offline.access')) {
      refresh = { ...base, scopes: refreshScopes, token: randomToken() };
      this.refreshTokens.set(refresh.token, refresh);
    }
    return { access, refresh };
  }

  /** The OAuth 2.0 access token, unless unknown, revoked or expired. */
  oauth2AccessToken(token: string): OAuth2AccessTokenRecord | undefined {
    const record = this.oauth2AccessTokens.get(token);
    return record && this.now() < record.expiresAt ? record : undefined;
  }

  /** The refresh token, unless unknown, used or revoked. */
  refreshToken(token: string): RefreshTokenRecord | undefined {
    return this.refreshTokens.get(token);
  }

  /** Revokes one OAuth 2.0 access token. */
  revokeOAuth2AccessToken(token: string): void {
    this.oauth2AccessTokens.delete(token);
  }

  /**
   * A refresh (X rotates refresh tokens): the used one stops working and the grant gets a new access
   * token and refresh token. Over capacity, nothing changes: the refresh token still works, so a
   * client that retries after the 503 is not refused for a token it never got a successor for.
   */
  rotateRefreshToken(record: RefreshTokenRecord, scopes: readonly string[]): { access: OAuth2AccessTokenRecord; refresh: RefreshTokenRecord | undefined } {
    // RFC 6749 section 6: the new refresh token's scope is the used one's, whatever the access token's.
    return this.issueOAuth2Tokens({ clientID: record.clientID, userId: record.userId, grantId: record.grantId, scopes: [...scopes] }, record.scopes, record);
  }

  /** Revokes every token a grant produced (RFC 6749 section 4.1.2 on a reused code; RFC 7009 section 2.1 on a revoked refresh token). */
  revokeGrant(grantId: string): void {
    for (const [token, record] of this.oauth2AccessTokens) if (record.grantId === grantId) this.oauth2AccessTokens.delete(token);
    for (const [token, record] of this.refreshTokens) if (record.grantId === grantId) this.refreshTokens.delete(token);
  }

  // ------------------------------------------------------------ Inspection

  /** Whether an access token of any kind (OAuth 1.0a, OAuth 2.0 user, app-only bearer) would be accepted now. */
  isAccessTokenValid(token: string): boolean {
    return this.oauth1AccessTokens.has(token) || this.oauth2AccessToken(token) !== undefined || this.appByBearer.has(token);
  }

  /** Whether an OAuth 2.0 refresh token would be accepted now. */
  isRefreshTokenValid(token: string): boolean {
    return this.refreshTokens.has(token);
  }

  /** When a used code is forgotten: once the access tokens of its use have expired. */
  private usedCodeForgottenAt(record: AuthorizationCodeRecord): number {
    return (record.usedAt as number) + this.usedCodeMemoryMs;
  }

  /**
   * Forgets what expired, so a long test run does not grow the emulator's memory. Insertion order
   * is expiry order in each map swept (every entry of one lives equally long), so each sweep stops
   * at the first live entry. Should the clock go back, an entry may outlive its turn: look-ups check
   * expiry themselves, and the caps still hold.
   */
  private sweep(): void {
    const now = this.now();
    sweepFront(this.requestTokens, (record) => now >= record.expiresAt);
    sweepFront(this.pending, (record) => now >= record.expiresAt);
    sweepFront(this.codes, (record) => now >= record.expiresAt);
    sweepFront(this.usedCodes, (record) => now >= this.usedCodeForgottenAt(record));
    sweepFront(this.oauth2AccessTokens, (record) => now >= record.expiresAt);
    const nonceHorizon = this.timestampClock() - 2 * LIFETIMES.timestampWindowS * 1000;
    sweepFront(this.nonces, (seenAt) => seenAt < nonceHorizon);
  }

  /** Sweeps, then throws {@link OverCapacityError} when `map` is still full. */
  private makeRoom(map: Map<string, unknown>, what: string): void {
    this.sweep();
    if (map.size >= this.capacity) throw new OverCapacityError(what, this.capacity);
  }
}
