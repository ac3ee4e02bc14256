// Headless Chromium (Debian's chromium, driven by playwright-core) for the status page tests;
// undefined path where it is not installed (the tests that need it are skipped). axe-core checks
// a page's accessibility; screenshots go to artifacts/ (git-ignored).

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { PROJECT } from './project.js';
import { which } from './tools.js';

export const browserPath = which('chromium');

/** Where the status page tests save their screenshots (git-ignored). */
export const ARTIFACTS = join(PROJECT, 'artifacts');

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

/** The two screens the page is checked on: a laptop's and a phone's (CSS pixels). */
export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;

/** A page the size of a phone's screen (390 x 844 CSS pixels), accepting every dialog (the confirmations). */
export async function phonePage(browser: Browser): Promise<Page> {
  const page = await browser.newPage({ viewport: VIEWPORTS.phone, deviceScaleFactor: 2 });
  page.on('dialog', (d) => void d.accept());
  return page;
}

/** Saves a screenshot of the whole page as artifacts/<name>.png and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${name}.png`);
  writeFileSync(file, await page.screenshot({ fullPage: true }));
  return file;
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's violations on the page as it is (WCAG 2.x A and AA rules and best practices). It is
 * evaluated through the browser's debugging protocol, which the page's Content-Security-Policy
 * does not govern, so the page runs with its own policy while it is checked.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  return (await page.evaluate(`
    axe.run(document, { resultTypes: ['violations'] }).then((r) =>
      r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ': ' + (n.failureSummary || '').split('\\n').slice(1, 2).join('')),
      })),
    )
  `)) as AxeViolation[];
}

/** The serious and critical ones of `axeViolations`. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  return (await axeViolations(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
