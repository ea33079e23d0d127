// Assertions shared by the unit tests.
import { expect } from 'chai';
import { inspect } from 'node:util';

/** The rejection of `promise`, failing the test when it resolves or rejects with a non-Error. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(Error);
    return err as Error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

/**
 * Every way an error may end up in a log (message, String, JSON, util.inspect with and
 * without hidden properties, its cause): none may show a secret, as sent or percent-decoded.
 */
export function expectNoSecrets(err: unknown, secrets: ReadonlyArray<string>): void {
  const e = err as Error;
  const views = [
    e.message,
    String(err),
    JSON.stringify(err),
    inspect(err, { depth: 10 }),
    // showHidden also prints the non-enumerable `response` (X's answer, already redacted).
    inspect(err, { depth: 10, showHidden: true }),
    String(e.cause ?? ''),
  ];
  for (const secret of secrets) {
    let decoded = secret;
    try {
      decoded = decodeURIComponent(secret);
    } catch {
      /* not percent-encoded */
    }
    for (const spelling of new Set([secret, decoded])) {
      for (const view of views) expect(view, `a secret in the error`).to.not.include(spelling);
    }
  }
}
