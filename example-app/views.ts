/**
 * The example app's pages: plain server-rendered HTML with one small inline stylesheet.
 * Framework-neutral (functions from data to an HTML string), so the Express app and the Koa
 * variant render the same pages. Every value that reaches the HTML goes through
 * {@link escapeHTML}; the views are given a {@link ProfileSummary}, which has no tokens.
 */
import { createHash } from 'node:crypto';

/** A message shown at the top of a page: what just happened, or what went wrong. */
export interface PageMessage {
  kind: 'error' | 'info';
  text: string;
}

/** What the profile page shows of the signed-in user: no token, no secret. */
export interface ProfileSummary {
  /** `'oauth2'` (XOAuth2PkceStrategy) or `'oauth1'` (XOAuth1Strategy). */
  signInMethod: 'oauth2' | 'oauth1';
  /** The X user ID. */
  id: string;
  /** The handle, without `@`. */
  username: string;
  /** The display name. */
  name: string;
  /** `https://x.com/<username>` */
  profileURL: string;
  /** The profile picture, when X gave one. */
  photoURL?: string | undefined;
  /** When the OAuth 2.0 access token expires (OAuth 1.0a tokens do not expire). */
  expiresAt?: Date | undefined;
  /** The OAuth 2.0 scopes granted. */
  scope?: readonly string[] | undefined;
  /** Whether there is a refresh token (the `offline.access` scope was granted). */
  canRefresh: boolean;
  /** OAuth 2.0: the tokens are gone (X refused the refresh token, or the store lost them): only a new sign-in gets new ones. */
  tokensGone?: boolean | undefined;
}

/** The data of the home page. */
export interface HomeView {
  messages: readonly PageMessage[];
  /** Which sign-in buttons to show (the app may be configured with one protocol only). */
  methods: { oauth2: boolean; oauth1: boolean };
  /** Set when someone is signed in: the page links to the profile instead. */
  signedInAs?: { name: string; username: string } | undefined;
  /** A line about where the app signs in (e.g. the emulator and its test user). */
  notice?: string | undefined;
}

/** The data of the profile page. */
export interface ProfileView {
  user: ProfileSummary;
  /** Where the @handle links, `${profilesURL}/<username>`, instead of the user's X profile (the emulator in emulator mode). */
  profilesURL?: string | undefined;
  messages: readonly PageMessage[];
  /** The form token the Refresh and Sign out forms post back (see app.ts). */
  csrfToken: string;
  /** "Now", for the "in N minutes" next to the expiry. */
  now: Date;
}

/** The paths of the app's pages and actions, shared by the Express and Koa versions. */
export const ROUTES = Object.freeze({
  home: '/',
  profile: '/profile',
  oauth2Start: '/auth/x',
  oauth2Callback: '/auth/x/callback',
  oauth1Start: '/auth/x/oauth1',
  oauth1Callback: '/auth/x/oauth1/callback',
  refresh: '/refresh',
  logout: '/logout',
  favicon: '/favicon.svg',
});

/** The app's icon, served at {@link ROUTES.favicon} and `/favicon.ico` (browsers ask for that one unprompted). */
export const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="16" fill="#0f1419"/>' +
  '<path d="M16 7a5 5 0 0 0-2 9.6V25h4v-2h2v-3h-2v-3.4A5 5 0 0 0 16 7zm0 3a2 2 0 1 1 0 4 2 2 0 0 1 0-4z" fill="#fff"/></svg>';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML content and double- or single-quoted attribute values. */
export function escapeHTML(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** A URL for an `href` / `src`: only http(s), escaped; anything else becomes `#` (no `javascript:`). */
function safeURL(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? escapeHTML(parsed.href) : '#';
  } catch {
    return '#';
  }
}

/** The stylesheet, inline so there is nothing to build or serve. */
export const STYLESHEET = `
:root { color-scheme: light; --ink: #0f1419; --muted: #536471; --line: #cfd9de; --accent: #0f1419; --bg: #f7f9f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: var(--bg); }
a { color: #1a73c4; }
main { max-width: 40rem; margin: 3rem auto; padding: 2rem; background: #fff; border: 1px solid var(--line); border-radius: 16px; overflow-wrap: anywhere; }
@media (max-width: 40rem) { main { margin: 1rem; padding: 1.25rem; } }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.25rem; margin: 0; }
p { margin: .5rem 0 1rem; }
.lead { color: var(--muted); }
.actions { display: flex; flex-wrap: wrap; gap: .75rem; margin-top: 1.5rem; }
.button, button { display: inline-block; padding: .6rem 1.2rem; border-radius: 999px; border: 1px solid var(--accent); font: inherit; font-weight: 600; text-decoration: none; cursor: pointer; background: var(--accent); color: #fff; }
.button.secondary, button.secondary { background: #fff; color: var(--accent); }
.button:focus-visible, button:focus-visible, a:focus-visible { outline: 3px solid #1d9bf0; outline-offset: 2px; }
form { margin: 0; }
.message { padding: .75rem 1rem; border-radius: 8px; margin: 0 0 1.25rem; }
.message.error { background: #fdecee; border: 1px solid #f4212e; }
.message.info { background: #e8f5fd; border: 1px solid #1d9bf0; }
.notice { font-size: .9rem; color: var(--muted); border-top: 1px solid var(--line); padding-top: 1rem; margin-top: 1.5rem; }
.card { display: flex; gap: 1rem; align-items: center; margin: 1.25rem 0; }
.card img { width: 72px; height: 72px; border-radius: 50%; border: 1px solid var(--line); background: var(--bg); }
.handle { color: var(--muted); margin: 0; }
dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .35rem 1rem; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; min-width: 0; }
@media (max-width: 30rem) { dl { grid-template-columns: minmax(0, 1fr); gap: 0; } dd { margin-bottom: .6rem; } }
.card > div { min-width: 0; }
.card img { flex: none; }
code { font-size: .9em; }
`;

/** The Content-Security-Policy of every page: the inline stylesheet (by hash), images from anywhere, forms to this app only, no scripts. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLESHEET).digest('base64')}'`,
  'img-src https: http: data:',
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHTML(title)} · passport-x example</title>
<link rel="icon" href="${ROUTES.favicon}" type="image/svg+xml">
<style>${STYLESHEET}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

function messageList(messages: readonly PageMessage[]): string {
  return messages
    .map((m) => (m.kind === 'error' ? `<p class="message error" role="alert">${escapeHTML(m.text)}</p>` : `<p class="message info" role="status">${escapeHTML(m.text)}</p>`))
    .join('\n');
}

/** The home page: the sign-in buttons, and any message (e.g. "You cancelled the sign-in with X."). */
export function homePage(view: HomeView): string {
  const buttons: string[] = [];
  if (view.signedInAs) {
    buttons.push(`<a class="button" href="${ROUTES.profile}">Go to your profile</a>`);
  } else {
    if (view.methods.oauth2) buttons.push(`<a class="button" href="${ROUTES.oauth2Start}">Sign in with X</a>`);
    if (view.methods.oauth1) buttons.push(`<a class="button secondary" href="${ROUTES.oauth1Start}">Sign in with X (OAuth 1.0a)</a>`);
  }
  const intro = view.signedInAs
    ? `<p>You are signed in as ${escapeHTML(view.signedInAs.name)} (@${escapeHTML(view.signedInAs.username)}).</p>`
    : '<p class="lead">Sign in with your X account, over OAuth 2.0 with PKCE or over OAuth 1.0a. The app then shows your X profile.</p>';
  return layout(
    'Home',
    `<h1>passport-x example</h1>
${intro}
${messageList(view.messages)}
<nav class="actions" aria-label="${view.signedInAs ? 'Account' : 'Sign in'}">
${buttons.join('\n')}
</nav>
${view.notice ? `<p class="notice">${escapeHTML(view.notice)}</p>` : ''}`,
  );
}

/** `2025-01-02 03:04:05 UTC`: unambiguous whatever the server's time zone. */
export function formatUTC(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** "in 2 hours", "in 5 minutes", "expired": how far `date` is from `now`, roughly. */
export function relativeTime(date: Date, now: Date): string {
  const seconds = Math.round((date.getTime() - now.getTime()) / 1000);
  if (seconds <= 0) return 'expired';
  if (seconds < 90) return `in ${seconds} seconds`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `in ${minutes} minutes`;
  const hours = Math.round(minutes / 60);
  return `in ${hours} hours`;
}

/** The profile page: name, handle, picture, how the user signed in, the token's expiry, and the Refresh / Sign out actions. */
export function profilePage(view: ProfileView): string {
  const { user } = view;
  const csrf = `<input type="hidden" name="_csrf" value="${escapeHTML(view.csrfToken)}">`;
  const rows: string[] = [
    `<dt>X user ID</dt><dd>${escapeHTML(user.id)}</dd>`,
    `<dt>Signed in with</dt><dd>${user.signInMethod === 'oauth2' ? 'OAuth 2.0 with PKCE' : 'OAuth 1.0a'}</dd>`,
  ];
  if (user.signInMethod === 'oauth2') {
    const expiry = user.expiresAt
      ? `<time datetime="${escapeHTML(user.expiresAt.toISOString())}">${escapeHTML(formatUTC(user.expiresAt))}</time> (${escapeHTML(relativeTime(user.expiresAt, view.now))})`
      : user.tokensGone
        ? 'no token: sign in again to get a new one'
        : 'not given by X';
    rows.push(`<dt>Access token expires</dt><dd data-testid="expiry">${expiry}</dd>`);
    if (user.scope && user.scope.length > 0) rows.push(`<dt>Scopes</dt><dd>${user.scope.map((s) => `<code>${escapeHTML(s)}</code>`).join(' ')}</dd>`);
  } else {
    rows.push('<dt>Access token expires</dt><dd>never (OAuth 1.0a tokens last until revoked)</dd>');
  }
  const picture = user.photoURL
    ? `<img src="${safeURL(user.photoURL)}" alt="Profile picture of @${escapeHTML(user.username)}" width="72" height="72">`
    : '';
  const refresh =
    user.signInMethod === 'oauth2' && user.canRefresh
      ? `<form method="post" action="${ROUTES.refresh}">${csrf}<button type="submit" class="secondary">Refresh token</button></form>`
      : '';
  return layout(
    `${user.name} (@${user.username})`,
    `<h1>Your X profile</h1>
${messageList(view.messages)}
<section class="card" aria-label="X account">
${picture}
<div>
<h2>${escapeHTML(user.name)}</h2>
<p class="handle"><a href="${safeURL(view.profilesURL ? `${view.profilesURL}/${encodeURIComponent(user.username)}` : user.profileURL)}">@${escapeHTML(user.username)}</a></p>
</div>
</section>
<dl>
${rows.join('\n')}
</dl>
<div class="actions">
${refresh}
<form method="post" action="${ROUTES.logout}">${csrf}<button type="submit">Sign out</button></form>
</div>`,
  );
}

/** A page for what is not a sign-in failure (those go back to the home page): 403, 404, 500. */
export function errorPage(status: number, text: string): string {
  return layout(
    `Error ${status}`,
    `<h1>Something went wrong</h1>
${messageList([{ kind: 'error', text }])}
<p><a href="${ROUTES.home}">Back to the home page</a></p>`,
  );
}
