import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XRequestError, XErrorCode } from '../lib/errors';
import { oauthErrorOf, refuseControlCharacters, requireStringOption } from '../lib/passport-base';

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
});
