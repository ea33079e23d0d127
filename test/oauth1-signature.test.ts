import { expect } from 'chai';
import {
  baseStringURI,
  createNonce,
  formEncodeOAuth,
  hmacSha1Signature,
  normalizeParameters,
  oauth1AuthorizationHeader,
  percentEncode,
  signatureBaseString,
  signOAuth1Request,
  signOwnRequest,
  type OAuthParamList,
} from '../lib/oauth1-signature';
import fc from 'fast-check';
import { hostileText } from './support/fuzz-arbitraries';
import { parseOAuthHeader, rebuildBaseString, verifyOAuth1Request } from '../lib/testing/oauth1-verifier';

// ---------------------------------------------------------------- published vectors (test data)

/**
 * X doc "Creating a signature" (docs.x.com/fundamentals/authentication/oauth-1-0a/creating-a-signature,
 * formerly developer.twitter.com/en/docs/authentication/oauth-1-0a/creating-a-signature): the request,
 * credentials, nonce and timestamp of the page, the base string and signing key it prints, and its
 * signature, as the page printed them for https://api.twitter.com. The page now prints the same
 * request to https://api.x.com, with that host in its base string and its own signature
 * (X_CREATING_A_SIGNATURE_API_X, below): the host is part of what is signed, so both are right.
 */
const X_CREATING_A_SIGNATURE = {
  method: 'POST',
  url: 'https://api.twitter.com/1.1/statuses/update.json?include_entities=true',
  status: 'Hello Ladies + Gentlemen, a signed OAuth request!',
  consumerKey: 'xvz1evFS4wEEPTGEFPHBog',
  consumerSecret: 'kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw',
  token: '370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb',
  tokenSecret: 'LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE',
  nonce: 'kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg',
  timestamp: 1318622958,
  /** "Creating the signature base string": the output. */
  baseString:
    'POST&https%3A%2F%2Fapi.twitter.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue%26oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog' +
    '%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958' +
    '%26oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version%3D1.0' +
    '%26status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521',
  /** "Calculating the signature": the output. */
  signature: 'hCtSmYh+iHYCEqBWrE7C7hYmtUk=',
};

/** The same page as X prints it now (docs.x.com, 2026): the request to https://api.x.com, its base string and signature. */
const X_CREATING_A_SIGNATURE_API_X = {
  url: 'https://api.x.com/1.1/statuses/update.json?include_entities=true',
  baseString: X_CREATING_A_SIGNATURE.baseString.replace('api.twitter.com', 'api.x.com'),
  signature: 'Ls93hJiZbQ3akF3HF3x1Bz8/zU4=',
};

/**
 * X doc "Authorizing a request" (docs.x.com/fundamentals/authentication/oauth-1-0a/authorizing-a-request):
 * the header string the page builds ("Building the header string"), from the same credentials,
 * nonce and timestamp. Its signature, tnnArxj06cWHq44gCs1OSKk/jLY=, is the one of the page's original
 * request to the v1 path https://api.twitter.com/1/statuses/update.json (the page's text has since
 * moved to /1.1/, its signature was not recomputed); it is signed here at that path.
 */
const X_AUTHORIZING_A_REQUEST = {
  url: 'https://api.twitter.com/1/statuses/update.json?include_entities=true',
  header:
    'OAuth oauth_consumer_key="xvz1evFS4wEEPTGEFPHBog", oauth_nonce="kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg", ' +
    'oauth_signature="tnnArxj06cWHq44gCs1OSKk%2FjLY%3D", oauth_signature_method="HMAC-SHA1", oauth_timestamp="1318622958", ' +
    'oauth_token="370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb", oauth_version="1.0"',
};

/**
 * RFC 5849 section 3.4.1.1 (the example request), 3.4.1.3.1 (its parameter table), 3.4.1.3.2
 * (the normalized parameters) and the base string printed at the end of 3.4.1.1. The `realm`
 * of the example's header is not a signed parameter (section 3.4.1.3.1).
 */
const RFC5849_EXAMPLE = {
  method: 'POST',
  url: 'http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b',
  body: 'c2&a3=2+q',
  authorization:
    'OAuth realm="Example", oauth_consumer_key="9djdj82h48djs9d2", oauth_token="kkk9d7dh3k39sjv7", oauth_signature_method="HMAC-SHA1", ' +
    'oauth_timestamp="137131201", oauth_nonce="7d8f3e4a", oauth_signature="bYT5CMsGcbgUdFHObYMEfcx6bsw%3D"',
  /** Section 3.4.1.3.1: the decoded parameters. */
  params: [
    ['b5', '=%3D'],
    ['a3', 'a'],
    ['c@', ''],
    ['a2', 'r b'],
    ['oauth_consumer_key', '9djdj82h48djs9d2'],
    ['oauth_token', 'kkk9d7dh3k39sjv7'],
    ['oauth_signature_method', 'HMAC-SHA1'],
    ['oauth_timestamp', '137131201'],
    ['oauth_nonce', '7d8f3e4a'],
    ['c2', ''],
    ['a3', '2 q'],
  ] as OAuthParamList,
  normalized:
    'a2=r%20b&a3=2%20q&a3=a&b5=%3D%253D&c%40=&c2=&oauth_consumer_key=9djdj82h48djs9d2&oauth_nonce=7d8f3e4a' +
    '&oauth_signature_method=HMAC-SHA1&oauth_timestamp=137131201&oauth_token=kkk9d7dh3k39sjv7',
  baseString:
    'POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D' +
    '%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1' +
    '%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7',
};

describe('OAuth 1.0a signing', () => {
  describe('X "Creating a signature"', () => {
    const v = X_CREATING_A_SIGNATURE;
    const common = { method: v.method, consumerKey: v.consumerKey, consumerSecret: v.consumerSecret, token: v.token, tokenSecret: v.tokenSecret, nonce: v.nonce, timestamp: v.timestamp };

    it('builds the page\'s signature base string and signature', () => {
      const signed = signOAuth1Request({ ...common, url: v.url, params: { status: v.status } });
      expect(signed.baseString).to.equal(v.baseString);
      expect(signed.signature).to.equal(v.signature);
    });

    it('signs the page\'s base string with the page\'s signing key to the page\'s signature', () => {
      expect(hmacSha1Signature(v.baseString, v.consumerSecret, v.tokenSecret)).to.equal(v.signature);
    });

    it('puts the signature, percent-encoded, into the header oauth1AuthorizationHeader returns', () => {
      const header = oauth1AuthorizationHeader({ ...common, url: v.url, params: { status: v.status } });
      expect(header).to.include('oauth_signature="hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D"');
    });

    it('builds the page\'s base string and signature as X prints them now, for api.x.com', () => {
      const now = X_CREATING_A_SIGNATURE_API_X;
      const signed = signOAuth1Request({ ...common, url: now.url, params: { status: v.status } });
      expect(signed.baseString).to.equal(now.baseString).and.include('https%3A%2F%2Fapi.x.com%2F1.1%2Fstatuses%2Fupdate.json');
      expect(signed.signature).to.equal(now.signature);
      expect(hmacSha1Signature(now.baseString, v.consumerSecret, v.tokenSecret)).to.equal(now.signature);
    });

    it('signs a query parameter and the same parameter in the body alike', () => {
      const inBody = signOAuth1Request({ ...common, url: v.url.replace(/\?.*$/, ''), params: { include_entities: 'true', status: v.status } });
      expect(inBody.signature).to.equal(v.signature);
    });
  });

  describe('X "Authorizing a request"', () => {
    it('produces the page\'s header string exactly', () => {
      const v = X_CREATING_A_SIGNATURE;
      const header = oauth1AuthorizationHeader({
        method: 'POST',
        url: X_AUTHORIZING_A_REQUEST.url,
        params: { status: v.status },
        consumerKey: v.consumerKey,
        consumerSecret: v.consumerSecret,
        token: v.token,
        tokenSecret: v.tokenSecret,
        nonce: v.nonce,
        timestamp: v.timestamp,
      });
      expect(header).to.equal(X_AUTHORIZING_A_REQUEST.header);
    });
  });

  describe('RFC 5849 section 3.4.1 example', () => {
    const v = RFC5849_EXAMPLE;

    it('collects the parameters of section 3.4.1.3.1 from the query and the form body', () => {
      const collected: OAuthParamList = [...new URL(v.url).searchParams, ...new URLSearchParams(v.body)];
      const expected = v.params.filter(([k]) => !k.startsWith('oauth_'));
      expect(collected).to.have.deep.members(expected);
    });

    it('normalizes them as section 3.4.1.3.2 prints', () => {
      expect(normalizeParameters(v.params)).to.equal(v.normalized);
    });

    it('builds the base string section 3.4.1.1 prints', () => {
      expect(signatureBaseString(v.method, v.url, v.params)).to.equal(v.baseString);
    });

    it('agrees with the independent verifier, which leaves out realm', () => {
      const oauth = parseOAuthHeader(v.authorization)!;
      expect(oauth).to.not.have.property('realm');
      const params: OAuthParamList = [
        ...Object.entries(oauth).filter(([k]) => k !== 'oauth_signature'),
        ...new URL(v.url).searchParams,
        ...new URLSearchParams(v.body),
      ];
      expect(rebuildBaseString(v.method, v.url, params)).to.equal(v.baseString);
    });

    it('signs the example request with the RFC\'s base string plus the oauth_version=1.0 X documents', () => {
      // The RFC's example sends no oauth_version (optional, section 3.1); X's requests carry it, so the signer
      // always adds it, and "oauth_version" sorts after "oauth_token": the base string gains exactly this tail.
      const body = [...new URLSearchParams(v.body)];
      const signed = signOAuth1Request({
        method: v.method,
        url: v.url,
        params: body,
        consumerKey: '9djdj82h48djs9d2',
        consumerSecret: 'j49sk3j29djd',
        token: 'kkk9d7dh3k39sjv7',
        tokenSecret: 'dh893hdasih9',
        nonce: '7d8f3e4a',
        timestamp: 137131201,
      });
      expect(signed.baseString).to.equal(`${v.baseString}%26oauth_version%3D1.0`);
    });

    it('builds the base string URIs of section 3.4.1.2', () => {
      expect(baseStringURI('HTTP://EXAMPLE.COM:80/r%20v/X?id=123')).to.equal('http://example.com/r%20v/X');
      expect(baseStringURI('https://www.example.net:8080/?q=1')).to.equal('https://www.example.net:8080/');
    });
  });

  describe('percent-encoding (RFC 5849 section 3.6)', () => {
    const table: Array<[string, string]> = [
      ['AZaz09-._~', 'AZaz09-._~'],
      [' ', '%20'],
      ['+', '%2B'],
      ["!*'()", '%21%2A%27%28%29'],
      [':/?#[]@$&,;=', '%3A%2F%3F%23%5B%5D%40%24%26%2C%3B%3D'],
      ['%', '%25'],
      ['é', '%C3%A9'],
      ['☃', '%E2%98%83'],
      ['😀', '%F0%9F%98%80'],
    ];
    for (const [input, encoded] of table) {
      it(`encodes ${JSON.stringify(input)} as ${encoded}`, () => {
        expect(percentEncode(input)).to.equal(encoded);
      });
    }
  });

  describe('header and nonce', () => {
    it('lists oauth_* parameters sorted, quoted and encoded, with a fresh nonce and the current time', () => {
      const before = Math.floor(Date.now() / 1000);
      const a = oauth1AuthorizationHeader({ method: 'POST', url: 'https://api.x.com/oauth/request_token', params: { oauth_callback: 'https://app.example/cb?a=1' }, consumerKey: 'k', consumerSecret: 's' });
      const b = oauth1AuthorizationHeader({ method: 'POST', url: 'https://api.x.com/oauth/request_token', consumerKey: 'k', consumerSecret: 's' });
      const after = Math.floor(Date.now() / 1000);
      const names = [...a.matchAll(/(\w+)="[^"]*"/g)].map((m) => m[1]);
      expect(names).to.deep.equal(['oauth_callback', 'oauth_consumer_key', 'oauth_nonce', 'oauth_signature', 'oauth_signature_method', 'oauth_timestamp', 'oauth_version']);
      expect(a).to.include('oauth_callback="https%3A%2F%2Fapp.example%2Fcb%3Fa%3D1"');
      const pa = parseOAuthHeader(a)!;
      const pb = parseOAuthHeader(b)!;
      expect(pa.oauth_nonce).to.match(/^[0-9a-f]{32}$/).and.not.equal(pb.oauth_nonce);
      expect(Number(pa.oauth_timestamp)).to.be.within(before, after);
    });

    it('makes 32-hex-character nonces that do not repeat', () => {
      const nonces = new Set(Array.from({ length: 1000 }, () => createNonce()));
      expect(nonces.size).to.equal(1000);
      for (const n of nonces) expect(n).to.match(/^[0-9a-f]{32}$/);
    });

    it('form-encodes a body the way it was signed', () => {
      expect(formEncodeOAuth([['status', 'a b+c'], ['x', '~*']])).to.equal('status=a%20b%2Bc&x=~%2A');
    });
  });

  describe('bad arguments', () => {
    const ok = { method: 'POST', url: 'https://api.x.com/x', consumerKey: 'key', consumerSecret: 'consumer-secret-value', token: 'token-value', tokenSecret: 'token-secret-value' };
    const bad: Array<[string, Record<string, unknown>, string]> = [
      ['an empty method', { method: '' }, 'method'],
      ['a relative url', { url: '/oauth/request_token' }, 'url'],
      ['no consumerKey', { consumerKey: undefined }, 'consumerKey'],
      ['a consumerSecret that is not a string', { consumerSecret: 1 }, 'consumerSecret'],
      ['an empty token', { token: '' }, 'token'],
      ['a tokenSecret that is not a string', { tokenSecret: null }, 'tokenSecret'],
    ];
    for (const [what, change, name] of bad) {
      it(`throws a TypeError naming ${name} for ${what}, quoting no secret`, () => {
        let thrown: unknown;
        try {
          oauth1AuthorizationHeader({ ...ok, ...change } as typeof ok);
        } catch (err) {
          thrown = err;
        }
        expect(thrown).to.be.instanceOf(TypeError);
        const message = (thrown as TypeError).message;
        expect(message).to.include(`\`${name}\``);
        for (const secret of ['consumer-secret-value', 'token-value', 'token-secret-value']) expect(message).to.not.include(secret);
      });
    }
  });

  describe('hostile arguments', () => {
    const ok = { method: 'POST', url: 'https://api.x.com/x', consumerKey: 'key', consumerSecret: 'consumer-secret-value', token: 'token-value', tokenSecret: 'token-secret-value' };

    function thrownBy(fn: () => unknown): TypeError {
      let thrown: unknown;
      try {
        fn();
      } catch (err) {
        thrown = err;
      }
      expect(thrown).to.be.instanceOf(TypeError);
      const message = (thrown as TypeError).message;
      for (const secret of ['consumer-secret-value', 'token-value', 'token-secret-value', 'spoofed-value']) expect(message).to.not.include(secret);
      return thrown as TypeError;
    }

    for (const name of ['oauth_consumer_key', 'oauth_signature', 'oauth_nonce', 'oauth_timestamp', 'oauth_token', 'oauth_signature_method', 'oauth_version']) {
      it(`refuses ${name} among params (object or list) and in the url's query: the signer sets it`, () => {
        expect(thrownBy(() => oauth1AuthorizationHeader({ ...ok, params: { [name]: 'spoofed-value' } })).message).to.include(`\`${name}\``).and.include('sets');
        expect(thrownBy(() => oauth1AuthorizationHeader({ ...ok, params: [['status', 'hi'], [name, 'spoofed-value']] })).message).to.include('`params[1]`');
        expect(thrownBy(() => oauth1AuthorizationHeader({ ...ok, url: `https://api.x.com/x?${name}=spoofed-value` })).message).to.include('the query of `url`');
      });
    }

    it('accepts oauth_callback and oauth_verifier once each, in the header, and refuses a repeated one', () => {
      const header = oauth1AuthorizationHeader({ ...ok, params: [['oauth_verifier', 'v1'], ['oauth_callback', 'oob']] });
      expect(header).to.include('oauth_verifier="v1"').and.include('oauth_callback="oob"');
      expect(header.match(/oauth_signature=/g)).to.have.length(1);
      expect(thrownBy(() => oauth1AuthorizationHeader({ ...ok, params: [['oauth_verifier', 'v1'], ['oauth_verifier', 'v2']] })).message).to.match(/`oauth_verifier` twice/);
      expect(thrownBy(() => oauth1AuthorizationHeader({ ...ok, url: 'https://api.x.com/x?oauth_callback=a', params: { oauth_callback: 'b' } })).message).to.match(/`oauth_callback` twice/);
    });

    const bad: Array<[string, unknown, RegExp]> = [
      ['no options at all', undefined, /needs an options object/],
      ['null options', null, /needs an options object/],
      ['options that are an array', [], /needs an options object/],
      ['params: [null]', { ...ok, params: [null] }, /`params\[0\]` to be a \[name, value\] pair of strings/],
      ['a params pair with a number', { ...ok, params: [['status', 1]] }, /`params\[0\]`/],
      ['a params pair of three', { ...ok, params: [['a', 'b', 'c']] }, /`params\[0\]`/],
      ['a params value that is a number', { ...ok, params: { count: 5 } }, /`params\.count` to be a string/],
      ['a params value that is an object', { ...ok, params: { q: { nested: 'x' } } }, /`params\.q`/],
      ['params that are a string', { ...ok, params: 'status=hi' }, /`params` to be an object/],
      ['params that are a Map', { ...ok, params: new Map([['a', 'b']]) }, /`params` to be an object/],
      ['a method that is not a token', { ...ok, method: 'PO ST' }, /`method`/],
      ['a method that is a number', { ...ok, method: 1 }, /`method`/],
      ['a url that is not http(s)', { ...ok, url: 'ftp://api.x.com/x' }, /`url`/],
      ['a url that is not a string', { ...ok, url: new URL('https://api.x.com/x') }, /`url`/],
      ['an empty nonce', { ...ok, nonce: '' }, /`nonce`/],
      ['a nonce with CR/LF', { ...ok, nonce: 'a\r\nb' }, /`nonce`/],
      ['a negative timestamp', { ...ok, timestamp: -1 }, /`timestamp`/],
      ['a fractional timestamp', { ...ok, timestamp: 1.5 }, /`timestamp`/],
      ['a timestamp that is not digits', { ...ok, timestamp: '12a' }, /`timestamp`/],
      ['a timestamp that is an object', { ...ok, timestamp: {} }, /`timestamp`/],
    ];
    for (const [what, options, message] of bad) {
      it(`throws a TypeError naming the argument for ${what}`, () => {
        expect(thrownBy(() => oauth1AuthorizationHeader(options as typeof ok)).message).to.match(message).and.match(/^passport-x: oauth1AuthorizationHeader\(\)/);
      });
    }
  });

  describe('cross-check against the independent verifier (lib/testing/oauth1-verifier.ts)', () => {
    // A small seeded generator (mulberry32), so that a failure can be replayed.
    function rng(seed: number): () => number {
      let a = seed >>> 0;
      return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
    }
    // Unreserved, reserved and sub-delimiter characters, '%', '+', space, and multi-byte characters (2, 3 and 4 bytes in UTF-8).
    const ALPHABET = [...'aZ09-._~!*\'()[]:/?#@$&,;=%+ "<>\\^`{|}', 'é', 'ß', '€', '☃', '中', '😀', '𝄞'];

    function text(random: () => number, min: number, max: number): string {
      const length = min + Math.floor(random() * (max - min + 1));
      let out = '';
      for (let i = 0; i < length; i++) out += ALPHABET[Math.floor(random() * ALPHABET.length)];
      return out;
    }

    const CASES = 300;
    it(`agrees on the base string and accepts every signature, over ${CASES} random requests`, () => {
      const random = rng(0x5849);
      for (let i = 0; i < CASES; i++) {
        const method = random() < 0.5 ? 'GET' : 'POST';
        const url = new URL(`https://api.x.com/${encodeURIComponent(text(random, 1, 8))}/${i}`);
        const query: OAuthParamList = Array.from({ length: Math.floor(random() * 4) }, () => [`q${text(random, 0, 4)}`, text(random, 0, 10)]);
        for (const [k, v] of query) url.searchParams.append(k, v);
        const body: OAuthParamList = method === 'POST' ? Array.from({ length: Math.floor(random() * 4) }, () => [`b${text(random, 0, 4)}`, text(random, 0, 10)]) : [];
        const consumerKey = `ck${text(random, 1, 8)}`;
        const consumerSecret = text(random, 0, 16);
        const withToken = random() < 0.7;
        const token = withToken ? `tk${text(random, 1, 8)}` : undefined;
        const tokenSecret = withToken ? text(random, 0, 16) : undefined;
        const context = JSON.stringify({ i, method, url: url.href, body, consumerSecret, tokenSecret });

        const signed = signOAuth1Request({ method, url: url.href, params: body, consumerKey, consumerSecret, token, tokenSecret });
        const verification = verifyOAuth1Request(
          { method, url: url.href, authorization: signed.header, body: formEncodeOAuth(body), contentType: 'application/x-www-form-urlencoded' },
          { consumerSecret: (k) => (k === consumerKey ? consumerSecret : undefined), tokenSecret: (t) => (t === token ? tokenSecret : undefined) },
        );
        expect(verification.ok, context).to.equal(true);
        if (!verification.ok) continue;
        expect(rebuildBaseString(method, url.href, verification.params), context).to.equal(signed.baseString);
      }
    });

    it(`sends a caller's nonce and extra oauth_* parameters as signed, over ${CASES} random requests`, () => {
      // The signer encodes each protocol parameter once, for the signature and the header alike: a value
      // with reserved or multi-byte characters must reach the verifier as given, and verify.
      const random = rng(0x1a5);
      for (let i = 0; i < CASES; i++) {
        const url = `https://api.x.com/oauth/${i % 2 === 0 ? 'request_token' : 'access_token'}`;
        const nonce = `n${text(random, 0, 12)}`;
        const extra: OAuthParamList = i % 2 === 0 ? [['oauth_callback', `https://app.example/cb?${text(random, 0, 10)}`]] : [['oauth_verifier', text(random, 1, 10)]];
        const consumerKey = `ck${text(random, 0, 8)}`;
        const token = i % 2 === 0 ? undefined : `tk${text(random, 0, 8)}`;
        const context = JSON.stringify({ i, nonce, extra, consumerKey, token });
        const signed = signOAuth1Request({ method: 'POST', url, params: extra, consumerKey, consumerSecret: 'cs', token, tokenSecret: token && 'ts', nonce, timestamp: 1_700_000_000 + i });
        const verification = verifyOAuth1Request(
          { method: 'POST', url, authorization: signed.header },
          { consumerSecret: (k) => (k === consumerKey ? 'cs' : undefined), tokenSecret: (t) => (t === token ? 'ts' : undefined) },
        );
        expect(verification.ok, context).to.equal(true);
        expect(verification.oauth, context).to.include({ oauth_nonce: nonce, oauth_consumer_key: consumerKey, [extra[0]![0]]: extra[0]![1], oauth_timestamp: String(1_700_000_000 + i) });
        if (token !== undefined) expect(verification.oauth.oauth_token, context).to.equal(token);
        if (!verification.ok) continue;
        expect(rebuildBaseString('POST', url, verification.params), context).to.equal(signed.baseString);
      }
    });

    // With 6 protocol and 2 query parameters: 10, 16 and 17 (either side of the signer's insertion sort's limit) and 68 in all.
    for (const count of [2, 8, 9, 60]) {
      it(`sorts ${count} form parameters (${count + 8} in all) by name then value, repeated names and prefixes included, as the independent verifier does`, () => {
        const random = rng(count);
        // Names that sort differently encoded and raw ('a' < 'a-b' < 'a.b' < 'a_b' < 'a~'), repeated, in shuffled order.
        const names = ['a', 'a-b', 'a.b', 'a_b', 'a~', 'b', 'é', 'A', '0', 'a b', 'a%'];
        const body: OAuthParamList = Array.from({ length: count }, () => [names[Math.floor(random() * names.length)]!, text(random, 0, 4)]);
        const url = 'https://api.x.com/1.1/statuses/update.json?z=1&a=2';
        const signed = signOAuth1Request({ method: 'POST', url, params: body, consumerKey: 'ck', consumerSecret: 'cs', token: 'tk', tokenSecret: 'ts', nonce: 'n', timestamp: 1 });
        const oauth = parseOAuthHeader(signed.header)!;
        const params: OAuthParamList = [...Object.entries(oauth).filter(([k]) => k !== 'oauth_signature'), ...new URL(url).searchParams, ...body];
        expect(signed.baseString).to.equal(rebuildBaseString('POST', url, params));
        // The header lists its protocol parameters sorted too.
        const order = [...signed.header.matchAll(/([a-z_]+)="/g)].map((m) => m[1]);
        expect(order).to.deep.equal([...order].sort());
      });
    }

    it('is not vacuous: the verifier refuses a changed body, secret or method', () => {
      const url = 'https://api.x.com/1.1/statuses/update.json';
      const args = { method: 'POST', url, params: { status: 'héllo wörld ☃' }, consumerKey: 'ck', consumerSecret: 'cs', token: 'tk', tokenSecret: 'ts' };
      const header = oauth1AuthorizationHeader(args);
      const secrets = (cs: string, ts: string) => ({ consumerSecret: () => cs, tokenSecret: () => ts });
      const form = 'application/x-www-form-urlencoded';
      const good = formEncodeOAuth([['status', 'héllo wörld ☃']]);
      expect(verifyOAuth1Request({ method: 'POST', url, authorization: header, body: good, contentType: form }, secrets('cs', 'ts')).ok).to.equal(true);
      expect(verifyOAuth1Request({ method: 'POST', url, authorization: header, body: `${good}!`, contentType: form }, secrets('cs', 'ts')).ok).to.equal(false);
      expect(verifyOAuth1Request({ method: 'POST', url, authorization: header, body: good, contentType: form }, secrets('cs', 'other')).ok).to.equal(false);
      expect(verifyOAuth1Request({ method: 'GET', url, authorization: header, body: good, contentType: form }, secrets('cs', 'ts')).ok).to.equal(false);
    });
  });
});

describe('oauth1-signature: the header of passport-x\'s own requests', () => {
  // sendToX does not scan these headers for control characters (XHttpRequest.encodedHeaders): this
  // is why it need not. Whatever the consumer key, token, callback, verifier or body holds, the header
  // is printable ASCII, or signing refuses the input with a TypeError (a lone surrogate).
  it('is printable ASCII for any credentials and parameters, hostile ones included', () => {
    const PRINTABLE_HEADER = /^OAuth [\x20-\x7e]+$/;
    // Hostile text in well-formed Unicode (lone surrogates as U+FFFD): signing refuses a lone
    // surrogate anywhere, so most inputs would never reach a header otherwise.
    const text = hostileText.map((t) => (t as string & { toWellFormed(): string }).toWellFormed());
    let signed = 0;
    fc.assert(
      fc.property(
        fc.record({
          consumerKey: text.filter((t) => t !== ''),
          consumerSecret: text,
          token: fc.option(text.filter((t) => t !== ''), { nil: undefined }),
          tokenSecret: text,
          callback: fc.option(text, { nil: undefined }),
          verifier: fc.option(text, { nil: undefined }),
          body: fc.array(fc.tuple(text, text), { maxLength: 3 }),
          method: fc.constantFrom('GET' as const, 'POST' as const),
          query: fc.constantFrom('', '?include_email=true&skip_status=1', '?q=%0D%0A'),
        }),
        (input) => {
          const oauth: OAuthParamList = [];
          if (input.callback !== undefined) oauth.push(['oauth_callback', input.callback]);
          if (input.verifier !== undefined) oauth.push(['oauth_verifier', input.verifier]);
          let header: string;
          try {
            header = signOwnRequest(input.method, `https://api.x.com/oauth/request_token${input.query}`, input.consumerKey, input.consumerSecret, input.token, input.tokenSecret, oauth, input.body);
          } catch (err) {
            expect(err).to.be.instanceOf(TypeError);
            return;
          }
          signed += 1;
          expect(header).to.match(PRINTABLE_HEADER);
        },
      ),
      { numRuns: 2000, seed: 0x5ec7 },
    );
    // Nearly all are signed (a body parameter named oauth_* is refused): the property is about headers, not about refusals.
    expect(signed).to.be.above(1500);
  });
});
