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
