// Compatibility: both strategies, unchanged, in Fastify 5 through @fastify/passport, with
// @fastify/secure-session (the whole session in an encrypted cookie), signing in against the X
// emulator. The strategies are given relative callback URLs, resolved against each request:
// Fastify's request has no `connection`, where passport's own resolution looked for TLS.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Authenticator } from '@fastify/passport';
import fastifySecureSession from '@fastify/secure-session';
import Fastify, { type FastifyInstance } from 'fastify';
import { startXEmulator, type XEmulator } from '../../lib/testing';
import { COMPAT_ROUTES, compatStrategies, expectReplayRefused, expectSignIn, expectSingleUseAfterFailedExchange, isCompatUser } from './compat-shared';

describe('compatibility: Fastify 5 with @fastify/passport and @fastify/secure-session', function () {
  let x: XEmulator;
  let app: FastifyInstance;
  let origin: string;

  before(async function () {
    x = await startXEmulator();
    const passport = new Authenticator();
    app = Fastify({ logger: false });
    // secure-session encrypts the cookie with a 32-byte key (libsodium secretbox); a fresh one per run.
    await app.register(fastifySecureSession, { key: randomBytes(32), cookie: { path: '/', httpOnly: true, sameSite: 'lax' } });
    await app.register(passport.initialize());
    await app.register(passport.secureSession());
    passport.registerUserSerializer(async (user: unknown) => user);
    passport.registerUserDeserializer(async (stored: unknown) => (isCompatUser(stored) ? stored : null));

    const after = { successRedirect: COMPAT_ROUTES.me, failureRedirect: COMPAT_ROUTES.failed };
    app.get(COMPAT_ROUTES.oauth2Start, { preValidation: passport.authenticate('x-oauth2') }, async () => undefined);
    app.get(COMPAT_ROUTES.oauth2Callback, { preValidation: passport.authenticate('x-oauth2', after) }, async () => undefined);
    app.get(COMPAT_ROUTES.oauth1Start, { preValidation: passport.authenticate('x-oauth1') }, async () => undefined);
    app.get(COMPAT_ROUTES.oauth1Callback, { preValidation: passport.authenticate('x-oauth1', after) }, async () => undefined);
    app.get(COMPAT_ROUTES.me, async (request) => ({ user: request.user ?? null }));
    app.get(COMPAT_ROUTES.failed, async () => ({ failed: true }));

    await app.listen({ port: 0, host: '127.0.0.1' });
    origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    // Strategies are looked up per request, so they can be registered once the callback URL's port is known.
    const strategies = compatStrategies(x, origin, true);
    passport.use(strategies.oauth2);
    passport.use(strategies.oauth1);
  });

  after(async function () {
    await app?.close();
    await x?.close();
  });

  it('signs in with XOAuth2PkceStrategy', async function () {
    await expectSignIn(x, origin, 'oauth2', x.users[1]!.id);
  });

  it('signs in with XOAuth1Strategy', async function () {
    await expectSignIn(x, origin, 'oauth1', x.users[0].id);
  });

  it('refuses a replayed callback of either protocol without asking X', async function () {
    await expectReplayRefused(x, origin, 'oauth2');
    await expectReplayRefused(x, origin, 'oauth1');
  });

  it('uses up a pending sign-in even when the token exchange fails, for either protocol', async function () {
    await expectSingleUseAfterFailedExchange(x, origin, 'oauth2');
    await expectSingleUseAfterFailedExchange(x, origin, 'oauth1');
  });

});
