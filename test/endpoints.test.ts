import { expect } from 'chai';
import fc from 'fast-check';
import { basicCredentials, encodeForm, formURLEncode, usersMeURL, xEndpoints } from '../lib/endpoints';
import { XOAuth1Strategy } from '../lib/oauth1-strategy';
import { XOAuth2PkceStrategy } from '../lib/oauth2-strategy';

// A fixed seed, printed by fast-check with any counterexample, so a failure replays exactly.
const SEED = 20261130;
// Any UTF-16 code unit, lone surrogates included: what a JavaScript string can hold.
const utf16 = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 });

describe('endpoints: form encoding', () => {
  it('formURLEncode writes each value byte for byte as URLSearchParams does', () => {
    for (const value of ['', 'abc-._*', 'a b', "!'()~", 'é/?#&=+%', '\ud800', 'x\udc00y', '😀', 'cs sec/ret+=~!*-client-secret']) {
      expect(formURLEncode(value), value).to.equal(new URLSearchParams([['', value]]).toString().slice(1));
    }
    fc.assert(
      fc.property(utf16, (value) => formURLEncode(value) === new URLSearchParams([['', value]]).toString().slice(1)),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('encodeForm writes a body byte for byte as URLSearchParams does, in key order', () => {
    expect(encodeForm({})).to.equal('');
    expect(encodeForm({ grant_type: 'authorization_code', redirect_uri: 'http://127.0.0.1:3000/cb?a=1', '': '' })).to.equal(
      'grant_type=authorization_code&redirect_uri=http%3A%2F%2F127.0.0.1%3A3000%2Fcb%3Fa%3D1&=',
    );
    fc.assert(
      fc.property(fc.dictionary(utf16, utf16, { maxKeys: 6 }), (params) => encodeForm(params) === new URLSearchParams(params).toString()),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('basicCredentials form-encodes both parts first (RFC 6749 section 2.3.1), X\'s app-only vector included', () => {
    // X doc "Application-only authentication".
    expect(basicCredentials('xvz1evFS4wEEPTGEFPHBog', 'L8qq9PZyRg6ieKGEKhZolGC0vJWLw8iEJ88DRdyOg')).to.equal(
      'eHZ6MWV2RlM0d0VFUFRHRUZQSEJvZzpMOHFxOVBaeVJnNmllS0dFS2hab2xHQzB2SldMdzhpRUo4OERSZHlPZw==',
    );
    expect(Buffer.from(basicCredentials('cid-ABC:123', 'cs sec/ret+=~!*'), 'base64').toString()).to.equal('cid-ABC%3A123:cs+sec%2Fret%2B%3D%7E%21*');
  });
});

describe('endpoints: usersMeURL', () => {
  it('sets user.fields, comma-joined, replacing any in the URL, and keeps the rest of the query', () => {
    expect(usersMeURL('https://api.x.com/2/users/me', ['id', 'name'])).to.equal('https://api.x.com/2/users/me?user.fields=id%2Cname');
    expect(usersMeURL('https://proxy.example/2/users/me?a=1&user.fields=x', ['id'])).to.equal('https://proxy.example/2/users/me?a=1&user.fields=id');
    expect(usersMeURL('https://api.x.com/2/users/me', [])).to.equal('https://api.x.com/2/users/me');
  });
});

describe('endpoints: baseURL', () => {
  it('appends the endpoint paths to an origin and an optional path, with or without a trailing slash', () => {
    expect(xEndpoints('http://127.0.0.1:4100').oauth2Token).to.equal('http://127.0.0.1:4100/2/oauth2/token');
    expect(xEndpoints('http://127.0.0.1:4100/emulator/').requestToken).to.equal('http://127.0.0.1:4100/emulator/oauth/request_token');
  });

  it('refuses a baseURL with a ?query or #fragment, in the helpers and both strategies, before anything is sent', () => {
    const refused = /`baseURL` must be an origin and an optional path, without a \?query or #fragment/;
    for (const baseURL of ['http://127.0.0.1:4100/?tenant=a', 'http://127.0.0.1:4100#frag', 'http://127.0.0.1:4100/api?', 'https://api.x.com/?x=1#y']) {
      expect(() => xEndpoints(baseURL), baseURL).to.throw(TypeError, refused);
      expect(() => new XOAuth1Strategy({ consumerKey: 'ck', consumerSecret: 'cs', callbackURL: 'http://127.0.0.1:3000/cb', baseURL }, () => undefined), baseURL).to.throw(TypeError, refused);
      expect(() => new XOAuth2PkceStrategy({ clientID: 'id', callbackURL: 'http://127.0.0.1:3000/cb', baseURL }, () => undefined), baseURL).to.throw(TypeError, refused);
    }
  });

  it('refuses every URL option with a control character (the URL parser would drop a tab or line break silently), naming the option', () => {
    const refused = (name: string): RegExp => new RegExp(`\`${name}\` contains a control character`);
    const oauth1 = { consumerKey: 'ck', consumerSecret: 'cs', callbackURL: 'http://127.0.0.1:3000/cb' };
    const oauth2 = { clientID: 'id', callbackURL: 'http://127.0.0.1:3000/cb' };
    for (const url of ['https://api.x.com\n', 'https://api.x\t.com', 'https://api.x.com/\u0000', '\r\nhttps://api.x.com', 'https://api.x.com/\u0085']) {
      const what = JSON.stringify(url);
      expect(() => xEndpoints(url), what).to.throw(TypeError, refused('baseURL'));
      for (const name of ['baseURL', 'requestTokenURL', 'accessTokenURL', 'userAuthorizationURL', 'userProfileURL']) {
        expect(() => new XOAuth1Strategy({ ...oauth1, [name]: url }, () => undefined), `${name} ${what}`).to.throw(TypeError, refused(name));
      }
      for (const name of ['baseURL', 'authorizationURL', 'tokenURL', 'userProfileURL']) {
        expect(() => new XOAuth2PkceStrategy({ ...oauth2, [name]: url }, () => undefined), `${name} ${what}`).to.throw(TypeError, refused(name));
      }
    }
    // The same URLs without the character are accepted.
    expect(xEndpoints('https://api.x.com').usersMe).to.equal('https://api.x.com/2/users/me');
  });
});
