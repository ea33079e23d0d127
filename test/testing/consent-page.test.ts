// The emulator's pages: escaped, accessible, and posting what the handlers read.
import { expect } from 'chai';
import { escapeHTML, renderConsentPage, renderErrorPage, renderPinPage } from '../../lib/testing/consent-page';
import { startXEmulator } from '../../lib/testing';
import { authorizeURL, readConsentForm } from './emulator-client';

const HOSTILE = `"><script>alert('x')</script>&`;

describe('emulator: consent pages', () => {
  it('escapes the five HTML metacharacters', () => {
    expect(escapeHTML(`<a href="x" title='y'>&</a>`)).to.equal('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });

  it('renders an accessible consent form: one h1, a labelled choice of user, the permissions, two named buttons', () => {
    const html = renderConsentPage({
      appName: 'Demo',
      permissions: [{ scope: 'tweet.read', description: 'Read posts.' }, { description: 'See your email address.' }],
      users: [
        { id: '1', username: 'ada', name: 'Ada Lovelace' },
        { id: '2', username: 'grace', name: 'Grace Hopper' },
      ],
      selectedUserId: '2',
      action: '/i/oauth2/authorize',
      hidden: { request_id: 'abc' },
      returnTo: 'http://127.0.0.1:3000/cb?x=1',
    });
    expect(html).to.match(/^<!doctype html>\n<html lang="en">/);
    expect(html.match(/<h1>/g)).to.have.length(1);
    expect(html).to.include('<h1>Authorize Demo to access your account?</h1>');
    expect(html).to.include('<legend>Sign in as</legend>');
    expect(html).to.include('<li><code>tweet.read</code>: Read posts.</li>');
    expect(html).to.include('<li>See your email address.</li>');
    expect(html).to.include('<button type="submit" name="action" value="authorize" class="primary">Authorize app</button>');
    expect(html).to.include('<button type="submit" name="action" value="cancel">Cancel</button>');
    expect(html.indexOf('Authorize app</button>'), 'Enter authorizes').to.be.below(html.indexOf('Cancel</button>'));
    expect(html).to.include('<strong>http://127.0.0.1:3000</strong>');
    expect(html).to.not.include('<script');
    expect(readConsentForm(html)).to.deep.equal({
      action: '/i/oauth2/authorize',
      hidden: { request_id: 'abc' },
      users: [
        { id: '1', checked: false },
        { id: '2', checked: true },
      ],
    });
  });

  it('preselects the first user when none or an unknown one is asked for', () => {
    const options = { appName: 'A', permissions: [], users: [{ id: '1', username: 'a', name: 'A' }, { id: '2', username: 'b', name: 'B' }], action: '/x', hidden: {} };
    expect(readConsentForm(renderConsentPage(options)).users[0]!.checked).to.equal(true);
    expect(readConsentForm(renderConsentPage({ ...options, selectedUserId: '9' })).users[0]!.checked).to.equal(true);
  });

  it('escapes every value it puts in a page', () => {
    const html = renderConsentPage({
      appName: HOSTILE,
      permissions: [{ scope: HOSTILE, description: HOSTILE }],
      users: [{ id: HOSTILE, username: HOSTILE, name: HOSTILE, profileImageURL: HOSTILE }],
      action: HOSTILE,
      hidden: { [HOSTILE]: HOSTILE },
      returnTo: `https://a.example/${HOSTILE}`,
    });
    expect(html).to.not.include('<script');
    expect(html).to.not.include(HOSTILE);
    expect(readConsentForm(html).hidden).to.deep.equal({ [HOSTILE]: HOSTILE });
    for (const page of [renderErrorPage(HOSTILE, HOSTILE), renderPinPage(HOSTILE, HOSTILE)]) expect(page).to.not.include('<script');
  });

  it('serves pages with an HTML escape of fixture values and headers that keep them inert', async () => {
    const x = await startXEmulator({
      users: [{ id: '1', username: 'mallory', name: HOSTILE }],
      apps: { confidential: { name: HOSTILE, clientID: 'c', clientSecret: 's' } },
    });
    try {
      const response = await fetch(authorizeURL(x, { client_id: 'c', state: HOSTILE }));
      expect(response.status).to.equal(200);
      expect(response.headers.get('content-security-policy')).to.include("default-src 'none'");
      expect(response.headers.get('x-frame-options')).to.equal('DENY');
      expect(response.headers.get('referrer-policy')).to.equal('no-referrer');
      const html = await response.text();
      expect(html).to.not.include('<script');
      expect(html).to.include('&lt;script&gt;');
    } finally {
      await x.close();
    }
  });
});
