// Headless Chromium (Debian's chromium, driven by playwright-core) for the status page tests;
// undefined path where it is not installed (the tests that need it are skipped).

import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { which } from './tools.js';

export const browserPath = which('chromium');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: browserPath!,
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

/** A page the size of a phone's screen (390 x 844 CSS pixels), accepting every dialog (the confirmations). */
export async function phonePage(browser: Browser): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
  page.on('dialog', (d) => void d.accept());
  return page;
}
