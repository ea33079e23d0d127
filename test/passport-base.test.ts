import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XRequestError, XErrorCode } from '../lib/errors';
import { XFailureCode, failureOf, type LoggedFailures, type XFailureInfo } from '../lib/failure';
import { failSignIn, oauthErrorOf, refuseControlCharacters, refuseSignIn, requireStringOption, runVerify, type PassportStrategyActions, type XVerifyCallback } from '../lib/passport-base';

const semver = require('semver') as { minVersion(range: string): { version: string } | null; gte(a: string, b: string): boolean; satisfies(v: string, range: string): boolean };

describe('passport-base: the glue both strategies share with Passport', () => {
  describe('the passport peer dependency', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { peerDependencies?: Record<string, string> };

    it('asks for passport 0.6.0 or later: 0.5 lacks the session-fixation fix of GHSA-v923-w3x8-wh69 (req.login regenerates the session since 0.6)', () => {
      const range = pkg.peerDependencies?.passport;
      expect(range, 'peerDependencies.passport').to.be.a('string');
      const min = semver.minVersion(range!);
      expect(min, `a range with a lower bound: ${range}`).to.not.equal(null);
      expect(semver.gte(min!.version, '0.6.0'), `lowest passport allowed: ${min!.version}`).to.equal(true);
      expect(semver.satisfies('0.5.3', range!)).to.equal(false);
    });

    it('is met by the passport the tests run against', () => {
      const installed = (require('passport/package.json') as { version: string }).version;
      expect(semver.satisfies(installed, pkg.peerDependencies!.passport!)).to.equal(true);
    });
  });

  describe('requireStringOption', () => {
    it('throws a TypeError naming a missing, empty or non-string option', () => {
      for (const value of [undefined, '', 42, null]) {
        expect(() => requireStringOption({ clientID: value }, 'clientID', 'XOAuth2PkceStrategy')).to.throw(TypeError, /XOAuth2PkceStrategy requires the `clientID` option/);
      }
    });

    it('says where each required option comes from: the portal for keys, the app for callbackURL', () => {
      const message = (name: string, strategy: string, options: Record<string, unknown> = {}): string => {
        try {
          requireStringOption(options, name, strategy);
        } catch (err) {
          return (err as Error).message;
        }
        throw new Error('no error');
      };
      expect(message('consumerKey', 'XOAuth1Strategy')).to.include('the API Key').and.include('"Keys and tokens"');
      expect(message('consumerSecret', 'XOAuth1Strategy')).to.include('the API Key Secret');
      expect(message('clientID', 'XOAuth2PkceStrategy')).to.include('the OAuth 2.0 Client ID');
      const callback = message('callbackURL', 'XOAuth2PkceStrategy');
      expect(callback).to.include('absolute URL of your app\'s callback route').and.include('Callback URI').and.include('"User authentication settings"');
      expect(callback, 'the callback URL is not something to copy from "Keys and tokens"').to.not.include('Keys and tokens');
    });

    it('names the other strategy when given the other protocol\'s credentials, never quoting them', () => {
      const oauth2Credentials = { clientID: 'client-id-4321', clientSecret: 'client-secret-8765', callbackURL: 'http://127.0.0.1:3000/cb' };
      expect(() => requireStringOption(oauth2Credentials, 'consumerKey', 'XOAuth1Strategy'))
        .to.throw(TypeError, /XOAuth1Strategy requires the `consumerKey` option.*OAuth 2\.0 credentials: use XOAuth2PkceStrategy/)
        .with.property('message')
        .that.does.not.include('client-secret-8765')
        .and.does.not.include('client-id-4321');
      const oauth1Credentials = { consumerKey: 'api-key-1234', consumerSecret: 'api-secret-5678' };
      expect(() => requireStringOption(oauth1Credentials, 'clientID', 'XOAuth2PkceStrategy'))
        .to.throw(TypeError, /OAuth 1\.0a credentials \(the API Key and Secret\): use XOAuth1Strategy/)
        .with.property('message')
        .that.does.not.include('api-secret-5678');
      // Its own credentials given, only the callback URL missing: nothing about the other protocol.
      expect(() => requireStringOption({ clientID: 'c', consumerKey: 'k' }, 'callbackURL', 'XOAuth2PkceStrategy')).to.throw(TypeError).with.property('message').that.does.not.include('XOAuth1Strategy');
      expect(() => requireStringOption({}, 'consumerKey', 'XOAuth1Strategy')).to.throw(TypeError).with.property('message').that.does.not.include('XOAuth2PkceStrategy');
    });

    it('throws a TypeError naming an option with a control character, never quoting the value', () => {
      expect(() => requireStringOption({ consumerSecret: 'secret-9876\r\n' }, 'consumerSecret', 'XOAuth1Strategy'))
        .to.throw(TypeError, /`consumerSecret` option contains a control character/)
        .with.property('message')
        .that.does.not.include('secret-9876');
      expect(() => refuseControlCharacters('ok-value\u0000', 'clientSecret', 'XOAuth2PkceStrategy')).to.throw(TypeError, /`clientSecret`/);
      expect(() => refuseControlCharacters('ok-value', 'clientSecret', 'XOAuth2PkceStrategy')).to.not.throw();
    });
  });

  describe('oauthErrorOf', () => {
    it("passes passport-x's errors through and wraps anything else with passport's message and the cause", () => {
      const ours = new XRequestError(XErrorCode.TIMEOUT, 'late');
      expect(oauthErrorOf('Failed to obtain access token', ours)).to.equal(ours);
      const other = new Error('boom');
      const wrapped = oauthErrorOf('Failed to obtain access token', other);
      expect(wrapped.message).to.equal('Failed to obtain access token: boom');
      expect(wrapped.cause).to.equal(other);
    });
  });

  describe('how a sign-in ends: refuseSignIn, failSignIn and runVerify', () => {
    type Call = [action: 'success' | 'fail' | 'error', ...args: unknown[]];
    /** Passport's actions as it puts them on each request's copy of a strategy, recording every call. */
    function actionsOf(): PassportStrategyActions & { name: string; calls: Call[] } {
      const calls: Call[] = [];
      return {
        name: 'x-test',
        calls,
        success: (user, info) => void calls.push(['success', user, info]),
        fail: (challenge, status) => void calls.push(['fail', challenge, status]),
        redirect: () => void calls.push(['error', new Error('redirect')]),
        pass: () => void calls.push(['error', new Error('pass')]),
        error: (err) => void calls.push(['error', err]),
      };
    }
    /** The process warnings emitted while `run` runs (logFailureOnce's one-time log lines). */
    function warningsOf(run: () => void): Array<{ code: string | undefined; message: string }> {
      const seen: Array<{ code: string | undefined; message: string }> = [];
      const original = process.emitWarning;
      process.emitWarning = ((warning: string | Error, options?: { code?: string }) => {
        seen.push({ code: options?.code, message: String(warning) });
      }) as typeof process.emitWarning;
      try {
        run();
      } finally {
        process.emitWarning = original;
      }
      return seen;
    }
    const refusedGrant = new Error('invalid_grant');
    const refusal = (err: Error): XFailureInfo | undefined => (err === refusedGrant ? failureOf(XFailureCode.GRANT_REFUSED, 'X refused the code.') : undefined);

    it("gives a failure info its code's status, whatever status the caller passed, and logs its hint once per strategy and code", () => {
      const actions = actionsOf();
      const logged: LoggedFailures = new Set();
      const malformed = failureOf(XFailureCode.CALLBACK_MALFORMED, 'No code in the callback.');
      const inProgress = failureOf(XFailureCode.SIGN_IN_IN_PROGRESS, 'Claimed by another request.');
      const warnings = warningsOf(() => {
        refuseSignIn(actions, logged, malformed, 403);
        refuseSignIn(actions, logged, malformed);
        refuseSignIn(actions, logged, inProgress, 403);
      });
      expect(actions.calls).to.deep.equal([
        ['fail', malformed, 400],
        ['fail', malformed, 400],
        ['fail', inProgress, 409],
      ]);
      expect(warnings).to.deep.equal([
        { code: 'PASSPORT_X_CALLBACK_MALFORMED', message: 'passport-x (x-test): No code in the callback.' },
        { code: 'PASSPORT_X_SIGN_IN_IN_PROGRESS', message: 'passport-x (x-test): Claimed by another request.' },
      ]);
    });

    it("sends a throw from Passport's fail (the app's failure handling) to Passport's error, and one from error to a process warning: none escapes", () => {
      // failureMessage: true without a session: Passport's fail() throws reading req.session.messages.
      const thrown = new TypeError("Cannot read properties of undefined (reading 'messages')");
      const actions = actionsOf();
      actions.fail = () => {
        throw thrown;
      };
      const inProgress = failureOf(XFailureCode.SIGN_IN_IN_PROGRESS, 'Claimed by another request.');
      const warnings = warningsOf(() => refuseSignIn(actions, new Set(), inProgress, 403));
      expect(actions.calls).to.deep.equal([['error', thrown]]);
      expect(warnings.map((w) => w.code)).to.deep.equal(['PASSPORT_X_SIGN_IN_IN_PROGRESS']);
      // The error path throws as well (a broken error handler): a warning, and nothing thrown to the caller.
      const broken = actionsOf();
      broken.fail = () => {
        throw thrown;
      };
      broken.error = () => {
        throw new Error('the error handler threw');
      };
      let escaped: unknown;
      const last = warningsOf(() => {
        try {
          refuseSignIn(broken, new Set(), { message: "the app's own" }, 401);
          failSignIn(broken, new Set(), refusal, new Error('X is down'));
        } catch (err) {
          escaped = err;
        }
      });
      expect(escaped).to.equal(undefined);
      expect(last.map((w) => w.code)).to.deep.equal(['PASSPORT_X_CALLBACK_THREW', 'PASSPORT_X_CALLBACK_THREW']);
      expect(last[0]!.message).to.include('the error handler threw');
    });

    it("hands any other challenge to Passport's fail as given, and logs nothing", () => {
      const actions = actionsOf();
      const warnings = warningsOf(() => {
        refuseSignIn(actions, new Set(), { message: "the app's own" }, 401);
        refuseSignIn(actions, new Set());
      });
      expect(actions.calls).to.deep.equal([
        ['fail', { message: "the app's own" }, 401],
        ['fail', undefined, undefined],
      ]);
      expect(warnings).to.deep.equal([]);
    });

    it("makes X's normal refusal of a grant a 401 failure, and every other error Passport's error", () => {
      const actions = actionsOf();
      const other = new Error('X is down');
      warningsOf(() => {
        failSignIn(actions, new Set(), refusal, refusedGrant);
        failSignIn(actions, new Set(), refusal, other);
      });
      expect(actions.calls).to.have.length(2);
      expect(actions.calls[0]?.slice(0, 1)).to.deep.equal(['fail']);
      expect((actions.calls[0]?.[1] as XFailureInfo).code).to.equal(XFailureCode.GRANT_REFUSED);
      expect(actions.calls[0]?.[2]).to.equal(401);
      expect(actions.calls[1]).to.deep.equal(['error', other]);
    });

    it("routes the verify callback's answers the same way: the user with the app state, a refusal, an error, a throw", () => {
      const run = (verify: (...args: unknown[]) => void): Call[] => {
        const actions = actionsOf();
        warningsOf(() => runVerify(actions, new Set(), refusal, verify, false, {}, ['token', 'secret'], { p: 1 }, { id: '1' }, { returnTo: '/x' }));
        return actions.calls;
      };
      const expired = failureOf(XFailureCode.SIGN_IN_EXPIRED, 'Too slow.');
      expect(run((_t, _s, _p, done) => (done as XVerifyCallback)(null, { id: 'u' }))).to.deep.equal([['success', { id: 'u' }, { state: { returnTo: '/x' } }]]);
      // A refusal once the pending sign-in was found carries the app state too.
      expect(run((_t, _s, _p, done) => (done as XVerifyCallback)(null, false, expired))).to.deep.equal([['fail', { ...expired, state: { returnTo: '/x' } }, 401]]);
      expect(run((_t, _s, _p, done) => (done as XVerifyCallback)(null, false, { message: 'banned' }))).to.deep.equal([['fail', { message: 'banned', state: { returnTo: '/x' } }, undefined]]);
      expect(run((_t, _s, _p, done) => (done as XVerifyCallback)(null, false))).to.deep.equal([['fail', { state: { returnTo: '/x' } }, undefined]]);
      const refused = run((_t, _s, _p, done) => (done as XVerifyCallback)(refusedGrant));
      expect([refused[0]?.[0], (refused[0]?.[1] as XFailureInfo).code, refused[0]?.[2], (refused[0]?.[1] as XFailureInfo).state]).to.deep.equal(['fail', XFailureCode.GRANT_REFUSED, 401, { returnTo: '/x' }]);
      const thrown = new Error('verify threw');
      expect(run((_t, _s, _p, done) => (done as XVerifyCallback)(thrown))).to.deep.equal([['error', thrown]]);
      expect(
        run(() => {
          throw thrown;
        }),
      ).to.deep.equal([['error', thrown]]);
    });

    it("takes the verify callback's first answer only: a second done(), or a throw after done(), is a warning, never a second action", () => {
      const run = (verify: (...args: unknown[]) => void): { calls: Call[]; codes: Array<string | undefined> } => {
        const actions = actionsOf();
        const warnings = warningsOf(() => runVerify(actions, new Set(), refusal, verify, false, {}, ['token', 'secret'], {}, { id: '1' }, undefined));
        return { calls: actions.calls, codes: warnings.map((w) => w.code) };
      };
      const twice = run((_t, _s, _p, done) => {
        (done as XVerifyCallback)(null, { id: 'u' });
        (done as XVerifyCallback)(new Error('late'));
      });
      expect(twice).to.deep.equal({ calls: [['success', { id: 'u' }, {}]], codes: ['PASSPORT_X_CALLBACK_THREW'] });
      const thrownAfter = run((_t, _s, _p, done) => {
        (done as XVerifyCallback)(null, false);
        throw new Error('a bug after answering');
      });
      expect(thrownAfter).to.deep.equal({ calls: [['fail', undefined, undefined]], codes: ['PASSPORT_X_CALLBACK_THREW'] });
      // The app's error may quote the user's tokens: the warning does not.
      const actions = actionsOf();
      const warnings = warningsOf(() =>
        runVerify(actions, new Set(), refusal, (_t: unknown, _s: unknown, _p: unknown, done: unknown) => {
          (done as XVerifyCallback)(null, { id: 'u' });
          throw new Error('could not save tokens tok-ACCESS-1 and tok-REFRESH-1');
        }, false, {}, ['tok-ACCESS-1', 'tok-REFRESH-1'], {}, { id: '1' }, undefined),
      );
      expect(actions.calls).to.deep.equal([['success', { id: 'u' }, {}]]);
      expect(warnings).to.have.length(1);
      expect(warnings[0]!.message).to.include('could not save tokens').and.not.include('tok-ACCESS-1').and.not.include('tok-REFRESH-1');
    });

    it("sends a throw from Passport's success (the app's custom callback) to Passport's error, whether verify answers at once or later: it never reaches the verify callback", async () => {
      const thrown = new Error('the custom callback threw after answering');
      for (const later of [false, true]) {
        const actions = actionsOf();
        actions.success = (user, info) => {
          actions.calls.push(['success', user, info]);
          throw thrown;
        };
        let reachedVerify: unknown;
        let settled!: () => void;
        const done = new Promise<void>((resolve) => (settled = resolve));
        // An async verify, as apps write them: a throw out of done() would reject its promise, unhandled.
        const verify = async (_t: unknown, _s: unknown, _p: unknown, cb: unknown): Promise<void> => {
          if (later) await new Promise((resolve) => setImmediate(resolve));
          try {
            (cb as XVerifyCallback)(null, { id: 'u' });
          } catch (err) {
            reachedVerify = err;
          }
          settled();
        };
        runVerify(actions, new Set(), refusal, verify as (...args: unknown[]) => void, false, {}, ['token', 'secret'], {}, { id: '1' }, undefined);
        await done;
        expect(reachedVerify, `later: ${later}`).to.equal(undefined);
        expect(actions.calls, `later: ${later}`).to.deep.equal([
          ['success', { id: 'u' }, {}],
          ['error', thrown],
        ]);
      }
    });

    it("never writes into the callback's info: a string becomes { message, state }, and an info shared by every sign-in keeps no one's state", () => {
      const run = (info: unknown, appState: unknown): Call[] => {
        const actions = actionsOf();
        warningsOf(() => runVerify(actions, new Set(), refusal, (_t: unknown, _s: unknown, _p: unknown, done: unknown) => (done as XVerifyCallback)(null, { id: 'u' }, info), false, {}, ['token', 'secret'], {}, { id: '1' }, appState));
        return actions.calls;
      };
      // A string `info` with app state threw (strict mode) out of the verify callback's done.
      expect(run('Welcome back', { returnTo: '/settings' })).to.deep.equal([['success', { id: 'u' }, { message: 'Welcome back', state: { returnTo: '/settings' } }]]);
      expect(run('Welcome back', undefined)).to.deep.equal([['success', { id: 'u' }, 'Welcome back']]);
      const shared = Object.freeze({ message: 'Welcome back' });
      expect(run(shared, { returnTo: '/users/alice/private' })).to.deep.equal([['success', { id: 'u' }, { message: 'Welcome back', state: { returnTo: '/users/alice/private' } }]]);
      expect(shared).to.deep.equal({ message: 'Welcome back' });
      expect(run(shared, undefined)[0]?.[2]).to.equal(shared);
      expect(run(undefined, undefined)).to.deep.equal([['success', { id: 'u' }, {}]]);
    });

    it("copies an info whole: an Error keeps its message, a class its prototype; a status (a number) stays a status", () => {
      const refused = (info: unknown): Call[] => {
        const actions = actionsOf();
        warningsOf(() => runVerify(actions, new Set(), refusal, (_t: unknown, _s: unknown, _p: unknown, done: unknown) => (done as XVerifyCallback)(null, false, info), false, {}, ['token', 'secret'], {}, { id: '1' }, { returnTo: '/x' }));
        return actions.calls;
      };
      const suspended = new Error('Your account is suspended.');
      const [[, errorInfo]] = refused(suspended) as [[string, Error & { state?: unknown }]];
      expect(errorInfo).to.be.instanceOf(Error).and.not.equal(suspended);
      expect(errorInfo.message, "what passport's failureMessage shows").to.equal('Your account is suspended.');
      expect(errorInfo.state).to.deep.equal({ returnTo: '/x' });
      expect(suspended).to.not.have.property('state');
      class Banned {
        constructor(readonly until: string) {}
        get message(): string {
          return `Banned until ${this.until}.`;
        }
      }
      const [[, classInfo]] = refused(new Banned('May')) as [[string, Banned & { state?: unknown }]];
      expect(classInfo).to.be.instanceOf(Banned);
      expect(classInfo.message).to.equal('Banned until May.');
      expect(classInfo.state).to.deep.equal({ returnTo: '/x' });
      // done(null, false, 403): a status for passport's fail, kept.
      expect(refused(403)).to.deep.equal([['fail', 403, undefined]]);
      const frozen = Object.freeze({ message: 'no', state: 'theirs' });
      expect(refused(frozen)[0]?.[1]).to.deep.equal({ message: 'no', state: { returnTo: '/x' } });
    });
  });
});
