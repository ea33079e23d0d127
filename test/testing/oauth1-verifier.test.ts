// The independent OAuth 1.0a checker of passport-x/testing, against X's published header
// (X doc "Authorizing a request"), and refusing what X refuses.
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
    expect(verifyOAuth1Request(withHeader((h) => h.replace(', oauth_version="1.0"', '')), X_SECRETS)).to.include({ ok: false, reason: 'bad_signature' });
  });

  it('tells an unknown consumer from an unknown token', () => {
    expect(verifyOAuth1Request(X_REQUEST, { ...X_SECRETS, consumerSecret: () => undefined })).to.include({ ok: false, reason: 'unknown_consumer' });
    expect(verifyOAuth1Request(X_REQUEST, { ...X_SECRETS, tokenSecret: () => undefined })).to.include({ ok: false, reason: 'unknown_token' });
    expect(verifyOAuth1Request({ ...X_REQUEST, authorization: undefined }, X_SECRETS)).to.include({ ok: false, reason: 'missing_header' });
  });
});
