// Property-based fuzzing of X's answers: the profile bodies of v1.1 `account/verify_credentials`
// and v2 `users/me`, with lone surrogates, control characters, wrong types, huge strings and
// `__proto__` keys, served over HTTP by the X emulator. Profile mapping must never throw (in
// particular not inside a callback run later, where nothing could catch it), every outcome must
// be a well-formed profile or a typed error, and the app must keep serving sign-ins.
import { expect } from 'chai';
import fc from 'fast-check';
import { XError, XErrorCode } from '../../lib/errors';
import { refreshAccessToken } from '../../lib/helpers';
import { XOAuth1Strategy } from '../../lib/oauth1-strategy';
import { XOAuth2PkceStrategy } from '../../lib/oauth2-strategy';
import type { XProfile } from '../../lib/profile';
import { startXEmulator, type XEmulator } from '../../lib/testing';
import { expectNoSecrets } from '../support/assertions';
import { describeBody, tokenAnswerBody, v1ProfileBody, v2ProfileBody, type AnswerBody, type Protocol } from '../support/fuzz-arbitraries';
import { answerJSON, Browser, startFuzzApp, type FuzzApp, type StoreKind } from '../support/fuzz-app';
import { bounded, fuzzParameters, ProcessGuard, reportTried, runsOf } from '../support/fuzz-harness';
import { withoutNock } from '../support/setup';

/** Runs per property (FUZZ_RUNS overrides). */
const PROFILE_RUNS = 300;
const SIGN_IN_RUNS = 60;
const TOKEN_RUNS = 200;
const BOUND_MS = 10_000;

/** A UTF-16 surrogate without its other half: not Unicode, and `encodeURI` throws on it. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const PROFILE_PATHS: Record<Protocol, string> = { oauth1: '/1.1/account/verify_credentials.json', oauth2: '/2/users/me' };

/** What a profile must look like when mapping succeeded: strings where strings belong, a profile URL that is a URL. */
function expectWellFormedProfile(profile: XProfile, body: string): void {
  const what = `the profile mapped from ${describeBody(body)}`;
  expect(profile.provider, what).to.equal('x');
  expect(profile.id, what).to.be.a('string').and.not.equal('');
  expect(profile.username, what).to.be.a('string').and.not.equal('');
  expect(profile.displayName, what).to.be.a('string');
  expect(profile.profileUrl, what).to.be.a('string');
  expect(LONE_SURROGATE.test(profile.profileUrl), `${what}: profileUrl holds a lone surrogate`).to.equal(false);
  expect(new URL(profile.profileUrl).origin, what).to.equal('https://x.com');
  for (const list of [profile.photos, profile.emails]) {
    if (list === undefined) continue;
    expect(list, what).to.be.an('array');
    for (const entry of list) expect(entry.value, what).to.be.a('string');
  }
  // What an app does next with a profile: keep it in a session, log it.
  expect(() => JSON.stringify(profile), what).to.not.throw();
}

/** Nothing of X's answer may reach Object.prototype. */
function expectPrototypeUntouched(): void {
  const probe = {} as Record<string, unknown>;
  for (const key of ['polluted', 'isAdmin', 'screen_name', 'username', 'id_str', 'data', 'a']) expect(probe[key], `Object.prototype.${key}`).to.equal(undefined);
}

/** The emulator served the injected answer: a property that never reached X proves nothing. */
function expectFaultServed(x: XEmulator, path: string): void {
  const last = [...x.requests].reverse().find((r) => r.path === path);
  expect(last?.reason, `the hostile answer at ${path} was served`).to.equal('injected by failNext');
}

describe("Hostile answers from X (fast-check, over HTTP from the X emulator)", function () {
  this.timeout(300_000);
  withoutNock();

  let x: XEmulator;
  before(async () => {
    x = await startXEmulator();
  });
  after(async () => {
    await x?.close();
  });

  const cases: Array<{ protocol: Protocol; title: string; body: fc.Arbitrary<AnswerBody> }> = [
    { protocol: 'oauth1', title: 'v1.1 account/verify_credentials', body: v1ProfileBody },
    { protocol: 'oauth2', title: 'v2 users/me', body: v2ProfileBody },
  ];

  for (const { protocol, title, body: bodies } of cases) {
    it(`maps ${runsOf(PROFILE_RUNS)} hostile ${title} answers to a well-formed profile or an X_INVALID_RESPONSE, never a throw`, async () => {
      const started = Date.now();
      const verify = (): void => undefined;
      const oauth1 = new XOAuth1Strategy(
        { consumerKey: x.apps.oauth1.consumerKey, consumerSecret: x.apps.oauth1.consumerSecret, callbackURL: 'http://127.0.0.1:9/cb', baseURL: x.baseURL },
        verify,
      );
      const oauth2 = new XOAuth2PkceStrategy(
        { clientID: x.apps.public.clientID, callbackURL: 'http://127.0.0.1:9/cb', baseURL: x.baseURL, authorizationURL: x.authorizationURL },
        verify,
      );
      const token = 'fuzz-access-token-0123456789';
      const tokenSecret = 'fuzz-access-token-secret-0123456789';
      const guard = new ProcessGuard();
      let tried = 0;
      const seen = { profile: 0, refused: 0 };
      try {
        await fc.assert(
          fc.asyncProperty(bodies, async ({ text: body }) => {
            tried++;
            x.failNext(PROFILE_PATHS[protocol], { status: 200, body, headers: { 'content-type': 'application/json' } });
            const outcome = await bounded(guard, `mapping ${describeBody(body)}`, BOUND_MS, () =>
              new Promise<{ err: Error | null; profile?: XProfile }>((resolve) => {
                const done = (err: Error | null, profile?: unknown): void => resolve({ err, profile: profile as XProfile });
                if (protocol === 'oauth1') oauth1.userProfile(token, tokenSecret, {}, done);
                else oauth2.userProfile(token, done);
              }),
            );
            // Give a throw scheduled after done() (a nextTick, a later callback) the chance to escape.
            await new Promise((resolve) => setImmediate(resolve));
            guard.assertNothingEscaped(`mapping ${describeBody(body)}`);
            expectFaultServed(x, PROFILE_PATHS[protocol]);
            expectPrototypeUntouched();
            if (outcome.err) {
              expect(outcome.err, `the error for ${describeBody(body)}`).to.be.instanceOf(XError);
              expect((outcome.err as XError).code, `the code for ${describeBody(body)}: ${outcome.err.message}`).to.be.oneOf([XErrorCode.INVALID_RESPONSE, XErrorCode.RESPONSE_TOO_LARGE]);
              expectNoSecrets(outcome.err, [token, tokenSecret, x.apps.oauth1.consumerSecret]);
              seen.refused++;
            } else {
              expectWellFormedProfile(outcome.profile!, body);
              seen.profile++;
            }
          }),
          fuzzParameters(PROFILE_RUNS),
        );
      } finally {
        guard.restore();
      }
      reportTried(tried, `${title} answers (${seen.profile} profiles, ${seen.refused} refused)`, started);
      expect(seen.profile, 'answers mapped to a profile').to.be.above(0);
      expect(seen.refused, 'answers refused').to.be.above(0);
    });
  }

  it(`turns ${runsOf(TOKEN_RUNS)} hostile token answers into a well-formed token set or an X_INVALID_RESPONSE`, async () => {
    const started = Date.now();
    const guard = new ProcessGuard();
    const refreshToken = 'fuzz-refresh-token-0123456789';
    let tried = 0;
    const seen = { tokens: 0, refused: 0 };
    try {
      await fc.assert(
        fc.asyncProperty(tokenAnswerBody, async ({ text: body }) => {
          tried++;
          x.failNext('/2/oauth2/token', { status: 200, body, headers: { 'content-type': 'application/json' } });
          const outcome = await bounded(guard, `the token answer ${describeBody(body)}`, BOUND_MS, () =>
            refreshAccessToken({ clientID: x.apps.confidential.clientID, clientSecret: x.apps.confidential.clientSecret!, refreshToken, baseURL: x.baseURL }).then(
              (tokens) => ({ tokens, err: undefined }),
              (err: unknown) => ({ tokens: undefined, err }),
            ),
          );
          guard.assertNothingEscaped(`the token answer ${describeBody(body)}`);
          expectFaultServed(x, '/2/oauth2/token');
          expectPrototypeUntouched();
          const what = `the token set from ${describeBody(body)}`;
          if (outcome.err !== undefined) {
            expect(outcome.err, what).to.be.instanceOf(XError);
            expect((outcome.err as XError).code, `${what}: ${(outcome.err as Error).message}`).to.equal(XErrorCode.INVALID_RESPONSE);
            expectNoSecrets(outcome.err, [refreshToken, x.apps.confidential.clientSecret!, { id: x.apps.confidential.clientID, secret: x.apps.confidential.clientSecret! }]);
            seen.refused++;
            return;
          }
          const tokens = outcome.tokens!;
          expect(tokens.accessToken, what).to.be.a('string').and.not.equal('');
          expect(tokens.tokenType, what).to.equal('bearer');
          if (tokens.refreshToken !== undefined) expect(tokens.refreshToken, what).to.be.a('string');
          expect(tokens.scope, what).to.be.an('array');
          for (const scope of tokens.scope) expect(scope, what).to.be.a('string');
          if (tokens.expiresAt !== undefined) {
            // What an app does with it next: store it, compare it with now.
            expect(Number.isFinite(tokens.expiresAt.getTime()), `${what}: expiresAt is a valid Date`).to.equal(true);
            expect(() => tokens.expiresAt!.toISOString(), what).to.not.throw();
            expect(tokens.expiresAt.getTime(), `${what}: expiresAt is in the future`).to.be.above(Date.now() - 1000);
          }
          seen.tokens++;
        }),
        fuzzParameters(TOKEN_RUNS),
      );
    } finally {
      guard.restore();
    }
    reportTried(tried, `token answers (${seen.tokens} token sets, ${seen.refused} refused)`, started);
    expect(seen.tokens, 'answers turned into tokens').to.be.above(0);
    expect(seen.refused, 'answers refused').to.be.above(0);
  });

  describe('through a whole sign-in in Express 5', () => {
    const apps = new Map<StoreKind, FuzzApp>();
    before(async () => {
      for (const store of ['session', 'cookie'] as const) apps.set(store, await startFuzzApp(x, store, 'extended'));
    });
    after(async () => {
      for (const app of apps.values()) await app.close();
    });

    it(`answers ${runsOf(SIGN_IN_RUNS)} sign-ins whose profile answer is hostile with a success or a typed 500, and keeps serving`, async () => {
      const started = Date.now();
      const guard = new ProcessGuard();
      let tried = 0;
      const bodyFor = fc.constantFrom<Protocol>('oauth1', 'oauth2').chain((protocol) =>
        fc.tuple(fc.constant(protocol), fc.constantFrom<StoreKind>('session', 'cookie'), protocol === 'oauth1' ? v1ProfileBody : v2ProfileBody),
      );
      try {
        await fc.assert(
          fc.asyncProperty(bodyFor, async ([protocol, store, { text: body }]: [Protocol, StoreKind, AnswerBody]) => {
            tried++;
            const app = apps.get(store)!;
            const browser = new Browser();
            const callbackURL = await bounded(guard, `a ${protocol} sign-in`, BOUND_MS, () => browser.approvedCallback(app, protocol));
            x.failNext(PROFILE_PATHS[protocol], { status: 200, body, headers: { 'content-type': 'application/json' } });
            const answer = await bounded(guard, `the ${protocol} callback with the profile ${describeBody(body)}`, BOUND_MS, (signal) => browser.request(callbackURL, { signal }));
            await new Promise((resolve) => setImmediate(resolve));
            guard.assertNothingEscaped(`the ${protocol} callback with the profile ${describeBody(body)}`);
            expectFaultServed(x, PROFILE_PATHS[protocol]);
            const json = answerJSON(answer);
            if (answer.status === 200) {
              expect(json?.outcome).to.equal('success');
              expect(json?.user?.id, 'the user').to.be.a('string');
            } else {
              expect(answer.status, `the answer to a hostile profile: ${answer.text.slice(0, 300)}`).to.equal(500);
              expect(json?.outcome, 'passport handed the error to the callback').to.equal('error');
              expect(json?.code, `the error's code: ${json?.message ?? ''}`).to.be.oneOf([XErrorCode.INVALID_RESPONSE, XErrorCode.RESPONSE_TOO_LARGE]);
            }
          }),
          fuzzParameters(SIGN_IN_RUNS),
        );
      } finally {
        guard.restore();
      }
      // Still serving: an ordinary sign-in of each protocol on each app succeeds.
      for (const app of apps.values()) {
        for (const protocol of ['oauth1', 'oauth2'] as const) {
          const browser = new Browser();
          const answer = await browser.request(await browser.approvedCallback(app, protocol));
          expect(answer.status, `a normal ${protocol} sign-in (${app.store} store) after the fuzzing`).to.equal(200);
        }
      }
      reportTried(tried, 'sign-ins with a hostile profile answer', started);
    });
  });
});
