// Experiments on the device (issue 16, item 3), end to end: the real agent in watch mode on a
// copy of the example repository with an experiment for its environment. The device computes its
// variant from the files alone, holds it as an experiment-owned lease through the runtime layers
// (the component gets the value live), shows it in its status and reports the exposure as a
// metric; pausing the experiment by a commit clears the lease and gives back the signed value; an
// operator's lease on the same field wins over the experiment's.

import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { assignDevice } from '../../agent/core/experiments/assign.js';
import { startAgent } from '../helpers/agent-process.js';
import { browserPath, launchChromium, phonePage } from '../helpers/browser.js';
import { benchWatchArgs } from '../helpers/watch-agent.js';
import { until } from '../helpers/fleet.js';
import { PROJECT, tempDir } from '../helpers/project.js';

const DEVICE = 'dev-bench-01';

/** A seed that puts the bench in the `low` arm of a 50/50 split (found, not assumed). */
function seedForLow(): string {
  for (let i = 0; ; i++) {
    const seed = `bench-motion-${i}`;
    const a = assignDevice({ seed, hashVersion: 2, coverage: 1, weights: [0.5, 0.5], running: true }, DEVICE);
    if (a.variant === 1) return seed;
  }
}

function experiment(seed: string, status: 'running' | 'paused'): string {
  return [
    'version: 2',
    'description: bench experiment on motion sensitivity',
    'owner: video-team',
    'environments: [development]',
    `status: ${status}`,
    'start: 2026-12-01T00:00:00Z',
    'unit: device',
    `hash: { version: 2, seed: ${seed} }`,
    'coverage: 1',
    'variants:',
    '  - { name: control, weight: 0.5 }',
    '  - { name: low, weight: 0.5, set: { motion.sensitivity: 0.45 } }',
    'design: { type: between }',
    'metrics:',
    "  primary: { name: cpu, query: 'avg_over_time(doorbell_pipeline_cpu_ratio[$window])', direction: lower }",
    'stop: { max_days: 28, min_devices_per_arm: 30, no_data: hold }',
    '',
  ].join('\n');
}

describe('experiments on the device', () => {
  it('the variant is an experiment-owned lease, shown and exposed; a paused experiment gives back the signed value', async () => {
    const dir = tempDir('experiments-e2e-');
    for (const sub of ['config', 'environments', 'schemas', '.sops.yaml'])
      cpSync(join(PROJECT, sub), join(dir, sub), { recursive: true });
    const seed = seedForLow();
    cpSync(join(PROJECT, 'experiments'), join(dir, 'experiments'), { recursive: true });
    writeFileSync(join(dir, 'experiments/bench-motion.yaml'), experiment(seed, 'running'));
    const state = join(dir, '.state');
    const agent = startAgent(benchWatchArgs(dir, ['--with-example-pipeline']));
    try {
      const page = await agent.waitFor(/status page: (\S+)#token=(\S+)/);
      const [, url, token] = /status page: (\S+?)\/?#token=(\S+)/.exec(page)!;
      const call = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
        const r = await fetch(`${url}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        return (await r.json()) as Record<string, unknown>;
      };
      const sensitivity = (): unknown =>
        JSON.parse(readFileSync(join(state, 'components/capture/config.json'), 'utf8')).sections.motion.sensitivity;
      type Exp = { experiment: string; variant: string | null; state: string };
      const experiments = async (): Promise<Exp[]> => (await call('GET', '/api/v1/status')).experiments as Exp[];

      const applied = await until('the experiment applied', experiments, (x) =>
        x.some((e) => e.experiment === 'bench-motion' && e.state === 'applied'),
      );
      expect(applied.find((e) => e.experiment === 'bench-motion')).toMatchObject({ variant: 'low', state: 'applied' });
      // the example's own experiment runs in production only: the bench is not in it
      expect(applied.some((e) => e.experiment === 'motion-sensitivity')).toBe(false);
      await until(
        'the component to get 0.45',
        async () => sensitivity(),
        (v) => v === 0.45,
      );
      const tunables = (await call('GET', '/api/v1/tunables')) as { leases: Array<Record<string, unknown>> };
      expect(tunables.leases).toContainEqual(
        expect.objectContaining({
          owner: 'experiment',
          path: 'motion.sensitivity',
          value: 0.45,
          actor: 'experiment:bench-motion/low',
        }),
      );
      const metrics = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
      expect(metrics).toMatch(/doorbell_experiment_exposure\{experiment="bench-motion",variant="low"\} 1/);
      // and what an experiment measures: the components' own figures
      await until(
        "the detector's cpu_ratio in the metrics",
        async () => (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text(),
        (m) => /doorbell_component_figure\{component="detector",figure="cpu_ratio"\} 0\.\d+/.test(m),
      );
      const status = execFileSync(
        process.execPath,
        [join(PROJECT, 'dist/scripts/gitops.js'), 'agent', 'status', '--url', url!],
        { encoding: 'utf8' },
      );
      expect(status).toMatch(/experiments bench-motion: low \(applied\)/);
      if (browserPath) {
        // the status page shows it too
        const browser = await launchChromium();
        try {
          const page = await phonePage(browser);
          await page.goto(`${url}/#token=${token}`);
          const item = page.locator('[data-experiment="bench-motion"]');
          await item.waitFor({ timeout: 30_000 });
          expect(await item.getAttribute('data-state')).toBe('applied');
          expect(await item.innerText()).toMatch(/variant low[\s\S]*motion\.sensitivity = 0\.45/);
        } finally {
          await browser.close();
        }
      }

      // an operator's lease on the same field is above the experiment's: it wins while it lasts
      const op = await call('PUT', '/api/v1/tunables/motion.sensitivity', { value: 0.7, ttl: '10m', reason: 'e2e' });
      expect(op).toMatchObject({ outcome: 'applied', value: 0.7, winner: 'operator' });
      await until(
        'the component to get 0.7',
        async () => sensitivity(),
        (v) => v === 0.7,
      );
      await call('DELETE', '/api/v1/tunables/motion.sensitivity');
      await until(
        'the experiment value back',
        async () => sensitivity(),
        (v) => v === 0.45,
      );

      // paused by a change to the file (a commit in remote mode): the lease goes, the signed value is back
      writeFileSync(join(dir, 'experiments/bench-motion.yaml'), experiment(seed, 'paused'));
      const paused = await until('the experiment paused', experiments, (x) =>
        x.some((e) => e.experiment === 'bench-motion' && e.state === 'not-in'),
      );
      expect(paused.find((e) => e.experiment === 'bench-motion')?.variant).toBeNull();
      const signed = (
        parse(readFileSync(join(dir, 'config/motion.yaml'), 'utf8')) as { motion: { sensitivity: number } }
      ).motion.sensitivity;
      expect(signed).not.toBe(0.45);
      await until(
        'the signed value back',
        async () => sensitivity(),
        (v) => v === signed,
      );
      // the lease is gone once the clear has been delivered and baked (the component has the value first)
      await until(
        'no experiment lease',
        async () => ((await call('GET', '/api/v1/tunables')) as { leases: Array<Record<string, unknown>> }).leases,
        (leases) => !leases.some((l) => l.owner === 'experiment'),
      );
    } finally {
      await agent.stop();
    }
  }, 120_000);
});
