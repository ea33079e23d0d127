/**
 * The texts the example app shows after an action: sign-in failures, refresh, sign-out.
 * Framework-neutral, shared by the Express app and the Koa variant.
 */
import { XError, XFailureCode } from 'passport-x';
import type { PageMessage } from './views';

/**
 * Messages the home page shows for `?notice=<code>`: fixed texts, so nobody can put words of
 * their own on the page through a link. Used after sign-out, when the session is gone.
 */
export const NOTICES: Readonly<Record<string, PageMessage>> = Object.freeze({
  'signed-out': { kind: 'info', text: 'You are signed out, and X has revoked the token.' },
  'signed-out-revoke-failed': {
    kind: 'error',
    text: 'You are signed out of this app, but X could not revoke the token (the server log says why). You can remove the app\'s access in your X settings under "Connected apps".',
  },
  'sign-in-first': { kind: 'info', text: 'Sign in first to see your profile.' },
  'sign-in-in-progress': {
    kind: 'info',
    text: 'This sign-in was already being completed by another request (a double click or a reload). If you are not signed in now, sign in again.',
  },
});

/**
 * Whether a failed sign-in is a second copy of a callback another request is completing (a double
 * click, a reload). Its message goes in the home page's `notice` query, not in the session: the
 * browser usually abandoned the first request, whose login gave the session a new ID (Passport
 * regenerates it) in an answer the browser never read, and its old session, where a message would
 * be kept, is gone.
 */
export function isSignInInProgress(info: unknown): boolean {
  return typeof info === 'object' && info !== null && (info as { code?: unknown }).code === XFailureCode.SIGN_IN_IN_PROGRESS;
}

/**
 * Whether a refused callback may be one this browser has used already (a reload or Back after
 * signing in): no pending sign-in matches it. For a person who is signed in, the page says they
 * still are, rather than "Sign in again". (A taken claim, a double click, has its own notice.)
 */
export function isUsedCallback(info: unknown): boolean {
  const code = typeof info === 'object' && info !== null ? (info as { code?: unknown }).code : undefined;
  return code === XFailureCode.NO_PENDING_SIGN_IN || code === XFailureCode.CALLBACK_UNKNOWN;
}

/** What a signed-in person is told when a callback matched no sign-in: they are still signed in as before. */
export function stillSignedInMessage(username: string): PageMessage {
  return { kind: 'info', text: `That sign-in link was used already or has expired: you are still signed in as @${username}.` };
}

/** The notice for the home page's `notice` query parameter, if it names one. */
export function noticeFromQuery(value: unknown): PageMessage | undefined {
  return typeof value === 'string' && Object.hasOwn(NOTICES, value) ? NOTICES[value] : undefined;
}

/**
 * The message for a sign-in that failed without an error: the short `message` of the strategy's
 * `fail()` info (an `XFailureInfo`), e.g. "You cancelled the sign-in with X." when the user pressed Cancel
 * on X's consent page. The developer's `hint` is not for this page: see {@link signInFailureLogLine}.
 */
export function signInFailureMessage(info: unknown): PageMessage {
  const message = typeof info === 'object' && info !== null ? (info as { message?: unknown }).message : undefined;
  const text = typeof message === 'string' && message !== '' ? message : 'The sign-in with X did not complete. Try again.';
  return { kind: 'error', text };
}

/**
 * The log line for a sign-in that failed without an error: the developer's diagnosis (`info.hint`
 * of an `XFailureInfo`, with its `code`), or undefined when the failure carries none. Hints never
 * hold a secret.
 */
export function signInFailureLogLine(strategy: string, info: unknown): string | undefined {
  if (typeof info !== 'object' || info === null) return undefined;
  const { hint, code } = info as { hint?: unknown; code?: unknown };
  if (typeof hint !== 'string' || hint === '') return undefined;
  return `[passport-x example] Sign-in with ${strategy} refused${typeof code === 'string' ? ` (${code})` : ''}: ${hint}`;
}

/**
 * The message for an error, for the person: a passport-x error's `userMessage`, the short sentence
 * it carries for them (what to do: try again later, sign in again); the developer's diagnosis,
 * X's own words and the fix, goes to the log only (logLine). Any other error is a generic text:
 * its message could be anything.
 */
export function errorMessage(action: string, err: unknown): PageMessage {
  if (err instanceof XError) return { kind: 'error', text: `${action} failed: ${err.userMessage}` };
  return { kind: 'error', text: `${action} failed because of an unexpected error on the server; the server log has the details.` };
}

/** A log line for an error: passport-x's messages are free of secrets; other errors keep their stack for debugging. */
export function logLine(action: string, err: unknown): string {
  if (err instanceof XError) return `[passport-x example] ${action} failed: ${err.name} (${err.code}${err.status !== undefined ? `, HTTP ${err.status}` : ''}): ${err.message}`;
  return `[passport-x example] ${action} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
}
