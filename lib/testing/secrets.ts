/**
 * How the emulator makes and compares secrets: random URL-safe tokens, and comparisons that
 * take the same time whatever the input, as a real authorization server's must.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A random, URL-safe token of `bytes` random bytes (RFC 4648 section 5 base64url). */
export function randomToken(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function alphanumeric(length: number): string {
  return [...randomBytes(length)].map((b) => ALPHANUMERIC[b % ALPHANUMERIC.length]).join('');
}

/**
 * An app-only bearer token shaped like X's (X doc "Application-only authentication":
 * `AAAA%2FAAA%3DAAAAAAAA`): a run of `A`, letters and digits, and percent-encoded `/`, `+` and `=`
 * as X sends them, so a client must send it back exactly, `%` and all.
 */
export function xBearerToken(): string {
  return `${'A'.repeat(22)}${alphanumeric(12)}%2F${alphanumeric(20)}%2B${alphanumeric(8)}%3D${alphanumeric(50)}`;
}

/** Compares two secrets in constant time (both are hashed first, so their lengths leak nothing either). */
export function safeEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** The PKCE S256 code challenge of a verifier: `BASE64URL(SHA256(ASCII(code_verifier)))` (RFC 7636 section 4.2). */
export function s256Challenge(codeVerifier: string): string {
  return createHash('sha256').update(codeVerifier, 'ascii').digest('base64url');
}
