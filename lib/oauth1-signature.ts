/**
 * OAuth 1.0a request signing, HMAC-SHA1 (RFC 5849 section 3.4, X doc "Creating a signature").
 */
import { createHmac } from 'node:crypto';
import { randomString } from './random';
import { hasControlCharacter, hasLoneSurrogate } from './errors';

/** A list of name/value pairs; names may repeat (RFC 5849 section 3.4.1.3). */
export type OAuthParamList = Array<[string, string]>;

/**
 * Percent-encodes per RFC 3986 section 2.1 as RFC 5849 section 3.6 requires: everything
 * but `A-Z a-z 0-9 - . _ ~` is encoded, in upper-case hex.
 */
export function percentEncode(value: string): string {
  // Keys, nonces, timestamps and X's tokens are unreserved characters only: nothing to encode.
  if (UNRESERVED_ONLY.test(value)) return value;
  const encoded = encodeURIComponent(value);
  // encodeURIComponent leaves !'()* alone; RFC 3986 reserves them. Most values have none.
  return RESERVED_BY_3986.test(encoded) ? encoded.replace(RESERVED_BY_3986_ALL, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`) : encoded;
}
const UNRESERVED_ONLY = /^[A-Za-z0-9\-._~]*$/;
const RESERVED_BY_3986 = /[!'()*]/;
const RESERVED_BY_3986_ALL = /[!'()*]/g;

/** The base string URI (RFC 5849 section 3.4.1.2): scheme and host lower-cased, default port dropped, no query or fragment. */
export function baseStringURI(url: string | URL): string {
  const u = typeof url === 'string' ? new URL(url) : url;
  // WHATWG URL already lower-cases scheme and host and drops the default port.
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/** Orders encoded name/value pairs by name, then value (RFC 5849 section 3.4.1.3.2). */
const byEncodedPair = (a: readonly [string, string], b: readonly [string, string]): number =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;

/** Normalised parameters (RFC 5849 section 3.4.1.3.2): encoded, sorted by name then value, joined with `&`. */
export function normalizeParameters(params: OAuthParamList): string {
  return params
    .map(([k, v]) => [percentEncode(k), percentEncode(v)] as const)
    .sort(byEncodedPair)
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/**
 * The signature base string (RFC 5849 section 3.4.1): `METHOD&enc(base URI)&enc(normalised params)`.
 * `params` must already hold the query, the form body and the `oauth_*` parameters (not `oauth_signature`).
 */
export function signatureBaseString(method: string, url: string | URL, params: OAuthParamList): string {
  return [method.toUpperCase(), percentEncode(baseStringURI(url)), percentEncode(normalizeParameters(params))].join('&');
}

/** HMAC-SHA1 signature (RFC 5849 section 3.4.2), base64. Key: `enc(consumerSecret)&enc(tokenSecret)`. */
export function hmacSha1Signature(baseString: string, consumerSecret: string, tokenSecret = ''): string {
  const key = `${percentEncode(consumerSecret)}&${percentEncode(tokenSecret)}`;
  return createHmac('sha1', key).update(baseString).digest('base64');
}

/** A fresh nonce: 16 random bytes from the CSPRNG (128 bits), as 32 hex characters. */
export function createNonce(): string {
  return randomString(16, 'hex');
}

/** Input of {@link oauth1AuthorizationHeader}. */
export interface OAuth1SignOptions {
  /** HTTP method, e.g. `'POST'`. */
  method: string;
  /** The full request URL; its query parameters are signed too. */
  url: string;
  /**
   * Form-body parameters (`application/x-www-form-urlencoded`) to sign, and extra `oauth_*` protocol
   * parameters such as `oauth_callback` or `oauth_verifier` (each at most once). The parameters the
   * signer sets (`oauth_consumer_key`, `oauth_nonce`,
   * `oauth_signature`, `oauth_signature_method`, `oauth_timestamp`, `oauth_token`, `oauth_version`)
   * are refused with a TypeError, here and in the query of `url`.
   */
  params?: Record<string, string> | OAuthParamList | undefined;
  /** The app's consumer key (API key). */
  consumerKey: string;
  /** The app's consumer secret (API key secret). */
  consumerSecret: string;
  /** The user's access token (or request token), when signing on a user's behalf. */
  token?: string | undefined;
  /** The secret of `token`. */
  tokenSecret?: string | undefined;
  /** Override the nonce (tests only; default: random). */
  nonce?: string | undefined;
  /** Override the timestamp, in seconds since the epoch (tests only; default: now). */
  timestamp?: number | string | undefined;
}

/** The parts of a signed request, for callers that need more than the header. */
export interface OAuth1SignedRequest {
  /** The `Authorization` header value, `OAuth oauth_consumer_key="...", ...`. */
  header: string;
  /** The signature base string (RFC 5849 section 3.4.1). */
  baseString: string;
  /** The base64 signature. */
  signature: string;
}

/**
 * The protocol parameters the signer sets itself (RFC 5849 section 3.1). A caller's copy would go
 * out as a second value of the same parameter, which X refuses, or, worse, sign a spoofed one.
 * `oauth_callback` and `oauth_verifier` are the caller's to give (steps 1 and 3 of the flow).
 */
export const SIGNER_OWNED_OAUTH_PARAMS: ReadonlySet<string> = new Set([
  'oauth_consumer_key',
  'oauth_nonce',
  'oauth_signature',
  'oauth_signature_method',
  'oauth_timestamp',
  'oauth_token',
  'oauth_version',
]);

function argumentError(name: string, expected: string): TypeError {
  // Never the value: it may be a secret.
  return new TypeError(`passport-x: oauth1AuthorizationHeader() needs \`${name}\` to be ${expected}.`);
}

function toList(params: unknown): OAuthParamList {
  if (params === undefined || params === null) return [];
  if (Array.isArray(params)) {
    return params.map((pair: unknown, i) => {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
        throw argumentError(`params[${i}]`, 'a [name, value] pair of strings');
      }
      return [pair[0], pair[1]];
    });
  }
  const proto: unknown = typeof params === 'object' ? Object.getPrototypeOf(params) : undefined;
  if (typeof params !== 'object' || (proto !== Object.prototype && proto !== null)) {
    throw argumentError('params', 'an object of string values or an array of [name, value] pairs');
  }
  return Object.entries(params as Record<string, unknown>).map(([k, v]) => {
    if (typeof v !== 'string') throw argumentError(`params.${k}`, 'a string (numbers and booleans too must be given as the text sent)');
    return [k, v];
  });
}

function requireString(value: unknown, name: string): void {
  if (typeof value !== 'string' || value === '') throw argumentError(name, 'a non-empty string');
  requireWellFormed(value, name);
}

// A lone UTF-16 surrogate cannot be percent-encoded (RFC 5849 section 3.6 encodes UTF-8 octets).
function requireWellFormed(value: string, name: string): void {
  if (hasLoneSurrogate(value)) throw argumentError(name, 'well-formed Unicode (no lone UTF-16 surrogate)');
}

/** Refuses the signer's own protocol parameters and repeated `oauth_*` parameters among `params` (or the URL's query, named `where`). */
function checkProtocolParams(params: OAuthParamList, where: (i: number) => string): void {
  const seen = new Set<string>();
  params.forEach(([name], i) => {
    if (SIGNER_OWNED_OAUTH_PARAMS.has(name)) {
      throw new TypeError(
        `passport-x: oauth1AuthorizationHeader() sets \`${name}\` itself, so ${where(i)} may not carry it (it would be sent twice, or sign a spoofed value). ` +
          'Pass the token as `token`; leave the other protocol parameters to the signer.',
      );
    }
    if (name.startsWith('oauth_')) {
      if (seen.has(name)) throw new TypeError(`passport-x: oauth1AuthorizationHeader() got the protocol parameter \`${name}\` twice (${where(i)}); RFC 5849 section 3.1 allows it once.`);
      seen.add(name);
    }
  });
}

/** Signs a request and returns the header, base string and signature. See {@link oauth1AuthorizationHeader}. */
export function signOAuth1Request(options: OAuth1SignOptions): OAuth1SignedRequest {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError('passport-x: oauth1AuthorizationHeader() needs an options object ({ method, url, consumerKey, consumerSecret, ... }).');
  }
  requireString(options.method, 'method');
  // RFC 9110 section 9.1: a method is a token; HMAC-SHA1 signs it upper-cased (RFC 5849 section 3.4.1.1).
  if (!/^[A-Za-z]+$/.test(options.method)) throw argumentError('method', 'an HTTP method such as GET or POST');
  requireString(options.url, 'url');
  requireString(options.consumerKey, 'consumerKey');
  if (typeof options.consumerSecret !== 'string') throw argumentError('consumerSecret', 'a string');
  requireWellFormed(options.consumerSecret, 'consumerSecret');
  if (options.token !== undefined) requireString(options.token, 'token');
  if (options.tokenSecret !== undefined && typeof options.tokenSecret !== 'string') throw argumentError('tokenSecret', 'a string');
  if (options.tokenSecret !== undefined) requireWellFormed(options.tokenSecret, 'tokenSecret');
  if (options.nonce !== undefined && (typeof options.nonce !== 'string' || options.nonce === '' || hasControlCharacter(options.nonce))) {
    throw argumentError('nonce', 'a non-empty string without control characters');
  }
  const { timestamp } = options;
  if (timestamp !== undefined && !(typeof timestamp === 'number' ? Number.isSafeInteger(timestamp) && timestamp >= 0 : typeof timestamp === 'string' && /^\d{1,15}$/.test(timestamp))) {
    throw argumentError('timestamp', 'a whole number of seconds since the epoch (RFC 5849 section 3.3)');
  }
  let parsedURL: URL;
  try {
    parsedURL = new URL(options.url);
  } catch {
    throw argumentError('url', 'an absolute URL');
  }
  if (parsedURL.protocol !== 'https:' && parsedURL.protocol !== 'http:') throw argumentError('url', 'an absolute http(s) URL');

  const given = toList(options.params);
  for (const [k, v] of given) if (hasLoneSurrogate(k) || hasLoneSurrogate(v)) throw argumentError('params', 'names and values in well-formed Unicode (no lone UTF-16 surrogate)');
  const target = signingTargetOf(options.url, parsedURL);
  checkProtocolParams(given, (i) => (Array.isArray(options.params) ? `\`params[${i}]\`` : '`params`'));
  checkProtocolParams([...target.query, ...given.filter(([k]) => k.startsWith('oauth_'))], (i) => (i < target.query.length ? 'the query of `url`' : '`params`'));
  const timestampText = timestamp === undefined ? undefined : String(timestamp);
  return signChecked(options.method, target, options.consumerKey, options.consumerSecret, options.token, options.tokenSecret ?? '', given, options.nonce, timestampText);
}

/** What signing needs of a request URL (RFC 5849 section 3.4.1.2-3): its base string URI, encoded, and its query parameters. */
interface SigningTarget {
  /** percentEncode(base string URI). */
  readonly encodedBaseURI: string;
  /** The query's name/value pairs, decoded. */
  readonly query: OAuthParamList;
  /** The same pairs percent-encoded, as they are signed (shared by every request to the URL: never modified). */
  readonly encodedQuery: OAuthParamList;
}

// Each URL signed, parsed once: a process signs requests to a handful of X's endpoints, again and
// again. Bounded all the same: emptied when it reaches SIGNING_TARGETS_KEPT.
const signingTargets = new Map<string, SigningTarget>();
const SIGNING_TARGETS_KEPT = 100;

function signingTargetOf(url: string, parsed?: URL): SigningTarget {
  let target = signingTargets.get(url);
  if (target === undefined) {
    const u = parsed ?? new URL(url);
    // No query (request and access token URLs): no URLSearchParams to build.
    const query: OAuthParamList = u.search === '' ? [] : [...u.searchParams.entries()];
    target = { encodedBaseURI: percentEncode(baseStringURI(u)), query, encodedQuery: query.map(([k, v]) => [percentEncode(k), percentEncode(v)]) };
    if (signingTargets.size >= SIGNING_TARGETS_KEPT) signingTargets.clear();
    signingTargets.set(url, target);
  }
  return target;
}

/**
 * Sorts name/value pairs by name, then value, in place (RFC 5849 section 3.4.1.3.2; stable). A
 * request has a handful of parameters, often in order already: an insertion sort, cheaper there than
 * Array.prototype.sort's set-up; a long list (a caller's many form parameters) goes to the latter.
 */
function sortPairs(pairs: Array<[string, string]>): void {
  if (pairs.length > 16) {
    pairs.sort(byEncodedPair);
    return;
  }
  for (let i = 1; i < pairs.length; i++) {
    const pair = pairs[i]!;
    let j = i - 1;
    for (; j >= 0 && byEncodedPair(pairs[j]!, pair) > 0; j--) pairs[j + 1] = pairs[j]!;
    pairs[j + 1] = pair;
  }
}

/**
 * Signs a request whose inputs are known good: strings in well-formed Unicode, `given` without the
 * signer's own protocol parameters and each `oauth_*` at most once, `url` absolute http(s). The
 * public {@link signOAuth1Request} checks all that first; passport-x's own requests to X are built
 * from values checked when they were configured or received.
 */
function signChecked(
  method: string,
  target: SigningTarget,
  consumerKey: string,
  consumerSecret: string,
  token: string | undefined,
  tokenSecret: string,
  given: OAuthParamList,
  nonce: string | undefined,
  timestamp: string | undefined,
): OAuth1SignedRequest {
  // The protocol parameters, percent-encoded once for both the signature and the header (with
  // oauth_signature). Their names, the nonce passport-x makes (hex), the timestamp (digits, checked
  // by signOAuth1Request when given), the method and the version are unreserved characters, which
  // percent-encoding leaves as they are.
  const protocol: Array<[string, string]> = [
    ['oauth_consumer_key', percentEncode(consumerKey)],
    ['oauth_nonce', nonce === undefined ? createNonce() : percentEncode(nonce)],
    ['oauth_signature_method', 'HMAC-SHA1'],
    ['oauth_timestamp', timestamp ?? String(Math.floor(Date.now() / 1000))],
    ['oauth_version', '1.0'],
  ];
  if (token !== undefined) protocol.push(['oauth_token', percentEncode(token)]);
  // Extra oauth_* parameters (oauth_callback, oauth_verifier) travel in the header; the rest are body parameters.
  const signed: Array<[string, string]> = [];
  for (const pair of given) {
    const encoded: [string, string] = [percentEncode(pair[0]), percentEncode(pair[1])];
    if (pair[0].startsWith('oauth_')) protocol.push(encoded);
    else signed.push(encoded);
  }
  for (const pair of protocol) signed.push(pair);
  for (const pair of target.encodedQuery) signed.push(pair);
  // RFC 5849 section 3.4.1.3.2: encoded, sorted by name then value, joined with `&`.
  sortPairs(signed);
  let normalized = '';
  for (let i = 0; i < signed.length; i++) normalized += `${i === 0 ? '' : '&'}${signed[i]![0]}=${signed[i]![1]}`;
  // Its parts are encoded already, so it holds none of !'()*: encodeURIComponent is RFC 3986's encoding here.
  const baseString = `${method.toUpperCase()}&${target.encodedBaseURI}&${encodeURIComponent(normalized)}`;
  const signature = hmacSha1Signature(baseString, consumerSecret, tokenSecret);
  protocol.push(['oauth_signature', percentEncode(signature)]);
  sortPairs(protocol);
  let header = 'OAuth ';
  for (let i = 0; i < protocol.length; i++) header += `${i === 0 ? '' : ', '}${protocol[i]![0]}="${protocol[i]![1]}"`;
  return { header, baseString, signature };
}

/**
 * Signs one of passport-x's own requests to X: `oauth` holds the extra protocol parameters
 * (`oauth_callback`, `oauth_verifier`), `body` the form parameters. Values that did not come from
 * passport-x's own checks (a body parameter named `oauth_*`, a lone surrogate anywhere) take the
 * public, fully checked path, and its TypeError.
 */
export function signOwnRequest(
  method: 'GET' | 'POST',
  url: string,
  consumerKey: string,
  consumerSecret: string,
  token: string | undefined,
  tokenSecret: string | undefined,
  oauth: OAuthParamList,
  body: OAuthParamList,
): string {
  let checked = !hasLoneSurrogate(consumerKey) && !hasLoneSurrogate(consumerSecret) && (token === undefined || !hasLoneSurrogate(token)) && (tokenSecret === undefined || !hasLoneSurrogate(tokenSecret));
  for (const [k, v] of oauth) if (SIGNER_OWNED_OAUTH_PARAMS.has(k) || hasLoneSurrogate(v)) checked = false;
  for (const [k, v] of body) if (k.startsWith('oauth_') || hasLoneSurrogate(k) || hasLoneSurrogate(v)) checked = false;
  if (!checked || consumerKey === '' || token === '') {
    return signOAuth1Request({ method, url, params: [...oauth, ...body], consumerKey, consumerSecret, token, tokenSecret }).header;
  }
  return signChecked(method, signingTargetOf(url), consumerKey, consumerSecret, token, tokenSecret ?? '', oauth.length === 0 ? body : [...oauth, ...body], undefined, undefined).header;
}

/**
 * Returns the `Authorization` header value for an OAuth 1.0a request signed with
 * HMAC-SHA1 (RFC 5849), for calling the X API with a user's OAuth 1.0a tokens.
 *
 * @example
 * ```ts
 * const authorization = oauth1AuthorizationHeader({
 *   method: 'POST', url: 'https://api.x.com/1.1/statuses/update.json',
 *   params: { status: 'Hello' }, consumerKey, consumerSecret, token, tokenSecret,
 * });
 * await fetch(url, { method: 'POST', headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' }, body: 'status=Hello' });
 * ```
 */
export function oauth1AuthorizationHeader(options: OAuth1SignOptions): string {
  return signOAuth1Request(options).header;
}

/** Form-encodes parameters for a request body the way they were signed (RFC 3986 encoding). */
export function formEncodeOAuth(params: OAuthParamList): string {
  return params.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&');
}
