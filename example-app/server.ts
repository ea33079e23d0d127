/**
 * `npm start`: runs the example app.
 *
 * With no X credentials in the environment, starts the X emulator of passport-x/testing in
 * this process and signs in there: nothing to register, no internet needed. With X
 * credentials (see example-app/.env.example), signs in with the real X. With `REDIS_URL`,
 * sessions, tokens, the token lock and the replay guard live in Redis, for several instances.
 * Settings come from the environment, and from a `.env` file in the current directory when
 * there is one (variables already set win).
 */
import { RedisStore } from 'connect-redis';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient } from 'redis';
import { RedisReplayGuard, RedisTokenLock } from 'passport-x';
import { startXEmulator, type XEmulator } from 'passport-x/testing';
import { createExampleApp } from './app';
import { EXAMPLE_EMULATOR_OPTIONS, ExampleConfigError, callbackURLs, emulatorConfig, emulatorUserList, readEnvironment, redisURLForDisplay, type ExampleConfig } from './config';
import { createRedisTokenStore } from './tokens';

/**
 * With `REDIS_URL`: one node-redis connection for everything several instances must share:
 * sessions (connect-redis), the users' tokens, the lock that keeps instances from refreshing a
 * user's tokens at once, and the replay guard that lets one copy of a callback through to X.
 */
async function redisServices(redisURL: string): Promise<{ shared: Pick<ExampleConfig, 'sessionStore' | 'tokenStore' | 'tokenLock' | 'replayGuard'>; close: () => Promise<void> }> {
  const client = createClient({ url: redisURL });
  client.on('error', (err: unknown) => console.error('passport-x example: Redis:', err instanceof Error ? err.message : String(err)));
  try {
    await client.connect();
  } catch (err) {
    fail(`could not connect to REDIS_URL (${redisURLForDisplay(redisURL)}): ${err instanceof Error ? err.message : String(err)}. Start Redis, fix REDIS_URL, or leave it out to keep everything in memory.`);
  }
  return {
    shared: {
      sessionStore: new RedisStore({ client, prefix: 'passport-x-example:sess:' }),
      tokenStore: createRedisTokenStore(client),
      tokenLock: new RedisTokenLock({ client }),
      replayGuard: new RedisReplayGuard({ client }),
    },
    close: async () => {
      if (client.isOpen) await client.quit();
    },
  };
}

function listen(server: Server, port: number, host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function fail(message: string): never {
  console.error(`\npassport-x example: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  if (existsSync('.env')) {
    process.loadEnvFile('.env');
    console.log('passport-x example: read settings from .env');
  }
  let plan: ReturnType<typeof readEnvironment>;
  try {
    plan = readEnvironment(process.env);
  } catch (err) {
    if (err instanceof ExampleConfigError) fail(err.message);
    throw err;
  }

  const redis = plan.redisURL !== undefined ? await redisServices(plan.redisURL) : undefined;
  const emulator = plan.mode === 'emulator' ? await startXEmulator({ ...EXAMPLE_EMULATOR_OPTIONS, port: 0, host: '127.0.0.1' }) : undefined;

  const server = createServer();
  let port: number;
  try {
    port = await listen(server, plan.port, plan.host);
  } catch (err) {
    await emulator?.close();
    await redis?.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') fail(`port ${plan.port} is already in use. Stop what uses it, or pick another port: PORT=3001 npm start`);
    if (code === 'EACCES') fail(`not allowed to listen on port ${plan.port}. Pick a port above 1023: PORT=3000 npm start`);
    throw err;
  }

  // The callback URLs must name the host users browse, or the browser will not send the session cookie back:
  // 127.0.0.1, as X recommends; the app redirects a sign-in started at another host (localhost) there first.
  const config: ExampleConfig = {
    ...(plan.mode === 'x' ? plan.config : emulatorConfig(emulator as XEmulator, `http://127.0.0.1:${port}`, plan.sessionSecret)),
    ...redis?.shared,
  };
  server.on('request', createExampleApp(config));

  const lines = ['', 'passport-x example app', `  Open        ${config.publicURL}`];
  if (emulator) {
    lines.push(
      `  Sign in as  ${emulatorUserList(emulator)}, on the X emulator's consent page`,
      `  X emulator  ${emulator.url} (in this process: no X account or internet needed)`,
      '  Real X      set X_CLIENT_ID, X_CONSUMER_KEY, ... as example-app/.env.example shows',
    );
    if (plan.mode === 'emulator' && plan.ignored.length > 0) lines.push(`  Ignored     ${plan.ignored.join(', ')} (emulator mode always uses http://127.0.0.1:<PORT>)`);
  } else {
    const callbacks = callbackURLs(config.publicURL);
    lines.push(
      `  X           the real X (${[config.x.oauth2 ? 'OAuth 2.0' : '', config.x.oauth1 ? 'OAuth 1.0a' : ''].filter(Boolean).join(' and ')})`,
      '  Callback URLs to register in the X developer portal (User authentication settings):',
      ...(config.x.oauth2 ? [`    ${callbacks.oauth2}`] : []),
      ...(config.x.oauth1 ? [`    ${callbacks.oauth1}`] : []),
    );
    if (new URL(config.publicURL).port !== String(port) && /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])[:/]/.test(config.publicURL)) {
      lines.push(`  Note        listening on port ${port}, but PUBLIC_URL names another: sign-in only works at the PUBLIC_URL address.`);
    }
  }
  lines.push(
    plan.redisURL !== undefined
      ? `  Redis       ${redisURLForDisplay(plan.redisURL)}: sessions, tokens, token lock and replay guard (shared by every instance)`
      : '  Storage     in memory (one instance; set REDIS_URL to share sessions and tokens between instances)',
  );
  lines.push('', 'Press Ctrl+C to stop.', '');
  console.log(lines.join('\n'));

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    server.close();
    server.closeAllConnections();
    void Promise.allSettled([emulator?.close(), redis?.close()]).finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // `npm start` runs this app under a shell, which a SIGTERM sent to npm (a process manager, a
  // container's stop) ends without passing the signal on: this process then gets a new parent.
  // Stop then too, so that no app is left holding the port (only under npm: a process started
  // by hand with nohup may outlive its shell on purpose).
  const parent = process.ppid;
  if (process.env.npm_lifecycle_event === 'start') {
    setInterval(() => {
      if (process.ppid === parent) return;
      console.log('passport-x example: the process that started this app has ended: stopping.');
      stop();
    }, 1000).unref();
  }
}

main().catch((err: unknown) => {
  console.error('passport-x example: failed to start:', err);
  process.exit(1);
});
