/**
 * passport-x: "Sign in with X" for Passport.js.
 *
 * @packageDocumentation
 */
export { XOAuth1Strategy } from './oauth1-strategy';
export type {
  XOAuth1StrategyOptions,
  XOAuth1StrategyOptionsBase,
  XOAuth1StrategyOptionsWithRequest,
  XOAuth1AuthenticateOptions,
  XOAuth1TokenParams,
  XOAuth1Verify,
  XOAuth1VerifyWithParams,
  XOAuth1VerifyWithRequest,
  XOAuth1VerifyWithRequestAndParams,
} from './oauth1-strategy';
export { XOAuth2PkceStrategy, X_OAUTH2_DEFAULT_SCOPES, X_OAUTH2_DEFAULT_USER_FIELDS } from './oauth2-strategy';
export type {
  XOAuth2StrategyOptions,
  XOAuth2StrategyOptionsBase,
  XOAuth2StrategyOptionsWithRequest,
  XOAuth2AuthenticateOptions,
  XOAuth2ClientType,
  XOAuth2TokenParams,
  XOAuth2Verify,
  XOAuth2VerifyWithParams,
  XOAuth2VerifyWithRequest,
  XOAuth2VerifyWithRequestAndParams,
  XSkipUserProfile,
} from './oauth2-strategy';
export { XPkceSessionStore } from './state/pkce-session';
export type { XPkceStateStore, XPkceStateStoreWithMeta, XPkceStateMeta, XPkceSessionStoreOptions, PkceStateStored, PkceStateVerified } from './state/pkce-session';
export { createCodeVerifier, codeChallengeS256, createState, CODE_CHALLENGE_METHOD } from './pkce';
export type { XProfile } from './profile';
export type { XAuthRequest, XIncomingRequest } from './request';
export type { XVerifyCallback, XAuthenticateOptions, XPassportOptions } from './passport-base';
// Also augments @types/passport, so `passport.authenticate('x-oauth2', { state: {...} })` compiles.
export type { XStrategyAuthenticateOptions } from './passport-augmentation';
export { XRequestTokenSessionStore } from './state/request-token-session';
export type { XRequestTokenStore, XRequestTokenSessionStoreOptions, RequestTokenLoaded } from './state/request-token-session';
export type { PendingDropped } from './state/pending';
export { EncryptedCookieStateStore, DEFAULT_COOKIE_STATE_PREFIX, DEFAULT_COOKIE_STATE_MAX_AGE_MS, MIN_COOKIE_SECRET_LENGTH } from './state/encrypted-cookie';
export type { EncryptedCookieStateStoreOptions } from './state/encrypted-cookie';
export { MemoryReplayGuard, DEFAULT_MAX_REPLAY_CLAIMS, REPLAY_GUARD_KEY_PREFIX } from './state/replay-guard';
export type { XReplayGuard, MemoryReplayGuardOptions } from './state/replay-guard';
export { XError, XAPIError, XRateLimitError, XOAuthError, XRequestError, XSessionError, XReplayGuardError, XErrorCode } from './errors';
export { XCreditsDepletedError, XUsageCapError, XMissingScopesError } from './errors';
export type { XCreditsDepletedErrorOptions, XUsageCapErrorOptions, XMissingScopesErrorOptions } from './errors';
export type { XRateLimit, XRawResponse, XAPIErrorDetail, XErrorCodeValue, XRequestErrorCode } from './errors';
export { XLockTimeoutError, XRefreshTokenRevokedError, XTokenNotFoundError, XTokenStoreError } from './errors';
export type { XLockTimeoutErrorOptions, XTokenNotFoundReason, XTokenStoreErrorOptions, XTokenStoreOperation, XTokenStoreFailure } from './errors';
export { X_OAUTH2_SCOPES, X_USER_FIELDS, X_USER_FIELD_SCOPES, isXKnownScope } from './scopes';
export type { XScope, XKnownScope, XUserField, XKnownUserField } from './scopes';
export { X_API_BASE_URL, X_OAUTH2_AUTHORIZATION_URL, MAX_EXPIRES_IN_SECONDS, xEndpoints } from './endpoints';
export type { XEndpoints, XTokenSet } from './endpoints';
export { oauth1AuthorizationHeader } from './oauth1-signature';
export { getBearerToken, invalidateBearerToken, invalidateAccessToken, refreshAccessToken, revokeToken, getReverseAuthParameters } from './helpers';
export type {
  XHelperOptions,
  XConsumerCredentials,
  XOAuth2ClientCredentials,
  XTokenTypeHint,
  GetBearerTokenOptions,
  InvalidateBearerTokenOptions,
  InvalidateAccessTokenOptions,
  RefreshAccessTokenOptions,
  RevokeTokenOptions,
  GetReverseAuthParametersOptions,
} from './helpers';
export type { OAuth1SignOptions } from './oauth1-signature';
export { DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS } from './http';
export type { XHttpOptions } from './http';
export { XFailureCode, X_FAILURE_MESSAGES, isXFailureInfo } from './failure';
export type { XFailureInfo, XFailureCodeValue } from './failure';
export { XTokenManager, DEFAULT_REFRESH_BEFORE_MS, DEFAULT_LOCK_MARGIN_MS } from './tokens';
export type { XTokenManagerOptions, XTokenStore, XStoredTokenSet, XRevokeFailures, XRefreshOptions } from './tokens';
export { InProcessTokenLock } from './lock';
export type { XTokenLock, XLockLease } from './lock';
// The Redis adapters import no Redis library (clients typed by shape): safe in the main entry.
export { RedisReplayGuard, RedisTokenLock, detectRedisClient, DEFAULT_REDIS_PREFIX } from './redis';
export type { XRedisClient, XNodeRedisClient, XIORedisClient, XRedisClientKind, XRedisAdapterOptions, RedisTokenLockOptions } from './redis';
