// Which callback URLs the emulator accepts (X doc "Callback URLs").
import { expect } from 'chai';
import { appendQuery, isLoopbackURL, isRegisteredOAuth1Callback, isRegisteredOAuth2RedirectURI } from '../../lib/testing/callback-urls';

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
    expect(isRegisteredOAuth1Callback(undefined, 'http://localhost:4000/cb?x=1')).to.equal(true);
    expect(isRegisteredOAuth1Callback(undefined, 'https://app.example/cb')).to.equal(false);
  });

  it('OAuth 2.0: matches a registered URI exactly, never with a fragment', () => {
    const registered = ['https://app.example/cb', 'https://app.example/cb?tenant=1'];
    expect(isRegisteredOAuth2RedirectURI(registered, 'https://app.example/cb')).to.equal(true);
    expect(isRegisteredOAuth2RedirectURI(registered, 'https://app.example/cb?tenant=1')).to.equal(true);
    expect(isRegisteredOAuth2RedirectURI(registered, 'https://app.example/cb?tenant=2')).to.equal(false);
    expect(isRegisteredOAuth2RedirectURI(registered, 'https://APP.example/cb')).to.equal(false);
    expect(isRegisteredOAuth2RedirectURI(undefined, 'http://127.0.0.1:5000/cb')).to.equal(true);
    expect(isRegisteredOAuth2RedirectURI(undefined, 'http://127.0.0.1:5000/cb#x')).to.equal(false);
  });

  it('adds parameters to a callback URL and keeps its own query as written', () => {
    expect(appendQuery('http://a/cb', { code: 'c', state: 's t' })).to.equal('http://a/cb?code=c&state=s+t');
    expect(appendQuery('http://a/cb?next=%2Fhome', { code: 'c' })).to.equal('http://a/cb?next=%2Fhome&code=c');
    expect(appendQuery('http://a/cb?', { code: 'c' })).to.equal('http://a/cb?code=c');
    expect(appendQuery('http://a/cb#frag', { code: 'c' })).to.equal('http://a/cb?code=c');
  });
});
