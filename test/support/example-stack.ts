// The example app (Express) on an X emulator of its own, served on loopback, for one describe block
// of an e2e test: started before its tests, stopped after them.
import { createExampleApp } from '../../example-app/app';
import { emulatorConfig, type ExampleConfig } from '../../example-app/config';
import { startXEmulator, type XEmulator } from '../../lib/testing';
import { serveOnLoopback, type LoopbackServer } from './browserless';

/** The running stack: set once the describe block's `before` hook has run. */
export interface ExampleStack {
  x: XEmulator;
  server: LoopbackServer;
  /** What the app logged (its `log`), line by line. */
  logged: string[];
}

/**
 * Registers `before`/`after` hooks that start the emulator and the example app on it (the
 * emulator's configuration with `sessionSecret`, its callback URLs under `publicURL`, default the
 * server's own origin), and stop both. `configure` adds to the configuration (a token store, trust
 * in a proxy...).
 */
export function exampleAppOnEmulator(sessionSecret: string, options: { publicURL?: string; configure?: (config: ExampleConfig) => ExampleConfig } = {}): ExampleStack {
  const stack = { logged: [] } as unknown as ExampleStack;
  before(async function () {
    stack.x = await startXEmulator();
    stack.server = await serveOnLoopback();
    const config: ExampleConfig = { ...emulatorConfig(stack.x, options.publicURL ?? stack.server.origin, sessionSecret), log: (line) => stack.logged.push(line) };
    stack.server.server.on('request', createExampleApp(options.configure ? options.configure(config) : config));
  });
  after(async function () {
    await stack.server?.close();
    await stack.x?.close();
  });
  return stack;
}
