/**
 * The person in front of the browser, for tests: answers the emulator's consent page as a person
 * would (load it, read its form, pick a user, press a button) and hands back where the browser
 * goes next; and a whole sign-in through an app, cookies included, so a test of your own app
 * needs neither a browser nor HTML parsing.
 */
import type { XEmulatorUser } from './fixtures';

/** Which button {@link XEmulatorConsentOptions.action} presses on the consent page. */
export type XEmulatorConsentAction = 'authorize' | 'cancel';

/** How to answer the consent page. */
export interface XEmulatorConsentOptions {
  /**
   * Who signs in: an emulator user's username (`'ada'` or `'@ada'`, any case) or ID. Default: the
   * user the page preselects (the first of `x.users`, or the `screenName` of an OAuth 1.0a sign-in).
   */
  user?: string | undefined;
  /** `'authorize'` (default) presses "Authorize app"; `'cancel'` presses "Cancel". */
  action?: XEmulatorConsentAction | undefined;
}

/** How {@link XEmulator.signIn} starts. */
export interface XEmulatorSignInOptions extends XEmulatorConsentOptions {
  /** A `Cookie` header for the app, sent with the first request (an existing session, e.g. to link an account). */
  cookie?: string | undefined;
}

/** What {@link XEmulator.signIn} ends with. */
export interface XEmulatorSignInResult {
  /** The app's answer to the callback, not followed: its `status` and `location` header say how the sign-in ended. */
  response: Response;
  /** The callback URL the consent page sent the browser to (with `code` and `state`, `oauth_token` and `oauth_verifier`, or the error). */
  callbackURL: string;
  /**
   * The `Cookie` header the browser now holds for the callback's host: send it with the next
   * requests to the app to act as the signed-in user, e.g. `fetch(profileURL, { headers: { cookie } })`.
   */
  cookie: string;
}

/** The consent form of a page, as a browser reads it. */
interface ConsentForm {
  action: string;
  hidden: Array<[string, string]>;
  users: Array<{ id: string; checked: boolean }>;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function fail(message: string): never {
  throw new TypeError(`passport-x/testing: ${message}`);
}

/** Decodes the character references the emulator writes (see `escapeHTML` in consent-page.ts). */
function decodeHTML(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (_m, ref: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[ref] as string);
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return match ? decodeHTML(match[1]!) : undefined;
}

/** Reads the consent form; undefined when the page has none (an error, PIN or cancelled page). */
function readConsentForm(html: string): ConsentForm | undefined {
  const formTag = /<form\b[^>]*>/.exec(html)?.[0];
  const action = formTag && /\smethod="post"/i.test(formTag) ? attribute(formTag, 'action') : undefined;
  if (action === undefined) return undefined;
  const hidden: Array<[string, string]> = [];
  const users: ConsentForm['users'] = [];
  for (const [tag] of html.matchAll(/<input\b[^>]*>/g)) {
    const type = attribute(tag, 'type');
    const name = attribute(tag, 'name');
    const value = attribute(tag, 'value') ?? '';
    if (type === 'hidden' && name !== undefined) hidden.push([name, value]);
    if (type === 'radio' && name === 'user_id') users.push({ id: value, checked: /\schecked\b/.test(tag) });
  }
  return { action, hidden, users };
}

/** The text of a page without a form (title and explanation), for an error message. */
function pageText(html: string): string {
  const heading = /<h1>([\s\S]*?)<\/h1>/.exec(html)?.[1];
  const paragraph = /<\/h1>\s*<p>([\s\S]*?)<\/p>/.exec(html)?.[1];
  const strip = (s: string): string => decodeHTML(s.replace(/<[^>]*>/g, '')).replace(/\s+/g, ' ').trim();
  return [heading, paragraph].filter((s): s is string => s !== undefined).map(strip).join(': ') || 'a page without a consent form';
}

function findUser(users: ReadonlyArray<Readonly<XEmulatorUser>>, wanted: string): Readonly<XEmulatorUser> {
  const name = wanted.replace(/^@/, '').toLowerCase();
  const user = users.find((u) => u.id === wanted || u.username.toLowerCase() === name);
  if (!user) fail(`consent(): no emulator user "${wanted}"; the users are ${users.map((u) => `${u.username} (${u.id})`).join(', ')}.`);
  return user;
}

function checkConsentOptions(options: unknown): { user: string | undefined; action: XEmulatorConsentAction } {
  if (typeof options !== 'object' || options === null) fail('consent() takes an options object: { user?, action? }.');
  const { user, action } = options as XEmulatorConsentOptions;
  if (user !== undefined && (typeof user !== 'string' || user === '')) fail('`user` must be a username or user ID of the emulator, such as "ada".');
  if (action !== undefined && action !== 'authorize' && action !== 'cancel') fail("`action` must be 'authorize' or 'cancel'.");
  return { user, action: action ?? 'authorize' };
}

/**
 * Answers the consent page at `pageURL` (the `Location` an app's sign-in start redirected to):
 * loads it, reads its form, picks `options.user`, presses the button, and returns the URL the
 * emulator sends the browser to, i.e. the app's callback. An authorization request the emulator
 * sends straight back (e.g. `?error=invalid_scope`) returns that callback URL, as a browser
 * would follow it. Throws when the page is not this emulator's, or shows an error instead of a form.
 */
export async function answerConsent(
  emulatorURL: string,
  users: ReadonlyArray<Readonly<XEmulatorUser>>,
  pageURL: string | URL,
  options: XEmulatorConsentOptions = {},
): Promise<string> {
  const { user, action } = checkConsentOptions(options);
  let page: URL;
  try {
    page = new URL(pageURL);
  } catch {
    fail('consent() needs the absolute URL of the consent page: the `location` header of the app\'s redirect to X.');
  }
  const origin = new URL(emulatorURL).origin;
  if (page.origin !== origin) {
    fail(
      `consent() was given a page at ${page.origin}${page.pathname}, not at this emulator (${origin}). ` +
        'Point the strategy at the emulator: spread x.oauth2StrategyOptions(...) or x.oauth1StrategyOptions(...) into its options (they set baseURL and, for OAuth 2.0, authorizationURL).',
    );
  }
  const shown = await fetch(page, { redirect: 'manual' });
  const shownLocation = shown.headers.get('location');
  if (REDIRECTS.has(shown.status) && shownLocation) {
    await shown.body?.cancel();
    return new URL(shownLocation, page).href;
  }
  const html = await shown.text();
  const form = shown.status === 200 ? readConsentForm(html) : undefined;
  if (!form) throw new Error(`passport-x/testing: the emulator answered ${page.pathname} with ${shown.status} and no consent form: ${pageText(html)}`);

  const fields = new URLSearchParams(form.hidden);
  const chosen = user !== undefined ? findUser(users, user).id : form.users.find((u) => u.checked)?.id;
  if (chosen !== undefined) fields.set('user_id', chosen);
  fields.set('action', action);
  const answered = await fetch(new URL(form.action, page), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: fields,
    redirect: 'manual',
  });
  const location = answered.headers.get('location');
  if (REDIRECTS.has(answered.status) && location) {
    await answered.body?.cancel();
    return new URL(location, page).href;
  }
  const after = await answered.text();
  // An out-of-band (oauth_callback=oob) sign-in ends on a page with a PIN, not at a callback.
  throw new Error(`passport-x/testing: the consent page did not send the browser back to the app (${answered.status}): ${pageText(after)}`);
}

/** A cookie as the jar keeps it: its value, and the attributes that decide when it is sent. */
interface JarCookie {
  name: string;
  value: string;
  /** `Path` (RFC 6265 section 5.2.4), or the default path of the URL that set it (section 5.1.4). */
  path: string;
  /** `SameSite`, lower-cased; a cookie without it is `lax`, as browsers treat it. */
  sameSite: 'strict' | 'lax' | 'none';
  /** `Secure`: sent only to a secure origin ({@link isSecureCookieOrigin}). */
  secure: boolean;
}

/**
 * Whether a browser counts `url` as a secure origin for cookies (the storage model of RFC 6265bis): https,
 * or plain http to a loopback host (`localhost`, a name under `.localhost`, 127.0.0.0/8, `[::1]`),
 * which Chromium and Firefox treat as secure. Only such an origin may set, or is sent, a `Secure` cookie.
 */
export function isSecureCookieOrigin(url: URL): boolean {
  if (url.protocol === 'https:') return true;
  if (url.protocol !== 'http:') return false;
  // A name may end in the root's dot (`localhost.`), which browsers resolve alike.
  const host = url.hostname.endsWith('.') ? url.hostname.slice(0, -1) : url.hostname;
  return host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/**
 * Whether browsers keep a cookie with these attributes at all: a `SameSite=None` cookie needs
 * `Secure`; a `Secure` cookie a secure origin; a `__Secure-` cookie `Secure`; a `__Host-` cookie
 * `Secure`, no `Domain` and `Path=/` (RFC 6265bis; its prefixes matched whatever their case).
 */
function acceptedByBrowsers(name: string, secure: boolean, secureOrigin: boolean, sameSite: JarCookie['sameSite'], domain: boolean, path: string | undefined): boolean {
  if ((sameSite === 'none' || /^__secure-/i.test(name)) && !secure) return false;
  if (secure && !secureOrigin) return false;
  return !/^__host-/i.test(name) || (secure && !domain && path === '/');
}

/** RFC 6265 section 5.1.4: the directory of the request's path. */
function defaultPath(url: URL): string {
  const path = url.pathname;
  const last = path.lastIndexOf('/');
  return last <= 0 ? '/' : path.slice(0, last);
}

/** RFC 6265 section 5.1.4: whether a request to `requestPath` carries a cookie of `cookiePath`. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  return requestPath.startsWith(cookiePath) && (cookiePath.endsWith('/') || requestPath.charAt(cookiePath.length) === '/');
}

/**
 * Cookies by host name, as a browser keeps them (RFC 6265 section 8.5: not by port), with their
 * `Path`, `SameSite` and `Secure`: the callback comes from X's site, so a `SameSite=Strict` cookie
 * stays behind on it; a `SameSite=None` cookie without `Secure` is refused, and so is a `Secure`
 * cookie from, or to, an origin that is not secure (plain http to a host that is not loopback), as browsers do.
 */
export class CookieJar {
  private readonly byHost = new Map<string, Map<string, JarCookie>>();

  /** Reads a `Cookie` header given by the caller into the jar of `host` (for every path, sent as a `Lax` cookie is). */
  addHeader(host: string, header: string): void {
    const jar = this.jar(host);
    for (const pair of header.split(';')) {
      const at = pair.indexOf('=');
      if (at <= 0) continue;
      const name = pair.slice(0, at).trim();
      jar.set(`${name};/`, { name, value: pair.slice(at + 1).trim(), path: '/', sameSite: 'lax', secure: false });
    }
  }

  /**
   * Stores the `Set-Cookie` headers of an answer to `url`; an expired cookie is removed. `Max-Age`
   * wins over `Expires`, and a malformed one of either is ignored (RFC 6265 sections 5.2.1, 5.2.2
   * and 5.3). What browsers refuse is left out: a `SameSite=None` cookie without `Secure`, a
   * `Secure` one from an origin that is not secure, a `__Secure-` one without `Secure`, a `__Host-`
   * one without `Secure`, with a `Domain` or with a `Path` other than `/`, and, from an origin that
   * is not secure, one that would overwrite or delete a `Secure` cookie of the same name whose path
   * covers its own (RFC 6265bis).
   */
  store(url: URL, response: Response): void {
    const jar = this.jar(url.hostname);
    const secureOrigin = isSecureCookieOrigin(url);
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const at = pair.indexOf('=');
      if (at <= 0) continue;
      const name = pair.slice(0, at).trim();
      let maxAge: number | undefined;
      let expires: number | undefined;
      let secure = false;
      let domain = false;
      let path: string | undefined;
      let sameSite: JarCookie['sameSite'] = 'lax';
      for (const attribute of attributes) {
        const eq = attribute.indexOf('=');
        const key = (eq < 0 ? attribute : attribute.slice(0, eq)).trim().toLowerCase();
        const value = eq < 0 ? '' : attribute.slice(eq + 1).trim();
        if (key === 'max-age') {
          if (/^-?\d+$/.test(value)) maxAge = Number(value);
        } else if (key === 'expires') {
          const time = Date.parse(value);
          if (!Number.isNaN(time)) expires = time;
        } else if (key === 'secure') secure = true;
        else if (key === 'domain') domain ||= value !== '';
        else if (key === 'path' && value.startsWith('/')) path = value;
        else if (key === 'samesite') {
          const kind = value.toLowerCase();
          sameSite = kind === 'strict' || kind === 'none' ? kind : 'lax';
        }
      }
      const cookiePath = path ?? defaultPath(url);
      if (!acceptedByBrowsers(name, secure, secureOrigin, sameSite, domain, path)) continue;
      if (!secureOrigin && this.shadowsSecure(jar, name, cookiePath)) continue;
      const expired = maxAge !== undefined ? maxAge <= 0 : expires !== undefined && expires <= Date.now();
      // A cookie is its name and path (RFC 6265 section 5.3): the same name on two paths is two cookies.
      if (expired) jar.delete(`${name};${cookiePath}`);
      else jar.set(`${name};${cookiePath}`, { name, value: pair.slice(at + 1).trim(), path: cookiePath, sameSite, secure });
    }
  }

  /** Whether `jar` holds a `Secure` cookie named `name` whose path covers `path`: one an origin that is not secure leaves alone. */
  private shadowsSecure(jar: Map<string, JarCookie>, name: string, path: string): boolean {
    for (const cookie of jar.values()) if (cookie.secure && cookie.name === name && pathMatches(path, cookie.path)) return true;
    return false;
  }

  /**
   * The `Cookie` header of a request to `url`: the cookies of its host whose path matches, but a
   * `Secure` one to an origin that is not secure; on a navigation from another site (`crossSite`:
   * X's consent page sending the browser back), none that is `SameSite=Strict`.
   */
  header(url: URL, crossSite = false): string {
    const sent: string[] = [];
    const secureOrigin = isSecureCookieOrigin(url);
    for (const cookie of this.jar(url.hostname).values()) {
      if ((crossSite && cookie.sameSite === 'strict') || (cookie.secure && !secureOrigin)) continue;
      if (pathMatches(url.pathname, cookie.path)) sent.push(`${cookie.name}=${cookie.value}`);
    }
    return sent.join('; ');
  }

  /** Every cookie of `host`, whatever its path and SameSite: what the browser holds for it. */
  held(host: string): string {
    return [...this.jar(host).values()].map((cookie) => `${cookie.name}=${cookie.value}`).join('; ');
  }

  private jar(host: string): Map<string, JarCookie> {
    let jar = this.byHost.get(host);
    if (!jar) this.byHost.set(host, (jar = new Map()));
    return jar;
  }
}

/** One request to the app with the jar's cookies (`crossSite`: a navigation from X's site); the answer is not followed. */
async function requestApp(jar: CookieJar, url: URL, crossSite = false): Promise<Response> {
  const cookie = jar.header(url, crossSite);
  const response = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  jar.store(url, response);
  return response;
}

/** How many of its own redirects an app may make before it sends the browser to X. */
const MAX_APP_REDIRECTS = 5;

/**
 * Whether a redirect from `from` stays with the app, as a browser would follow it on the way to X:
 * to the same origin (`/login/x` to `/auth/x`, a trailing slash added), or to the same path and
 * query on another origin (a canonical host: `localhost` to `127.0.0.1`, `http:` to `https:`).
 */
function isAppRedirect(from: URL, to: URL): boolean {
  if (to.protocol !== 'http:' && to.protocol !== 'https:') return false;
  return to.origin === from.origin || (to.pathname === from.pathname && to.search === from.search);
}

/**
 * Requests `start` at the app and follows the app's own redirects (at most
 * {@link MAX_APP_REDIRECTS}) until one leads to the emulator: that is the consent page. Throws
 * when the app answers anything but a redirect, or redirects somewhere that is neither itself nor
 * the emulator (the strategy is not pointed here).
 */
async function followAppToConsent(jar: CookieJar, start: URL, emulatorOrigin: string): Promise<URL> {
  let url = start;
  for (let hops = 0; ; hops++) {
    const answer = await requestApp(jar, url);
    const location = answer.headers.get('location');
    if (!REDIRECTS.has(answer.status) || !location) {
      const body = (await answer.text()).slice(0, 300);
      throw new Error(`passport-x/testing: ${url.pathname} answered ${answer.status} instead of a redirect to X's consent page${body ? `: ${body}` : ''}`);
    }
    await answer.body?.cancel();
    const next = new URL(location, url);
    if (next.origin === emulatorOrigin) return next;
    if (!isAppRedirect(url, next)) {
      fail(
        `signIn(): ${url.pathname} redirected to ${next.origin}${next.pathname}, which is neither this emulator (${emulatorOrigin}) nor the app itself. ` +
          'Point the strategy at the emulator: spread x.oauth2StrategyOptions(...) or x.oauth1StrategyOptions(...) into its options (they set baseURL and, for OAuth 2.0, authorizationURL).',
      );
    }
    if (hops === MAX_APP_REDIRECTS) throw new Error(`passport-x/testing: signIn(): the app redirected ${MAX_APP_REDIRECTS + 1} times without sending the browser to X's consent page (last: ${next.pathname})`);
    url = next;
  }
}

/**
 * A whole sign-in as a browser makes it: `GET startURL` at the app (keeping its cookies), the
 * app's own redirects followed (same origin, or a canonical host), its redirect to the emulator's
 * consent page answered with {@link answerConsent}, then `GET` of the callback URL with the
 * cookies of the callback's host, sent as after a navigation from X's site (no `SameSite=Strict`
 * cookie). A callback on another host than the
 * start (`localhost` against `127.0.0.1`) gets no cookie, as in a browser, and the app refuses it.
 */
export async function signInThroughApp(
  emulatorURL: string,
  users: ReadonlyArray<Readonly<XEmulatorUser>>,
  startURL: string | URL,
  options: XEmulatorSignInOptions = {},
): Promise<XEmulatorSignInResult> {
  checkConsentOptions(options);
  let start: URL;
  try {
    start = new URL(startURL);
  } catch {
    fail('signIn() needs the absolute URL of the app\'s sign-in route, such as http://127.0.0.1:3000/auth/x.');
  }
  if (options.cookie !== undefined && typeof options.cookie !== 'string') fail('`cookie` must be a Cookie header string.');
  const jar = new CookieJar();
  if (options.cookie) jar.addHeader(start.hostname, options.cookie);

  const consentPage = await followAppToConsent(jar, start, new URL(emulatorURL).origin);
  const callbackURL = await answerConsent(emulatorURL, users, consentPage, options);
  const callback = new URL(callbackURL);
  // X's consent page sends the browser back: a navigation from another site.
  const response = await requestApp(jar, callback, true);
  return { response, callbackURL, cookie: jar.held(callback.hostname) };
}
