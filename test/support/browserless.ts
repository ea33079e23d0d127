/**
 * A browser reduced to what a sign-in needs, on `fetch`: a cookie jar per host name (RFC 6265
 * section 8.5: cookies do not isolate by port, so two app instances on 127.0.0.1 share them, as
 * two servers behind one load balancer would), redirects followed one hop at a time (so a test
 * can stop at, inspect or re-route any hop), and HTML forms read and submitted as a browser would
 * (hidden fields, the checked radio button, the pressed submit button).
 *
 * For HTTP-level end-to-end tests; the Chromium tests drive the Express app as a user would.
 */
import { once } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the browser made. */
export interface Hop {
  method: string;
  url: string;
  status: number;
  /** The absolute URL the answer redirects to, if it does. */
  location?: string | undefined;
}

/** What the browser ends on: the last answer, its body as text, and every hop that led to it. */
export interface Page {
  url: string;
  status: number;
  headers: Headers;
  body: string;
  hops: Hop[];
  /** Set when {@link NavigateOptions.stopBefore} stopped the navigation: the redirect not followed. */
  stoppedBefore?: string | undefined;
}

/** How to navigate. */
export interface NavigateOptions {
  method?: string;
  /** A form body (sent as `application/x-www-form-urlencoded`). */
  form?: URLSearchParams | undefined;
  /** Do not follow a redirect to a URL this returns true for; the page has `stoppedBefore` set instead. */
  stopBefore?: ((url: URL) => boolean) | undefined;
  /** Most redirects to follow (default 10). */
  maxRedirects?: number | undefined;
}

/** A form of a page, as the browser would submit it. */
export interface HTMLForm {
  method: string;
  /** The absolute URL the form submits to. */
  action: string;
  /** The successful controls besides submit buttons: hidden and text inputs, checked radios and checkboxes. */
  fields: Array<[string, string]>;
  /** The submit buttons: their name, value and text. */
  buttons: Array<{ name: string | undefined; value: string; text: string }>;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Decodes the character references an HTML serializer writes in attribute values and text. */
export function decodeHTML(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos|#39);/gi, (_m, ref: string) => {
    const lower = ref.toLowerCase();
    if (lower.startsWith('#x')) return String.fromCodePoint(parseInt(lower.slice(2), 16));
    if (lower.startsWith('#')) return String.fromCodePoint(parseInt(lower.slice(1), 10));
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[lower] ?? _m;
  });
}

function attributes(tag: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const m of tag.matchAll(/([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g)) {
    const name = m[1]!.toLowerCase();
    if (!found.has(name)) found.set(name, decodeHTML(m[2] ?? m[3] ?? m[4] ?? ''));
  }
  return found;
}

/**
 * The text a user reads in an HTML page or fragment: the `<main>` element's when there is one,
 * without head, styles and scripts; tags dropped, references decoded, white space collapsed.
 */
export function textOf(html: string): string {
  const main = /<main\b[^>]*>([\s\S]*?)<\/main>/i.exec(html)?.[1] ?? html;
  const visible = main.replace(/<(head|style|script|title)\b[^>]*>[\s\S]*?<\/\1>/gi, ' ');
  return decodeHTML(visible.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim();
}

/** The forms of a page, with their actions resolved against `pageURL`. */
export function readForms(html: string, pageURL: string): HTMLForm[] {
  const forms: HTMLForm[] = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attrs = attributes(m[1]!);
    const content = m[2]!;
    const fields: Array<[string, string]> = [];
    for (const input of content.matchAll(/<input\b([^>]*)>/gi)) {
      const a = attributes(input[1]!);
      const name = a.get('name');
      const type = (a.get('type') ?? 'text').toLowerCase();
      if (name === undefined || a.has('disabled') || type === 'submit' || type === 'button' || type === 'image' || type === 'reset' || type === 'file') continue;
      if ((type === 'radio' || type === 'checkbox') && !a.has('checked')) continue;
      fields.push([name, a.get('value') ?? (type === 'radio' || type === 'checkbox' ? 'on' : '')]);
    }
    const buttons: HTMLForm['buttons'] = [];
    for (const button of content.matchAll(/<button\b([^>]*)>([\s\S]*?)<\/button>/gi)) {
      const a = attributes(button[1]!);
      if ((a.get('type') ?? 'submit').toLowerCase() !== 'submit') continue;
      buttons.push({ name: a.get('name'), value: a.get('value') ?? '', text: textOf(button[2]!) });
    }
    forms.push({ method: (attrs.get('method') ?? 'get').toUpperCase(), action: new URL(attrs.get('action') ?? '', pageURL).href, fields, buttons });
  }
  return forms;
}

/** The absolute URL of the first link on `page` whose text is `text`; throws, listing the links, when there is none. */
export function linkURL(page: Pick<Page, 'url' | 'body'>, text: string): string {
  const links = [...page.body.matchAll(/<a\b([^>]*)>([\s\S]*?)<\/a>/gi)].map((m) => ({ href: attributes(m[1]!).get('href'), text: textOf(m[2]!) }));
  const link = links.find((l) => l.text === text && l.href !== undefined);
  if (!link) throw new Error(`No "${text}" link on ${page.url}; its links: ${links.map((l) => `"${l.text}"`).join(', ') || 'none'}`);
  return new URL(link.href!, page.url).href;
}

/** A fetch-based browser with one cookie jar per host name. */
export class Browser {
  private readonly jars = new Map<string, Map<string, string>>();

  /** Every request made, in order. */
  readonly history: Hop[] = [];

  /** The cookies this browser holds for `hostname` (name to value). */
  cookies(hostname: string): Map<string, string> {
    let jar = this.jars.get(hostname);
    if (!jar) this.jars.set(hostname, (jar = new Map()));
    return jar;
  }

  /** Forgets every cookie (a new browser profile). */
  clearCookies(): void {
    this.jars.clear();
  }

  private storeCookies(url: URL, response: Response): void {
    const jar = this.cookies(url.hostname);
    for (const header of response.headers.getSetCookie()) {
      const [pair = '', ...attrs] = header.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      // A cookie set to expire now or earlier is deleted (RFC 6265 section 5.3, step 11).
      const expired = attrs.some((a) => {
        const [key = '', v = ''] = a.split('=', 2).map((s) => s.trim());
        if (key.toLowerCase() === 'max-age') return Number(v) <= 0;
        if (key.toLowerCase() === 'expires') return Date.parse(v) <= Date.now();
        return false;
      });
      if (expired) jar.delete(name);
      else jar.set(name, value);
    }
  }

  /** One request, redirects not followed; cookies sent and stored. Returns the answer with its body read. */
  async request(url: string, init: { method?: string; form?: URLSearchParams | undefined } = {}): Promise<Omit<Page, 'hops'> & { location?: string }> {
    const target = new URL(url);
    const method = init.method ?? (init.form ? 'POST' : 'GET');
    const headers = new Headers({ accept: 'text/html,application/xhtml+xml,*/*;q=0.8' });
    const jar = this.cookies(target.hostname);
    if (jar.size > 0) headers.set('cookie', [...jar].map(([n, v]) => `${n}=${v}`).join('; '));
    if (init.form) headers.set('content-type', 'application/x-www-form-urlencoded');
    const response = await fetch(target, { method, headers, redirect: 'manual', ...(init.form ? { body: init.form.toString() } : {}) });
    this.storeCookies(target, response);
    const body = await response.text();
    const header = response.headers.get('location');
    const location = REDIRECTS.has(response.status) && header ? new URL(header, target).href : undefined;
    this.history.push({ method, url: target.href, status: response.status, location });
    return { url: target.href, status: response.status, headers: response.headers, body, ...(location ? { location } : {}) };
  }

  /**
   * Opens `url` and follows redirects as a browser does (301/302/303 turn into a GET without a
   * body; 307/308 repeat the method and body), until an answer that is not a redirect, or until
   * `stopBefore` refuses the next one.
   */
  async open(url: string, options: NavigateOptions = {}): Promise<Page> {
    const hops: Hop[] = [];
    let current = url;
    let method = options.method ?? (options.form ? 'POST' : 'GET');
    let form = options.form;
    const maxRedirects = options.maxRedirects ?? 10;
    for (let redirects = 0; ; redirects++) {
      const answer = await this.request(current, { method, form });
      hops.push({ method, url: answer.url, status: answer.status, location: answer.location });
      if (!answer.location) return { ...answer, hops };
      if (options.stopBefore?.(new URL(answer.location))) return { ...answer, hops, stoppedBefore: answer.location };
      if (redirects >= maxRedirects) throw new Error(`More than ${maxRedirects} redirects starting at ${url}; the last went to ${answer.location}`);
      if (answer.status !== 307 && answer.status !== 308) {
        method = 'GET';
        form = undefined;
      }
      current = answer.location;
    }
  }

  /**
   * Submits a form of `page` (the one `pick` chooses, else the one with the `button`, else the first) by pressing the submit button
   * whose text or value is `button` (default: the first), with `fields` overriding or adding values,
   * and follows the redirects.
   */
  async submit(
    page: Pick<Page, 'url' | 'body'>,
    options: { button?: string; fields?: Record<string, string>; pick?: (form: HTMLForm) => boolean } & Omit<NavigateOptions, 'method' | 'form'> = {},
  ): Promise<Page> {
    const forms = readForms(page.body, page.url);
    const hasButton = (f: HTMLForm): boolean => f.buttons.some((b) => b.text === options.button || b.value === options.button);
    // The form picked, else the one with the button pressed, else the first.
    const form = options.pick ? forms.find(options.pick) : options.button !== undefined ? (forms.find(hasButton) ?? forms[0]) : forms[0];
    if (!form) throw new Error(`No${options.pick ? ' matching' : ''} form on ${page.url}. Page text: ${textOf(page.body).slice(0, 500)}`);
    const pressed = options.button === undefined ? form.buttons[0] : form.buttons.find((b) => b.text === options.button || b.value === options.button);
    if (options.button !== undefined && !pressed) {
      throw new Error(`The form on ${page.url} has no "${options.button}" button; it has: ${form.buttons.map((b) => `"${b.text}"`).join(', ') || 'none'}`);
    }
    const data = new URLSearchParams();
    const overrides = options.fields ?? {};
    for (const [name, value] of form.fields) if (!Object.hasOwn(overrides, name)) data.append(name, value);
    for (const [name, value] of Object.entries(overrides)) data.append(name, value);
    if (pressed?.name) data.append(pressed.name, pressed.value);
    const { button: _button, fields: _fields, pick: _pick, ...navigate } = options;
    if (form.method === 'GET') {
      const target = new URL(form.action);
      target.search = data.toString();
      return this.open(target.href, navigate);
    }
    return this.open(form.action, { ...navigate, method: form.method, form: data });
  }
}

/**
 * On the X emulator's consent page, presses "Authorize app" (signing in as `userId`, default the
 * preselected user) or, with `cancel`, "Cancel"; then follows redirects as {@link Browser.submit}.
 * Throws, quoting the page, when `page` is not the consent page.
 */
export async function answerConsent(
  browser: Browser,
  page: Page,
  options: { cancel?: boolean; userId?: string } & Omit<NavigateOptions, 'method' | 'form'> = {},
): Promise<Page> {
  const consent = readForms(page.body, page.url).find((f) => f.buttons.some((b) => b.text === 'Authorize app'));
  if (page.status !== 200 || !consent) {
    throw new Error(`Expected the X emulator's consent page at ${page.url}, got HTTP ${page.status}: ${textOf(page.body).slice(0, 500)}`);
  }
  const { cancel, userId, ...navigate } = options;
  return browser.submit(page, {
    ...navigate,
    pick: (form) => form.buttons.some((b) => b.text === 'Authorize app'),
    button: cancel ? 'Cancel' : 'Authorize app',
    ...(userId !== undefined ? { fields: { user_id: userId } } : {}),
  });
}

/** A server a test started on 127.0.0.1. */
export interface LoopbackServer {
  server: Server;
  port: number;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** Closes the server and every connection, keep-alive ones included. */
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1 and `port` (default 0: a free port the OS picks), serving `handler`; without
 * one, add it later with `server.on('request', ...)` (an app whose callback URLs need the port).
 */
export async function serveOnLoopback(handler?: RequestListener, port = 0): Promise<LoopbackServer> {
  const server = handler ? createServer(handler) : createServer();
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const actual = (server.address() as AddressInfo).port;
  return {
    server,
    port: actual,
    origin: `http://127.0.0.1:${actual}`,
    async close() {
      if (!server.listening) return;
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}
