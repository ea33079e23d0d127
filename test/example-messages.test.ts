// The example app's texts (example-app/messages.ts): the person sees a failure's short message,
// the developer's hint goes to the log.
import { expect } from 'chai';
import { NOTICES, isSignInInProgress, noticeFromQuery, signInFailureLogLine, signInFailureMessage } from '../example-app/messages';

describe('example app messages', () => {
  it('shows the person a failure\'s short message and logs the developer\'s hint', () => {
    const info = { message: 'Sign in again.', hint: 'The session lost the pending sign-in: check the cookie host.', code: 'X_NO_PENDING_SIGN_IN' };
    expect(signInFailureMessage(info)).to.deep.equal({ kind: 'error', text: 'Sign in again.' });
    expect(signInFailureLogLine('x-oauth2', info)).to.equal('[passport-x example] Sign-in with x-oauth2 refused (X_NO_PENDING_SIGN_IN): The session lost the pending sign-in: check the cookie host.');
    expect(signInFailureLogLine('x-oauth2', { message: 'Access denied by the user' })).to.equal(undefined);
    expect(signInFailureLogLine('x-oauth2', undefined)).to.equal(undefined);
    expect(signInFailureMessage(undefined).text).to.equal('The sign-in with X did not complete. Try again.');
  });
  it('tells a second copy of a callback (X_SIGN_IN_IN_PROGRESS) apart, for a notice in the URL rather than a message in the session', () => {
    expect(isSignInInProgress({ message: 'This sign-in is already being completed.', hint: 'h', code: 'X_SIGN_IN_IN_PROGRESS' })).to.equal(true);
    for (const other of [{ code: 'X_NO_PENDING_SIGN_IN' }, 'X_SIGN_IN_IN_PROGRESS', undefined, null]) expect(isSignInInProgress(other)).to.equal(false);
    expect(noticeFromQuery('sign-in-in-progress')).to.equal(NOTICES['sign-in-in-progress']);
    expect(NOTICES['sign-in-in-progress']!.text).to.match(/sign in again/);
  });
});
