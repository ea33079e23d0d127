// The example app's texts (example-app/messages.ts): the person sees a failure's short message,
// the developer's hint goes to the log.
import { expect } from 'chai';
import { signInFailureLogLine, signInFailureMessage } from '../example-app/messages';

describe('example app messages', () => {
  it('shows the person a failure\'s short message and logs the developer\'s hint', () => {
    const info = { message: 'Sign in again.', hint: 'The session lost the pending sign-in: check the cookie host.', code: 'X_NO_PENDING_SIGN_IN' };
    expect(signInFailureMessage(info)).to.deep.equal({ kind: 'error', text: 'Sign in again.' });
    expect(signInFailureLogLine('x-oauth2', info)).to.equal('[passport-x example] Sign-in with x-oauth2 refused (X_NO_PENDING_SIGN_IN): The session lost the pending sign-in: check the cookie host.');
    expect(signInFailureLogLine('x-oauth2', { message: 'Access denied by the user' })).to.equal(undefined);
    expect(signInFailureLogLine('x-oauth2', undefined)).to.equal(undefined);
    expect(signInFailureMessage(undefined).text).to.equal('The sign-in with X did not complete. Try again.');
  });
});
