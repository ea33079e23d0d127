import { expect } from 'chai';
import { XFailureCode, type XFailureInfo } from '../../lib/failure';
import { failureHint } from '../support/assertions';
import { XSessionError } from '../../lib/errors';
import type { XAuthRequest } from '../../lib/request';
import { MAX_PENDING, PENDING_TTL_MS, pendingBinding } from '../../lib/state/pending';
import { XPkceSessionStore, type XPkceStateMeta } from '../../lib/state/pkce-session';

const META: XPkceStateMeta = { authorizationURL: 'https://x.com/i/oauth2/authorize', tokenURL: 'https://api.x.com/2/oauth2/token', clientID: 'cid', callbackURL: 'http://127.0.0.1/cb' };
const VERIFIER_A = 'a'.repeat(43);
const VERIFIER_B = 'b'.repeat(43);

function req(session: Record<string, unknown> | null = {}): XAuthRequest {
  return { headers: {}, query: {}, session };
}

function store(s: XPkceSessionStore, r: XAuthRequest, verifier: string, state?: unknown): Promise<{ err: Error | null; handle: string | undefined }> {
  return new Promise((resolve) => s.store(r, verifier, state, META, (err, handle) => resolve({ err, handle })));
}

function verify(s: XPkceSessionStore, r: XAuthRequest, state: string): Promise<{ err: Error | null; verifier: string | false | undefined; info: unknown }> {
  return new Promise((resolve) => s.verify(r, state, (err, verifier, info) => resolve({ err, verifier, info })));
}

/** The pending sign-ins as the session keeps them: one "<createdAt> <binding> <state> <verifier>" string each (entry objects only with app state). */
function pendingOf(r: XAuthRequest, key = 'oauth2:x'): Array<Record<string, unknown>> {
  return ((r.session as Record<string, unknown>)[key] as unknown[]).map((e) => {
    if (typeof e !== 'string') return e as Record<string, unknown>;
    const [, , handle, secret] = e.split(' ');
    return { handle, secret };
  });
}

const { NO_PENDING_SIGN_IN, CALLBACK_UNKNOWN, SIGN_IN_EXPIRED } = XFailureCode;

describe('PKCE session store', () => {
  it('issues a fresh state of at least 128 bits per sign-in and keeps its verifier in the session under oauth2:x', async () => {
    const s = new XPkceSessionStore();
    const r = req();
    const a = await store(s, r, VERIFIER_A);
    const b = await store(s, r, VERIFIER_B);
    expect(a.err).to.equal(null);
    expect(a.handle).to.match(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(a.handle!, 'base64url').length * 8).to.be.at.least(128);
    expect(a.handle).to.not.equal(b.handle);
    const pending = pendingOf(r);
    expect(pending.map((p) => p.secret)).to.deep.equal([VERIFIER_A, VERIFIER_B]);
    expect(pending.map((p) => p.handle)).to.deep.equal([a.handle, b.handle]);
  });

  it('returns the verifier and the app state of a state issued to this session, once', async () => {
    const s = new XPkceSessionStore();
    const r = req();
    const { handle } = await store(s, r, VERIFIER_A, { returnTo: '/settings' });
    const first = await verify(s, r, handle!);
    expect(first.verifier).to.equal(VERIFIER_A);
    expect(first.info).to.deep.equal({ returnTo: '/settings' });
    const replay = await verify(s, r, handle!);
    expect(replay.verifier).to.equal(false);
    expect(failureHint(replay.info, NO_PENDING_SIGN_IN)).to.match(/no sign-in started in this browser session/).and.match(/no pending state/);
  });

  it('lets two tabs both complete, in any order, and removes the session key when empty', async () => {
    const s = new XPkceSessionStore({ key: 'k' });
    const r = req();
    const a = await store(s, r, VERIFIER_A);
    const b = await store(s, r, VERIFIER_B);
    expect((await verify(s, r, b.handle!)).verifier).to.equal(VERIFIER_B);
    expect((await verify(s, r, a.handle!)).verifier).to.equal(VERIFIER_A);
    expect(r.session).to.not.have.property('k');
  });

  it(`keeps at most ${MAX_PENDING} pending sign-ins, dropping the oldest`, async () => {
    const s = new XPkceSessionStore();
    const r = req();
    const handles: string[] = [];
    for (let i = 0; i <= MAX_PENDING; i++) handles.push((await store(s, r, `${i}`.repeat(43).slice(0, 43)))!.handle!);
    expect(pendingOf(r)).to.have.length(MAX_PENDING);
    expect((await verify(s, r, handles[0]!)).verifier).to.equal(false);
    expect((await verify(s, r, handles[MAX_PENDING]!)).verifier).to.equal(`${MAX_PENDING}`.repeat(43));
  });

  it('fails a state not issued to this session, saying so, and keeps the real one usable', async () => {
    const s = new XPkceSessionStore();
    const r = req();
    const { handle } = await store(s, r, VERIFIER_A);
    const forged = await verify(s, r, 'forged-state-value');
    expect(forged.err).to.equal(null);
    expect(forged.verifier).to.equal(false);
    expect(failureHint(forged.info, CALLBACK_UNKNOWN)).to.match(/state that was not issued to this session, or was already used/);
    expect(failureHint(forged.info, CALLBACK_UNKNOWN)).to.not.include('forged-state-value');
    expect((await verify(s, r, handle!)).verifier).to.equal(VERIFIER_A);
  });

  it('fails a missing state as not issued', async () => {
    const s = new XPkceSessionStore();
    const r = req();
    await store(s, r, VERIFIER_A);
    const res = await verify(s, r, undefined as unknown as string);
    expect(res.verifier).to.equal(false);
    expect(failureHint(res.info, CALLBACK_UNKNOWN)).to.match(/not issued to this session/);
  });

  it('expires pending sign-ins after 10 minutes (clock injected with `now`)', async () => {
    let now = 1_000_000;
    const s = new XPkceSessionStore({ now: () => now });
    const r = req();
    const old = await store(s, r, VERIFIER_A);
    const young = await store(s, r, VERIFIER_B);
    now += PENDING_TTL_MS - 1;
    expect((await verify(s, r, young.handle!)).verifier).to.equal(VERIFIER_B);
    const r2 = req();
    const again = await store(s, r2, VERIFIER_A);
    now += PENDING_TTL_MS;
    const expired = await verify(s, r2, again.handle!);
    expect(expired.verifier).to.equal(false);
    expect(failureHint(expired.info, SIGN_IN_EXPIRED)).to.match(/expired/).and.match(/Sign in again/);
    const stale = await verify(s, r, old.handle!);
    expect(stale.verifier).to.equal(false);
    expect(failureHint(stale.info, SIGN_IN_EXPIRED)).to.match(/expired/);
  });

  it('honours the ttlMs, maxPending and key options', async () => {
    let now = 0;
    const s = new XPkceSessionStore({ ttlMs: 1000, maxPending: 1, key: 'mine', now: () => now });
    const r = req();
    const first = await store(s, r, VERIFIER_A);
    const { handle } = await store(s, r, VERIFIER_A);
    expect(r.session).to.have.property('mine');
    // maxPending 1: the first sign-in was dropped when the second started.
    expect((await verify(s, r, first.handle!)).verifier).to.equal(false);
    now = 1000;
    expect(failureHint((await verify(s, r, handle!)).info, SIGN_IN_EXPIRED)).to.match(/expired/);
  });

  it('explains what to add when there is no session', async () => {
    const s = new XPkceSessionStore();
    const stored = await store(s, req(null), VERIFIER_A);
    expect(stored.err).to.be.instanceOf(XSessionError);
    expect(stored.err!.message).to.match(/express-session/).and.match(/x-oauth2/);
    expect(stored.handle).to.equal(undefined);
    const verified = await verify(s, req(null), 'anything');
    expect(verified.err).to.be.instanceOf(XSessionError);
  });

  it('drops a denied state and leaves the others', async () => {
    const s = new XPkceSessionStore();
    const r = req();
    const a = await store(s, r, VERIFIER_A);
    const b = await store(s, r, VERIFIER_B);
    await new Promise<void>((resolve, reject) => s.drop(r, a.handle!, (err) => (err ? reject(err) : resolve())));
    expect((await verify(s, r, a.handle!)).verifier).to.equal(false);
    expect((await verify(s, r, b.handle!)).verifier).to.equal(VERIFIER_B);
    // and tolerates a request without a session
    await new Promise<void>((resolve) => s.drop(req(null), 'x', () => resolve()));
  });

  it('says why a cancelled state was not pending, as verify() would: expired, unknown, or nothing pending at all', async () => {
    let now = 1_700_000_000_000;
    const s = new XPkceSessionStore({ now: () => now });
    const r = req();
    const a = await store(s, r, VERIFIER_A);
    now += 5 * 60 * 1000;
    const b = await store(s, r, VERIFIER_B);
    now += 5 * 60 * 1000;
    const dropped = (request: XAuthRequest, handle: string) =>
      new Promise<{ err: Error | null | undefined; found: boolean | undefined; info: XFailureInfo | undefined }>((resolve) => s.drop(request, handle, (err, found, info) => resolve({ err, found, info })));
    const late = await dropped(r, a.handle!);
    expect(late).to.deep.include({ err: null, found: false });
    expect(failureHint(late.info, XFailureCode.SIGN_IN_EXPIRED)).to.match(/more than 10 minutes ago and has expired/);
    failureHint((await dropped(r, a.handle!)).info, XFailureCode.CALLBACK_UNKNOWN);
    expect(await dropped(r, b.handle!)).to.deep.equal({ err: null, found: true, info: undefined });
    failureHint((await dropped(r, b.handle!)).info, XFailureCode.NO_PENDING_SIGN_IN);
    failureHint((await dropped(req(null), b.handle!)).info, XFailureCode.NO_PENDING_SIGN_IN);
  });

  it('ignores garbage left in the session slot and entries without a verifier', async () => {
    const s = new XPkceSessionStore();
    const r = req({ 'oauth2:x': { pending: [null, 3, { handle: 1 }, { handle: 'h', createdAt: Date.now() }] } });
    const res = await verify(s, r, 'h');
    expect(res.verifier).to.equal(false);
    expect(failureHint(res.info, CALLBACK_UNKNOWN)).to.match(/not issued to this session/);
  });

  it('takes an entry with an empty verifier (a session written by hand) for a state not issued here, never answering its app state', async () => {
    const s = new XPkceSessionStore();
    const appState = { returnTo: '/x' };
    for (const stored of [{ handle: 'h', createdAt: Date.now(), secret: '', state: appState }, `${Date.now().toString(36)}  h `]) {
      const r = req({ 'oauth2:x': [stored] });
      const res = await verify(s, r, 'h');
      expect(res.verifier).to.equal(false);
      expect(res.info).not.to.equal(appState);
      expect(failureHint(res.info, CALLBACK_UNKNOWN)).to.match(/not issued to this session/);
    }
  });

  describe('binding to the strategy that started the sign-in', () => {
    const A: XPkceStateMeta = { ...META, binding: pendingBinding('oauth2', 'x-a', 'client-a', 'http://127.0.0.1/a') };
    const B: XPkceStateMeta = { ...META, binding: pendingBinding('oauth2', 'x-b', 'client-b', 'http://127.0.0.1/b') };
    const verifyWith = (s: XPkceSessionStore, r: XAuthRequest, state: string, meta: XPkceStateMeta) =>
      new Promise<{ verifier: string | false | undefined; info: unknown }>((resolve) => s.verify(r, state, meta, (_err, verifier, info) => resolve({ verifier, info })));

    it('has the 4-argument verify and drop passport-oauth2 hands meta to', () => {
      const s = new XPkceSessionStore();
      expect([s.store.length, s.verify.length, s.drop.length]).to.deep.equal([5, 4, 4]);
    });

    it('returns a verifier only to the binding it was stored with, and leaves it for that one', async () => {
      const s = new XPkceSessionStore();
      const r = req();
      const { handle } = await new Promise<{ handle: string | undefined }>((resolve) => s.store(r, VERIFIER_A, undefined, A, (_e, h) => resolve({ handle: h })));
      const other = await verifyWith(s, r, handle!, B);
      expect(other.verifier).to.equal(false);
      expect(failureHint(other.info, CALLBACK_UNKNOWN)).to.match(/another strategy sharing this session/);
      expect((await verifyWith(s, r, handle!, A)).verifier).to.equal(VERIFIER_A);
    });

    it('derives the binding from passport-oauth2\'s meta (client ID, redirect_uri) when none is set', async () => {
      const s = new XPkceSessionStore();
      const r = req();
      const { handle } = await store(s, r, VERIFIER_A);
      expect((await verifyWith(s, r, handle!, { ...META, callbackURL: 'http://127.0.0.1/elsewhere' })).verifier).to.equal(false);
      expect((await verifyWith(s, r, handle!, META)).verifier).to.equal(VERIFIER_A);
    });

    it('drops only a state of the same binding', async () => {
      const s = new XPkceSessionStore();
      const r = req();
      const { handle } = await new Promise<{ handle: string | undefined }>((resolve) => s.store(r, VERIFIER_A, undefined, A, (_e, h) => resolve({ handle: h })));
      const dropped = (meta: XPkceStateMeta) => new Promise<boolean | undefined>((resolve) => s.drop(r, handle!, meta, (_e, found) => resolve(found)));
      expect(await dropped(B)).to.equal(false);
      expect(await dropped(A)).to.equal(true);
    });
  });
});
