/**
 * How X shows a user: the v1.1 user object of `account/verify_credentials` (X doc "User
 * object"), the v2 user of `2/users/me` (X API v2 "User fields"), and a profile picture the
 * emulator serves itself.
 */
import { createHash } from 'node:crypto';
import { X_USER_FIELDS as USER_FIELDS } from '../scopes';
import type { XEmulatorUser } from './fixtures';
import { randomToken } from './secrets';

/** The `user.fields` X accepts (X API v2 reference, "GET /2/users/me"); any other value is a 400. The list is passport-x's (`lib/scopes.ts`). */
export const X_USER_FIELDS: readonly string[] = USER_FIELDS;

/** The ID of the one post every emulated user has, shown as `status` in v1.1 answers. */
const STATUS_ID = '1790000000000000001';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** v1.1 dates: `Wed Jan 15 09:30:00 +0000 2020`. */
function v1Date(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number): string => String(n).padStart(2, '0');
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCDate())} ${time} +0000 ${d.getUTCFullYear()}`;
}

/**
 * JSON in which every `id` is a bare number, as X writes it: a number too big for a JS number,
 * which is why clients must read `id_str`. (`JSON.rawJSON` would do this, but Node 20 lacks it.)
 */
function jsonWithBareIds(value: Record<string, unknown>): string {
  const mark = `__id_${randomToken(9)}__`;
  const marked = JSON.stringify(value, (key, v: unknown) => (key === 'id' && typeof v === 'string' && /^\d+$/.test(v) ? `${mark}${v}` : v));
  return marked.replace(new RegExp(`"${mark}(\\d+)"`, 'g'), '$1');
}

/** What the v1.1 user object includes, from the request's query. */
export interface V1UserOptions {
  /** `include_email=true`, and the app has "Request email from users". */
  email: boolean;
  /** Not `skip_status=true`. */
  status: boolean;
  /** Not `include_entities=false`. */
  entities: boolean;
}

/** The v1.1 user object, as JSON text (its `id` a bare number, as X writes it). */
export function v1UserJSON(user: Readonly<XEmulatorUser>, options: V1UserOptions): string {
  const createdAt = user.createdAt ?? '2020-01-01T00:00:00.000Z';
  const out: Record<string, unknown> = {
    id: user.id,
    id_str: user.id,
    name: user.name,
    screen_name: user.username,
    location: user.location ?? '',
    description: user.description ?? '',
    url: user.url ?? null,
    protected: user.protected ?? false,
    verified: user.verified ?? false,
    followers_count: 0,
    friends_count: 0,
    listed_count: 0,
    favourites_count: 0,
    statuses_count: 1,
    created_at: v1Date(createdAt),
    profile_image_url_https: user.profileImageURL,
    default_profile: true,
  };
  if (options.entities) out.entities = { description: { urls: [] } };
  if (options.status) {
    const status: Record<string, unknown> = {
      created_at: v1Date(createdAt),
      id: STATUS_ID,
      id_str: STATUS_ID,
      text: 'Hello from the X emulator.',
      truncated: false,
    };
    if (options.entities) status.entities = { hashtags: [], symbols: [], user_mentions: [], urls: [] };
    out.status = status;
  }
  // X doc "GET account/verify_credentials": with include_email, `email` is null when the user has no verified address.
  if (options.email) out.email = user.email ?? null;
  return jsonWithBareIds(out);
}

/**
 * The v2 user: `id`, `name` and `username` always, the other requested fields the fixture has,
 * and `confirmed_email` only when `withEmail` (the token has the `users.email` scope).
 */
export function v2User(user: Readonly<XEmulatorUser>, fields: readonly string[], withEmail: boolean): Record<string, unknown> {
  const available: Record<string, unknown> = {
    created_at: user.createdAt,
    description: user.description ?? '',
    location: user.location,
    url: user.url ?? '',
    profile_image_url: user.profileImageURL,
    protected: user.protected ?? false,
    verified: user.verified ?? false,
    verified_type: user.verified ? 'blue' : 'none',
    public_metrics: { followers_count: 0, following_count: 0, tweet_count: 1, listed_count: 0, like_count: 0 },
    most_recent_tweet_id: STATUS_ID,
    confirmed_email: withEmail ? user.email : undefined,
  };
  const data: Record<string, unknown> = { id: user.id, name: user.name, username: user.username };
  for (const field of fields) if (available[field] !== undefined) data[field] = available[field];
  return data;
}

function escapeXML(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A round profile picture with the user's initials, as SVG. */
export function avatarSVG(user: Readonly<XEmulatorUser>): string {
  const initials = user.name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((word) => [...word][0]!.toUpperCase())
    .join('');
  const hue = createHash('sha256').update(user.id).digest()[0]! * (360 / 256);
  return (
    '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96" role="img">' +
    `<title>${escapeXML(user.name)}</title>` +
    `<circle cx="48" cy="48" r="48" fill="hsl(${Math.round(hue)} 45% 42%)"/>` +
    `<text x="48" y="60" font-family="system-ui, sans-serif" font-size="36" fill="#fff" text-anchor="middle">${escapeXML(initials)}</text>` +
    '</svg>'
  );
}
