import { expect } from 'chai';
import { XFailureCode, type XFailureInfo } from '../../lib/failure';
import { failureHint } from '../support/assertions';
import { XSessionError } from '../../lib/errors';
import { MAX_PENDING, PENDING_TTL_MS, pendingBinding, safeEqual } from '../../lib/state/pending';
import { XRequestTokenSessionStore } from '../../lib/state/request-token-session';
import type { XAuthRequest } from '../../lib/request';

function req(session: Record<string, unknown> | null = {}): XAuthRequest {
  return { headers: {}, query: {}, session };
}

function get(store: XRequestTokenSessionStore, r: XAuthRequest, token: string): Promise<{ err: Error | null; secret: string | false | undefined; info: { message: string } | undefined }> {
  return new Promise((resolve) => store.get(r, token, (err, secret, info) => resolve({ err, secret, info: info as { message: string } | undefined })));
}

function set(store: XRequestTokenSessionStore, r: XAuthRequest, token: string, secret: string): Promise<Error | null | undefined> {
  return new Promise((resolve) => store.set(r, token, secret, undefined, {}, (err) => resolve(err)));
}

describe('request-token session store', () => {
  it('returns the secret of a token issued to this session, once', async () => {
    const store = new XRequestTokenSessionStore();
    const r = req();
    expect(await set(store, r, 'tok-1', 'sec-1')).to.equal(null);
    expect((await get(store, r, 'tok-1')).secret).to.equal('sec-1');
    const replay = await get(store, r, 'tok-1');
    expect(replay.secret).to.equal(false);
    expect(failureHint(replay.info, XFailureCode.NO_PENDING_SIGN_IN)).to.match(/no sign-in started in this browser session/);
  });

  it('keeps several pending sign-ins (two tabs) and removes the session key when empty', async () => {
    const store = new XRequestTokenSessionStore({ key: 'k' });
    const r = req();
    await set(store, r, 'a', 'sa');
    await set(store, r, 'b', 'sb');
    expect((await get(store, r, 'b')).secret).to.equal('sb');
    expect((await get(store, r, 'a')).secret).to.equal('sa');
    expect(r.session).to.not.have.property('k');
  });

  it(`keeps at most ${MAX_PENDING} pending sign-ins, dropping the oldest`, async () => {
    const store = new XRequestTokenSessionStore();
    const r = req();
    for (let i = 0; i <= MAX_PENDING; i++) await set(store, r, `t${i}`, `s${i}`);
    expect(r.session!['oauth:x'] as unknown[]).to.have.length(MAX_PENDING);
    expect((await get(store, r, 't0')).secret).to.equal(false);
    expect((await get(store, r, `t${MAX_PENDING}`)).secret).to.equal(`s${MAX_PENDING}`);
  });

  it('fails a token that was not issued to this session, saying so', async () => {
    const store = new XRequestTokenSessionStore();
    const r = req();
    await set(store, r, 'mine', 's');
    const res = await get(store, r, 'someone-elses');
    expect(res.secret).to.equal(false);
    expect(failureHint(res.info, XFailureCode.CALLBACK_UNKNOWN)).to.match(/not issued to this session, or was already used/);
    expect(failureHint(res.info, XFailureCode.CALLBACK_UNKNOWN)).to.not.include('someone-elses');
    // the pending one is still usable
    expect((await get(store, r, 'mine')).secret).to.equal('s');
  });

  it('expires pending sign-ins after 10 minutes', async () => {
    let now = 1_000_000;
    const store = new XRequestTokenSessionStore({ now: () => now });
    const r = req();
    await set(store, r, 'old', 's');
    await set(store, r, 'young', 's2');
    now += PENDING_TTL_MS - 1;
    expect((await get(store, r, 'young')).secret).to.equal('s2');
    now += 2;
    const res = await get(store, r, 'old');
    expect(res.secret).to.equal(false);
    expect(failureHint(res.info, XFailureCode.SIGN_IN_EXPIRED)).to.match(/expired/);
  });

  it('honours ttlMs and maxPending options', async () => {
    let now = 0;
    const store = new XRequestTokenSessionStore({ ttlMs: 1000, maxPending: 1, now: () => now });
    const r = req();
    await set(store, r, 'a', 's');
    await set(store, r, 'b', 's2');
    expect((await get(store, r, 'a')).secret).to.equal(false);
    await set(store, r, 'c', 's3');
    now = 1000;
    expect(failureHint((await get(store, r, 'c')).info, XFailureCode.SIGN_IN_EXPIRED)).to.match(/expired/);
  });

  it('explains what to add when there is no session', async () => {
    const store = new XRequestTokenSessionStore();
    const err = await set(store, req(null), 't', 's');
    expect(err).to.be.instanceOf(XSessionError);
    expect(err?.message).to.match(/express-session/).and.match(/koa-session/).and.match(/EncryptedCookieStateStore|store/);
    const res = await get(store, req(null), 't');
    expect(res.err).to.be.instanceOf(XSessionError);
  });

  it('drops a denied token', async () => {
    const store = new XRequestTokenSessionStore();
    const r = req();
    await set(store, r, 'a', 's');
    await new Promise<void>((resolve) => store.drop(r, 'a', () => resolve()));
    expect((await get(store, r, 'a')).secret).to.equal(false);
  });

  it('ignores garbage left in the session slot', async () => {
    const store = new XRequestTokenSessionStore();
    const r = req({ 'oauth:x': { pending: [null, 3, { handle: 1 }] } });
    expect(failureHint((await get(store, r, 'x')).info, XFailureCode.NO_PENDING_SIGN_IN)).to.match(/no sign-in started/);
  });

  it('takes an entry with an empty secret (a session written by hand) for a token not issued here, never answering its app state', async () => {
    const store = new XRequestTokenSessionStore();
    const appState = { returnTo: '/x' };
    for (const stored of [{ handle: 'tok', createdAt: Date.now(), secret: '', state: appState }, `${Date.now().toString(36)}  tok `]) {
      const res = await get(store, req({ 'oauth:x': [stored] }), 'tok');
      expect(res.secret).to.equal(false);
      expect(res.info).not.to.equal(appState);
      expect(failureHint(res.info, XFailureCode.CALLBACK_UNKNOWN)).to.match(/not issued to this session/);
    }
  });

  it('compares in constant time without false matches', () => {
    expect(safeEqual('abc', 'abc')).to.equal(true);
    expect(safeEqual('abc', 'abd')).to.equal(false);
    expect(safeEqual('abc', 'abcd')).to.equal(false);
    expect(safeEqual('', '')).to.equal(true);
    expect(safeEqual('abc', '')).to.equal(false);
    // A difference in any position, and in the high bits of a code unit.
    expect(safeEqual('xbc', 'abc')).to.equal(false);
    expect(safeEqual('ab\u0163', 'abc')).to.equal(false);
    expect(safeEqual('caf\u00e9', 'caf\u00e9')).to.equal(true);
    // Two different lone surrogates: the same bytes in UTF-8 (U+FFFD), different strings.
    expect(safeEqual('a\ud800', 'a\udc00')).to.equal(false);
  });

  it('refuses bad limits with a TypeError naming the option', () => {
    expect(() => new XRequestTokenSessionStore({ maxPending: 0 })).to.throw(TypeError, /maxPending/);
    expect(() => new XRequestTokenSessionStore({ maxPending: 2.5 })).to.throw(TypeError, /maxPending/);
    expect(() => new XRequestTokenSessionStore({ ttlMs: Number.NaN })).to.throw(TypeError, /ttlMs/);
    expect(() => new XRequestTokenSessionStore({ ttlMs: -1 })).to.throw(TypeError, /ttlMs/);
    // Longer than a sign-in on X's consent page can take, and than a Redis claim's PX takes: refused.
    expect(() => new XRequestTokenSessionStore({ ttlMs: 60 * 60 * 1000 + 1 })).to.throw(TypeError, /ttlMs.*at most 3600000 \(1 hour\)/);
    expect(() => new XRequestTokenSessionStore({ ttlMs: 1e20 })).to.throw(TypeError, /ttlMs/);
    expect(new XRequestTokenSessionStore({ ttlMs: 60 * 60 * 1000 }).ttlMs).to.equal(3_600_000);
  });

  it('works with a clock that answers fractions of a millisecond (performance.timeOrigin + performance.now())', async () => {
    const store = new XRequestTokenSessionStore({ now: () => 1_700_000_000_000.75 });
    const r = req();
    await set(store, r, 't', 's');
    expect((await get(store, r, 't')).secret).to.equal('s');
  });

  it('says an expired token was not pending when the user cancels (X\'s ?denied= for it is not trusted), and drops it', async () => {
    let now = 0;
    const store = new XRequestTokenSessionStore({ now: () => now });
    const r = req();
    await set(store, r, 'late', 's');
    await set(store, r, 'fresh', 's2');
    now = 10 * 60 * 1000;
    const late = await new Promise<{ found: boolean | undefined; info: XFailureInfo | undefined }>((resolve) => store.drop(r, 'late', (_err, found, info) => resolve({ found, info })));
    expect(late.found).to.equal(false);
    // Why, as a callback with a verifier for it would be told: expired, not a stranger's token.
    expect(failureHint(late.info, XFailureCode.SIGN_IN_EXPIRED)).to.match(/more than 10 minutes ago and has expired/);
    expect(JSON.stringify(r.session)).to.not.include('late');
    const dropInfo = (request: XAuthRequest): Promise<XFailureInfo | undefined> => new Promise((resolve) => store.drop(request, 'late', (_err, _found, info) => resolve(info)));
    // Then nothing is pending ('fresh' expired too, and went on the way): the classic causes, as for a callback with a verifier.
    failureHint(await dropInfo(r), XFailureCode.NO_PENDING_SIGN_IN);
    // With another sign-in pending: a token this session does not hold (a stranger's, or a used one).
    await set(store, r, 'newer', 's3');
    failureHint(await dropInfo(r), XFailureCode.CALLBACK_UNKNOWN);
    const noSession = await new Promise<XFailureInfo | undefined>((resolve) => store.drop(req(null), 'late', (_err, _found, info) => resolve(info)));
    failureHint(noSession, XFailureCode.NO_PENDING_SIGN_IN);
  });

  it('says how old an expired sign-in is with the ttlMs it was given', async () => {
    let now = 0;
    const store = new XRequestTokenSessionStore({ ttlMs: 120_000, now: () => now });
    const r = req();
    await set(store, r, 't', 's');
    now = 120_001;
    expect(failureHint((await get(store, r, 't')).info, XFailureCode.SIGN_IN_EXPIRED)).to.match(/more than 2 minutes ago/);
  });

  describe('binding to the strategy that started the sign-in', () => {
    const A = { binding: pendingBinding('oauth1', 'x-a', 'ck', 'http://127.0.0.1/a') };
    const B = { binding: pendingBinding('oauth1', 'x-b', 'ck', 'http://127.0.0.1/a') };
    const getWith = (store: XRequestTokenSessionStore, r: XAuthRequest, token: string, meta: object) =>
      new Promise<{ secret: string | false | undefined; info: unknown }>((resolve) => store.get(r, token, meta, (_err, secret, info) => resolve({ secret, info })));

    it('has the 4-argument get and drop passport-oauth1 hands meta to', () => {
      const store = new XRequestTokenSessionStore();
      expect([store.get.length, store.set.length, store.destroy.length, store.drop.length]).to.deep.equal([4, 6, 3, 4]);
    });

    it('returns a secret only to the binding it was stored with, and leaves it for that one', async () => {
      const store = new XRequestTokenSessionStore();
      const r = req();
      await new Promise<void>((resolve) => store.set(r, 'tok', 'sec', undefined, A, () => resolve()));
      const other = await getWith(store, r, 'tok', B);
      expect(other.secret).to.equal(false);
      expect(failureHint(other.info, XFailureCode.CALLBACK_UNKNOWN)).to.match(/another strategy sharing this session/);
      expect((await getWith(store, r, 'tok', A)).secret).to.equal('sec');
    });
  });
});
