/**
 * The example app's configuration: the {@link ExampleConfig} an app is built from, and
 * {@link readEnvironment}, which turns the environment (`PORT`, `PUBLIC_URL`,
 * `SESSION_SECRET`, `X_*`) into a start plan: run against the real X, or against the
 * emulator of `passport-x/testing` when no X credentials are set.
 * Framework-neutral: the Express app and the Koa variant read the same configuration.
 */
import { randomBytes } from 'node:crypto';
import type { Store } from 'express-session';
import type { XEmulator } from '../lib/testing';
import { ROUTES } from './views';

/** Where X is and the app's credentials there. */
export interface ExampleXSettings {
  /** X's API host (default `https://api.x.com`); the emulator's URL in emulator mode. */
  baseURL?: string | undefined;
  /** The OAuth 2.0 consent page (default `https://x.com/i/oauth2/authorize`). */
  authorizationURL?: string | undefined;
  /** OAuth 2.0 client (X developer portal, "OAuth 2.0 Client ID and Client Secret"); no "Sign in with X" button without it. */
  oauth2?: { clientID: string; clientSecret?: string | undefined } | undefined;
  /** OAuth 1.0a app credentials ("API Key and Secret"); no "Sign in with X (OAuth 1.0a)" button without them. */
  oauth1?: { consumerKey: string; consumerSecret: string } | undefined;
}

/** Everything {@link createExampleApp} needs; it reads no environment variable itself. */
export interface ExampleConfig {
  /** The origin users browse, e.g. `http://localhost:3000`; the callback URLs are built on it. */
  publicURL: string;
  /** Signs the session cookie. */
  sessionSecret: string;
  /** An express-session store (default: express-session's MemoryStore, one process only). */
  sessionStore?: Store | undefined;
  /** Trust `X-Forwarded-*` from one proxy in front (needed for secure cookies behind a TLS-terminating proxy). */
  trustProxy?: boolean | undefined;
  /** Where X is and the app's credentials there. */
  x: ExampleXSettings;
  /** A line shown on the home page (e.g. which emulator user to sign in as). */
  notice?: string | undefined;
  /** Where the app logs failures (default `console.error`). Never given a token or secret. */
  log?: ((line: string) => void) | undefined;
}

/** The OAuth 2.0 scopes the app asks for: `offline.access` gives a refresh token, so "Refresh token" works. */
export const OAUTH2_SCOPES: readonly string[] = Object.freeze(['tweet.read', 'users.read', 'offline.access']);

/** The two callback URLs to register in the X developer portal for `publicURL`. */
export function callbackURLs(publicURL: string): { oauth2: string; oauth1: string } {
  const origin = normalizePublicURL(publicURL);
  return { oauth2: `${origin}${ROUTES.oauth2Callback}`, oauth1: `${origin}${ROUTES.oauth1Callback}` };
}

/** A bad setting in the environment: the message says which variable, what is wrong and how to fix it. */
export class ExampleConfigError extends Error {
  override name = 'ExampleConfigError';
}

/**
 * `publicURL` as an origin without a trailing slash, e.g. `http://localhost:3000`. Throws
 * {@link ExampleConfigError} for anything but an http(s) origin: the app's routes live at the
 * root, and X compares callback URLs exactly.
 */
export function normalizePublicURL(publicURL: string, variable = 'publicURL'): string {
  let url: URL;
  try {
    url = new URL(publicURL);
  } catch {
    throw new ExampleConfigError(`${variable} is not a URL. Set it to the address users open, such as http://localhost:3000.`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    throw new ExampleConfigError(
      `${variable} must be an http(s) origin with no path, query or credentials (such as http://localhost:3000 or https://app.example.com): the app's routes live at the root and X compares callback URLs exactly.`,
    );
  }
  return url.origin;
}

/** What server.ts does on start, decided from the environment. */
export type StartPlan =
  | {
      /** No X credentials in the environment: start the emulator in this process and sign in there. */
      mode: 'emulator';
      port: number;
      /** Interface to listen on (default 127.0.0.1: the emulator mode is for this machine only). */
      host: string;
      /** `SESSION_SECRET`, or a random one per start. */
      sessionSecret: string;
      /** Settings given that emulator mode ignores, to mention on start. */
      ignored: string[];
    }
  | {
      /** X credentials in the environment: sign in with the real X. */
      mode: 'x';
      port: number;
      /** Interface to listen on (`HOST`; default: all, as Node's). */
      host: string | undefined;
      config: ExampleConfig;
    };

const X_VARIABLES = ['X_CLIENT_ID', 'X_CLIENT_SECRET', 'X_CONSUMER_KEY', 'X_CONSUMER_SECRET'] as const;

/** The smallest `SESSION_SECRET` accepted in real-X mode (32 random bytes in base64url are 43). */
export const MIN_SESSION_SECRET_LENGTH = 32;

const SECRET_HINT = 'generate one with: node -e "console.log(require(\'node:crypto\').randomBytes(32).toString(\'base64url\'))"';

function nonEmpty(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function readPort(env: NodeJS.ProcessEnv): number {
  const raw = nonEmpty(env, 'PORT');
  if (raw === undefined) return 3000;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535) throw new ExampleConfigError('PORT must be a port number between 0 and 65535 (default 3000).');
  return port;
}

/**
 * Reads the environment into a {@link StartPlan}; never logs or returns a secret in a message.
 * Throws {@link ExampleConfigError} when a setting is missing or malformed.
 */
export function readEnvironment(env: NodeJS.ProcessEnv): StartPlan {
  const port = readPort(env);
  const host = nonEmpty(env, 'HOST');
  const sessionSecret = nonEmpty(env, 'SESSION_SECRET');

  if (!X_VARIABLES.some((name) => nonEmpty(env, name) !== undefined)) {
    const ignored = nonEmpty(env, 'PUBLIC_URL') !== undefined ? ['PUBLIC_URL'] : [];
    return { mode: 'emulator', port, host: host ?? '127.0.0.1', sessionSecret: sessionSecret ?? randomSecret(), ignored };
  }

  const clientID = nonEmpty(env, 'X_CLIENT_ID');
  const clientSecret = nonEmpty(env, 'X_CLIENT_SECRET');
  const consumerKey = nonEmpty(env, 'X_CONSUMER_KEY');
  const consumerSecret = nonEmpty(env, 'X_CONSUMER_SECRET');
  if (clientSecret !== undefined && clientID === undefined) {
    throw new ExampleConfigError('X_CLIENT_SECRET is set but X_CLIENT_ID is not. Set both from the X developer portal ("Keys and tokens", OAuth 2.0 Client ID and Client Secret).');
  }
  if ((consumerKey === undefined) !== (consumerSecret === undefined)) {
    throw new ExampleConfigError(
      'Set both X_CONSUMER_KEY and X_CONSUMER_SECRET, or neither: they are the "API Key and Secret" of the X developer portal, used by the OAuth 1.0a sign-in.',
    );
  }
  if (sessionSecret === undefined) {
    throw new ExampleConfigError(
      `SESSION_SECRET is not set. Signing in with the real X needs a secret for the session cookie: set SESSION_SECRET in the environment or in .env (see example-app/.env.example); ${SECRET_HINT}`,
    );
  }
  if (sessionSecret.length < MIN_SESSION_SECRET_LENGTH) {
    throw new ExampleConfigError(`SESSION_SECRET is shorter than ${MIN_SESSION_SECRET_LENGTH} characters; ${SECRET_HINT}`);
  }

  const givenPublicURL = nonEmpty(env, 'PUBLIC_URL');
  if (givenPublicURL === undefined && port === 0) {
    throw new ExampleConfigError('PORT=0 picks a random port, but X needs the callback URL in advance: set PUBLIC_URL, or a fixed PORT.');
  }
  const publicURL = normalizePublicURL(givenPublicURL ?? `http://localhost:${port}`, 'PUBLIC_URL');
  const config: ExampleConfig = {
    publicURL,
    sessionSecret,
    // An https PUBLIC_URL means a TLS-terminating proxy in front of this plain-http server.
    trustProxy: publicURL.startsWith('https:'),
    x: {
      oauth2: clientID === undefined ? undefined : { clientID, clientSecret },
      oauth1: consumerKey === undefined || consumerSecret === undefined ? undefined : { consumerKey, consumerSecret },
    },
  };
  return { mode: 'x', port, host, config };
}

function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** The parts of a running emulator (`startXEmulator` of passport-x/testing) the app is configured from. */
export type ExampleEmulator = Pick<XEmulator, 'url' | 'baseURL' | 'authorizationURL' | 'apps' | 'users' | 'addCallbackURL'>;

/** "Ada Lovelace (@ada) or Grace Hopper (@grace)": the emulator's users, for the start-up message and the home page. */
export function emulatorUserList(emulator: ExampleEmulator): string {
  const names = emulator.users.map((u) => `${u.name} (@${u.username})`);
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}` : names.join('');
}

/**
 * The configuration for signing in through the emulator: its confidential OAuth 2.0 client (a
 * web app's, like this one) and its OAuth 1.0a app. Registers the app's two callback URLs with
 * the emulator, as one does in the X developer portal: X matches them exactly.
 */
export function emulatorConfig(emulator: ExampleEmulator, publicURL: string, sessionSecret: string): ExampleConfig {
  const callbacks = callbackURLs(publicURL);
  emulator.addCallbackURL(callbacks.oauth2, 'confidential');
  emulator.addCallbackURL(callbacks.oauth1, 'oauth1');
  const { confidential, oauth1 } = emulator.apps;
  return {
    publicURL,
    sessionSecret,
    x: {
      baseURL: emulator.baseURL,
      authorizationURL: emulator.authorizationURL,
      oauth2: { clientID: confidential.clientID, clientSecret: confidential.clientSecret },
      oauth1: { consumerKey: oauth1.consumerKey, consumerSecret: oauth1.consumerSecret },
    },
    notice: `This app signs in through the local X emulator (${emulator.url}), not the real X: on its consent page, sign in as ${emulatorUserList(emulator)}.`,
  };
}
