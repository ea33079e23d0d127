// Which callback URLs the emulator accepts (X doc "Callback URLs").
import { expect } from 'chai';
import {
  CallbackRegistry,
  appendQuery,
  checkCallbackURL,
  isLoopbackURL,
  isRegisteredOAuth1Callback,
  isRegisteredOAuth2RedirectURI,
  nearMiss,
} from '../../lib/testing/callback-urls';

describe('emulator: callback URLs', () => {
  it('knows loopback URLs: 127.0.0.0/8, localhost and [::1], over http(s), any port', () => {
    for (const url of ['http://127.0.0.1:3000/cb', 'http://127.1.2.3/cb', 'https://localhost:8443/', 'http://LOCALHOST:1/x', 'http://[::1]:9/cb']) {
      expect(isLoopbackURL(url), url).to.equal(true);
    }
    for (const url of ['http://localhost.example.com/cb', 'http://10.0.0.1/cb', 'ftp://127.0.0.1/cb', 'myapp://localhost/cb', 'http://user:pw@127.0.0.1/', 'not a url']) {
      expect(isLoopbackURL(url), url).to.equal(false);
    }
  });

  it('OAuth 1.0a: matches a registered URL with any query string added', () => {
    const registered = ['https://app.example/cb'];
    expect(isRegisteredOAuth1Callback(registered, 'https://app.example/cb')).to.equal(true);
    expect(isRegisteredOAuth1Callback(registered, 'https://app.example/cb?next=/home')).to.equal(true);
    expect(isRegisteredOAuth1Callback(registered, 'https://app.example/cb/')).to.equal(false);
    expect(isRegisteredOAuth1Callback(registered, 'http://app.example/cb')).to.equal(false);
    expect(isRegisteredOAuth1Callback([], 'http://localhost:4000/cb?x=1')).to.equal(false);
    expect(isRegisteredOAuth1Callback(['http://127.0.0.1:4000/cb'], 'http://localhost:4000/cb')).to.equal(false);
    expect(isRegisteredOAuth1Callback(['http://127.0.0.1:4000/cb'], 'http://127.0.0.1:4001/cb')).to.equal(false);
  });

  it('OAuth 2.0: matches a registered URI exactly, never with a fragment', () => {
    const registered = ['https://app.example/cb', 'https://app.example/cb?tenant=1'];
    expect(isRegisteredOAuth2RedirectURI(registered, 'https://app.example/cb')).to.equal(true);
    expect(isRegisteredOAuth2RedirectURI(registered, 'https://app.example/cb?tenant=1')).to.equal(true);
    expect(isRegisteredOAuth2RedirectURI(registered, 'https://app.example/cb?tenant=2')).to.equal(false);
    expect(isRegisteredOAuth2RedirectURI(registered, 'https://APP.example/cb')).to.equal(false);
    expect(isRegisteredOAuth2RedirectURI([], 'http://127.0.0.1:5000/cb')).to.equal(false);
    expect(isRegisteredOAuth2RedirectURI(['http://127.0.0.1:5000/cb'], 'http://127.0.0.1:5000/cb#x')).to.equal(false);
    expect(isRegisteredOAuth2RedirectURI(['http://127.0.0.1:5000/cb'], 'http://localhost:5000/cb')).to.equal(false);
    expect(isRegisteredOAuth2RedirectURI(['http://127.0.0.1:5000/cb/'], 'http://127.0.0.1:5000/cb')).to.equal(false);
  });

  it('says why a URL X refuses nearly matches: the other loopback name, or the trailing slash', () => {
    expect(nearMiss(['http://127.0.0.1:3000/cb'], 'http://localhost:3000/cb?x=1')).to.equal('http://127.0.0.1:3000/cb is registered, and X treats localhost and 127.0.0.1 as different hosts');
    expect(nearMiss(['http://localhost:3000/cb'], 'http://127.0.0.1:3000/cb')).to.equal('http://localhost:3000/cb is registered, and X treats localhost and 127.0.0.1 as different hosts');
    expect(nearMiss(['https://app.example/cb/'], 'https://app.example/cb')).to.equal('https://app.example/cb/ is registered, and X compares the trailing slash too');
    expect(nearMiss(['https://app.example/cb'], 'https://app.example/other')).to.equal(undefined);
  });

  it('registers at most 10 URLs per app, as X\'s portal, and checks each as X does', () => {
    const registry = new CallbackRegistry({ oauth1: [], confidential: ['https://a.example/cb'], public: [] });
    for (let i = 0; i < 10; i++) registry.add(`https://app.example/cb${i}`, ['oauth1']);
    registry.add('https://app.example/cb0', ['oauth1']); // already there: no change
    expect(registry.get('oauth1')).to.have.length(10);
    expect(() => registry.add('https://app.example/cb10', ['public', 'oauth1'])).to.throw(RangeError, /10 callback URLs, X's limit per app/);
    expect(registry.get('public'), 'nothing changed when one app was full').to.deep.equal([]);
    expect(registry.remove('https://app.example/cb3', ['oauth1', 'confidential'])).to.equal(true);
    expect(registry.remove('https://app.example/cb3', ['oauth1'])).to.equal(false);
    registry.add('https://app.example/cb10', ['oauth1']);
    expect(registry.get('confidential')).to.deep.equal(['https://a.example/cb']);
    for (const bad of ['/relative/cb', 'javascript:alert(1)', 'data:text/html,x', 'https://app.example/cb#frag', '']) {
      expect(() => checkCallbackURL(bad, 'url'), bad).to.throw(TypeError, /`url`/);
    }
    expect(checkCallbackURL('myapp://callback', 'url')).to.equal('myapp://callback');
  });

  it('refuses to register a URL with a control character, which the URL parser would drop without a word', () => {
    for (const bad of ['https://app.example/cb\n', 'https://app.example/c\tb', 'https://app.example/cb?a=1\r\nSet-Cookie: x=1', 'https://app.example/cb\u007f']) {
      expect(() => checkCallbackURL(bad, 'url'), JSON.stringify(bad)).to.throw(TypeError, /`url` has a control character/);
    }
    expect(checkCallbackURL('https://app.example/café', 'url')).to.equal('https://app.example/café');
  });

  it('adds parameters to a callback URL and keeps its own query as written', () => {
    expect(appendQuery('http://a/cb', { code: 'c', state: 's t' })).to.equal('http://a/cb?code=c&state=s+t');
    expect(appendQuery('http://a/cb?next=%2Fhome', { code: 'c' })).to.equal('http://a/cb?next=%2Fhome&code=c');
    expect(appendQuery('http://a/cb?', { code: 'c' })).to.equal('http://a/cb?code=c');
    expect(appendQuery('http://a/cb#frag', { code: 'c' })).to.equal('http://a/cb?code=c');
  });
});
