// The example app (Express) behind a TLS-terminating proxy that passes its own Host and the
// browser's in X-Forwarded-Host (Apache's ProxyPass does): a sign-in starts at the public URL's
// host as the proxy says it, not in a redirect to itself.
import { expect } from 'chai';
import { request } from 'node:http';
import { ROUTES } from '../../example-app/views';
import { exampleAppOnEmulator } from '../support/example-stack';

const PUBLIC_URL = 'https://app.example.com';

function startSignIn(url: string, headers: Record<string, string>): Promise<{ status: number; location: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, location: res.headers.location });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('example app behind a proxy that passes its own Host', function () {
  const stack = exampleAppOnEmulator('proxy-test-session-secret-of-40-chars!!', { publicURL: PUBLIC_URL, configure: (config) => ({ ...config, trustProxy: true }) });

  it('starts the sign-in when X-Forwarded-Host names the public host, and sends any other host there', async function () {
    const { x, server } = stack;
    const viaProxy = await startSignIn(`${server.origin}${ROUTES.oauth2Start}`, { 'x-forwarded-host': 'app.example.com', 'x-forwarded-proto': 'https' });
    expect(viaProxy.status).to.equal(302);
    expect(viaProxy.location?.startsWith(`${x.url}/i/oauth2/authorize?`), viaProxy.location).to.equal(true);
    // Without the proxy's word, this server's own host is not the public one: redirected there first.
    const direct = await startSignIn(`${server.origin}${ROUTES.oauth2Start}`, {});
    expect(direct).to.deep.equal({ status: 302, location: `${PUBLIC_URL}${ROUTES.oauth2Start}` });
  });
});
