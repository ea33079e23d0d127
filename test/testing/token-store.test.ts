// The emulator's memory: what it forgets as things expire, and its caps, past which issuing
// throws OverCapacityError (the emulator answers it as X over capacity: 503).
import { expect } from 'chai';
import { LIFETIMES, OverCapacityError, TokenStore, type AuthorizationCodeRecord } from '../../lib/testing/token-store';
import { TestClock } from './emulator-client';

describe('emulator: the token store', () => {
  let clock: TestClock;

  beforeEach(() => {
    clock = new TestClock();
  });

  const consentRequest = { clientID: 'c', redirectURI: 'http://127.0.0.1/cb', scopes: ['users.read', 'offline.access'], state: 's', codeChallenge: 'x', codeChallengeMethod: 'S256' as const };
  const grant = (scopes: readonly string[] = ['users.read']) => ({ clientID: 'c', userId: '1', scopes, grantId: `g${Math.random()}` });

  /** A code issued for a consent, as the consent page does. */
  function code(store: TokenStore): AuthorizationCodeRecord {
    return store.issueCode(store.startAuthorization(consentRequest), '1');
  }

  function full(issue: () => unknown, what: string): void {
    expect(issue).to.throw(OverCapacityError, `the emulator already holds 2 ${what}, its cap`);
  }

  it('holds at most its cap of request tokens, and makes room as they expire', () => {
    const store = new TokenStore(clock.now, { capacity: 2, timestampClock: clock.now });
    store.issueRequestToken('k', 'oob');
    clock.advance(60);
    const second = store.issueRequestToken('k', 'oob');
    full(() => store.issueRequestToken('k', 'oob'), 'request tokens');
    clock.advance(LIFETIMES.requestTokenMs / 1000 - 60);
    // The first expired: the sweep forgets it, and stops at the second, still alive.
    store.issueRequestToken('k', 'oob');
    expect(store.requestToken(second.token)).to.equal(second);
    full(() => store.issueRequestToken('k', 'oob'), 'request tokens');
    store.dropRequestToken(second.token);
    store.issueRequestToken('k', 'oob');
  });

  it('holds at most its cap of nonces, forgets them 600 s after they were seen, and still refuses a replay when full', () => {
    const store = new TokenStore(clock.now, { capacity: 2, timestampClock: clock.now });
    expect(store.rememberNonce('a')).to.equal(true);
    expect(store.rememberNonce('b')).to.equal(true);
    expect(store.rememberNonce('a')).to.equal(false);
    full(() => store.rememberNonce('c'), 'OAuth 1.0a nonces');
    clock.advance(2 * LIFETIMES.timestampWindowS + 1);
    expect(store.rememberNonce('c')).to.equal(true);
    expect(store.rememberNonce('a'), 'forgotten: its timestamp is out of the window by now').to.equal(true);
  });

  it('rotates a refresh token only when there is room for the new access token: over capacity, the used one still works', () => {
    const store = new TokenStore(clock.now, { capacity: 2, timestampClock: clock.now });
    const { refresh } = store.issueOAuth2Tokens(grant(['users.read', 'offline.access']));
    store.issueOAuth2Tokens(grant());
    // Two access tokens: the cap. The refresh must not use up its token and then fail to issue.
    full(() => store.rotateRefreshToken(refresh!, ['users.read', 'offline.access']), 'OAuth 2.0 access tokens');
    expect(store.refreshToken(refresh!.token)).to.equal(refresh);
    clock.advance(2 * 3600);
    // The access tokens expired: room again, and the rotation goes through.
    const rotated = store.rotateRefreshToken(refresh!, ['users.read', 'offline.access']);
    expect(store.refreshToken(refresh!.token)).to.equal(undefined);
    expect(store.refreshToken(rotated.refresh!.token)).to.equal(rotated.refresh);
  });

  it('holds at most its cap of pending consents, which expire after 10 minutes, and a full store of codes keeps the consent pending', () => {
    const store = new TokenStore(clock.now, { capacity: 2, timestampClock: clock.now });
    const first = store.startAuthorization(consentRequest);
    store.startAuthorization(consentRequest);
    full(() => store.startAuthorization(consentRequest), 'pending consents');
    store.issueCode(first, '1');
    expect(store.pendingAuthorization(first.id), 'a code answers the consent').to.equal(undefined);
    const third = store.startAuthorization(consentRequest);
    store.issueCode(third, '1');
    const fourth = store.startAuthorization(consentRequest);
    full(() => store.issueCode(fourth, '1'), 'authorization codes');
    expect(store.pendingAuthorization(fourth.id), 'still answerable').to.equal(fourth);
    clock.advance(LIFETIMES.authorizationCodeMs / 1000);
    store.issueCode(fourth, '1');
    clock.advance(LIFETIMES.pendingAuthorizationMs / 1000);
    store.startAuthorization(consentRequest);
    store.startAuthorization(consentRequest);
  });

  it('holds at most its cap of OAuth 2.0 access tokens, forgotten as they expire, and of refresh tokens, which do not expire', () => {
    const store = new TokenStore(clock.now, { accessTokenTtlMs: 60_000, capacity: 2 });
    store.issueOAuth2Tokens(grant());
    store.issueOAuth2Tokens(grant());
    full(() => store.issueOAuth2Tokens(grant()), 'OAuth 2.0 access tokens');
    clock.advance(60);
    const { refresh } = store.issueOAuth2Tokens(grant(['offline.access']));
    store.issueOAuth2Tokens(grant(['offline.access']));
    clock.advance(60);
    full(() => store.issueOAuth2Tokens(grant(['offline.access'])), 'OAuth 2.0 refresh tokens');
    expect(store.issueOAuth2Tokens(grant()).refresh, 'without offline.access, no refresh token is needed').to.equal(undefined);
    // Revoking a grant (X's revoke endpoint does) retires its refresh token: room for another.
    store.revokeGrant(refresh!.grantId);
    store.issueOAuth2Tokens(grant(['offline.access']));
  });

  it('holds at most its cap of OAuth 1.0a access tokens, which live until invalidated', () => {
    const store = new TokenStore(clock.now, { capacity: 2, timestampClock: clock.now });
    const first = store.issueOAuth1AccessToken('k', '1');
    store.issueOAuth1AccessToken('k', '1');
    clock.advance(365 * 24 * 3600);
    full(() => store.issueOAuth1AccessToken('k', '1'), 'OAuth 1.0a access tokens');
    store.invalidateOAuth1AccessToken(first.token);
    store.issueOAuth1AccessToken('k', '1');
  });

  it('holds at most its cap of used codes; over it, an exchange changes nothing', () => {
    const store = new TokenStore(clock.now, { capacity: 2, timestampClock: clock.now });
    store.exchangeCode(code(store));
    store.exchangeCode(code(store));
    const third = code(store);
    full(() => store.exchangeCode(third), 'used authorization codes');
    expect(store.code(third.code)?.usedAt, 'still unused').to.equal(undefined);
  });

  it('over its cap of access tokens, an exchange changes nothing: the code stays unused and usable once there is room', () => {
    const store = new TokenStore(clock.now, { accessTokenTtlMs: 60_000, capacity: 2 });
    store.issueOAuth2Tokens(grant());
    store.issueOAuth2Tokens(grant());
    const record = code(store);
    full(() => store.exchangeCode(record), 'OAuth 2.0 access tokens');
    expect(store.code(record.code)?.usedAt, 'still unused').to.equal(undefined);
    clock.advance(60);
    const { access, refresh } = store.exchangeCode(record);
    expect(store.isAccessTokenValid(access.token)).to.equal(true);
    expect(store.isRefreshTokenValid(refresh!.token)).to.equal(true);
    expect(store.code(record.code)?.usedAt).to.be.a('number');
  });

  it('rotates a refresh token when the store of refresh tokens is full: the new one takes the used one\'s place', () => {
    const store = new TokenStore(clock.now, { accessTokenTtlMs: 60_000, capacity: 2 });
    const { refresh } = store.issueOAuth2Tokens(grant(['offline.access']));
    const other = store.issueOAuth2Tokens(grant(['offline.access'])).refresh!;
    clock.advance(60);
    full(() => store.issueOAuth2Tokens(grant(['offline.access'])), 'OAuth 2.0 refresh tokens');
    const rotated = store.rotateRefreshToken(refresh!, ['offline.access']);
    expect(store.isRefreshTokenValid(refresh!.token), 'the used one is retired').to.equal(false);
    expect(store.isRefreshTokenValid(rotated.refresh!.token)).to.equal(true);
    expect(store.isRefreshTokenValid(other.token)).to.equal(true);
    full(() => store.issueOAuth2Tokens(grant(['offline.access'])), 'OAuth 2.0 refresh tokens');
  });

  it('remembers a used code as long as the access tokens of its use live, and at least two hours', () => {
    for (const [ttlMs, memoryMs] of [
      [5 * 3600_000, 5 * 3600_000],
      [LIFETIMES.oauth2AccessTokenS * 1000, 2 * 3600_000],
      [1000, 2 * 3600_000],
    ]) {
      const store = new TokenStore(clock.now, { accessTokenTtlMs: ttlMs, capacity: 2 });
      const record = code(store);
      const { access } = store.exchangeCode(record);
      clock.ms += memoryMs! - 1;
      expect(store.code(record.code), `${ttlMs}`).to.equal(record);
      expect(store.isAccessTokenValid(access.token), `${ttlMs}`).to.equal(ttlMs === memoryMs);
      clock.ms += 1;
      expect(store.code(record.code), `${ttlMs}`).to.equal(undefined);
    }
  });

  it('forgets what expired even when the clock went back, once what came first has expired too', () => {
    const store = new TokenStore(clock.now, { capacity: 2, timestampClock: clock.now });
    store.issueRequestToken('k', 'oob');
    clock.advance(-600);
    store.issueRequestToken('k', 'oob');
    // The second expires first; the first is still alive, so the sweep stops there.
    clock.advance(LIFETIMES.requestTokenMs / 1000 + 1);
    full(() => store.issueRequestToken('k', 'oob'), 'request tokens');
    clock.advance(600);
    store.issueRequestToken('k', 'oob');
    store.issueRequestToken('k', 'oob');
  });
});
