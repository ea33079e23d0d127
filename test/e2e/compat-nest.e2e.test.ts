// Compatibility: NestJS through @nestjs/passport's mixin, `class extends PassportStrategy(XOAuth2PkceStrategy, 'x')`
// (and the same for XOAuth1Strategy), with AuthGuard and express-session on @nestjs/platform-express,
// signing in against the X emulator.
//
// The test tsconfig does not enable experimentalDecorators, so Nest's decorators are applied as
// the calls that `@Decorator()` compiles to: `Module({...})(Class)`, `Get(path)(prototype, name,
// descriptor)`, `Req()(prototype, name, index)`. The app is the same as with decorator syntax.
import 'reflect-metadata';
import { expect } from 'chai';
import {
  Catch,
  Controller,
  Get,
  Injectable,
  Module,
  Req,
  Res,
  UnauthorizedException,
  UseFilters,
  UseGuards,
  type ArgumentsHost,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import type { INestApplication } from '@nestjs/common';
import type { Request, Response } from 'express';
import session from 'express-session';
import passport from 'passport';
import { XOAuth1Strategy } from '../../lib/oauth1-strategy';
import { XOAuth2PkceStrategy } from '../../lib/oauth2-strategy';
import type { XProfile } from '../../lib/profile';
import { startXEmulator, type XEmulator } from '../../lib/testing';
import { serveOnLoopback, type LoopbackServer } from '../support/browserless';
import {
  COMPAT_ROUTES,
  expectReplayRefused,
  expectSignIn,
  expectSingleUseAfterFailedExchange,
  isCompatUser,
  oauth1Options,
  oauth2Options,
  type CompatUser,
} from './compat-shared';

/** The names the Nest strategies register under in passport (the singleton @nestjs/passport uses). */
const OAUTH2 = 'x-nest-oauth2';
const OAUTH1 = 'x-nest-oauth1';

/** Applies a method decorator as `@decorator` on `Class.prototype[name]` would. */
function decorateMethod(Class: Type<unknown>, name: string, ...decorators: MethodDecorator[]): void {
  const proto = Class.prototype as object;
  for (const decorator of decorators.reverse()) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, name)!;
    const result = decorator(proto, name, descriptor);
    if (result) Object.defineProperty(proto, name, result);
  }
}

/** Builds the Nest app's module for the emulator and an app at `origin`. */
function createAppModule(x: XEmulator, origin: string): Type<unknown> {
  // The mixin: the options go to XOAuth2PkceStrategy's constructor, validate() is the verify callback.
  class XOAuth2NestStrategy extends PassportStrategy(XOAuth2PkceStrategy, OAUTH2) {
    constructor() {
      super(oauth2Options(x, origin, OAUTH2));
    }

    validate(_accessToken: string, _refreshToken: string | undefined, profile: XProfile): CompatUser {
      return { protocol: 'oauth2', id: profile.id, username: profile.username };
    }
  }
  Injectable()(XOAuth2NestStrategy);

  class XOAuth1NestStrategy extends PassportStrategy(XOAuth1Strategy, OAUTH1) {
    constructor() {
      super(oauth1Options(x, origin, OAUTH1));
    }

    validate(_token: string, _tokenSecret: string, profile: XProfile): CompatUser {
      return { protocol: 'oauth1', id: profile.id, username: profile.username };
    }
  }
  Injectable()(XOAuth1NestStrategy);

  /** The callback's guard: authenticate, then log in (the session), as Nest's docs show for sessions. */
  function callbackGuard(name: string): Type<CanActivate> {
    class CallbackGuard extends AuthGuard(name) {
      override async canActivate(context: ExecutionContext): Promise<boolean> {
        const ok = (await super.canActivate(context)) as boolean;
        await super.logIn(context.switchToHttp().getRequest());
        return ok;
      }
    }
    Injectable()(CallbackGuard);
    return CallbackGuard;
  }

  /** A sign-in that failed without an error (e.g. a replayed callback) goes to /failed, like passport's failureRedirect. */
  class FailedSignInFilter implements ExceptionFilter {
    catch(_exception: UnauthorizedException, host: ArgumentsHost): void {
      host.switchToHttp().getResponse<Response>().redirect(COMPAT_ROUTES.failed);
    }
  }
  Catch(UnauthorizedException)(FailedSignInFilter);

  class AuthController {
    startOAuth2(): void {
      // Not reached: the guard redirects to X.
    }

    startOAuth1(): void {
      // Not reached: the guard redirects to X.
    }

    callbackOAuth2(res: Response): void {
      res.redirect(COMPAT_ROUTES.me);
    }

    callbackOAuth1(res: Response): void {
      res.redirect(COMPAT_ROUTES.me);
    }

    me(req: Request): { user: unknown } {
      return { user: req.user ?? null };
    }

    failed(): { failed: true } {
      return { failed: true };
    }
  }
  Controller()(AuthController);
  decorateMethod(AuthController, 'startOAuth2', Get(COMPAT_ROUTES.oauth2Start), UseGuards(AuthGuard(OAUTH2)));
  decorateMethod(AuthController, 'startOAuth1', Get(COMPAT_ROUTES.oauth1Start), UseGuards(AuthGuard(OAUTH1)));
  decorateMethod(AuthController, 'callbackOAuth2', Get(COMPAT_ROUTES.oauth2Callback), UseGuards(callbackGuard(OAUTH2)), UseFilters(new FailedSignInFilter()));
  decorateMethod(AuthController, 'callbackOAuth1', Get(COMPAT_ROUTES.oauth1Callback), UseGuards(callbackGuard(OAUTH1)), UseFilters(new FailedSignInFilter()));
  Res()(AuthController.prototype, 'callbackOAuth2', 0);
  Res()(AuthController.prototype, 'callbackOAuth1', 0);
  decorateMethod(AuthController, 'me', Get(COMPAT_ROUTES.me));
  Req()(AuthController.prototype, 'me', 0);
  decorateMethod(AuthController, 'failed', Get(COMPAT_ROUTES.failed));

  class AppModule {}
  Module({ imports: [PassportModule.register({ session: true })], controllers: [AuthController], providers: [XOAuth2NestStrategy, XOAuth1NestStrategy] })(AppModule);
  return AppModule;
}

describe('compatibility: NestJS with @nestjs/passport (PassportStrategy mixin) and express-session', function () {
  this.timeout(60_000);
  let x: XEmulator;
  let server: LoopbackServer;
  let app: INestApplication;

  before(async function () {
    // The passport singleton's (de)serializers are process-wide: handle this file's users only, pass on others.
    passport.serializeUser((user, done) => (isCompatUser(user) ? done(null, user) : done('pass')));
    passport.deserializeUser((stored: unknown, done) => (isCompatUser(stored) ? done(null, stored) : done('pass')));
    x = await startXEmulator();
    server = await serveOnLoopback();
    app = await NestFactory.create(createAppModule(x, server.origin), { logger: false, abortOnError: false });
    app.use(session({ secret: 'compat-nest-session-secret-of-32-chars+', resave: false, saveUninitialized: false, cookie: { sameSite: 'lax' } }));
    app.use(passport.initialize());
    app.use(passport.session());
    await app.init();
    server.server.on('request', app.getHttpAdapter().getInstance());
  });

  after(async function () {
    await server?.close();
    await app?.close();
    await x?.close();
    // The mixin registered the strategies in the passport singleton: leave it as it was.
    passport.unuse(OAUTH2);
    passport.unuse(OAUTH1);
  });

  it('registers the mixin strategies in the passport singleton under their names', function () {
    expect((passport as unknown as { _strategy(name: string): unknown })._strategy(OAUTH2)).to.be.instanceOf(XOAuth2PkceStrategy);
    expect((passport as unknown as { _strategy(name: string): unknown })._strategy(OAUTH1)).to.be.instanceOf(XOAuth1Strategy);
  });

  it('signs in with PassportStrategy(XOAuth2PkceStrategy)', async function () {
    await expectSignIn(x, server.origin, 'oauth2', x.users[1]!.id);
  });

  it('signs in with PassportStrategy(XOAuth1Strategy)', async function () {
    await expectSignIn(x, server.origin, 'oauth1', x.users[0].id);
  });

  it('refuses a replayed callback of either protocol without asking X', async function () {
    await expectReplayRefused(x, server.origin, 'oauth2');
    await expectReplayRefused(x, server.origin, 'oauth1');
  });

  it('uses up a pending sign-in even when the token exchange fails, for either protocol', async function () {
    await expectSingleUseAfterFailedExchange(x, server.origin, 'oauth2');
    await expectSingleUseAfterFailedExchange(x, server.origin, 'oauth1');
  });
});

