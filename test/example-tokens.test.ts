// The example app's token plumbing (example-app/tokens.ts): its two token stores, the manager it
// builds from the configuration, and the messages after a failed refresh.
import { expect } from 'chai';
// The example app imports passport-x by its name (the build), so its error classes come from there too.
import { InProcessTokenLock, XOAuthError, XRefreshTokenRevokedError, XTokenNotFoundError, type XTokenSet } from 'passport-x';
import {
  REDIS_TOKEN_PREFIX,
  REDIS_TOKEN_TTL_MS,
  createExampleTokens,
  createMemoryTokenStore,
  createRedisTokenStore,
  needsNewSignIn,
  refreshFailureMessage,
  tokensForProfile,
} from '../example-app/tokens';

const TOKENS: XTokenSet = {
  accessToken: 'access-1',
  refreshToken: 'refresh-1',
  tokenType: 'bearer',
  expiresIn: 7200,
  expiresAt: new Date('2030-01-01T00:00:00.000Z'),
  scope: ['tweet.read', 'users.read', 'offline.access'],
};

describe('example app tokens', function () {
  it('keeps tokens in memory as JSON, so expiresAt comes back as a string, and deletes them', async function () {
    const store = createMemoryTokenStore();
    expect(await store.get('42')).to.equal(undefined);
    await store.set('42', TOKENS);
    expect(await store.get('42')).to.deep.equal({ ...TOKENS, expiresAt: '2030-01-01T00:00:00.000Z' });
    await store.delete('42');
    expect(await store.get('42')).to.equal(undefined);
  });

  it('keeps tokens in Redis as JSON under passport-x-example:tokens:<user ID>, with a TTL', async function () {
    const calls: unknown[][] = [];
    const data = new Map<string, string>();
    const client = {
      get: async (key: string) => (calls.push(['get', key]), data.get(key) ?? null),
      set: async (key: string, value: string, options: { PX: number }) => (calls.push(['set', key, options]), data.set(key, value), 'OK'),
      del: async (key: string) => (calls.push(['del', key]), data.delete(key) ? 1 : 0),
    };
    const store = createRedisTokenStore(client);
    await store.set('42', TOKENS);
    expect(await store.get('42')).to.deep.equal({ ...TOKENS, expiresAt: '2030-01-01T00:00:00.000Z' });
    await store.delete('42');
    expect(await store.get('42')).to.equal(undefined);
    expect(calls).to.deep.equal([
      ['set', `${REDIS_TOKEN_PREFIX}42`, { PX: REDIS_TOKEN_TTL_MS }],
      ['get', `${REDIS_TOKEN_PREFIX}42`],
      ['del', `${REDIS_TOKEN_PREFIX}42`],
      ['get', `${REDIS_TOKEN_PREFIX}42`],
    ]);
  });

  it('builds a manager over the configured store only when an OAuth 2.0 client is configured', async function () {
    const store = createMemoryTokenStore();
    await store.set('42', TOKENS);
    const withClient = createExampleTokens({ x: { oauth2: { clientID: 'cid' }, baseURL: 'http://127.0.0.1:9' }, tokenStore: store, tokenLock: new InProcessTokenLock() });
    expect(withClient.store).to.equal(store);
    // A fresh token: read from the configured store, nothing sent (the base URL would refuse).
    expect(await withClient.manager!.getAccessToken('42')).to.equal('access-1');
    const oauth1Only = createExampleTokens({ x: { oauth1: { consumerKey: 'k', consumerSecret: 's' } } });
    expect(oauth1Only.manager).to.equal(undefined);
    expect(await tokensForProfile(oauth1Only.manager, '42')).to.deep.equal({ kind: 'gone' });
  });

  it('tells the profile page whether the tokens are fresh, gone (sign in again) or failed', async function () {
    const store = createMemoryTokenStore();
    const { manager } = createExampleTokens({ x: { oauth2: { clientID: 'cid' }, baseURL: 'http://127.0.0.1:9' }, tokenStore: store });
    expect(await tokensForProfile(manager, 'nobody')).to.deep.equal({ kind: 'gone' });
    await store.set('42', TOKENS);
    const fresh = await tokensForProfile(manager, '42');
    expect(fresh.kind).to.equal('fresh');
    // Due, and X unreachable on the discard port: failed, not gone.
    await store.set('43', { ...TOKENS, expiresAt: new Date(Date.now() + 1000) });
    const failed = await tokensForProfile(manager, '43');
    expect(failed.kind).to.equal('failed');
  });

  it('says "sign in again" after a refused refresh token, leaves X\'s words to the log, and never shows a token', function () {
    const refused = new XRefreshTokenRevokedError('X refused', {
      cause: new XOAuthError('X refused to refresh', { error: 'invalid_request', description: 'Value passed for the token was invalid.', status: 400 }),
    });
    expect(needsNewSignIn(refused)).to.equal(true);
    expect(refreshFailureMessage(refused)).to.deep.equal({
      kind: 'error',
      text: 'Refreshing the access token failed: X refused the refresh token (it was used, revoked or has expired). Sign in again to get new tokens.',
    });
    // Any other passport-x error: its short sentence for the person, not the developer's diagnosis.
    const down = new XOAuthError('X refused to refresh (HTTP 503): temporarily_unavailable. Check the status page and http://internal.example/', { error: 'temporarily_unavailable', status: 503 });
    expect(refreshFailureMessage(down)).to.deep.equal({ kind: 'error', text: `Refreshing the access token failed: ${down.userMessage}` });
    expect(refreshFailureMessage(down).text).not.to.contain('internal.example');
    const gone = new XTokenNotFoundError('none', 'no-entry');
    expect(needsNewSignIn(gone)).to.equal(true);
    expect(refreshFailureMessage(gone).text).to.match(/Sign in again/);
    expect(needsNewSignIn(new Error('x'))).to.equal(false);
    expect(refreshFailureMessage(new Error('secret-ish detail')).text).not.to.contain('secret-ish');
  });
});
