// The independent OAuth 1.0a checker of passport-x/testing, against X's published header
// (X doc "Authorizing a request"), and refusing what X refuses.
import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import { parseOAuthHeader, verifyOAuth1Request, type OAuth1RequestToVerify } from '../../lib/testing/oauth1-verifier';

/**
 * X doc "Authorizing a request" (docs.x.com/fundamentals/authentication/oauth-1-0a/authorizing-a-request):
 * the header the page builds by hand, for its request to https://api.twitter.com/1/statuses/update.json
 * (the path its signature was computed for), with its credentials.
 */
const X_REQUEST: OAuth1RequestToVerify = {
  method: 'POST',
  url: 'https://api.twitter.com/1/statuses/update.json?include_entities=true',
  authorization:
    'OAuth oauth_consumer_key="xvz1evFS4wEEPTGEFPHBog", oauth_nonce="kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg", ' +
    'oauth_signature="tnnArxj06cWHq44gCs1OSKk%2FjLY%3D", oauth_signature_method="HMAC-SHA1", oauth_timestamp="1318622958", ' +
    'oauth_token="370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb", oauth_version="1.0"',
  body: 'status=Hello%20Ladies%20%2B%20Gentlemen%2C%20a%20signed%20OAuth%20request%21',
  contentType: 'application/x-www-form-urlencoded',
};
const X_SECRETS = {
  consumerSecret: (key: string) => (key === 'xvz1evFS4wEEPTGEFPHBog' ? 'kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw' : undefined),
  tokenSecret: (token: string) => (token === '370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb' ? 'LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE' : undefined),
};

function withHeader(rewrite: (header: string) => string): OAuth1RequestToVerify {
  return { ...X_REQUEST, authorization: rewrite(X_REQUEST.authorization!) };
}

describe('emulator: the OAuth 1.0a verifier', () => {
  it('accepts X\'s published request', () => {
    const result = verifyOAuth1Request(X_REQUEST, X_SECRETS);
    expect(result.ok).to.equal(true);
    expect(result.oauth.oauth_signature).to.equal('tnnArxj06cWHq44gCs1OSKk/jLY=');
  });

  it('refuses the same signature written another way (padding dropped, URL-safe alphabet, trailing text)', () => {
    for (const signature of ['tnnArxj06cWHq44gCs1OSKk%2FjLY', 'tnnArxj06cWHq44gCs1OSKk_jLY%3D', 'tnnArxj06cWHq44gCs1OSKk%2FjLY%3DAAAA', 'tnnA%20rxj06cWHq44gCs1OSKk%2FjLY%3D']) {
      const result = verifyOAuth1Request(withHeader((h) => h.replace('tnnArxj06cWHq44gCs1OSKk%2FjLY%3D', signature)), X_SECRETS);
      expect(result, signature).to.include({ ok: false, reason: 'bad_signature' });
    }
  });

  it('refuses a header with a parameter twice (RFC 5849 section 3.1)', () => {
    const result = verifyOAuth1Request(withHeader((h) => `${h}, oauth_nonce="other"`), X_SECRETS);
    expect(result).to.include({ ok: false, reason: 'bad_header' });
    expect(parseOAuthHeader('OAuth a="1", a="2"')).to.equal(undefined);
  });

  it('refuses a malformed percent-encoding instead of throwing', () => {
    expect(parseOAuthHeader('OAuth oauth_nonce="%E0%A4%A"')).to.equal(undefined);
    const result = verifyOAuth1Request(withHeader((h) => h.replace('oauth_nonce="kYjz', 'oauth_nonce="%zzkYjz')), X_SECRETS);
    expect(result).to.include({ ok: false, reason: 'bad_header' });
  });

  it('refuses an oauth_version other than 1.0, and accepts none', () => {
    expect(verifyOAuth1Request(withHeader((h) => h.replace('oauth_version="1.0"', 'oauth_version="2.0"')), X_SECRETS)).to.include({ ok: false, reason: 'bad_header' });
    // Dropped from a header signed with it: the signature no longer matches.
    expect(verifyOAuth1Request(withHeader((h) => h.replace(', oauth_version="1.0"', '')), X_SECRETS)).to.include({ ok: false, reason: 'bad_signature' });
    // Signed without it (optional, RFC 5849 section 3.1): X's base string without its oauth_version pair, by hand.
    const baseString =
      'POST&https%3A%2F%2Fapi.twitter.com%2F1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue%26oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog' +
      '%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958' +
      '%26oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb' +
      '%26status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521';
    const key = 'kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw&LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE';
    const signature = encodeURIComponent(createHmac('sha1', key).update(baseString).digest('base64'));
    const unversioned = withHeader((h) => h.replace(', oauth_version="1.0"', '').replace('tnnArxj06cWHq44gCs1OSKk%2FjLY%3D', signature));
    expect(verifyOAuth1Request(unversioned, X_SECRETS)).to.include({ ok: true });
  });

  it('refuses anything but name="value" pairs separated by commas (RFC 5849 section 3.5.1)', () => {
    for (const header of [
      'OAuth a="1" b="2"',
      'OAuth a="1", junk b="2"',
      'OAuth a="1", junk, b="2"',
      'OAuth a="1",, b="2"',
      'OAuth a="1",',
      'OAuth a="1"; b="2"',
      'OAuth a="1"b="2"',
      'OAuth a=1, b="2"',
      'OAuth a="1", b="2" junk',
      'OAuth ',
      'OAuthrealm="x", a="1"',
    ]) {
      expect(parseOAuthHeader(header), header).to.equal(undefined);
    }
    expect(parseOAuthHeader('OAuth a="1",b="2"')).to.deep.equal({ a: '1', b: '2' });
    expect(parseOAuthHeader('oauth \ta = "1" ,\t b="%20"  ')).to.deep.equal({ a: '1', b: ' ' });
    expect(parseOAuthHeader('OAuth realm="Example", a="1"')).to.deep.equal({ a: '1' });
    expect(verifyOAuth1Request(withHeader((h) => h.replace(', oauth_nonce', ' oauth_nonce')), X_SECRETS)).to.include({ ok: false, reason: 'bad_header' });
  });

  it('parses a hostile header in linear time', function () {
    this.timeout(2000); // mocha's default: the unanchored regex this parser replaced took seconds here
    for (const header of [`OAuth ${'a'.repeat(100_000)}`, `OAuth ${'a="1",'.repeat(20_000)}a`, `OAuth a="${'='.repeat(100_000)}`, `OAuth ${'a '.repeat(50_000)}`]) {
      expect(parseOAuthHeader(header), header.slice(0, 20)).to.equal(undefined);
    }
    expect(verifyOAuth1Request({ ...X_REQUEST, authorization: `OAuth ${'a'.repeat(100_000)}` }, X_SECRETS)).to.include({ ok: false, reason: 'bad_header' });
  });

  it('refuses an oauth_* parameter sent in more than one place (RFC 5849 sections 3.1 and 3.5)', () => {
    const duplicates: OAuth1RequestToVerify[] = [
      // In the header and the query, or the header and the body.
      { ...X_REQUEST, url: `${X_REQUEST.url}&oauth_nonce=kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg` },
      { ...X_REQUEST, body: `${X_REQUEST.body}&oauth_token=370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb` },
      // oauth_signature too: section 3.4.1.3.1 leaves it out of the base string wherever it is, and it is still sent twice.
      { ...X_REQUEST, url: `${X_REQUEST.url}&oauth_signature=tnnArxj06cWHq44gCs1OSKk%2FjLY%3D` },
      // Not in the header, but in the query and the body.
      { ...withHeader((h) => h.replace(', oauth_version="1.0"', '')), url: `${X_REQUEST.url}&oauth_version=1.0`, body: `${X_REQUEST.body}&oauth_version=1.0` },
      { ...X_REQUEST, url: `${X_REQUEST.url}&oauth_callback=oob&oauth_callback=oob` },
    ];
    for (const request of duplicates) expect(verifyOAuth1Request(request, X_SECRETS), `${request.url} ${request.body}`).to.include({ ok: false, reason: 'duplicate_parameter' });
    // Other parameters may repeat (section 3.4.1.3.2 sorts them by value); this one is not signed.
    expect(verifyOAuth1Request({ ...X_REQUEST, body: `${X_REQUEST.body}&include_entities=true` }, X_SECRETS)).to.include({ ok: false, reason: 'bad_signature' });
    // An oauth_* parameter in the query alone is signed like any other: X's published request with oauth_version moved there.
    const moved = verifyOAuth1Request({ ...withHeader((h) => h.replace(', oauth_version="1.0"', '')), url: `${X_REQUEST.url}&oauth_version=1.0` }, X_SECRETS);
    expect(moved.ok).to.equal(true);
  });

  it('tells an unknown consumer from an unknown token', () => {
    expect(verifyOAuth1Request(X_REQUEST, { ...X_SECRETS, consumerSecret: () => undefined })).to.include({ ok: false, reason: 'unknown_consumer' });
    expect(verifyOAuth1Request(X_REQUEST, { ...X_SECRETS, tokenSecret: () => undefined })).to.include({ ok: false, reason: 'unknown_token' });
    expect(verifyOAuth1Request({ ...X_REQUEST, authorization: undefined }, X_SECRETS)).to.include({ ok: false, reason: 'missing_header' });
  });
});
