/**
 * Types for `passport.authenticate('x-oauth2' | 'x-oauth1', options)` as `@types/passport`
 * declares it: the strategies' per-request options, and `state` as any value (both strategies
 * carry an object through the sign-in, where `@types/passport` types `state` as a string).
 *
 * Module augmentation, so importing anything from passport-x is enough. It names nothing that
 * only `@types/passport` declares, so a project where `passport` is not installed (Fastify) still
 * compiles. Where `passport` is installed without `@types/passport` (koa-passport brings it in),
 * TypeScript refuses to augment an untyped module (TS2665) unless `skipLibCheck` is on: such a
 * project installs `@types/passport` (docs/frameworks.md says so).
 */
import type { XOAuth1AuthenticateOptions } from './oauth1-strategy';
import type { XOAuth2AuthenticateOptions } from './oauth2-strategy';

/**
 * What the `passport.authenticate(strategy, options)` overload added by passport-x accepts: every
 * option of either X strategy and the options Passport itself reads (`XPassportOptions`);
 * `state` may be any value.
 */
export type XStrategyAuthenticateOptions = XOAuth1AuthenticateOptions & XOAuth2AuthenticateOptions;

declare module 'passport' {
  // Merged into @types/passport's `AuthenticateOptions`, so these compile in every overload (and
  // in wrappers such as @nestjs/passport's `getAuthenticateOptions`). `state` cannot be widened
  // here (TS2717: a merged property keeps its type): the overload below takes it.
  interface AuthenticateOptions {
    /** passport-x, `x-oauth1`: `force_login=true` for this sign-in. */
    forceLogin?: boolean | undefined;
    /** passport-x, `x-oauth1`: pre-fill the X username for this sign-in. */
    screenName?: string | undefined;
    /** passport-x: overrides the strategy's `callbackURL` for this request. */
    callbackURL?: string | undefined;
  }

  // Type parameters as @types/passport declares them (merged declarations must list the same ones).
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface Authenticator<InitializeRet, AuthenticateRet, AuthorizeRet, AuthorizeOptions> {
    /**
     * `passport.authenticate('x-oauth2', { state: { returnTo: '/settings' }, scope: [...] })`: the
     * options of passport-x's strategies, with `state` of any type. A misspelt option is a type error.
     */
    authenticate(
      strategy: string | string[] | object,
      options: XStrategyAuthenticateOptions,
      // Passport's callback is `(err, user, info, status)`; typed loosely, as @types/passport's second form.
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      callback?: (...args: any[]) => any,
    ): AuthenticateRet;
  }
}
