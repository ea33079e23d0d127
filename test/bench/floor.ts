// The floor of `npm run bench`: Passport strategies that make the same requests to X as a real
// sign-in with the least work possible, so no real strategy can be cheaper. A bare `node:http(s)`
// keep-alive Agent, the least state in the session (one pending sign-in, overwritten by the next),
// no checks at all (no time-out, no size cap, no validation of X's answers, no typed errors), and
// the cheapest randomness Node has: crypto.randomUUID(), which serves 128 UUIDs per call into OpenSSL.
//   OAuth 1.0a: POST request_token, POST access_token, GET verify_credentials, each signed
//               HMAC-SHA1 (RFC 5849 section 3.4) with the parameters written out in sorted order.
//   OAuth 2.0:  POST 2/oauth2/token (Basic client authentication), GET 2/users/me.
import { createHash, createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
const { Strategy } = require('passport-strategy') as { Strategy: new () => PassportActions };

interface PassportActions {
  name: string;
  success(user: unknown, info?: unknown): void;
  fail(challenge?: unknown, status?: number): void;
  redirect(url: string, status?: number): void;
  error(err: Error): void;
}

interface Req {
  query: Record<string, string>;
  session: Record<string, unknown>;
}

type Verify = (profile: { id: string; username: string }, done: (err: Error | null, user?: unknown) => void) => void;

function send(base: URL, method: string, path: string, headers: Record<string, string>, body: string | undefined, agent: http.Agent, cb: (err: Error | null, body?: string) => void): void {
  const transport = base.protocol === 'https:' ? https : http;
  const req = transport.request({ host: base.hostname, port: base.port, method, path, headers, agent }, (res) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (text += chunk));
    res.on('end', () => cb(null, text));
  });
  req.on('error', cb);
  req.end(body);
}

function agentFor(base: URL): http.Agent {
  return base.protocol === 'https:' ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
}

const enc = encodeURIComponent; // the values signed here have none of !'()*

/** Floor for OAuth 1.0a: three signed requests, one pending request token per session. */
export class FloorOAuth1Strategy extends Strategy {
  private readonly base: URL;
  private readonly origin: string;
  private readonly agent: http.Agent;

  constructor(
    private readonly options: { baseURL: string; consumerKey: string; consumerSecret: string; callbackURL: string },
    private readonly verify: Verify,
  ) {
    super();
    this.name = 'floor-oauth1';
    this.base = new URL(options.baseURL);
    this.origin = this.base.origin;
    this.agent = agentFor(this.base);
  }

  private authorization(method: string, path: string, query: string, oauth: string, tokenSecret: string): string {
    // `oauth` and `query` are already sorted `k=v` pairs: the normalised parameters are their merge.
    const params = query ? [...oauth.split('&'), ...query.split('&')].sort().join('&') : oauth;
    const base = `${method}&${enc(this.origin + path)}&${enc(params)}`;
    const signature = createHmac('sha1', `${this.options.consumerSecret}&${tokenSecret}`).update(base).digest('base64');
    return `OAuth ${oauth.replace(/&/g, '", ').replace(/=/g, '="')}", oauth_signature="${enc(signature)}"`;
  }

  private oauthParams(extra: { callback?: string; token?: string; verifier?: string }): string {
    const nonce = randomUUID();
    const ts = Math.floor(Date.now() / 1000);
    let s = extra.callback === undefined ? '' : `oauth_callback=${enc(extra.callback)}&`;
    s += `oauth_consumer_key=${this.options.consumerKey}&oauth_nonce=${nonce}&oauth_signature_method=HMAC-SHA1&oauth_timestamp=${ts}`;
    if (extra.token !== undefined) s += `&oauth_token=${extra.token}`;
    if (extra.verifier !== undefined) s += `&oauth_verifier=${extra.verifier}`;
    return `${s}&oauth_version=1.0`;
  }

  authenticate(req: Req): void {
    const token = req.query.oauth_token;
    if (token === undefined) {
      const authorization = this.authorization('POST', '/oauth/request_token', '', this.oauthParams({ callback: this.options.callbackURL }), '');
      send(this.base, 'POST', '/oauth/request_token', { authorization }, undefined, this.agent, (err, body) => {
        if (err) return this.error(err);
        const answer = new URLSearchParams(body);
        const requestToken = answer.get('oauth_token') as string;
        req.session['floor:oauth1'] = answer.get('oauth_token_secret');
        this.redirect(`${this.origin}/oauth/authenticate?oauth_token=${requestToken}`);
      });
      return;
    }
    const verifier = req.query.oauth_verifier as string;
    const requestSecret = req.session['floor:oauth1'] as string;
    delete req.session['floor:oauth1'];
    const authorization = this.authorization('POST', '/oauth/access_token', '', this.oauthParams({ token, verifier }), requestSecret);
    send(this.base, 'POST', '/oauth/access_token', { authorization }, undefined, this.agent, (err, body) => {
      if (err) return this.error(err);
      const answer = new URLSearchParams(body);
      const accessToken = answer.get('oauth_token') as string;
      const accessSecret = answer.get('oauth_token_secret') as string;
      const query = 'include_email=false&include_entities=false&skip_status=true';
      const path = '/1.1/account/verify_credentials.json';
      const authorization = this.authorization('GET', path, query, this.oauthParams({ token: accessToken }), accessSecret);
      send(this.base, 'GET', `${path}?${query}`, { authorization }, undefined, this.agent, (err2, json) => {
        if (err2) return this.error(err2);
        const user = JSON.parse(json as string) as { id_str: string; screen_name: string };
        this.verify({ id: user.id_str, username: user.screen_name }, (err3, u) => (err3 ? this.error(err3) : this.success(u)));
      });
    });
  }
}

/** Floor for OAuth 2.0 with PKCE: a state and a verifier, two requests on the callback. */
export class FloorOAuth2Strategy extends Strategy {
  private readonly base: URL;
  private readonly basic: string;
  private readonly agent: http.Agent;
  private readonly authorize: string;
  private readonly redirectURI: string;

  constructor(
    private readonly options: { baseURL: string; clientID: string; clientSecret: string; callbackURL: string },
    private readonly verify: Verify,
  ) {
    super();
    this.name = 'floor-oauth2';
    this.base = new URL(options.baseURL);
    this.agent = agentFor(this.base);
    this.basic = `Basic ${Buffer.from(`${options.clientID}:${options.clientSecret}`).toString('base64')}`;
    this.redirectURI = enc(options.callbackURL);
    this.authorize = `${this.base.origin}/i/oauth2/authorize?response_type=code&client_id=${enc(options.clientID)}&redirect_uri=${this.redirectURI}&scope=tweet.read%20users.read`;
  }

  authenticate(req: Req): void {
    const code = req.query.code;
    if (code === undefined) {
      const state = randomUUID();
      const verifier = `${randomUUID()}${randomUUID()}`;
      req.session['floor:oauth2'] = verifier;
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      this.redirect(`${this.authorize}&state=${state}&code_challenge=${challenge}&code_challenge_method=S256`);
      return;
    }
    const verifier = req.session['floor:oauth2'] as string;
    delete req.session['floor:oauth2'];
    const body = `grant_type=authorization_code&code=${enc(code)}&redirect_uri=${this.redirectURI}&code_verifier=${verifier}&client_id=${enc(this.options.clientID)}`;
    const headers = { authorization: this.basic, 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length) };
    send(this.base, 'POST', '/2/oauth2/token', headers, body, this.agent, (err, tokenJSON) => {
      if (err) return this.error(err);
      const accessToken = (JSON.parse(tokenJSON as string) as { access_token: string }).access_token;
      send(this.base, 'GET', '/2/users/me?user.fields=id,name,username,profile_image_url', { authorization: `Bearer ${accessToken}` }, undefined, this.agent, (err2, json) => {
        if (err2) return this.error(err2);
        const user = (JSON.parse(json as string) as { data: { id: string; username: string } }).data;
        this.verify({ id: user.id, username: user.username }, (err3, u) => (err3 ? this.error(err3) : this.success(u)));
      });
    });
  }
}
