// Loaded by mocha before every test file (.mocharc.json): tests talk to loopback only.
import nock from 'nock';

/** Lets only loopback connections through nock. */
export function loopbackOnly(): void {
  nock.disableNetConnect();
  nock.enableNetConnect((host) => /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(host));
}
loopbackOnly();

/**
 * Takes nock's interceptors out for a suite that must see real sockets (keep-alive reuse):
 * nock's pass-through opens a new connection per request. The suite talks to loopback only.
 */
export function withoutNock(): void {
  before(() => nock.restore());
  after(() => {
    nock.activate();
    loopbackOnly();
  });
}

export const mochaHooks = {
  afterEach(): void {
    nock.cleanAll();
  },
};
