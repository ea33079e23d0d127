// The emulator's pages besides consent: profiles at /<username>, the home page, the favicon, and
// the way back to the app from every page, over real HTTP.
import { expect } from 'chai';
import { startXEmulator, type XEmulator } from '../../lib/testing';
import { authorizeURL, consent, signedFetch } from './emulator-client';

const BACK_LINK = '<a href="/i/back">← Back to the app</a>';

async function html(response: Response, status = 200): Promise<string> {
  expect(response.status).to.equal(status);
  expect(response.headers.get('content-type')).to.match(/^text\/html/);
  return response.text();
}

describe('emulator: pages around the consent page', () => {
  let x: XEmulator;
  beforeEach(async () => {
    x = await startXEmulator();
  });
  afterEach(() => x.close());

  it('serves a favicon, so a browser gets no 404', async () => {
    const response = await fetch(`${x.url}/favicon.ico`);
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.equal('image/svg+xml');
    expect(await response.text()).to.match(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  });

  it('shows a user\'s profile at /<username>, as x.com does, in any case, with the way back', async () => {
    const ada = x.users[0];
    for (const path of [`/${ada.username}`, `/${ada.username.toUpperCase()}`]) {
      const page = await html(await fetch(`${x.url}${path}`));
      expect(page).to.contain(`<h1>${ada.name}</h1>`).and.to.contain(`@${ada.username}`).and.to.contain(ada.id).and.to.contain(BACK_LINK);
      expect(page).to.contain(`<img src="${ada.profileImageURL}" alt="">`);
    }
  });

  it('keeps X\'s 404 for a name that is no user, and for another method', async () => {
    const unknown = await fetch(`${x.url}/nobody`);
    expect(unknown.status).to.equal(404);
    expect(await unknown.json()).to.have.nested.property('errors[0].code', 34);
    expect((await fetch(`${x.url}/ada`, { method: 'POST' })).status).to.equal(404);
  });

  it('escapes what a profile shows', async () => {
    const hostile = `"><script>alert(1)</script>`;
    const custom = await startXEmulator({ users: [{ id: '7', username: 'eve', name: hostile, description: hostile, location: hostile, url: `https://e.example/${hostile}` }] });
    try {
      const page = await html(await fetch(`${custom.url}/eve`));
      expect(page).not.to.contain('<script>');
      expect(page).to.contain('&lt;script&gt;');
    } finally {
      await custom.close();
    }
  });

  it('has a home page that lists the users; before any app sent someone, /i/back leads there and the page has no back link', async () => {
    const back = await fetch(`${x.url}/i/back`, { redirect: 'manual' });
    expect(back.status).to.equal(302);
    expect(back.headers.get('location')).to.equal('/');
    const home = await html(await fetch(`${x.url}/`));
    expect(home).to.contain('<a href="/ada">Ada Lovelace</a>').and.to.contain('No app has sent anyone here yet.').and.not.to.contain(BACK_LINK);
  });

  it('leads back to the app whose OAuth 2.0 consent page it showed, and whose callback it redirected to', async () => {
    // X matches callback URLs exactly: register the two apps' URLs, as in the developer portal.
    x.addCallbackURL('http://localhost:4010/cb');
    x.addCallbackURL('http://127.0.0.1:4020/auth/x/callback');
    const page = await html(await fetch(authorizeURL(x, { redirect_uri: 'http://localhost:4010/cb' })));
    // The consent page's way back is its Cancel button.
    expect(page).not.to.contain(BACK_LINK);
    let back = await fetch(`${x.url}/i/back`, { redirect: 'manual' });
    expect(back.headers.get('location')).to.equal('http://localhost:4010/');

    await consent(authorizeURL(x, { redirect_uri: 'http://127.0.0.1:4020/auth/x/callback' }));
    back = await fetch(`${x.url}/i/back`, { redirect: 'manual' });
    expect(back.headers.get('location')).to.equal('http://127.0.0.1:4020/');
    expect(await html(await fetch(`${x.url}/`))).to.contain(BACK_LINK).and.not.to.contain('No app has sent anyone here yet.');
  });

  it('leads back to the app of an OAuth 1.0a request token, and links back from the "no longer valid" page', async () => {
    x.addCallbackURL('http://127.0.0.1:4030/auth/x/oauth1/callback', 'oauth1');
    const issued = await signedFetch(x, { method: 'POST', path: '/oauth/request_token', oauth: { oauth_callback: 'http://127.0.0.1:4030/auth/x/oauth1/callback' } });
    const token = new URLSearchParams(await issued.text()).get('oauth_token')!;
    expect(await html(await fetch(`${x.url}/oauth/authenticate?oauth_token=${token}`))).not.to.contain(BACK_LINK);
    const back = await fetch(`${x.url}/i/back`, { redirect: 'manual' });
    expect(back.headers.get('location')).to.equal('http://127.0.0.1:4030/');

    const stale = await html(await fetch(`${x.url}/oauth/authenticate?oauth_token=not-a-token`), 400);
    expect(stale).to.contain('This page is no longer valid').and.to.contain(BACK_LINK);
  });
});
