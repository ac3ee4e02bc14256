// The experiment report against a real Prometheus (devtools/prometheus-server.ts): per-device series
// of two arms pushed by remote write, with a known effect, the pre-period before the start and the
// experiment after it; the report finds the effect (CUPED on, strata from the exposure labels); an
// experiment nobody reported holds; `gitops experiment report` (the built command) reads the
// experiment of a repository, checks the sample ratio against the assignment the repository gives
// and the strata of its device files, prints JSON its schema accepts and a markdown evidence
// table, and refuses an unknown experiment, one that does not validate, and a bad command line.
// A switchback experiment read per block finds a known effect within each device, leaves the
// washout out, checks the blocks against the schedule, and holds on no data.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import { readExperiment } from '../../agent/core/experiments/read.js';
import {
  experimentReportJson,
  formatExperimentReportMarkdown,
  formatExperimentReportText,
} from '../../agent/core/format/experiment-report.js';
import { blockVariant, HOUR_MS } from '../../agent/core/experiments/switchback.js';
import type { SwitchbackSchedule } from '../../agent/core/experiments/switchback.js';
import { openRepository } from '../../agent/core/repo/repository.js';
import { experimentReport, exposureQuery, reportSpecOf } from '../../agent/io/experiment-report.js';
import type { ExperimentSpec } from '../../agent/io/experiment-report.js';
import { prometheusQuery } from '../../agent/io/prometheus-query.js';
import { encodeWriteRequest, pushWriteRequest } from '../../agent/io/remote-write.js';
import type { TimeSeries } from '../../agent/io/remote-write.js';
import { readWorkingTree } from '../../agent/io/repo-files.js';
import { fileSchemaCache } from '../../agent/io/schema-cache.js';
import { gitopsAsync } from '../helpers/cli.js';
import { armSeries, EXPERIMENT, experimentRepo, pushArms, series } from '../helpers/experiment-fleet.js';
import { PROJECT } from '../helpers/project.js';
import { usePrometheus } from '../helpers/prometheus.js';

const MIN = 60_000;
const now = Date.now();
const start = new Date(now - 30 * MIN);
const PER_ARM = 40;

function fleet() {
  const devices = Array.from({ length: 2 * PER_ARM }, (_, i) => ({
    device: `dev-${i}`,
    variant: i % 2 ? 'low' : 'control',
    labels: { hardware_model: i % 4 < 2 ? 'p4' : 'p5' },
  }));
  // the treatment cuts CPU by 0.05 (10 %)
  return armSeries(devices, { now, experiment: 'motion', environment: 'production', effect: { low: 0.05 } });
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
  primary: {
    name: 'cpu',
    query: 'avg_over_time(doorbell_component_figure{component="detector", figure="cpu_ratio"}[$window])',
    direction: 'lower',
  },
  guardrails: [
    {
      name: 'latency_p95',
      query:
        'max_over_time(doorbell_component_figure{component="detector", figure="inference_latency_p95_ms"}[$window])',
      direction: 'lower',
      maxRegression: 0.05,
    },
  ],
  analysis: { alpha: 0.05, cuped: true, prePeriodDays: 7, srmAlpha: 0.001 },
  stop: { maxDays: 28, minDevicesPerArm: 30, noData: 'hold' },
  design: { type: 'between' },
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

  describe('gitops experiment report (the built command, on a repository)', () => {
    let dir = '';
    let assigned: Array<{ device: string; variant: string }> = [];
    beforeAll(async () => {
      dir = experimentRepo(80, start);
      assigned = await pushArms(dir, prom(), now, { low: 0.05 });
    }, 60_000);

    const report = (args: string[], root = dir) =>
      gitopsAsync([
        'experiment',
        'report',
        EXPERIMENT,
        '--root',
        root,
        '--prometheus',
        prom().url,
        '--at',
        new Date(now).toISOString(),
        ...args,
      ]);

    it('prints JSON that its schema accepts: the SRM check against the assignment, strata from the device files', async () => {
      const r = await report(['--format', 'json']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const json = JSON.parse(r.stdout) as {
        verdict: { decision: string; variant: string };
        exposure: {
          arms: Array<{ variant: string; devices: number }>;
          srm: { expected_from: string };
          unexpected: number;
        };
        metrics: Array<{ strata: Array<{ stratum: string }> }>;
      };
      const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
      addFormats.default(ajv);
      const validate = ajv.compile(
        JSON.parse(readFileSync(join(PROJECT, 'schemas/experiment-report.schema.json'), 'utf8')) as object,
      );
      expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
      expect(json.verdict).toMatchObject({ decision: 'ship', variant: 'low' });
      expect((json as unknown as { design: unknown }).design).toEqual({ type: 'between' });
      const perArm = (v: string): number => assigned.filter((d) => d.variant === v).length;
      expect(json.exposure.arms.map((a) => [a.variant, a.devices])).toEqual([
        ['control', perArm('control')],
        ['low', perArm('low')],
      ]);
      expect(json.exposure.srm.expected_from).toBe('assignment');
      expect(json.exposure.unexpected).toBe(0);
      expect(json.metrics).toHaveLength(2);
      // no exposure carries a hardware_model label: the strata come from the device files
      expect(json.metrics[0]!.strata.map((s) => s.stratum)).toContain('hardware_model=rpi4-camv2');
    });

    it('prints a markdown evidence table and a text report (--output is --format)', async () => {
      const md = await report(['--output', 'markdown']);
      expect(md.status).toBe(0);
      expect(md.stdout).toContain(`### Experiment \`${EXPERIMENT}\`: **ship low**`);
      expect(md.stdout).toMatch(/^\| `low` \| \d+ \|/m);
      expect(md.stdout).toContain('By stratum (cpu)');
      const text = await report([]);
      expect(text.status).toBe(0);
      expect(text.stdout).toMatch(new RegExp(`^experiment ${EXPERIMENT}: ship low`));
      expect(text.stdout).toContain('CUPED on');
    });

    it('refuses an unknown experiment and one that does not validate (1), and a bad command line (2)', async () => {
      const unknown = await gitopsAsync([
        'experiment',
        'report',
        'motion-sensitivty',
        '--root',
        dir,
        '--prometheus',
        '',
      ]);
      expect(unknown.status).toBe(1);
      expect(unknown.stderr).toContain('Did you mean "motion-sensitivity"?');
      const broken = experimentRepo(0, start);
      const file = join(broken, `experiments/${EXPERIMENT}.yaml`);
      writeFileSync(file, readFileSync(file, 'utf8').replace('direction: lower', 'direction: sideways'));
      const invalid = await report([], broken);
      expect(invalid.status).toBe(1);
      expect(invalid.stdout).toBe('');
      expect(invalid.stderr).toContain('the repository does not validate');
      for (const args of [
        ['--format', 'pdf'],
        ['--at', 'yesterday'],
        ['--format', 'json', '--output', 'text'],
        ['--prometheus', 'ftp://x'],
        ['extra'],
      ])
        expect((await report(args)).status, args.join(' ')).toBe(2);
      const noUrl = await gitopsAsync(['experiment', 'report', EXPERIMENT, '--root', dir]);
      expect(noUrl.status).toBe(2);
      expect(noUrl.stderr).toContain('needs --prometheus URL');
    });

    it('an empty --prometheus (no telemetry configured) holds', async () => {
      const r = await gitopsAsync([
        'experiment',
        'report',
        EXPERIMENT,
        '--format',
        'json',
        '--root',
        dir,
        '--prometheus',
        '',
      ]);
      expect(r.status).toBe(0);
      expect(r.stderr).toContain('--prometheus is empty');
      expect(JSON.parse(r.stdout)).toMatchObject({ verdict: { decision: 'hold', code: 'no-exposures' } });
    });
  });
});

describe('reportSpecOf', () => {
  it("maps the repository's experiment (schema defaults filled in) to what the report reads", () => {
    const repo = openRepository(readWorkingTree(PROJECT), fileSchemaCache());
    const read = readExperiment(repo, EXPERIMENT);
    if (read.kind !== 'read') throw new Error('the example experiment does not read');
    // the spec of the tests above, but for the example file's name, start and guardrail name
    const expected = spec({ name: EXPERIMENT, start: new Date('2026-12-01T00:00:00Z') });
    expected.guardrails = [{ ...expected.guardrails[0]!, name: 'detection_latency_p95' }];
    expect(reportSpecOf(read.experiment)).toEqual(expected);
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

// A switchback experiment: 40 devices each run 8 one-hour blocks (the arm of each block by the
// real schedule), the `low` blocks 0.02 lower in CPU; the first 15 minutes after a switch are
// washout, where the new arm's CPU is far off (carry-over) and the report must leave it out. Pushed
// with their own timestamps hours back (the server accepts that backlog: outOfOrderWindow).
describe('a switchback experiment against a real Prometheus', () => {
  const prom = usePrometheus({ outOfOrderWindow: '12h' });
  const B = HOUR_MS;
  const at = Math.floor(Date.now() / B) * B;
  const sbStart = new Date(at - 8 * B);
  const DEVICES = 40;
  const sched = (device: string): SwitchbackSchedule => ({
    device,
    seed: 'sb-report-1',
    hash_version: 2,
    block_hours: 1,
    washout_minutes: 15,
    variants: [
      { name: 'control', weight: 0.5, set: {} },
      { name: 'low', weight: 0.5, set: {} },
    ],
  });
  const sbSpec = (over: Partial<ExperimentSpec> = {}): ExperimentSpec =>
    spec({
      name: 'motion-sb',
      start: sbStart,
      strata: [],
      design: { type: 'switchback', blockHours: 1, washoutMinutes: 15 },
      stop: { maxDays: 28, minDevicesPerArm: 20, noData: 'hold' },
      ...over,
    });
  const armOf = (device: string, k: number): string =>
    sched(device).variants[blockVariant(sched(device), device, k)]!.name;

  beforeAll(async () => {
    const out: TimeSeries[] = [];
    for (let i = 0; i < DEVICES; i++) {
      const device = `sb-${i}`;
      const base = { device, environment: 'production', job: 'doorbell-agent', instance: device };
      const exposures = new Map<string, Array<[number, number]>>();
      const cpu: Array<[number, number]> = [];
      const latency: Array<[number, number]> = [];
      const level = 0.5 + 0.05 * Math.sin(i * 12.9898);
      for (let k = sbStart.getTime() / B; k < at / B; k++) {
        const arm = armOf(device, k);
        const switched = armOf(device, k - 1) !== arm;
        for (let j = 0; j < 12; j++) {
          const t = k * B + 150_000 + j * 300_000;
          const washout = switched && t - k * B < 15 * 60_000;
          const key = `${arm}/${washout ? 'washout' : 'measure'}`;
          exposures.set(key, [...(exposures.get(key) ?? []), [t, 1]]);
          // carry-over in the washout: far off, in the direction that would hide the effect
          const carry = washout ? 0.5 : 0;
          cpu.push([t, level + 0.003 * Math.sin(i * 7.1 + k * 3.3 + j) - (arm === 'low' ? 0.02 : 0) + carry]);
          latency.push([t, 100 + 10 * Math.sin(i * 3.1) + Math.sin(i + k + j)]);
        }
      }
      for (const [key, samples] of exposures) {
        const [variant, phase] = key.split('/');
        out.push(
          series(
            {
              ...base,
              __name__: 'doorbell_experiment_exposure',
              experiment: 'motion-sb',
              variant: variant!,
              phase: phase!,
            },
            samples,
          ),
        );
      }
      out.push(
        series({ ...base, __name__: 'doorbell_component_figure', component: 'detector', figure: 'cpu_ratio' }, cpu),
        series(
          { ...base, __name__: 'doorbell_component_figure', component: 'detector', figure: 'inference_latency_p95_ms' },
          latency,
        ),
      );
    }
    // a device that reported both arms in one block: that block is left out
    const t = at - B / 2;
    for (const variant of ['control', 'low'])
      out.push(
        series(
          {
            device: 'sb-mixed',
            environment: 'production',
            __name__: 'doorbell_experiment_exposure',
            experiment: 'motion-sb',
            variant,
            phase: 'measure',
          },
          [[t, 1]],
        ),
      );
    const r = await pushWriteRequest({ url: prom().writeUrl, body: encodeWriteRequest(out), timeoutMs: 30_000 });
    expect(r, prom().log()).toMatchObject({ ok: true });
  }, 60_000);

  it('finds the known effect within each device, leaving the washout out, and checks the blocks against the schedule', async () => {
    const schedule = (device: string, k: number): string | null | undefined =>
      device.startsWith('sb-') && device !== 'sb-mixed' ? armOf(device, k) : undefined;
    const r = await experimentReport(sbSpec(), { prometheus: prometheusQuery(prom().url), at: new Date(at), schedule });
    const a = r.analysis;
    expect(a.design).toEqual({
      type: 'switchback',
      blockHours: 1,
      washoutMinutes: 15,
      measuredBlocks: DEVICES * 8,
      mixedBlocks: 1,
    });
    expect(a.exposure.arms.reduce((n, x) => n + x.blocks!, 0)).toBe(DEVICES * 8);
    expect(a.exposure.srm).toMatchObject({ expectedFrom: 'assignment', failed: false });
    expect(a.exposure.unexpected).toBe(0);
    const c = a.primary.comparisons[0]!;
    expect(c.difference).toBeCloseTo(-0.02, 3);
    expect(c.ci[1]).toBeLessThan(0);
    expect(a.primary.cuped.applied).toBe(false);
    expect(a.guardrails[0]!.comparisons[0]!.guardrail).toBe('ok');
    expect(a.verdict).toMatchObject({ decision: 'ship', variant: 'low' });
    expect(r.windows.analysis).toBe(`${45 * 60_000 - 1}ms`);
    expect(r.warnings).toEqual([
      expect.stringContaining('1 device-block(s) reported the washout or more than one arm'),
    ]);
    // the outputs say the design: JSON its schema accepts, text and markdown
    const json = experimentReportJson(r);
    expect(json.design).toEqual({
      type: 'switchback',
      block_hours: 1,
      washout_minutes: 15,
      measured_blocks: DEVICES * 8,
      mixed_blocks: 1,
    });
    const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
    addFormats.default(ajv);
    const validate = ajv.compile(
      JSON.parse(readFileSync(join(PROJECT, 'schemas/experiment-report.schema.json'), 'utf8')) as object,
    );
    expect(validate(JSON.parse(JSON.stringify(json))), JSON.stringify(validate.errors)).toBe(true);
    expect(formatExperimentReportText(r)).toMatch(/switchback design: 1 h blocks, 15 min washout/);
    expect(formatExperimentReportText(r)).toMatch(/^ARM\s+WEIGHT\s+DEVICES\s+BLOCKS/m);
    expect(formatExperimentReportMarkdown(r)).toContain('| Arm | Weight | Devices | Blocks |');
    // a device the schedule puts in another arm is named
    const wrong = await experimentReport(sbSpec(), {
      prometheus: prometheusQuery(prom().url),
      at: new Date(at),
      schedule: (device, k) =>
        device === 'sb-3' ? (armOf(device, k) === 'low' ? 'control' : 'low') : schedule(device, k),
    });
    expect(wrong.analysis.exposure).toMatchObject({ unexpected: 1, unexpectedDevices: ['sb-3'] });
  });

  it('holds on no data: nobody reported, no block complete yet, a metric nobody reports', async () => {
    const q = prometheusQuery(prom().url);
    const none = await experimentReport(sbSpec({ name: 'nobody' }), { prometheus: q, at: new Date(at) });
    expect(none.analysis.verdict).toMatchObject({ decision: 'hold', code: 'no-exposures' });
    const early = await experimentReport(sbSpec(), { prometheus: q, at: new Date(sbStart.getTime() + 30 * 60_000) });
    expect(early.analysis.verdict).toMatchObject({ decision: 'hold', code: 'no-exposures' });
    const empty = await experimentReport(
      sbSpec({ primary: { name: 'cpu', query: 'avg_over_time(no_such_metric[$window])', direction: 'lower' } }),
      { prometheus: q, at: new Date(at) },
    );
    expect(empty.analysis.verdict).toMatchObject({ decision: 'hold', code: 'metric-empty' });
  });
});
