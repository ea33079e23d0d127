import { expect } from 'chai';
import { profileFromAccessTokenParams, profileFromV1User, profileFromV2User } from '../lib/profile';

describe('profile', () => {
  describe('from a v1.1 user (account/verify_credentials)', () => {
    // Shape from X doc "GET account/verify_credentials": id is a number too big for JS, id_str is exact.
    const raw = '{"id":1234567890123456789,"id_str":"1234567890123456789","screen_name":"xdev","name":"X Dev","profile_image_url_https":"https://pbs.twimg.com/p.jpg","email":"dev@example.com"}';
    const json = JSON.parse(raw) as Record<string, unknown>;

    it('takes the id from id_str, never from the rounded number', () => {
      const p = profileFromV1User(json, raw, 'read-write');
      expect(p.id).to.equal('1234567890123456789');
      expect(String(json.id)).to.not.equal('1234567890123456789');
    });

    it('maps handle, name, URL, picture, e-mail, raw, json and access level', () => {
      expect(profileFromV1User(json, raw, 'read-write')).to.deep.equal({
        provider: 'x',
        id: '1234567890123456789',
        username: 'xdev',
        displayName: 'X Dev',
        profileUrl: 'https://x.com/xdev',
        photos: [{ value: 'https://pbs.twimg.com/p.jpg' }],
        emails: [{ value: 'dev@example.com' }],
        _raw: raw,
        _json: json,
        _accessLevel: 'read-write',
      });
    });

    it('leaves out photos, emails and access level when X sent none, and falls back to the handle for the name', () => {
      const p = profileFromV1User({ id_str: '1', screen_name: 'a' }, '{}', null);
      expect(p).to.not.have.any.keys('photos', 'emails', '_accessLevel');
      expect(p.displayName).to.equal('a');
    });
  });

  describe('from a v2 user (2/users/me data)', () => {
    it('maps the same shape, with the e-mail from confirmed_email', () => {
      const data = { id: '42', username: 'alice', name: 'Alice', profile_image_url: 'https://pbs.twimg.com/a.jpg', confirmed_email: 'a@example.com' };
      const p = profileFromV2User(data, JSON.stringify({ data }), undefined);
      expect(p).to.deep.equal({
        provider: 'x',
        id: '42',
        username: 'alice',
        displayName: 'Alice',
        profileUrl: 'https://x.com/alice',
        photos: [{ value: 'https://pbs.twimg.com/a.jpg' }],
        emails: [{ value: 'a@example.com' }],
        _raw: JSON.stringify({ data }),
        _json: data,
      });
    });
  });

  describe('values an app renders, from a hostile or broken answer', () => {
    const hostile = {
      name: 'Mallory\r\nSet-Cookie: x=1\u001b[31m',
      picture: 'javascript:alert(document.cookie)',
      email: 'a@example.com\r\nBcc: victim@example.com',
    };

    it('leaves out a picture that is no http(s) URL and an e-mail that is no address, and strips control characters from the name (v2 and v1.1)', () => {
      const v2 = { id: '42', username: 'alice', name: hostile.name, profile_image_url: hostile.picture, confirmed_email: hostile.email };
      const v1 = { id_str: '42', screen_name: 'alice', name: hostile.name, profile_image_url_https: hostile.picture, email: hostile.email };
      for (const p of [profileFromV2User(v2, JSON.stringify({ data: v2 })), profileFromV1User(v1, JSON.stringify(v1))]) {
        expect(p).to.not.have.any.keys('photos', 'emails');
        expect(p.displayName).to.equal('MallorySet-Cookie: x=1[31m');
        // X's answer as it was, for an app that wants it.
        expect(p._json.name).to.equal(hostile.name);
      }
    });

    it('keeps every picture and address X sends, a local emulator\'s http picture too, and falls back to the handle for a name of control characters only', () => {
      for (const picture of ['https://pbs.twimg.com/profile_images/1/a_normal.jpg', 'https://pbs.twimg.com/profile_images/1/a.jpg?format=jpg&name=small', 'http://127.0.0.1:41307/profile_images/1.svg']) {
        const p = profileFromV2User({ id: '1', username: 'bob', name: '\u0007\u0000\u2028', profile_image_url: picture, confirmed_email: 'bob+x@sub.example.co.uk' }, '{}');
        expect(p.photos).to.deep.equal([{ value: picture }]);
        expect(p.emails).to.deep.equal([{ value: 'bob+x@sub.example.co.uk' }]);
        expect(p.displayName).to.equal('bob');
      }
      for (const email of ["o'brien@example.com", 'a`b@example.com', 'jörg@bücher.example']) expect(profileFromV2User({ id: '1', username: 'bob', confirmed_email: email }, '{}').emails, email).to.deep.equal([{ value: email }]);
      expect(profileFromV2User({ id: '1', username: 'bob', name: 'Line\u2028Two' }, '{}').displayName).to.equal('LineTwo');
      for (const picture of ['data:image/svg+xml,<svg onload=alert(1)>', 'https://a.example/"onerror="alert(1)', `https://a.example/${'x'.repeat(3000)}`, ' https://a.example/p.jpg']) {
        expect(profileFromV2User({ id: '1', username: 'bob', profile_image_url: picture }, '{}'), picture.slice(0, 40)).to.not.have.property('photos');
      }
    });
  });

  describe('from the access-token answer (skipExtendedUserProfile)', () => {
    it('uses user_id and screen_name only', () => {
      const p = profileFromAccessTokenParams({ oauth_token: 't', oauth_token_secret: 's', user_id: '7', screen_name: 'bob' });
      expect(p).to.include({ provider: 'x', id: '7', username: 'bob', displayName: 'bob', profileUrl: 'https://x.com/bob' });
      expect(p._json).to.deep.equal({ user_id: '7', screen_name: 'bob' });
      expect(p._raw).to.equal('user_id=7&screen_name=bob');
      expect(p._raw).to.not.include('oauth_token');
    });
  });

  describe('hostile input', () => {
    it('never throws on a handle with a lone UTF-16 surrogate (encodeURIComponent would)', () => {
      expect(() => encodeURIComponent('x\ud800')).to.throw(URIError);
      expect(profileFromV2User({ id: '1', username: 'x\ud800' }, '{}').profileUrl).to.equal('https://x.com/x%EF%BF%BD');
      expect(profileFromV1User({ id_str: '1', screen_name: '\udc00' }, '{}').profileUrl).to.equal('https://x.com/%EF%BF%BD');
      expect(profileFromAccessTokenParams({ user_id: '1', screen_name: 'a\ud800' }).profileUrl).to.equal('https://x.com/a%EF%BF%BD');
    });

    it('keeps a well-formed surrogate pair (an emoji) as it is', () => {
      expect(profileFromV2User({ id: '1', username: 'x\u{1F600}' }, '{}').profileUrl).to.equal(`https://x.com/${encodeURIComponent('x\u{1F600}')}`);
    });
  });
});
