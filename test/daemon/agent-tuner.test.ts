// The tuner on the device (issue 16, item 5), end to end: the real agent in watch mode with the
// example pipeline, on a copy of the example repository with a tuning file of short trials for
// development (dev-bench-01). A trial is a tuner-owned lease that the component gets; a finished
// trial is counted in the status and the telemetry; a change of the file is a new release and
// rebuilds the tuner; synthetic load makes the governor act, and the trial in progress is aborted
// and its lease cleared (asserted on the journal and the status, not on timing).

import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { TuningStatus } from '../../agent/core/contracts/api.js';
import { startAgent } from '../helpers/agent-process.js';
import { fastGovernor } from '../helpers/fast-governor.js';
import { benchWatchArgs } from '../helpers/watch-agent.js';
import { until } from '../helpers/fleet.js';
import { PROJECT, tempDir } from '../helpers/project.js';

const PATH = 'detectors.person.frame_interval';

function tuningFile(durationSeconds: number): string {
  return [
    'description: bench tuning of the person detector',
    'owner: video-team',
    'hardware_models: [edge-p4-c920]',
    'environments: [development]',
    'space:',
    `  ${PATH}: { values: [2, 3] }`,
    'reference:',
    `  ${PATH}: 1`,
    'objective:',
    '  metric: detector.cpu_ratio',
    '  direction: minimize',
    '  constraints:',
    '    - { metric: detector.inference_latency_p95_ms, stat: p95, max: 10000 }',
    'conditions: { governor_at_rest: true, healthy: true }',
    `trial: { settle_seconds: 0, duration_seconds: ${durationSeconds}, min_samples: 2 }`,
    'budget: { max_trials: 1 }',
    'method: { type: thompson, min_trials: 1 }',
    '',
  ].join('\n');
}

type Entry = Record<string, unknown>;
type Lease = { owner: string; path: string; value: unknown; actor: string };

describe('the tuner on the device', () => {
  it('runs trials as tuner-owned leases the component gets, and aborts the trial in progress when the governor acts', async () => {
    const dir = tempDir('tuner-e2e-');
    for (const sub of ['config', 'environments', 'schemas', '.sops.yaml'])
      cpSync(join(PROJECT, sub), join(dir, sub), { recursive: true });
    const governorFile = join(dir, 'config/load_governor.yaml');
    writeFileSync(governorFile, fastGovernor(readFileSync(governorFile, 'utf8')));
    // only this file: the example's tuning runs in development too, with ten-minute trials
    mkdirSync(join(dir, 'tuning'));
    writeFileSync(join(dir, 'tuning/bench.yaml'), tuningFile(10));
    const state = join(dir, '.state');
    const agent = startAgent(benchWatchArgs(dir, ['--with-example-pipeline']));
    try {
      const page = await agent.waitFor(/status page: (\S+)#token=(\S+)/);
      const [, url, token] = /status page: (\S+?)\/?#token=(\S+)/.exec(page)!;
      const call = async (path: string): Promise<unknown> =>
        (await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } })).json();
      const tuning = async (): Promise<TuningStatus | undefined> =>
        ((await call('/api/v1/status')) as { tuning?: TuningStatus[] }).tuning?.find((t) => t.tuning === 'bench');
      const journal = async (): Promise<Entry[]> => (await call('/api/v1/journal?limit=200')) as Entry[];
      const leases = async (): Promise<Lease[]> => ((await call('/api/v1/tunables')) as { leases: Lease[] }).leases;

      // one short trial: a tuner-owned lease, the component gets it, the trial ends and is counted
      const done = await until('the one trial of the budget to end', tuning, (t) => t?.state === 'done', 90_000);
      expect(done).toMatchObject({ model: 'edge-p4-c920', trials: 1, last: { outcome: 'feasible' } });
      expect(done!.best?.candidate).toBe(done!.last!.candidate);
      const sets = (await journal()).filter((e) => e.event === 'lease-set' && e.owner === 'tuner');
      expect(sets).toHaveLength(1);
      expect(sets[0]).toMatchObject({ path: PATH, actor: 'tuner:bench' });
      const tried = sets[0]!.value as number;
      expect([2, 3]).toContain(tried);
      expect(agent.lines.join('\n')).toMatch(
        new RegExp(`\\[pipeline\\] detector: running person on cuda every ${tried} frames`),
      );
      const cleared = (await journal()).filter((e) => e.event === 'lease-cleared' && e.owner === 'tuner');
      expect(cleared).toMatchObject([{ path: PATH, actor: 'tuner:bench' }]);
      expect((await leases()).filter((l) => l.owner === 'tuner')).toEqual([]);
      const metrics = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
      expect(metrics).toMatch(
        new RegExp(
          `doorbell_tuning_trials\\{tuning="bench",model="edge-p4-c920",candidate="${PATH}=${tried}",outcome="feasible"\\} 1`,
        ),
      );
      const status = execFileSync(
        process.execPath,
        [join(PROJECT, 'dist/scripts/gitops.js'), 'agent', 'status', '--url', url!],
        { encoding: 'utf8' },
      );
      expect(status).toMatch(
        new RegExp(`tuning bench: done \\(.*\\), 1 trials, best ${PATH.replace(/\./g, '\\.')}=${tried}`),
      );

      // a long trial (a new release: the tuner starts again), in progress when the load comes
      writeFileSync(join(dir, 'tuning/bench.yaml'), tuningFile(600));
      const running = await until('a trial in progress', tuning, (t) => t?.state === 'trial' && t.trials === 0, 90_000);
      const held = await until('its tuner-owned lease', leases, (ls) => ls.some((l) => l.owner === 'tuner'));
      expect(held.filter((l) => l.owner === 'tuner')).toMatchObject([
        { path: PATH, actor: 'tuner:bench', value: Number(running!.trial!.candidate.split('=')[1]) },
      ]);
      const shown = execFileSync(
        process.execPath,
        [join(PROJECT, 'dist/scripts/gitops.js'), 'agent', 'status', '--url', url!],
        { encoding: 'utf8' },
      );
      expect(shown).toMatch(/tuning bench: trial 1 detectors\.person\.frame_interval=[23], 0 trials/);

      // a hundred times the work per frame: more than a frame period even every 3rd frame on cuda
      writeFileSync(join(state, 'components/synthetic-load'), '100\n');
      const aborted = await until('the trial aborted', tuning, (t) => t?.last?.outcome === 'aborted', 90_000);
      // whichever sees the load first within a tick: the governor's step, or the detector's health check
      expect(aborted).toMatchObject({ trials: 1 });
      expect(aborted!.last!.reason).toMatch(/^(the load governor acted|a component turned unhealthy)$/);
      const entries = await until('the governor to step down', journal, (es) =>
        es.some((e) => e.event === 'governor-step'),
      );
      const clears = entries.filter((e) => e.event === 'lease-cleared' && e.owner === 'tuner');
      expect(clears).toHaveLength(2);
      if (aborted!.last!.reason === 'the load governor acted') {
        const before = entries.slice(0, entries.indexOf(clears[1]!));
        expect(before.some((e) => e.event === 'governor-step')).toBe(true);
      }
      expect((await leases()).filter((l) => l.owner === 'tuner')).toEqual([]);
    } finally {
      await agent.stop();
    }
  }, 240_000);
});
