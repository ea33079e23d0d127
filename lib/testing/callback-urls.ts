/**
 * Whether a callback URL is registered for an app, as X decides it (X doc "Developer apps",
 * "Callback URLs": "URLs must match exactly (including trailing slashes)"): `localhost` and
 * `127.0.0.1` are different hosts; at most 10 URLs per app; no `javascript:`, `data:`, `file:`... Tests register their app's URL in the fixtures or
 * with `x.addCallbackURL()`, as a developer does in the portal.
 */

/** X's limit of callback URLs per app (X doc "Developer apps", "Callback URLs": "Maximum of 10 callback URLs per app"). */
export const MAX_CALLBACK_URLS = 10;

/** Whether `url` points at this machine: 127.0.0.0/8, `localhost` or `[::1]`, over http or https. */
export function isLoopbackURL(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
  if (parsed.username !== '' || parsed.password !== '') return false;
  const host = parsed.hostname.toLowerCase();
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function withoutQueryOrFragment(url: string): string {
  return url.split('#')[0]!.split('?')[0]!;
}

/**
 * OAuth 1.0a: `oauth_callback` must be a registered URL; X lets the request add a query string
 * to it (X doc "Callback URLs": "Twitter will allow you to pass any standard query strings along
 * with your callback URL"), so the query is left out of the comparison.
 */
export function isRegisteredOAuth1Callback(registered: readonly string[], callback: string): boolean {
  const given = withoutQueryOrFragment(callback);
  return registered.some((url) => withoutQueryOrFragment(url) === given);
}

/**
 * OAuth 2.0: `redirect_uri` must equal a registered URI exactly (X doc "Callback URLs": "an exact
 * match"; RFC 6749 section 3.1.2.3, simple string comparison), and carries no fragment (section 3.1.2).
 */
export function isRegisteredOAuth2RedirectURI(registered: readonly string[], redirectURI: string): boolean {
  if (redirectURI.includes('#')) return false;
  return registered.includes(redirectURI);
}

/**
 * Why a callback URL X would refuse is not registered, when it nearly is: the same URL with the
 * other loopback name (X treats `localhost` and `127.0.0.1` as different hosts), or with or
 * without a trailing slash. `undefined` when no registered URL is that close.
 */
export function nearMiss(registered: readonly string[], callback: string): string | undefined {
  const given = withoutQueryOrFragment(callback);
  if (isLoopbackURL(given)) {
    const swapped = given.replace(/^(https?:\/\/)(localhost|127\.0\.0\.1)(?=[:/]|$)/i, (_m, scheme: string, host: string) => `${scheme}${host.toLowerCase() === 'localhost' ? '127.0.0.1' : 'localhost'}`);
    if (swapped !== given && registered.some((url) => withoutQueryOrFragment(url) === swapped)) {
      return `${swapped} is registered, and X treats localhost and 127.0.0.1 as different hosts`;
    }
  }
  const toggled = given.endsWith('/') ? given.slice(0, -1) : `${given}/`;
  if (registered.some((url) => withoutQueryOrFragment(url) === toggled)) return `${toggled} is registered, and X compares the trailing slash too`;
  return undefined;
}

// X doc "Developer apps": "These protocols cannot be used" (the full list).
const DISALLOWED_SCHEMES = new Set(
  'vbscript javascript vbs data mocha keyword livescript ftp file gopher acrobat callto daap itpc itms firefoxurl hcp ldap mailto mmst mmsu msbd rtsp mso-offdap snews news nntp outlook stssync rlogin telnet tn3270 shell sip'.split(' '),
);

/** Which of the emulator's apps a callback URL is registered for. */
export type XEmulatorAppKind = 'oauth1' | 'confidential' | 'public';

/**
 * Whether a URL holds a control character (C0 or DEL): the WHATWG URL parser drops tabs and line
 * breaks without a word, and in a `Location` header they would end the header.
 */
export function hasControlCharacter(url: string): boolean {
  for (let i = 0; i < url.length; i++) {
    const code = url.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** Checks a callback URL as X's portal does before registering it; throws a TypeError naming `name`. */
export function checkCallbackURL(url: unknown, name: string): string {
  if (typeof url !== 'string' || url === '') throw new TypeError(`passport-x/testing: \`${name}\` must be a non-empty string.`);
  if (hasControlCharacter(url)) throw new TypeError(`passport-x/testing: \`${name}\` has a control character (a tab, a line break...).`);
  try {
    new URL(url);
  } catch {
    throw new TypeError(`passport-x/testing: \`${name}\` is not an absolute URL.`);
  }
  // RFC 6749 section 3.1.2: a redirection endpoint MUST NOT include a fragment.
  if (url.includes('#')) throw new TypeError(`passport-x/testing: \`${name}\` must not have a #fragment.`);
  // X doc "Developer apps", "Disallowed protocols".
  const scheme = new URL(url).protocol.slice(0, -1).toLowerCase();
  if (DISALLOWED_SCHEMES.has(scheme)) throw new TypeError(`passport-x/testing: \`${name}\` uses the ${scheme}: scheme, which X does not allow for callback URLs.`);
  return url;
}

/** The callback URLs registered for each app, editable while the emulator runs (as in X's developer portal). */
export class CallbackRegistry {
  private readonly lists: Record<XEmulatorAppKind, string[]>;

  constructor(initial: Record<XEmulatorAppKind, readonly string[]>) {
    this.lists = { oauth1: [...initial.oauth1], confidential: [...initial.confidential], public: [...initial.public] };
  }

  /** The URLs registered for `app`. */
  get(app: XEmulatorAppKind): readonly string[] {
    return this.lists[app];
  }

  /** Registers `url` for each of `apps` (already registered: nothing changes); a RangeError past X's 10 per app, changing nothing. */
  add(url: string, apps: readonly XEmulatorAppKind[]): void {
    for (const app of apps) {
      const list = this.lists[app];
      if (!list.includes(url) && list.length >= MAX_CALLBACK_URLS) {
        throw new RangeError(
          `passport-x/testing: the ${app} app already has ${MAX_CALLBACK_URLS} callback URLs, X's limit per app; remove one with x.removeCallbackURL() first.`,
        );
      }
    }
    for (const app of apps) if (!this.lists[app].includes(url)) this.lists[app].push(url);
  }

  /** Unregisters `url` from each of `apps`; true when it was registered anywhere. */
  remove(url: string, apps: readonly XEmulatorAppKind[]): boolean {
    let removed = false;
    for (const app of apps) {
      const list = this.lists[app];
      const at = list.indexOf(url);
      if (at >= 0) {
        list.splice(at, 1);
        removed = true;
      }
    }
    return removed;
  }
}

/**
 * Adds parameters to a callback URL, keeping its own query as it was written (re-serialising it
 * through `URLSearchParams` would change its encoding).
 */
export function appendQuery(url: string, params: Record<string, string>): string {
  const hashAt = url.indexOf('#');
  const base = hashAt === -1 ? url : url.slice(0, hashAt);
  const query = new URLSearchParams(params).toString();
  const separator = base.includes('?') ? (base.endsWith('?') || base.endsWith('&') ? '' : '&') : '?';
  return `${base}${separator}${query}`;
}
