/**
 * The random values of a sign-in (the PKCE verifier, the `state`, OAuth 1.0a nonces), drawn from
 * the CSPRNG (`crypto.randomFillSync`), never from the deprecated `pseudoRandomBytes`, through one
 * pool per process.
 */
import { randomFillSync } from 'node:crypto';

// On Node 20 (OpenSSL 3) each call into the CSPRNG costs about 10 us, almost regardless of its size
// up to a few KiB: draw 4 KiB at a time and hand out a few bytes of it per value, as
// crypto.randomUUID() does with its own cache. Each byte is handed out once, then zeroed.
const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafeSlow(POOL_BYTES);
let poolOffset = POOL_BYTES;

/**
 * `bytes` fresh random bytes from the CSPRNG (1 to 4096), as `encoding` writes them: `base64url`
 * without padding, or `hex`.
 */
export function randomString(bytes: number, encoding: 'base64url' | 'hex'): string {
  if (poolOffset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const end = poolOffset + bytes;
  const value = pool.toString(encoding, poolOffset, end);
  pool.fill(0, poolOffset, end);
  poolOffset = end;
  return value;
}
