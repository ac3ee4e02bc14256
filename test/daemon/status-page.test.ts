// The status page in a real headless Chromium (Debian's chromium, driven by playwright-core)
// against a real agent on loopback: it shows what runs (relative and absolute times), follows a
// new apply without a reload, shows a refusal's reason, lets an operator roll back (a viewer sees
// no buttons; the button is disabled, with the reason, while there is nothing to return to),
// shows the diff between two releases, draws the timeline of applies, refusals and rollbacks,
// the step durations and the components' health, passes axe-core (no serious or critical
// violation) in light and dark mode on a laptop's and a phone's screen, is usable from the
// keyboard, and says unmistakably that it is offline when the agent stops, reconnecting by
// itself when it is back. Screenshots are saved in artifacts/ (git-ignored).

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent } from '../helpers/agent-process.js';
import type { AgentProcess } from '../helpers/agent-process.js';
import { exampleCopy } from '../helpers/project.js';
import { apiTokens, bearer } from '../helpers/tokens.js';
import { benchWatchArgs } from '../helpers/watch-agent.js';
import {
  browserPath,
  launchChromium,
  phonePage,
  saveScreenshot,
  seriousViolations,
  VIEWPORTS,
} from '../helpers/browser.js';

// what the functions run inside the page see (this project's TypeScript has no DOM library)
interface Element {
  textContent: string | null;
  getAttribute(name: string): string | null;
}
declare const document: {
  getElementById(id: string): Element | null;
  querySelector(selector: string): Element | null;
  querySelectorAll(selector: string): { length: number };
  documentElement: { scrollWidth: number };
  activeElement: { id: string } | null;
};
declare const window: unknown;
declare function getComputedStyle(e: unknown): { outlineStyle: string };

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

  // the same agent again on the same address (after it was stopped) with `listen` set to it
  const agentArgs = (listen: string): string[] =>
    benchWatchArgs(dir, ['--tokens-file', tokens.file, '--bake', '0.3', '--with-example-pipeline']).map((a) =>
      a === '127.0.0.1:0' ? listen : a,
    );

  beforeAll(async () => {
    // a tuning run of this device that no trial starts from (paused), for the page to list
    mkdirSync(join(dir, 'tuning'), { recursive: true });
    writeFileSync(
      join(dir, 'tuning/bench.yaml'),
      [
        'description: bench tuning of the person detector',
        'owner: video-team',
        'hardware_models: [edge-p4-c920]',
        'environments: [development]',
        'status: paused',
        'space:',
        '  detectors.person.frame_interval: { values: [2, 3] }',
        'reference:',
        '  detectors.person.frame_interval: 1',
        'objective: { metric: detector.cpu_ratio, direction: minimize }',
        'conditions: { governor_at_rest: true, healthy: true }',
        'trial: { settle_seconds: 0, duration_seconds: 60, min_samples: 2 }',
        'budget: { max_trials: 4 }',
        'method: { type: thompson, min_trials: 1 }',
        '',
      ].join('\n'),
    );
    agent = startAgent(agentArgs('127.0.0.1:0'));
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
    // times are relative and absolute; one release only: nothing to roll back to, and the page says so
    expect(await text('#current-meta')).toMatch(
      /^not signed \(watch mode .*\) · applied \d+ s ago \(\d\d:\d\d:\d\d\)$/,
    );
    expect(await text('#journal li[data-event="applied"] time')).toMatch(/^\d+ s ago \(\d\d:\d\d:\d\d\)$/);
    expect(await page.locator('#rollback').isDisabled()).toBe(true);
    expect(await text('#operator-why')).toContain('no earlier good release');
    // nothing is wider than the phone's screen
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  });

  it('lists the tuning runs of the release with their state', async () => {
    const item = page.locator('#tuning li[data-tuning="bench"]');
    await item.waitFor({ timeout: 5000 });
    expect(await item.getAttribute('data-state')).toBe('paused');
    expect(await item.innerText()).toMatch(/^bench paused on edge-p4-c920 · 0 trials run\n/);
    expect(await item.locator('.best').innerText()).toBe('no best candidate yet');
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
    await saveScreenshot(page, 'status-page');
  });

  it('draws the timeline of applies, refusals and rollbacks, the step durations and the health over time', async () => {
    await page.locator('#timeline svg .mark[data-event="rolled-back"]').first().waitFor();
    expect(await page.locator('#timeline svg .mark[data-event="applied"]').count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator('#timeline svg .mark[data-event="refused"]').count()).toBeGreaterThanOrEqual(1);
    expect(await page.locator('#timeline svg').getAttribute('aria-label')).toMatch(
      /^\d+ applied, [1-9]\d* refused, [1-9]\d* rolled back between \d\d:\d\d:\d\d and \d\d:\d\d:\d\d/,
    );
    expect(await page.locator('#timeline svg .mark[data-event="refused"] title').first().textContent()).toMatch(
      /^refused tree-\w+ at \d\d:\d\d:\d\d/,
    );
    // the apply steps' timings from the journal, stacked, with a legend naming them
    await page.locator('#steps-chart g.run[data-event="applied"] rect[data-step="validate"]').first().waitFor();
    expect(await page.locator('#steps-legend li').allInnerTexts()).toEqual(
      expect.arrayContaining(['validate', 'bake']),
    );
    // every component has a row; capture has been healthy all along
    await page.locator('#health-chart g.row[data-component="capture"] rect.healthy').first().waitFor();
    expect(await page.locator('#health-chart g.row').count()).toBe(await page.locator('#components li').count());
  });

  it('is accessible (axe-core) in light and dark mode on a laptop and a phone, and usable from the keyboard', async () => {
    for (const [name, viewport] of Object.entries(VIEWPORTS)) {
      const p = await browser.newPage({ viewport });
      p.on('dialog', (d) => void d.accept());
      await p.goto(`${api}/#token=${tokens.operator}`);
      await p.locator('#live.on').waitFor();
      await p.locator('#timeline svg').waitFor();
      await p.locator('#health-chart svg').waitFor();
      for (const colorScheme of ['light', 'dark'] as const) {
        await p.emulateMedia({ colorScheme });
        expect(await seriousViolations(p), `${name}, ${colorScheme}`).toEqual([]);
        await saveScreenshot(
          p,
          `status-page-${viewport.width}x${viewport.height}${colorScheme === 'dark' ? '-dark' : ''}`,
        );
      }
      expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(viewport.width);
      if (name === 'desktop') {
        // Tab reaches "Sync now", shows where the focus is, and Enter presses it
        await p.emulateMedia({ colorScheme: 'light' });
        for (let i = 0; i < 20 && (await p.evaluate(() => document.activeElement?.id)) !== 'sync'; i++)
          await p.keyboard.press('Tab');
        expect(await p.evaluate(() => document.activeElement?.id)).toBe('sync');
        expect(await p.evaluate(() => getComputedStyle(document.activeElement).outlineStyle)).not.toBe('none');
        const before = await p.locator('#sync-meta time').first().getAttribute('datetime');
        await p.keyboard.press('Enter');
        await p.waitForFunction(
          (b) =>
            document.querySelector('#sync-meta time')?.getAttribute('datetime') !== b &&
            (document.getElementById('sync-meta')?.textContent ?? '').includes('api (oncall)'),
          before,
        );
        // the other tab saw the sync start and end through the event stream
        await page.locator('#message', { hasText: /^sync: / }).waitFor();
      }
      await p.close();
    }
  }, 90_000);

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

  it('says it is offline when the agent stops, greys out what it no longer knows, and reconnects by itself', async () => {
    const desktop = await browser.newPage({ viewport: VIEWPORTS.desktop });
    await desktop.goto(`${api}/#token=${tokens.operator}`);
    await desktop.locator('#live.on').waitFor();
    await desktop.locator('#components li.healthy').first().waitFor();
    const components = await page.locator('#components li').count();
    await agent.stop();
    for (const p of [page, desktop]) {
      await p.locator('#offline:not([hidden])').waitFor();
      expect(await p.locator('#live').innerText()).toBe('offline');
      expect(await p.locator('#offline-text').innerText()).toMatch(
        /^Offline: the agent does not answer\. The data shown is as of \d\d:\d\d:\d\d;/,
      );
      await p.locator('#retry-in', { hasText: /^data as of \d\d:\d\d:\d\d \(\d+ s ago\) · reconnecting/ }).waitFor();
      expect(await p.locator('#components li[data-state="unknown"]').count()).toBe(components);
      expect(await p.locator('#components li.healthy').count()).toBe(0);
      await p.locator('#health-chart rect.unknown').first().waitFor();
      expect(await p.locator('#sync').isDisabled()).toBe(true);
      expect(await p.locator('#rollback').isDisabled()).toBe(true);
      expect(await p.locator('#operator-why').innerText()).toContain('The agent is offline');
      expect(await seriousViolations(p)).toEqual([]);
    }
    await saveScreenshot(page, 'status-page-390x844-offline');
    await saveScreenshot(desktop, 'status-page-1280x800-offline');

    // the agent back on the same address: the page finds it again on its own (backoff capped at 15 s)
    agent = startAgent(agentArgs(new URL(api).host));
    expect(await agent.api).toBe(api);
    for (const p of [page, desktop]) {
      await p.locator('#live.on').waitFor({ timeout: 60_000 });
      await p.locator('#offline').waitFor({ state: 'hidden' });
      await p.locator('#components li.healthy[data-component="capture"]').waitFor({ timeout: 30_000 });
      expect(await p.locator('#operator-why').isVisible()).toBe(false);
    }
    await desktop.close();
  }, 120_000);
});
