// Compile-time checks of the public types (npm test type-checks this file), plus a runtime
// check that each construction below really builds a strategy. Unannotated verify callbacks
// must get their parameter types from the constructor overloads, as passport users write them.
import { expect } from 'chai';
import express from 'express';
import passport from 'passport';
import {
  EncryptedCookieStateStore,
  MemoryReplayGuard,
  XOAuth1Strategy,
  XOAuth2PkceStrategy,
  XPkceSessionStore,
  XRequestTokenSessionStore,
  X_OAUTH2_SCOPES,
  X_USER_FIELDS,
  isXKnownScope,
  type XAuthenticateOptions,
  type XKnownScope,
  type XKnownUserField,
  type XOAuth1AuthenticateOptions,
  type XOAuth1TokenParams,
  type XOAuth2AuthenticateOptions,
  type XOAuth2TokenParams,
  type XProfile,
  type XAuthRequest,
  type XScope,
  type XUserField,
  type XVerifyCallback,
  type XPkceStateMeta,
  type XPkceStateStore,
  type XRequestTokenStore,
  type PkceStateStored,
  type PkceStateVerified,
  type RequestTokenLoaded,
} from '../lib/index';

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

  it('type the four XOAuth2PkceStrategy verify arities from the overloads', () => {
    const o2 = { clientID: 'id', callbackURL: 'http://localhost:3000/cb' };
    const built = [
      new XOAuth2PkceStrategy(o2, (accessToken, refreshToken, profile, done) => {
        assertType<Equals<typeof accessToken, string>>();
        done(null, { id: profile.id, refreshToken });
      }),
      new XOAuth2PkceStrategy(o2, (accessToken: string, _refreshToken: string | undefined, params: XOAuth2TokenParams, profile: XProfile, done: XVerifyCallback) => {
        // X sends a number; a string of decimal digits is accepted too and stays as X wrote it.
        assertType<Equals<typeof params.expires_in, number | string | undefined>>();
        done(null, { accessToken, expiresIn: params.tokenSet.expiresIn, id: profile.id });
      }),
      new XOAuth2PkceStrategy({ ...o2, passReqToCallback: true }, (req: express.Request, accessToken: string, _refreshToken: string | undefined, profile: XProfile, done: XVerifyCallback) => {
        done(null, { ip: req.ip, accessToken, id: profile.id });
      }),
    ];
    expect(built.map((s) => s.name)).to.deep.equal(['x-oauth2', 'x-oauth2', 'x-oauth2']);
  });

  it('are accepted by passport.use and by Express route handlers', () => {
    const authenticator = new passport.Passport();
    authenticator.use(new XOAuth1Strategy(base, (_t, _s, profile, done) => done(null, profile)));
    authenticator.use(new XOAuth2PkceStrategy({ clientID: 'id', callbackURL: 'http://localhost:3000/cb' }, (_a, _r, profile, done) => done(null, profile)));
    const app = express();
    app.get('/auth/x', authenticator.authenticate('x-oauth1'));
    app.get('/auth/x2', authenticator.authenticate('x-oauth2', { scope: ['tweet.read'] }));
    expect(app).to.be.a('function');
  });

  // XScope = XKnownScope | (string & Record<never, never>): the literals survive in the union, so editors
  // offer them, and any string still compiles. Only the strict XKnownScope can show a typo failing to
  // compile (@ts-expect-error below); on the options, where env-provided string[] must keep working, it cannot.
  it('keep X\'s scopes and user fields as literals the editor completes, with an escape hatch for any string', () => {
    assertType<Equals<Equals<XScope, string>, false>>();
    assertType<Equals<Extract<XScope, 'offline.access'>, 'offline.access'>>();
    assertType<Equals<Equals<XUserField, string>, false>>();
    const named: XKnownScope[] = ['tweet.read', 'users.read', 'users.email', 'offline.access', 'media.write', 'dm.read', 'dm.write', 'timeline.read'];
    // @ts-expect-error a misspelt scope is not one of X's
    const typo: XKnownScope = 'tweet.reed';
    const fields: XKnownUserField[] = ['confirmed_email', 'subscribes_to_you', 'profile_image_url'];
    // @ts-expect-error a misspelt user field is not one of X's
    const badField: XKnownUserField = 'confirmed_emial';
    const future: XScope[] = ['tweet.read', 'grok.read'];
    const fromEnv: string[] = 'tweet.read users.read'.split(' ');
    const open: readonly XScope[] = fromEnv;

    const o2 = { clientID: 'id', callbackURL: 'http://127.0.0.1:3000/cb' };
    const strategies = [
      new XOAuth2PkceStrategy({ ...o2, scope: ['tweet.read', 'users.read', 'offline.access'], userFields: ['id', 'confirmed_email'] }, (_a, _r, profile, done) => done(null, profile)),
      new XOAuth2PkceStrategy({ ...o2, scope: 'tweet.read users.read', userFields: 'id,username' }, (_a, _r, profile, done) => done(null, profile)),
      new XOAuth2PkceStrategy({ ...o2, scope: open, userFields: fields }, (_a, _r, profile, done) => done(null, profile)),
    ];
    const perRequest: XOAuth2AuthenticateOptions = { scope: ['tweet.read', 'like.read'] };
    const asPassportOptions: XAuthenticateOptions = perRequest;
    // @ts-expect-error scope is a string or an array of strings
    const wrongShape: XOAuth2AuthenticateOptions = { scope: 42 };

    expect(strategies).to.have.length(3);
    expect(X_OAUTH2_SCOPES).to.include.members(named).and.include.members(['block.write', 'bookmark.write', 'tweet.moderate.write']);
    expect(X_USER_FIELDS).to.include.members(fields);
    expect(future.filter((scope) => !isXKnownScope(scope))).to.deep.equal(['grok.read']);
    expect([typo, badField, wrongShape, asPassportOptions]).to.have.length(4);
  });

  it('type the per-request options of passport.authenticate under @types/passport, and reject misspelt ones', () => {
    const authenticator = new passport.Passport();
    const o1: XOAuth1AuthenticateOptions = { forceLogin: true, screenName: 'ada', state: { returnTo: '/settings' }, failureRedirect: '/' };
    const o2: XOAuth2AuthenticateOptions = { scope: ['tweet.read', 'users.read'], callbackURL: 'http://127.0.0.1:3000/cb', state: { returnTo: '/settings' } };
    const screenName = 'ada';
    const handlers = [
      // The README's calls, without casts: state as an object, and each strategy option.
      passport.authenticate('x-oauth2', { state: { returnTo: '/settings' } }),
      passport.authenticate('x-oauth2', { state: { returnTo: '/settings' }, failureRedirect: '/', failureMessage: true }),
      passport.authenticate('x-oauth1', { forceLogin: true }),
      passport.authenticate('x-oauth1', { screenName }),
      passport.authenticate('x-oauth2', { callbackURL: 'http://127.0.0.1:3000/auth/x/callback' }),
      passport.authenticate('x-oauth2', { scope: ['tweet.read', 'users.read', 'offline.access'] as const }),
      passport.authenticate('x-oauth2', { scope: 'tweet.read users.read', state: 'a plain string still works' }),
      passport.authenticate('x-oauth1', o1),
      passport.authenticate('x-oauth2', o2),
      passport.authenticate('x-oauth2', { ...o2, session: false, keepSessionInfo: true }),
      passport.authenticate('x-oauth2', { state: { returnTo: '/' } }, (_err: unknown, _user: unknown) => undefined),
      // Options @types/passport knows and passport-x does not read still compile without an object state.
      passport.authenticate('x-oauth2', { prompt: 'consent', userProperty: 'account' }),
      // On an Authenticator of its own too.
      authenticator.authenticate('x-oauth2', { state: { returnTo: '/settings' }, forceLogin: false }),
      // @ts-expect-error misspelt option (forceLogn)
      passport.authenticate('x-oauth1', { forceLogn: true }),
      // @ts-expect-error misspelt option next to an object state (scop)
      passport.authenticate('x-oauth2', { state: { returnTo: '/' }, scop: 'tweet.read' }),
      // @ts-expect-error forceLogin is a boolean
      passport.authenticate('x-oauth1', { forceLogin: 'yes' }),
    ];
    // @ts-expect-error misspelt option in a typed options object (screen_name is the wire name, screenName the option)
    const misspelt: XOAuth1AuthenticateOptions = { screen_name: 'ada' };
    expect(misspelt).to.be.an('object');
    for (const handler of handlers) expect(handler).to.be.a('function');
  });
  it('accept custom stores whose drop() and get() take meta, written as the docs say: a class with both overloads', () => {
    type Dropped = (err?: Error | null, found?: boolean) => void;
    const pending = new Map<string, string>();
    class PkceStore implements XPkceStateStore {
      store(_req: XAuthRequest, verifier: string, _state: unknown, _meta: XPkceStateMeta, cb: PkceStateStored): void {
        pending.set('s', verifier);
        cb(null, 's');
      }
      verify(_req: XAuthRequest, state: string, cb: PkceStateVerified): void {
        cb(null, pending.get(state) ?? false);
      }
      drop(req: XAuthRequest, state: string, cb: Dropped): void;
      drop(req: XAuthRequest, state: string, meta: XPkceStateMeta, cb: Dropped): void;
      drop(_req: XAuthRequest, state: string, metaOrCb: XPkceStateMeta | Dropped, cb?: Dropped): void {
        (typeof metaOrCb === 'function' ? metaOrCb : cb!)(null, pending.delete(state));
      }
    }
    class TokenStore implements XRequestTokenStore {
      get(req: XAuthRequest, token: string, cb: RequestTokenLoaded): void;
      get(req: XAuthRequest, token: string, meta: object, cb: RequestTokenLoaded): void;
      get(_req: XAuthRequest, token: string, metaOrCb: object | RequestTokenLoaded, cb?: RequestTokenLoaded): void {
        (typeof metaOrCb === 'function' ? (metaOrCb as RequestTokenLoaded) : cb!)(null, pending.get(token) ?? false);
      }
      set(_req: XAuthRequest, token: string, secret: string, _state: unknown, _meta: object, cb: (err?: Error | null) => void): void {
        pending.set(token, secret);
        cb();
      }
      destroy(_req: XAuthRequest, token: string, cb: (err?: Error | null) => void): void {
        pending.delete(token);
        cb();
      }
    }
    const built = [
      new XOAuth2PkceStrategy({ clientID: 'id', callbackURL: 'http://127.0.0.1:3000/cb', store: new PkceStore() }, (a, r, profile, done) => done(null, { id: profile.id })),
      new XOAuth1Strategy({ ...base, store: new TokenStore() }, (t, s, profile, done) => done(null, { id: profile.id })),
    ];
    expect(built.map((s) => s.name)).to.deep.equal(['x-oauth2', 'x-oauth1']);
    // The four-parameter forms are what the strategies call (they read each function's length).
    expect(new PkceStore().drop.length).to.equal(4);
    expect(new TokenStore().get.length).to.equal(4);
  });

  it('accept undefined for every optional option under exactOptionalPropertyTypes (an unset environment variable)', () => {
    const fromEnv: string | undefined = process.env.PASSPORT_X_TYPES_TEST_UNSET;
    const notSet: number | undefined = undefined;
    const built = [
      new XOAuth2PkceStrategy(
        { clientID: 'id', callbackURL: 'http://127.0.0.1:3000/cb', clientSecret: fromEnv, baseURL: fromEnv, name: fromEnv, timeoutMs: notSet, proxy: undefined, store: undefined, replayGuard: undefined, fetch: undefined },
        (accessToken, refreshToken, profile, done) => done(null, { id: profile.id }),
      ),
      new XOAuth1Strategy({ ...base, baseURL: fromEnv, userAuthorizationURL: fromEnv, forceLogin: undefined, timeoutMs: notSet, store: undefined }, (token, tokenSecret, profile, done) =>
        done(null, { id: profile.id }),
      ),
    ];
    const cookies = new EncryptedCookieStateStore({ secret: 'a-cookie-secret-of-at-least-32-chars!', cookieName: fromEnv, maxAgeMs: notSet, secure: undefined, sameSite: undefined });
    const sessions = [new XPkceSessionStore({ key: fromEnv, ttlMs: notSet }), new XRequestTokenSessionStore({ key: fromEnv, maxPending: notSet })];
    const guard = new MemoryReplayGuard({ maxEntries: notSet, now: undefined });
    expect(built.map((s) => s.name)).to.deep.equal(['x-oauth2', 'x-oauth1']);
    expect([cookies, ...sessions, guard].every((o) => typeof o === 'object')).to.equal(true);
  });
});
