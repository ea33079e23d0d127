/**
 * The emulator's pages besides the consent pages, so a person clicking through an app in
 * emulator mode never lands on the real x.com or at a dead end: a user's profile at
 * `/<username>` (where x.com has it), a home page, a favicon, and the way back to the app
 * (`/i/back`, linked from every page but the consent page).
 */
import { page, redirect, type Answer } from './answers';
import { escapeHTML, layout, WAY_BACK_PATH } from './consent-page';
import type { EmulatorContext, EmulatorRequest } from './context';
import type { XEmulatorUser } from './fixtures';

/** The emulator's icon: X's letter on a dark tile, served at `/favicon.ico` (as image/svg+xml). */
export const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#0f1419"/>' +
  '<path d="M9 8h4.2l4.1 5.6L22 8h2.4l-5.9 7.1L25 24h-4.2l-4.4-6-5 6H9l6.3-7.5z" fill="#fff"/></svg>';

/** X's handles: 1 to 15 letters, digits or underscores, and `/<handle>` is the profile. */
const PROFILE_PATH = /^\/([A-Za-z0-9_]{1,15})$/;

/** The http(s) origin of `url`, when it is one. */
function httpOrigin(url: string | null | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.origin : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Remembers which app sent a person here last (the origin of the callback the emulator
 * redirected to, or that a consent page it showed returns to), and answers `/i/back` with a
 * redirect to it. An emulator serves many apps in tests; the latest is the one a person is using.
 */
export class WayBack {
  private appOrigin: string | undefined;

  constructor(private readonly ownOrigin: string) {}

  /** The app's origin, once one has sent a person here. */
  get origin(): string | undefined {
    return this.appOrigin;
  }

  /** Notes the app behind an answered request, if it names one. */
  note(request: EmulatorRequest, answer: Answer, context: EmulatorContext): void {
    const candidates: Array<string | null | undefined> = [];
    if (answer.status >= 300 && answer.status < 400) candidates.push(answer.headers.location);
    if (answer.status === 200 && request.method === 'GET') {
      const path = request.url.pathname;
      if (path === '/i/oauth2/authorize') candidates.push(request.url.searchParams.get('redirect_uri'));
      if (path === '/oauth/authenticate' || path === '/oauth/authorize') {
        const token = request.url.searchParams.get('oauth_token');
        candidates.push(token ? context.store.requestToken(token)?.callback : undefined);
      }
    }
    for (const candidate of candidates) {
      const origin = httpOrigin(candidate);
      if (origin && origin !== this.ownOrigin) {
        this.appOrigin = origin;
        return;
      }
    }
  }

  /** `GET /i/back`: to the app's home page, or to the emulator's when no app has sent anyone yet. */
  answer(): Answer {
    return redirect(this.appOrigin ? `${this.appOrigin}/` : '/');
  }
}

/** `GET /`: what this is, its users (linked to their profiles), and the way back when an app is known. */
export function homePage(context: EmulatorContext, appOrigin: string | undefined): Answer {
  const users = context.fixtures.users.map((u) => `<li><a href="/${escapeHTML(u.username)}">${escapeHTML(u.name)}</a> <span class="handle">@${escapeHTML(u.username)}</span></li>`).join('\n');
  const content =
    '<h1>A local X for your tests</h1>\n' +
    '<p>Sign-ins start in your app, which sends you to this emulator\'s consent page.</p>\n' +
    `<h2>Users</h2>\n<ul>\n${users}\n</ul>` +
    (appOrigin ? '' : '\n<p>No app has sent anyone here yet.</p>');
  return page(200, layout('Home', content, appOrigin !== undefined));
}

function profileContent(user: Readonly<XEmulatorUser>): string {
  const picture = user.profileImageURL ? `<img src="${escapeHTML(user.profileImageURL)}" alt="">` : '';
  const facts: string[] = [];
  if (user.location) facts.push(`<li>${escapeHTML(user.location)}</li>`);
  if (user.url && /^https?:\/\//i.test(user.url)) facts.push(`<li><a href="${escapeHTML(user.url)}" rel="nofollow noreferrer">${escapeHTML(user.url)}</a></li>`);
  if (user.createdAt) facts.push(`<li>Joined ${escapeHTML(new Date(user.createdAt).toLocaleDateString('en', { month: 'long', year: 'numeric', timeZone: 'UTC' }))}</li>`);
  return (
    `<section class="profile">${picture}<div><h1>${escapeHTML(user.name)}</h1><p class="handle">@${escapeHTML(user.username)}</p></div></section>\n` +
    (user.description ? `<p>${escapeHTML(user.description)}</p>\n` : '') +
    (facts.length > 0 ? `<ul>\n${facts.join('\n')}\n</ul>\n` : '') +
    `<p class="handle">User ID <code>${escapeHTML(user.id)}</code></p>`
  );
}

/** `GET /<username>`: the user's profile, where x.com has it; undefined for a name that is no user (the emulator's 404 then). */
export function profilePage(request: EmulatorRequest, context: EmulatorContext): Answer | undefined {
  const name = PROFILE_PATH.exec(request.url.pathname)?.[1]?.toLowerCase();
  const user = name ? context.fixtures.users.find((u) => u.username.toLowerCase() === name) : undefined;
  return user ? page(200, layout(`${user.name} (@${user.username})`, profileContent(user))) : undefined;
}

/** `GET /favicon.ico` */
export function favicon(): Answer {
  return { status: 200, headers: { 'content-type': 'image/svg+xml', 'cache-control': 'public, max-age=86400' }, body: FAVICON_SVG };
}

export { WAY_BACK_PATH };
