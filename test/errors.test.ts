import { expect } from 'chai';
import { inspect } from 'node:util';
import {
  XAPIError,
  XCreditsDepletedError,
  XError,
  XErrorCode,
  XOAuthError,
  XMissingScopesError,
  XRateLimitError,
  XRequestError,
  XSessionError,
  XTokenStoreError,
  XUsageCapError,
  errorFromResponse,
  parseRateLimit,
  redactSecrets,
  type XRawResponse,
} from '../lib/errors';
import { hasControlCharacter, hasLoneSurrogate, redactCredentials, redactError, redactedAnswer } from '../lib/errors';
import { expectNoSecrets, secretSpellings } from './support/assertions';
import { MAX_RESPONSE_BYTES } from '../lib/http';

function answer(status: number, body: string, headers: Record<string, string> = {}): XRawResponse {
  return { status, headers: new Headers(headers), body };
}

const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };

/** `text` with every character written by `escape` (from its code): how X might echo a secret escaped. */
function escapedEvery(text: string, escape: (code: number) => string): string {
  return [...text].map((ch) => escape(ch.codePointAt(0)!)).join('');
}

/** `text` with every `%XX` octet decoded, as a reader of a URL would. */
function decodedPercent(text: string): string {
  return text.replace(/%([0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** `text` with XML's character references and CDATA sections decoded, as a reader would. */
function decodedXML(text: string): string {
  return text
    .replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, '$1')
    .replace(/&#(\d+);/g, (_m, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_m, n: string) => String.fromCodePoint(parseInt(n, 16)));
}

/** `text` parsed as JSON and written out again (its escapes undone), or itself when it is no JSON. */
function decodedJSON(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return text;
  }
}

describe('errors', () => {
  describe('errorFromResponse: an OAuth 2.0 error body (RFC 6749 section 5.2)', () => {
    it('becomes an XOAuthError with error, description and uri', () => {
      const body = JSON.stringify({ error: 'invalid_request', error_description: 'Value passed for the token was invalid.', error_uri: 'https://docs.x.com/e' });
      const err = errorFromResponse(answer(400, body, JSON_TYPE), 'refresh the access token');
      expect(err).to.be.instanceOf(XOAuthError).and.instanceOf(XError);
      expect(err).to.include({ code: XErrorCode.OAUTH_ERROR, status: 400, error: 'invalid_request', description: 'Value passed for the token was invalid.', uri: 'https://docs.x.com/e' });
      expect(err.message).to.equal(
        'X refused to refresh the access token (HTTP 400): invalid_request (Value passed for the token was invalid.). ' +
          'A parameter is missing or invalid; X also answers this for a code or refresh token that was already used, expired or revoked: check the request, or start the sign-in again.',
      );
    });

    const hints: Array<[string, RegExp]> = [
      ['invalid_grant', /already used, expired or revoked: start the sign-in again/],
      ['invalid_client', /Check the client ID, client secret and the client type/],
      ['unauthorized_client', /Check the client ID, client secret and the client type/],
      ['unsupported_token_type', /does not revoke this kind of token/],
      ['temporarily_unavailable', /See RFC 6749 section 5\.2/],
      // Names of Object.prototype members must not be taken for hints.
      ['constructor', /See RFC 6749 section 5\.2/],
      ['__proto__', /See RFC 6749 section 5\.2/],
    ];
    for (const [error, hint] of hints) {
      it(`says what to do about ${error}`, () => {
        const err = errorFromResponse(answer(400, JSON.stringify({ error }), JSON_TYPE), 'get a token');
        expect(err).to.be.instanceOf(XOAuthError).and.include({ error });
        expect(err.message).to.match(new RegExp(`^X refused to get a token \\(HTTP 400\\): ${error}\\. `)).and.match(hint);
        expect(err.message).to.not.match(/function|native code/);
      });
    }

    it("reads X's answer the same whatever secret it redacts: a code the caller picked that spells a piece of it changes nothing but what is shown", () => {
      const refusal = JSON.stringify({ error: 'invalid_request', error_description: 'Value passed for the token was invalid.' });
      for (const code of ['error', 'invalid_request', 'Value', 'error_description', 'bogus-random-code-123']) {
        const err = errorFromResponse(answer(400, refusal, JSON_TYPE), 'exchange the authorization code for an access token', [code]);
        expect(err, code).to.be.instanceOf(XOAuthError).and.include({ status: 400, error: 'invalid_request' });
      }
      // An error that is not one of RFC 6749's fixed words is shown as redacted.
      const echoed = errorFromResponse(answer(400, JSON.stringify({ error: 'code-abc-1234-secret' }), JSON_TYPE), 'x', ['code-abc-1234-secret']);
      expect(echoed).to.be.instanceOf(XOAuthError).and.include({ error: '[redacted]' });
      expectNoSecrets(echoed, ['code-abc-1234-secret']);
    });

    it("puts X's error in the message on one line, cut, without control characters (no forged log lines)", () => {
      const forged = `unauthorized_client\r\n2026-01-01T00:00:00Z INFO user admin signed in\u001b[31m${'x'.repeat(100_000)}`;
      const err = errorFromResponse(answer(401, JSON.stringify({ error: forged, error_description: 'line1\nFAKE LOG LINE' }), JSON_TYPE), 'get a token');
      expect(hasControlCharacter(err.message), "no control character").to.equal(false);
      expect(err.message.length).to.be.below(1000);
      expect(err.message).to.include('unauthorized_client 2026-01-01T00:00:00Z INFO').and.include('(line1 FAKE LOG LINE)');
      // The value itself is kept, whole, for the app to inspect.
      expect((err as XOAuthError).error).to.equal(forged);
    });
  });

  describe('errorFromResponse: a v1.1 errors array', () => {
    const table: Array<[number, number, string, RegExp]> = [
      [401, 32, 'Could not authenticate you.', /consumer key and secret/],
      [401, 89, 'Invalid or expired token.', /sign the user in again/],
      [403, 99, 'Unable to verify your credentials', /refused the app-only credentials: check the consumer key and secret\. X also answers this when the bearer token is asked for too often .*keep the token getBearerToken gave/],
      [401, 135, 'Timestamp out of bounds.', /clock/],
      [400, 215, 'Bad Authentication data.', /not signed as X expects/],
    ];
    for (const [status, code, message, hint] of table) {
      it(`maps code ${code} to an XAPIError with xCode, xMessage, errors and a hint`, () => {
        const err = errorFromResponse(answer(status, JSON.stringify({ errors: [{ code, message }] }), JSON_TYPE), 'get a request token');
        expect(err).to.be.instanceOf(XAPIError).and.not.instanceOf(XRateLimitError);
        const e = err as XAPIError;
        expect(e).to.include({ code: XErrorCode.API_ERROR, status, xCode: code, xMessage: message });
        expect(e.errors).to.deep.equal([{ code, message }]);
        expect(e.message).to.match(new RegExp(`^X refused to get a request token \\(HTTP ${status}\\): code ${code}: `)).and.match(hint);
      });
    }

    it('keeps every error X listed, skipping entries that are not objects', () => {
      const body = JSON.stringify({ errors: [{ code: 32, message: 'first' }, 'junk', { message: 'second' }] });
      const e = errorFromResponse(answer(401, body, JSON_TYPE), 'x') as XAPIError;
      expect(e.errors).to.deep.equal([{ code: 32, message: 'first' }, { message: 'second' }]);
    });

    it('treats code 88 as a rate limit even without HTTP 429', () => {
      const err = errorFromResponse(answer(420, JSON.stringify({ errors: [{ code: 88, message: 'Rate limit exceeded' }] }), JSON_TYPE), 'x');
      expect(err).to.be.instanceOf(XRateLimitError).and.include({ code: XErrorCode.RATE_LIMITED, status: 420, xCode: 88 });
    });
  });

  describe('errorFromResponse: a v2 problem JSON', () => {
    it('keeps title, type and detail', () => {
      const body = JSON.stringify({ title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' });
      const e = errorFromResponse(answer(401, body, { 'content-type': 'application/problem+json' }), 'load the user\'s profile (users/me)') as XAPIError;
      expect(e).to.be.instanceOf(XAPIError);
      expect(e).to.include({ status: 401, title: 'Unauthorized', type: 'about:blank', xMessage: 'Unauthorized', xCode: undefined });
      expect(e.errors).to.deep.equal([]);
      expect(e.message).to.equal('X refused to load the user\'s profile (users/me) (HTTP 401): Unauthorized. Check the app\'s keys and the token, and the permissions set for the app in the X developer portal.');
    });

    it('takes the first of v2 errors before the problem detail', () => {
      const body = JSON.stringify({
        errors: [{ parameters: { 'user.fields': ['nope'] }, message: 'The `user.fields` query parameter value [nope] is not one of [id,name]' }],
        title: 'Invalid Request',
        detail: 'One or more parameters to your request was invalid.',
        type: 'https://api.twitter.com/2/problems/invalid-request',
      });
      const e = errorFromResponse(answer(400, body, JSON_TYPE), 'x') as XAPIError;
      expect(e.xMessage).to.match(/^The `user\.fields` query parameter/);
      expect(e).to.include({ title: 'Invalid Request', type: 'https://api.twitter.com/2/problems/invalid-request' });
    });
  });

  describe('errorFromResponse: bodies that are not JSON', () => {
    it('says an HTML page most likely came from a proxy, without quoting it', () => {
      const e = errorFromResponse(answer(502, '<!DOCTYPE html><html><body><h1>Bad Gateway</h1></body></html>', { 'content-type': 'text/html' }), 'x');
      expect(e).to.be.instanceOf(XAPIError).and.include({ status: 502 });
      expect(e.message).to.equal('X refused to x (HTTP 502): with an HTML page, most likely from a proxy or load balancer between this server and X. X or something in between is failing: retry later.');
    });

    it('recognises HTML by its first character when the content type is missing', () => {
      const e = errorFromResponse(answer(403, '  <html>Forbidden</html>'), 'x');
      expect(e.message).to.match(/HTML page/).and.not.include('Forbidden');
    });

    it('quotes plain text on one line', () => {
      const e = errorFromResponse(answer(401, 'Failed to validate\n  oauth signature and token', { 'content-type': 'text/plain' }), 'x');
      expect(e).to.be.instanceOf(XAPIError).and.include({ status: 401, xMessage: undefined });
      expect(e.message).to.match(/^X refused to x \(HTTP 401\): Failed to validate oauth signature and token\. Check the app's keys/);
    });

    it('cuts long text to 200 characters', () => {
      const e = errorFromResponse(answer(400, 'x'.repeat(5000), { 'content-type': 'text/plain' }), 'op');
      expect(e.message).to.include(`${'x'.repeat(200)}...`).and.not.include('x'.repeat(201));
    });

    it('says so when the body is empty', () => {
      const e = errorFromResponse(answer(503, ''), 'x');
      expect(e).to.be.instanceOf(XAPIError).and.include({ status: 503 });
      expect(e.message).to.equal('X refused to x (HTTP 503): with an empty body. X or something in between is failing: retry later.');
    });

    it('quotes JSON that is neither an OAuth error nor an API error', () => {
      const e = errorFromResponse(answer(400, '["odd"]', JSON_TYPE), 'x');
      expect(e).to.be.instanceOf(XAPIError);
      expect(e.message).to.include('["odd"]');
    });
  });

  describe('errorFromResponse: 429', () => {
    it('becomes an XRateLimitError with rateLimit and resetAt from the x-rate-limit-* headers', () => {
      const reset = 1_700_000_900;
      const e = errorFromResponse(
        answer(429, JSON.stringify({ title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 }), {
          'x-rate-limit-limit': '300',
          'x-rate-limit-remaining': '0',
          'x-rate-limit-reset': String(reset),
        }),
        'refresh the access token',
      ) as XRateLimitError;
      expect(e).to.be.instanceOf(XRateLimitError).and.instanceOf(XAPIError);
      expect(e.code).to.equal(XErrorCode.RATE_LIMITED);
      expect(e.rateLimit).to.deep.equal({ limit: 300, remaining: 0, reset: new Date(reset * 1000) });
      expect(e.resetAt).to.deep.equal(new Date(reset * 1000));
      expect(e.message).to.equal(
        `X refused to refresh the access token (HTTP 429): rate limit exceeded (Too Many Requests). Retry after ${new Date(reset * 1000).toISOString()}.`,
      );
    });

    it('says "retry later" when X gave no reset time', () => {
      const e = errorFromResponse(answer(429, ''), 'x') as XRateLimitError;
      expect(e).to.be.instanceOf(XRateLimitError);
      expect(e.rateLimit).to.equal(undefined);
      expect(e.resetAt).to.equal(undefined);
      expect(e.message).to.match(/rate limit exceeded \(with an empty body\)\. Retry later\.$/);
    });

    it('is a rate limit even when the body is an OAuth error', () => {
      const e = errorFromResponse(answer(429, JSON.stringify({ error: 'rate_limited' }), JSON_TYPE), 'x');
      expect(e).to.be.instanceOf(XRateLimitError);
    });

    it('keeps rate-limit headers on other errors too', () => {
      const e = errorFromResponse(answer(401, '', { 'x-rate-limit-remaining': '14' }), 'x') as XAPIError;
      expect(e.rateLimit).to.deep.equal({ remaining: 14 });
    });
  });

  describe('secret redaction', () => {
    const SECRET = 'consumer-secret-9f8e';
    const TOKEN = 'AAAAbearer%2Btoken%3D77';

    const bodies: Array<[string, number, string]> = [
      ['an OAuth error description', 400, JSON.stringify({ error: 'invalid_client', error_description: `bad secret ${SECRET}` })],
      ['a v1.1 error message', 401, JSON.stringify({ errors: [{ code: 89, message: `token ${TOKEN} expired` }] })],
      ['a v2 problem detail', 401, JSON.stringify({ title: 'Unauthorized', detail: `no ${SECRET}` })],
      ['plain text', 500, `echo: ${SECRET} ${TOKEN}`],
      ['the percent-decoded token', 400, `echo: ${decodeURIComponent(TOKEN)}`],
      ['the percent-encoded secret', 400, `echo: ${encodeURIComponent(`${SECRET}/x`)}`],
      ['a JSON-escaped secret', 400, JSON.stringify({ errors: [{ message: `echo ${SECRET}/x` }] }).replace(/\//g, '\\/')],
      ['a secret in JSON \\u escapes', 400, JSON.stringify({ errors: [{ message: `echo ${SECRET}` }] }).replace(SECRET, escapedEvery(SECRET, (c) => `\\u${c.toString(16).padStart(4, '0')}`))],
      ['a secret in XML character references', 401, `<?xml version="1.0" encoding="UTF-8"?><hash><error>Invalid oauth_verifier ${escapedEvery(SECRET, (c) => `&#${c};`)}</error></hash>`],
      ['a secret in XML hex character references', 401, `<hash><error>Invalid oauth_verifier ${escapedEvery(SECRET, (c) => `&#x${c.toString(16)};`)}</error></hash>`],
      ['a secret split over two CDATA sections', 401, `<hash><error>Invalid oauth_verifier <![CDATA[${SECRET.slice(0, 8)}]]><![CDATA[${SECRET.slice(8)}]]></error></hash>`],
      // Character references inside JSON strings: a JSON parser leaves them, a reader (or an HTML page showing the error) decodes them.
      ['XML character references in an OAuth error description', 400, JSON.stringify({ error: 'invalid_request', error_description: `Value passed for the token ${escapedEvery(SECRET, (c) => `&#${c};`)} was invalid.` })],
      ['XML hex character references in a v1.1 error message', 401, JSON.stringify({ errors: [{ code: 32, message: `Bad token ${escapedEvery(SECRET, (c) => `&#x${c.toString(16)};`)}` }] })],
      ['XML character references in a v2 problem detail', 400, JSON.stringify({ title: 'Bad Request', type: 'about:blank', detail: `Bad token ${escapedEvery(SECRET, (c) => `&#${c};`)}` })],
      // Every octet percent-encoded (RFC 3986 section 2.4: the same string), in text and in JSON.
      ['plain text with every octet percent-encoded', 400, `Bad token ${escapedEvery(SECRET, (c) => `%${c.toString(16).toUpperCase()}`)}`],
      ['an OAuth error description with every octet percent-encoded', 400, JSON.stringify({ error: 'invalid_request', error_description: `token ${escapedEvery(SECRET, (c) => `%${c.toString(16)}`)}` })],
    ];
    for (const [where, status, body] of bodies) {
      it(`keeps secrets out of the message, String(), JSON and inspect when X echoes them in ${where}`, () => {
        const e = errorFromResponse(answer(status, body, JSON_TYPE), 'x', [SECRET, TOKEN, `${SECRET}/x`]);
        const attached = e.response?.body ?? '';
        // The attached body also as a reader or a parser would decode it.
        const shown = [e.message, String(e), JSON.stringify(e), inspect(e, { depth: 10 }), inspect(e, { depth: Infinity, showHidden: true }), attached];
        const views = shown.flatMap((view) => [view, decodedXML(view), decodedJSON(view), decodedPercent(view)]);
        for (const view of views) {
          for (const secret of [SECRET, TOKEN, decodeURIComponent(TOKEN), encodeURIComponent(`${SECRET}/x`)]) expect(view).to.not.include(secret);
        }
        expect(e.message).to.include('[redacted]');
      });
    }

    it('leaves secrets shorter than 4 characters alone (they would mangle any text)', () => {
      expect(redactSecrets('a b abcd', ['abcd', 'a'])).to.equal('a b [redacted]');
    });

    describe('every spelling of every credential sent', () => {
      const ID = 'client:id 1';
      const CLIENT_SECRET = 'cs sec/ret+=~!*-value';
      const pair = { id: ID, secret: CLIENT_SECRET };
      const spellings = secretSpellings(pair);
      for (const spelling of spellings) {
        it(`redacts the spelling ${JSON.stringify(spelling.slice(0, 12))}... wherever X's answer echoes it`, () => {
          const body = JSON.stringify({ error: 'invalid_client', error_description: `header ${spelling} rejected`, errors: [{ message: spelling }] });
          const e = errorFromResponse(answer(401, body, { ...JSON_TYPE, 'x-echo': spelling.replace(/[^\x20-\x7e]/g, '') }), 'get a token', [pair]);
          expectNoSecrets(e, [pair]);
          expect(e.message).to.include('[redacted]');
        });
      }

      it('redacts HTTP Basic credentials both as RFC 6749 section 2.3.1 encodes them and as X\'s docs show them', () => {
        const formEncoded = Buffer.from('client%3Aid+1:cs+sec%2Fret%2B%3D%7E%21*-value').toString('base64');
        const plain = Buffer.from(`${ID}:${CLIENT_SECRET}`).toString('base64');
        expect(redactSecrets(`Authorization: Basic ${formEncoded}, or ${plain}`, [pair])).to.equal('Authorization: Basic [redacted], or [redacted]');
      });

      it('redacts a form-encoded secret (space as +) and an OAuth header value (RFC 3986)', () => {
        expect(redactSecrets('client_secret=cs+sec%2Fret%2B%3D%7E%21*-value&x=1', [CLIENT_SECRET])).to.equal('client_secret=[redacted]&x=1');
        expect(redactSecrets('oauth_token="cs%20sec%2Fret%2B%3D~%21%2A-value"', [CLIENT_SECRET])).to.equal('oauth_token="[redacted]"');
        expect(redactSecrets('Authorization: Bearer cs sec/ret+=~!*-value', [CLIENT_SECRET])).to.equal('Authorization: Bearer [redacted]');
      });
    });

    describe('the cause of a failure (redactError)', () => {
      const TOKEN_WITH_CRLF = 'token-value-1234\r\nx-injected: 1';
      it('returns an error that shows no secret as is', () => {
        const err = new TypeError('fetch failed', { cause: new Error('ECONNREFUSED') });
        expect(redactError(err, ['token-value-1234'])).to.equal(err);
      });

      it('copies an error whose message, stack or causes quote a secret, keeping name and code', () => {
        const inner = Object.assign(new TypeError(`Headers.append: "Bearer ${TOKEN_WITH_CRLF}" is an invalid header value.`), { code: 'ERR_INVALID_ARG_VALUE' });
        const outer = new TypeError('fetch failed', { cause: inner });
        const redacted = redactError(outer, [TOKEN_WITH_CRLF]) as Error;
        expect(redacted).to.not.equal(outer);
        expect(redacted).to.include({ name: 'TypeError', message: 'fetch failed' });
        expect((redacted.cause as Error).message).to.equal('Headers.append: "Bearer [redacted]" is an invalid header value.');
        expect(redacted.cause).to.include({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
        expectNoSecrets(redacted, [TOKEN_WITH_CRLF]);
      });

      const REFRESH = 'refresh-token-QRSTUVWXYZ0123456789';
      const SENT = `grant_type=refresh_token&refresh_token=${REFRESH}`;

      it('redacts a rejection that is no Error (a string, a plain object quoting the request) and keeps one that shows nothing', () => {
        const text = redactError(`request failed: ${SENT}`, [REFRESH]);
        expect(text).to.equal('request failed: grant_type=refresh_token&refresh_token=[redacted]');
        const object = redactError({ message: 'failed', request: { headers: { authorization: 'Basic x' }, body: SENT } }, [REFRESH]);
        expect(object).to.be.a('string').and.include('refresh_token=[redacted]');
        expectNoSecrets(object, [REFRESH]);
        const harmless = { message: 'failed', status: 0 };
        expect(redactError(harmless, [REFRESH])).to.equal(harmless);
        expect(redactError('socket hang up', [REFRESH])).to.equal('socket hang up');
      });

      it("redacts the `errors` of an AggregateError, which util.inspect prints though they are not enumerable", () => {
        const aggregate = new AggregateError([new Error('ECONNREFUSED'), new Error(`bad body ${SENT}`)], 'fetch failed');
        const redacted = redactError(new TypeError('fetch failed', { cause: aggregate }), [REFRESH]) as Error;
        const cause = redacted.cause as AggregateError;
        expect(cause).to.be.instanceOf(AggregateError).and.include({ name: 'AggregateError', message: 'fetch failed' });
        expect(cause.errors.map((e: Error) => e.message)).to.deep.equal(['ECONNREFUSED', 'bad body grant_type=refresh_token&refresh_token=[redacted]']);
        expect(inspect(redacted, { depth: 10 })).to.include('ECONNREFUSED').and.not.include(REFRESH);
        expectNoSecrets(redacted, [REFRESH]);
        const clean = new AggregateError([new Error('ECONNREFUSED')], 'fetch failed');
        expect(redactError(clean, [REFRESH])).to.equal(clean);
      });

      it('cuts a chain of causes deeper than 8 where it shows a secret, and keeps a deep one that shows none', () => {
        let deep: Error = new Error(`innermost ${SENT}`);
        for (let i = 0; i < 12; i++) deep = new Error(`level ${i}`, { cause: deep });
        const redacted = redactError(deep, [REFRESH]);
        expect(inspect(redacted, { depth: 30 })).to.include('level 11').and.include('left out').and.not.include(REFRESH);
        expectNoSecrets(redacted, [REFRESH]);
        let clean: Error = new Error('innermost');
        for (let i = 0; i < 12; i++) clean = new Error(`level ${i}`, { cause: clean });
        expect(redactError(clean, [REFRESH])).to.equal(clean);
      });

      it('finds a secret however deep it sits: 20 causes down, or 10 objects down in a rejection or in an error\'s own property', () => {
        let chain: Error = new Error(`innermost ${SENT}`);
        for (let i = 0; i < 20; i++) chain = new Error(`level ${i}`, { cause: chain });
        expect(inspect(redactError(chain, [REFRESH]), { depth: Infinity })).to.not.include(REFRESH);
        let nested: Record<string, unknown> = { body: SENT };
        for (let i = 0; i < 10; i++) nested = { inner: nested };
        const rejected = redactError(nested, [REFRESH]);
        expect(JSON.stringify(rejected)).to.not.include(REFRESH);
        const own = redactError(Object.assign(new Error('failed'), { request: nested }), [REFRESH]);
        expect(JSON.stringify(own)).to.not.include(REFRESH);
        expect(inspect(own, { depth: Infinity, showHidden: true })).to.not.include(REFRESH);
      });
    });

    it('redacts every occurrence and ignores undefined secrets', () => {
      expect(redactSecrets('s3cret and s3cret', [undefined, 's3cret'])).to.equal('[redacted] and [redacted]');
    });
  });

  describe('the raw answer', () => {
    it('is attached non-enumerably: there for debugging, never serialised', () => {
      const e = errorFromResponse(answer(500, 'oops', { 'x-test': '1' }), 'x');
      expect(e.response?.status).to.equal(500);
      expect(e.response?.body).to.equal('oops');
      expect(Object.keys(e)).to.not.include('response');
      expect(JSON.stringify(e)).to.not.include('oops');
      expect(inspect(e)).to.not.include('x-test');
    });
  });

  describe('error classes', () => {
    it('carry name, code, status and cause', () => {
      const cause = new Error('low level');
      const e = new XRequestError(XErrorCode.NETWORK_ERROR, 'Could not reach X.', { cause, status: undefined });
      expect(e).to.be.instanceOf(XError).and.instanceOf(Error);
      expect(e).to.include({ name: 'XRequestError', code: 'X_NETWORK_ERROR', status: undefined });
      expect(e.cause).to.equal(cause);
      expect(new XSessionError('no session')).to.include({ name: 'XSessionError', code: XErrorCode.SESSION_REQUIRED });
      expect(new XRateLimitError('slow down', { status: 429 })).to.include({ name: 'XRateLimitError', code: XErrorCode.RATE_LIMITED });
    });

    it('have no cause property when none was given', () => {
      expect(Object.hasOwn(new XError(XErrorCode.API_ERROR, 'm'), 'cause')).to.equal(false);
    });

    it('XTokenStoreError says which store call failed and how, whether a rotated pair is kept, and tells the person to retry', () => {
      const cause = new Error('READONLY You can\'t write against a read only replica.');
      const failed = new XTokenStoreError('the store refused', { operation: 'set', reason: 'failed', rotatedPairKept: true, cause });
      expect(failed).to.be.instanceOf(XError);
      expect(failed).to.include({ name: 'XTokenStoreError', code: 'X_TOKEN_STORE_FAILED', operation: 'set', reason: 'failed', rotatedPairKept: true, status: undefined });
      expect(failed.cause).to.equal(cause);
      expect(failed.userMessage).to.equal('Something went wrong on this site. Try again in a moment.');
      const timedOut = new XTokenStoreError('the store hung', { operation: 'get', reason: 'timeout' });
      expect(timedOut).to.include({ operation: 'get', reason: 'timeout', rotatedPairKept: false });
      expect(Object.hasOwn(timedOut, 'cause')).to.equal(false);
      expect(XErrorCode.TOKEN_STORE_FAILED).to.equal('X_TOKEN_STORE_FAILED');
    });
  });

  describe('parseRateLimit', () => {
    it('reads the three headers, reset in epoch seconds', () => {
      expect(parseRateLimit(new Headers({ 'x-rate-limit-limit': '75', 'x-rate-limit-remaining': '3', 'x-rate-limit-reset': '1700000000' }))).to.deep.equal({
        limit: 75,
        remaining: 3,
        reset: new Date(1_700_000_000_000),
      });
    });

    it('drops a reset that is no valid date (negative, or past 8.64e15 ms), rather than making an Invalid Date', () => {
      for (const reset of ['1e308', '-5', '9e12']) {
        const parsed = parseRateLimit(new Headers({ 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': reset }));
        expect(parsed, reset).to.deep.equal({ remaining: 0 });
      }
      const e = errorFromResponse(answer(429, '', { 'x-rate-limit-reset': '1e308' }), 'x');
      expect(e.message).to.match(/Retry later\.$/);
    });

    it('skips missing, blank and non-numeric values, and gives undefined when nothing is left', () => {
      expect(parseRateLimit(new Headers({ 'x-rate-limit-limit': 'many', 'x-rate-limit-remaining': ' ', 'x-rate-limit-reset': '60' }))).to.deep.equal({ reset: new Date(60_000) });
      expect(parseRateLimit(new Headers({ 'x-rate-limit-limit': 'many' }))).to.equal(undefined);
      expect(parseRateLimit(new Headers())).to.equal(undefined);
    });
  });
});

describe('errors: answers nested deeper than X\'s', () => {
  // Some thousands of levels (a 10 kB answer) overflow a recursive JSON.stringify or walk.
  const SENT = 'client-secret-0123456789';
  const deep = (inner: string, levels = 5000): string => `${'['.repeat(levels)}${inner}${']'.repeat(levels)}`;

  it('turns a refusal whose JSON nests thousands deep into the typed error of its status, not a RangeError', () => {
    for (const status of [400, 401, 503]) {
      const err = errorFromResponse(answer(status, deep('"x"'), JSON_TYPE), 'refresh the access token', [SENT]);
      expect(err, String(status)).to.be.instanceOf(XAPIError).and.include({ status, code: XErrorCode.API_ERROR });
    }
  });

  it('attaches such a 2xx answer to an error without a RangeError, and without a secret hidden behind JSON escapes', () => {
    const escaped = escapedEvery(SENT, (c) => `\\u${c.toString(16).padStart(4, '0')}`);
    for (const body of [deep('"x"'), deep(`{"echo":"${escaped}"}`), deep(`{"echo":"${SENT}"}`, 40)]) {
      const attached = redactedAnswer({ status: 200, headers: new Headers(), body }, [SENT]);
      const shown = attached.body.replace(/\\u([0-9a-f]{4})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
      expect(shown).to.not.include(SENT);
      expect(shown).to.not.include(SENT.slice(0, 12));
    }
  });

  it('still reads X\'s JSON a few levels deep', () => {
    const err = errorFromResponse(answer(400, JSON.stringify({ error: 'invalid_request', error_description: 'Value passed for the token was invalid.' }), JSON_TYPE), 'x', [SENT]);
    expect(err).to.be.instanceOf(XOAuthError).and.include({ error: 'invalid_request' });
  });
});

describe('errors: secrets a caller chose, with markup or escapes in them', () => {
  it('redacts a secret with a backslash escape that the answer hides behind an XML reference or a CDATA split', () => {
    const verifier = 'verifier\\nABCD1234';
    for (const body of ['Invalid verifier: verifier&#92;nABCD1234', 'Invalid verifier: verifier<![CDATA[\\]]>nABCD1234']) {
      const err = errorFromResponse(answer(400, body, { 'content-type': 'text/plain' }), 'get an access token', [verifier]) as XAPIError;
      expect(err.message, body).to.include('[redacted]').and.not.include('ABCD1234');
      expect(err.response?.body, body).to.not.include('ABCD1234');
      const attached = redactedAnswer(answer(200, body), [verifier]);
      expect(attached.body, body).to.not.include('ABCD1234');
    }
  });

  it('shows no piece of a secret echoed across XML error elements, and keeps X\'s code', () => {
    const verifier = 'PART1-abcdefgh</error><error>PART2-ijklmnop';
    const body = `<?xml version="1.0"?><errors><error code="89">Invalid verifier ${verifier}</error></errors>`;
    const err = errorFromResponse(answer(403, body, { 'content-type': 'application/xml' }), 'get an access token', [verifier]) as XAPIError;
    expect(err).to.include({ xCode: 89 });
    for (const piece of ['PART1-abcdefgh', 'PART2-ijklmnop']) {
      expect(err.message).to.not.include(piece);
      expect(JSON.stringify(err.errors)).to.not.include(piece);
      expect(err.response?.body).to.not.include(piece);
    }
    // A secret inside one message is redacted there, and X's words around it stay.
    const plain = errorFromResponse(answer(403, '<errors><error code="89">Invalid verifier v-1234-abcd</error></errors>', { 'content-type': 'application/xml' }), 'x', ['v-1234-abcd']) as XAPIError;
    expect(plain.xMessage).to.equal('Invalid verifier [redacted]');
  });
});

describe('errors: redactedAnswer scrubs the headers', () => {
  it('scrubs request credentials echoed in the headers of a 2xx answer, as of a refusal', () => {
    const client = { id: 'client-id-4321', secret: 'client-secret-0123456789' };
    const basic = `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`;
    const verifier = 'VERIFIER-SECRET-4242';
    const raw = answer(200, 'not json', { 'x-echo': basic, 'x-echo-oauth': `OAuth oauth_verifier="${verifier}"`, 'x-kept': 'plain' });
    const attached = redactedAnswer(raw, [client, verifier]);
    const echoed = attached.headers.get('x-echo') ?? '';
    expect(echoed).to.not.include(basic.slice(6));
    expect(attached.headers.get('x-echo-oauth')).to.not.include(verifier);
    expect(attached.headers.get('x-kept')).to.equal('plain');
    // The same answer as a refusal is scrubbed the same way.
    const refused = errorFromResponse({ ...raw, status: 400 }, 'x', [client, verifier]) as XAPIError;
    expect(refused.response?.headers.get('x-echo')).to.equal(echoed);
  });
});

describe('errors: redactCredentials', () => {
  it('redacts the credential fields of a form-encoded answer and keeps the rest', () => {
    expect(redactCredentials('oauth_token=t1&oauth_token_secret=s1&oauth_callback_confirmed=false&user_id=42')).to.equal(
      'oauth_token=[redacted]&oauth_token_secret=[redacted]&oauth_callback_confirmed=false&user_id=42',
    );
  });

  it('redacts the credential fields of a JSON answer and keeps the rest', () => {
    const out = JSON.parse(redactCredentials('{"token_type":"mac","access_token":"a1","refresh_token":"r1","expires_in":7200,"scope":"users.read"}'));
    expect(out).to.deep.equal({ token_type: 'mac', access_token: '[redacted]', refresh_token: '[redacted]', expires_in: 7200, scope: 'users.read' });
  });

  // X answered 2xx, so the body may hold tokens X just issued: none may survive, whatever the shape.
  const LIVE = ['at-LIVE-access-token-000000000001', 'rt-LIVE-refresh-token-00000000001', 'LIVEtokenSecretKSDJF83jdfk2kdkf9'];
  const unreadable: Array<[string, string]> = [
    ['truncated JSON', `{"token_type":"bearer","access_token":"${LIVE[0]}","refresh_token":"${LIVE[1]}`],
    ['JSON cut before the key', `ccess_token":"${LIVE[0]}","refresh_token":"${LIVE[1]}"}`],
    ['nested JSON', JSON.stringify({ data: { access_token: LIVE[0], list: [{ refresh_token: LIVE[1] }] } })],
    ['a JSON array', JSON.stringify([{ access_token: LIVE[0], refresh_token: LIVE[1] }])],
    ['JSON with a __proto__ key', `{"__proto__":{"access_token":"${LIVE[0]}"},"refresh_token":"${LIVE[1]}"}`],
    ['a form answer with renamed fields', `oauth_token=${LIVE[0]}&secret_of_token=${LIVE[2]}&x=${LIVE[1]}`],
    ['text', `Your token is ${LIVE[0]} and the refresh token: ${LIVE[1]}`],
    ['HTML', `<html><body><input name="access_token" value="${LIVE[0]}"><p>${LIVE[1]}</p></body></html>`],
    ['bytes no parser reads', `\u0000\u00ff${LIVE[0]}\ufffd${LIVE[1]}`],
    ['JSON nested deeper than X\'s answers', `${'{"a":'.repeat(40)}{"access_token":"${LIVE[0]}","refresh_token":"${LIVE[1]}"}${'}'.repeat(40)}`],
    ['JSON nested thousands deep', `${'['.repeat(5000)}{"access_token":"${LIVE[0]}","refresh_token":"${LIVE[1]}"}${']'.repeat(5000)}`],
  ];
  for (const [shape, body] of unreadable) {
    it(`leaves no live token in ${shape}`, () => {
      const out = redactCredentials(body);
      for (const token of LIVE) expect(out).to.not.include(token);
      expect(out).to.include('[redacted]');
    });
  }

  it('keeps what helps debugging: field names, short values, numbers', () => {
    expect(redactCredentials('oauth_token=t1&oauth_callback_confirmed=false&user_id=2244994945&screen_name=XDevelopers')).to.equal(
      'oauth_token=[redacted]&oauth_callback_confirmed=false&user_id=2244994945&screen_name=XDevelopers',
    );
    expect(JSON.parse(redactCredentials('{"data":{"id":"1","access_token":"a1","n":7}}'))).to.deep.equal({ data: { id: '1', access_token: '[redacted]', n: 7 } });
  });

  it('redactedAnswer scrubs what was sent when X escapes it: JSON \\u escapes, XML character references, CDATA sections', () => {
    const sent = 'sent-access-token-0123456789';
    const bodies = [
      `{"data":{"id":"1","username":"${escapedEvery(sent, (c) => `\\u${c.toString(16).padStart(4, '0')}`)}"}}`,
      `<?xml version="1.0"?><user><name>${escapedEvery(sent, (c) => `&#${c};`)}</name></user>`,
      `<user><name><![CDATA[${sent.slice(0, 6)}]]><![CDATA[${sent.slice(6)}]]></name></user>`,
    ];
    for (const b of bodies) {
      const attached = redactedAnswer({ status: 200, headers: new Headers(), body: b }, [sent]).body;
      for (const view of [attached, decodedXML(attached), decodedJSON(attached)]) expect(view, b).to.not.include(sent);
      expect(attached).to.include('[redacted]');
    }
  });

  it('redactedAnswer also scrubs every spelling of what was sent', () => {
    const raw = { status: 200, headers: new Headers(), body: `echo ${Buffer.from('id:sec ret').toString('base64')} sec+ret` };
    expect(redactedAnswer(raw, [{ id: 'id', secret: 'sec ret' }]).body).to.equal('echo [redacted] [redacted]');
  });

  it('leaves text and HTML alone', () => {
    expect(redactCredentials('<html>oops</html>')).to.equal('<html>oops</html>');
    expect(redactCredentials('Service Unavailable')).to.equal('Service Unavailable');
  });
});

// X's answers as they come in 2026: the pay-per-use billing layer, scopes, XML and plain text.
describe('errors: X\'s answers in 2026', () => {
  // X's 402, as quoted in public trackers: account_id a bare number too big for JS, no `status` field.
  const CREDITS_BODY =
    '{"account_id":2036532529868496897,"title":"CreditsDepleted","detail":"Your enrolled account [2036532529868496897] does not have any credits to fulfill this request.","type":"https://api.twitter.com/2/problems/credits"}';
  // X's 429 usage cap (xdevplatform/xdk#25), with the rate-limit headers X sends beside it.
  const USAGE_CAP_BODY = JSON.stringify({
    account_id: '1234',
    product_name: 'standard-basic',
    title: 'UsageCapExceeded',
    period: 'Monthly',
    scope: 'Product',
    detail: 'Usage cap exceeded: Monthly product cap',
    type: 'https://api.twitter.com/2/problems/usage-capped',
  });
  const RATE_HEADERS = { ...JSON_TYPE, 'x-rate-limit-limit': '40000', 'x-rate-limit-remaining': '39999', 'x-rate-limit-reset': '1781049099' };

  describe('402 credits depleted', () => {
    it('becomes an XCreditsDepletedError with X\'s title, detail, type and account id, not a rate limit', () => {
      const e = errorFromResponse(answer(402, CREDITS_BODY, RATE_HEADERS), 'load the user\'s profile (users/me)');
      expect(e).to.be.instanceOf(XCreditsDepletedError).and.instanceOf(XAPIError).and.not.instanceOf(XRateLimitError);
      const err = e as XCreditsDepletedError;
      expect(err).to.include({
        code: XErrorCode.CREDITS_DEPLETED,
        status: 402,
        title: 'CreditsDepleted',
        detail: 'Your enrolled account [2036532529868496897] does not have any credits to fulfill this request.',
        type: 'https://api.twitter.com/2/problems/credits',
        accountId: '2036532529868496897',
      });
      expect(err.rateLimit).to.deep.equal({ limit: 40000, remaining: 39999, reset: new Date(1781049099 * 1000) });
      expect(err.message).to.match(/^X refused to load the user's profile \(users\/me\) \(HTTP 402\): the app's credits are depleted \(CreditsDepleted: Your enrolled account/);
      expect(err.hint).to.match(/add credits, or turn on auto-recharge, in the X Developer Console/).and.match(/Retrying does not help/).and.match(/profileFallback/).and.match(/skipUserProfile: true/);
      expect(err.message).to.include(err.hint);
      expect(err.userMessage).to.equal('Sign-in with X is unavailable on this site right now. Try again later.');
    });

    it('reads api.x.com\'s form of the same answer: title "Payment Required", type .../problems/credits-depleted', () => {
      const body = '{"detail":"credits depleted","status":402,"title":"Payment Required","type":"https://api.x.com/2/problems/credits-depleted"}';
      const err = errorFromResponse(answer(402, body, RATE_HEADERS), 'load the user\'s profile (users/me)') as XCreditsDepletedError;
      expect(err).to.be.instanceOf(XCreditsDepletedError);
      expect(err).to.include({ code: XErrorCode.CREDITS_DEPLETED, status: 402, title: 'Payment Required', detail: 'credits depleted', type: 'https://api.x.com/2/problems/credits-depleted' });
      expect(err.message).to.match(/^X refused to load the user's profile \(users\/me\) \(HTTP 402\): the app's credits are depleted \(Payment Required: credits depleted\)/);
    });

    it('is recognised by its status alone, whatever the body', () => {
      for (const body of ['', 'Payment Required', '<html>402</html>', JSON.stringify({ title: 'Payment Required' })]) {
        expect(errorFromResponse(answer(402, body), 'x'), body).to.be.instanceOf(XCreditsDepletedError);
      }
    });

    it('is recognised by X\'s title or type under another status', () => {
      expect(errorFromResponse(answer(403, JSON.stringify({ title: 'CreditsDepleted' }), JSON_TYPE), 'x')).to.be.instanceOf(XCreditsDepletedError);
      for (const type of ['https://api.x.com/2/problems/credits', 'https://api.x.com/2/problems/credits-depleted']) {
        expect(errorFromResponse(answer(429, JSON.stringify({ title: 'Payment Required', type }), JSON_TYPE), 'x'), type).to.be.instanceOf(XCreditsDepletedError);
      }
      // Not a type X uses for credits: a usage cap stays one.
      expect(errorFromResponse(answer(429, JSON.stringify({ title: 'Payment Required', type: 'https://api.x.com/2/problems/credits-depleted-soon' }), JSON_TYPE), 'x')).not.to.be.instanceOf(
        XCreditsDepletedError,
      );
      // Never an OAuth error, even with an `error` member.
      expect(errorFromResponse(answer(402, JSON.stringify({ error: 'payment_required' }), JSON_TYPE), 'x')).to.be.instanceOf(XCreditsDepletedError);
    });
  });

  describe('usage caps', () => {
    it('turn X\'s 429 UsageCapExceeded into an XUsageCapError, which is not an XRateLimitError', () => {
      const e = errorFromResponse(answer(429, USAGE_CAP_BODY, RATE_HEADERS), 'exchange the authorization code for an access token');
      expect(e).to.be.instanceOf(XUsageCapError).and.instanceOf(XAPIError).and.not.instanceOf(XRateLimitError);
      const err = e as XUsageCapError;
      expect(err).to.include({
        code: XErrorCode.USAGE_CAP_EXCEEDED,
        status: 429,
        title: 'UsageCapExceeded',
        detail: 'Usage cap exceeded: Monthly product cap',
        type: 'https://api.twitter.com/2/problems/usage-capped',
        period: 'Monthly',
        capScope: 'Product',
      });
      // x-rate-limit-reset says when the rate-limit window resets, not when the cap lifts.
      expect(err.resetAt).to.equal(undefined);
      expect(err.rateLimit?.remaining).to.equal(39999);
      expect(err.message).to.include('a usage cap is reached (UsageCapExceeded: Usage cap exceeded: Monthly product cap)');
      expect(err.hint).to.match(/monthly product usage cap/).and.match(/wait for the next month/).and.match(/not a rate limit: waiting for x-rate-limit-reset/);
      expect(err.userMessage).to.equal('Sign-in with X is unavailable on this site right now. Try again later.');
    });

    it('quote X\'s period and scope in the hint on one line, cut at 200 characters (a hostile or broken proxy cannot split or flood a log line)', () => {
      const body = JSON.stringify({ title: 'UsageCapExceeded', period: 'Daily\r\nFAKE LOG LINE \u001b[31m', scope: 'x'.repeat(50_000) });
      const err = errorFromResponse(answer(429, body, JSON_TYPE), 'refresh the access token') as XUsageCapError;
      expect(err).to.be.instanceOf(XUsageCapError);
      for (const text of [err.hint, err.message]) expect(text).not.to.match(/\p{Cc}/u);
      expect(err.hint).to.include('A daily fake log line ').and.include('x'.repeat(150));
      expect(err.hint.length).to.be.below(600);
      // The fields keep what X said.
      expect(err.period).to.equal('Daily\r\nFAKE LOG LINE \u001b[31m');
    });

    // X's answer for the spending limit of the billing cycle.
    const SPEND_CAP_REACHED = JSON.stringify({
      title: 'SpendCapReached',
      detail: 'Your enrolled account has reached its billing cycle spend cap.',
      reset_date: '2026-05-13',
      type: 'https://api.twitter.com/2/problems/credits',
    });

    it('include the spending limit of the billing cycle (SpendCapReached), with its reset date', () => {
      const body = SPEND_CAP_REACHED;
      const err = errorFromResponse(answer(403, body, JSON_TYPE), 'x') as XUsageCapError;
      expect(err).to.be.instanceOf(XUsageCapError).and.include({ status: 403, title: 'SpendCapReached' });
      expect(err.resetAt).to.deep.equal(new Date('2026-05-13'));
      expect(err.hint).to.include(`until ${new Date('2026-05-13').toISOString()}`);
    });

    it('read SpendCapReached as the spending limit whatever its status, 402 included', () => {
      const body = SPEND_CAP_REACHED;
      for (const status of [402, 429]) {
        const err = errorFromResponse(answer(status, body, JSON_TYPE), 'x') as XUsageCapError;
        expect(err, `HTTP ${status}`).to.be.instanceOf(XUsageCapError).and.not.instanceOf(XCreditsDepletedError);
        expect(err).to.include({ status, code: XErrorCode.USAGE_CAP_EXCEEDED, title: 'SpendCapReached' });
        expect(err.resetAt).to.deep.equal(new Date('2026-05-13'));
      }
      // A 402 that is not the spending limit stays an empty balance.
      const depleted = JSON.stringify({ title: 'CreditsDepleted', detail: 'Your enrolled account does not have any credits.', type: 'https://api.twitter.com/2/problems/credits' });
      expect(errorFromResponse(answer(402, depleted, JSON_TYPE), 'x')).to.be.instanceOf(XCreditsDepletedError);
    });

    it('leave an ordinary 429 a rate limit', () => {
      const body = JSON.stringify({ title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 });
      expect(errorFromResponse(answer(429, body, RATE_HEADERS), 'x')).to.be.instanceOf(XRateLimitError).and.not.instanceOf(XUsageCapError);
    });
  });

  describe('403 Missing OAuth2 Scopes', () => {
    it('becomes an XMissingScopesError naming the scope X named, with the portal setting for users.email', () => {
      const body = JSON.stringify({
        title: 'Missing OAuth2 Scopes',
        detail: 'The access token is missing the OAuth2 scopes this request needs: users.email.',
        type: 'https://api.twitter.com/2/problems/missing-scopes',
        status: 403,
      });
      const err = errorFromResponse(answer(403, body, { 'content-type': 'application/problem+json' }), 'load the user\'s profile (users/me)') as XMissingScopesError;
      expect(err).to.be.instanceOf(XMissingScopesError).and.instanceOf(XAPIError);
      expect(err).to.include({ code: XErrorCode.MISSING_SCOPES, status: 403, title: 'Missing OAuth2 Scopes' });
      expect(err.missingScopes).to.deep.equal(['users.email']);
      expect(err.hint).to.match(/lacks the OAuth 2\.0 scope users\.email/).and.match(/includeEmail: true/).and.match(/"Request email from users"/);
      expect(err.message).to.include(err.hint);
      expect(err.userMessage).to.equal('Sign-in with X is not set up correctly on this site.');
    });

    it('reads a list of scopes when X gives one, and says so generically when X names none', () => {
      const listed = errorFromResponse(answer(403, JSON.stringify({ title: 'Missing OAuth2 Scopes', required_scopes: ['like.read'] }), JSON_TYPE), 'x') as XMissingScopesError;
      expect(listed.missingScopes).to.deep.equal(['like.read']);
      const unnamed = errorFromResponse(answer(403, JSON.stringify({ title: 'Missing OAuth2 Scopes', detail: 'Forbidden' }), JSON_TYPE), 'x') as XMissingScopesError;
      expect(unnamed).to.be.instanceOf(XMissingScopesError);
      expect(unnamed.missingScopes).to.deep.equal([]);
      expect(unnamed.hint).to.match(/lacks an OAuth 2\.0 scope this request needs/).and.not.match(/Request email/);
    });

    it('keeps out of its hint a listed value that cannot be a scope (control characters, a space, over 100 characters)', () => {
      const listed = ['tweet.read', 'users.read\r\nFAKE LOG LINE', 'a b', 'x'.repeat(101), '\u001b[31mred', 'list.read'];
      const err = errorFromResponse(answer(403, JSON.stringify({ title: 'Missing OAuth2 Scopes', missing_scopes: listed }), JSON_TYPE), 'x') as XMissingScopesError;
      expect(err.missingScopes).to.deep.equal(['tweet.read', 'list.read']);
      expect(err.hint).to.include('tweet.read and list.read');
      expect(err.message).not.to.match(/\p{Cc}/u).and.not.include('FAKE LOG LINE');
    });

    it('leaves X\'s plain 403 Forbidden problem an XAPIError', () => {
      const body = JSON.stringify({ title: 'Forbidden', type: 'about:blank', status: 403, detail: 'Forbidden' });
      expect(errorFromResponse(answer(403, body, JSON_TYPE), 'x')).to.be.instanceOf(XAPIError).and.not.instanceOf(XMissingScopesError);
    });
  });

  describe('v2 problems on any endpoint', () => {
    it('keep title, detail and type on an OAuth 1.0a endpoint too', () => {
      const body = JSON.stringify({ title: 'Unsupported Authentication', detail: 'Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.', type: 'https://api.twitter.com/2/problems/unsupported-authentication', status: 403 });
      const err = errorFromResponse(answer(403, body, JSON_TYPE), 'get a request token') as XAPIError;
      expect(err).to.include({
        title: 'Unsupported Authentication',
        detail: 'Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.',
        type: 'https://api.twitter.com/2/problems/unsupported-authentication',
        xMessage: 'Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.',
      });
    });
  });

  describe('XML and plain text', () => {
    it('keeps X\'s message from <hash><error>...</error><request>...</request></hash>', () => {
      const body = '<?xml version="1.0" encoding="UTF-8"?>\n<hash>\n  <error>This client application&apos;s callback url has been locked</error>\n  <request>/oauth/request_token</request>\n</hash>\n';
      const err = errorFromResponse(answer(401, body, { 'content-type': 'application/xml; charset=utf-8' }), 'get a request token') as XAPIError;
      expect(err).to.be.instanceOf(XAPIError).and.include({ status: 401, xMessage: "This client application's callback url has been locked", xCode: undefined });
      expect(err.errors).to.deep.equal([{ message: "This client application's callback url has been locked" }]);
      expect(err.message).to.equal("X refused to get a request token (HTTP 401): This client application's callback url has been locked. Check the app's keys and the token, and the permissions set for the app in the X developer portal.");
    });

    it('reads X\'s refusal of a callback URL in the <hash> form, which has no code, as code 415', () => {
      const body = '<?xml version="1.0" encoding="UTF-8"?>\n<hash>\n  <error>Callback URL not approved for this client application. Approved callback URLs can be adjusted in your application settings</error>\n  <request>/oauth/request_token</request>\n</hash>\n';
      const err = errorFromResponse(answer(403, body, { 'content-type': 'application/xml' }), 'get a request token') as XAPIError;
      expect(err).to.include({ status: 403, xCode: 415 });
      expect(err.hint).to.match(/^X refused the callback URL/);
      // Any other <hash> message keeps no code.
      const other = errorFromResponse(answer(403, body.replace('Callback URL not approved', 'Callback URL locked'), { 'content-type': 'application/xml' }), 'x') as XAPIError;
      expect(other.xCode).to.equal(undefined);
    });

    it('reads X\'s code from <errors><error code="415">, even labelled text/html, and says what to do', () => {
      const body = '<?xml version=\'1.0\' encoding=\'UTF-8\'?><errors><error code="415">Callback URL not approved for this client application. Approved callback URLs can be adjusted in your application settings</error></errors>';
      for (const contentType of ['application/xml', 'text/html; charset=utf-8', '']) {
        const err = errorFromResponse(answer(403, body, contentType ? { 'content-type': contentType } : {}), 'get a request token') as XAPIError;
        expect(err, contentType).to.include({ status: 403, xCode: 415 });
        expect(err.message).to.not.match(/HTML page|proxy/);
        expect(err.message).to.match(/code 415: Callback URL not approved/).and.match(/register `callbackURL` exactly/).and.match(/localhost and 127\.0\.0\.1 are different hosts/).and.include('on passport-x\'s X emulator: in its `apps.*.callbackURLs` fixtures, or with `x.addCallbackURL()`');
        expect(err.hint).to.match(/^X refused the callback URL/);
      }
    });

    it('quotes X\'s plain-text refusal of a verifier in the message, and keeps it out of what JSON.stringify shows', () => {
      const text = 'Error processing your OAuth request: Invalid oauth_verifier parameter';
      const err = errorFromResponse(answer(401, text, { 'content-type': 'text/html; charset=utf-8' }), 'exchange the request token for an access token') as XAPIError;
      expect(err.message).to.equal(`X refused to exchange the request token for an access token (HTTP 401): ${text}. Check the app's keys and the token, and the permissions set for the app in the X developer portal.`);
      expect(JSON.stringify(err)).to.not.include('oauth_verifier');
    });

    it('still calls an HTML page a page from a proxy', () => {
      const err = errorFromResponse(answer(403, '<html><body>Access denied</body></html>', { 'content-type': 'text/html' }), 'x') as XAPIError;
      expect(err.xMessage).to.equal(undefined);
      expect(err.message).to.match(/HTML page, most likely from a proxy/);
    });
  });

  describe('503 over capacity', () => {
    it('says to retry later, in v1.1\'s and v2\'s formats, and tells the person X is unavailable', () => {
      const v1 = errorFromResponse(answer(503, JSON.stringify({ errors: [{ code: 130, message: 'Over capacity' }] }), JSON_TYPE), 'x') as XAPIError;
      expect(v1).to.include({ xCode: 130, xMessage: 'Over capacity' });
      expect(v1.hint).to.match(/over capacity: retry later/);
      const v2 = errorFromResponse(answer(503, JSON.stringify({ title: 'Service Unavailable', detail: 'Service Unavailable', type: 'about:blank', status: 503 }), JSON_TYPE), 'x') as XAPIError;
      expect(v2.hint).to.match(/retry later/);
      for (const err of [v1, v2]) expect(err.userMessage).to.equal('X is not available right now. Try again in a few minutes.');
    });
  });

  describe('userMessage and hint', () => {
    it('are on every error: short for the person, the diagnosis for the developer', () => {
      const errors: XError[] = [
        new XError(XErrorCode.NETWORK_ERROR, 'Could not reach X at https://api.x.com/x. Check DNS.'),
        new XRequestError(XErrorCode.TIMEOUT, 'X did not answer within 10 ms.'),
        new XSessionError('No session.'),
        errorFromResponse(answer(400, JSON.stringify({ error: 'invalid_request', error_description: 'Value passed for the token was invalid.' }), JSON_TYPE), 'x'),
        errorFromResponse(answer(401, JSON.stringify({ errors: [{ code: 89, message: 'Invalid or expired token.' }] }), JSON_TYPE), 'x'),
        errorFromResponse(answer(429, ''), 'x'),
      ];
      for (const err of errors) {
        expect(err.userMessage, err.code).to.be.a('string').and.match(/^[A-Z].{10,80}\.$/);
        expect(err.hint, err.code).to.be.a('string').and.not.equal('');
        expect(JSON.parse(JSON.stringify(err))).to.include({ userMessage: err.userMessage, hint: err.hint });
      }
      expect(errors[0]!.hint).to.equal(errors[0]!.message);
      expect(errors[3]!.hint).to.match(/^A parameter is missing or invalid/);
      expect(errors[4]!.userMessage).to.equal('Your authorization on X has ended. Sign in again.');
      expect(new XError(XErrorCode.API_ERROR, 'm', { userMessage: 'Custom.', hint: 'Do this.' })).to.include({ userMessage: 'Custom.', hint: 'Do this.' });
    });

    it('tell the person what an OAuth error means for them: the site\'s setup, X\'s trouble, or sign in again', () => {
      const oauth = (status: number, error: string): XError => errorFromResponse(answer(status, JSON.stringify({ error }), JSON_TYPE), 'exchange the code');
      for (const [status, error] of [
        [401, 'invalid_client'],
        [401, 'unauthorized_client'],
        [400, 'unsupported_grant_type'],
        [400, 'invalid_scope'],
      ] as const) {
        // Signing in again cannot cure the app's credentials: no loop of "Sign in again".
        expect(oauth(status, error).userMessage, error).to.equal('Sign-in with X is not set up correctly on this site.');
      }
      expect(oauth(400, 'temporarily_unavailable').userMessage).to.equal('X is not available right now. Try again in a few minutes.');
      expect(oauth(400, 'invalid_grant').userMessage).to.equal('Signing in with X did not work. Sign in again.');
      // invalid_request about the request itself is the app's set-up; about the code or token, sign in again.
      const described = (description: string): XError => errorFromResponse(answer(400, JSON.stringify({ error: 'invalid_request', error_description: description }), JSON_TYPE), 'x');
      expect(described('Missing required parameter [client_id].').userMessage).to.equal('Sign-in with X is not set up correctly on this site.');
      expect(described('Value passed for the redirect uri did not match the uri of the authorization code.').userMessage).to.equal('Sign-in with X is not set up correctly on this site.');
      expect(described('Value passed for the token was invalid.').userMessage).to.equal('Signing in with X did not work. Sign in again.');
      // A name only the prototype has is no error code of RFC 6749's.
      expect(oauth(400, 'constructor').userMessage).to.equal('Signing in with X did not work. Sign in again.');
    });

    it('tell the person the site is not set up correctly for X\'s codes about the app\'s own set-up, whatever the status', () => {
      for (const [status, code] of [
        [401, 32],
        [401, 135],
        [400, 215],
        [403, 415],
        [403, 453],
      ] as const) {
        const err = errorFromResponse(answer(status, JSON.stringify({ errors: [{ code, message: 'x' }] }), JSON_TYPE), 'get a request token');
        expect(err.userMessage, String(code)).to.equal('Sign-in with X is not set up correctly on this site.');
      }
      // Not the app's set-up: the user's token (89), X over capacity (130).
      expect(errorFromResponse(answer(401, JSON.stringify({ errors: [{ code: 89, message: 'x' }] }), JSON_TYPE), 'x').userMessage).to.equal('Your authorization on X has ended. Sign in again.');
      expect(errorFromResponse(answer(503, JSON.stringify({ errors: [{ code: 130, message: 'x' }] }), JSON_TYPE), 'x').userMessage).to.equal('X is not available right now. Try again in a few minutes.');
    });

    it('say what to do about code 453, a v1.1 endpoint outside the app\'s access (an OAuth 1.0a profile read)', () => {
      const body = JSON.stringify({ errors: [{ code: 453, message: 'You currently have access to a subset of X API V2 endpoints and limited v1.1 endpoints only.' }] });
      const err = errorFromResponse(answer(403, body, JSON_TYPE), 'load the profile (account/verify_credentials)') as XAPIError;
      expect(err).to.be.instanceOf(XAPIError).and.include({ status: 403, xCode: 453 });
      expect(err.hint).to.match(/skipExtendedUserProfile: true/).and.match(/OAuth 2\.0/);
      expect(err.message).to.include('limited v1.1 endpoints');
      expect(err.userMessage).to.equal('Sign-in with X is not set up correctly on this site.');
    });

    it('never carry a secret X echoed', () => {
      const secret = 'client-secret-abcdef';
      for (const err of [
        errorFromResponse(answer(402, JSON.stringify({ title: 'CreditsDepleted', detail: `no credits ${secret}` }), JSON_TYPE), 'x', [secret]),
        errorFromResponse(answer(429, JSON.stringify({ title: 'UsageCapExceeded', detail: `cap ${secret}` }), JSON_TYPE), 'x', [secret]),
        errorFromResponse(answer(403, `<errors><error code="415">${secret}</error></errors>`), 'x', [secret]),
      ]) {
        expect(`${err.message} ${err.hint} ${err.userMessage} ${JSON.stringify(err)} ${inspect(err)}`).to.not.include(secret);
      }
    });
  });
});

describe('the text checks every module shares', () => {
  it('hasControlCharacter finds C0, DEL and C1 controls, and nothing in printable text (tab included: it is a control)', () => {
    for (const c of ['\r', '\n', '\0', '\t', '\x7f', '\x85', '\x9f']) expect(hasControlCharacter(`token${c}value`), JSON.stringify(c)).to.equal(true);
    for (const text of ['', 'AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid', 'héllo wörld ☃', '😀', ' ~!@#$%^&*()']) expect(hasControlCharacter(text), text).to.equal(false);
  });

  it('hasLoneSurrogate finds an unpaired surrogate anywhere, and passes pairs, again and again (no regex state left behind)', () => {
    for (let i = 0; i < 3; i++) {
      for (const text of ['\ud800', 'a\udc00', '\udbff\ud800', 'x\ud83dy']) expect(hasLoneSurrogate(text), JSON.stringify(text)).to.equal(true);
      for (const text of ['', 'plain', '😀', 'a😀b']) expect(hasLoneSurrogate(text), text).to.equal(false);
    }
  });
});

describe('errors: answers built to be slow', function () {
  // A hostile or broken X (or anything in between) may answer up to the 1 MiB cap with text made to
  // make a pattern try every position: reading such an answer must take time in proportion to its
  // length. The bound is generous (quadratic patterns took minutes to hours on 1 MiB); it guards
  // against a return of one, and claims nothing about speed (that is `npm run bench`).
  this.timeout(60_000);
  const MiB = MAX_RESPONSE_BYTES;
  const BOUND_MS = 3_000;
  const fill = (unit: string, size = MiB): string => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
  const units = ['a', 'a.', 'oauth_token', '%', '"a":', 'a=', "'", '<error>', '<error code="1">', 'missing ', 'missing scopes ', '&#', '<![CDATA[', '\\'];
  const bodies: Array<[string, string]> = [];
  for (const unit of units) {
    bodies.push([`${JSON.stringify(unit)} repeated`, fill(unit)]);
    bodies.push([`<errors> then ${JSON.stringify(unit)} repeated`, `<errors>${fill(unit, MiB - 8)}`]);
    const field = fill(unit, MiB / 4 - 64);
    bodies.push([`JSON whose title and detail repeat ${JSON.stringify(unit)}`, JSON.stringify({ title: field, detail: field, errors: [{ message: field }] })]);
  }

  function elapsedMs(fn: () => unknown): number {
    const started = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - started) / 1e6;
  }

  it(`redacts a 2xx answer it cannot read, of up to 1 MiB, in time proportional to its length (each under ${BOUND_MS} ms)`, () => {
    for (const [name, body] of bodies) {
      expect(elapsedMs(() => redactedAnswer({ status: 200, headers: new Headers(), body }, ['a-secret-sent-1234'])), name).to.be.below(BOUND_MS);
    }
  });

  it('makes the spellings of the secrets once per refusal, not once per string of its JSON or per header (a 1 MiB array of empty strings took seconds)', () => {
    let made = 0;
    // Read once each time the spellings of the pair are made.
    const client = { id: 'the-client-id', get secret(): string { made++; return 'the-client-secret-1234'; } };
    const strings = Math.floor((MiB - 64) / 3); // `"",` each
    const body = JSON.stringify({ error: 'invalid_request', list: new Array<string>(strings).fill('') });
    expect(body.length).to.be.at.most(MiB);
    const headers = new Headers({ 'content-type': 'application/json', 'x-one': '1', 'x-two': '2', 'x-three': '3' });
    const ms = elapsedMs(() => {
      const err = errorFromResponse({ status: 400, headers, body }, 'get an access token', [client, 'the-code-sent-1234', 'the-verifier-sent-1234']);
      expect(err).to.be.instanceOf(XOAuthError);
    });
    expect(made, 'the spellings were made once').to.equal(1);
    expect(ms).to.be.below(BOUND_MS);
  });

  it(`reads a refusal of up to 1 MiB, as JSON, XML or text, in time proportional to its length (each under ${BOUND_MS} ms)`, () => {
    for (const [name, body] of bodies) {
      for (const [status, type] of [[403, 'application/json'], [401, 'text/xml'], [429, 'application/problem+json'], [500, 'text/html']] as const) {
        const ms = elapsedMs(() => errorFromResponse({ status, headers: new Headers({ 'content-type': type }), body }, 'load the profile', ['a-secret-sent-1234']));
        expect(ms, `${status} ${type}: ${name}`).to.be.below(BOUND_MS);
      }
    }
  });

  it('still finds what a short answer says: XML errors, missing scopes, keyed credentials', () => {
    const xml = errorFromResponse({ status: 401, headers: new Headers({ 'content-type': 'text/xml' }), body: '<hash><error>Could not authenticate you.</error></hash>' }, 'op');
    expect(xml.message).to.include('Could not authenticate you.');
    const scopes = errorFromResponse(
      { status: 403, headers: new Headers({ 'content-type': 'application/json' }), body: JSON.stringify({ title: 'Missing OAuth2 Scopes', detail: 'Missing scopes: users.email' }) },
      'op',
    );
    expect(scopes).to.be.instanceOf(XMissingScopesError).with.deep.property('missingScopes', ['users.email']);
    expect(redactCredentials('oops oauth_token=short1 and "code": "abc", x=\'tok\' "secret=s3cr"')).to.equal('oops oauth_token=[redacted] and "code": "[redacted]", x=\'tok\' "secret=[redacted]"');
  });
});
