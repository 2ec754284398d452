/**
 * Headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core)
 * for the tests that look at a page as a person would: started with its
 * background networking, component updates and sync off, so the browser
 * itself asks no network for anything.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** A browser test's `skip`: why it cannot run on this machine, or false. */
export function chromiumMissing(): string | false {
  return existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: apt-get install chromium`;
}

/** Headless Chromium with no network of its own; `extraArgs` go after the usual ones. */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      ...extraArgs,
    ],
  });
}
