/**
 * Where the example app keeps its users' OAuth 2.0 tokens, and the `XTokenManager` that keeps
 * them fresh. Framework-neutral: the Express app and the Koa variant share it.
 *
 * The tokens live in a token store keyed by the X user ID, not in the session: a session is
 * loaded per request, so two requests (or two instances) refreshing from their own copies would
 * spend X's single-use refresh token twice. The store is this process's memory by default, or
 * Redis when `REDIS_URL` is set (server.ts), next to a `RedisTokenLock` so that instances take
 * turns.
 *
 */
import { XRefreshTokenRevokedError, XTokenManager, XTokenNotFoundError, type XStoredTokenSet, type XTokenLock, type XTokenSet, type XTokenStore } from 'passport-x';
import type { ExampleConfig } from './config';
import { errorMessage } from './messages';
import type { PageMessage } from './views';

/** Tokens in this process's memory, as JSON (the way a database or Redis gives them back): one instance only, gone on restart. */
export function createMemoryTokenStore(): XTokenStore {
  const tokens = new Map<string, string>();
  return {
    async get(userKey) {
      const json = tokens.get(userKey);
      return json === undefined ? undefined : (JSON.parse(json) as XStoredTokenSet);
    },
    async set(userKey, tokenSet) {
      tokens.set(userKey, JSON.stringify(tokenSet));
    },
    async delete(userKey) {
      tokens.delete(userKey);
    },
  };
}

/** The node-redis commands {@link createRedisTokenStore} uses (`createClient()` from `redis` has them). */
export interface RedisTokenCommands {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, options: { PX: number }): Promise<unknown>;
  del(key: string): Promise<unknown>;
}

/** Prefix of the token store's keys in Redis. */
export const REDIS_TOKEN_PREFIX = 'passport-x-example:tokens:';

/**
 * How long a stored pair lives in Redis without a refresh: X does not document the refresh
 * token's lifetime, so a pair unused for this long is dropped rather than kept forever.
 */
export const REDIS_TOKEN_TTL_MS = 180 * 24 * 3600_000;

/** Tokens in Redis, as JSON under `passport-x-example:tokens:<X user ID>`, shared by every instance. */
export function createRedisTokenStore(client: RedisTokenCommands): XTokenStore {
  return {
    async get(userKey) {
      const json = await client.get(REDIS_TOKEN_PREFIX + userKey);
      return json === null ? undefined : (JSON.parse(json) as XStoredTokenSet);
    },
    set: (userKey, tokenSet) => client.set(REDIS_TOKEN_PREFIX + userKey, JSON.stringify(tokenSet), { PX: REDIS_TOKEN_TTL_MS }),
    delete: (userKey) => client.del(REDIS_TOKEN_PREFIX + userKey),
  };
}

/** The app's token store and, with an OAuth 2.0 client configured, the manager over it. */
export interface ExampleTokens {
  store: XTokenStore;
  manager: XTokenManager | undefined;
}

/** Builds the token store (`config.tokenStore`, or in memory) and the manager (lock: `config.tokenLock`, or in-process). */
export function createExampleTokens(config: Pick<ExampleConfig, 'x' | 'tokenStore' | 'tokenLock'>): ExampleTokens {
  const store = config.tokenStore ?? createMemoryTokenStore();
  const { oauth2, baseURL } = config.x;
  if (!oauth2) return { store, manager: undefined };
  const lock: XTokenLock | undefined = config.tokenLock;
  const manager = new XTokenManager({
    clientID: oauth2.clientID,
    ...(oauth2.clientSecret !== undefined ? { clientSecret: oauth2.clientSecret } : {}),
    ...(baseURL !== undefined ? { baseURL } : {}),
    store,
    ...(lock !== undefined ? { lock } : {}),
  });
  return { store, manager };
}

/** Whether the error means the user's tokens are gone and only a new sign-in gets new ones. */
export function needsNewSignIn(err: unknown): boolean {
  return err instanceof XRefreshTokenRevokedError || err instanceof XTokenNotFoundError;
}

/** What the profile page knows of the user's OAuth 2.0 tokens. */
export type ExampleTokenState = { kind: 'fresh'; tokens: XTokenSet } | { kind: 'gone' } | { kind: 'failed'; error: unknown };

/**
 * The user's tokens for the profile page, refreshed first when they expire within a minute
 * (the manager's `refreshBeforeMs`): `gone` when X refused the refresh token or nothing is
 * stored (sign in again), `failed` for anything else (X down, time-out).
 */
export async function tokensForProfile(manager: XTokenManager | undefined, userKey: string): Promise<ExampleTokenState> {
  if (!manager) return { kind: 'gone' };
  try {
    return { kind: 'fresh', tokens: await manager.getTokenSet(userKey) };
  } catch (err) {
    return needsNewSignIn(err) ? { kind: 'gone' } : { kind: 'failed', error: err };
  }
}

/**
 * The message after a failed refresh, for the person: for a refused refresh token what to do
 * (sign in again); otherwise as any other error (messages.ts). X's own words go to the log.
 */
export function refreshFailureMessage(err: unknown): PageMessage {
  if (err instanceof XRefreshTokenRevokedError) {
    return { kind: 'error', text: 'Refreshing the access token failed: X refused the refresh token (it was used, revoked or has expired). Sign in again to get new tokens.' };
  }
  if (err instanceof XTokenNotFoundError) return { kind: 'error', text: 'Refreshing the access token failed: this app has no tokens for you any more. Sign in again to get new tokens.' };
  return errorMessage('Refreshing the access token', err);
}
