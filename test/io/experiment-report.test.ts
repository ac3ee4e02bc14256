// The experiment report against a real Prometheus (devtools/prometheus-server.ts): per-device series
// of two arms pushed by remote write, with a known effect, the pre-period before the start and the
// experiment after it; the report finds the effect (CUPED on, strata from the exposure labels); an
// experiment nobody reported holds; `gitops experiment report` prints JSON its schema accepts and a
// markdown evidence table, and refuses a missing or broken experiment file by its code.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { experimentReport, exposureQuery } from '../../agent/io/experiment-report.js';
import type { ExperimentSpec } from '../../agent/io/experiment-report.js';
import { prometheusQuery } from '../../agent/io/prometheus-query.js';
import { encodeWriteRequest, pushWriteRequest } from '../../agent/io/remote-write.js';
import type { TimeSeries } from '../../agent/io/remote-write.js';
import { experimentReportCommand } from '../../scripts/experiment-report.js';
import { withCode } from '../helpers/codes.js';
import { PROJECT } from '../helpers/project.js';
import { usePrometheus } from '../helpers/prometheus.js';

const MIN = 60_000;
const now = Date.now();
const start = new Date(now - 30 * MIN);
const PER_ARM = 40;

const series = (labels: Record<string, string>, samples: Array<[number, number]>): TimeSeries => ({
  labels: Object.keys(labels)
    .sort()
    .map((name) => ({ name, value: labels[name]! })),
  samples: samples.map(([timestamp, value]) => ({ timestamp, value })),
});

/** A fixed spread, the same every run: device i's level and a small wobble per sample. */
const level = (i: number): number => 0.5 + 0.05 * Math.sin(i * 12.9898);
const wobble = (i: number, k: number): number => 0.005 * Math.sin(i * 78.233 + k * 3.7);

function fleet(): TimeSeries[] {
  const out: TimeSeries[] = [];
  const pre = [45, 40, 35].map((m) => now - m * MIN);
  const post = [20, 10, 1].map((m) => now - m * MIN);
  for (let i = 0; i < 2 * PER_ARM; i++) {
    const device = `dev-${i}`;
    const variant = i % 2 ? 'low' : 'control';
    const base = { device, environment: 'production', job: 'doorbell-agent', instance: device };
    out.push(
      series(
        {
          ...base,
          __name__: 'doorbell_experiment_exposure',
          experiment: 'motion',
          variant,
          hardware_model: i % 4 < 2 ? 'p4' : 'p5',
        },
        post.map((t) => [t, 1]),
      ),
      series({ ...base, __name__: 'doorbell_pipeline_cpu_ratio' }, [
        ...pre.map((t, k): [number, number] => [t, level(i) + wobble(i, k)]),
        // the treatment cuts CPU by 0.05 (10 %)
        ...post.map((t, k): [number, number] => [t, level(i) + wobble(i, k + 3) - (variant === 'low' ? 0.05 : 0)]),
      ]),
      series(
        { ...base, __name__: 'doorbell_detector_latency_p95_ms' },
        [...pre, ...post].map((t, k) => [t, 100 + 10 * Math.sin(i * 3.1) + Math.sin(i + k)]),
      ),
    );
  }
  return out;
}

const spec = (over: Partial<ExperimentSpec> = {}): ExperimentSpec => ({
  name: 'motion',
  environments: ['production'],
  status: 'running',
  start,
  variants: [
    { name: 'control', weight: 0.5 },
    { name: 'low', weight: 0.5 },
  ],
  strata: ['hardware_model'],
  primary: { name: 'cpu', query: 'avg_over_time(doorbell_pipeline_cpu_ratio[$window])', direction: 'lower' },
  guardrails: [
    {
      name: 'latency_p95',
      query: 'max_over_time(doorbell_detector_latency_p95_ms[$window])',
      direction: 'lower',
      maxRegression: 0.05,
    },
  ],
  analysis: { alpha: 0.05, cuped: true, prePeriodDays: 7, srmAlpha: 0.001 },
  stop: { maxDays: 28, minDevicesPerArm: 30, noData: 'hold' },
  ...over,
});

describe('experiment report against a real Prometheus', () => {
  const prom = usePrometheus();

  beforeAll(async () => {
    const r = await pushWriteRequest({ url: prom().writeUrl, body: encodeWriteRequest(fleet()), timeoutMs: 30_000 });
    expect(r, prom().log()).toMatchObject({ ok: true });
  }, 60_000);

  it('finds the known effect: ship low, CUPED on, per stratum', async () => {
    const r = await experimentReport(spec(), { prometheus: prometheusQuery(prom().url), at: new Date(now) });
    const a = r.analysis;
    expect(a.exposure.arms.map((x) => x.devices)).toEqual([PER_ARM, PER_ARM]);
    expect(a.exposure.srm?.failed).toBe(false);
    expect(a.primary.arms.map((x) => x.n)).toEqual([PER_ARM, PER_ARM]);
    const c = a.primary.comparisons[0]!;
    expect(c.difference).toBeCloseTo(-0.05, 2);
    expect(c.ci[1]).toBeLessThan(0);
    expect(a.primary.cuped).toMatchObject({ applied: true, devicesWithPre: 2 * PER_ARM });
    expect(a.primary.cuped.varianceReduction).toBeGreaterThan(0.9);
    expect(a.guardrails[0]!.comparisons[0]!.guardrail).toBe('ok');
    expect(a.verdict).toMatchObject({ decision: 'ship', variant: 'low' });
    expect(a.primary.strata.map((s) => s.stratum)).toEqual(['hardware_model=p4', 'hardware_model=p5']);
    expect(r.windows).toEqual({ analysis: '1800s', prePeriod: '7d' });
    expect(r.warnings).toEqual([]);
  });

  it('an experiment no device reported holds; so does a read before the start', async () => {
    const q = prometheusQuery(prom().url);
    const none = await experimentReport(spec({ name: 'nobody' }), { prometheus: q, at: new Date(now) });
    expect(none.analysis.verdict).toMatchObject({ decision: 'hold', code: 'no-exposures' });
    const early = await experimentReport(spec(), { prometheus: q, at: new Date(start.getTime() - MIN) });
    expect(early.analysis.verdict).toMatchObject({ decision: 'hold', code: 'not-started' });
    // a metric nobody reports: hold, never pass
    const empty = await experimentReport(
      spec({ primary: { name: 'cpu', query: 'avg_over_time(no_such_metric[$window])', direction: 'lower' } }),
      { prometheus: q, at: new Date(now) },
    );
    expect(empty.analysis.verdict).toMatchObject({ decision: 'hold', code: 'metric-empty' });
  });

  it('takes the assignment for the SRM check and names devices in the wrong arm', async () => {
    const expected = new Map<string, string | null>();
    for (let i = 0; i < 2 * PER_ARM; i++) expected.set(`dev-${i}`, i % 2 ? 'low' : 'control');
    expected.set('dev-0', 'low');
    const r = await experimentReport(spec(), { prometheus: prometheusQuery(prom().url), at: new Date(now), expected });
    expect(r.analysis.exposure).toMatchObject({ unexpected: 1, unexpectedDevices: ['dev-0'] });
    expect(r.analysis.exposure.srm).toMatchObject({ expectedFrom: 'assignment', failed: false });
  });

  describe('gitops experiment report', () => {
    let dir = '';
    let printed = '';
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'experiment-report-'));
      mkdirSync(join(dir, 'experiments'));
      writeFileSync(
        join(dir, 'experiments/motion.yaml'),
        [
          'description: Does a lower motion sensitivity cut CPU?',
          'owner: video-team',
          'environments: [production]',
          'status: running',
          `start: ${start.toISOString()}`,
          'unit: device',
          'hash: { version: 2, seed: motion-1 }',
          'strata: [hardware_model]',
          'variants:',
          '  - { name: control, weight: 0.5 }',
          '  - { name: low, weight: 0.5, set: { motion.sensitivity: 0.45 } }',
          'design: { type: between }',
          'metrics:',
          "  primary: { name: cpu, query: 'avg_over_time(doorbell_pipeline_cpu_ratio[$window])', direction: lower }",
          '  guardrails:',
          "    - { name: latency_p95, query: 'max_over_time(doorbell_detector_latency_p95_ms[$window])', direction: lower, max_regression: 0.05 }",
          'analysis: { alpha: 0.05, cuped: true, pre_period_days: 7, srm_alpha: 0.001 }',
          'stop: { max_days: 28, min_devices_per_arm: 30, no_data: hold }',
          '',
        ].join('\n'),
      );
      writeFileSync(join(dir, 'experiments/broken.yaml'), 'variants: [\n');
      writeFileSync(join(dir, 'experiments/partial.yaml'), 'environments: [production]\nstart: 2026-12-01T00:00:00Z\n');
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    const run = async (args: string[]): Promise<number> => {
      printed = '';
      const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
        printed += String(s);
        return true;
      });
      try {
        return await experimentReportCommand(args);
      } finally {
        spy.mockRestore();
      }
    };
    const base = (): string[] => ['--root', dir, '--prometheus', prom().url, '--at', new Date(now).toISOString()];

    it('prints JSON that its schema accepts', async () => {
      expect(await run(['motion', '--format', 'json', ...base()])).toBe(0);
      const json = JSON.parse(printed) as { verdict: { decision: string; variant: string }; metrics: unknown[] };
      const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
      addFormats.default(ajv);
      const validate = ajv.compile(
        JSON.parse(readFileSync(join(PROJECT, 'schemas/experiment-report.schema.json'), 'utf8')) as object,
      );
      expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
      expect(json.verdict).toMatchObject({ decision: 'ship', variant: 'low' });
      expect(json.metrics).toHaveLength(2);
    });

    it('prints a markdown evidence table and a text report (--output is --format)', async () => {
      expect(await run(['motion', '--output', 'markdown', ...base()])).toBe(0);
      expect(printed).toContain('### Experiment `motion`: **ship low**');
      expect(printed).toMatch(/^\| `low` \| 40 \|/m);
      expect(printed).toContain('By stratum (cpu)');
      expect(await run(['motion', ...base()])).toBe(0);
      expect(printed).toMatch(/^experiment motion: ship low/);
      expect(printed).toContain('CUPED on');
    });

    it('refuses a missing file, a broken one, a file without the fields, and a bad command line, by code', async () => {
      await expect(run(['nope', ...base()])).rejects.toThrow(withCode('file-not-found'));
      await expect(run(['broken', ...base()])).rejects.toThrow(withCode('bad-document'));
      await expect(run(['partial', ...base()])).rejects.toThrow(withCode('bad-document'));
      await expect(run(['motion', '--root', dir])).rejects.toThrow(withCode('usage'));
      await expect(run(['motion', '--format', 'pdf', ...base()])).rejects.toThrow(withCode('usage'));
      await expect(run(['motion', ...base(), '--at', 'yesterday'])).rejects.toThrow(withCode('usage'));
      await expect(run(['Motion!', ...base()])).rejects.toThrow(withCode('usage'));
    });

    it('an empty --prometheus (no telemetry configured) holds', async () => {
      const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      try {
        expect(await run(['motion', '--format', 'json', '--root', dir, '--prometheus', ''])).toBe(0);
      } finally {
        stderr.mockRestore();
      }
      expect(JSON.parse(printed)).toMatchObject({ verdict: { decision: 'hold', code: 'no-exposures' } });
    });
  });
});

describe('exposureQuery', () => {
  it('groups by device, environment, variant and the strata that are label names', () => {
    expect(
      exposureQuery(
        { name: 'motion', environments: ['production', 'staging'], strata: ['hardware_model', 'a.b'] },
        '60s',
      ),
    ).toBe(
      'max by (device, environment, variant, hardware_model) (max_over_time(doorbell_experiment_exposure' +
        '{experiment="motion", environment=~"production|staging"}[60s]))',
    );
  });
});
