// lib/request.ts: resolving a relative callbackURL against the request, as passport-oauth1/oauth2's
// originalURL does, for every framework's request and for hostile Host headers.
import { expect } from 'chai';
import { resolve as resolveURL } from 'node:url';
import { resolveCallbackURL, type XAuthRequest } from '../lib/request';

// passport-oauth2's own resolution (passport-oauth1's is the same code): the reference for every valid host.
const { originalURL } = require('passport-oauth2/lib/utils') as { originalURL(req: object, options: { proxy?: boolean }): string };

/** A request as a framework hands it to a strategy: headers lower-cased, the socket where `where` says. */
function request(headers: Record<string, string | string[]>, init: { url?: string; encrypted?: boolean; where?: 'express' | 'fastify' | 'none'; app?: object } = {}): XAuthRequest {
  const socket = { encrypted: init.encrypted ?? false };
  const req: XAuthRequest = { headers, url: init.url ?? '/auth/x?code=the-secret-code&state=s' };
  const where = init.where ?? 'express';
  if (where === 'express') Object.assign(req, { socket, connection: socket });
  // Fastify (through @fastify/passport) hands the strategy its own request: no `connection`, the Node request under `raw`.
  if (where === 'fastify') Object.assign(req, { raw: { socket } });
  if (init.app) req.app = init.app;
  return req;
}

describe('resolveCallbackURL', () => {
  it('resolves against the Host header and the request path, over http or https as the socket says', () => {
    expect(resolveCallbackURL(request({ host: 'app.example:3000' }), '/auth/x/callback', false)).to.equal('http://app.example:3000/auth/x/callback');
    expect(resolveCallbackURL(request({ host: 'app.example' }, { encrypted: true }), '/auth/x/callback', false)).to.equal('https://app.example/auth/x/callback');
    // A path relative to the request's, as url.resolve does.
    expect(resolveCallbackURL(request({ host: 'app.example' }, { url: '/auth/x/start?x=1' }), 'callback', false)).to.equal('http://app.example/auth/x/callback');
    expect(resolveCallbackURL(request({ host: '[::1]:3000' }), '/cb', false)).to.equal('http://[::1]:3000/cb');
  });

  it('reads the socket of a Fastify request (no `connection`: under `raw`), and treats a request without one as plain http', () => {
    expect(resolveCallbackURL(request({ host: 'app.example' }, { where: 'fastify', encrypted: true }), '/cb', false)).to.equal('https://app.example/cb');
    expect(resolveCallbackURL(request({ host: 'app.example' }, { where: 'fastify' }), '/cb', false)).to.equal('http://app.example/cb');
    expect(resolveCallbackURL(request({ host: 'app.example' }, { where: 'none' }), '/cb', false)).to.equal('http://app.example/cb');
  });

  it('trusts X-Forwarded-Proto and X-Forwarded-Host only with proxy (or Express\'s trust proxy), taking the first of a list', () => {
    const forwarded = { host: 'internal:8080', 'x-forwarded-proto': 'https, http', 'x-forwarded-host': 'app.example, lb.internal:8080' };
    expect(resolveCallbackURL(request(forwarded), '/cb', false)).to.equal('http://internal:8080/cb');
    expect(resolveCallbackURL(request(forwarded), '/cb', true)).to.equal('https://app.example/cb');
    const trusting = { get: (setting: string) => setting === 'trust proxy' };
    expect(resolveCallbackURL(request(forwarded, { app: trusting }), '/cb', false)).to.equal('https://app.example/cb');
    // An empty X-Forwarded-Host falls back to Host.
    expect(resolveCallbackURL(request({ host: 'app.example', 'x-forwarded-host': '' }), '/cb', true)).to.equal('http://app.example/cb');
  });

  it('answers exactly what passport-oauth2 sends as redirect_uri for every valid host: no port dropped, no path re-encoded', () => {
    const cases: Array<[Record<string, string>, string, string, boolean]> = [
      // [headers, request URL, callbackURL, proxy]
      [{ host: 'app.example:443', 'x-forwarded-proto': 'https' }, '/auth/x', '/auth/x/callback', true],
      [{ host: 'example.com:80' }, '/auth/x', '/auth/x/callback', false],
      [{ host: 'App.Example:3000' }, '/auth/x?code=c', '/auth/x/c\u00e4llback', false],
      [{ host: 'app.example' }, '/a/b/start', '../x/cb|^', false],
      [{ host: '127.0.0.1:3000' }, '/', 'callback?from=x', false],
      [{ host: '[::1]:8080' }, '/auth', '/cb', false],
      [{ host: 'internal', 'x-forwarded-host': 'app.example:8443', 'x-forwarded-proto': 'https' }, '/auth/x', '/cb', true],
    ];
    for (const [headers, url, callbackURL, proxy] of cases) {
      const req = request(headers, { url });
      const passports = resolveURL(originalURL(req, { proxy }), callbackURL);
      expect(resolveCallbackURL(req, callbackURL, proxy), `${JSON.stringify(headers)} ${callbackURL}`).to.equal(passports);
    }
    expect(resolveCallbackURL(request({ host: 'app.example:443', 'x-forwarded-proto': 'https' }), '/cb', true)).to.equal('https://app.example:443/cb');
  });

  it('answers undefined, never throws, for a host that cannot form a URL, and never parses the query', () => {
    for (const host of ['', '[::1', 'a b', 'evil.example/path', 'evil.example?q', 'user@evil.example', 'a.example\\b', 'a.example:99999', 'a\r\nb']) {
      expect(resolveCallbackURL(request({ host }), '/cb', false), JSON.stringify(host)).to.equal(undefined);
    }
    expect(resolveCallbackURL(request({}), '/cb', false), 'no Host').to.equal(undefined);
    expect(resolveCallbackURL(request({ host: 'ok.example', 'x-forwarded-host': 'a.com:443 b.com' }), '/cb', true), 'a broken forwarded host').to.equal(undefined);
    // The callback's query (its code) is not part of what is resolved.
    expect(resolveCallbackURL(request({ host: 'app.example' }, { url: '/cb?code=the-secret-code' }), '', false)).to.equal('http://app.example/cb');
  });
});
