/**
 * Checks OAuth 1.0a HMAC-SHA1 signatures the way X does (RFC 5849 section 3.2): parses the
 * `Authorization` header, gathers the query and form-body parameters, rebuilds the base string
 * and recomputes the signature from the request's own nonce and timestamp.
 *
 * Written apart from the signer in `oauth1-signature.ts` on purpose: a test that checks the
 * signer with the signer's own code proves nothing. Used by the emulator and by the nock tests.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** What the verifier needs of a request. */
export interface OAuth1RequestToVerify {
  /** The HTTP method, e.g. `'POST'`. */
  method: string;
  /** Absolute URL, with its query string. */
  url: string;
  /** The `Authorization` header value. */
  authorization: string | undefined;
  /** The raw body; used only when `contentType` is form-encoded. */
  body?: string | undefined;
  /** The `Content-Type` header value. */
  contentType?: string | undefined;
}

/** Secrets to check against: the consumer secret of the claimed key, and the token's secret. */
export interface OAuth1Secrets {
  /** The consumer secret for `oauth_consumer_key`, or `undefined` when the key is unknown. */
  consumerSecret: (consumerKey: string) => string | undefined;
  /** The secret of `oauth_token`, or `undefined` when the token is unknown. */
  tokenSecret?: (token: string) => string | undefined;
}

/** Result of {@link verifyOAuth1Request}. */
export type OAuth1Verification =
  | {
      /** The signature is valid. */
      ok: true;
      /** The `oauth_*` parameters of the `Authorization` header. */
      oauth: Record<string, string>;
      /** The signed parameters: the header's `oauth_*`, then the query's and the form body's (`oauth_signature` left out). */
      params: Array<[string, string]>;
    }
  | {
      /** The request is refused. */
      ok: false;
      /**
       * Why the request is refused. `duplicate_parameter`: an `oauth_*` parameter of the header is
       * in the query or the form body too, or one is in both of those (RFC 5849 sections 3.1 and 3.5).
       */
      reason: 'missing_header' | 'bad_header' | 'duplicate_parameter' | 'unsupported_method' | 'unknown_consumer' | 'unknown_token' | 'bad_signature';
      /** The `oauth_*` parameters that could be parsed (empty when the header is missing or malformed). */
      oauth: Record<string, string>;
    };

// RFC 3986 unreserved characters stay; everything else is %XX, upper-case.
function rfc3986(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * One `name="value"` of an OAuth header at the sticky position, then the separator: a comma
 * (RFC 5849 section 3.5.1: "separated by a "," character ... and OPTIONAL linear whitespace"), or
 * the end. Sticky and anchored at each step, so a hostile header costs linear time.
 */
const HEADER_PARAM = /([A-Za-z0-9_\-.~%]+)[ \t]*=[ \t]*"([^"]*)"[ \t]*(,[ \t]*)?/y;

/**
 * Parses `OAuth k="v", ...` into its (decoded) parameters; `undefined` when it is not a well-formed
 * OAuth header (RFC 5849 section 3.5.1): not `OAuth ...`, anything but `name="value"` pairs
 * separated by commas (junk between them, a missing or trailing comma), a malformed
 * percent-encoding, or a parameter given twice (section 3.1: "Each parameter MUST NOT appear more
 * than once per request"). `realm` is left out. Linear in the header's length.
 */
export function parseOAuthHeader(header: string | undefined): Record<string, string> | undefined {
  if (!header) return undefined;
  const scheme = /^[ \t]*OAuth[ \t]+/i.exec(header);
  if (!scheme) return undefined;
  const out: Record<string, string> = {};
  let found = false;
  const param = new RegExp(HEADER_PARAM);
  param.lastIndex = scheme[0].length;
  for (;;) {
    const m = param.exec(header);
    if (!m) return undefined;
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent(m[1] as string);
      value = decodeURIComponent(m[2] as string);
    } catch {
      return undefined;
    }
    if (key !== 'realm') {
      if (Object.hasOwn(out, key)) return undefined;
      out[key] = value;
      found = true;
    }
    const comma = m[3] !== undefined;
    if (param.lastIndex === header.length) {
      if (comma) return undefined;
      break;
    }
    if (!comma) return undefined;
  }
  return found ? out : undefined;
}

/**
 * The signature base string of a request, rebuilt from scratch (RFC 5849 section 3.4.1).
 * Exposed for tests that compare with published examples.
 */
export function rebuildBaseString(method: string, url: string, params: Array<[string, string]>): string {
  const u = new URL(url);
  const defaultPort = (u.protocol === 'http:' && u.port === '80') || (u.protocol === 'https:' && u.port === '443');
  const host = u.hostname.toLowerCase() + (u.port && !defaultPort ? `:${u.port}` : '');
  const baseURI = `${u.protocol.toLowerCase()}//${host}${u.pathname}`;
  const pairs = params.map(([k, v]) => [rfc3986(k), rfc3986(v)] as [string, string]);
  pairs.sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) : a[0] < b[0] ? -1 : 1));
  const normalized = pairs.map(([k, v]) => `${k}=${v}`).join('&');
  return `${method.toUpperCase()}&${rfc3986(baseURI)}&${rfc3986(normalized)}`;
}

/** Verifies the OAuth 1.0a signature of a request. Timestamps and nonces are the caller's to check. */
export function verifyOAuth1Request(request: OAuth1RequestToVerify, secrets: OAuth1Secrets): OAuth1Verification {
  if (!request.authorization) return { ok: false, reason: 'missing_header', oauth: {} };
  const oauth = parseOAuthHeader(request.authorization);
  if (!oauth || !oauth.oauth_signature || !oauth.oauth_consumer_key || !oauth.oauth_nonce || !oauth.oauth_timestamp) {
    return { ok: false, reason: 'bad_header', oauth: oauth ?? {} };
  }
  // RFC 5849 section 3.1: oauth_version is optional, and "MUST be set to 1.0" when present.
  if (oauth.oauth_version !== undefined && oauth.oauth_version !== '1.0') return { ok: false, reason: 'bad_header', oauth };
  // RFC 5849 sections 3.1 and 3.5: a protocol parameter is sent in one place only; section 3.2 answers a duplicate with 400.
  const requestParams: Array<[string, string]> = [...new URL(request.url).searchParams];
  if (request.body && /application\/x-www-form-urlencoded/i.test(request.contentType ?? '')) requestParams.push(...new URLSearchParams(request.body));
  const seen = new Set(Object.keys(oauth));
  for (const [k] of requestParams) {
    if (!k.startsWith('oauth_')) continue;
    if (seen.has(k)) return { ok: false, reason: 'duplicate_parameter', oauth };
    seen.add(k);
  }
  if (oauth.oauth_signature_method !== 'HMAC-SHA1') return { ok: false, reason: 'unsupported_method', oauth };
  const consumerSecret = secrets.consumerSecret(oauth.oauth_consumer_key);
  if (consumerSecret === undefined) return { ok: false, reason: 'unknown_consumer', oauth };
  let tokenSecret = '';
  if (oauth.oauth_token !== undefined) {
    const found = secrets.tokenSecret?.(oauth.oauth_token);
    if (found === undefined) return { ok: false, reason: 'unknown_token', oauth };
    tokenSecret = found;
  }

  // RFC 5849 section 3.4.1.3.1: oauth_signature is left out of the base string, wherever it is.
  const params: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(oauth)) if (k !== 'oauth_signature') params.push([k, v]);
  for (const [k, v] of requestParams) if (k !== 'oauth_signature') params.push([k, v]);
  const base = rebuildBaseString(request.method, request.url, params);
  // Compare the base64 text itself: Buffer.from(x, 'base64') is lenient (it skips spaces, accepts the
  // URL-safe alphabet and trailing garbage), so decoding first would accept signatures X refuses.
  const expected = Buffer.from(createHmac('sha1', `${rfc3986(consumerSecret)}&${rfc3986(tokenSecret)}`).update(base).digest('base64'), 'utf8');
  const given = Buffer.from(oauth.oauth_signature, 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature', oauth };
  return { ok: true, oauth, params };
}
