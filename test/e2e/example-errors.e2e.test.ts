// The example app (Express) answers a form it will not read with the form's fault, as the Koa
// variant does: 413 for one over its 4 kB, never a 500 with a stack in the log.
import { expect } from 'chai';
import { request } from 'node:http';
import { ROUTES } from '../../example-app/views';
import { exampleAppOnEmulator } from '../support/example-stack';

function post(url: string, body: string, contentType: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('example app: forms it will not read', function () {
  const stack = exampleAppOnEmulator('errors-test-session-secret-of-40-chars!');

  it('answers 413 to a form over 4 kB and 415 to one in an encoding it does not read, logging nothing', async function () {
    const { server, logged } = stack;
    const big = await post(`${server.origin}${ROUTES.logout}`, `csrf=${'a'.repeat(5000)}`, 'application/x-www-form-urlencoded');
    expect(big.status).to.equal(413);
    expect(big.text).to.contain('The form is larger than this app accepts.');
    const encoded = await post(`${server.origin}${ROUTES.logout}`, 'csrf=a', 'application/x-www-form-urlencoded; charset=koi8-x');
    expect(encoded.status).to.equal(415);
    expect(encoded.text).to.contain('The server could not read this form.');
    // More fields than the parser takes (body-parser: 1,000), in under 4 kB: the form's fault too.
    const many = await post(`${server.origin}${ROUTES.logout}`, 'a&'.repeat(1001), 'application/x-www-form-urlencoded');
    expect(many.status).to.equal(413);
    expect(logged).to.deep.equal([]);
  });
});
