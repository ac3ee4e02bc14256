// The experiment analysis (agent/core/experiments/analysis.ts) on simulated fleets: A/A experiments
// read every day for 30 days keep false positives at or under 5 % (a fixed 1.96 read the same way
// does not); an injected effect of the size the report says it finds with 80 % power is found that
// often; every no-data case holds; a skewed split fails the SRM check; a guardrail regression stops.
// The switchback analysis (each device its own control) finds an effect the spread between devices
// hides, keeps A/A false positives under 5 %, holds without data and checks blocks against the schedule.

import { describe, expect, it } from 'vitest';
import {
  analyseExperiment,
  analyseMetric,
  analyseSwitchback,
  chiSquaredSurvival,
  normalCdf,
  normalQuantile,
  powerOf,
  sequentialMultiplier,
  sequentialPValue,
} from '../../agent/core/experiments/analysis.js';
import type {
  ExperimentAnalysis,
  ExperimentInput,
  MetricInput,
  SwitchbackInput,
} from '../../agent/core/experiments/analysis.js';

/** mulberry32: a small seeded generator, so every run simulates the same fleets. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

const SETTINGS = { alpha: 0.05, cuped: true, prePeriodDays: 7, srmAlpha: 0.001 };
const STOP = { maxDays: 30, minDevicesPerArm: 30, noData: 'hold' as const };
const VARIANTS = [
  { name: 'control', weight: 0.5 },
  { name: 'low', weight: 0.5 },
];
const DEVICES = 200;
const IDS = Array.from({ length: DEVICES }, (_, i) => `dev-${i}`);

/**
 * One simulated experiment over 30 days. Each device has its own level (hardware, scene: sd 0.1 on
 * a CPU ratio of 0.5) and daily noise (sd 0.1); it reports from day 1, 2 or 3 on; its value on day d
 * is its level (plus the effect in the treatment arm) plus the mean of its daily noise so far
 * (avg_over_time from the start); 90 % of devices have a 7-day pre-period value. A guardrail
 * (latency, ms) has no effect. The arm is a fair coin.
 */
function simulate(seed: number, effect: number): { read(day: number): ExperimentInput } {
  const random = rng(seed);
  const normal = gaussian(random);
  const arm: string[] = [];
  const first = new Int8Array(DEVICES);
  const level = new Float64Array(DEVICES);
  const lat = new Float64Array(DEVICES);
  const pre = new Float64Array(DEVICES);
  const latPre = new Float64Array(DEVICES);
  // running sums of the daily noise: sum[i * 31 + d] = noise of days 1..d of device i
  const noise = new Float64Array(DEVICES * 31);
  const latNoise = new Float64Array(DEVICES * 31);
  for (let i = 0; i < DEVICES; i++) {
    arm.push(random() < 0.5 ? 'control' : 'low');
    first[i] = 1 + Math.floor(random() * 3);
    level[i] = 0.5 + 0.1 * normal();
    lat[i] = 100 + 20 * normal();
    const hasPre = random() < 0.9;
    pre[i] = hasPre ? level[i]! + (0.1 / Math.sqrt(7)) * normal() : NaN;
    latPre[i] = hasPre ? lat[i]! + (10 / Math.sqrt(7)) * normal() : NaN;
    for (let d = 1; d <= 30; d++) {
      noise[i * 31 + d] = noise[i * 31 + d - 1]! + 0.1 * normal();
      latNoise[i * 31 + d] = latNoise[i * 31 + d - 1]! + 10 * normal();
    }
  }
  const preMap = new Map<string, number>();
  const latPreMap = new Map<string, number>();
  for (let i = 0; i < DEVICES; i++)
    if (!Number.isNaN(pre[i]!)) {
      preMap.set(IDS[i]!, pre[i]!);
      latPreMap.set(IDS[i]!, latPre[i]!);
    }
  // devices only join: one set of maps, updated in place each day (the analysis keeps none of them)
  const arms = new Map<string, string>();
  const cpu = new Map<string, number>();
  const latency = new Map<string, number>();
  return {
    read(day) {
      for (let i = 0; i < DEVICES; i++) {
        if (first[i]! > day) continue;
        const s = noise[i * 31 + day]! - noise[i * 31 + first[i]! - 1]!;
        const l = latNoise[i * 31 + day]! - latNoise[i * 31 + first[i]! - 1]!;
        const days = day - first[i]! + 1;
        arms.set(IDS[i]!, arm[i]!);
        cpu.set(IDS[i]!, level[i]! + (arm[i] === 'low' ? effect : 0) + s / days);
        latency.set(IDS[i]!, lat[i]! + l / days);
      }
      return {
        experiment: 'sim',
        variants: VARIANTS,
        arms,
        primary: { spec: { name: 'cpu', direction: 'lower' }, values: cpu, pre: preMap },
        guardrails: [
          {
            spec: { name: 'latency', direction: 'lower', maxRegression: 0.05 },
            values: latency,
            pre: latPreMap,
          },
        ],
        settings: SETTINGS,
        stop: STOP,
        days: day,
      };
    },
  };
}

const EXPERIMENTS = 1000;
const terminal = (a: ExperimentAnalysis): boolean =>
  ['ship', 'stop-harm', 'stop-inconclusive'].includes(a.verdict.decision);

describe('the distributions built on simple-statistics', () => {
  it('agree with reference values', () => {
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 4);
    expect(normalQuantile(0.8)).toBeCloseTo(0.841621, 5);
    // R: pchisq(10.83, 1, lower.tail = FALSE) = 0.000999; pchisq(13.82, 2, ...) = 0.000998; pchisq(7.815, 3, ...) = 0.05
    expect(chiSquaredSurvival(10.828, 1)).toBeCloseTo(0.001, 5);
    expect(chiSquaredSurvival(13.816, 2)).toBeCloseTo(0.001, 5);
    expect(chiSquaredSurvival(7.815, 3)).toBeCloseTo(0.05, 4);
    expect(chiSquaredSurvival(11.07, 5)).toBeCloseTo(0.05, 4);
    expect(chiSquaredSurvival(0, 3)).toBe(1);
  });

  it('the confidence sequence is wider than 1.96, flat in N, and its p-value matches its interval', () => {
    const m = sequentialMultiplier(500, 0.05, 500);
    expect(m).toBeCloseTo(3.035, 2);
    expect(sequentialMultiplier(125, 0.05, 500)).toBeGreaterThan(m);
    expect(sequentialMultiplier(2000, 0.05, 500)).toBeGreaterThan(m);
    expect(sequentialMultiplier(2000, 0.05, 500)).toBeLessThan(3.2);
    expect(sequentialPValue(m, 500, 0.05, 500)).toBeCloseTo(0.05, 6);
    expect(powerOf((m + normalQuantile(0.8)) * 2, 2, m)).toBeCloseTo(0.8, 4);
  });
});

describe('A/A experiments read every day for 30 days', () => {
  it(`keep false positives at or under 5 % over ${EXPERIMENTS} experiments (a fixed 1.96 read daily does not)`, () => {
    let falsePositives = 0;
    let naive = 0;
    let cupedReduction = 0;
    let holds = 0;
    for (let e = 0; e < EXPERIMENTS; e++) {
      const sim = simulate(1000 + e, 0);
      let naiveHit = false;
      for (let day = 1; day <= 30; day++) {
        const a = analyseExperiment(sim.read(day));
        if (a.verdict.decision === 'hold') holds++;
        const c = a.primary.comparisons[0];
        if (c && Math.abs(c.difference / c.se) > 1.96) naiveHit = true;
        if (day === 30) cupedReduction += a.primary.cuped.varianceReduction ?? 0;
        if (terminal(a)) {
          if (a.verdict.decision !== 'stop-inconclusive') falsePositives++;
          break;
        }
      }
      if (naiveHit) naive++;
    }
    const rate = falsePositives / EXPERIMENTS;
    expect(rate).toBeLessThanOrEqual(0.05);
    // the same data read with a fixed-horizon test: peeking inflates it well past alpha
    expect(naive / EXPERIMENTS).toBeGreaterThan(0.08);
    // CUPED: the pre-period explains most of the between-device spread
    expect(cupedReduction / EXPERIMENTS).toBeGreaterThan(0.5);
    // day 1 has about a third of the devices: too few, hold
    expect(holds).toBeGreaterThan(0);
  });
});

describe('an injected effect', () => {
  it('of the size the report finds with 80 % power is found that often', () => {
    // the claim: at the last read (day 30) the report gives mde = (m(N) + z_0.8) * SE, the effect
    // found with power Φ(mde/SE - m) = 0.8 (powerOf); take the median claim of 51 A/A fleets
    const claims = Array.from(
      { length: 51 },
      (_, e) => analyseExperiment(simulate(90_000 + e, 0).read(30)).primary.comparisons[0]!.mde,
    ).sort((a, b) => a - b);
    const mde = claims[25]!;
    expect(mde).toBeGreaterThan(0);
    let atEnd = 0;
    let daily = 0;
    let harm = 0;
    for (let e = 0; e < EXPERIMENTS; e++) {
      const sim = simulate(50_000 + e, -mde); // lower is better: the treatment cuts CPU by mde
      let last: ExperimentAnalysis | undefined;
      for (let day = 1; day <= 30; day++) {
        const a = analyseExperiment(sim.read(day));
        if (day === 30) last = a;
        if (!terminal(a)) continue;
        if (a.verdict.decision === 'ship') {
          expect(a.verdict.variant).toBe('low');
          daily++;
        }
        if (a.verdict.decision === 'stop-harm') harm++;
        break;
      }
      last ??= analyseExperiment(sim.read(30));
      if (last.primary.comparisons[0]?.significance === 'better') atEnd++;
    }
    // 1,000 draws of a rate of 0.8: sd 0.013; the claim itself is an estimate of SE (a few %)
    expect(atEnd / EXPERIMENTS).toBeGreaterThan(0.74);
    expect(atEnd / EXPERIMENTS).toBeLessThan(0.86);
    // reading daily can only find it as often or sooner (ship needs the guardrail cleared too)
    expect(daily / EXPERIMENTS).toBeGreaterThan(0.74);
    expect(harm).toBeLessThanOrEqual(5);
  });
});

// ---- hand-made inputs ----

const devices = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

function input(over: Partial<ExperimentInput> = {}): ExperimentInput {
  const random = rng(7);
  const normal = gaussian(random);
  const arms = new Map<string, string>();
  const values = new Map<string, number>();
  const pre = new Map<string, number>();
  const lat = new Map<string, number>();
  for (const [arm, list] of [
    ['control', devices('c', 60)],
    ['low', devices('t', 60)],
  ] as const)
    for (const d of list) {
      arms.set(d, arm);
      const level = 0.5 + 0.1 * normal();
      pre.set(d, level + 0.02 * normal());
      values.set(d, level + 0.02 * normal());
      lat.set(d, 100 + 5 * normal());
    }
  return {
    experiment: 'x',
    variants: VARIANTS,
    arms,
    primary: { spec: { name: 'cpu', direction: 'lower' }, values, pre },
    guardrails: [{ spec: { name: 'latency', direction: 'lower', maxRegression: 0.05 }, values: lat }],
    settings: SETTINGS,
    stop: { maxDays: 28, minDevicesPerArm: 30, noData: 'hold' },
    days: 10,
    ...over,
  };
}

const withValues = (m: MetricInput, f: (device: string, v: number) => number | undefined): MetricInput => {
  const values = new Map<string, number>();
  for (const [d, v] of m.values) {
    const x = f(d, v);
    if (x !== undefined) values.set(d, x);
  }
  return { ...m, values };
};

describe('no data holds', () => {
  it('no exposures, one arm empty, an empty metric, an empty guardrail, too few devices', () => {
    const base = input();
    expect(analyseExperiment(input({ arms: new Map() })).verdict).toMatchObject({
      decision: 'hold',
      code: 'no-exposures',
    });
    const oneArm = new Map([...base.arms].filter(([, a]) => a === 'control'));
    expect(analyseExperiment(input({ arms: oneArm })).verdict).toMatchObject({ decision: 'hold', code: 'arm-empty' });
    expect(analyseExperiment(input({ primary: withValues(base.primary, () => undefined) })).verdict).toMatchObject({
      decision: 'hold',
      code: 'metric-empty',
    });
    expect(
      analyseExperiment(input({ guardrails: [withValues(base.guardrails[0]!, () => undefined)] })).verdict,
    ).toMatchObject({ decision: 'hold', code: 'guardrail-empty' });
    // values for 20 devices of the treatment only
    const few = withValues(base.primary, (d, v) => (d.startsWith('t-') && Number(d.slice(2)) >= 20 ? undefined : v));
    const r = analyseExperiment(input({ primary: few }));
    expect(r.verdict).toMatchObject({ decision: 'hold', code: 'too-few-devices' });
    expect(r.primary.arms.map((a) => a.n)).toEqual([60, 20]);
    // NaN and infinite values are no values
    const bad = withValues(base.primary, (d, v) => (d.startsWith('t-') ? NaN : v));
    expect(analyseExperiment(input({ primary: bad })).verdict.code).toBe('too-few-devices');
    expect(analyseExperiment(input({ status: 'paused' })).verdict.code).toBe('paused');
    expect(analyseExperiment(input({ days: -1 })).verdict.code).toBe('not-started');
  });

  it('without pre-period values CUPED is off and the analysis still stands', () => {
    const base = input();
    const r = analyseExperiment(input({ primary: { ...base.primary, pre: new Map() } }));
    expect(r.primary.cuped).toMatchObject({ applied: false, theta: null, devicesWithPre: 0 });
    expect(r.primary.comparisons[0]!.ci[0]).toBeLessThan(r.primary.comparisons[0]!.ci[1]);
    expect(r.verdict.decision).toBe('continue');
    const on = analyseExperiment(base);
    expect(on.primary.cuped.applied).toBe(true);
    expect(on.primary.cuped.theta).toBeGreaterThan(0.8);
    expect(on.primary.cuped.varianceReduction).toBeGreaterThan(0.8);
    expect(on.primary.comparisons[0]!.se).toBeLessThan(r.primary.comparisons[0]!.se);
    // the setting off: off, with the reason
    expect(analyseExperiment(input({ settings: { ...SETTINGS, cuped: false } })).primary.cuped).toMatchObject({
      applied: false,
      reason: 'off',
    });
  });
});

describe('the verdicts that stop', () => {
  it('a skewed split fails the SRM check and holds', () => {
    const arms = new Map<string, string>();
    for (const d of devices('c', 140)) arms.set(d, 'control');
    for (const d of devices('t', 60)) arms.set(d, 'low');
    const base = input();
    const values = new Map([...arms.keys()].map((d, i) => [d, 0.5 + (i % 7) / 100]));
    const r = analyseExperiment(input({ arms, primary: { ...base.primary, values, pre: undefined }, guardrails: [] }));
    expect(r.exposure.srm).toMatchObject({ expectedFrom: 'weights', df: 1, failed: true });
    expect(r.exposure.srm!.chi2).toBeCloseTo(32, 6); // (140-100)²/100 + (60-100)²/100
    expect(r.verdict).toMatchObject({ decision: 'hold', code: 'srm' });
    // against the assignment: the same counts are what was assigned, so no mismatch
    const expected = new Map<string, string | null>([...arms]);
    const ok = analyseExperiment(input({ arms, expected, primary: { ...base.primary, values }, guardrails: [] }));
    expect(ok.exposure.srm).toMatchObject({ expectedFrom: 'assignment', failed: false });
    expect(ok.exposure.unexpected).toBe(0);
    // a device that reports another arm than its own is counted
    expected.set('c-0', 'low');
    expect(analyseExperiment(input({ arms, expected, guardrails: [] })).exposure).toMatchObject({
      unexpected: 1,
      unexpectedDevices: ['c-0'],
    });
  });

  it('a guardrail regression beyond its allowance is stop-harm, a primary regression too', () => {
    const base = input();
    const slow = withValues(base.guardrails[0]!, (d, v) => (d.startsWith('t-') ? v * 1.2 : v));
    const r = analyseExperiment(input({ guardrails: [slow] }));
    expect(r.guardrails[0]!.comparisons[0]!.guardrail).toBe('harm');
    expect(r.verdict).toMatchObject({ decision: 'stop-harm', code: 'guardrail-regression', variant: 'low' });
    const hotter = withValues(base.primary, (d, v) => (d.startsWith('t-') ? v + 0.05 : v));
    expect(analyseExperiment(input({ primary: hotter })).verdict).toMatchObject({
      decision: 'stop-harm',
      code: 'primary-regression',
      variant: 'low',
    });
  });

  it('a clear winner within its guardrails ships; past max_days without one is inconclusive', () => {
    const base = input();
    const cooler = withValues(base.primary, (d, v) => (d.startsWith('t-') ? v - 0.05 : v));
    const r = analyseExperiment(input({ primary: cooler }));
    expect(r.guardrails[0]!.comparisons[0]!.guardrail).toBe('ok');
    expect(r.verdict).toMatchObject({ decision: 'ship', code: 'winner', variant: 'low' });
    expect(r.primary.comparisons[0]!.relative).toBeLessThan(-0.05);
    expect(analyseExperiment(input({ days: 28 })).verdict).toMatchObject({
      decision: 'stop-inconclusive',
      code: 'max-days',
    });
  });

  it('breaks the primary metric down by stratum', () => {
    const strata = new Map([...input().arms.keys()].map((d, i) => [d, i % 2 ? 'model=a' : 'model=b']));
    const r = analyseExperiment(input({ strata }));
    expect(r.primary.strata.map((s) => s.stratum)).toEqual(['model=a', 'model=b']);
    expect(r.primary.strata[0]!.arms.reduce((s, a) => s + a.n, 0)).toBe(60);
    expect(r.primary.strata[0]!.comparisons).toHaveLength(1);
  });

  it('analyseMetric takes the arms as maps', () => {
    const m = analyseMetric(
      { name: 'cpu', direction: 'lower' },
      'primary',
      [
        {
          variant: 'control',
          values: new Map([
            ['a', 1],
            ['b', 2],
            ['c', 3],
          ]),
        },
        {
          variant: 'low',
          values: new Map([
            ['d', 2],
            ['e', 3],
            ['f', 4],
          ]),
        },
      ],
      { control: 'control', alpha: 0.05, tuning: 500, cuped: true },
    );
    expect(m.arms.map((a) => [a.n, a.mean, a.variance])).toEqual([
      [3, 2, 1],
      [3, 3, 1],
    ]);
    expect(m.comparisons[0]!.difference).toBe(1);
    expect(m.comparisons[0]!.relative).toBe(0.5);
    expect(m.cuped.applied).toBe(false);
  });
});

// ---- the switchback design ----

/**
 * A simulated switchback: each device has its own level (sd 0.1, as above) and runs `blocks`
 * blocks, each arm drawn by a fair coin per block (as the schedule draws it), with block noise sd
 * 0.02; `effect` is added in the `low` blocks. Per device and arm the mean over its blocks, as the
 * report reads it. A latency guardrail has no effect.
 */
function switchback(seed: number, effect: number, o: { devices?: number; blocks?: number } = {}): SwitchbackInput {
  const random = rng(seed);
  const normal = gaussian(random);
  const blocks = new Map<string, Map<string, number>>();
  const cpu = new Map<string, Map<string, number>>();
  const lat = new Map<string, Map<string, number>>();
  for (let i = 0; i < (o.devices ?? 100); i++) {
    const d = `sb-${i}`;
    const level = 0.5 + 0.1 * normal();
    const latency = 100 + 20 * normal();
    const sums = new Map<string, { n: number; cpu: number; lat: number }>();
    for (let k = 0; k < (o.blocks ?? 24); k++) {
      const arm = random() < 0.5 ? 'control' : 'low';
      const s = sums.get(arm) ?? { n: 0, cpu: 0, lat: 0 };
      s.n++;
      s.cpu += level + (arm === 'low' ? effect : 0) + 0.02 * normal();
      s.lat += latency + 2 * normal();
      sums.set(arm, s);
    }
    blocks.set(d, new Map([...sums].map(([a, s]) => [a, s.n])));
    cpu.set(d, new Map([...sums].map(([a, s]) => [a, s.cpu / s.n])));
    lat.set(d, new Map([...sums].map(([a, s]) => [a, s.lat / s.n])));
  }
  return {
    experiment: 'sb',
    variants: VARIANTS,
    design: { blockHours: 6, washoutMinutes: 30 },
    blocks,
    primary: { spec: { name: 'cpu', direction: 'lower' }, values: cpu },
    guardrails: [{ spec: { name: 'latency', direction: 'lower', maxRegression: 0.05 }, values: lat }],
    settings: SETTINGS,
    stop: { maxDays: 28, minDevicesPerArm: 30, noData: 'hold' },
    days: 6,
  };
}

describe('the switchback analysis: each device its own control', () => {
  it('finds a small effect that the spread between devices hides from a between comparison', () => {
    const a = analyseSwitchback(switchback(11, -0.01));
    expect(a.design).toMatchObject({ type: 'switchback', blockHours: 6, washoutMinutes: 30, measuredBlocks: 2400 });
    const c = a.primary.comparisons[0]!;
    expect(c.difference).toBeCloseTo(-0.01, 2);
    expect(c.ci[1]).toBeLessThan(0);
    expect(a.primary.cuped).toMatchObject({ applied: false });
    expect(a.guardrails[0]!.comparisons[0]!.guardrail).toBe('ok');
    expect(a.verdict).toMatchObject({ decision: 'ship', variant: 'low' });
    expect(a.exposure.srm).toMatchObject({ expectedFrom: 'weights', failed: false });
    expect(a.exposure.arms.map((x) => x.blocks! > 1000)).toEqual([true, true]);
    // the same devices split between the arms (half in each, their first arm's mean) see far less
    const arms = new Map<string, string>();
    const values = new Map<string, number>();
    let i = 0;
    for (const [d, perArm] of switchback(11, -0.01).primary.values) {
      const arm = i++ % 2 ? 'low' : 'control';
      if (!perArm.has(arm)) continue;
      arms.set(d, arm);
      values.set(d, perArm.get(arm)!);
    }
    const between = analyseExperiment({
      ...input(),
      arms,
      primary: { spec: { name: 'cpu', direction: 'lower' }, values },
    });
    expect(between.primary.comparisons[0]!.se).toBeGreaterThan(10 * c.se);
  });

  it('A/A: at most 5 % false positives over 400 simulated switchbacks', () => {
    let positives = 0;
    for (let s = 0; s < 400; s++)
      if (analyseSwitchback(switchback(1000 + s, 0)).primary.comparisons[0]!.significance) positives++;
    expect(positives / 400).toBeLessThanOrEqual(0.05);
  });

  it('holds without data: no blocks, devices that never ran both arms, too few paired devices', () => {
    const none = analyseSwitchback({
      ...switchback(3, 0),
      blocks: new Map(),
      primary: { ...switchback(3, 0).primary, values: new Map() },
    });
    expect(none.verdict).toMatchObject({ decision: 'hold', code: 'no-exposures' });
    // every device in one arm only: nothing to pair
    const one = switchback(3, -0.01, { blocks: 1 });
    expect(analyseSwitchback(one).verdict).toMatchObject({ decision: 'hold', code: 'metric-empty' });
    const few = analyseSwitchback(switchback(3, -0.01, { devices: 20 }));
    expect(few.verdict).toMatchObject({ decision: 'hold', code: 'too-few-devices' });
    const empty = switchback(3, -0.01);
    expect(analyseSwitchback({ ...empty, primary: { ...empty.primary, values: new Map() } }).verdict).toMatchObject({
      decision: 'hold',
      code: 'metric-empty',
    });
  });

  it('checks the blocks per arm against the schedule and names devices that ran another arm', () => {
    const base = switchback(5, 0);
    const arms = new Map<string, number>();
    for (const perArm of base.blocks.values()) for (const [a, n] of perArm) arms.set(a, (arms.get(a) ?? 0) + n);
    const ok = analyseSwitchback({ ...base, scheduled: { arms, unexpected: new Map([['sb-3', 2]]) } });
    expect(ok.exposure.srm).toMatchObject({ expectedFrom: 'assignment', failed: false });
    expect(ok.exposure).toMatchObject({ unexpected: 1, unexpectedDevices: ['sb-3'] });
    // the schedule gave control three blocks in four: the observed even split is a mismatch
    const total = [...arms.values()].reduce((x, y) => x + y, 0);
    const skewed = new Map([
      ['control', 0.75 * total],
      ['low', 0.25 * total],
    ]);
    const srm = analyseSwitchback({ ...base, scheduled: { arms: skewed, unexpected: new Map() } });
    expect(srm.verdict).toMatchObject({ decision: 'hold', code: 'srm' });
  });
});
