// XTokenManager (lib/tokens.ts) against the emulator over real HTTP: a fresh token costs one
// store read; a due one is refreshed once, stored before anyone gets it, shared by concurrent
// callers; a refused refresh token is dropped with a typed error; the lock is taken only to
// refresh, and the store is re-read under it. The several-processes proof is in
// test/e2e/tokens.e2e.test.ts.
import { expect } from 'chai';
import { inspect } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { fetchUsersMe, xEndpoints, type XTokenSet } from '../lib/endpoints';
import { XAPIError, XCreditsDepletedError, XError, XLockTimeoutError, XOAuthError, XRateLimitError, XRefreshTokenRevokedError, XRequestError, XTokenNotFoundError, XTokenStoreError, XUsageCapError } from '../lib/errors';
import { refreshAccessToken } from '../lib/helpers';
import { MAX_TIMEOUT_MS } from '../lib/http';
import { InProcessTokenLock, type XLockLease, type XTokenLock } from '../lib/lock';
import { startXEmulator, type XEmulator } from '../lib/testing';
import { DEFAULT_LOCK_MARGIN_MS, XTokenManager, type XRevokeFailures, type XTokenManagerOptions, type XTokenStore } from '../lib/tokens';
import { MemoryJSONStore, signInOnEmulator } from './support/token-fixtures';

const USER = 'user-1';

/** A lock that records each call and delegates to an in-process lock. */
class SpyLock implements XTokenLock {
  readonly calls: Array<{ key: string; ttlMs: number }> = [];
  readonly inner = new InProcessTokenLock();
  before: (() => Promise<void>) | undefined;
  async withLock<T>(key: string, ttlMs: number, fn: () => Promise<T>): Promise<T> {
    this.calls.push({ key, ttlMs });
    return this.inner.withLock(key, ttlMs, async () => {
      if (this.before) await this.before();
      return fn();
    });
  }
}

/** `store` with a `set` that fails (the first `failures` times, or while `failing`), recording each attempt. */
function refusingSets(
  store: MemoryJSONStore,
  refusal: Error | ((key: string, tokens: XTokenSet) => Error | Promise<never>),
  failures = Infinity,
): XTokenStore & { failing: boolean; error: Error | undefined; attempts: Array<{ at: number; tokens: XTokenSet }> } {
  const wrapped = {
    failing: true,
    error: refusal instanceof Error ? refusal : undefined,
    attempts: [] as Array<{ at: number; tokens: XTokenSet }>,
    get: store.get.bind(store),
    delete: store.delete.bind(store),
    async set(key: string, tokens: XTokenSet): Promise<unknown> {
      wrapped.attempts.push({ at: performance.now(), tokens });
      if (!wrapped.failing || wrapped.attempts.length > failures) return store.set(key, tokens);
      const outcome = refusal instanceof Error ? refusal : refusal(key, tokens);
      if (outcome instanceof Error) throw outcome;
      return outcome;
    },
  };
  return wrapped;
}

/** A lock that runs fn at once with a lease ending `leftMs` from now. */
function leasing(leftMs: number): XTokenLock & { calls: number } {
  const lock = {
    calls: 0,
    async withLock<T>(_key: string, _ttlMs: number, fn: (lease?: XLockLease) => Promise<T>): Promise<T> {
      lock.calls++;
      return fn({ expiresAt: Date.now() + leftMs });
    },
  };
  return lock;
}

/** Moves both clocks, the wall clock (`Date.now`) and the monotonic one (`performance.now`), `ms` ahead, as for a process paused that long; returns what undoes it. */
function shiftClocks(ms: number): () => void {
  const realNow = Date.now;
  const realMonotonic = performance.now.bind(performance);
  Date.now = () => realNow() + ms;
  performance.now = () => realMonotonic() + ms;
  return () => {
    Date.now = realNow;
    // The own property goes, and the prototype's now answers again.
    delete (performance as { now?: unknown }).now;
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (err: unknown) => err,
  );
}

describe('XTokenManager', function () {
  let x: XEmulator;
  let store: MemoryJSONStore;
  let lock: SpyLock;
  let signedIn: XTokenSet;

  before(async function () {
    x = await startXEmulator();
  });
  after(() => x.close());

  beforeEach(async function () {
    store = new MemoryJSONStore();
    lock = new SpyLock();
    signedIn = await signInOnEmulator(x);
  });

  function manager(options: Partial<XTokenManagerOptions> = {}): XTokenManager {
    return new XTokenManager({
      clientID: x.apps.confidential.clientID,
      clientSecret: x.apps.confidential.clientSecret,
      baseURL: x.baseURL,
      store,
      lock,
      ...options,
    });
  }

  /** Stores the signed-in set with its expiry moved to `inMs` from now. */
  async function storeExpiringIn(inMs: number | undefined, tokens: XTokenSet = signedIn): Promise<void> {
    await store.set(USER, { ...tokens, expiresAt: inMs === undefined ? undefined : new Date(Date.now() + inMs) });
    store.sets = 0;
    store.gets = 0;
    store.log.length = 0;
  }

  /** A manager whose store refused the rotated pair (all 3 attempts), so that it keeps it; the store then works again. */
  async function managerKeepingAPair(): Promise<{ m: XTokenManager; kept: XTokenSet }> {
    await storeExpiringIn(5_000);
    const refusing = refusingSets(store, new Error('disk full'));
    const m = manager({ store: refusing });
    expect(await rejection(m.getAccessToken(USER))).to.be.instanceOf(XTokenStoreError).with.property('rotatedPairKept', true);
    refusing.failing = false;
    return { m, kept: refusing.attempts[0]!.tokens };
  }

  /** Requests to X's token endpoint from now on. */
  function tokenRequests(): () => number {
    const before = x.requests.length;
    return () => x.requests.slice(before).filter((r) => r.path === '/2/oauth2/token').length;
  }

  /** Waits until X has answered the delayed request `requests` counts: the emulator logs a request when it answers, and no later test may count it. */
  async function answered(requests: () => number): Promise<void> {
    while (requests() === 0) await sleep(20);
  }

  async function isValidAtX(accessToken: string): Promise<boolean> {
    try {
      const me = await fetchUsersMe(xEndpoints(x.baseURL).usersMe, accessToken, [], {});
      return me.data.id === x.users[0].id;
    } catch {
      return false;
    }
  }

  describe('a fresh token', function () {
    it('costs exactly one store.get: no lock, no request to X', async function () {
      await storeExpiringIn(2 * 3600_000);
      const requests = tokenRequests();
      const before = x.requests.length;
      expect(await manager().getAccessToken(USER)).to.equal(signedIn.accessToken);
      expect(store.gets).to.equal(1);
      expect(store.log).to.deep.equal(['get']);
      expect(lock.calls).to.deep.equal([]);
      expect(requests()).to.equal(0);
      expect(x.requests.length).to.equal(before);
    });

    it('is one whose expiry X never gave (no expiresAt)', async function () {
      await storeExpiringIn(undefined);
      const requests = tokenRequests();
      expect(await manager().getAccessToken(USER)).to.equal(signedIn.accessToken);
      expect(requests()).to.equal(0);
      expect(lock.calls).to.have.length(0);
    });

    it('is one that expires later than refreshBeforeMs (default 60 s)', async function () {
      await storeExpiringIn(30_000);
      const requests = tokenRequests();
      expect(await manager({ refreshBeforeMs: 10_000 }).getAccessToken(USER)).to.equal(signedIn.accessToken);
      expect(requests()).to.equal(0);
      // The default 60 s: the same token is due.
      expect(await manager().getAccessToken(USER)).not.to.equal(signedIn.accessToken);
      expect(requests()).to.equal(1);
    });
  });

  describe('a token that is due', function () {
    it('is refreshed once, and the rotated pair is stored before the caller gets the new token', async function () {
      await storeExpiringIn(5_000);
      const requests = tokenRequests();
      const accessToken = await manager().getAccessToken(USER).then((token) => {
        store.log.push('caller got the token');
        return token;
      });
      expect(requests()).to.equal(1);
      expect(store.log).to.deep.equal(['get', 'get', 'set', 'caller got the token']);
      const stored = store.peek(USER)!;
      expect(stored.accessToken).to.equal(accessToken);
      expect(stored.refreshToken).to.be.a('string').and.not.equal(signedIn.refreshToken);
      expect(new Date(stored.expiresAt as string).getTime()).to.be.closeTo(Date.now() + 7200_000, 5_000);
      expect(await isValidAtX(accessToken)).to.equal(true);
      expect(x.isRefreshTokenValid(stored.refreshToken as string)).to.equal(true);
      expect(x.isRefreshTokenValid(signedIn.refreshToken!), 'the old refresh token is used up').to.equal(false);
      expect(lock.calls).to.deep.equal([{ key: USER, ttlMs: 10_000 + DEFAULT_LOCK_MARGIN_MS }]);
    });

    it('is refreshed once for 50 concurrent callers, who all get the same token', async function () {
      await storeExpiringIn(5_000);
      const requests = tokenRequests();
      const m = manager();
      const tokens = await Promise.all(Array.from({ length: 50 }, () => m.getAccessToken(USER)));
      expect(requests()).to.equal(1);
      expect(new Set(tokens).size).to.equal(1);
      expect(tokens[0]).not.to.equal(signedIn.accessToken);
      expect(lock.calls).to.have.length(1);
      expect(store.sets).to.equal(1);
      expect(await isValidAtX(tokens[0]!)).to.equal(true);
    });

    it('is refreshed when X already expired it (emulator accessTokenTtlMs), into a token X accepts', async function () {
      const short = await startXEmulator({ accessTokenTtlMs: 1000 });
      try {
        const tokens = await signInOnEmulator(short);
        await store.set(USER, tokens);
        await sleep(1100);
        const m = new XTokenManager({ clientID: short.apps.confidential.clientID, clientSecret: short.apps.confidential.clientSecret, baseURL: short.baseURL, store, refreshBeforeMs: 0 });
        expect(short.isAccessTokenValid(tokens.accessToken)).to.equal(false);
        const fresh = await m.getAccessToken(USER);
        expect(fresh).not.to.equal(tokens.accessToken);
        expect(short.isAccessTokenValid(fresh)).to.equal(true);
      } finally {
        await short.close();
      }
    });

    it('is refreshed once by two managers of one process sharing a store and an InProcessTokenLock', async function () {
      await storeExpiringIn(5_000);
      const requests = tokenRequests();
      const shared = new InProcessTokenLock();
      const a = manager({ lock: shared });
      const b = manager({ lock: shared });
      const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).getAccessToken(USER)));
      expect(requests()).to.equal(1);
      expect(new Set(tokens).size).to.equal(1);
    });

    it('is not refreshed again when, under the lock, the store shows another process already rotated it', async function () {
      await storeExpiringIn(5_000);
      const requests = tokenRequests();
      // Another process: its own manager and lock, the same store. It rotates while this one waits for the lock.
      const other = manager({ lock: new InProcessTokenLock() });
      let rotatedByOther: XTokenSet | undefined;
      lock.before = async () => {
        lock.before = undefined;
        rotatedByOther = await other.refresh(USER);
      };
      const accessToken = await manager().getAccessToken(USER);
      expect(requests(), 'only the other process refreshed').to.equal(1);
      expect(accessToken).to.equal(rotatedByOther!.accessToken);
      expect(store.peek(USER)!.refreshToken).to.equal(rotatedByOther!.refreshToken);
    });

    it('keeps the refresh token when X\'s answer has none (RFC 6749 section 6)', async function () {
      await storeExpiringIn(5_000);
      x.failNext('/2/oauth2/token', { status: 200, body: { token_type: 'bearer', access_token: 'new-access-token-without-refresh', expires_in: 7200, scope: 'tweet.read users.read offline.access' } });
      expect(await manager().getAccessToken(USER)).to.equal('new-access-token-without-refresh');
      expect(store.peek(USER)!.refreshToken).to.equal(signedIn.refreshToken);
    });


    it('is refreshed once by two processes that saw the same 401, when X\'s answer keeps the refresh token', async function () {
      await storeExpiringIn(2 * 3600_000);
      const requests = tokenRequests();
      // Two processes (a manager each) behind one lock, the same store; X's first answer has no refresh_token.
      const shared = new InProcessTokenLock();
      const [a, b] = [manager({ lock: shared }), manager({ lock: shared })];
      x.failNext('/2/oauth2/token', { status: 200, body: { token_type: 'bearer', access_token: 'new-access-token-keeping-refresh', expires_in: 7200, scope: 'tweet.read users.read offline.access' } });
      const refused = signedIn.accessToken;
      const sets = await Promise.all([a.refresh(USER, { rejectedAccessToken: refused }), b.refresh(USER, { rejectedAccessToken: refused })]);
      expect(requests(), 'the second holder finds the access token replaced and sends nothing').to.equal(1);
      expect(sets.map((s) => s.accessToken)).to.deep.equal(['new-access-token-keeping-refresh', 'new-access-token-keeping-refresh']);
      expect(store.peek(USER)!.accessToken).to.equal('new-access-token-keeping-refresh');
      expect(store.peek(USER)!.refreshToken).to.equal(signedIn.refreshToken);
    });
    it('keeps the granted scopes when X\'s answer has no scope (RFC 6749 section 5.1: the same as granted)', async function () {
      await storeExpiringIn(5_000);
      expect(signedIn.scope).to.deep.equal(['tweet.read', 'users.read', 'offline.access']);
      x.failNext('/2/oauth2/token', { status: 200, body: { token_type: 'bearer', access_token: 'new-access-token-without-scope', refresh_token: 'new-refresh-token-without-scope', expires_in: 7200 } });
      const set = await manager().getTokenSet(USER);
      expect(set.accessToken).to.equal('new-access-token-without-scope');
      expect(set.scope).to.deep.equal(signedIn.scope);
      expect(store.peek(USER)!.scope).to.deep.equal(signedIn.scope);
      // A scope X does send replaces them (RFC 6749 section 6 lets a refresh narrow them).
      await storeExpiringIn(5_000, { ...signedIn, accessToken: set.accessToken, refreshToken: set.refreshToken });
      x.failNext('/2/oauth2/token', { status: 200, body: { token_type: 'bearer', access_token: 'narrowed-access-token', refresh_token: 'narrowed-refresh-token', expires_in: 7200, scope: 'tweet.read offline.access' } });
      expect((await manager().getTokenSet(USER)).scope).to.deep.equal(['tweet.read', 'offline.access']);
      expect(store.peek(USER)!.scope).to.deep.equal(['tweet.read', 'offline.access']);
    });
  });

  describe('when X refuses the refresh token', function () {
    it('says no tokens were stored any more, and deletes nothing, when the user signed out while X was answering', async function () {
      await storeExpiringIn(5_000);
      await refreshAccessToken({ clientID: x.apps.confidential.clientID, clientSecret: x.apps.confidential.clientSecret, baseURL: x.baseURL, refreshToken: signedIn.refreshToken! });
      const m = manager();
      x.failNext('/2/oauth2/token', { delayMs: 300 });
      const refreshing = rejection(m.getAccessToken(USER));
      while (lock.calls.length === 0) await sleep(1); // the refresh holds the lock
      await store.delete(USER); // a sign-out, outside the manager
      store.deletes = 0;
      const err = (await refreshing) as XRefreshTokenRevokedError;
      expect(err).to.be.instanceOf(XRefreshTokenRevokedError);
      expect(err.message).to.contain('No tokens were stored for this user any more').and.not.to.contain('were deleted');
      expect(store.deletes).to.equal(0);
      expect(store.data.has(USER)).to.equal(false);
    });

    it('quotes X\'s description on one line, cut at 200 characters, in XRefreshTokenRevokedError\'s message', async function () {
      await storeExpiringIn(5_000);
      const description = `Value passed for the token was invalid.\r\n2026-12-02 FAKE LOG LINE \u001b[31m${'x'.repeat(100_000)}`;
      x.failNext('/2/oauth2/token', { status: 400, body: { error: 'invalid_request', error_description: description } });
      const err = (await rejection(manager().getAccessToken(USER))) as XRefreshTokenRevokedError;
      expect(err).to.be.instanceOf(XRefreshTokenRevokedError);
      expect(err.message).not.to.match(/\p{Cc}/u);
      expect(err.message).to.include('HTTP 400 invalid_request: Value passed for the token was invalid. 2026-12-02 FAKE LOG LINE [31mxxx');
      expect(err.message.length).to.be.below(800);
    });

    it('throws XRefreshTokenRevokedError to every concurrent caller, deletes the stored tokens, and asks X once', async function () {
      await storeExpiringIn(5_000);
      // Someone used the refresh token behind the manager's back (an instance without the shared lock).
      await refreshAccessToken({ clientID: x.apps.confidential.clientID, clientSecret: x.apps.confidential.clientSecret, baseURL: x.baseURL, refreshToken: signedIn.refreshToken! });
      const requests = tokenRequests();
      const m = manager();
      const errors = await Promise.all(Array.from({ length: 20 }, () => rejection(m.getAccessToken(USER))));
      expect(requests(), 'no retry loop').to.equal(1);
      for (const err of errors) expect(err).to.equal(errors[0]);
      const err = errors[0] as XRefreshTokenRevokedError;
      expect(err).to.be.instanceOf(XRefreshTokenRevokedError).and.instanceOf(XError);
      expect(err.code).to.equal('X_REFRESH_TOKEN_REVOKED');
      expect(err.status).to.equal(400);
      expect(err.message).to.match(/sign in again/).and.to.contain('invalid_request: Value passed for the token was invalid.');
      expect(err.cause).to.be.instanceOf(XOAuthError);
      expect((err.cause as XOAuthError).error).to.equal('invalid_request');
      expect(store.data.has(USER)).to.equal(false);
      expect(store.deletes).to.equal(1);
      expect(err.message).to.contain('The stored tokens were deleted.');
      for (const shown of [err.message, err.stack ?? '', inspect(err, { depth: 5 }), JSON.stringify(err)]) {
        expect(shown).not.to.include(signedIn.refreshToken!);
        expect(shown).not.to.include(signedIn.accessToken);
        expect(shown).not.to.include(x.apps.confidential.clientSecret);
      }
      // The next call finds nothing stored: sign in.
      const next = await rejection(m.getAccessToken(USER));
      expect(next).to.be.instanceOf(XTokenNotFoundError).with.property('reason', 'no-entry');
      expect(requests()).to.equal(1);
    });

    it('keeps the newer pair when this holder outlived its lock and the next holder rotated meanwhile: the caller gets that pair, nothing is deleted', async function () {
      await storeExpiringIn(5_000);
      const requests = tokenRequests();
      // A: re-reads the pair under its lock, then stalls past lockTtlMs (a pause of the process).
      // Meanwhile B, another instance whose lock A's has already expired, rotates the same pair.
      const other = manager({ lock: new InProcessTokenLock() });
      let rotatedByOther: XTokenSet | undefined;
      const stallingStore = {
        get: async (key: string) => {
          const value = await store.get(key);
          if (rotatedByOther === undefined && store.gets === 2) rotatedByOther = await other.refresh(USER);
          return value;
        },
        set: store.set.bind(store),
        delete: store.delete.bind(store),
      };
      const accessToken = await manager({ store: stallingStore }).getAccessToken(USER);
      expect(rotatedByOther, 'B rotated while A stalled').not.to.equal(undefined);
      expect(requests(), 'B rotated, then A sent the spent token and X refused it').to.equal(2);
      expect(accessToken).to.equal(rotatedByOther!.accessToken);
      expect(store.deletes, 'B\'s pair not deleted').to.equal(0);
      expect(store.peek(USER)!.refreshToken).to.equal(rotatedByOther!.refreshToken);
      expect(await isValidAtX(accessToken)).to.equal(true);
    });

    it('keeps and returns a set the user stored by signing in again meanwhile, even one without a refresh token: the whole set is compared, not only the refresh token', async function () {
      await storeExpiringIn(5_000);
      // The user signs in again (without offline.access) while this holder's refresh is refused.
      const withoutOffline = await signInOnEmulator(x, 'tweet.read users.read');
      const requests = tokenRequests();
      x.failNext('/2/oauth2/token', { status: 400, body: { error: 'invalid_grant', error_description: 'Refresh token revoked.' } });
      const signingIn = {
        get: async (key: string) => {
          if (store.gets === 2) await store.set(USER, { ...withoutOffline, expiresAt: new Date(Date.now() + 3600_000) });
          return store.get(key);
        },
        set: store.set.bind(store),
        delete: store.delete.bind(store),
      };
      const token = await manager({ store: signingIn }).getAccessToken(USER);
      expect(requests()).to.equal(1);
      expect(token).to.equal(withoutOffline.accessToken);
      expect(store.deletes, 'the new sign-in is not deleted').to.equal(0);
      expect(store.peek(USER)!.accessToken).to.equal(withoutOffline.accessToken);
      expect(await isValidAtX(token)).to.equal(true);
    });

    it('leaves a different stored set that has already expired for the next call, and rejects with X\'s refusal', async function () {
      await storeExpiringIn(5_000);
      const other = await signInOnEmulator(x);
      x.failNext('/2/oauth2/token', { status: 400, body: { error: 'invalid_grant', error_description: 'Refresh token revoked.' } });
      const replacing = {
        get: async (key: string) => {
          if (store.gets === 2) await store.set(USER, { ...other, expiresAt: new Date(Date.now() - 1_000) });
          return store.get(key);
        },
        set: store.set.bind(store),
        delete: store.delete.bind(store),
      };
      const err = await rejection(manager({ store: replacing }).getAccessToken(USER));
      expect(err).to.be.instanceOf(XOAuthError).and.include({ error: 'invalid_grant' });
      expect(err).not.to.be.instanceOf(XRefreshTokenRevokedError);
      expect(store.deletes).to.equal(0);
      expect(store.peek(USER)!.refreshToken).to.equal(other.refreshToken);
      // The next call refreshes the other set.
      const token = await manager().getAccessToken(USER);
      expect(x.isRefreshTokenValid(other.refreshToken!)).to.equal(false);
      expect(await isValidAtX(token)).to.equal(true);
    });

    it('deletes the tokens when the store, read again, still holds the refused refresh token', async function () {
      await storeExpiringIn(5_000);
      x.failNext('/2/oauth2/token', { status: 400, body: { error: 'invalid_request', error_description: 'Value passed for the token was invalid.' } });
      const err = await rejection(manager().getAccessToken(USER));
      expect(err).to.be.instanceOf(XRefreshTokenRevokedError);
      expect(store.log, 'read, read again after the refusal, then deleted').to.deep.equal(['get', 'get', 'get', 'delete']);
      expect(store.data.has(USER)).to.equal(false);
    });

    it('treats invalid_grant as a refused refresh token too', async function () {
      await storeExpiringIn(5_000);
      x.failNext('/2/oauth2/token', { status: 400, body: { error: 'invalid_grant', error_description: 'Refresh token expired.' } });
      const err = await rejection(manager().getAccessToken(USER));
      expect(err).to.be.instanceOf(XRefreshTokenRevokedError);
      expect(store.data.has(USER)).to.equal(false);
    });

    it('keeps the tokens when X refuses the app\'s client credentials (invalid_client is not the user\'s token)', async function () {
      await storeExpiringIn(5_000);
      const err = await rejection(manager({ clientSecret: 'wrong-secret' }).getAccessToken(USER));
      expect(err).to.be.instanceOf(XOAuthError).and.not.instanceOf(XRefreshTokenRevokedError);
      expect((err as XOAuthError).status).to.equal(401);
      expect(store.data.has(USER)).to.equal(true);
      expect(x.isRefreshTokenValid(signedIn.refreshToken!)).to.equal(true);
    });
  });

  describe('when the refresh fails otherwise', function () {
    it('rejects with X\'s error, keeps the stored tokens, and lets the next call refresh', async function () {
      await storeExpiringIn(5_000);
      x.failNext('/2/oauth2/token', { status: 503, body: { title: 'Service Unavailable', detail: 'Service Unavailable', type: 'about:blank', status: 503 } });
      const m = manager();
      const err = await rejection(m.getAccessToken(USER));
      expect(err).to.be.instanceOf(XAPIError).with.property('status', 503);
      expect(store.peek(USER)!.refreshToken).to.equal(signedIn.refreshToken);
      const token = await m.getAccessToken(USER);
      expect(await isValidAtX(token)).to.equal(true);
    });

    it('never retries X\'s billing refusals (402, usage cap): one request, the typed error passed on, the tokens kept', async function () {
      for (const [preset, type] of [['credits-depleted', XCreditsDepletedError], ['usage-cap', XUsageCapError]] as const) {
        await storeExpiringIn(5_000);
        const requests = tokenRequests();
        x.failNext('/2/oauth2/token', preset);
        const err = await rejection(manager().getAccessToken(USER));
        expect(err, preset).to.be.instanceOf(type).and.not.instanceOf(XRefreshTokenRevokedError).and.not.instanceOf(XRateLimitError);
        expect(requests(), 'asked X once').to.equal(1);
        expect(store.peek(USER)!.refreshToken).to.equal(signedIn.refreshToken);
      }
    });

    it('times out after timeoutMs, keeping the stored tokens', async function () {
      await storeExpiringIn(5_000);
      x.failNext('/2/oauth2/token', { delayMs: 2_000 });
      const requests = tokenRequests();
      const started = Date.now();
      const err = await rejection(manager({ timeoutMs: 200 }).getAccessToken(USER));
      expect(Date.now() - started).to.be.below(1500);
      expect(err).to.be.instanceOf(XRequestError).with.property('code', 'X_REQUEST_TIMEOUT');
      expect(store.data.has(USER)).to.equal(true);
      expect(lock.calls[0]!.ttlMs).to.equal(200 + DEFAULT_LOCK_MARGIN_MS);
      await answered(requests);
    });

    it('retries the write (3 attempts, 100 then 400 ms apart), then rejects with XTokenStoreError and gives no caller the new token, which it keeps; the next call stores it first and returns it, sending nothing to X', async function () {
      await storeExpiringIn(5_000);
      const requests = tokenRequests();
      const refusing = refusingSets(store, new Error('disk full'));
      const m = manager({ store: refusing });
      const results = await Promise.allSettled(Array.from({ length: 5 }, () => m.getAccessToken(USER)));
      expect(results.map((r) => r.status)).to.deep.equal(Array(5).fill('rejected'));
      const errors = results.map((r) => (r as PromiseRejectedResult).reason as unknown);
      for (const err of errors) expect(err).to.equal(errors[0]);
      const err = errors[0] as XTokenStoreError;
      expect(err).to.be.instanceOf(XTokenStoreError).and.instanceOf(XError).and.include({ code: 'X_TOKEN_STORE_FAILED', operation: 'set', reason: 'failed', rotatedPairKept: true });
      expect(err.cause).to.equal(refusing.error);
      expect(err.message).to.match(/X rotated this user's tokens, but the token store refused to save the new pair \(3 attempts; the last failed: its error is the cause\)/).and.match(/kept in this process, no caller got it/);
      expect(requests(), 'one rotation at X').to.equal(1);
      // Three attempts with the same new pair, 100 ms then 400 ms apart (timers never fire early).
      expect(refusing.attempts).to.have.length(3);
      const [first, second, third] = refusing.attempts;
      expect(second!.at - first!.at).to.be.at.least(99);
      expect(third!.at - second!.at).to.be.at.least(399);
      const kept = first!.tokens;
      for (const attempt of refusing.attempts) expect(attempt.tokens).to.deep.equal(kept);
      expect(kept.refreshToken).not.to.equal(signedIn.refreshToken);
      expect(x.isRefreshTokenValid(kept.refreshToken!)).to.equal(true);
      expect(store.peek(USER)!.refreshToken, 'the store still holds the spent pair').to.equal(signedIn.refreshToken);
      // The store works again: the next call writes the kept pair before anything else, and returns it.
      refusing.failing = false;
      store.log.length = 0;
      const token = await m.getAccessToken(USER);
      expect(token).to.equal(kept.accessToken);
      expect(requests(), 'the spent refresh token was not sent').to.equal(1);
      expect(store.log).to.deep.equal(['get', 'get', 'set']);
      expect(store.peek(USER)!.refreshToken).to.equal(kept.refreshToken);
      expect(await isValidAtX(token)).to.equal(true);
      // Forgotten once stored: the next refresh rotates from the stored pair.
      const rotated = await m.refresh(USER);
      expect(requests()).to.equal(2);
      expect(x.isRefreshTokenValid(rotated.refreshToken!)).to.equal(true);
    });

    it('stores the rotated pair when a retry succeeds, and returns it', async function () {
      await storeExpiringIn(5_000);
      const refusing = refusingSets(store, new Error('ECONNRESET'), 1);
      const token = await manager({ store: refusing }).getAccessToken(USER);
      expect(refusing.attempts).to.have.length(2);
      expect(store.peek(USER)!.accessToken).to.equal(token);
      expect(await isValidAtX(token)).to.equal(true);
    });

    it('redacts the new and the old tokens from the store\'s error (ioredis puts the command\'s arguments, the JSON, on it)', async function () {
      await storeExpiringIn(5_000);
      const refusing = refusingSets(store, (key, tokens) =>
        Object.assign(new Error(`OOM command not allowed when used memory > 'maxmemory'. (SET ${key} ${JSON.stringify(tokens)})`), { command: { name: 'set', args: [key, JSON.stringify(tokens)] } }),
      );
      const err = (await rejection(manager({ store: refusing }).getAccessToken(USER))) as XTokenStoreError;
      expect(err).to.be.instanceOf(XTokenStoreError).and.include({ rotatedPairKept: true });
      const kept = refusing.attempts[0]!.tokens;
      expect((err.cause as Error).message).to.match(/^OOM command not allowed/).and.include('[redacted]');
      for (const shown of [err.message, err.stack ?? '', inspect(err, { depth: Infinity, showHidden: true }), JSON.stringify(err), JSON.stringify(err.cause)]) {
        for (const secret of [kept.accessToken, kept.refreshToken!, signedIn.refreshToken!, signedIn.accessToken]) expect(shown).not.to.include(secret);
      }
    });

    it('never retries the write past the time the lock has left: each retry is cut to it, and none starts after it', async function () {
      await storeExpiringIn(5_000);
      // A store whose set fails after 0.8 s; timeoutMs 1 s, a lease of 2.9 s (2 s kept for the write).
      const failingSlowly = refusingSets(store, () => sleep(800).then(() => Promise.reject(new Error('ETIMEDOUT'))));
      const started = Date.now();
      const err = await rejection(manager({ store: failingSlowly, lock: leasing(2_900), timeoutMs: 1_000, lockTtlMs: 3_300 }).getAccessToken(USER));
      const took = Date.now() - started;
      expect(err).to.be.instanceOf(XTokenStoreError).and.include({ operation: 'set', reason: 'timeout', rotatedPairKept: true });
      // Attempts at r, r + 0.9 s and r + 2.1 s (r: the refresh at X, under 0.4 s on the slowest machine);
      // the third is cut to what is left, so all ends at the lease's end, 2.9 s (uncut: r + 2.9 s and more).
      expect(failingSlowly.attempts).to.have.length(3);
      expect(took).to.be.within(2_800, 3_300);
      // 2.3 s left: after the second attempt fails (r + 1.9 s), waiting 0.4 s for a third would end at the lease's end or past it.
      await storeExpiringIn(5_000, await signInOnEmulator(x));
      const failingAgain = refusingSets(store, () => sleep(900).then(() => Promise.reject(new Error('ETIMEDOUT'))));
      const startedAgain = Date.now();
      const again = await rejection(manager({ store: failingAgain, lock: leasing(2_300), timeoutMs: 1_000, lockTtlMs: 2_600 }).getAccessToken(USER));
      expect(again).to.be.instanceOf(XTokenStoreError).and.include({ reason: 'failed', rotatedPairKept: true });
      expect((again as Error).message).to.include('(2 attempts; the last failed: its error is the cause)');
      expect(failingAgain.attempts).to.have.length(2);
      expect(Date.now() - startedAgain).to.be.within(1_850, 2_350);
    });

    it('makes no second attempt while the first, given up on after timeoutMs, has not settled, and gives up by the lease\'s end', async function () {
      await storeExpiringIn(5_000);
      // A store whose set never settles: a retry could land before it, and it after the retry.
      const hanging = refusingSets(store, () => new Promise<never>(() => undefined));
      const started = Date.now();
      const err = await rejection(manager({ store: hanging, lock: leasing(2_900), timeoutMs: 1_000, lockTtlMs: 3_300 }).getAccessToken(USER));
      expect(err).to.be.instanceOf(XTokenStoreError).and.include({ operation: 'set', reason: 'timeout', rotatedPairKept: true });
      expect((err as Error).message).to.include('(1 attempt; the last did not settle in time)');
      expect(hanging.attempts).to.have.length(1);
      // The lock is kept while that write may still land, up to the lease's end (2.9 s), not past it.
      expect(Date.now() - started).to.be.within(2_800, 3_300);
    });

    it('answers the kept pair, written first, even while the stored access token is still fresh (refresh() after X refused it)', async function () {
      // Fresh for an hour, but the app saw X refuse it (a 401) and asked for a refresh; the store refuses the rotated pair.
      await storeExpiringIn(3_600_000);
      const refusing = refusingSets(store, new Error('disk full'));
      const m = manager({ store: refusing });
      expect(await rejection(m.refresh(USER))).to.be.instanceOf(XTokenStoreError).with.property('rotatedPairKept', true);
      const kept = refusing.attempts[0]!.tokens;
      refusing.failing = false;
      const requests = tokenRequests();
      // Not the stored, refused token: the kept pair, written first, and nothing sent to X.
      expect(await m.getAccessToken(USER)).to.equal(kept.accessToken);
      expect(store.peek(USER)!.accessToken).to.equal(kept.accessToken);
      expect(requests()).to.equal(0);
    });

    it('forgets the kept pair when the store then holds another pair (a new sign-in): that pair wins', async function () {
      const { m, kept } = await managerKeepingAPair();
      // The user signs in again: a new pair, itself due soon.
      const again = await signInOnEmulator(x);
      await storeExpiringIn(5_000, again);
      const requests = tokenRequests();
      const token = await m.getAccessToken(USER);
      expect(requests(), 'refreshed from the sign-in\'s pair').to.equal(1);
      expect(x.isRefreshTokenValid(again.refreshToken!)).to.equal(false);
      expect(token).not.to.equal(kept.accessToken);
      expect(store.peek(USER)!.accessToken).to.equal(token);
    });

    it('passes on a lock that gives up (XLockTimeoutError from RedisTokenLock, here any error)', async function () {
      await storeExpiringIn(5_000);
      const busy = new Error('lock busy');
      const requests = tokenRequests();
      const err = await rejection(manager({ lock: { withLock: async () => Promise.reject(busy) } }).getAccessToken(USER));
      expect(err).to.equal(busy);
      expect(requests()).to.equal(0);
    });
  });

  describe('a store that does not answer', function () {
    /** The store, with `get` never settling on the calls `hangs` picks (1-based count of gets). */
    function hangingGets(hangs: (n: number) => boolean): XTokenStore {
      let n = 0;
      return {
        get: (key) => (hangs(++n) ? new Promise(() => undefined) : store.get(key)),
        set: store.set.bind(store),
        delete: store.delete.bind(store),
      };
    }

    it('fails a get that never settles after timeoutMs with XTokenStoreError (timeout), nothing sent to X', async function () {
      await storeExpiringIn(2 * 3600_000);
      const requests = tokenRequests();
      const started = Date.now();
      const err = await rejection(manager({ store: hangingGets(() => true), timeoutMs: 300 }).getAccessToken(USER));
      expect(Date.now() - started).to.be.within(290, 2_000);
      expect(err).to.be.instanceOf(XTokenStoreError).and.include({ code: 'X_TOKEN_STORE_FAILED', operation: 'get', reason: 'timeout', rotatedPairKept: false });
      expect((err as Error).message).to.match(/the token store's get\(\) did not settle within 300 ms \(timeoutMs\): nothing was sent to X/);
      expect((err as Error).cause).to.equal(undefined);
      expect(requests()).to.equal(0);
    });

    it('lets go of the key when the read under the lock never settles: the callers get XTokenStoreError, and the next call refreshes', async function () {
      await storeExpiringIn(5_000);
      const requests = tokenRequests();
      // Each caller's first read (no lock) answers; the read under the lock, the 4th, never does.
      const m = manager({ store: hangingGets((n) => n === 4), timeoutMs: 300, lockTtlMs: 5_000 });
      const errors = await Promise.all(Array.from({ length: 3 }, () => rejection(m.getAccessToken(USER))));
      for (const err of errors) expect(err).to.be.instanceOf(XTokenStoreError).and.include({ operation: 'get', reason: 'timeout' });
      expect(requests()).to.equal(0);
      // The shared refresh and the lock were let go: the next call takes the lock and refreshes.
      const token = await m.getAccessToken(USER);
      expect(requests()).to.equal(1);
      expect(await isValidAtX(token)).to.equal(true);
      expect(lock.inner.size).to.equal(0);
    });

    /** The store, with the `stalled` first calls of `operation` taking effect only after `ms` (nothing cancels a call given up on). */
    function lateStore(operation: 'set' | 'delete', ms: number, stalled = 1): XTokenStore & { calls: number } {
      const late = {
        calls: 0,
        get: store.get.bind(store),
        set: async (key: string, tokens: XTokenSet): Promise<void> => {
          if (operation === 'set' && ++late.calls <= stalled) await sleep(ms);
          await store.set(key, tokens);
        },
        delete: async (key: string): Promise<void> => {
          if (operation === 'delete' && ++late.calls <= stalled) await sleep(ms);
          await store.delete(key);
        },
      };
      return late;
    }

    it('makes no other store call for the user before a write it gave up on has landed: a rotated pair stored late never covers a newer one', async function () {
      await storeExpiringIn(5_000);
      const requests = tokenRequests();
      // The first write of the rotated pair takes 700 ms (timeoutMs 200 ms), then lands.
      const late = lateStore('set', 700);
      const m = manager({ store: late, timeoutMs: 200 });
      const first = await m.getAccessToken(USER);
      // Retried once the first write had landed (the same pair, twice), never before it.
      expect(late.calls).to.equal(2);
      expect(store.peek(USER)!.accessToken).to.equal(first);
      // The app saw a 401 and asks for a refresh: a newer pair, stored.
      const newer = await m.refresh(USER);
      await sleep(800);
      expect(store.peek(USER)!.refreshToken, 'the newer pair is still stored').to.equal(newer.refreshToken);
      expect(await m.getAccessToken(USER)).to.equal(newer.accessToken);
      expect(requests()).to.equal(2);
      expect(await isValidAtX(newer.accessToken)).to.equal(true);
    });

    it('keeps the lock while a write it gave up on may still land, so that another manager (another instance) rotates only after it', async function () {
      await storeExpiringIn(5_000);
      const shared = new InProcessTokenLock();
      const late = lateStore('set', 700);
      const a = manager({ store: late, lock: shared, timeoutMs: 200 });
      // Another manager of the same store and lock (as another instance with RedisTokenLock) forces a refresh meanwhile.
      const b = manager({ lock: shared });
      const fromA = a.getAccessToken(USER);
      // B reads A's rotated pair as soon as one is stored, then rotates it (the app saw a 401).
      while (store.peek(USER)?.accessToken === signedIn.accessToken) await sleep(1);
      const fromB = b.refresh(USER);
      const [tokenA, setB] = await Promise.all([fromA, fromB]);
      await sleep(800);
      // B rotated the pair A stored: the pair stored is B's, live at X, not A's first write landing late.
      expect(late.calls, 'A wrote its pair twice: late, then its retry').to.equal(2);
      expect(setB.accessToken).not.to.equal(tokenA);
      expect(store.peek(USER)!.refreshToken).to.equal(setB.refreshToken);
      expect(await isValidAtX(setB.accessToken)).to.equal(true);
      expect(x.isRefreshTokenValid(setB.refreshToken!)).to.equal(true);
    });

    it('makes no write for the user before a delete it gave up on has landed: a sign-in stored meanwhile is not deleted', async function () {
      await storeExpiringIn(3_600_000);
      // revoke()'s delete takes 700 ms (timeoutMs 200 ms), then lands; a new sign-in is stored meanwhile.
      const late = lateStore('delete', 700);
      const m = manager({ store: late, timeoutMs: 200 });
      const revoking = rejection(m.revoke(USER));
      while (late.calls === 0) await sleep(1);
      const again = await signInOnEmulator(x);
      const storing = m.store(USER, again);
      const err = (await revoking) as XTokenStoreError;
      expect(err).to.be.instanceOf(XTokenStoreError).and.include({ operation: 'delete', reason: 'timeout' });
      expect(err.message).to.include('The call was not cancelled and may still take effect');
      expect(await storing).to.deep.equal([]);
      await sleep(800);
      expect(store.peek(USER)!.accessToken, 'the new sign-in is still stored').to.equal(again.accessToken);
    });

    it('refuses, nothing sent to X, while a write given up on has still not settled after the lock\'s time and timeoutMs; takes it for lost after twice lockTtlMs', async function () {
      await storeExpiringIn(5_000);
      const requests = tokenRequests();
      const hanging = refusingSets(store, () => new Promise<never>(() => undefined));
      const m = manager({ store: hanging, timeoutMs: 200, lockTtlMs: 700 });
      const givenUpAt = Date.now();
      expect(await rejection(m.getAccessToken(USER))).to.be.instanceOf(XTokenStoreError).with.property('rotatedPairKept', true);
      expect(requests()).to.equal(1);
      const err = (await rejection(m.refresh(USER))) as XTokenStoreError;
      expect(err).to.be.instanceOf(XTokenStoreError).and.include({ operation: 'set', reason: 'timeout' });
      expect(err.message).to.include('an earlier set() of the token store for this user did not settle in time, and still has not: nothing was sent to X');
      expect(requests()).to.equal(1);
      expect(hanging.attempts).to.have.length(1);
      // A reply the store's client lost never comes: 1.4 s after it was given up on, the user is not shut out any more.
      hanging.failing = false;
      await sleep(Math.max(0, givenUpAt + 1_700 - Date.now()));
      const answered = await m.refresh(USER);
      // The pair kept since is written first and answered (X is not asked again), as after any refused write.
      expect(answered.accessToken).to.equal(hanging.attempts[0]!.tokens.accessToken);
      expect(requests()).to.equal(1);
      expect(store.peek(USER)!.refreshToken).to.equal(answered.refreshToken);
    });

    it('revokes at X even while a write given up on has not settled: revoking is safe whatever the store holds', async function () {
      await storeExpiringIn(5_000);
      const hanging = refusingSets(store, () => new Promise<never>(() => undefined));
      const m = manager({ store: hanging, timeoutMs: 200, lockTtlMs: 700 });
      expect(await rejection(m.getAccessToken(USER))).to.be.instanceOf(XTokenStoreError).with.property('rotatedPairKept', true);
      const kept = hanging.attempts[0]!.tokens;
      expect(await m.revoke(USER)).to.equal(true);
      expect(await isValidAtX(kept.accessToken)).to.equal(false);
      expect(x.isRefreshTokenValid(kept.refreshToken!)).to.equal(false);
    });
  });

  describe('a store that fails', function () {
    /**
     * `store` whose `op` rejects. A delete's error quotes the tokens (a client that puts the command's
     * context on its errors): the manager knows them by then and redacts them. A get's quotes the key
     * only, as a GET's does: before the read the manager knows no token to redact.
     */
    function failing(op: 'get' | 'delete'): XTokenStore {
      const quoted = op === 'get' ? '' : ` ${signedIn.refreshToken} ${signedIn.accessToken}`;
      const refuse = (key: string): Promise<never> => Promise.reject(new Error(`READONLY You can't write against a read only replica. (${op} ${key}${quoted})`));
      return {
        get: op === 'get' ? refuse : store.get.bind(store),
        set: store.set.bind(store),
        delete: op === 'delete' ? refuse : store.delete.bind(store),
      };
    }

    it('rejects with XTokenStoreError (get, failed), the store\'s error as its cause, when get() rejects: nothing sent to X', async function () {
      await storeExpiringIn(5_000);
      const requests = tokenRequests();
      const err = (await rejection(manager({ store: failing('get') }).getAccessToken(USER))) as XTokenStoreError;
      expect(err).to.be.instanceOf(XTokenStoreError).and.include({ code: 'X_TOKEN_STORE_FAILED', operation: 'get', reason: 'failed', rotatedPairKept: false });
      expect((err.cause as Error).message).to.match(/^READONLY .*\(get user-1\)$/);
      expect(err.message).to.match(/get\(\)/);
      expect(requests()).to.equal(0);
    });

    it('rejects with XTokenStoreError (delete) when revoke() revoked the tokens at X but the store could not delete them; a retry deletes them', async function () {
      await storeExpiringIn(3_600_000);
      const err = (await rejection(manager({ store: failing('delete') }).revoke(USER))) as XTokenStoreError;
      expect(err).to.be.instanceOf(XTokenStoreError).and.include({ operation: 'delete', reason: 'failed' });
      expect(err.message).to.match(/revoked at X but still stored\. Retry revoke\(\)/);
      expect(x.isRefreshTokenValid(signedIn.refreshToken!)).to.equal(false);
      expect(x.isAccessTokenValid(signedIn.accessToken)).to.equal(false);
      expect(store.data.has(USER)).to.equal(true);
      expectNoTokens(err);
      // Revoking them again is harmless (RFC 7009): the retry deletes them.
      expect(await manager().revoke(USER)).to.equal(true);
      expect(store.data.has(USER)).to.equal(false);
    });

    it('rejects every caller with one XTokenStoreError (delete) when X refused the refresh token and the store could not delete it; X asked once', async function () {
      await storeExpiringIn(5_000);
      x.failNext('/2/oauth2/token', { status: 400, body: { error: 'invalid_grant', error_description: 'Value passed for the token was invalid.' } });
      const requests = tokenRequests();
      const m = manager({ store: failing('delete') });
      const errors = await Promise.all(Array.from({ length: 5 }, () => rejection(m.getAccessToken(USER))));
      expect(requests()).to.equal(1);
      for (const err of errors) expect(err).to.equal(errors[0]);
      const err = errors[0] as XTokenStoreError;
      expect(err).to.be.instanceOf(XTokenStoreError).and.include({ operation: 'delete', reason: 'failed' });
      expect(err.message).to.match(/could not be deleted: the user must sign in again/);
      expectNoTokens(err);
    });

    function expectNoTokens(err: Error): void {
      for (const shown of [err.message, err.stack ?? '', inspect(err, { depth: Infinity }), JSON.stringify(err), String((err.cause as Error | undefined)?.message)]) {
        expect(shown).not.to.include(signedIn.refreshToken!);
        expect(shown).not.to.include(signedIn.accessToken);
      }
    }
  });

  describe('the time the lock has left (its lease)', function () {
    it('sends nothing to X when the lock has too little time left: XLockTimeoutError, the tokens unchanged', async function () {
      await storeExpiringIn(5_000);
      const requests = tokenRequests();
      const nearlyExpired = leasing(500);
      const err = await rejection(manager({ lock: nearlyExpired }).getAccessToken(USER));
      expect(nearlyExpired.calls).to.equal(1);
      expect(requests(), 'nothing reached X').to.equal(0);
      expect(err).to.be.instanceOf(XLockTimeoutError).and.include({ code: 'X_LOCK_TIMEOUT', attempts: 1 });
      expect((err as Error).message)
        .to.match(/the lock had too little time left \(\d+ ms\) for a refresh and the store write after it \(at least 1000 ms for the request\)/)
        .and.match(/that request was not sent to X/)
        .and.match(/Retry/);
      expect((err as Error).message).not.to.include(signedIn.refreshToken!).and.not.include(signedIn.accessToken);
      expect(store.peek(USER)!.refreshToken).to.equal(signedIn.refreshToken);
      expect(store.sets + store.deletes).to.equal(0);
      expect(x.isRefreshTokenValid(signedIn.refreshToken!)).to.equal(true);
    });

    it('revokes nothing at X when the lock has too little time left for a revocation and the delete after it: XLockTimeoutError, the tokens still stored and valid', async function () {
      await storeExpiringIn(3_600_000);
      const nearlyExpired = leasing(500);
      const err = await rejection(manager({ lock: nearlyExpired }).revoke(USER));
      expect(err).to.be.instanceOf(XLockTimeoutError).and.include({ code: 'X_LOCK_TIMEOUT', attempts: 1 });
      expect((err as Error).message).to.match(/for a revocation and the store delete after it/).and.match(/that request was not sent to X/);
      // Both tokens were tried, neither sent: the other's failure rides on the first.
      expect((err as { otherFailures?: unknown[] }).otherFailures).to.have.length(1);
      expect(store.peek(USER)!.refreshToken).to.equal(signedIn.refreshToken);
      expect(x.isRefreshTokenValid(signedIn.refreshToken!)).to.equal(true);
      expect(x.isAccessTokenValid(signedIn.accessToken)).to.equal(true);
    });

    it('cuts the refresh\'s time-out to the time left, less the store write\'s 2 s: a slow X times out then, not at timeoutMs', async function () {
      await storeExpiringIn(5_000);
      // 3.5 s left: 1.5 s for the request (timeoutMs is 10 s), 2 s kept for the store write.
      x.failNext('/2/oauth2/token', { delayMs: 2_500 });
      const requests = tokenRequests();
      const started = Date.now();
      const err = await rejection(manager({ lock: leasing(3_500) }).getAccessToken(USER));
      const took = Date.now() - started;
      expect(err).to.be.instanceOf(XRequestError).with.property('code', 'X_REQUEST_TIMEOUT');
      expect((err as Error).message).to.match(/1\d\d\d ms/);
      expect(took).to.be.within(1_300, 2_400);
      await answered(requests);
    });

    it('stores nothing when the lease ran out while X answered (a paused process): XTokenStoreError (set, timeout), the pair kept and written by the next call', async function () {
      await storeExpiringIn(5_000);
      const requests = tokenRequests();
      x.failNext('/2/oauth2/token', { delayMs: 300 });
      const m = manager({ lock: leasing(3_500) });
      const refreshing = rejection(m.getAccessToken(USER));
      // While X holds the answer, the clock moves past the lease (as it does for a process paused that long):
      // once the read under the lock (the second) is done, the request is on its way.
      while (store.gets < 2) await sleep(1);
      await sleep(50);
      // Both clocks: the lease is counted on the monotonic one, and a paused process's moves too.
      const restore = shiftClocks(10_000);
      let err: XTokenStoreError;
      try {
        err = (await refreshing) as XTokenStoreError;
      } finally {
        restore();
      }
      expect(err).to.be.instanceOf(XTokenStoreError).and.include({ operation: 'set', reason: 'timeout', rotatedPairKept: true });
      expect(err.message).to.match(/the lock had no time left to store the new pair/);
      expect(store.sets, 'no write after the lock ran out').to.equal(0);
      expect(requests()).to.equal(1);
      // The next call writes the kept pair first, and answers it without asking X again.
      const token = await m.getAccessToken(USER);
      expect(requests()).to.equal(1);
      expect(store.peek(USER)!.accessToken).to.equal(token);
      expect(await isValidAtX(token)).to.equal(true);
    });

    it('counts the lease on the monotonic clock: a wall clock stepped back while the lock is held gives no more time, and nothing is sent to X', async function () {
      await storeExpiringIn(5_000);
      const requests = tokenRequests();
      // The wall clock steps back 10 s (NTP, a resumed VM) during the read under the lock (the second):
      // by the wall clock alone, the 500 ms lease would then seem to have 10.5 s left.
      let restore: (() => void) | undefined;
      const steppingBack = {
        get: async (key: string) => {
          const value = await store.get(key);
          if (store.gets === 2) {
            const realNow = Date.now;
            Date.now = () => realNow() - 10_000;
            restore = () => (Date.now = realNow);
          }
          return value;
        },
        set: store.set.bind(store),
        delete: store.delete.bind(store),
      };
      let err: unknown;
      try {
        err = await rejection(manager({ store: steppingBack, lock: leasing(500) }).getAccessToken(USER));
      } finally {
        restore?.();
      }
      expect(store.gets, 'the read under the lock took place').to.equal(2);
      expect(err).to.be.instanceOf(XLockTimeoutError).and.include({ code: 'X_LOCK_TIMEOUT', attempts: 1 });
      expect((err as Error).message).to.match(/the lock had too little time left \(\d{1,3} ms\)/).and.match(/that request was not sent to X/);
      expect(requests(), 'nothing reached X').to.equal(0);
      expect(store.sets + store.deletes).to.equal(0);
      expect(x.isRefreshTokenValid(signedIn.refreshToken!)).to.equal(true);
    });

    it('gives the refresh its full timeoutMs under an InProcessTokenLock (its lease: Infinity), and counts lockTtlMs from fn\'s start under a lock that gives no lease', async function () {
      expect(await new InProcessTokenLock().withLock('k', 1000, async (lease) => lease)).to.deep.equal({ expiresAt: Infinity });
      // timeoutMs 1 s, lockTtlMs 1.2 s, and a store read under the lock that takes 600 ms.
      const slowReread = {
        get: async (key: string) => {
          const value = await store.get(key);
          if (store.gets === 2) await sleep(600);
          return value;
        },
        set: store.set.bind(store),
        delete: store.delete.bind(store),
      };
      const options = { store: slowReread, timeoutMs: 1_000, lockTtlMs: 1_200 };
      await storeExpiringIn(5_000);
      const requests = tokenRequests();
      // A lock without a lease (SpyLock): 1.2 s from fn's start, 600 ms gone, 200 ms kept for the write: 400 ms is too little.
      const err = await rejection(manager({ ...options, lock }).getAccessToken(USER));
      expect(err).to.be.instanceOf(XLockTimeoutError);
      expect(requests()).to.equal(0);
      // The same under the default InProcessTokenLock: it cannot expire, so the refresh is sent with its 1 s.
      await storeExpiringIn(5_000);
      const token = await manager({ ...options, lock: undefined }).getAccessToken(USER);
      expect(requests()).to.equal(1);
      expect(await isValidAtX(token)).to.equal(true);
    });
  });

  describe('what the store gives back', function () {
    it('accepts expiresAt as an ISO string, milliseconds or a Date, and null fields', async function () {
      const later = Date.now() + 3600_000;
      const m = manager();
      for (const expiresAt of [new Date(later).toISOString(), later, new Date(later)]) {
        const raw = { accessToken: 'access-x', refreshToken: null, expiresAt, scope: null, tokenType: null, expiresIn: null };
        const custom = manager({ store: { get: async () => raw, set: async () => undefined, delete: async () => undefined } });
        expect(await custom.getAccessToken(USER)).to.equal('access-x');
      }
      // A string expiry in the past is due: refreshed.
      await store.set(USER, { ...signedIn, expiresAt: new Date(Date.now() - 1000) });
      expect(await m.getAccessToken(USER)).not.to.equal(signedIn.accessToken);
    });

    it('refuses a stored value that is not a token set, with a TypeError naming the field and no token in it', async function () {
      const cases: Array<[unknown, RegExp]> = [
        ['a string', /whole value/],
        [{ refreshToken: 'secret-refresh-value' }, /accessToken/],
        [{ accessToken: 'secret-access-value', refreshToken: 42 }, /refreshToken/],
        [{ accessToken: 'secret-access-value', expiresAt: 'not a date' }, /expiresAt/],
        [{ accessToken: 'secret-access-value', expiresAt: { when: 'soon' } }, /expiresAt/],
      ];
      for (const [raw, message] of cases) {
        const m = manager({ store: { get: async () => raw as XTokenSet, set: async () => undefined, delete: async () => undefined } });
        const err = await rejection(m.getAccessToken(USER));
        expect(err, String(message)).to.be.instanceOf(TypeError);
        expect((err as Error).message).to.match(message).and.not.match(/secret-/);
      }
    });
  });

  describe('nothing usable stored', function () {
    it('throws XTokenNotFoundError (no-entry) without asking X when the store has nothing', async function () {
      const requests = tokenRequests();
      for (const call of [(m: XTokenManager) => m.getAccessToken('nobody'), (m: XTokenManager) => m.refresh('nobody')]) {
        const err = await rejection(call(manager()));
        expect(err).to.be.instanceOf(XTokenNotFoundError).and.instanceOf(XError);
        expect((err as XTokenNotFoundError).code).to.equal('X_TOKEN_NOT_FOUND');
        expect((err as XTokenNotFoundError).reason).to.equal('no-entry');
      }
      expect(requests()).to.equal(0);
      expect(lock.calls).to.have.length(0);
    });

    it('without a refresh token: returns the access token until it expires, then throws XTokenNotFoundError (no-refresh-token)', async function () {
      const withoutOffline = await signInOnEmulator(x, 'tweet.read users.read');
      expect(withoutOffline.refreshToken).to.equal(undefined);
      const requests = tokenRequests();
      await storeExpiringIn(5_000, withoutOffline);
      expect(await manager().getAccessToken(USER)).to.equal(withoutOffline.accessToken);
      const forced = await rejection(manager().refresh(USER));
      expect(forced).to.be.instanceOf(XTokenNotFoundError).with.property('reason', 'no-refresh-token');
      await storeExpiringIn(-1, withoutOffline);
      const err = await rejection(manager().getAccessToken(USER));
      expect(err).to.be.instanceOf(XTokenNotFoundError).with.property('reason', 'no-refresh-token');
      expect((err as Error).message).to.match(/offline\.access/);
      expect(requests()).to.equal(0);
    });
  });

  describe('getTokenSet()', function () {
    it('returns the whole fresh set, Date revived, for one store.get', async function () {
      await storeExpiringIn(2 * 3600_000);
      const requests = tokenRequests();
      const set = await manager().getTokenSet(USER);
      expect(set.accessToken).to.equal(signedIn.accessToken);
      expect(set.refreshToken).to.equal(signedIn.refreshToken);
      expect(set.expiresAt).to.be.instanceOf(Date);
      expect(set.scope).to.deep.equal(signedIn.scope);
      expect(store.gets).to.equal(1);
      expect(requests()).to.equal(0);
    });

    it('returns the rotated set when the stored one is due, shared with getAccessToken callers', async function () {
      await storeExpiringIn(5_000);
      const requests = tokenRequests();
      const m = manager();
      const [set, token] = await Promise.all([m.getTokenSet(USER), m.getAccessToken(USER)]);
      expect(requests()).to.equal(1);
      expect(set.accessToken).to.equal(token);
      expect(set.expiresAt!.getTime()).to.be.greaterThan(Date.now() + 3600_000);
    });
  });

  describe('refresh()', function () {
    it('rotates even a fresh pair, stores it, and resolves to it', async function () {
      await storeExpiringIn(2 * 3600_000);
      const requests = tokenRequests();
      const m = manager();
      const rotated = await m.refresh(USER);
      expect(requests()).to.equal(1);
      expect(rotated.accessToken).not.to.equal(signedIn.accessToken);
      expect(rotated.expiresAt).to.be.instanceOf(Date);
      expect(store.peek(USER)!.refreshToken).to.equal(rotated.refreshToken);
      expect(await m.getAccessToken(USER)).to.equal(rotated.accessToken);
      expect(requests()).to.equal(1);
    });

    it('is shared by concurrent calls, and by getAccessToken callers arriving meanwhile', async function () {
      await storeExpiringIn(2 * 3600_000);
      const requests = tokenRequests();
      const m = manager();
      const results = await Promise.all([m.refresh(USER), m.refresh(USER), m.refresh(USER)]);
      expect(requests()).to.equal(1);
      expect(new Set(results.map((r) => r.accessToken)).size).to.equal(1);
    });

    it('is shared by concurrent calls whose reads answer out of order (a pool, a replica): a read that answers after the refresh ended joins it, not a second one', async function () {
      await storeExpiringIn(2 * 3600_000);
      const requests = tokenRequests();
      // The third call's read answers last, after the refresh the first one started has stored its pair.
      let reads = 0;
      const outOfOrder: XTokenStore = {
        get: async (key) => {
          if (++reads === 3) await sleep(300);
          return store.get(key);
        },
        set: (key, tokens) => store.set(key, tokens),
        delete: (key) => store.delete(key),
      };
      const m = manager({ store: outOfOrder });
      const results = await Promise.all([m.refresh(USER), m.refresh(USER), m.refresh(USER)]);
      expect(requests(), 'one refresh reached X').to.equal(1);
      expect(new Set(results.map((r) => r.accessToken)).size).to.equal(1);
      expect(results[0]!.accessToken).not.to.equal(signedIn.accessToken);
      expect(store.peek(USER)!.refreshToken).to.equal(results[0]!.refreshToken);
      // A call after they all ended rotates again, as it should.
      const later = await m.refresh(USER);
      expect(requests()).to.equal(2);
      expect(later.accessToken).not.to.equal(results[0]!.accessToken);
    });

    it('makes getAccessToken callers arriving while it runs wait for it: they never get the token it replaces', async function () {
      await storeExpiringIn(2 * 3600_000);
      const requests = tokenRequests();
      const m = manager();
      x.failNext('/2/oauth2/token', { delayMs: 200 });
      const forced = m.refresh(USER);
      while (lock.calls.length === 0) await sleep(1); // the refresh is in flight
      const during = await Promise.all([m.getAccessToken(USER), m.getTokenSet(USER)]);
      const rotated = await forced;
      expect(requests()).to.equal(1);
      expect(during[0]).to.equal(rotated.accessToken).and.not.equal(signedIn.accessToken);
      expect(during[1].accessToken).to.equal(rotated.accessToken);
    });

    /** A store whose next get() reads what is stored at once and answers it only when `answer()` is called: a slow read that began first. */
    function slowNextRead(): { store: XTokenStore; answer: () => void; reading: Promise<void> } {
      let answer!: () => void;
      let began!: () => void;
      const reading = new Promise<void>((resolve) => (began = resolve));
      const gate = new Promise<void>((resolve) => (answer = resolve));
      let slow = true;
      const wrapped: XTokenStore = {
        get: async (key) => {
          const value = await store.get(key);
          if (!slow) return value;
          slow = false;
          began();
          await gate;
          return value;
        },
        set: (key, tokens) => store.set(key, tokens),
        delete: (key) => store.delete(key),
      };
      return { store: wrapped, answer, reading };
    }

    it('makes a getAccessToken whose store read began before it started join it: the read\'s token is the one it replaces', async function () {
      await storeExpiringIn(2 * 3600_000);
      const requests = tokenRequests();
      const slow = slowNextRead();
      const m = manager({ store: slow.store });
      x.failNext('/2/oauth2/token', { delayMs: 200 });
      const viaGet = m.getAccessToken(USER);
      await slow.reading; // the read has the signed-in token
      const forced = m.refresh(USER);
      while (lock.calls.length === 0) await sleep(1); // the refresh is in flight
      slow.answer();
      const rotated = await forced;
      expect(await viaGet).to.equal(rotated.accessToken).and.not.equal(signedIn.accessToken);
      expect(requests()).to.equal(1);
    });

    it('makes a getAccessToken whose store read began before a refresh that ended meanwhile read again: it answers the rotated token, not the replaced one', async function () {
      await storeExpiringIn(2 * 3600_000);
      const requests = tokenRequests();
      const slow = slowNextRead();
      const m = manager({ store: slow.store });
      const viaGet = m.getAccessToken(USER);
      await slow.reading;
      const rotated = await m.refresh(USER);
      store.gets = 0;
      slow.answer();
      expect(await viaGet).to.equal(rotated.accessToken).and.not.equal(signedIn.accessToken);
      expect(store.gets).to.equal(1); // the one read again
      expect(requests()).to.equal(1);
      // Without a refresh meanwhile, one read as before.
      store.gets = 0;
      expect(await m.getAccessToken(USER)).to.equal(rotated.accessToken);
      expect(store.gets).to.equal(1);
    });

    it('with rejectedAccessToken, answers a fresh stored token that is another one, sending nothing: one rotation however many requests saw the same 401', async function () {
      await storeExpiringIn(2 * 3600_000);
      const requests = tokenRequests();
      const m = manager();
      const refused = signedIn.accessToken;
      // The first request to see the 401 rotates; the others, arriving after it finished, get its pair.
      const first = await m.refresh(USER, { rejectedAccessToken: refused });
      const later = await Promise.all([m.refresh(USER, { rejectedAccessToken: refused }), m.refresh(USER, { rejectedAccessToken: refused })]);
      expect(requests()).to.equal(1);
      expect(first.accessToken).not.to.equal(refused);
      expect(later.map((t) => t.accessToken)).to.deep.equal([first.accessToken, first.accessToken]);
      // The stored token refused in turn: that one is rotated.
      const second = await m.refresh(USER, { rejectedAccessToken: first.accessToken });
      expect(requests()).to.equal(2);
      expect(second.accessToken).not.to.equal(first.accessToken);
      // Without the option, refresh() rotates whatever is stored, as before.
      await m.refresh(USER);
      expect(requests()).to.equal(3);
    });

    it('refuses rejectedAccessToken that is not a non-empty string, and options that are not an object, with a TypeError', async function () {
      const m = manager();
      for (const options of [{ rejectedAccessToken: '' }, { rejectedAccessToken: 42 }, 'token', null]) {
        const err = await rejection(m.refresh(USER, options as never));
        expect(err, JSON.stringify(options)).to.be.instanceOf(TypeError);
        expect((err as Error).message).to.match(/XTokenManager.refresh\(\): `(options|rejectedAccessToken)` must be/);
      }
    });

    it('after a due-token refresh in flight, rotates once more from its result (never from a used token)', async function () {
      await storeExpiringIn(5_000);
      const requests = tokenRequests();
      const m = manager();
      const [viaGet, viaRefresh] = await Promise.all([m.getAccessToken(USER), m.refresh(USER)]);
      expect(requests()).to.equal(2);
      expect(viaRefresh.accessToken).not.to.equal(viaGet);
      expect(await isValidAtX(viaRefresh.accessToken)).to.equal(true);
      expect(x.isRefreshTokenValid(store.peek(USER)!.refreshToken as string)).to.equal(true);
    });
  });

  describe('store(): the sign-in\'s write', function () {
    it('writes under the lock: a refresh in flight finishes first, and the sign-in\'s tokens are what is stored and returned after it, never overwritten by the refresh', async function () {
      await storeExpiringIn(5_000);
      const m = manager();
      x.failNext('/2/oauth2/token', { delayMs: 300 });
      const refreshing = m.getAccessToken(USER);
      while (lock.calls.length === 0) await sleep(1); // the refresh holds the lock
      const again = await signInOnEmulator(x);
      await m.store(USER, again);
      const refreshed = await refreshing;
      expect(lock.calls.map((c) => c.key)).to.deep.equal([USER, USER]);
      expect(refreshed).not.to.equal(again.accessToken);
      // The sign-in came last: it is stored, and the next caller gets it as it is (fresh: nothing sent).
      const requests = tokenRequests();
      expect(store.peek(USER)!.accessToken).to.equal(again.accessToken);
      expect(await m.getAccessToken(USER)).to.equal(again.accessToken);
      expect(requests()).to.equal(0);
    });

    it('overwrites a stored value that is no token set (corrupt, another format), as a plain write would, and answers no grant for it', async function () {
      const m = manager();
      store.data.set(USER, JSON.stringify({ something: 'else' }));
      expect(await m.store(USER, signedIn)).to.deep.equal([]);
      expect(store.peek(USER)!.accessToken).to.equal(signedIn.accessToken);
    });

    it('makes no write the lock has no time left for: XLockTimeoutError, nothing stored', async function () {
      const m = manager({ lock: leasing(0) });
      const err = await rejection(m.store(USER, signedIn));
      expect(err).to.be.instanceOf(XLockTimeoutError);
      expect((err as Error).message).to.match(/the lock had no time left for the read before the write/).and.match(/nothing was stored/);
      expect(store.sets).to.equal(0);
    });

    it('stores the set as XTokenSet (expiresAt a Date), and refuses one that is not a token set with a TypeError naming the field, not the value', async function () {
      const m = manager();
      await m.store(USER, { ...signedIn, expiresAt: signedIn.expiresAt!.toISOString() });
      // Read under the lock first: the grant it replaces is answered (none here).
      expect(store.log).to.deep.equal(['get', 'set']);
      expect((await m.getTokenSet(USER)).expiresAt).to.deep.equal(signedIn.expiresAt);
      for (const [bad, field] of [[{ refreshToken: 'secret-refresh-value' }, /accessToken/], [{ accessToken: 'secret-access-value', expiresAt: 'soon' }, /expiresAt/], [null, /whole value/]] as const) {
        const err = await rejection(m.store(USER, bad as never));
        expect(err).to.be.instanceOf(TypeError);
        expect((err as Error).message).to.match(/XTokenManager\.store\(\) was given a token set whose/).and.match(field).and.not.match(/secret-/);
      }
      expect(store.sets).to.equal(1);
    });

    it('answers the grants it replaced: the stored set, none the first time, none for the very same set or one sharing a token', async function () {
      const m = manager();
      expect(await m.store(USER, signedIn)).to.deep.equal([]);
      expect(await m.store(USER, signedIn), 'the same set again').to.deep.equal([]);
      // The same grant refreshed without rotation (RFC 6749 section 6 allows it): its refresh token is the new set's too.
      expect(await m.store(USER, { ...signedIn, accessToken: 'a-new-access-token-of-the-same-grant' }), 'a set sharing the refresh token').to.deep.equal([]);
      await m.store(USER, signedIn);
      const again = await signInOnEmulator(x);
      const previous = await m.store(USER, again);
      expect(previous).to.have.length(1);
      expect(previous[0]).to.deep.include({ accessToken: signedIn.accessToken, refreshToken: signedIn.refreshToken });
      expect(store.peek(USER)!.accessToken).to.equal(again.accessToken);
      // Still live at X: revoking it is the app's to do, if it keeps one grant per user.
      expect(x.isRefreshTokenValid(signedIn.refreshToken!)).to.equal(true);
    });

    it('answers each of two sign-ins at once the set it displaced, so that no grant is left unanswered', async function () {
      const m = manager();
      await m.store(USER, signedIn);
      const [a, b] = [await signInOnEmulator(x), await signInOnEmulator(x)];
      const previous = await Promise.all([m.store(USER, a), m.store(USER, b)]);
      const displaced = previous.flat().map((set) => set.accessToken).sort();
      const last = store.peek(USER)!.accessToken;
      // Three grants, one stored: the other two were each answered once.
      expect(displaced).to.deep.equal([signedIn.accessToken, last === a.accessToken ? b.accessToken : a.accessToken].sort());
    });

    it('answers a pair this process kept for the user and the stored set as the grants it replaced, and forgets the pair: revoke() then revokes the sign-in\'s tokens only', async function () {
      const { m, kept } = await managerKeepingAPair();
      const again = await signInOnEmulator(x);
      expect((await m.store(USER, again)).map((set) => set.accessToken)).to.deep.equal([kept.accessToken, signedIn.accessToken]);
      const before = x.requests.length;
      expect(await m.revoke(USER)).to.equal(true);
      expect(x.requests.slice(before).filter((r) => r.path === '/2/oauth2/revoke')).to.have.length(2);
      expect(x.isRefreshTokenValid(again.refreshToken!)).to.equal(false);
      expect(x.isRefreshTokenValid(kept.refreshToken!), 'left to the app, which store() told').to.equal(true);
    });
  });

  describe('revoke()', function () {
    it('revokes both tokens at X, then deletes them from the store; false when nothing is stored', async function () {
      await storeExpiringIn(2 * 3600_000);
      const before = x.requests.length;
      expect(await manager().revoke(USER)).to.equal(true);
      const revokes = x.requests.slice(before).filter((r) => r.path === '/2/oauth2/revoke');
      expect(revokes.map((r) => r.status)).to.deep.equal([200, 200]);
      expect(x.isAccessTokenValid(signedIn.accessToken)).to.equal(false);
      expect(x.isRefreshTokenValid(signedIn.refreshToken!)).to.equal(false);
      expect(store.data.has(USER)).to.equal(false);
      expect(store.log).to.deep.equal(['get', 'delete']);
      expect(lock.calls).to.deep.equal([{ key: USER, ttlMs: 10_000 + DEFAULT_LOCK_MARGIN_MS + 10_000 }]);
      expect(await manager().revoke(USER)).to.equal(false);
    });

    it('revokes the refresh token first, so that it mints nothing more', async function () {
      await storeExpiringIn(2 * 3600_000);
      // A refresh-token revocation the emulator answers without acting on it: the access token must still go.
      x.failNext('/2/oauth2/revoke', { status: 200, body: { revoked: true } });
      expect(await manager().revoke(USER)).to.equal(true);
      expect(x.isRefreshTokenValid(signedIn.refreshToken!), 'the first revocation was the refresh token (answered by the fault)').to.equal(true);
      expect(x.isAccessTokenValid(signedIn.accessToken), 'the second, the access token').to.equal(false);
    });

    it('tries both tokens when the first revocation fails, then rejects with that failure and keeps the tokens, so that the call can be retried', async function () {
      await storeExpiringIn(2 * 3600_000);
      x.failNext('/2/oauth2/revoke', { status: 503 });
      const before = x.requests.length;
      const err = await rejection(manager().revoke(USER));
      expect(err).to.be.instanceOf(XAPIError).with.property('status', 503);
      expect(x.requests.slice(before).map((r) => r.status)).to.deep.equal([503, 200]);
      expect(x.isAccessTokenValid(signedIn.accessToken)).to.equal(false);
      expect(store.data.has(USER)).to.equal(true);
      expect(await manager().revoke(USER)).to.equal(true);
      expect(x.isRefreshTokenValid(signedIn.refreshToken!)).to.equal(false);
      expect(store.data.has(USER)).to.equal(false);
    });

    it('counts X\'s 200 {"revoked": false} (RFC 7009 section 2.2: the token was already invalid) as revoked, and deletes the tokens', async function () {
      await storeExpiringIn(2 * 3600_000);
      x.failNext('/2/oauth2/revoke', { status: 200, body: { revoked: false } });
      expect(await manager().revoke(USER)).to.equal(true);
      expect(x.isAccessTokenValid(signedIn.accessToken)).to.equal(false);
      expect(store.data.has(USER)).to.equal(false);
    });

    it('counts any 2xx as revoked, whatever its body (RFC 7009 section 2.2: the client ignores it), and deletes the tokens', async function () {
      await storeExpiringIn(2 * 3600_000);
      x.failNext('/2/oauth2/revoke', { status: 200, body: {} });
      x.failNext('/2/oauth2/revoke', { status: 200, body: 'OK' });
      const before = x.requests.length;
      expect(await manager().revoke(USER)).to.equal(true);
      expect(x.requests.slice(before).map((r) => `${r.path} ${r.status}`)).to.deep.equal(Array(2).fill('/2/oauth2/revoke 200'));
      expect(store.data.has(USER)).to.equal(false);
    });

    it('when both revocations fail, rejects with the first and carries the second in otherFailures, and keeps the tokens', async function () {
      await storeExpiringIn(2 * 3600_000);
      x.failNext('/2/oauth2/revoke', { status: 503 });
      x.failNext('/2/oauth2/revoke', { status: 500 });
      const err = await rejection(manager().revoke(USER));
      expect(err).to.be.instanceOf(XAPIError).with.property('status', 503);
      const others = (err as XRevokeFailures).otherFailures;
      expect(others).to.have.length(1);
      expect(others![0]).to.be.instanceOf(XAPIError).with.property('status', 500);
      expect(Object.keys(err as object), 'not enumerable: not in every log line').not.to.include('otherFailures');
      expect(store.data.has(USER)).to.equal(true);
      expect(x.isRefreshTokenValid(signedIn.refreshToken!)).to.equal(true);
    });

    it('revokes a rotated pair this process keeps because the store refused it, refresh tokens first, and forgets it', async function () {
      const { m, kept } = await managerKeepingAPair();
      const before = x.requests.length;
      expect(await m.revoke(USER)).to.equal(true);
      // The kept refresh token, the stored (spent) one, then the kept and the stored access tokens.
      expect(x.requests.slice(before).map((r) => `${r.path} ${r.status}`)).to.deep.equal(Array(4).fill('/2/oauth2/revoke 200'));
      expect(x.isRefreshTokenValid(kept.refreshToken!)).to.equal(false);
      expect(x.isAccessTokenValid(kept.accessToken)).to.equal(false);
      expect(store.data.has(USER)).to.equal(false);
      // Forgotten: nothing is left to revoke, and a new sign-in is not overwritten by it.
      expect(await m.revoke(USER)).to.equal(false);
      const again = await signInOnEmulator(x);
      await storeExpiringIn(5_000, again);
      expect(await m.getAccessToken(USER)).not.to.equal(kept.accessToken);
    });

    it('waits for a refresh in flight, and revokes the pair it stored', async function () {
      await storeExpiringIn(5_000);
      const m = manager();
      const gettingToken = m.getAccessToken(USER);
      while (lock.calls.length === 0) await sleep(1); // the refresh holds the lock
      const [token, revoked] = await Promise.all([gettingToken, m.revoke(USER)]);
      expect(revoked).to.equal(true);
      expect(token).not.to.equal(signedIn.accessToken);
      expect(x.isAccessTokenValid(token)).to.equal(false);
      expect(x.isRefreshTokenValid(signedIn.refreshToken!)).to.equal(false);
      expect(store.data.has(USER)).to.equal(false);
    });

    it('makes a refresh that waited behind it find nothing: XTokenNotFoundError, nothing sent to X', async function () {
      await storeExpiringIn(5_000);
      const m = manager();
      const requests = tokenRequests();
      const revoking = m.revoke(USER);
      while (lock.calls.length === 0) await sleep(1); // the revocation holds the lock
      const err = await rejection(m.getAccessToken(USER));
      expect(await revoking).to.equal(true);
      expect(err).to.be.instanceOf(XTokenNotFoundError);
      expect(requests()).to.equal(0);
    });
  });

  describe('options', function () {
    it('uses lockTtlMs when given', async function () {
      await storeExpiringIn(5_000);
      await manager({ timeoutMs: 1000, lockTtlMs: 1500 }).getAccessToken(USER);
      expect(lock.calls[0]!.ttlMs).to.equal(1500);
    });

    it('refreshes through a public client (no clientSecret) as well', async function () {
      const publicTokens = await signInOnEmulator(x, 'tweet.read users.read offline.access', 'public');
      await storeExpiringIn(5_000, publicTokens);
      const requests = tokenRequests();
      const token = await manager({ clientID: x.apps.public.clientID, clientSecret: undefined }).getAccessToken(USER);
      expect(requests()).to.equal(1);
      expect(await isValidAtX(token)).to.equal(true);
      expect(x.isRefreshTokenValid(publicTokens.refreshToken!)).to.equal(false);
    });

    it('refuses a refresh token issued to another client as a dead one: X says "Value passed for the token was invalid."', async function () {
      await storeExpiringIn(5_000);
      const err = await rejection(manager({ clientID: x.apps.public.clientID, clientSecret: undefined }).getAccessToken(USER));
      expect(err).to.be.instanceOf(XRefreshTokenRevokedError);
      expect((err as XRefreshTokenRevokedError).cause).to.be.instanceOf(XOAuthError).and.include({ error: 'invalid_request', description: 'Value passed for the token was invalid.' });
      expect(store.data.has(USER)).to.equal(false);
    });

    it('drops the tokens only for X\'s words for a dead token (in any case); another invalid_request (a public client\'s set-up) keeps them and passes X\'s XOAuthError on', async function () {
      for (const description of ['Value passed for the token was invalid.', 'VALUE PASSED FOR THE TOKEN WAS INVALID']) {
        await storeExpiringIn(5_000);
        x.failNext('/2/oauth2/token', { status: 400, body: { error: 'invalid_request', error_description: description } });
        const err = await rejection(manager().getAccessToken(USER));
        expect(err, description).to.be.instanceOf(XRefreshTokenRevokedError);
        expect(store.data.has(USER), description).to.equal(false);
      }
      const publicTokens = await signInOnEmulator(x, 'tweet.read users.read offline.access', 'public');
      await storeExpiringIn(5_000, publicTokens);
      const requests = tokenRequests();
      store.deletes = 0;
      x.failNext('/2/oauth2/token', { status: 400, body: { error: 'invalid_request', error_description: 'Missing required parameter [client_id].' } });
      const err = await rejection(manager({ clientID: x.apps.public.clientID, clientSecret: undefined }).getAccessToken(USER));
      expect(err).to.be.instanceOf(XOAuthError).and.not.instanceOf(XRefreshTokenRevokedError);
      expect(err).to.include({ status: 400, error: 'invalid_request', description: 'Missing required parameter [client_id].' });
      expect(requests()).to.equal(1);
      expect(store.deletes).to.equal(0);
      expect(store.peek(USER)!.refreshToken).to.equal(publicTokens.refreshToken);
      expect(x.isRefreshTokenValid(publicTokens.refreshToken!)).to.equal(true);
    });

    it('refuses bad options with a TypeError naming the option', function () {
      const good: XTokenManagerOptions = { clientID: 'id', store };
      const cases: Array<[Record<string, unknown>, RegExp]> = [
        [{ clientID: '' }, /clientID/],
        [{ clientID: 42 }, /clientID/],
        [{ clientSecret: '' }, /clientSecret/],
        [{ baseURL: 'ftp://x' }, /baseURL/],
        [{ baseURL: 7 }, /baseURL/],
        [{ timeoutMs: 0 }, /timeoutMs/],
        [{ timeoutMs: 'fast' }, /timeoutMs/],
        [{ store: undefined }, /store/],
        [{ store: { get: async () => undefined, set: async () => undefined } }, /store/],
        [{ lock: {} }, /lock/],
        [{ lock: 'redis' }, /lock/],
        [{ refreshBeforeMs: -1 }, /refreshBeforeMs/],
        [{ refreshBeforeMs: NaN }, /refreshBeforeMs/],
        [{ lockTtlMs: 10_000 }, /lockTtlMs/],
        [{ timeoutMs: 1000, lockTtlMs: 1500.5 }, /lockTtlMs/],
      ];
      for (const [bad, message] of cases) {
        expect(() => new XTokenManager({ ...good, ...bad } as XTokenManagerOptions), JSON.stringify(bad)).to.throw(TypeError, message);
      }
      expect(() => new XTokenManager(undefined as never)).to.throw(TypeError, /options object/);
      const frozen = Object.freeze({ ...good });
      expect(() => new XTokenManager(frozen)).not.to.throw();
    });

    it('refuses a timeoutMs or lockTtlMs whose lock TTL (revoke(): lockTtlMs + timeoutMs) would pass 2^31-1 ms, with a RangeError naming it', function () {
      const good: XTokenManagerOptions = { clientID: 'id', store };
      const cases: Array<[Partial<XTokenManagerOptions>, RegExp]> = [
        // The default lockTtlMs is timeoutMs + 5000: revoke() would ask for 2^31 + 5000 ms.
        [{ timeoutMs: 2 ** 30 }, /needs `timeoutMs` \(the default lockTtlMs is timeoutMs \+ 5000\) to be smaller: revoke\(\) holds the lock for lockTtlMs \+ timeoutMs \(2147488648 ms here\)/],
        [{ timeoutMs: 1000, lockTtlMs: MAX_TIMEOUT_MS }, /needs `lockTtlMs` to be smaller/],
        [{ timeoutMs: 1000, lockTtlMs: MAX_TIMEOUT_MS - 999 }, /needs `lockTtlMs` to be smaller/],
      ];
      for (const [bad, message] of cases) {
        expect(() => new XTokenManager({ ...good, ...bad }), JSON.stringify(bad)).to.throw(RangeError, message);
      }
      // The longest that fits: revoke()'s TTL exactly 2^31-1.
      expect(() => new XTokenManager({ ...good, timeoutMs: 1000, lockTtlMs: MAX_TIMEOUT_MS - 1000 })).not.to.throw();
      expect(() => new XTokenManager({ ...good, timeoutMs: Math.floor((MAX_TIMEOUT_MS - DEFAULT_LOCK_MARGIN_MS) / 2) })).not.to.throw();
    });

    it('refuses a bad userKey with a TypeError, before touching the store', async function () {
      const m = manager();
      for (const call of [m.getAccessToken.bind(m), m.getTokenSet.bind(m), m.refresh.bind(m), m.revoke.bind(m), (key: string) => m.store(key, signedIn)]) {
        for (const bad of ['', undefined, 42]) {
          expect(await rejection(call(bad as string))).to.be.instanceOf(TypeError).with.property('message').that.matches(/userKey/);
        }
      }
      expect(store.gets).to.equal(0);
    });
  });
});
