/**
 * Whether a callback URL is registered for an app, as X decides it (X doc "Callback URLs").
 * An app without registered URLs accepts any loopback URL, so an app under test may listen
 * on any port.
 */

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
export function isRegisteredOAuth1Callback(registered: readonly string[] | undefined, callback: string): boolean {
  if (registered === undefined) return isLoopbackURL(callback);
  const given = withoutQueryOrFragment(callback);
  return registered.some((url) => withoutQueryOrFragment(url) === given);
}

/**
 * OAuth 2.0: `redirect_uri` must equal a registered URI exactly (X doc "Callback URLs": "an exact
 * match"; RFC 6749 section 3.1.2.3, simple string comparison), and carries no fragment (section 3.1.2).
 */
export function isRegisteredOAuth2RedirectURI(registered: readonly string[] | undefined, redirectURI: string): boolean {
  if (redirectURI.includes('#')) return false;
  if (registered === undefined) return isLoopbackURL(redirectURI);
  return registered.includes(redirectURI);
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
