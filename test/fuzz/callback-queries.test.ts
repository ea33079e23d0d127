// Property-based fuzzing of the sign-in callbacks: hostile queries and bodies (missing, empty,
// repeated, `qs` arrays and nested objects, 100 KB values, control characters, lone surrogates,
// broken percent-encoding) sent over real HTTP to both strategies mounted in Express 5, with the
// session store (express-session's MemoryStore) and with EncryptedCookieStateStore
// (`session: false`), against the X emulator. Every outcome must be a redirect to X, a 4xx
// fail or a typed error, within a time bound and with nothing escaping the process; and a
// forged callback must never consume nor unlock a sign-in that is pending in the same browser.
import { expect } from 'chai';
import fc from 'fast-check';
import { XFailureCode } from '../../lib/failure';
import { expectNoSecrets } from '../support/assertions';
import { describeSpec, forgedCallback, hostileCallback, toWire, type CallbackSpec, type Protocol, type RealValues } from '../support/fuzz-arbitraries';
import { answerJSON, Browser, sendCallback, startFuzzApp, type BrowserAnswer, type FuzzApp, type QueryParserKind, type StoreKind } from '../support/fuzz-app';
import { bounded, fuzzParameters, ProcessGuard, reportTried, runsOf } from '../support/fuzz-harness';
import { withoutNock } from '../support/setup';
import { startXEmulator, type XEmulator } from '../../lib/testing';

/** Runs per property (FUZZ_RUNS overrides): a few seconds each on a quiet machine. */
const HOSTILE_RUNS = 250;
const FORGED_RUNS = 50;
/** No request may take longer: a hang fails the property. */
const REQUEST_BOUND_MS = 10_000;

const STORES: readonly StoreKind[] = ['session', 'cookie'];
const PARSERS: readonly QueryParserKind[] = ['simple', 'extended'];
const PROTOCOLS: readonly Protocol[] = ['oauth1', 'oauth2'];

/** Where a protocol's redirect to X must go. */
function consentPath(protocol: Protocol): string {
  return protocol === 'oauth1' ? '/oauth/authenticate' : '/i/oauth2/authorize';
}

/**
 * The property of every answer to a hostile callback: a redirect to X's consent page, a 4xx
 * fail, or a 500 carrying a typed error (an XError, or a TypeError) with no secret in it.
 * Never a success, never an untyped error, never anything else.
 */
function expectAcceptableOutcome(answer: BrowserAnswer & { id: string }, app: FuzzApp, x: XEmulator, protocol: Protocol, secrets: string[]): 'redirect' | 'fail' | 'error' {
  const body = answerJSON(answer);
  if (answer.status === 302) {
    expect(answer.location, 'the redirect').to.be.a('string');
    expect(answer.location!.startsWith(`${x.url}${consentPath(protocol)}?`), `a redirect to X's consent page, not to ${answer.location}`).to.equal(true);
    return 'redirect';
  }
  if (answer.status >= 400 && answer.status <= 499) {
    expect(body?.outcome, `a 4xx that is passport's fail, not the framework's refusal: ${answer.text.slice(0, 300)}`).to.equal('fail');
    // Every refused sign-in says why with an XFailureInfo, and no secret in it.
    expect(Object.values(XFailureCode), `the fail's XFailureInfo code: ${JSON.stringify(body!.failureInfo).slice(0, 300)}`).to.include(body!.failureCode);
    expectNoSecrets(body!.failureInfo, [...app.secrets, ...secrets]);
    return 'fail';
  }
  if (answer.status === 500 && (body?.outcome === 'error' || body?.outcome === 'thrown')) {
    expect(body.typed, `a typed error (XError or TypeError), got ${body.name} ${body.code ?? ''}: ${body.message ?? ''}`).to.equal(true);
    expect(body.outcome, `the strategy threw ${body.name} instead of calling error(): ${body.message ?? ''}`).to.equal('error');
    expectNoSecrets(app.errors.get(answer.id), [...app.secrets, ...secrets]);
    return 'error';
  }
  expect.fail(`an answer that is neither a redirect to X, a 4xx fail nor a typed error: ${answer.status} ${answer.text.slice(0, 300)}`);
}

function realValuesOf(protocol: Protocol, callbackURL: string): RealValues {
  const query = new URL(callbackURL).searchParams;
  const [handle, secret] = protocol === 'oauth1' ? [query.get('oauth_token'), query.get('oauth_verifier')] : [query.get('state'), query.get('code')];
  if (!handle || !secret) throw new Error(`X's callback lacks its parameters: ${callbackURL}`);
  return { handle, secret };
}

describe('Hostile callback queries (fast-check, over HTTP, against the X emulator)', function () {
  // Generous: a property takes seconds on a quiet machine, the suite runs under c8 on a shared one.
  this.timeout(300_000);
  withoutNock();

  let x: XEmulator;
  const apps = new Map<string, FuzzApp>();
  const appFor = (store: StoreKind, parser: QueryParserKind): FuzzApp => apps.get(`${store}/${parser}`)!;

  before(async () => {
    x = await startXEmulator();
    for (const store of STORES) for (const parser of PARSERS) apps.set(`${store}/${parser}`, await startFuzzApp(x, store, parser));
  });
  after(async () => {
    for (const app of apps.values()) await app.close();
    await x?.close();
  });

  for (const store of STORES) {
    it(`answers ${runsOf(HOSTILE_RUNS)} hostile callback requests to both strategies (${store} store) with a redirect to X, a 4xx fail or a typed error`, async () => {
      const started = Date.now();
      const guard = new ProcessGuard();
      let tried = 0;
      const seen = { redirect: 0, fail: 0, error: 0 };
      try {
        await fc.assert(
          fc.asyncProperty(fc.constantFrom(...PROTOCOLS), fc.constantFrom(...PARSERS), hostileCallback, async (protocol, parser, spec) => {
            const app = appFor(store, parser);
            tried++;
            const answer = await bounded(guard, `${protocol} callback ${describeSpec(spec)}`, REQUEST_BOUND_MS, (signal) =>
              sendCallback(new Browser(), app, protocol, toWire(spec), signal),
            );
            guard.assertNothingEscaped(`the ${protocol} callback ${describeSpec(spec)}`);
            seen[expectAcceptableOutcome(answer, app, x, protocol, [])]++;
          }),
          fuzzParameters(HOSTILE_RUNS),
        );
      } finally {
        guard.restore();
      }
      reportTried(tried, `callback queries (${store} store; ${seen.redirect} redirects, ${seen.fail} fails, ${seen.error} errors)`, started);
      // The generators reach every branch: sign-ins started, and callbacks refused.
      expect(seen.redirect, 'hostile requests that started a sign-in').to.be.above(0);
      expect(seen.fail, 'hostile requests refused with a fail').to.be.above(0);
    });

    it(`never lets ${runsOf(FORGED_RUNS)} series of forged callbacks consume or unlock a pending sign-in (${store} store)`, async () => {
      const started = Date.now();
      const guard = new ProcessGuard();
      let tried = 0;
      let signIns = 0;
      // Up to 4 forged callbacks per sign-in: a forged one that lacks the callback keys starts a new sign-in,
      // and the stores keep the 5 most recent, so 4 cannot push the real one out.
      const series = fc.constantFrom(...PROTOCOLS).chain((protocol) =>
        fc.tuple(fc.constant(protocol), fc.constantFrom(...PARSERS), fc.array(forgedCallback(protocol), { minLength: 1, maxLength: 4 })),
      );
      try {
        await fc.assert(
          fc.asyncProperty(series, async ([protocol, parser, forged]: [Protocol, QueryParserKind, CallbackSpec[]]) => {
            const app = appFor(store, parser);
            const browser = new Browser();
            const callbackURL = await bounded(guard, `a real ${protocol} sign-in`, REQUEST_BOUND_MS, () => browser.approvedCallback(app, protocol));
            const real = realValuesOf(protocol, callbackURL);
            for (const spec of forged) {
              tried++;
              const answer = await bounded(guard, `forged ${protocol} callback ${describeSpec(spec)}`, REQUEST_BOUND_MS, (signal) =>
                sendCallback(browser, app, protocol, toWire(spec, real), signal),
              );
              guard.assertNothingEscaped(`the forged ${protocol} callback ${describeSpec(spec)}`);
              const body = answerJSON(answer);
              expect(body?.outcome, `a forged callback signed someone in: ${describeSpec(spec)}`).to.not.equal('success');
              expectAcceptableOutcome(answer, app, x, protocol, [real.secret, real.handle]);
            }
            // X's own redirect back still completes the sign-in: nothing forged consumed it.
            const finish = await bounded(guard, `the real ${protocol} callback`, REQUEST_BOUND_MS, (signal) => browser.request(callbackURL, { signal }));
            guard.assertNothingEscaped(`the real ${protocol} callback`);
            const body = answerJSON(finish);
            expect(finish.status, `the real callback after the forged ones: ${finish.text.slice(0, 500)}`).to.equal(200);
            expect(body?.user?.id, 'the user signed in').to.equal(x.users[0]!.id);
            signIns++;
          }),
          fuzzParameters(FORGED_RUNS),
        );
      } finally {
        guard.restore();
      }
      reportTried(tried, `forged callbacks against ${signIns} pending sign-ins (${store} store)`, started);
    });
  }

});
