/**
 * The example app's configuration: the {@link ExampleConfig} an app is built from, and
 * {@link readEnvironment}, which turns the environment (`PORT`, `PUBLIC_URL`,
 * `SESSION_SECRET`, `X_*`, `REDIS_URL`) into a start plan: run against the real X, or against the
 * emulator of `passport-x/testing` when no X credentials are set.
 * Framework-neutral: the Express app and the Koa variant read the same configuration.
 */
import { randomBytes } from 'node:crypto';
import type { Store } from 'express-session';
import type { XReplayGuard, XTokenLock, XTokenStore } from 'passport-x';
import type { XEmulator, XEmulatorOptions } from 'passport-x/testing';
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
  /** Where the profile page's @handle links, `${profilesURL}/<username>` (default: X's profile URL, https://x.com/<username>); the emulator in emulator mode. */
  profilesURL?: string | undefined;
}

/** Everything {@link createExampleApp} needs; it reads no environment variable itself. */
export interface ExampleConfig {
  /**
   * The origin users browse, e.g. `http://127.0.0.1:3000`; the callback URLs are built on it, and
   * a sign-in started at any other host is first redirected here (the session cookie of one host
   * never reaches another, so the callback would not find the sign-in).
   */
  publicURL: string;
  /** Signs the session cookie. */
  sessionSecret: string;
  /** An express-session store (default: express-session's MemoryStore, one process only). */
  sessionStore?: Store | undefined;
  /** Where the users' OAuth 2.0 tokens live, keyed by X user ID (default: this process's memory; see tokens.ts). Several instances need a shared one. */
  tokenStore?: XTokenStore | undefined;
  /** What keeps instances from refreshing one user's tokens at once (default: in-process). Several instances: a `RedisTokenLock`. */
  tokenLock?: XTokenLock | undefined;
  /** What makes a callback reaching several instances go on to X once (default: in-process). Several instances: a `RedisReplayGuard`. */
  replayGuard?: XReplayGuard | undefined;
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
 * `publicURL` as an origin without a trailing slash, e.g. `http://127.0.0.1:3000`. Throws
 * {@link ExampleConfigError} for anything but an http(s) origin: the app's routes live at the
 * root, and X compares callback URLs exactly.
 */
export function normalizePublicURL(publicURL: string, variable = 'publicURL'): string {
  let url: URL;
  try {
    url = new URL(publicURL);
  } catch {
    throw new ExampleConfigError(`${variable} is not a URL. Set it to the address users open, such as http://127.0.0.1:3000.`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    throw new ExampleConfigError(
      `${variable} must be an http(s) origin with no path, query or credentials (such as http://127.0.0.1:3000 or https://app.example.com): the app's routes live at the root and X compares callback URLs exactly.`,
    );
  }
  return url.origin;
}

/**
 * Where to send a request that arrived at another host than `publicURL`'s (`localhost` for
 * `127.0.0.1`, a second domain name): the same path at `publicURL`. Undefined when the host is
 * `publicURL`'s. X's docs recommend `127.0.0.1` over `localhost` for local callback URLs.
 */
export function publicURLRedirect(publicURL: string, requestHost: string | undefined, pathAndQuery: string): string | undefined {
  const expected = new URL(publicURL).host;
  if (requestHost !== undefined && requestHost.toLowerCase() === expected) return undefined;
  // Only a path goes after the origin, so the redirect cannot leave publicURL's origin.
  const path = pathAndQuery.startsWith('/') ? pathAndQuery : `/${pathAndQuery}`;
  return `${publicURL}${path}`;
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
      /** `REDIS_URL`: sessions, tokens, the token lock and the replay guard in Redis (default: in memory). */
      redisURL?: string | undefined;
    }
  | {
      /** X credentials in the environment: sign in with the real X. */
      mode: 'x';
      port: number;
      /** Interface to listen on (`HOST`; default: all, as Node's). */
      host: string | undefined;
      config: ExampleConfig;
      /** `REDIS_URL`: sessions, tokens, the token lock and the replay guard in Redis (default: in memory). */
      redisURL?: string | undefined;
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
  const redisURL = readRedisURL(env);

  if (!X_VARIABLES.some((name) => nonEmpty(env, name) !== undefined)) {
    const ignored = nonEmpty(env, 'PUBLIC_URL') !== undefined ? ['PUBLIC_URL'] : [];
    return { mode: 'emulator', port, host: host ?? '127.0.0.1', sessionSecret: sessionSecret ?? randomSecret(), ignored, ...(redisURL ? { redisURL } : {}) };
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
  // 127.0.0.1, as X's docs recommend for local callback URLs (and the emulator mode uses).
  const publicURL = normalizePublicURL(givenPublicURL ?? `http://127.0.0.1:${port}`, 'PUBLIC_URL');
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
  // Listening on every interface only serves a PUBLIC_URL that is not this machine's loopback (a
  // proxy in front, another host name): one on 127.0.0.1 or localhost is served on 127.0.0.1 alone.
  const listenOn = host ?? LOOPBACK_ADDRESSES.get(new URL(publicURL).hostname);
  return { mode: 'x', port, host: listenOn, config, ...(redisURL ? { redisURL } : {}) };
}

/** This machine's loopback, as a PUBLIC_URL writes its host name, and the address to listen on for it. */
const LOOPBACK_ADDRESSES: ReadonlyMap<string, string> = new Map([
  ['127.0.0.1', '127.0.0.1'],
  ['localhost', '127.0.0.1'],
  ['[::1]', '::1'],
]);

/** `REDIS_URL`, checked: a `redis://` or `rediss://` URL. Never quoted in a message: it may hold a password. */
function readRedisURL(env: NodeJS.ProcessEnv): string | undefined {
  const value = nonEmpty(env, 'REDIS_URL');
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || !url.hostname) {
    throw new ExampleConfigError('REDIS_URL must be a redis:// or rediss:// URL, such as redis://localhost:6379 (or leave it out to keep sessions and tokens in memory).');
  }
  return value;
}

/** `REDIS_URL` without its password, for the start-up message. */
export function redisURLForDisplay(redisURL: string): string {
  const url = new URL(redisURL);
  if (url.password) url.password = '***';
  return url.href;
}

function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * How the app starts its emulator: with an OAuth 1.0a app of the permission the app uses, read
 * only and no e-mail, so the consent page lists what the app really gets (the emulator's default
 * app has read-write permission and "Request email from users").
 */
export const EXAMPLE_EMULATOR_OPTIONS: Readonly<XEmulatorOptions> = {
  apps: {
    oauth1: { name: 'passport-x example', consumerKey: 'example-consumer-key', consumerSecret: 'example-consumer-secret', accessLevel: 'read', requestEmail: false },
  },
};

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
      // The emulator shows each user's profile at /<username>, as x.com does.
      profilesURL: emulator.url,
    },
    notice: `This app signs in through the local X emulator (${emulator.url}), not the real X: on its consent page, sign in as ${emulatorUserList(emulator)}.`,
  };
}
