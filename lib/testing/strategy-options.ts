/**
 * Ready-made strategy options for the emulator: every URL and key of one of its apps in one
 * object, so `baseURL`, `authorizationURL` and the keys cannot be half-set (half-set, the token
 * requests go to the emulator while the browser goes to the real x.com, or the other way round).
 */
import { isRegisteredOAuth1Callback, isRegisteredOAuth2RedirectURI } from './callback-urls';
import type { XEmulatorApps } from './fixtures';

/** The second argument of `x.oauth2StrategyOptions()` and the argument of `x.oauth1StrategyOptions()`. */
export interface XEmulatorStrategyOptionsInput {
  /** Your app's callback URL, e.g. `http://127.0.0.1:3000/auth/x/callback`: a registered one (by default any loopback URL). */
  callbackURL: string;
}

/** Options for `new XOAuth2PkceStrategy(...)` against the emulator's confidential client (spread them, add your own). */
export interface XEmulatorConfidentialStrategyOptions {
  /** The emulator's confidential client ID. */
  clientID: string;
  /** Its client secret (public: the emulator's keys are test fixtures). */
  clientSecret: string;
  /** Basic client authentication at the token endpoint. */
  clientType: 'confidential';
  /** The callback URL you passed. */
  callbackURL: string;
  /** The emulator's URL: the token and users/me requests go there. */
  baseURL: string;
  /** The emulator's consent page: the browser goes there. */
  authorizationURL: string;
}

/** Options for `new XOAuth2PkceStrategy(...)` against the emulator's public client (no secret). */
export interface XEmulatorPublicStrategyOptions {
  /** The emulator's public client ID. */
  clientID: string;
  /** `client_id` in the body, no secret. */
  clientType: 'public';
  /** The callback URL you passed. */
  callbackURL: string;
  /** The emulator's URL: the token and users/me requests go there. */
  baseURL: string;
  /** The emulator's consent page: the browser goes there. */
  authorizationURL: string;
}

/** Options for `new XOAuth1Strategy(...)` against the emulator's OAuth 1.0a app. */
export interface XEmulatorOAuth1StrategyOptions {
  /** The emulator's OAuth 1.0a app key. */
  consumerKey: string;
  /** Its secret (public: the emulator's keys are test fixtures). */
  consumerSecret: string;
  /** The callback URL you passed. */
  callbackURL: string;
  /** The emulator's URL: every OAuth 1.0a endpoint, the consent page included, derives from it. */
  baseURL: string;
}

function checkInput(input: unknown, method: string): string {
  if (typeof input !== 'object' || input === null) throw new TypeError(`passport-x/testing: ${method} takes { callbackURL }: your app's callback URL.`);
  const { callbackURL } = input as Partial<XEmulatorStrategyOptionsInput>;
  if (typeof callbackURL !== 'string' || callbackURL === '') throw new TypeError(`passport-x/testing: ${method} needs \`callbackURL\`, your app's callback URL.`);
  return callbackURL;
}

function notRegistered(callbackURL: string, app: string, registered: readonly string[] | undefined, option: string): TypeError {
  const accepted = registered ? `one of ${registered.join(', ')}` : 'a loopback URL such as http://127.0.0.1:3000/auth/x/callback';
  return new TypeError(`passport-x/testing: the emulator's ${app} does not accept the callbackURL ${callbackURL}: use ${accepted} (or list it in ${option}).`);
}

/** `x.oauth2StrategyOptions(client, { callbackURL })`. */
export function oauth2StrategyOptions(
  apps: XEmulatorApps,
  emulator: { baseURL: string; authorizationURL: string },
  client: unknown,
  input: unknown,
): XEmulatorConfidentialStrategyOptions | XEmulatorPublicStrategyOptions {
  if (client !== 'confidential' && client !== 'public') {
    throw new TypeError("passport-x/testing: oauth2StrategyOptions() takes 'confidential' (a Web App, with a client secret) or 'public' (a Native App or Single page App).");
  }
  const callbackURL = checkInput(input, 'oauth2StrategyOptions()');
  const app = apps[client];
  if (!isRegisteredOAuth2RedirectURI(app.callbackURLs, callbackURL)) throw notRegistered(callbackURL, `${client} client`, app.callbackURLs, `apps.${client}.callbackURLs`);
  const urls = { callbackURL, baseURL: emulator.baseURL, authorizationURL: emulator.authorizationURL };
  if (client === 'confidential') return { clientID: apps.confidential.clientID, clientSecret: apps.confidential.clientSecret, clientType: 'confidential', ...urls };
  return { clientID: apps.public.clientID, clientType: 'public', ...urls };
}

/** `x.oauth1StrategyOptions({ callbackURL })`. */
export function oauth1StrategyOptions(apps: XEmulatorApps, emulator: { baseURL: string }, input: unknown): XEmulatorOAuth1StrategyOptions {
  const callbackURL = checkInput(input, 'oauth1StrategyOptions()');
  const app = apps.oauth1;
  if (!isRegisteredOAuth1Callback(app.callbackURLs, callbackURL)) throw notRegistered(callbackURL, 'OAuth 1.0a app', app.callbackURLs, 'apps.oauth1.callbackURLs');
  return { consumerKey: app.consumerKey, consumerSecret: app.consumerSecret, callbackURL, baseURL: emulator.baseURL };
}
