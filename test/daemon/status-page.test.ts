// The status page in a real headless Chromium (Debian's chromium, driven by playwright-core)
// against a real agent on loopback: it shows what runs, follows a new apply without a reload,
// shows a refusal's reason, lets an operator roll back (a viewer sees no buttons), shows the
// diff between two releases, and fits a phone's screen. A screenshot is saved in artifacts/.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent } from '../helpers/agent-process.js';
import type { AgentProcess } from '../helpers/agent-process.js';
import { exampleCopy, PROJECT } from '../helpers/project.js';
import { apiTokens, bearer } from '../helpers/tokens.js';
import { browserPath, launchChromium, phonePage } from '../helpers/browser.js';

// what the functions run inside the page see (this project's TypeScript has no DOM library)
interface Element {
  textContent: string | null;
  getAttribute(name: string): string | null;
}
declare const document: {
  getElementById(id: string): Element | null;
  querySelector(selector: string): Element | null;
  documentElement: { scrollWidth: number };
};
declare const window: unknown;

const key = join(PROJECT, 'environments/development/keys/dev-bench-01.agekey');
const ARTIFACTS = join(PROJECT, 'artifacts');

describe.runIf(browserPath)('the status page in Chromium', () => {
  const dir = exampleCopy();
  const tokens = apiTokens();
  let agent: AgentProcess;
  let api = '';
  let browser: Browser;
  let page: Page;

  const setFps = (from: number, to: number): void => {
    const file = join(dir, 'config/frame_capture.yaml');
    const text = readFileSync(file, 'utf8');
    if (!text.includes(`  fps: ${from}`)) throw new Error(`test setup: fps is not ${from}`);
    writeFileSync(file, text.replace(`  fps: ${from}`, `  fps: ${to}`));
  };
  const current = async (): Promise<string> =>
    (
      (await (await fetch(`${api}/api/v1/status`, { headers: bearer(tokens.viewer) })).json()) as {
        current: { commit: string };
      }
    ).current.commit;
  const text = (selector: string): Promise<string> => page.locator(selector).innerText();

  beforeAll(async () => {
    agent = startAgent([
      '--watch',
      dir,
      '--env',
      'development',
      '--device',
      'dev-bench-01',
      '--identity',
      key,
      '--hardware-profile',
      'recorded',
      '--state',
      join(dir, '.state'),
      '--listen',
      '127.0.0.1:0',
      '--tokens-file',
      tokens.file,
      '--bake',
      '0.3',
      '--with-example-pipeline',
    ]);
    api = await agent.api;
    await agent.waitFor(/applied tree-\w+ "working tree"/);
    browser = await launchChromium();
    page = await phonePage(browser);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await agent?.stop();
  }, 30_000);

  it('shows the running commit, its components and the journal; the token leaves the address bar', async () => {
    await page.goto(`${api}/#token=${tokens.operator}`);
    const commit = await current();
    await page.waitForFunction(
      (c) => document.getElementById('current-commit')?.textContent === c,
      commit.slice(0, 12),
    );
    expect(await text('#device')).toBe('development / dev-bench-01');
    expect(await text('#current-subject')).toBe('working tree');
    expect(page.url()).toBe(`${api}/`);
    await page.locator('#live.on').waitFor();
    await page.locator('#components li.healthy[data-component="capture"]').waitFor();
    expect(await page.locator('#journal li[data-event="applied"]').count()).toBeGreaterThanOrEqual(1);
    expect(await page.locator('#operator').isVisible()).toBe(true);
    // nothing is wider than the phone's screen
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  });

  it('follows a new apply without a reload, and shows a refusal with its reason', async () => {
    const before = await current();
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42)); // survives only if the page is not reloaded
    setFps(15, 12);
    await page.waitForFunction(
      (c) => document.getElementById('current-commit')?.textContent !== c,
      before.slice(0, 12),
    );
    expect(await text('#current-commit')).toBe((await current()).slice(0, 12));
    setFps(12, 500);
    await page.locator('#journal li[data-event="refused"]').first().waitFor();
    expect(await text('#journal li[data-event="refused"] .reason')).toContain(
      'frame_capture.fps is 500, above the maximum 120',
    );
    await page.locator('#last-error:not([hidden])').waitFor();
    expect(await text('#last-error')).toContain('invalid');
    expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(42);
    setFps(500, 10);
    await page.waitForFunction(() => document.querySelector('#journal li')?.getAttribute('data-event') === 'applied');
  });

  it('shows the difference between two releases', async () => {
    const releases = (await (
      await fetch(`${api}/api/v1/releases`, { headers: bearer(tokens.viewer) })
    ).json()) as Array<{ commit: string }>;
    await page.selectOption('#diff-from', releases.at(-1)!.commit);
    await page.selectOption('#diff-to', releases[0]!.commit);
    await page.click('#diff-show');
    await page.locator('#diff-out tr[data-path="frame_capture.fps"]').waitFor();
    expect(await text('#diff-out tr[data-path="frame_capture.fps"]')).toContain('15 → 10');
  });

  it("an operator's rollback button works, and the screenshot is saved", async () => {
    const running = await current();
    const target = await page.locator('#rollback-to').inputValue();
    expect(target).not.toBe('');
    expect(target).not.toBe(running);
    await page.click('#rollback');
    await page.waitForFunction(
      (c) => document.getElementById('current-commit')?.textContent === c,
      target.slice(0, 12),
    );
    expect(await current()).toBe(target);
    await page.locator('#journal li[data-event="rolled-back"]').first().waitFor();
    expect(await text('#journal li[data-event="rolled-back"]')).toMatch(
      new RegExp(`^rolled-back ${running.slice(0, 12)} → ${target.slice(0, 12)} “working tree” by oncall`),
    );
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'status-page.png'), await page.screenshot({ fullPage: true }));
  });

  it('a viewer sees the same page without the buttons; a wrong token is told to paste another', async () => {
    const viewer = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await viewer.goto(`${api}/#token=${tokens.viewer}`);
    await viewer.waitForFunction(() => document.getElementById('who')?.textContent === 'you are dashboard (viewer)');
    expect(await viewer.locator('#operator').isVisible()).toBe(false);
    const stranger = await browser.newPage();
    await stranger.goto(`${api}/#token=dbt_${'A'.repeat(43)}`);
    await stranger.waitForFunction(() => document.getElementById('message')?.textContent?.includes('API token'));
    expect(await stranger.locator('#access').getAttribute('open')).not.toBeNull();
    await viewer.close();
    await stranger.close();
  });
});
