// The candidates of `npm run bench`: each one a Passport strategy set up for the same sign-in
// against the canned X, the way its README tells an app to set it up.
import { resolve } from 'node:path';
import { FloorOAuth1Strategy, FloorOAuth2Strategy } from './floor';

/** The two sign-in flows. */
export type Flow = 'oauth1' | 'oauth2';

/** One candidate: a name for the table, its flow, and how to build its strategy. */
export interface Candidate {
  id: string;
  label: string;
  flow: Flow;
  /** Whether this is the floor of its flow. */
  floor: boolean;
  /**
   * Whether this is its flow's A/A control: the floor's own code again, in processes of its own,
   * measured like every candidate. Its ratio to the floor, 1.00 but for the machine, is the run's
   * noise: a ratio nearer its bar than that is not decided by the run.
   */
  control?: boolean;
  /** Builds the strategy, pointed at the canned X's `baseURL`. */
  create(baseURL: string, verify: (profile: { id: string }, done: (err: Error | null, user?: unknown) => void) => void): { name: string };
}

export const CONSUMER_KEY = 'bench-consumer-key-25chars';
export const CONSUMER_SECRET = 'bench-consumer-secret-50-characters-long-abcdefghij';
export const CLIENT_ID = 'YmVuY2gtY2xpZW50LWlkLWF0LXg6MTpjaQ';
export const CLIENT_SECRET = 'bench-client-secret-50-characters-long-abcdefghijkl';
// The app's callback routes (the app process serves them on 127.0.0.1).
export const callbackURL = (id: string): string => `http://127.0.0.1:3000/${id}/callback`;

// The shipped build, as users run it.
const passportX = (): typeof import('../../lib/index') => require(resolve(__dirname, '../../dist/index.js'));

/** The floor of each flow (and its A/A control), answering on the callback route of candidate `id`. */
const floorOAuth1 =
  (id: string): Candidate['create'] =>
  (baseURL, verify) =>
    new FloorOAuth1Strategy({ baseURL, consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, callbackURL: callbackURL(id) }, verify);
const floorOAuth2 =
  (id: string): Candidate['create'] =>
  (baseURL, verify) =>
    new FloorOAuth2Strategy({ baseURL, clientID: CLIENT_ID, clientSecret: CLIENT_SECRET, callbackURL: callbackURL(id) }, verify);

/** Every candidate, in table order (the floor of each flow first, then its A/A control). */
export const CANDIDATES: Candidate[] = [
  {
    id: 'floor-oauth1',
    label: 'floor, OAuth 1.0a (3 requests)',
    flow: 'oauth1',
    floor: true,
    create: floorOAuth1('floor-oauth1'),
  },
  {
    id: 'floor-oauth1-again',
    label: 'floor, OAuth 1.0a, again (A/A control)',
    flow: 'oauth1',
    floor: false,
    control: true,
    create: floorOAuth1('floor-oauth1-again'),
  },
  {
    id: 'passport-x-oauth1',
    label: 'passport-x XOAuth1Strategy',
    flow: 'oauth1',
    floor: false,
    create: (baseURL, verify) =>
      new (passportX().XOAuth1Strategy)(
        { consumerKey: CONSUMER_KEY, consumerSecret: CONSUMER_SECRET, callbackURL: callbackURL('passport-x-oauth1'), baseURL },
        (_token, _secret, profile, done) => verify(profile, done),
      ),
  },
  {
    id: 'passport-twitter',
    label: 'passport-twitter 1.0.4',
    flow: 'oauth1',
    floor: false,
    create: (baseURL, verify) => {
      const { Strategy } = require('passport-twitter') as { Strategy: new (options: object, verify: (...args: never[]) => void) => { name: string } };
      return new Strategy(
        {
          consumerKey: CONSUMER_KEY,
          consumerSecret: CONSUMER_SECRET,
          callbackURL: callbackURL('passport-twitter'),
          requestTokenURL: `${baseURL}/oauth/request_token`,
          accessTokenURL: `${baseURL}/oauth/access_token`,
          userAuthorizationURL: `${baseURL}/oauth/authenticate`,
          userProfileURL: `${baseURL}/1.1/account/verify_credentials.json`,
        },
        (_token: string, _secret: string, profile: { id: string }, done: (err: Error | null, user?: unknown) => void) => verify(profile, done),
      );
    },
  },
  {
    id: 'floor-oauth2',
    label: 'floor, OAuth 2.0 (2 requests)',
    flow: 'oauth2',
    floor: true,
    create: floorOAuth2('floor-oauth2'),
  },
  {
    id: 'floor-oauth2-again',
    label: 'floor, OAuth 2.0, again (A/A control)',
    flow: 'oauth2',
    floor: false,
    control: true,
    create: floorOAuth2('floor-oauth2-again'),
  },
  {
    id: 'passport-x-oauth2',
    label: 'passport-x XOAuth2PkceStrategy',
    flow: 'oauth2',
    floor: false,
    create: (baseURL, verify) =>
      new (passportX().XOAuth2PkceStrategy)(
        {
          clientID: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          callbackURL: callbackURL('passport-x-oauth2'),
          baseURL,
          authorizationURL: `${baseURL}/i/oauth2/authorize`,
        },
        (_accessToken, _refreshToken, profile, done) => verify(profile, done),
      ),
  },
  {
    id: 'superface',
    label: '@superfaceai/passport-twitter-oauth2 1.2.4',
    flow: 'oauth2',
    floor: false,
    create: (baseURL, verify) => {
      const { Strategy } = require('@superfaceai/passport-twitter-oauth2') as { Strategy: new (options: object, verify: (...args: never[]) => void) => { name: string } };
      return new Strategy(
        {
          clientType: 'confidential',
          clientID: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          callbackURL: callbackURL('superface'),
          authorizationURL: `${baseURL}/i/oauth2/authorize`,
          tokenURL: `${baseURL}/2/oauth2/token`,
          userProfileURL: `${baseURL}/2/users/me?user.fields=profile_image_url,url`,
          scope: ['tweet.read', 'users.read'],
        },
        (_accessToken: string, _refreshToken: string, profile: { id: string }, done: (err: Error | null, user?: unknown) => void) => verify(profile, done),
      );
    },
  },
];
