// The example app (Express) behind a TLS-terminating proxy that passes its own Host and the
// browser's in X-Forwarded-Host (Apache's ProxyPass does): a sign-in starts at the public URL's
// host as the proxy says it, not in a redirect to itself.
import { expect } from 'chai';
import { request } from 'node:http';
import { startXEmulator, type XEmulator } from '../../lib/testing';
import { emulatorConfig } from '../../example-app/config';
import { createExampleApp } from '../../example-app/app';
import { ROUTES } from '../../example-app/views';
import { serveOnLoopback, type LoopbackServer } from '../support/browserless';

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
  let x: XEmulator;
  let server: LoopbackServer;

  before(async function () {
    x = await startXEmulator();
    server = await serveOnLoopback();
    const config = { ...emulatorConfig(x, PUBLIC_URL, 'proxy-test-session-secret-of-40-chars!!'), trustProxy: true, log: () => undefined };
    server.server.on('request', createExampleApp(config));
  });

  after(async function () {
    await server?.close();
    await x?.close();
  });

  it('starts the sign-in when X-Forwarded-Host names the public host, and sends any other host there', async function () {
    const viaProxy = await startSignIn(`${server.origin}${ROUTES.oauth2Start}`, { 'x-forwarded-host': 'app.example.com', 'x-forwarded-proto': 'https' });
    expect(viaProxy.status).to.equal(302);
    expect(viaProxy.location?.startsWith(`${x.url}/i/oauth2/authorize?`), viaProxy.location).to.equal(true);
    // Without the proxy's word, this server's own host is not the public one: redirected there first.
    const direct = await startSignIn(`${server.origin}${ROUTES.oauth2Start}`, {});
    expect(direct).to.deep.equal({ status: 302, location: `${PUBLIC_URL}${ROUTES.oauth2Start}` });
  });
});
