// Loaded by mocha before every test file (.mocharc.json): tests talk to loopback only.
import nock from 'nock';

nock.disableNetConnect();
nock.enableNetConnect((host) => /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(host));

export const mochaHooks = {
  afterEach(): void {
    nock.cleanAll();
  },
};
