/**
 * X's answers when X cannot serve a request, by name, for `x.failNext(path, preset)`: the
 * pay-per-use billing layer's 402 and usage cap, and X's 503 over capacity, in X's exact bodies.
 *
 * Sources: X doc "Response codes and errors" (429 "Rate limit or usage cap exceeded", the
 * `usage-capped` problem type; 503), X doc "Pricing" (requests blocked while the balance is empty),
 * X's OpenAPI (`UsageCapExceededProblem`: `period`, `scope`), and X's answers quoted in public issue
 * trackers (xdevplatform/xdk#25 for the usage cap; the 402 body as many clients log it).
 */
import type { XEmulatorFault } from './emulator';

/** The names of X's answers `failNext` knows. */
export const X_EMULATOR_FAULT_PRESETS = Object.freeze(['credits-depleted', 'usage-cap', 'over-capacity'] as const);

/**
 * One of X's answers by name:
 * - `'credits-depleted'`: 402, `{"account_id":...,"title":"CreditsDepleted","detail":"Your enrolled account [...] does not have any credits to fulfill this request.","type":"https://api.twitter.com/2/problems/credits"}`;
 * - `'usage-cap'`: 429, `{"title":"UsageCapExceeded","detail":"Usage cap exceeded: Monthly product cap","type":"https://api.twitter.com/2/problems/usage-capped","period":"Monthly","scope":"Product",...}`,
 *   with `x-rate-limit-*` headers that leave requests to spare, as X sends them;
 * - `'over-capacity'`: 503, `{"errors":[{"code":130,"message":"Over capacity"}]}` on v1.1 and OAuth
 *   paths, the problem `{"title":"Service Unavailable",...}` on `/2/` paths.
 */
export type XEmulatorFaultPreset = (typeof X_EMULATOR_FAULT_PRESETS)[number];

/** A preset's fault: always a status, X's body and X's headers. */
export interface XEmulatorPresetFault extends XEmulatorFault {
  /** The status X answers: 402, 429 or 503. */
  status: number;
}

/** The emulator's enrolled account, as X names it in billing answers (X writes the number bare). */
const ACCOUNT_ID = '1500000000000000999';

/** Rate-limit headers with requests to spare: X sends them beside billing refusals, which waiting does not cure. */
function sparedRateLimit(now: number): Record<string, string> {
  return { 'x-rate-limit-limit': '75', 'x-rate-limit-remaining': '74', 'x-rate-limit-reset': String(Math.ceil((now + 15 * 60_000) / 1000)) };
}

/**
 * The fault for a preset on `path`, to compose with a delay or other headers:
 * `x.failNext(path, { ...presetFault('usage-cap', path), delayMs: 500 })`.
 *
 * @param preset - which of X's answers
 * @param path - the path it answers (v1.1 and v2 paths get X's format for each)
 * @param now - the clock for the `x-rate-limit-reset` header, in milliseconds (default `Date.now()`)
 */
export function presetFault(preset: XEmulatorFaultPreset, path: string, now: number = Date.now()): XEmulatorPresetFault {
  const json = { 'content-type': 'application/json; charset=utf-8' };
  switch (preset) {
    case 'credits-depleted':
      // account_id is a bare JSON number too big for JS, as X writes it: a string body keeps it exact.
      return {
        status: 402,
        headers: { ...json, ...sparedRateLimit(now) },
        body: `{"account_id":${ACCOUNT_ID},"title":"CreditsDepleted","detail":"Your enrolled account [${ACCOUNT_ID}] does not have any credits to fulfill this request.","type":"https://api.twitter.com/2/problems/credits"}`,
      };
    case 'usage-cap':
      return {
        status: 429,
        headers: { ...json, ...sparedRateLimit(now) },
        body: JSON.stringify({
          account_id: ACCOUNT_ID,
          product_name: 'standard-basic',
          title: 'UsageCapExceeded',
          period: 'Monthly',
          scope: 'Product',
          detail: 'Usage cap exceeded: Monthly product cap',
          type: 'https://api.twitter.com/2/problems/usage-capped',
        }),
      };
    case 'over-capacity':
      return path.startsWith('/2/')
        ? { status: 503, headers: { 'content-type': 'application/problem+json; charset=utf-8' }, body: JSON.stringify({ title: 'Service Unavailable', detail: 'Service Unavailable', type: 'about:blank', status: 503 }) }
        : { status: 503, headers: json, body: JSON.stringify({ errors: [{ code: 130, message: 'Over capacity' }] }) };
  }
}
