/**
 * The signed-in user as the example app keeps it in the session, and what the app does with
 * the user's tokens: refresh (OAuth 2.0, through `XTokenManager`) and revoke on sign-out (both
 * protocols). Framework-neutral, so the Express app and the Koa variant share it.
 *
 * The OAuth 2.0 tokens live in the token store (tokens.ts), keyed by X user ID, where
 * `XTokenManager` rotates them once for every request and instance; the OAuth 1.0a token, which
 * never changes, stays in the session. Both stay server-side: pages are rendered from
 * {@link profileSummary}, which leaves them out.
 */
import { invalidateAccessToken, type XProfile, type XTokenManager, type XTokenSet } from 'passport-x';
import type { ExampleXSettings } from './config';
import type { ExampleTokenState } from './tokens';
import type { ProfileSummary } from './views';

/** What the session keeps of an OAuth 2.0 sign-in; the tokens themselves are in the token store, under the user's ID. */
export interface ExampleOAuth2SignIn {
  /** The scopes granted at sign-in. */
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
  oauth2?: ExampleOAuth2SignIn | undefined;
  oauth1?: ExampleOAuth1Token | undefined;
}

/** The user after an OAuth 2.0 sign-in (store `tokens` in the token store under `profile.id`). */
export function userFromOAuth2(profile: XProfile, tokens: XTokenSet): ExampleUser {
  return { signInMethod: 'oauth2', ...profileFields(profile), oauth2: { scope: [...tokens.scope] } };
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
  if (u.signInMethod === 'oauth2') return typeof u.oauth2 === 'object' && u.oauth2 !== null && Array.isArray((u.oauth2 as Record<string, unknown>).scope);
  if (u.signInMethod === 'oauth1') {
    const t = u.oauth1 as Record<string, unknown> | null | undefined;
    return typeof t === 'object' && t !== null && text(t.token) && text(t.tokenSecret);
  }
  return false;
}

/** What the profile page may show: everything but the tokens (`tokens`: the OAuth 2.0 user's, from {@link tokensForProfile}). */
export function profileSummary(user: ExampleUser, tokens?: ExampleTokenState): ProfileSummary {
  const fresh = tokens?.kind === 'fresh' ? tokens.tokens : undefined;
  return {
    signInMethod: user.signInMethod,
    id: user.id,
    username: user.username,
    name: user.name,
    profileURL: user.profileURL,
    photoURL: user.photoURL,
    expiresAt: fresh?.expiresAt,
    scope: fresh && fresh.scope.length > 0 ? fresh.scope : user.oauth2?.scope,
    canRefresh: user.signInMethod === 'oauth2' && !!fresh?.refreshToken,
    tokensGone: user.signInMethod === 'oauth2' && tokens?.kind === 'gone',
  };
}

/**
 * Refreshes the user's OAuth 2.0 tokens now (`XTokenManager.refresh`): stored, rotated once
 * whatever else is refreshing them. Rejects with a TypeError when the user did not sign in with
 * OAuth 2.0, or with passport-x's typed error (`XRefreshTokenRevokedError`: sign in again).
 */
export async function refreshUserTokens(tokens: XTokenManager | undefined, user: ExampleUser): Promise<XTokenSet> {
  if (user.signInMethod !== 'oauth2') {
    throw new TypeError('There is no refresh token in this session: only an OAuth 2.0 sign-in with the offline.access scope gets one. Sign in again with "Sign in with X".');
  }
  if (!tokens) throw new TypeError('The app has no OAuth 2.0 client configured (X_CLIENT_ID), so it cannot refresh tokens.');
  return tokens.refresh(user.id);
}

/**
 * Revokes the user's tokens at X, for sign-out: for OAuth 2.0 the refresh token (so it cannot
 * mint new access tokens) and the access token, then drops them from the token store
 * (`XTokenManager.revoke`); for OAuth 1.0a the access token (`invalidateAccessToken`).
 */
export async function revokeUserTokens(x: ExampleXSettings, tokens: XTokenManager | undefined, user: ExampleUser): Promise<void> {
  if (user.signInMethod === 'oauth2' && tokens) {
    await tokens.revoke(user.id);
  } else if (user.signInMethod === 'oauth1' && user.oauth1 && x.oauth1) {
    const { token, tokenSecret } = user.oauth1;
    await invalidateAccessToken({ baseURL: x.baseURL, ...x.oauth1, token, tokenSecret });
  } else {
    throw new TypeError(`The app has no ${user.signInMethod === 'oauth2' ? 'OAuth 2.0 client' : 'OAuth 1.0a consumer'} configured, so it cannot revoke this user's token.`);
  }
}
