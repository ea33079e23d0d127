/**
 * PKCE (RFC 7636) and `state` values for the OAuth 2.0 Authorization Code Flow with PKCE
 * (X doc "OAuth 2.0 Authorization Code Flow with PKCE"). Small functions, each drawing its
 * randomness from the CSPRNG through ./random.
 */
import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';
import { randomString } from './random';

/** The only code challenge method passport-x sends: `plain` gives no protection against a leaked authorization request (RFC 7636 section 7.2). */
export const CODE_CHALLENGE_METHOD = 'S256';

/** 32 fresh random bytes from the CSPRNG, base64url-encoded without padding (43 characters). */
function random256(): string {
  return randomString(32, 'base64url');
}

// RFC 7636 section 4.1: code-verifier = 43*128unreserved, unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~".
const CODE_VERIFIER_PATTERN = /^[A-Za-z0-9\-._~]{43,128}$/;

/**
 * A new PKCE code verifier: 32 random bytes, base64url-encoded without padding, so 43
 * characters carrying 256 bits of entropy (RFC 7636 section 4.1 recommends exactly this).
 *
 * @example
 * ```ts
 * const verifier = createCodeVerifier(); // 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'-like
 * ```
 */
export function createCodeVerifier(): string {
  return random256();
}

/**
 * The S256 code challenge of `codeVerifier`: `BASE64URL(SHA256(ASCII(code_verifier)))`
 * (RFC 7636 section 4.2).
 *
 * @throws TypeError when `codeVerifier` is not 43 to 128 unreserved characters (RFC 7636 section 4.1);
 *   the message does not repeat the verifier.
 *
 * @example
 * ```ts
 * codeChallengeS256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'); // 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'
 * ```
 */
export function codeChallengeS256(codeVerifier: string): string {
  if (typeof codeVerifier !== 'string' || !CODE_VERIFIER_PATTERN.test(codeVerifier)) {
    throw new TypeError(
      'passport-x: a PKCE code verifier must be 43 to 128 characters of A-Z, a-z, 0-9, "-", ".", "_" and "~" (RFC 7636 section 4.1); use createCodeVerifier().',
    );
  }
  return s256(codeVerifier);
}

// crypto.hash() (Node 20.12+) hashes in one call, without the Hash object createHash() makes: a
// few microseconds less for each of the short values hashed on every sign-in.
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64url') => string }).hash;

/**
 * `BASE64URL(SHA256(UTF8(text)))`, the S256 transform of RFC 7636 section 4.2 (for its ASCII
 * verifiers), also the hash of passport-x's claim keys and pending-state bindings.
 */
export function s256(text: string): string {
  return oneShotHash ? oneShotHash('sha256', text, 'base64url') : createHash('sha256').update(text, 'utf8').digest('base64url');
}

/**
 * A new OAuth 2.0 `state` value: 32 random bytes (256 bits, well above the 128 bits
 * RFC 6749 section 10.10 asks for), base64url-encoded, so it is safe in a URL as it is.
 */
export function createState(): string {
  return random256();
}
