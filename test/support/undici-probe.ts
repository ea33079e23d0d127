// Run as a child process by test/http.test.ts: signs a user in with each strategy, start to
// callback (as Passport drives them), against the bench's canned X over loopback HTTP, 3 times
// each, and prints as JSON whether Node's undici (which global `fetch` and `Headers` are made of)
// was loaded before the sign-ins, after them, and once `Headers` is read (the probe's own check
// that it can see undici load).
//   node --require tsx/cjs test/support/undici-probe.ts
import { harnessSignIn } from '../bench/driver';
import { forkBench } from '../bench/processes';
import { XOAuth1Strategy, XOAuth2PkceStrategy } from '../../lib/index';
import type { AuthenticatingStrategy } from './passport-harness';

const UNDICI = 'NativeModule internal/deps/undici/undici';
const loaded = (): boolean => (process as unknown as { moduleLoadList: string[] }).moduleLoadList.includes(UNDICI);

async function main(): Promise<void> {
  const before = loaded();
  const x = await forkBench('fake-x-server.ts', [], { execArgv: [] });
  try {
    const baseURL = `http://127.0.0.1:${x.port}`;
    const oauth1 = new XOAuth1Strategy(
      { consumerKey: 'probe-consumer-key', consumerSecret: 'probe-consumer-secret', callbackURL: 'http://127.0.0.1:3000/callback', baseURL },
      (_token, _secret, profile, done) => done(null, { id: profile.id }),
    );
    const oauth2 = new XOAuth2PkceStrategy(
      { clientID: 'probe-client-id', clientSecret: 'probe-client-secret', callbackURL: 'http://127.0.0.1:3000/callback', baseURL, authorizationURL: `${baseURL}/i/oauth2/authorize` },
      (_access, _refresh, profile, done) => done(null, { id: profile.id }),
    );
    for (let i = 0; i < 3; i++) {
      await harnessSignIn(oauth1 as unknown as AuthenticatingStrategy, 'oauth1', '127.0.0.1:3000', 'XOAuth1Strategy');
      await harnessSignIn(oauth2 as unknown as AuthenticatingStrategy, 'oauth2', '127.0.0.1:3000', 'XOAuth2PkceStrategy');
    }
  } finally {
    await x.stop();
  }
  const afterSignIns = loaded();
  void globalThis.Headers;
  process.stdout.write(JSON.stringify({ before, afterSignIns, afterHeaders: loaded() }));
}

main().catch((err: unknown) => {
  process.stderr.write(String(err instanceof Error ? err.stack : err));
  process.exitCode = 1;
});
