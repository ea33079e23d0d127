// Launches the system's headless Chromium (Debian's `chromium` package) through playwright-core.
// playwright-core downloads no browser by itself, and the tests must never make it do so:
// no `npx playwright install`, only the browser at CHROMIUM_PATH.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Where Debian's `chromium` package installs the browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * The flags of every launch: headless, no sandbox (CI containers run as root, where Chromium's
 * sandbox cannot start), and none of the background traffic (updates, sync, field trials) that a
 * test on loopback must not make.
 */
export const CHROMIUM_ARGS: readonly string[] = Object.freeze([
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]);

/**
 * Starts headless Chromium from {@link CHROMIUM_PATH} with {@link CHROMIUM_ARGS}. Throws when the
 * browser is not installed, saying how to install it: the browser tests must fail, never skip.
 * Close the browser after the test (`await browser.close()`).
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `The browser tests need Chromium at ${CHROMIUM_PATH}, and it is not installed. ` +
        'Run .ci/run (it installs it), or install it with: sudo apt-get install chromium. ' +
        'Do not run "npx playwright install": these tests use the system\'s Chromium only.',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS], headless: true, timeout: 80_000 });
}
