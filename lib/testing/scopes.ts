/**
 * X's OAuth 2.0 scopes (X doc "OAuth 2.0 Authorization Code Flow with PKCE", "Scopes"), each
 * with the line the consent page shows for it, and the scopes each emulated endpoint needs.
 * The list itself is passport-x's (`lib/scopes.ts`): a scope added there needs a line here.
 */
import { X_OAUTH2_SCOPES, type XKnownScope } from '../scopes';

/** Every scope X offers, with what it lets the app do, in the consent page's words. */
export const X_SCOPES: Readonly<Record<XKnownScope, string>> = Object.freeze({
  'tweet.read': 'Read the posts you can see, including posts from protected accounts.',
  'tweet.write': 'Post and repost for you.',
  'tweet.moderate.write': 'Hide and unhide replies to your posts.',
  'users.read': 'See any account you can see, including protected accounts.',
  'users.email': 'See your email address.',
  'follows.read': 'See who follows you and who you follow.',
  'follows.write': 'Follow and unfollow accounts for you.',
  'offline.access': 'Stay connected to your account until you revoke access.',
  'space.read': 'See the Spaces you can see.',
  'mute.read': "See the accounts you've muted.",
  'mute.write': 'Mute and unmute accounts for you.',
  'like.read': "See the posts you've liked and the likes you can see.",
  'like.write': 'Like and unlike posts for you.',
  'list.read': "See the Lists you've made or belong to, including private ones.",
  'list.write': 'Create and manage Lists for you.',
  'block.read': "See the accounts you've blocked.",
  'block.write': 'Block and unblock accounts for you.',
  'bookmark.read': 'See your bookmarks.',
  'bookmark.write': 'Add and remove bookmarks for you.',
  'media.write': 'Upload media for you.',
  'dm.read': 'Read your Direct Messages.',
  'dm.write': 'Send Direct Messages for you.',
  'timeline.read': 'See your home timeline.',
  'broadcast.read': 'See the broadcasts you can see.',
  'broadcast.write': 'Start and manage broadcasts for you.',
} satisfies Record<XKnownScope, string>);

/** `GET /2/users/me` needs both (X API v2 reference, "GET /2/users/me": OAuth 2.0 scopes required). */
export const USERS_ME_SCOPES: readonly string[] = ['tweet.read', 'users.read'];

/** The scope that lets `confirmed_email` through. */
export const EMAIL_SCOPE = 'users.email';

/** Splits a `scope` parameter (space-separated, RFC 6749 section 3.3) into its scopes, without duplicates. */
export function parseScope(scope: string): string[] {
  return [...new Set(scope.split(' ').filter((s) => s !== ''))];
}

/** The scopes of a list that X does not offer. */
export function unknownScopes(scopes: readonly string[]): string[] {
  return scopes.filter((s) => !(X_OAUTH2_SCOPES as readonly string[]).includes(s));
}
