import { expect } from 'chai';
import { PendingBindingCache, addPending, pendingBinding, pendingEntry, pendingMissMessage, takePending } from '../../lib/state/pending';

describe('pending: the binding of a sign-in to its strategy', () => {
  it('PendingBindingCache answers pendingBinding of its inputs, again when any input changes', () => {
    const cache = new PendingBindingCache('oauth2');
    const inputs: Array<[string, string, string]> = [
      ['x-oauth2', 'client', 'https://app.example/cb'],
      ['x-oauth2', 'client', 'https://app.example/cb'],
      ['renamed', 'client', 'https://app.example/cb'],
      ['renamed', 'other-client', 'https://app.example/cb'],
      ['renamed', 'other-client', 'https://app.example/other'],
      ['x-oauth2', 'client', 'https://app.example/cb'],
    ];
    for (const [name, client, redirectURI] of inputs) expect(cache.of(name, client, redirectURI)).to.equal(pendingBinding('oauth2', name, client, redirectURI));
    expect(new PendingBindingCache('oauth1').of('a', 'b', 'c')).to.equal(pendingBinding('oauth1', 'a', 'b', 'c')).and.not.equal(pendingBinding('oauth2', 'a', 'b', 'c'));
  });
});

describe('pending: how a session keeps its pending sign-ins', () => {
  const limits = { ttlMs: 60_000, max: 5, now: () => 1_700_000_000_000 };
  const binding = pendingBinding('oauth2', 'x-oauth2', 'client', 'https://app.example/cb');

  it('keeps a sign-in as one string (a session store serialises and hashes the session on every request), and gives it back whole', () => {
    const session: Record<string, unknown> = {};
    addPending(session, 'k', pendingEntry('state-1', 'verifier-1', limits.now(), binding, undefined), limits);
    expect(session.k).to.deep.equal([`${limits.now().toString(36)} ${binding} state-1 verifier-1`]);
    expect(JSON.stringify(session.k).length).to.be.below(JSON.stringify({ pending: [{ handle: 'state-1', codeVerifier: 'verifier-1', createdAt: limits.now(), binding }] }).length);
    expect(takePending(session, 'k', 'state-1', limits, binding)).to.deep.equal({ entry: { handle: 'state-1', secret: 'verifier-1', createdAt: limits.now(), binding } });
    expect(session).to.not.have.property('k');
  });

  it('keeps an entry object when there is app state, or a space in a value, and gives it back whole', () => {
    const session: Record<string, unknown> = {};
    const withState = pendingEntry('state-1', 'verifier-1', limits.now(), binding, { returnTo: '/settings' });
    const spaced = pendingEntry('token 2', 'secret 2', limits.now(), undefined, undefined);
    const plain = pendingEntry('state-3', 'verifier-3', limits.now(), undefined, undefined);
    for (const e of [withState, spaced, plain]) addPending(session, 'k', e, limits);
    // Through JSON, as a session store keeps it.
    const stored = JSON.parse(JSON.stringify(session)) as Record<string, unknown>;
    expect(stored.k).to.deep.equal([
      { handle: 'state-1', createdAt: limits.now(), secret: 'verifier-1', binding, state: { returnTo: '/settings' } },
      { handle: 'token 2', createdAt: limits.now(), secret: 'secret 2' },
      `${limits.now().toString(36)}  state-3 verifier-3`,
    ]);
    expect(takePending(stored, 'k', 'token 2', limits)).to.deep.equal({ entry: spaced });
    expect(takePending(stored, 'k', 'state-3', limits)).to.deep.equal({ entry: plain });
    expect(takePending(stored, 'k', 'state-1', limits, binding)).to.deep.equal({ entry: withState });
  });

  it('reads sessions written before the compact format ({ pending: [...] }, the secret as codeVerifier or tokenSecret)', () => {
    const legacy = (): Record<string, unknown> => ({
      k: { pending: [{ handle: 'state-1', codeVerifier: 'verifier-1', createdAt: limits.now(), binding }, { handle: 'token-2', tokenSecret: 'secret-2', createdAt: limits.now(), state: 's' }] },
    });
    let session = legacy();
    expect(takePending(session, 'k', 'state-1', limits, binding)).to.deep.include({ entry: { handle: 'state-1', codeVerifier: 'verifier-1', secret: 'verifier-1', createdAt: limits.now(), binding } });
    expect(takePending(session, 'k', 'token-2', limits)).to.deep.equal({ entry: { handle: 'token-2', tokenSecret: 'secret-2', secret: 'secret-2', createdAt: limits.now(), state: 's' } });
    // A new sign-in next to an old one: both kept, in the new format.
    session = legacy();
    addPending(session, 'k', pendingEntry('state-3', 'verifier-3', limits.now(), undefined, undefined), limits);
    expect((session.k as unknown[]).length).to.equal(3);
    expect(takePending(session, 'k', 'token-2', limits)).to.have.property('entry');
    expect(takePending(session, 'k', 'state-3', limits)).to.deep.equal({ entry: { handle: 'state-3', secret: 'verifier-3', createdAt: limits.now() } });
  });

  it('ignores elements that are no pending sign-in (a session store may hold anything), and keeps at most max', () => {
    const session: Record<string, unknown> = { k: ['garbage', 'zz  only-three', 'not-base36!  h s', 42, null, { handle: 1 }, ' b  s'] };
    // Nothing in it is a pending sign-in.
    expect(takePending(session, 'k', 'h', limits)).to.deep.equal({ miss: 'none' });
    session.k = ['garbage', `${limits.now().toString(36)}  h s`];
    expect(takePending(session, 'k', 'h', limits)).to.deep.equal({ entry: { handle: 'h', secret: 's', createdAt: limits.now() } });
    expect(session).to.not.have.property('k');
    for (let i = 0; i < 7; i++) addPending(session, 'k', pendingEntry(`state-${i}`, `verifier-${i}`, limits.now(), undefined, undefined), limits);
    expect((session.k as string[]).map((e) => e.split(' ')[2])).to.deep.equal(['state-2', 'state-3', 'state-4', 'state-5', 'state-6']);
  });

  it('calls a callback that meets only expired leftovers "none pending" (the cookie and host causes), and one that meets a live sign-in of this session "unknown"', () => {
    let now = limits.now();
    const clock = { ...limits, now: () => now };
    const session: Record<string, unknown> = {};
    // A sign-in abandoned on this host (X's tab closed), 20 minutes before the callback of one started elsewhere.
    addPending(session, 'k', pendingEntry('abandoned', 'verifier-0', now, binding, undefined), clock);
    now += 20 * 60_000;
    expect(takePending(session, 'k', 'started-on-another-host', clock, binding)).to.deep.equal({ miss: 'none' });
    expect(session, 'the leftover is dropped on the way').to.not.have.property('k');
    addPending(session, 'k', pendingEntry('live', 'verifier-1', now, binding, undefined), clock);
    expect(takePending(session, 'k', 'not-this-one', clock, binding)).to.deep.equal({ miss: 'unknown' });
  });

  it('names SameSite=Strict among the causes of "none pending", and the cookie and host causes in "unknown"', () => {
    expect(pendingMissMessage('none', 'state')).to.include('SameSite=Strict').and.include('SameSite=Lax');
    // Each cause it names has its fix: an unsaved session's too.
    expect(pendingMissMessage('none', 'state')).to.include('the session was not saved before the redirect to X').and.include('make sure the session store saves before the redirect');
    expect(pendingMissMessage('unknown', 'state')).to.include('localhost and 127.0.0.1').and.include('another session\'s cookie');
    // Two sign-ins started at the same moment in one session: the later save of the session keeps only its own.
    expect(pendingMissMessage('unknown', 'request token')).to.include('two tabs at once').and.include('the later save kept only its own pending sign-in');
  });
});
