// The status page's runtime panel in a real headless Chromium against a real agent (watch mode,
// the example pipeline, the load governor on with a one-second dwell on the detector's latency):
// an operator lease appears with its owner, actor, reason, value and a remaining time that
// counts down; an operator clears it with its button (a viewer sees no button); synthetic load
// on the pipeline makes the governor step down, which the page shows (its step, the hot signal,
// the governor's own leases, which no one clears from the page), and back up once it is gone.
// The leases in force are drawn as bars of their remaining time.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TunablesAnswer } from '../../agent/core/contracts/api.js';
import { startAgent } from '../helpers/agent-process.js';
import type { AgentProcess } from '../helpers/agent-process.js';
import { browserPath, launchChromium, phonePage, saveScreenshot, seriousViolations } from '../helpers/browser.js';
import { until } from '../helpers/fleet.js';
import { exampleCopy } from '../helpers/project.js';
import { apiTokens, bearer } from '../helpers/tokens.js';
import { benchWatchArgs } from '../helpers/watch-agent.js';

// what the functions run inside the page see (this project's TypeScript has no DOM library)
interface Element {
  textContent: string | null;
  getAttribute(name: string): string | null;
}
declare const document: { querySelector(selector: string): Element | null; documentElement: { scrollWidth: number } };

describe.runIf(browserPath)('the status page: leases and the load governor', () => {
  let browser: Browser;
  let page: Page;
  let agent: AgentProcess;
  let api = '';
  const dir = exampleCopy();
  const tokens = apiTokens();
  const text = (selector: string): Promise<string> => page.locator(selector).innerText();
  const tunables = async (): Promise<TunablesAnswer> =>
    (await (await fetch(`${api}/api/v1/tunables`, { headers: bearer(tokens.viewer) })).json()) as TunablesAnswer;
  const lease = async (path: string, body: unknown): Promise<void> => {
    const r = await fetch(`${api}/api/v1/tunables/${path}`, {
      method: 'PUT',
      headers: { ...bearer(tokens.operator), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`PUT ${path}: ${r.status} ${await r.text()}`);
  };

  beforeAll(async () => {
    // the governor on, moved by the detector's latency and drops with a dwell of a second each way; the
    // machine's signals can never enter: a busy test machine's CPU would hold the governor where it is
    const file = join(dir, 'environments/development/overrides.yaml');
    const doc = parseDocument(readFileSync(file, 'utf8'));
    doc.set('load_governor', {
      enabled: true,
      // one step down before the test takes the load away, and straight back up
      degrade_interval_seconds: 20,
      restore_interval_seconds: 0,
      signals: Object.fromEntries(
        ['soc_temp', 'cpu', 'inference_latency', 'dropped_frames', 'gpu_throttled', 'pi_throttled', 'memory'].map(
          (n) => {
            const detector = n === 'inference_latency' || n === 'dropped_frames';
            const never =
              n === 'memory'
                ? { enter_below: -2, exit_above: -1 }
                : detector
                  ? {}
                  : { enter_above: 1e9, exit_below: 1e8 };
            return [n, { ...never, enter_for_seconds: detector ? 1 : 3600, exit_for_seconds: 1 }];
          },
        ),
      ),
    });
    writeFileSync(file, doc.toString());
    agent = startAgent(benchWatchArgs(dir, ['--tokens-file', tokens.file, '--bake', '0.3', '--with-example-pipeline']));
    api = await agent.api;
    await agent.waitFor(/applied tree-\w+ "working tree"/, 60_000);
    browser = await launchChromium();
    page = await phonePage(browser);
    await page.goto(`${api}/#token=${tokens.operator}`);
  }, 90_000);

  afterAll(() => Promise.all([browser?.close(), agent?.stop()]), 30_000);

  it('shows no lease, and the governor at the signed configuration', async () => {
    await page.locator('#runtime:not([hidden])').waitFor();
    await page.locator('#leases li', { hasText: 'no leases: the signed configuration runs' }).waitFor();
    await page.locator('#governor:not([hidden])').waitFor();
    expect(await text('#governor-step')).toBe('step 0 of 5: the signed configuration');
    expect(await page.locator('#governor-ladder li').allInnerTexts()).toEqual([
      'face_recognition_off face_recognition.enabled=false',
      'capture_10_fps frame_capture.fps=10',
      'every_other_frame detectors.package.frame_interval=2, detectors.person.frame_interval=2',
      'small_detector_input detectors.package.input_size=256, detectors.person.input_size=256',
      'capture_5_fps frame_capture.fps=5',
    ]);
    await page.locator('#governor-signals li[data-signal="inference_latency"][data-state="normal"]').waitFor();
    expect(await page.locator('#governor-signals li').count()).toBe(7);
    // no lease: no bars
    expect(await page.locator('#lease-chart').isHidden()).toBe(true);
  });

  it("shows an operator's lease counting down, and its Clear button clears it", async () => {
    await lease('motion.sensitivity', { value: 0.45, ttl: '2m', reason: 'windy: fewer false alarms' });
    const item = page.locator('#leases li[data-path="motion.sensitivity"][data-owner="operator"]');
    await item.waitFor();
    expect(await item.locator('.value').innerText()).toBe('0.45');
    expect(await item.innerText()).toContain('by oncall: windy: fewer false alarms');
    expect(await item.innerText()).toContain('signed 0.6');
    const first = await item.locator('.remaining').innerText();
    expect(first).toMatch(/^(2m|1m5\ds) left$/);
    // it counts down without a reload
    await page.waitForFunction((t) => {
      const e = document.querySelector('#leases li[data-path="motion.sensitivity"] .remaining');
      return e !== null && e.textContent !== t;
    }, first);
    expect(await item.locator('.remaining').innerText()).toMatch(/^1m5\ds left$/);
    expect(await item.innerText()).toMatch(/ · until \d\d:\d\d:\d\d/);
    // its bar: the part still to run of its two minutes, and the time left beside it
    const bar = page.locator('#lease-chart g.lease-bar[data-path="motion.sensitivity"][data-owner="operator"]');
    await bar.waitFor();
    expect(await bar.locator('text.label').textContent()).toBe('motion.sensitivity = 0.45 (operator)');
    expect(await bar.locator('text.value').textContent()).toMatch(/^1m5\ds left$/);
    const whole = Number(await bar.locator('rect.track').getAttribute('width'));
    const rest = Number(await bar.locator('rect.rest').getAttribute('width'));
    expect(rest / whole).toBeGreaterThan(0.8);
    expect(rest / whole).toBeLessThan(1);
    expect(await seriousViolations(page)).toEqual([]);

    // a viewer sees the lease, without the button
    const viewer = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await viewer.goto(`${api}/#token=${tokens.viewer}`);
    await viewer.locator('#leases li[data-path="motion.sensitivity"]').waitFor();
    expect(await viewer.locator('#leases button.clear').count()).toBe(0);
    await viewer.close();

    await item.locator('button.clear').click();
    await page.locator('#message', { hasText: 'cleared motion.sensitivity: it runs 0.6 (signed)' }).waitFor();
    await page.locator('#leases li[data-path="motion.sensitivity"]').waitFor({ state: 'detached' });
    // the journal names the path, value and owner of each lease event
    expect(await text('#journal li[data-event="lease-set"]')).toMatch(
      /^lease-set tree-[0-9a-f]{7} motion\.sensitivity = 0\.45 \(operator oncall\) /,
    );
    await page
      .locator('#journal li[data-event="lease-cleared"]', { hasText: 'motion.sensitivity (operator oncall)' })
      .waitFor();
    expect((await tunables()).tunables.find((t) => t.path === 'motion.sensitivity')).toMatchObject({
      value: 0.6,
      winner: 'signed',
    });
  });

  it('follows the governor down under synthetic load and back up when it is gone, and saves a screenshot', async () => {
    const loadFile = join(dir, '.state/components/synthetic-load');
    mkdirSync(join(dir, '.state/components'), { recursive: true });
    // on the bench's cuda detector a frame costs 2.5 ms: 48 times that (120 ms) at 15 fps piles frames up far
    // above the governor's 100 ms, while capture stays healthy (a frame costs less than two periods)
    writeFileSync(loadFile, '48\n');
    await agent.waitFor(/\[pipeline\] load: synthetic load x48/);
    await page.locator('#governor-signals li[data-signal="inference_latency"][data-state="hot"]').waitFor({
      timeout: 30_000,
    });
    await page.locator('#governor-step[data-step="1"]').waitFor({ timeout: 30_000 });
    expect(await text('#governor-step')).toBe('step 1 of 5: face_recognition_off');
    expect(await text('#governor-ladder li.current')).toBe('face_recognition_off face_recognition.enabled=false');
    expect(await text('#governor-moves')).toMatch(
      /^last move 0 → 1 \d+ s ago \(\d\d:\d\d:\d\d\): inference_latency is hot: .* · 1 move in the last hour \(at most 10\)$/,
    );
    await page
      .locator('#journal li[data-event="governor-step"]', { hasText: 'step 0 → 1 (face_recognition_off)' })
      .waitFor();
    // the governor's lease is listed, without a Clear button: only an operator's lease has one
    const held = page.locator('#leases li[data-path="face_recognition.enabled"][data-owner="governor"]');
    await held.waitFor();
    expect(await held.locator('button').count()).toBe(0);
    await page
      .locator('#lease-chart g.lease-bar[data-path="face_recognition.enabled"][data-owner="governor"]')
      .waitFor();
    // the panels fit a phone's screen
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await saveScreenshot(page, 'status-page-runtime');

    rmSync(loadFile);
    await page.locator('#governor-signals li[data-signal="inference_latency"][data-state="normal"]').waitFor({
      timeout: 30_000,
    });
    await page
      .locator('#governor-step[data-step="0"]')
      .waitFor({ timeout: 60_000 })
      .catch(async (e: Error) => {
        throw new Error(
          `${e.message}\n${JSON.stringify((await tunables()).governor, null, 1)}\n${agent.lines.slice(-20).join('\n')}`,
        );
      });
    await until('the governor to let go of its leases', tunables, (t) => !t.leases.some((l) => l.owner === 'governor'));
    await page.locator('#leases li', { hasText: 'no leases' }).waitFor();
  }, 120_000);
});
