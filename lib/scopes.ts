/**
 * X's OAuth 2.0 scopes and the `user.fields` of the X API v2, as literal types: an editor
 * completes them, and a string X added after this release still compiles.
 *
 * Sources: X doc "OAuth 2.0 Authorization Code Flow with PKCE" (Scopes) and X's OpenAPI
 * (`OAuth2UserToken` scopes, `UserFieldsParameter`), version 2.167; X doc "Data dictionary" (User).
 *
 * @packageDocumentation
 */

/**
 * Every OAuth 2.0 scope X offers. The doc page lists `users.email` (which X's OpenAPI omits);
 * the OpenAPI adds `timeline.read`, `broadcast.read` and `broadcast.write` (which the page omits).
 */
export const X_OAUTH2_SCOPES = Object.freeze([
  'tweet.read',
  'tweet.write',
  'tweet.moderate.write',
  'users.read',
  'users.email',
  'follows.read',
  'follows.write',
  'offline.access',
  'space.read',
  'mute.read',
  'mute.write',
  'like.read',
  'like.write',
  'list.read',
  'list.write',
  'block.read',
  'block.write',
  'bookmark.read',
  'bookmark.write',
  'dm.read',
  'dm.write',
  'media.write',
  'timeline.read',
  'broadcast.read',
  'broadcast.write',
] as const);

/** One of X's OAuth 2.0 scopes, exactly: a misspelt scope does not compile. */
export type XKnownScope = (typeof X_OAUTH2_SCOPES)[number];

/**
 * An OAuth 2.0 scope: one of {@link XKnownScope}, completed by the editor, or any other string.
 *
 * The escape hatch is `string & Record<never, never>`: a plain `string` in the union would swallow
 * the literals and the editor would stop offering them. So `'tweet.read'` is offered, and a scope X
 * added after this release (`'grok.read'`) or a list read from the environment (`string[]`) still
 * compiles. Annotate with {@link XKnownScope} instead where a typo should fail the build:
 *
 * @example
 * ```ts
 * import type { XKnownScope, XScope } from 'passport-x';
 *
 * const scopes: XScope[] = ['tweet.read', 'users.read', 'offline.access']; // completed by the editor
 * const strict: XKnownScope[] = ['tweet.read', 'users.read']; // 'tweet.reed' would not compile here
 * const fromEnv: XScope[] = (process.env.X_SCOPES ?? '').split(' '); // any string still compiles
 * ```
 */
export type XScope = XKnownScope | (string & Record<never, never>);

/**
 * Every `user.fields` value X accepts on the users endpoints (`GET /2/users/me` among them): X's
 * OpenAPI `UserFieldsParameter`, plus `affiliation`, `most_recent_tweet_id` and `pinned_tweet_id`,
 * which X's data dictionary still documents and X still answers.
 */
export const X_USER_FIELDS = Object.freeze([
  'affiliation',
  'confirmed_email',
  'connection_status',
  'created_at',
  'description',
  'entities',
  'id',
  'is_identity_verified',
  'location',
  'most_recent_tweet_id',
  'name',
  'parody',
  'pinned_tweet_id',
  'profile_banner_url',
  'profile_image_url',
  'protected',
  'public_metrics',
  'receives_your_dm',
  'subscribes_to_you',
  'subscription',
  'subscription_type',
  'url',
  'username',
  'verified',
  'verified_followers_count',
  'verified_type',
  'withheld',
] as const);

/** One of X's `user.fields`, exactly: a misspelt field does not compile. */
export type XKnownUserField = (typeof X_USER_FIELDS)[number];

/**
 * A `user.fields` value: one of {@link XKnownUserField}, completed by the editor, or any other
 * string (the same escape hatch as {@link XScope}).
 */
export type XUserField = XKnownUserField | (string & Record<never, never>);

/**
 * The scope a user field needs beyond `tweet.read` and `users.read` (X doc "Data dictionary":
 * `confirmed_email` needs `users.email`, and "Request email from users" in the app's settings).
 */
export const X_USER_FIELD_SCOPES: Readonly<Partial<Record<XKnownUserField, XKnownScope>>> = Object.freeze({ confirmed_email: 'users.email' });

/** Whether `value` is one of X's OAuth 2.0 scopes. */
export function isXKnownScope(value: unknown): value is XKnownScope {
  return typeof value === 'string' && (X_OAUTH2_SCOPES as readonly string[]).includes(value);
}
