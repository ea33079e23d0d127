/**
 * passport-x/testing: a local X for your tests, and an independent OAuth 1.0a signature checker.
 *
 * @example
 * ```ts
 * import { startXEmulator } from 'passport-x/testing';
 *
 * const x = await startXEmulator();
 * // new XOAuth2PkceStrategy(x.oauth2StrategyOptions('confidential', { callbackURL: 'http://127.0.0.1:3000/auth/x/callback' }), verify)
 * // new XOAuth1Strategy(x.oauth1StrategyOptions({ callbackURL: 'http://127.0.0.1:3000/auth/x/oauth1/callback' }), verify)
 * const { response, cookie } = await x.signIn('http://127.0.0.1:3000/auth/x', { user: 'ada' });
 * await x.close();
 * ```
 *
 * @packageDocumentation
 */
export { startXEmulator } from './emulator';
export type { XEmulator, XEmulatorOptions, XEmulatorFault, XEmulatorRequestRecord } from './emulator';
export { presetFault, X_EMULATOR_FAULT_PRESETS } from './faults';
export type { XEmulatorFaultPreset, XEmulatorPresetFault } from './faults';
export { DEFAULT_CALLBACK_URLS } from './fixtures';
export { MAX_CALLBACK_URLS } from './callback-urls';
export type { XEmulatorAppKind } from './callback-urls';
export type { XEmulatorConsentAction, XEmulatorConsentOptions, XEmulatorSignInOptions, XEmulatorSignInResult } from './consent-client';
export type {
  XEmulatorStrategyOptionsInput,
  XEmulatorConfidentialStrategyOptions,
  XEmulatorPublicStrategyOptions,
  XEmulatorOAuth1StrategyOptions,
} from './strategy-options';
export type {
  XEmulatorUser,
  XEmulatorUsers,
  XEmulatorOAuth1App,
  XEmulatorOAuth2Client,
  XEmulatorApps,
  XEmulatorAppsOption,
  XEmulatorAccessLevel,
  XEmulatorRegisteredCallbacks,
} from './fixtures';
export { verifyOAuth1Request, parseOAuthHeader, rebuildBaseString } from './oauth1-verifier';
export type { OAuth1RequestToVerify, OAuth1Secrets, OAuth1Verification } from './oauth1-verifier';
