import { expect } from 'chai';
import { PendingBindingCache, pendingBinding, withPendingBinding } from '../../lib/state/pending';

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

  it('withPendingBinding copies meta with the binding added, leaving meta untouched', () => {
    const meta = { authorizationURL: 'a', tokenURL: 't', clientID: 'c', callbackURL: undefined as string | undefined };
    const bound = withPendingBinding(meta, 'b1');
    expect(bound).to.deep.equal({ ...meta, binding: 'b1' });
    expect(Object.keys(bound)).to.deep.equal(['authorizationURL', 'tokenURL', 'clientID', 'callbackURL', 'binding']);
    expect(meta).to.not.have.property('binding');
    // A binding already in meta is replaced, in its place.
    expect(Object.entries(withPendingBinding({ binding: 'old', x: 1 }, 'new'))).to.deep.equal([
      ['binding', 'new'],
      ['x', 1],
    ]);
  });
});
