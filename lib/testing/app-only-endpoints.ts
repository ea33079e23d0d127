/**
 * App-only authentication (X doc "Application-only authentication"): the app trades its
 * consumer key and secret, in HTTP Basic, for a bearer token (one per app), and can invalidate it.
 */
import { json, xError, X_ERRORS, type Answer } from './answers';
import { basicCredentials, formParams, type EmulatorContext, type EmulatorRequest } from './context';
import type { XEmulatorOAuth1App } from './fixtures';
import { safeEqual } from './secrets';

/** The app whose consumer key and secret the request's Basic credentials carry, or X's 403 code 99. */
function authenticateApp(request: EmulatorRequest, context: EmulatorContext): Readonly<XEmulatorOAuth1App> | Answer {
  const app = context.fixtures.apps.oauth1;
  const basic = basicCredentials(request);
  if (!basic) return xError(X_ERRORS.unableToVerify, basic === null ? 'malformed Basic credentials' : 'no Basic credentials');
  if (basic.id !== app.consumerKey || !safeEqual(basic.secret, app.consumerSecret)) {
    return xError(X_ERRORS.unableToVerify, basic.id === app.consumerKey ? 'wrong consumer secret' : 'unknown consumer key');
  }
  return app;
}

function isApp(value: Readonly<XEmulatorOAuth1App> | Answer): value is Readonly<XEmulatorOAuth1App> {
  return 'consumerKey' in value;
}

/** `POST /oauth2/token` with `grant_type=client_credentials`: the app's bearer token, the same one each time until invalidated. */
export function bearerToken(request: EmulatorRequest, context: EmulatorContext): Answer {
  const app = authenticateApp(request, context);
  if (!isApp(app)) return app;
  if (formParams(request).get('grant_type') !== 'client_credentials') return xError(X_ERRORS.missingGrantType, 'grant_type is not client_credentials');
  return json(200, { token_type: 'bearer', access_token: context.store.bearerToken(app.consumerKey) });
}

/**
 * `POST /oauth2/invalidate_token` with `access_token=<bearer>`: invalidates the app's bearer token.
 * X's tokens carry `%2F` and `%3D`, and X's examples send one as issued (`access_token=AAAA%2FAAA%3D`),
 * which the form decodes to `/` and `=`: that is the form value taken. The token encoded once more
 * (`%252F`) decodes to the issued string, which X's examples never send: refused, 403 code 99.
 */
export function invalidateBearerToken(request: EmulatorRequest, context: EmulatorContext): Answer {
  const app = authenticateApp(request, context);
  if (!isApp(app)) return app;
  const given = formParams(request).get('access_token') ?? request.url.searchParams.get('access_token') ?? '';
  const token = context.store.currentBearerToken(app.consumerKey);
  const matches = token !== undefined && given === safeDecode(token);
  // X answers an unknown or already invalidated bearer token as it answers bad credentials: 403 code 99.
  if (!matches) return xError(X_ERRORS.unableToVerify, 'unknown or already invalidated bearer token');
  context.store.invalidateBearerToken(token);
  return json(200, { access_token: token });
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
