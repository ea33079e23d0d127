/**
 * The emulator's fixtures: the X users who can sign in, and the apps (OAuth 1.0a consumer,
 * OAuth 2.0 clients) that ask them to. Readable defaults, replaceable through the
 * `users` and `apps` options of `startXEmulator`; checked once at start-up.
 */
import { MAX_CALLBACK_URLS, checkCallbackURL } from './callback-urls';

/**
 * The callback URLs every app registers unless its fixture says otherwise: the example app's two
 * callbacks (OAuth 2.0, OAuth 1.0a) on `http://127.0.0.1:3000`, X's advice for local development
 * being `127.0.0.1` rather than `localhost` (X doc "Developer apps").
 */
export const DEFAULT_CALLBACK_URLS: readonly string[] = Object.freeze(['http://127.0.0.1:3000/auth/x/callback', 'http://127.0.0.1:3000/auth/x/oauth1/callback']);

/** An X account the consent page offers to sign in as. */
export interface XEmulatorUser {
  /** The user's ID: a string of digits (X's IDs do not fit a JS number). */
  id: string;
  /** The handle, without `@`. */
  username: string;
  /** The display name. */
  name: string;
  /** The e-mail address X returns with `include_email` (OAuth 1.0a) or the `users.email` scope (OAuth 2.0); none when left out. */
  email?: string | undefined;
  /** The profile picture. Default: a small SVG the emulator serves itself, so pages that show it need no network. */
  profileImageURL?: string | undefined;
  /** The profile's bio. */
  description?: string | undefined;
  /** The profile's location. */
  location?: string | undefined;
  /** The profile's website. */
  url?: string | undefined;
  /** When the account was created, ISO 8601. */
  createdAt?: string | undefined;
  /** Whether the account's posts are protected. Default false. */
  protected?: boolean | undefined;
  /** Whether the account is verified. Default false. */
  verified?: boolean | undefined;
}

/** An app's OAuth 1.0a permission, sent by X in the `x-access-level` header. */
export type XEmulatorAccessLevel = 'read' | 'read-write' | 'read-write-directmessages';

/** An X app's OAuth 1.0a credentials ("API Key and Secret"), also used for app-only bearer tokens. */
export interface XEmulatorOAuth1App {
  /** The app's name, shown on the consent page. */
  name: string;
  /** The API key. */
  consumerKey: string;
  /** The API key secret. */
  consumerSecret: string;
  /**
   * The callback URLs registered for the app, at most 10. `oauth_callback` must be one of them
   * exactly, trailing slash and host included (`localhost` is not `127.0.0.1`), query string aside
   * (X lets a request add query parameters to a registered URL). Default
   * {@link DEFAULT_CALLBACK_URLS}; add more while the emulator runs with `x.addCallbackURL()`.
   */
  callbackURLs?: readonly string[] | undefined;
  /** The app's permission (default `'read-write'`). */
  accessLevel?: XEmulatorAccessLevel | undefined;
  /** "Request email from users" in the X developer portal: without it X never returns an e-mail. Default true. */
  requestEmail?: boolean | undefined;
}

/** An X app's OAuth 2.0 client. Confidential when it has a `clientSecret`, public otherwise. */
export interface XEmulatorOAuth2Client {
  /** The app's name, shown on the consent page. */
  name: string;
  /** The OAuth 2.0 Client ID. */
  clientID: string;
  /** The OAuth 2.0 Client Secret; only confidential clients (Web App, Automated App or Bot) have one. */
  clientSecret?: string | undefined;
  /**
   * The redirect URIs registered for the client, at most 10; `redirect_uri` must equal one of them
   * exactly. Default {@link DEFAULT_CALLBACK_URLS}; add more while the emulator runs with `x.addCallbackURL()`.
   */
  callbackURLs?: readonly string[] | undefined;
  /**
   * "Request email from users" in the X developer portal: without it `users/me` leaves
   * `confirmed_email` out, whatever the token's scopes (the field is then absent, as for a user with
   * no confirmed address). Default true.
   */
  requestEmail?: boolean | undefined;
}

/** What every app of a running emulator has: the callback URLs registered for it now. */
export interface XEmulatorRegisteredCallbacks {
  /** The callback URLs registered now (the fixtures', then those `x.addCallbackURL()` added). */
  callbackURLs: readonly string[];
}

/** The apps the emulator knows: one of each kind. */
export interface XEmulatorApps {
  /** The OAuth 1.0a app (consumer key and secret); its keys also get app-only bearer tokens. */
  readonly oauth1: Readonly<XEmulatorOAuth1App & XEmulatorRegisteredCallbacks>;
  /** The confidential OAuth 2.0 client (authenticates with HTTP Basic). */
  readonly confidential: Readonly<
    XEmulatorOAuth2Client &
      XEmulatorRegisteredCallbacks & {
        /** Its Client Secret. */
        clientSecret: string;
      }
  >;
  /** The public OAuth 2.0 client (sends only `client_id`). */
  readonly public: Readonly<XEmulatorOAuth2Client & XEmulatorRegisteredCallbacks>;
}

/** The `apps` option: each app given replaces the default one of its kind. */
export interface XEmulatorAppsOption {
  /** Replaces the default OAuth 1.0a app. */
  oauth1?: XEmulatorOAuth1App | undefined;
  /** Replaces the default confidential OAuth 2.0 client; it must have a `clientSecret`. */
  confidential?:
    | (XEmulatorOAuth2Client & {
        /** Its Client Secret. */
        clientSecret: string;
      })
    | undefined;
  /** Replaces the default public OAuth 2.0 client; it must not have a `clientSecret`. */
  public?: XEmulatorOAuth2Client | undefined;
}

/** The users the emulator knows; never empty, and the first one is preselected on the consent pages. */
export type XEmulatorUsers = readonly [Readonly<XEmulatorUser>, ...Array<Readonly<XEmulatorUser>>];

/** The default users: Ada has an e-mail address, Grace has none. */
function defaultUsers(): XEmulatorUser[] {
  return [
    {
      id: '1500000000000000001',
      username: 'ada',
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      description: 'Writes programs for engines that do not exist yet.',
      location: 'London',
      url: 'https://example.com/ada',
      createdAt: '2020-01-15T09:30:00.000Z',
    },
    {
      id: '1500000000000000002',
      username: 'grace',
      name: 'Grace Hopper',
      description: 'Finds bugs, sometimes literally.',
      location: 'Arlington, VA',
      createdAt: '2021-06-01T12:00:00.000Z',
    },
  ];
}

/** The default apps: readable keys, {@link DEFAULT_CALLBACK_URLS} registered. */
function defaultApps(): { oauth1: XEmulatorOAuth1App; confidential: XEmulatorOAuth2Client & { clientSecret: string }; public: XEmulatorOAuth2Client } {
  return {
    oauth1: {
      name: 'Emulator App',
      consumerKey: 'emulator-consumer-key',
      consumerSecret: 'emulator-consumer-secret',
      accessLevel: 'read-write',
      requestEmail: true,
    },
    confidential: {
      name: 'Emulator Web App',
      clientID: 'emulator-confidential-client-id',
      clientSecret: 'emulator-confidential-client-secret',
    },
    public: {
      name: 'Emulator Native App',
      clientID: 'emulator-public-client-id',
    },
  };
}

const ACCESS_LEVELS: readonly string[] = ['read', 'read-write', 'read-write-directmessages'];

function fail(what: string): never {
  throw new TypeError(`passport-x/testing: ${what}`);
}

function requireText(value: unknown, name: string): void {
  if (typeof value !== 'string' || value === '') fail(`\`${name}\` must be a non-empty string.`);
}

function optionalText(value: unknown, name: string): void {
  if (value !== undefined) requireText(value, name);
}

function checkCallbackURLs(value: unknown, name: string): readonly string[] {
  if (value === undefined) return DEFAULT_CALLBACK_URLS;
  if (!Array.isArray(value) || value.length === 0) fail(`\`${name}\` must be a non-empty array of absolute URLs, or left out for ${DEFAULT_CALLBACK_URLS.join(', ')}.`);
  // X doc "Developer apps", "Callback URLs": "Maximum of 10 callback URLs per app".
  if (value.length > MAX_CALLBACK_URLS) fail(`\`${name}\` has ${value.length} URLs; X allows at most ${MAX_CALLBACK_URLS} per app.`);
  return [...new Set(value.map((entry: unknown, i) => checkCallbackURL(entry, `${name}[${i}]`)))];
}

function checkUser(user: unknown, i: number): XEmulatorUser {
  const name = `users[${i}]`;
  if (typeof user !== 'object' || user === null) fail(`\`${name}\` must be an object.`);
  const u = user as XEmulatorUser;
  requireText(u.id, `${name}.id`);
  // X's IDs are decimal integers; the v1.1 answer writes `id` as a bare JSON number.
  if (!/^[1-9][0-9]{0,18}$/.test(u.id)) fail(`\`${name}.id\` must be a decimal number written as a string, like '1500000000000000001'.`);
  requireText(u.username, `${name}.username`);
  if (!/^[A-Za-z0-9_]{1,15}$/.test(u.username)) fail(`\`${name}.username\` must be 1 to 15 letters, digits or underscores, as X handles are.`);
  requireText(u.name, `${name}.name`);
  for (const key of ['email', 'profileImageURL', 'description', 'location', 'url', 'createdAt'] as const) optionalText(u[key], `${name}.${key}`);
  if (u.createdAt !== undefined && Number.isNaN(Date.parse(u.createdAt))) fail(`\`${name}.createdAt\` must be an ISO 8601 date.`);
  return { ...u };
}

function checkOAuth1App(app: unknown): XEmulatorOAuth1App {
  if (typeof app !== 'object' || app === null) fail('`apps.oauth1` must be an object.');
  const a = app as XEmulatorOAuth1App;
  requireText(a.name, 'apps.oauth1.name');
  requireText(a.consumerKey, 'apps.oauth1.consumerKey');
  requireText(a.consumerSecret, 'apps.oauth1.consumerSecret');
  if (a.accessLevel !== undefined && !ACCESS_LEVELS.includes(a.accessLevel)) fail(`\`apps.oauth1.accessLevel\` must be one of ${ACCESS_LEVELS.join(', ')}.`);
  return { ...a, accessLevel: a.accessLevel ?? 'read-write', requestEmail: a.requestEmail ?? true, callbackURLs: checkCallbackURLs(a.callbackURLs, 'apps.oauth1.callbackURLs') };
}

function checkOAuth2Client(client: unknown, kind: 'confidential' | 'public'): XEmulatorOAuth2Client {
  const name = `apps.${kind}`;
  if (typeof client !== 'object' || client === null) fail(`\`${name}\` must be an object.`);
  const c = client as XEmulatorOAuth2Client;
  requireText(c.name, `${name}.name`);
  requireText(c.clientID, `${name}.clientID`);
  if (kind === 'confidential') requireText(c.clientSecret, `${name}.clientSecret`);
  else if (c.clientSecret !== undefined) fail('`apps.public.clientSecret` must be left out: public clients have no secret.');
  if (c.requestEmail !== undefined && typeof c.requestEmail !== 'boolean') fail(`\`${name}.requestEmail\` must be a boolean.`);
  return { ...c, requestEmail: c.requestEmail ?? true, callbackURLs: checkCallbackURLs(c.callbackURLs, `${name}.callbackURLs`) };
}

/** The fixtures an emulator runs with, checked and frozen. */
export interface EmulatorFixtures {
  readonly users: XEmulatorUsers;
  readonly apps: XEmulatorApps;
}

/**
 * Checks the `users` and `apps` options and merges them over the defaults, without touching
 * the caller's objects. `profileImageURL` defaults to `avatarURL(user)`.
 */
export function resolveFixtures(users: unknown, apps: unknown, avatarURL: (user: XEmulatorUser) => string): EmulatorFixtures {
  let userList: XEmulatorUser[];
  if (users === undefined) userList = defaultUsers();
  else if (!Array.isArray(users) || users.length === 0) fail('`users` must be a non-empty array of users.');
  else userList = users.map((u: unknown, i) => checkUser(u, i));
  for (const [i, user] of userList.entries()) {
    if (userList.findIndex((u) => u.id === user.id) !== i) fail(`two users have the id ${user.id}.`);
    if (userList.findIndex((u) => u.username.toLowerCase() === user.username.toLowerCase()) !== i) fail(`two users have the username ${user.username}.`);
    if (user.profileImageURL === undefined) user.profileImageURL = avatarURL(user);
  }

  if (apps !== undefined && (typeof apps !== 'object' || apps === null)) fail('`apps` must be an object with `oauth1`, `confidential` and/or `public`.');
  const given = (apps ?? {}) as XEmulatorAppsOption;
  const defaults = defaultApps();
  const oauth1 = checkOAuth1App(given.oauth1 ?? defaults.oauth1);
  const confidential = checkOAuth2Client(given.confidential ?? defaults.confidential, 'confidential') as XEmulatorOAuth2Client & { clientSecret: string };
  const publicClient = checkOAuth2Client(given.public ?? defaults.public, 'public');
  if (confidential.clientID === publicClient.clientID) fail('`apps.confidential.clientID` and `apps.public.clientID` must differ.');

  // Freeze the copies made here, never the caller's objects (an option may hold anything).
  const freezeApp = <T extends { callbackURLs?: readonly string[] | undefined }>(app: T): Readonly<T & XEmulatorRegisteredCallbacks> =>
    Object.freeze({ ...app, callbackURLs: Object.freeze([...(app.callbackURLs ?? [])]) });
  return Object.freeze({
    users: Object.freeze(userList.map((user) => Object.freeze(user))) as unknown as XEmulatorUsers,
    apps: Object.freeze({ oauth1: freezeApp(oauth1), confidential: freezeApp(confidential), public: freezeApp(publicClient) }),
  });
}
