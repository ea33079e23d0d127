/**
 * Ready-made strategy options for the emulator: every URL and key of one of its apps in one
 * object, so `baseURL`, `authorizationURL` and the keys cannot be half-set (half-set, the token
 * requests go to the emulator while the browser goes to the real x.com, or the other way round).
 */
import type { XEmulatorAppKind } from './callback-urls';
import type { XEmulatorApps } from './fixtures';

/** The second argument of `x.oauth2StrategyOptions()` and the argument of `x.oauth1StrategyOptions()`. */
export interface XEmulatorStrategyOptionsInput {
  /**
   * Your app's callback URL, e.g. `http://127.0.0.1:3000/auth/x/callback`. The helper registers it
   * with the emulator's app, exactly, as you would in X's developer portal.
   */
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

/**
 * Registers `callbackURL` with the app, as a developer registers it in X's developer portal (X
 * matches callback URLs exactly, so the emulator must know yours). What X would not register (not
 * absolute, a fragment, a disallowed scheme) is a TypeError, an 11th URL a RangeError, each saying
 * which app refused it.
 */
function registerCallback(callbackURL: string, app: string, register: () => void): void {
  try {
    register();
  } catch (err) {
    const reason = err instanceof Error ? err.message.replace(/^passport-x\/testing: /, '') : String(err);
    const message = `passport-x/testing: the emulator's ${app} does not accept the callbackURL ${callbackURL}: ${reason}`;
    throw err instanceof RangeError ? new RangeError(message) : new TypeError(message);
  }
}

/** Registers a callback URL for one of the emulator's apps (`x.addCallbackURL(url, app)`). */
export type RegisterCallbackURL = (url: string, app: XEmulatorAppKind) => void;

/** `x.oauth2StrategyOptions(client, { callbackURL })`: registers `callbackURL` with the client, then gives its options. */
export function oauth2StrategyOptions(
  apps: () => XEmulatorApps,
  emulator: { baseURL: string; authorizationURL: string },
  client: unknown,
  input: unknown,
  register: RegisterCallbackURL,
): XEmulatorConfidentialStrategyOptions | XEmulatorPublicStrategyOptions {
  if (client !== 'confidential' && client !== 'public') {
    throw new TypeError("passport-x/testing: oauth2StrategyOptions() takes 'confidential' (a Web App, with a client secret) or 'public' (a Native App or Single page App).");
  }
  const callbackURL = checkInput(input, 'oauth2StrategyOptions()');
  registerCallback(callbackURL, `${client} client`, () => register(callbackURL, client));
  const urls = { callbackURL, baseURL: emulator.baseURL, authorizationURL: emulator.authorizationURL };
  const { confidential, public: publicClient } = apps();
  if (client === 'confidential') return { clientID: confidential.clientID, clientSecret: confidential.clientSecret, clientType: 'confidential', ...urls };
  return { clientID: publicClient.clientID, clientType: 'public', ...urls };
}

/** `x.oauth1StrategyOptions({ callbackURL })`: registers `callbackURL` with the OAuth 1.0a app, then gives its options. */
export function oauth1StrategyOptions(apps: () => XEmulatorApps, emulator: { baseURL: string }, input: unknown, register: RegisterCallbackURL): XEmulatorOAuth1StrategyOptions {
  const callbackURL = checkInput(input, 'oauth1StrategyOptions()');
  registerCallback(callbackURL, 'OAuth 1.0a app', () => register(callbackURL, 'oauth1'));
  const app = apps().oauth1;
  return { consumerKey: app.consumerKey, consumerSecret: app.consumerSecret, callbackURL, baseURL: emulator.baseURL };
}
