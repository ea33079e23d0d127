// The secret scanner every error test relies on: it must catch each spelling, wherever it hides.
import { expect } from 'chai';
import { expectNoSecrets, secretSpellings } from './assertions';

const ID = 'cid:ABC';
const SECRET = 'se cr/et+~!*-value';

function caught(fn: () => void): Error | undefined {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  return undefined;
}

describe('expectNoSecrets (the test suite\'s secret scanner)', () => {
  it('spells a secret raw, percent-encoded both ways, form-encoded, decoded, JSON-escaped, as Bearer and as an OAuth header value', () => {
    const spellings = secretSpellings(SECRET);
    expect(spellings).to.include.members([
      SECRET,
      'se%20cr%2Fet%2B~!*-value', // encodeURIComponent
      'se%20cr%2Fet%2B~%21%2A-value', // RFC 3986
      'se+cr%2Fet%2B%7E%21*-value', // form-encoded
      'se cr\\/et+~!*-value', // JSON with \/
      `Bearer ${SECRET}`,
      'oauth_token="se%20cr%2Fet%2B~%21%2A-value"',
    ]);
    expect(secretSpellings('a%2Fb')).to.include('a/b');
  });

  it('spells a Basic pair as base64 of the form-encoded and of the raw id:secret', () => {
    const spellings = secretSpellings({ id: ID, secret: SECRET });
    expect(spellings).to.include(Buffer.from('cid%3AABC:se+cr%2Fet%2B%7E%21*-value').toString('base64'));
    expect(spellings).to.include(Buffer.from(`${ID}:${SECRET}`).toString('base64'));
    expect(spellings).to.include(SECRET);
  });

  it('passes an error that holds none of the secrets', () => {
    expect(caught(() => expectNoSecrets(new Error('X refused [redacted]', { cause: new Error('inner') }), [SECRET, { id: ID, secret: SECRET }]))).to.equal(undefined);
  });

  const hiding: Array<[string, () => unknown]> = [
    ['the message', () => new Error(`boom ${SECRET}`)],
    ['the stack only', () => Object.assign(new Error('boom'), { stack: `Error: boom\n    at ${encodeURIComponent(SECRET)}` })],
    ['an enumerable property (JSON.stringify)', () => Object.assign(new Error('boom'), { errors: [{ message: 'se+cr%2Fet%2B%7E%21*-value' }] })],
    ['a non-enumerable property (util.inspect showHidden)', () => Object.defineProperty(new Error('boom'), 'response', { value: { body: `x ${SECRET}` }, enumerable: false })],
    ['a deep cause', () => new Error('a', { cause: new Error('b', { cause: new TypeError(`Bearer ${SECRET}`) }) })],
    ['a cause that is not an Error', () => new Error('a', { cause: { header: `Basic ${Buffer.from(`${ID}:${SECRET}`).toString('base64')}` } })],
    ['an AggregateError member', () => new Error('a', { cause: new AggregateError([new Error(`oauth_token="se%20cr%2Fet%2B~%21%2A-value"`)]) })],
    ['a string past util.inspect\'s default cut-off', () => Object.defineProperty(new Error('boom'), 'response', { value: { body: `${'x'.repeat(20_000)}${SECRET}` }, enumerable: false })],
  ];
  for (const [where, make] of hiding) {
    it(`catches a secret in ${where}`, () => {
      const failure = caught(() => expectNoSecrets(make(), [{ id: ID, secret: SECRET }]));
      expect(failure, `missed a secret in ${where}`).to.be.instanceOf(Error);
      expect(failure!.message).to.match(/a secret/).and.not.include(SECRET);
    });
  }

  it('survives a cyclic error', () => {
    const err = new Error('cycle') as Error & { self?: unknown };
    err.self = err;
    expect(caught(() => expectNoSecrets(err, [SECRET]))).to.equal(undefined);
  });
});
