/**
 * The signed-in user as the example app keeps it in the session, and what the app does with
 * the user's tokens: refresh (OAuth 2.0) and revoke on sign-out (both protocols).
 * Framework-neutral, so the Express app and the Koa variant share it.
 *
 * The tokens stay in the session, server-side: pages are rendered from
 * {@link profileSummary}, which leaves them out.
 */
import { invalidateAccessToken, refreshAccessToken, revokeToken, type XProfile, type XTokenSet } from 'passport-x';
import type { ExampleXSettings } from './config';
import type { ProfileSummary } from './views';

/** The OAuth 2.0 tokens of a user who signed in with XOAuth2PkceStrategy. */
export interface ExampleOAuth2Tokens {
  accessToken: string;
  /** Only with the `offline.access` scope; X rotates it on every refresh. */
  refreshToken?: string | undefined;
  /** ISO 8601 (the session store keeps JSON). */
  expiresAt?: string | undefined;
  scope: string[];
}

/** The OAuth 1.0a token of a user who signed in with XOAuth1Strategy. */
export interface ExampleOAuth1Token {
  token: string;
  tokenSecret: string;
}

/** The session's user: the profile fields the pages show, plus the tokens (never rendered). */
export interface ExampleUser {
  signInMethod: 'oauth2' | 'oauth1';
  id: string;
  username: string;
  name: string;
  profileURL: string;
  photoURL?: string | undefined;
  oauth2?: ExampleOAuth2Tokens | undefined;
  oauth1?: ExampleOAuth1Token | undefined;
}

/** The user after an OAuth 2.0 sign-in. */
export function userFromOAuth2(profile: XProfile, tokens: XTokenSet): ExampleUser {
  return {
    signInMethod: 'oauth2',
    ...profileFields(profile),
    oauth2: {
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiresAt: tokens.expiresAt?.toISOString(),
      scope: [...tokens.scope],
    },
  };
}

/** The user after an OAuth 1.0a sign-in. */
export function userFromOAuth1(profile: XProfile, token: string, tokenSecret: string): ExampleUser {
  return { signInMethod: 'oauth1', ...profileFields(profile), oauth1: { token, tokenSecret } };
}

function profileFields(profile: XProfile): Pick<ExampleUser, 'id' | 'username' | 'name' | 'profileURL' | 'photoURL'> {
  return { id: profile.id, username: profile.username, name: profile.displayName, profileURL: profile.profileUrl, photoURL: profile.photos?.[0]?.value };
}

/** Whether a value read back from the session store is an {@link ExampleUser} (a session from another app version may hold anything). */
export function isExampleUser(value: unknown): value is ExampleUser {
  if (typeof value !== 'object' || value === null) return false;
  const u = value as Record<string, unknown>;
  const text = (v: unknown): boolean => typeof v === 'string' && v !== '';
  if (!text(u.id) || !text(u.username) || typeof u.name !== 'string' || typeof u.profileURL !== 'string') return false;
  if (u.signInMethod === 'oauth2') return typeof u.oauth2 === 'object' && u.oauth2 !== null && text((u.oauth2 as Record<string, unknown>).accessToken);
  if (u.signInMethod === 'oauth1') {
    const t = u.oauth1 as Record<string, unknown> | null | undefined;
    return typeof t === 'object' && t !== null && text(t.token) && text(t.tokenSecret);
  }
  return false;
}

/** What the profile page may show: everything but the tokens. */
export function profileSummary(user: ExampleUser): ProfileSummary {
  const expiresAt = user.oauth2?.expiresAt ? new Date(user.oauth2.expiresAt) : undefined;
  return {
    signInMethod: user.signInMethod,
    id: user.id,
    username: user.username,
    name: user.name,
    profileURL: user.profileURL,
    photoURL: user.photoURL,
    expiresAt: expiresAt && !Number.isNaN(expiresAt.getTime()) ? expiresAt : undefined,
    scope: user.oauth2?.scope,
    canRefresh: user.signInMethod === 'oauth2' && !!user.oauth2?.refreshToken,
  };
}

/**
 * Trades the user's refresh token for new tokens (`refreshAccessToken`) and returns the user
 * with them. X rotates refresh tokens, so the returned user must replace the old one.
 * Rejects with a TypeError when the user has no refresh token, or with passport-x's typed error.
 */
export async function refreshUserTokens(x: ExampleXSettings, user: ExampleUser): Promise<ExampleUser> {
  const refreshToken = user.oauth2?.refreshToken;
  if (user.signInMethod !== 'oauth2' || !refreshToken) {
    throw new TypeError('There is no refresh token in this session: only an OAuth 2.0 sign-in with the offline.access scope gets one. Sign in again with "Sign in with X".');
  }
  if (!x.oauth2) throw new TypeError('The app has no OAuth 2.0 client configured (X_CLIENT_ID), so it cannot refresh tokens.');
  const tokens = await refreshAccessToken({ baseURL: x.baseURL, clientID: x.oauth2.clientID, clientSecret: x.oauth2.clientSecret, refreshToken });
  return {
    ...user,
    oauth2: {
      accessToken: tokens.accessToken,
      // X sends a new refresh token with every refresh; keep the old one only if it did not.
      refreshToken: tokens.refreshToken ?? refreshToken,
      expiresAt: tokens.expiresAt?.toISOString(),
      scope: tokens.scope.length > 0 ? [...tokens.scope] : user.oauth2?.scope ?? [],
    },
  };
}

/**
 * Revokes the user's tokens at X, for sign-out: for OAuth 2.0 the refresh token (so it cannot
 * mint new access tokens) and the access token (`revokeToken`, RFC 7009), for OAuth 1.0a the
 * access token (`invalidateAccessToken`). Tries every token even when one fails, then rejects
 * with the first failure.
 */
export async function revokeUserTokens(x: ExampleXSettings, user: ExampleUser): Promise<void> {
  const revocations: Array<() => Promise<void>> = [];
  if (user.signInMethod === 'oauth2' && user.oauth2 && x.oauth2) {
    const client = { baseURL: x.baseURL, clientID: x.oauth2.clientID, clientSecret: x.oauth2.clientSecret };
    const { accessToken, refreshToken } = user.oauth2;
    if (refreshToken) revocations.push(() => revokeToken({ ...client, token: refreshToken, tokenTypeHint: 'refresh_token' }));
    revocations.push(() => revokeToken({ ...client, token: accessToken, tokenTypeHint: 'access_token' }));
  } else if (user.signInMethod === 'oauth1' && user.oauth1 && x.oauth1) {
    const { token, tokenSecret } = user.oauth1;
    const consumer = x.oauth1;
    revocations.push(() => invalidateAccessToken({ baseURL: x.baseURL, ...consumer, token, tokenSecret }));
  } else {
    throw new TypeError(`The app has no ${user.signInMethod === 'oauth2' ? 'OAuth 2.0 client' : 'OAuth 1.0a consumer'} configured, so it cannot revoke this user's token.`);
  }
  let firstFailure: unknown;
  for (const revoke of revocations) {
    try {
      await revoke();
    } catch (err) {
      firstFailure ??= err;
    }
  }
  if (firstFailure !== undefined) throw firstFailure;
}
