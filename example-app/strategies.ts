/**
 * The example app's two strategies, built from an {@link ExampleConfig}. Framework-neutral:
 * the Express app registers them on its own Passport instance, the Koa variant on koa-passport's.
 */
import { XOAuth1Strategy, XOAuth2PkceStrategy, revokeToken, type XOAuth2TokenParams, type XProfile, type XTokenManager, type XTokenSet, type XVerifyCallback } from 'passport-x';
import { OAUTH2_SCOPES, callbackURLs, type ExampleConfig } from './config';
import { logLine } from './messages';
import { userFromOAuth1, userFromOAuth2 } from './users';

/** The names the strategies are registered under. */
export const STRATEGY_NAMES = Object.freeze({ oauth2: 'x-oauth2', oauth1: 'x-oauth1' } as const);

/** The strategies the configuration has credentials for (one or both). */
export interface ExampleStrategies {
  oauth2?: XOAuth2PkceStrategy | undefined;
  oauth1?: XOAuth1Strategy | undefined;
}

/**
 * Builds the strategies. Each verify callback turns X's profile and tokens into the session's
 * user (see users.ts); a real app would find or create its own user record here. The OAuth 2.0
 * tokens go to the token store through `tokens.store()`, under the X user ID, where `XTokenManager`
 * keeps them fresh: under its lock, so that a refresh of the user's earlier tokens still in flight
 * cannot overwrite the new sign-in's. One grant per user: the tokens of the user's earlier sign-in
 * (another browser), which the store replaced, are then revoked at X, so none is left live and
 * unknown to the app.
 */
export function createStrategies(config: ExampleConfig, tokens: Pick<XTokenManager, 'store'> | undefined): ExampleStrategies {
  const log = config.log ?? ((line: string) => console.error(line));
  const callbacks = callbackURLs(config.publicURL);
  const { x } = config;
  const strategies: ExampleStrategies = {};
  // createExampleTokens makes a manager whenever an OAuth 2.0 client is configured.
  if (x.oauth2 && tokens) {
    const client: ExampleRevokeClient = { clientID: x.oauth2.clientID, clientSecret: x.oauth2.clientSecret, baseURL: x.baseURL };
    strategies.oauth2 = new XOAuth2PkceStrategy(
      {
        name: STRATEGY_NAMES.oauth2,
        clientID: x.oauth2.clientID,
        ...(x.oauth2.clientSecret !== undefined ? { clientSecret: x.oauth2.clientSecret } : {}),
        callbackURL: callbacks.oauth2,
        ...(x.baseURL !== undefined ? { baseURL: x.baseURL } : {}),
        ...(x.authorizationURL !== undefined ? { authorizationURL: x.authorizationURL } : {}),
        scope: OAUTH2_SCOPES,
        // With REDIS_URL, one claim per callback across every instance.
        ...(config.replayGuard ? { replayGuard: config.replayGuard } : {}),
      },
      (_accessToken: string, _refreshToken: string | undefined, params: XOAuth2TokenParams, profile: XProfile, done: XVerifyCallback) => {
        // Stored before the user is signed in: the profile page reads the tokens from there.
        replaceUserTokens(tokens, client, profile.id, params.tokenSet, log).then(
          () => done(null, userFromOAuth2(profile, params.tokenSet)),
          (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
        );
      },
    );
  }
  if (x.oauth1) {
    strategies.oauth1 = new XOAuth1Strategy(
      {
        name: STRATEGY_NAMES.oauth1,
        consumerKey: x.oauth1.consumerKey,
        consumerSecret: x.oauth1.consumerSecret,
        callbackURL: callbacks.oauth1,
        ...(x.baseURL !== undefined ? { baseURL: x.baseURL } : {}),
        ...(config.replayGuard ? { replayGuard: config.replayGuard } : {}),
      },
      (token: string, tokenSecret: string, profile: XProfile, done: XVerifyCallback) => done(null, userFromOAuth1(profile, token, tokenSecret)),
    );
  }
  if (!strategies.oauth2 && !strategies.oauth1) {
    throw new TypeError('The example app needs X credentials for at least one protocol: `x.oauth2` (OAuth 2.0 client) or `x.oauth1` (consumer key and secret).');
  }
  return strategies;
}

/** What revoking a user's earlier tokens needs: the app's OAuth 2.0 client, and X's API host. */
export interface ExampleRevokeClient {
  clientID: string;
  clientSecret?: string | undefined;
  baseURL?: string | undefined;
}

/**
 * Stores a new sign-in's tokens for `userKey` (`XTokenManager.store`, under the user's lock), then
 * revokes at X the earlier grants it answers it replaced (another browser's sign-in), refresh token
 * first, after the lock (the store already holds the new set, so no other call uses them): the
 * app keeps one grant per user, and a grant it no longer stores must not stay live at X. A failed
 * revocation does not undo the sign-in (X just issued the new tokens); it is logged, as that grant
 * then stays live until it expires or the user removes the app on X.
 */
export async function replaceUserTokens(tokens: Pick<XTokenManager, 'store'>, client: ExampleRevokeClient, userKey: string, tokenSet: XTokenSet, log: (line: string) => void): Promise<void> {
  for (const previous of await tokens.store(userKey, tokenSet)) {
    const earlier: Array<[string | undefined, 'refresh_token' | 'access_token']> = [
      [previous.refreshToken, 'refresh_token'],
      [previous.accessToken, 'access_token'],
    ];
    for (const [token, tokenTypeHint] of earlier) {
      if (token === undefined) continue;
      try {
        await revokeToken({ ...client, token, tokenTypeHint });
      } catch (err) {
        log(logLine("Revoking the user's earlier tokens at a new sign-in", err));
      }
    }
  }
}
