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

/**
 * Node prints every process warning to stderr. passport-x's own (codes `PASSPORT_X_*`) are what many
 * tests cause on purpose, and the tests that matter assert them through `process.on('warning')`,
 * which still sees each one: printed, hundreds of them would bury a real failure. They are counted
 * and summed up once; every other warning (a deprecation, a leak) is still printed.
 * `PASSPORT_X_TEST_WARNINGS=1` prints them all.
 */
let ownWarnings = 0;
if (process.env.PASSPORT_X_TEST_WARNINGS !== '1') {
  const printers = process.listeners('warning').filter((listener) => listener.name === 'onWarning');
  for (const printer of printers) {
    process.removeListener('warning', printer);
    process.on('warning', (warning: Error & { code?: unknown }) => {
      if (typeof warning.code === 'string' && warning.code.startsWith('PASSPORT_X_')) ownWarnings += 1;
      else printer(warning);
    });
  }
  process.on('exit', () => {
    if (ownWarnings > 0) process.stderr.write(`(${ownWarnings} passport-x warnings, which tests cause on purpose, were not printed: PASSPORT_X_TEST_WARNINGS=1 prints them)\n`);
  });
}

export const mochaHooks = {
  afterEach(): void {
    nock.cleanAll();
  },
};
