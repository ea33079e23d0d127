// Hostile credentials. Property-based fuzzing of the token helpers: each helper called with one
// credential altered by hostile characters (control characters, CR/LF, lone surrogates,
// non-Latin-1 text), through both HTTP clients, against the X emulator. A credential with a
// control character is refused with a TypeError before anything is sent (issue 9 item 4);
// anything else ends in a resolve, a TypeError that names the argument, or a typed error from
// X's refusal. Never another kind of error, and never a credential in the error. And the
// strategies' credential options: text that is not well-formed Unicode (a lone surrogate, which
// no encoder can send) is refused at construction with a TypeError naming the option.
import { expect } from 'chai';
import fc from 'fast-check';
import { XError } from '../../lib/errors';
import { XOAuth1Strategy } from '../../lib/oauth1-strategy';
import { XOAuth2PkceStrategy } from '../../lib/oauth2-strategy';
import { getBearerToken, getReverseAuthParameters, invalidateAccessToken, invalidateBearerToken, refreshAccessToken, revokeToken } from '../../lib/helpers';
import { startXEmulator, type XEmulator } from '../../lib/testing';
import { expectNoSecrets, type SecretToScan } from '../support/assertions';
import { hostileChar, printable } from '../support/fuzz-arbitraries';
import { bounded, fuzzParameters, ProcessGuard, reportTried, runsOf } from '../support/fuzz-harness';
import { withoutNock } from '../support/setup';

const RUNS = 300;
const BOUND_MS = 10_000;

/** C0 controls and DEL: never valid in a credential, and CR/LF would split a header. */
// eslint-disable-next-line no-control-regex -- the point: control characters
const CONTROL = /[\u0000-\u001f\u007f]/;

type Credentials = Record<'consumerKey' | 'consumerSecret' | 'token' | 'tokenSecret' | 'bearerToken' | 'clientID' | 'clientSecret' | 'refreshToken', string>;

/** Each helper, the credentials it takes, and the Basic pair it sends (for the scanner). */
const HELPERS: Array<{ name: string; args: Array<keyof Credentials>; call(c: Credentials, http: object): Promise<unknown> }> = [
  { name: 'getBearerToken', args: ['consumerKey', 'consumerSecret'], call: (c, http) => getBearerToken({ consumerKey: c.consumerKey, consumerSecret: c.consumerSecret, ...http }) },
  {
    name: 'invalidateBearerToken',
    args: ['consumerKey', 'consumerSecret', 'bearerToken'],
    call: (c, http) => invalidateBearerToken({ consumerKey: c.consumerKey, consumerSecret: c.consumerSecret, bearerToken: c.bearerToken, ...http }),
  },
  {
    name: 'invalidateAccessToken',
    args: ['consumerKey', 'consumerSecret', 'token', 'tokenSecret'],
    call: (c, http) => invalidateAccessToken({ consumerKey: c.consumerKey, consumerSecret: c.consumerSecret, token: c.token, tokenSecret: c.tokenSecret, ...http }),
  },
  { name: 'getReverseAuthParameters', args: ['consumerKey', 'consumerSecret'], call: (c, http) => getReverseAuthParameters({ consumerKey: c.consumerKey, consumerSecret: c.consumerSecret, ...http }) },
  {
    name: 'refreshAccessToken',
    args: ['clientID', 'clientSecret', 'refreshToken'],
    call: (c, http) => refreshAccessToken({ clientID: c.clientID, clientSecret: c.clientSecret, refreshToken: c.refreshToken, ...http }),
  },
  { name: 'revokeToken', args: ['clientID', 'clientSecret', 'token'], call: (c, http) => revokeToken({ clientID: c.clientID, clientSecret: c.clientSecret, token: c.token, ...http }) },
];

/** One call: which helper, which argument is altered and how, and which client sends it. */
interface HelperCase {
  helper: number;
  arg: number;
  at: number;
  inserted: string;
  client: 'node:http' | 'fetch';
}

const helperCase: fc.Arbitrary<HelperCase> = fc
  .record({
    helper: fc.nat({ max: HELPERS.length - 1 }),
    arg: fc.nat({ max: 3 }),
    at: fc.nat({ max: 40 }),
    inserted: fc.string({ unit: hostileChar, minLength: 1, maxLength: 4 }),
    client: fc.constantFrom('node:http' as const, 'fetch' as const),
  })
  .map((c) => printable(c, (v) => `${HELPERS[v.helper]!.name}(${HELPERS[v.helper]!.args[v.arg % HELPERS[v.helper]!.args.length]} with ${JSON.stringify(v.inserted)} at ${v.at}, ${v.client})`));

describe("Hostile credentials: the token helpers (fast-check, over HTTP, against the X emulator) and the strategies' options", function () {
  this.timeout(300_000);
  withoutNock();

  let x: XEmulator;
  before(async () => {
    x = await startXEmulator();
  });
  after(async () => {
    await x?.close();
  });

  it(`refuses ${runsOf(RUNS)} credentials with control characters with a TypeError before sending, and answers every other one with a resolve, a TypeError or a typed error`, async () => {
    const started = Date.now();
    const valid: Credentials = {
      consumerKey: x.apps.oauth1.consumerKey,
      consumerSecret: x.apps.oauth1.consumerSecret,
      token: '1000-fuzz-access-token-0123456789',
      tokenSecret: 'fuzz-access-token-secret-0123456789',
      bearerToken: 'AAAAAAAAAAAAAAAAAAAAAfuzz%2Fbearer%3Dtoken',
      clientID: x.apps.confidential.clientID,
      clientSecret: x.apps.confidential.clientSecret!,
      refreshToken: 'fuzz-refresh-token-0123456789',
    };
    const guard = new ProcessGuard();
    let tried = 0;
    const seen = { refusedBeforeSending: 0, refusedByX: 0, resolved: 0 };
    try {
      await fc.assert(
        fc.asyncProperty(helperCase, async (c) => {
          tried++;
          const helper = HELPERS[c.helper]!;
          const arg = helper.args[c.arg % helper.args.length]!;
          const original = valid[arg];
          const at = c.at % (original.length + 1);
          const credentials: Credentials = { ...valid, [arg]: original.slice(0, at) + c.inserted + original.slice(at) };
          const sentBefore = x.requests.length;
          const http = { baseURL: x.baseURL, timeoutMs: 5000, ...(c.client === 'fetch' ? { fetch } : {}) };
          const outcome = await bounded(guard, `${helper.name} with a hostile ${arg}`, BOUND_MS, () =>
            helper.call(credentials, http).then(
              () => ({ error: undefined as unknown }),
              (error: unknown) => ({ error }),
            ),
          );
          guard.assertNothingEscaped(`${helper.name} with a hostile ${arg}`);
          const secrets: SecretToScan[] = [
            ...Object.entries(credentials)
              .filter(([name]) => name !== 'consumerKey' && name !== 'clientID')
              .map(([, value]) => value),
            { id: credentials.consumerKey, secret: credentials.consumerSecret },
            { id: credentials.clientID, secret: credentials.clientSecret },
          ];
          const sent = x.requests.length - sentBefore;
          if (CONTROL.test(c.inserted)) {
            expect(outcome.error, `${helper.name} with a control character in \`${arg}\``).to.be.instanceOf(TypeError);
            expect((outcome.error as Error).message, 'the TypeError names the argument').to.include(arg);
            expect(sent, 'requests sent with a control character in a credential').to.equal(0);
            expectNoSecrets(outcome.error, secrets);
            seen.refusedBeforeSending++;
            return;
          }
          if (outcome.error === undefined) {
            seen.resolved++;
            return;
          }
          const err = outcome.error as Error;
          if (err instanceof TypeError) {
            expect(err.message, 'the TypeError names the argument').to.include(arg);
            expect(sent, 'requests sent before a TypeError').to.equal(0);
            seen.refusedBeforeSending++;
          } else {
            expect(err, `${helper.name} with a hostile \`${arg}\`: ${err.name}: ${err.message}`).to.be.instanceOf(XError);
            seen.refusedByX++;
          }
          expectNoSecrets(err, secrets);
        }),
        fuzzParameters(RUNS),
      );
    } finally {
      guard.restore();
    }
    reportTried(tried, `helper calls with a hostile credential (${seen.refusedBeforeSending} refused before sending, ${seen.refusedByX} refused by X, ${seen.resolved} resolved)`, started);
    expect(seen.refusedByX, 'calls that reached X').to.be.above(0);
  });

  describe('strategy options that are not well-formed Unicode', () => {
    const verify = (): void => undefined;
    const construct: Record<string, (options: Record<string, string>) => unknown> = {
      XOAuth1Strategy: (o) => new XOAuth1Strategy({ consumerKey: 'ck', consumerSecret: 'cs', callbackURL: 'http://127.0.0.1:9/cb', ...o } as never, verify),
      XOAuth2PkceStrategy: (o) => new XOAuth2PkceStrategy({ clientID: 'cid', clientSecret: 'secret', callbackURL: 'http://127.0.0.1:9/cb', ...o } as never, verify),
    };
    const cases: Array<[string, string]> = [
      ['XOAuth1Strategy', 'consumerKey'],
      ['XOAuth1Strategy', 'consumerSecret'],
      ['XOAuth2PkceStrategy', 'clientID'],
      ['XOAuth2PkceStrategy', 'clientSecret'],
    ];
    for (const [strategy, option] of cases) {
      it(`${strategy} refuses a \`${option}\` holding a lone surrogate with a TypeError naming it`, () => {
        for (const lone of ['\ud800', '\udfff']) {
          const value = `credential-${lone}-0123456789`;
          let thrown: unknown;
          try {
            construct[strategy]!({ [option]: value });
          } catch (err) {
            thrown = err;
          }
          expect(thrown, `new ${strategy}({ ${option}: <${JSON.stringify(lone)} inside> })`).to.be.instanceOf(TypeError);
          expect((thrown as Error).message).to.include(option);
          expectNoSecrets(thrown, [value]);
        }
      });
    }
  });
});
