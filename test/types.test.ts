// Compile-time checks of the public types (npm test type-checks this file), plus a runtime
// check that each construction below really builds a strategy. Unannotated verify callbacks
// must get their parameter types from the constructor overloads, as passport users write them.
import { expect } from 'chai';
import { XOAuth1Strategy, type XOAuth1TokenParams, type XProfile, type XAuthRequest, type XVerifyCallback } from '../lib/index';

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const assertType = <T extends true>(): T => true as T;

const base = { consumerKey: 'k', consumerSecret: 's', callbackURL: 'http://localhost:3000/cb' };

describe('public types', () => {
  it('type the four XOAuth1Strategy verify arities from the overloads', () => {
    const built = [
      new XOAuth1Strategy(base, (token, tokenSecret, profile, done) => {
        assertType<Equals<typeof token, string>>();
        assertType<Equals<typeof profile, XProfile>>();
        done(null, { id: profile.id, tokenSecret });
      }),
      // The params arities are annotated: TypeScript types an unannotated callback from the first overload only.
      new XOAuth1Strategy(base, (token: string, _tokenSecret: string, params: XOAuth1TokenParams, profile: XProfile, done: XVerifyCallback) => {
        const screenName: string | undefined = params.screen_name;
        done(null, { token, screenName, id: profile.id });
      }),
      new XOAuth1Strategy({ ...base, passReqToCallback: true }, (req, token, _tokenSecret, profile, done) => {
        assertType<Equals<typeof token, string>>();
        done(null, { host: req.headers.host, id: profile.id });
      }),
      new XOAuth1Strategy({ ...base, passReqToCallback: true }, (req: XAuthRequest, _token: string, _tokenSecret: string, params: XOAuth1TokenParams, profile: XProfile, done: XVerifyCallback) => {
        done(null, { url: req.url, userId: params.user_id, id: profile.id });
      }),
    ];
    expect(built.map((s) => s.name)).to.deep.equal(['x-oauth1', 'x-oauth1', 'x-oauth1', 'x-oauth1']);
  });
});
