/**
 * X user -> Passport profile (the "normalized profile" of passportjs.org/reference/normalized-profile),
 * one shape for both strategies.
 */

/** The Passport profile both strategies hand to the verify callback. */
export interface XProfile {
  /** Always `'x'`. */
  provider: 'x';
  /** The user's ID, always a string (X's numeric `id` does not fit a JS number). */
  id: string;
  /** The handle, without `@`. */
  username: string;
  /** The display name, without control characters (line breaks, escape codes); the handle when X gave none. */
  displayName: string;
  /** `https://x.com/<username>` */
  profileUrl: string;
  /** The profile picture, when X gave one that is an `http:` or `https:` URL (X's are https; a local emulator's may be http). */
  photos?: Array<{
    /** The picture's URL. */
    value: string;
  }>;
  /** The e-mail address, when X returned one that has the form of an address (OAuth 1.0a `includeEmail`, OAuth 2.0 `includeEmail` + `users.email`). */
  emails?: Array<{
    /** The e-mail address. */
    value: string;
  }>;
  /** X's answer, as text. */
  _raw: string;
  /** X's user object: the v1.1 user, the v2 `data` object, or the access-token parameters. */
  _json: Record<string, unknown>;
  /** The app's access level for this token, from X's `x-access-level` header (`read`, `read-write`, `read-write-directmessages`), when sent. */
  _accessLevel?: string;
  /**
   * `true` when X could not be asked for the user (its answer was 402 credits depleted or a usage cap)
   * and `XOAuth1Strategy`'s `profileFallback: 'token'` built the profile from the access-token answer:
   * `id` and `username` are X's, `displayName` is the username, and there are no `photos` or `emails`.
   * Absent otherwise. Refresh such a profile from X on a later sign-in.
   */
  partial?: boolean;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

// Apps put these in pages, links and mail headers: X's values always pass; a hostile or broken
// answer's (a `javascript:` picture, a line break in an address) are left out of the profile, though
// `_json` keeps them as X sent them. Rendered in HTML, every field still needs escaping.
const WEB_URL = /^https?:\/\/[^\s\p{Cc}<>"'`\\]{1,2040}$/u;
// An address's local part may hold ' and ` (RFC 5322 atext: o'brien@example.com); no quoted ones.
const EMAIL = /^[^\s\p{Cc}@<>"\\]{1,64}@[^\s\p{Cc}@<>"'`\\]{1,255}$/u;
// Control characters, and the line and paragraph separators, which end a line too.
const CONTROL = /[\p{Cc}\u2028\u2029]/u;
const CONTROLS = /[\p{Cc}\u2028\u2029]+/gu;

function photoURL(value: unknown): string | undefined {
  return typeof value === 'string' && WEB_URL.test(value) ? value : undefined;
}

function emailAddress(value: unknown): string | undefined {
  return typeof value === 'string' && EMAIL.test(value) ? value : undefined;
}

/** The display name without control characters (none in a name X accepts); undefined when nothing is left. */
function displayNameOf(value: unknown): string | undefined {
  const name = str(value);
  return name !== undefined && CONTROL.test(name) ? str(name.replace(CONTROLS, '')) : name;
}

// A lone UTF-16 surrogate makes encodeURIComponent throw (URIError); X never sends one in a handle,
// and the endpoints refuse such an answer, but mapping a profile must never throw: U+FFFD instead.
function profileURLOf(username: string): string {
  return `https://x.com/${encodeURIComponent(username.replace(/[\uD800-\uDFFF]/gu, '\uFFFD'))}`;
}

function base(id: string, username: string, displayName: string | undefined, raw: string, json: Record<string, unknown>, accessLevel: string | null | undefined): XProfile {
  const profile: XProfile = {
    provider: 'x',
    id,
    username,
    displayName: displayName ?? username,
    profileUrl: profileURLOf(username),
    _raw: raw,
    _json: json,
  };
  if (accessLevel) profile._accessLevel = accessLevel;
  return profile;
}

/** Maps a v1.1 user (`account/verify_credentials`) to a profile. The caller has checked `id_str` and `screen_name`. */
export function profileFromV1User(json: Record<string, unknown>, raw: string, accessLevel?: string | null): XProfile {
  const profile = base(json.id_str as string, json.screen_name as string, displayNameOf(json.name), raw, json, accessLevel);
  const photo = photoURL(json.profile_image_url_https);
  if (photo) profile.photos = [{ value: photo }];
  const email = emailAddress(json.email);
  if (email) profile.emails = [{ value: email }];
  return profile;
}

/** Maps a v2 user (`2/users/me` `data`) to a profile. The caller has checked `id` and `username`. */
export function profileFromV2User(data: Record<string, unknown>, raw: string, accessLevel?: string | null): XProfile {
  const profile = base(String(data.id), data.username as string, displayNameOf(data.name), raw, data, accessLevel);
  const photo = photoURL(data.profile_image_url);
  if (photo) profile.photos = [{ value: photo }];
  const email = emailAddress(data.confirmed_email);
  if (email) profile.emails = [{ value: email }];
  return profile;
}

/** A profile from the OAuth 1.0a access-token answer alone (`user_id`, `screen_name`), for `skipExtendedUserProfile`. */
export function profileFromAccessTokenParams(params: Record<string, string>): XProfile {
  const username = params.screen_name ?? '';
  const json: Record<string, unknown> = {};
  if (params.user_id !== undefined) json.user_id = params.user_id;
  if (params.screen_name !== undefined) json.screen_name = params.screen_name;
  return base(params.user_id ?? '', username, undefined, new URLSearchParams(json as Record<string, string>).toString(), json, undefined);
}
