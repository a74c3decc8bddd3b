import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium (BATON_CHROMIUM, installed by `npm test` when a web-ui test is selected),
 * headless, with a fresh profile. The background-networking flags keep it from calling out:
 * on a closed network those connections fail, many at a time.
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = process.env.BATON_CHROMIUM;
  if (!executablePath) throw new Error('BATON_CHROMIUM is not set: run the tests with `npm test`');
  return chromium.launch({
    executablePath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
