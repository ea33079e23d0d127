/**
 * What the XTokenManager tests share: a user signed in on the emulator over OAuth 2.0 (consent
 * form, code, token exchange, as the strategy does), and token stores that keep the set as JSON,
 * the way a real store does (so `expiresAt` comes back as a string), in memory or in Redis.
 * The child processes of the concurrency test (token-worker.ts) use the Redis store too.
 */
import { requestOAuth2Token, xEndpoints, type XTokenSet } from '../../lib/endpoints';
import type { XEmulator } from '../../lib/testing';
import type { XStoredTokenSet, XTokenStore } from '../../lib/tokens';
import type { XRedisClient } from '../../lib/redis';
import { authorizeURL, CALLBACK, consent, RFC7636_VERIFIER } from '../testing/emulator-client';

/** Signs the emulator's first user in with its confidential (or public) client; resolves to X's token set. */
export async function signInOnEmulator(x: XEmulator, scope = 'tweet.read users.read offline.access', kind: 'confidential' | 'public' = 'confidential'): Promise<XTokenSet> {
  const clientID = x.apps[kind].clientID;
  const location = await consent(authorizeURL(x, { scope, client_id: clientID }));
  const code = location.searchParams.get('code');
  if (!code) throw new Error('the emulator gave no code');
  const grant = { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: RFC7636_VERIFIER };
  const client = kind === 'confidential' ? { clientID, clientSecret: x.apps.confidential.clientSecret } : { clientID };
  const { tokens } = await requestOAuth2Token(xEndpoints(x.baseURL).oauth2Token, client, grant, {}, 'exchange the code');
  return tokens;
}

/** A JSON store in memory that counts its calls and logs them in order. */
export class MemoryJSONStore implements XTokenStore {
  readonly data = new Map<string, string>();
  gets = 0;
  sets = 0;
  deletes = 0;
  /** `get`, `set`, `delete`, plus whatever the test appends, in order. */
  readonly log: string[] = [];

  async get(userKey: string): Promise<XStoredTokenSet | undefined> {
    this.gets++;
    this.log.push('get');
    const json = this.data.get(userKey);
    return json === undefined ? undefined : (JSON.parse(json) as XStoredTokenSet);
  }

  async set(userKey: string, tokens: XTokenSet): Promise<void> {
    this.sets++;
    this.log.push('set');
    this.data.set(userKey, JSON.stringify(tokens));
  }

  async delete(userKey: string): Promise<void> {
    this.deletes++;
    this.log.push('delete');
    this.data.delete(userKey);
  }

  /** What is stored, parsed, for assertions. */
  peek(userKey: string): Record<string, unknown> | undefined {
    const json = this.data.get(userKey);
    return json === undefined ? undefined : (JSON.parse(json) as Record<string, unknown>);
  }
}

/** The few commands a JSON token store needs, in node-redis's spelling. */
export interface NodeRedisKV {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<unknown>;
  del(key: string): Promise<unknown>;
}

/** A JSON token store in Redis (node-redis), under `tokens:<userKey>`: the docs' store. */
export function redisJSONStore(client: NodeRedisKV & XRedisClient, prefix = 'test-tokens:'): XTokenStore {
  return {
    async get(userKey) {
      const json = await client.get(prefix + userKey);
      return json === null ? undefined : (JSON.parse(json) as XTokenSet);
    },
    set: (userKey, tokens) => client.set(prefix + userKey, JSON.stringify(tokens)),
    delete: (userKey) => client.del(prefix + userKey),
  };
}
