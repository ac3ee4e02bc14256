// The analysis of an experiment (issue 16, `gitops experiment report`): per arm n, mean and
// variance; per treatment the difference to control, absolute and relative, with an always-valid
// confidence interval; CUPED with the pre-period value of each device; a sample-ratio-mismatch
// check; guardrails; a stratum breakdown; and a verdict: continue, ship, stop-harm,
// stop-inconclusive or hold. Pure: the values come in as maps of device -> number. The switchback
// design (analyseSwitchback, at the end) compares each device with itself and shares the rest.
//
// The always-valid interval is the asymptotic confidence sequence of Waudby-Smith, Arbour, Sinha,
// Kennedy and Ramdas, "Time-uniform central limit theory and asymptotic confidence sequences"
// (Ann. Statist. 2024, arXiv:2103.06476, the two-sided normal-mixture boundary of their
// Theorem 2.2, after Howard, Ramdas, McAuliffe and Sekhon 2021). It is the one GrowthBook's
// frequentist engine uses for "sequential testing" (https://docs.growthbook.io/statistics/sequential,
// tuning parameter N*): the half-width is SE * m(N) with, for N devices in the comparison,
//   m(N)^2 = 2 (N r^2 + 1) / (N r^2) * ln( sqrt(N r^2 + 1) / alpha ),
//   r^2    = ( -2 ln alpha + ln(-2 ln alpha + 1) ) / N*        (narrowest at N = N*),
// in units of the standard error, so scale-free. m is flat in N (at alpha 0.05: 3.26 at N*/4,
// 3.03 at N*, 3.13 at 4 N*), so one fixed N* serves fleets from dozens to thousands of devices.
// Reading the report every day cannot raise the false-positive rate above alpha the way a fixed
// 1.96 does (test/core/experiment-analysis.test.ts simulates it).

import { errorFunction, probit } from 'simple-statistics';

export type Direction = 'lower' | 'higher';

export interface MetricSpec {
  name: string;
  /** Which way is better. */
  direction: Direction;
  /** Guardrails: the relative regression allowed (0.05 = 5 % worse than control); primary: unused. */
  maxRegression?: number;
}

export interface AnalysisSettings {
  alpha: number;
  cuped: boolean;
  prePeriodDays: number;
  srmAlpha: number;
  /** N* of the confidence sequence: the number of devices where the interval is narrowest. */
  sequentialTuning?: number;
}

export interface StopRules {
  maxDays: number;
  minDevicesPerArm: number;
  noData: 'hold';
}

export interface VariantSpec {
  name: string;
  weight: number;
}

/** One metric's values: per device over the analysis window, and over the pre-period (CUPED). */
export interface MetricInput {
  spec: MetricSpec;
  values: ReadonlyMap<string, number>;
  pre?: ReadonlyMap<string, number>;
}

/** One arm of one metric: the values of the devices in it. */
export interface ArmData {
  variant: string;
  values: ReadonlyMap<string, number>;
  pre?: ReadonlyMap<string, number>;
}

export interface ExperimentInput {
  experiment: string;
  /** The variants of the file, in its order; `control` names the baseline (default: "control", else the first). */
  variants: readonly VariantSpec[];
  control?: string;
  /** The arm each device reported (its exposure); devices that reported several are left out. */
  arms: ReadonlyMap<string, string>;
  /** How many devices reported more than one variant (left out of the analysis). */
  multipleExposures?: number;
  /** The arm each device should be in (the assignment), null when not in the experiment: SRM then uses it. */
  expected?: ReadonlyMap<string, string | null>;
  /** The stratum of each device (e.g. "hardware_model=edge-p4"), for the breakdown of the primary metric. */
  strata?: ReadonlyMap<string, string>;
  primary: MetricInput;
  guardrails: readonly MetricInput[];
  settings: AnalysisSettings;
  stop: StopRules;
  /** Days from the start of the experiment to the analysis time (may be fractional, negative before the start). */
  days: number;
  status?: 'running' | 'paused';
}

export interface ArmStats {
  variant: string;
  /** Devices with a value. */
  n: number;
  mean: number | null;
  /** Sample variance (n - 1). */
  variance: number | null;
  /** The CUPED-adjusted mean, when CUPED is applied. */
  adjustedMean: number | null;
}

export type Significance = 'better' | 'worse' | null;
export type GuardrailStatus = 'ok' | 'harm' | 'unclear' | 'no-data';

export interface Comparison {
  variant: string;
  /** Treatment minus control (CUPED-adjusted when applied), and its always-valid interval. */
  difference: number;
  ci: [number, number];
  /** The difference relative to the control mean, and its interval (null when the control mean is 0). */
  relative: number | null;
  relativeCi: [number, number] | null;
  se: number;
  /** The interval's half-width in standard errors (the confidence sequence's m(N)). */
  multiplier: number;
  /** The always-valid p-value: the smallest alpha whose interval excludes 0 (Bonferroni over treatments). */
  pValue: number;
  significance: Significance;
  /** The absolute effect found with 80 % power at this sample: (m + z_0.8) * SE. */
  mde: number;
  relativeMde: number | null;
  /** Guardrails only: the relative regression allowed, and whether the interval shows it held or broke. */
  guardrail?: GuardrailStatus;
}

export interface CupedResult {
  applied: boolean;
  theta: number | null;
  /** Devices with a pre-period value (of those with a value). */
  devicesWithPre: number;
  /** 1 - Var(adjusted difference) / Var(raw difference), of the first treatment. */
  varianceReduction: number | null;
  /** Why it is off, when it is. */
  reason?: string;
}

export interface StratumResult {
  stratum: string;
  arms: ArmStats[];
  comparisons: Comparison[];
}

export interface MetricResult {
  name: string;
  role: 'primary' | 'guardrail';
  direction: Direction;
  maxRegression: number | null;
  arms: ArmStats[];
  comparisons: Comparison[];
  cuped: CupedResult;
  strata: StratumResult[];
}

export interface SrmResult {
  /** The expected share of each arm: from the assignment when given, else from the weights. */
  expectedFrom: 'assignment' | 'weights';
  chi2: number;
  df: number;
  pValue: number;
  alpha: number;
  failed: boolean;
}

export interface ExposureArm {
  variant: string;
  weight: number;
  /** Devices that reported the arm (switchback: in at least one measured block). */
  devices: number;
  /** Switchback: the measured blocks of the arm, over every device (the SRM counts these). */
  blocks?: number;
  expectedShare: number;
  observedShare: number;
}

export type Decision = 'continue' | 'ship' | 'stop-harm' | 'stop-inconclusive' | 'hold';
export type VerdictCode =
  | 'paused'
  | 'not-started'
  | 'no-exposures'
  | 'arm-empty'
  | 'srm'
  | 'metric-empty'
  | 'too-few-devices'
  | 'guardrail-empty'
  | 'primary-regression'
  | 'guardrail-regression'
  | 'winner'
  | 'max-days'
  | 'not-significant'
  | 'guardrail-unclear';

export interface Verdict {
  decision: Decision;
  code: VerdictCode;
  /** The variant to ship, or the one that did harm. */
  variant?: string;
  reason: string;
}

/** How the arms were compared: devices against devices, or each device against itself (switchback). */
export type AnalysisDesign =
  | { type: 'between' }
  | {
      type: 'switchback';
      blockHours: number;
      washoutMinutes: number;
      /** Device-blocks with one arm reported in their measured part (counted in the arms). */
      measuredBlocks: number;
      /** Device-blocks left out: more than one arm, or the washout, reported in the measured part. */
      mixedBlocks: number;
    };

export interface ExperimentAnalysis {
  experiment: string;
  design: AnalysisDesign;
  control: string;
  days: number;
  alpha: number;
  method: 'asymptotic-confidence-sequence';
  sequentialTuning: number;
  exposure: {
    arms: ExposureArm[];
    srm: SrmResult | null;
    multipleExposures: number;
    /** Devices whose reported arm is not the one they are assigned (assignment given only). */
    unexpected: number;
    unexpectedDevices: string[];
  };
  primary: MetricResult;
  guardrails: MetricResult[];
  verdict: Verdict;
}

export const DEFAULT_SEQUENTIAL_TUNING = 500;
const MIN_PRE_DEVICES = 3;

// ---- distributions (simple-statistics), and what it lacks built from them ----

/**
 * Φ(z) from simple-statistics' errorFunction (fractional error below 1.2e-7), not its
 * cumulativeStdNormalProbability, a 4-digit table too coarse for p-values near 0.001.
 */
export function normalCdf(z: number): number {
  return 0.5 * (1 + errorFunction(z / Math.SQRT2));
}

/** Φ⁻¹(p): simple-statistics' probit (Winitzki's approximation, 1e-3 off) with one Newton step on normalCdf. */
export function normalQuantile(p: number): number {
  const z = probit(p);
  const density = Math.exp((-z * z) / 2) / Math.sqrt(2 * Math.PI);
  return density > 0 ? z - (normalCdf(z) - p) / density : z;
}

/**
 * P(χ²_k ≥ x) for integer k, in closed form on the normal distribution (simple-statistics has a
 * table of critical values only, without 0.001): even k, e^(-x/2) Σ_{i<k/2} (x/2)^i / i!; odd k,
 * 2Φ̄(√x) + 2φ(√x) Σ_{i=1}^{(k-1)/2} x^(i-1/2) / (1·3···(2i-1)).
 */
export function chiSquaredSurvival(x: number, k: number): number {
  if (!(x > 0)) return 1;
  if (k % 2 === 0) {
    let term = 1;
    let sum = 1;
    for (let i = 1; i < k / 2; i++) sum += term *= x / 2 / i;
    return Math.min(1, Math.exp(-x / 2) * sum);
  }
  const s = Math.sqrt(x);
  const density = Math.exp(-x / 2) / Math.sqrt(2 * Math.PI);
  let term = s;
  let sum = 0;
  for (let i = 1; i <= (k - 1) / 2; i++) {
    if (i > 1) term *= x / (2 * i - 1);
    sum += term;
  }
  return Math.min(1, 2 * (1 - normalCdf(s)) + 2 * density * sum);
}

/** z at 80 % power: the MDE of a comparison is (m + Z_POWER) * SE. */
const Z_POWER = normalQuantile(0.8);

// ---- the confidence sequence ----

const mixture = (alpha: number, tuning: number): number =>
  (-2 * Math.log(alpha) + Math.log(-2 * Math.log(alpha) + 1)) / tuning;

/** m(N): the always-valid interval's half-width in standard errors for N devices (see the head of the file). */
export function sequentialMultiplier(n: number, alpha: number, tuning = DEFAULT_SEQUENTIAL_TUNING): number {
  const a = n * mixture(alpha, tuning);
  return Math.sqrt(((2 * (a + 1)) / a) * Math.log(Math.sqrt(a + 1) / alpha));
}

/** The always-valid p-value of z = estimate / SE: the alpha at which m(N) = |z| (same r as at `alpha`). */
export function sequentialPValue(z: number, n: number, alpha: number, tuning = DEFAULT_SEQUENTIAL_TUNING): number {
  const a = n * mixture(alpha, tuning);
  return Math.min(1, Math.sqrt(a + 1) * Math.exp((-z * z * a) / (2 * (a + 1))));
}

/** Power to find `effect` (absolute) with standard error `se` and half-width multiplier `m`. */
export function powerOf(effect: number, se: number, m: number): number {
  if (!(se > 0)) return effect === 0 ? 0 : 1;
  const z = Math.abs(effect) / se;
  return normalCdf(z - m) + normalCdf(-z - m);
}

// ---- per metric ----

interface Sample {
  y: number[];
  /** The pre-period value, NaN where the device has none. */
  x: number[];
}

function sampleOf(devices: readonly string[], metric: MetricInput | ArmData): Sample {
  const y: number[] = [];
  const x: number[] = [];
  for (const d of devices) {
    const v = metric.values.get(d);
    if (v === undefined || !Number.isFinite(v)) continue;
    const p = metric.pre?.get(d);
    y.push(v);
    x.push(p !== undefined && Number.isFinite(p) ? p : NaN);
  }
  return { y, x };
}

const withPreOf = (s: Sample): number => {
  let n = 0;
  for (const v of s.x) if (!Number.isNaN(v)) n++;
  return n;
};

function meanOf(a: readonly number[]): number {
  let s = 0;
  for (const v of a) s += v;
  return s / a.length;
}

function varianceOf(a: readonly number[], mean = meanOf(a)): number {
  let s = 0;
  for (const v of a) s += (v - mean) * (v - mean);
  return s / (a.length - 1);
}

/** θ = Σ_arms Σ (y - ȳ)(x - x̄) / Σ_arms Σ (x - x̄)², over the devices with a pre-period value, within arms. */
function cupedTheta(samples: readonly Sample[]): { theta: number; xMean: number; withPre: number } | string {
  let sxy = 0;
  let sxx = 0;
  let withPre = 0;
  let xSum = 0;
  for (const s of samples) {
    let n = 0;
    let my = 0;
    let mx = 0;
    for (let i = 0; i < s.y.length; i++)
      if (!Number.isNaN(s.x[i]!)) {
        n++;
        my += s.y[i]!;
        mx += s.x[i]!;
      }
    if (n === 0) continue;
    withPre += n;
    xSum += mx;
    my /= n;
    mx /= n;
    for (let i = 0; i < s.y.length; i++)
      if (!Number.isNaN(s.x[i]!)) {
        sxy += (s.y[i]! - my) * (s.x[i]! - mx);
        sxx += (s.x[i]! - mx) * (s.x[i]! - mx);
      }
  }
  if (withPre < MIN_PRE_DEVICES)
    return `${withPre} device(s) have a pre-period value (at least ${MIN_PRE_DEVICES} needed)`;
  if (!(sxx > 0)) return 'the pre-period values do not vary';
  return { theta: sxy / sxx, xMean: xSum / withPre, withPre };
}

/** y - θ (x - x̄); a device without a pre-period value is x = x̄ (no adjustment), which keeps the estimate unbiased. */
function adjust(s: Sample, theta: number, xMean: number): readonly number[] {
  const out: number[] = [];
  for (let i = 0; i < s.y.length; i++) out.push(Number.isNaN(s.x[i]!) ? s.y[i]! : s.y[i]! - theta * (s.x[i]! - xMean));
  return out;
}

interface Moments {
  n: number;
  mean: number;
  variance: number;
}

const moments = (a: readonly number[]): Moments => {
  const mean = meanOf(a);
  return { n: a.length, mean, variance: a.length > 1 ? varianceOf(a, mean) : NaN };
};

const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

function compare(
  variant: string,
  t: Moments,
  c: Moments,
  spec: MetricSpec,
  role: 'primary' | 'guardrail',
  alpha: number,
  tuning: number,
): Comparison | null {
  if (t.n < 2 || c.n < 2 || !Number.isFinite(t.variance) || !Number.isFinite(c.variance)) return null;
  // delta method for t/c - 1 (as gbstats): Var = s_t²/(n_t c²) + t² s_c²/(n_c c⁴)
  const rse =
    c.mean !== 0
      ? Math.sqrt(t.variance / (t.n * c.mean ** 2) + (t.mean ** 2 * c.variance) / (c.n * c.mean ** 4))
      : null;
  const se = Math.sqrt(t.variance / t.n + c.variance / c.n);
  return comparisonOf(
    { variant, difference: t.mean - c.mean, se, n: t.n + c.n, controlMean: c.mean, rse },
    spec,
    role,
    alpha,
    tuning,
  );
}

/** One treatment against control from its estimate: the always-valid interval, p-value, significance, MDE, guardrail. */
function comparisonOf(
  e: { variant: string; difference: number; se: number; n: number; controlMean: number; rse: number | null },
  spec: MetricSpec,
  role: 'primary' | 'guardrail',
  alpha: number,
  tuning: number,
): Comparison {
  const { variant, difference, se, n } = e;
  const m = sequentialMultiplier(n, alpha, tuning);
  const ci: [number, number] = [difference - m * se, difference + m * se];
  let relative: number | null = null;
  let relativeCi: [number, number] | null = null;
  if (e.controlMean !== 0 && e.rse !== null) {
    relative = difference / e.controlMean;
    relativeCi = [relative - m * e.rse, relative + m * e.rse];
  }
  const higher = ci[0] > 0;
  const lower = ci[1] < 0;
  const significance: Significance =
    higher || lower ? (higher === (spec.direction === 'higher') ? 'better' : 'worse') : null;
  const mde = (m + Z_POWER) * se;
  const out: Comparison = {
    variant,
    difference,
    ci,
    relative,
    relativeCi,
    se,
    multiplier: m,
    pValue: se > 0 ? sequentialPValue(difference / se, n, alpha, tuning) : difference === 0 ? 1 : 0,
    significance,
    mde,
    relativeMde: e.controlMean !== 0 ? mde / Math.abs(e.controlMean) : null,
  };
  if (role === 'guardrail') {
    // the regression allowed, in the metric's units; worse = higher for a lower-is-better metric
    const margin = (spec.maxRegression ?? 0) * Math.abs(e.controlMean);
    const [lo, hi] = spec.direction === 'lower' ? ci : [-ci[1], -ci[0]];
    out.guardrail = lo > margin ? 'harm' : hi < margin ? 'ok' : 'unclear';
  }
  return out;
}

function armStats(variant: string, raw: readonly number[], adjusted: readonly number[] | null): ArmStats {
  const r = moments(raw);
  return {
    variant,
    n: r.n,
    mean: r.n > 0 ? r.mean : null,
    variance: finiteOrNull(r.variance),
    adjustedMean: adjusted && adjusted.length > 0 ? meanOf(adjusted) : null,
  };
}

export interface MetricContext {
  control: string;
  alpha: number;
  tuning: number;
  cuped: boolean;
}

/**
 * One metric over its arms (the first arm named `ctx.control` is the baseline): per-arm stats,
 * CUPED, and each treatment against control.
 */
export function analyseMetric(
  spec: MetricSpec,
  role: 'primary' | 'guardrail',
  arms: readonly ArmData[],
  ctx: MetricContext,
): MetricResult {
  const samples = arms.map((a) => sampleOf([...a.values.keys()], a));
  return analyseSamples(
    spec,
    role,
    arms.map((a) => a.variant),
    samples,
    ctx,
  );
}

function analyseSamples(
  spec: MetricSpec,
  role: 'primary' | 'guardrail',
  variants: readonly string[],
  samples: readonly Sample[],
  ctx: MetricContext,
  fixedTheta?: { theta: number; xMean: number },
): MetricResult & { thetaUsed?: { theta: number; xMean: number } } {
  let cuped: CupedResult;
  let theta: { theta: number; xMean: number } | undefined = fixedTheta;
  const withPre = samples.reduce((n, s) => n + withPreOf(s), 0);
  if (!ctx.cuped)
    cuped = { applied: false, theta: null, devicesWithPre: withPre, varianceReduction: null, reason: 'off' };
  else if (theta) cuped = { applied: true, theta: theta.theta, devicesWithPre: withPre, varianceReduction: null };
  else {
    const t = cupedTheta(samples);
    if (typeof t === 'string')
      cuped = { applied: false, theta: null, devicesWithPre: withPre, varianceReduction: null, reason: t };
    else {
      theta = t;
      cuped = { applied: true, theta: t.theta, devicesWithPre: withPre, varianceReduction: null };
    }
  }
  const adjusted = samples.map((s) => (theta ? adjust(s, theta.theta, theta.xMean) : null));
  const ci = Math.max(0, variants.indexOf(ctx.control));
  const treatments = variants.length - 1;
  const alpha = ctx.alpha / Math.max(1, treatments);
  const comparisons: Comparison[] = [];
  const raw = samples.map((s) => moments(s.y));
  const adj = adjusted.map((a, i) => (a ? moments(a) : raw[i]!));
  for (let i = 0; i < variants.length; i++) {
    if (i === ci) continue;
    const c = compare(variants[i]!, adj[i]!, adj[ci]!, spec, role, alpha, ctx.tuning);
    if (!c) continue;
    comparisons.push(c);
    if (theta && cuped.varianceReduction === null) {
      const rawVar = raw[i]!.variance / raw[i]!.n + raw[ci]!.variance / raw[ci]!.n;
      if (rawVar > 0) cuped.varianceReduction = 1 - c.se ** 2 / rawVar;
    }
  }
  return {
    name: spec.name,
    role,
    direction: spec.direction,
    maxRegression: role === 'guardrail' ? (spec.maxRegression ?? 0) : null,
    arms: variants.map((v, i) => armStats(v, samples[i]!.y, adjusted[i]!)),
    comparisons,
    cuped,
    strata: [],
    ...(theta ? { thetaUsed: theta } : {}),
  };
}

// ---- the experiment ----

/** The arms each device should be in (the assignment), counted per variant; null when not given. */
function assignedCounts(names: readonly string[], expected: ExperimentInput['expected']): number[] | null {
  if (!expected) return null;
  const assigned = names.map(() => 0);
  for (const v of expected.values()) {
    const i = v === null ? -1 : names.indexOf(v);
    if (i >= 0) assigned[i]!++;
  }
  return assigned;
}

/** Pearson's chi-square of the observed counts per arm against the assignment's shares (when given), else the weights'. */
function srmOf(
  variants: readonly VariantSpec[],
  srmAlpha: number,
  counts: readonly number[],
  assigned: readonly number[] | null,
): { srm: SrmResult | null; shares: number[] } {
  const names = variants.map((v) => v.name);
  let shares: number[];
  let expectedFrom: SrmResult['expectedFrom'] = 'weights';
  const assignedTotal = (assigned ?? []).reduce((a, b) => a + b, 0);
  if (assigned && assignedTotal > 0) {
    shares = assigned.map((a) => a / assignedTotal);
    expectedFrom = 'assignment';
  } else {
    const w = variants.reduce((s, v) => s + v.weight, 0);
    shares = variants.map((v) => (w > 0 ? v.weight / w : 1 / names.length));
  }
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0 || names.length < 2) return { srm: null, shares };
  let chi2 = 0;
  let df = -1;
  for (let i = 0; i < names.length; i++) {
    const e = shares[i]! * total;
    if (e > 0) {
      chi2 += (counts[i]! - e) ** 2 / e;
      df++;
    } else if (counts[i]! > 0) chi2 = Infinity; // devices in an arm that should have none
  }
  const pValue = df > 0 ? (Number.isFinite(chi2) ? chiSquaredSurvival(chi2, df) : 0) : 1;
  return {
    srm: { expectedFrom, chi2, df: Math.max(df, 0), pValue, alpha: srmAlpha, failed: pValue < srmAlpha },
    shares,
  };
}

const fmt = (v: number): string =>
  Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(3) : v.toPrecision(3);

/** The whole analysis of one read of an experiment. */
export function analyseExperiment(input: ExperimentInput): ExperimentAnalysis {
  const names = input.variants.map((v) => v.name);
  const control = input.control ?? (names.includes('control') ? 'control' : names[0]!);
  const tuning = input.settings.sequentialTuning ?? DEFAULT_SEQUENTIAL_TUNING;
  const byArm = new Map<string, string[]>(names.map((n) => [n, []]));
  for (const [device, arm] of input.arms) byArm.get(arm)?.push(device);
  const counts = names.map((n) => byArm.get(n)!.length);
  const { srm, shares } = srmOf(input.variants, input.settings.srmAlpha, counts, assignedCounts(names, input.expected));
  const total = counts.reduce((a, b) => a + b, 0);
  const unexpectedDevices: string[] = [];
  let unexpected = 0;
  if (input.expected)
    for (const [device, arm] of input.arms)
      if ((input.expected.get(device) ?? null) !== arm) {
        unexpected++;
        if (unexpectedDevices.length < 20) unexpectedDevices.push(device);
      }
  const ctx: MetricContext = { control, alpha: input.settings.alpha, tuning, cuped: input.settings.cuped };
  const metric = (
    m: MetricInput,
    role: 'primary' | 'guardrail',
  ): MetricResult & { thetaUsed?: { theta: number; xMean: number } } =>
    analyseSamples(
      m.spec,
      role,
      names,
      names.map((n) => sampleOf(byArm.get(n)!, m)),
      ctx,
    );
  const primary = metric(input.primary, 'primary');
  if (input.strata && input.strata.size > 0) {
    const values = [...new Set(input.strata.values())].sort();
    for (const stratum of values) {
      const r = analyseSamples(
        input.primary.spec,
        'primary',
        names,
        names.map((n) =>
          sampleOf(
            byArm.get(n)!.filter((d) => input.strata!.get(d) === stratum),
            input.primary,
          ),
        ),
        ctx,
        primary.thetaUsed,
      );
      primary.strata.push({ stratum, arms: r.arms, comparisons: r.comparisons });
    }
  }
  const guardrails = input.guardrails.map((g) => metric(g, 'guardrail'));
  for (const m of [primary, ...guardrails]) delete m.thetaUsed;
  const analysis: ExperimentAnalysis = {
    experiment: input.experiment,
    design: { type: 'between' },
    ...readOf(input, control, tuning),
    exposure: {
      arms: input.variants.map((v, i) => ({
        variant: v.name,
        weight: v.weight,
        devices: counts[i]!,
        expectedShare: shares[i]!,
        observedShare: total > 0 ? counts[i]! / total : 0,
      })),
      srm,
      multipleExposures: input.multipleExposures ?? 0,
      unexpected,
      unexpectedDevices,
    },
    primary,
    guardrails,
    verdict: { decision: 'hold', code: 'no-exposures', reason: '' },
  };
  analysis.verdict = verdictOf(input, analysis, counts);
  return analysis;
}

/** What every analysis says of its read: the baseline, the day, alpha and the interval's method. */
const readOf = (input: Pick<ExperimentInput, 'days' | 'settings'>, control: string, tuning: number) => ({
  control,
  days: input.days,
  alpha: input.settings.alpha,
  method: 'asymptotic-confidence-sequence' as const,
  sequentialTuning: tuning,
});

const pOf = (p: number): string => (p < 0.0001 ? 'p < 0.0001' : `p = ${p.toPrecision(2)}`);

function verdictOf(
  input: Pick<ExperimentInput, 'variants' | 'stop' | 'status' | 'days'>,
  a: ExperimentAnalysis,
  counts: readonly number[],
): Verdict {
  const hold = (code: VerdictCode, reason: string): Verdict => ({ decision: 'hold', code, reason });
  const names = input.variants.map((v) => v.name);
  const min = Math.max(2, input.stop.minDevicesPerArm);
  if (input.status === 'paused') return hold('paused', 'the experiment is paused: no device is in it');
  if (input.days < 0) return hold('not-started', 'the analysis time is before the start of the experiment');
  if (counts.every((c) => c === 0))
    return hold('no-exposures', 'no device reported an exposure to the experiment (doorbell_experiment_exposure)');
  const empty = names.filter((_, i) => counts[i] === 0);
  if (empty.length > 0) return hold('arm-empty', `no device reported the arm ${empty.join(', ')}`);
  if (a.exposure.srm?.failed)
    return hold(
      'srm',
      `sample ratio mismatch: devices per arm ${counts.join(' / ')} against expected shares ` +
        `${a.exposure.arms.map((x) => fmt(x.expectedShare)).join(' / ')} (chi-square ${fmt(a.exposure.srm.chi2)}, ` +
        `p = ${a.exposure.srm.pValue.toExponential(2)} < ${a.exposure.srm.alpha}): check the assignment before trusting any result`,
    );
  const thin = (m: MetricResult): string | undefined => {
    const total = m.arms.reduce((s, x) => s + x.n, 0);
    if (total === 0) return 'empty';
    const few = m.arms.filter((x) => x.n < min);
    return few.length > 0 ? few.map((x) => `${x.variant} ${x.n}`).join(', ') : undefined;
  };
  const p = thin(a.primary);
  if (p === 'empty') return hold('metric-empty', `the primary metric ${a.primary.name} has no value for any device`);
  if (p)
    return hold(
      'too-few-devices',
      `the primary metric ${a.primary.name} has fewer than ${min} devices in an arm (${p})`,
    );
  for (const g of a.guardrails) {
    const t = thin(g);
    if (t === 'empty') return hold('guardrail-empty', `the guardrail ${g.name} has no value for any device`);
    if (t) return hold('too-few-devices', `the guardrail ${g.name} has fewer than ${min} devices in an arm (${t})`);
  }
  const pct = (v: number | null): string => (v === null ? '?' : `${(v * 100).toFixed(1)} %`);
  for (const g of a.guardrails)
    for (const c of g.comparisons)
      if (c.guardrail === 'harm')
        return {
          decision: 'stop-harm',
          code: 'guardrail-regression',
          variant: c.variant,
          reason:
            `${c.variant} regresses the guardrail ${g.name} beyond the ${pct(g.maxRegression)} allowed ` +
            `(${pct(c.relative)}, interval ${c.relativeCi ? `${pct(c.relativeCi[0])} to ${pct(c.relativeCi[1])}` : '?'})`,
        };
  const worse = a.primary.comparisons.filter((c) => c.significance === 'worse');
  if (worse.length > 0)
    return {
      decision: 'stop-harm',
      code: 'primary-regression',
      variant: worse[0]!.variant,
      reason: `${worse[0]!.variant} is worse than ${a.control} on ${a.primary.name} (${pct(worse[0]!.relative)}, ${pOf(worse[0]!.pValue)})`,
    };
  const better = a.primary.comparisons
    .filter((c) => c.significance === 'better')
    .sort((x, y) => (a.primary.direction === 'lower' ? x.difference - y.difference : y.difference - x.difference));
  const ready = better.filter((c) =>
    a.guardrails.every((g) => g.comparisons.find((x) => x.variant === c.variant)?.guardrail === 'ok'),
  );
  if (ready.length > 0)
    return {
      decision: 'ship',
      code: 'winner',
      variant: ready[0]!.variant,
      reason:
        `${ready[0]!.variant} is better than ${a.control} on ${a.primary.name} (${pct(ready[0]!.relative)}, ` +
        `${pOf(ready[0]!.pValue)})${a.guardrails.length > 0 ? ' and within every guardrail' : ''}`,
    };
  if (input.days >= input.stop.maxDays)
    return {
      decision: 'stop-inconclusive',
      code: 'max-days',
      reason: `${fmt(input.days)} days reached the limit of ${input.stop.maxDays} without a significant result${
        better.length > 0 ? ' that the guardrails clear' : ''
      }`,
    };
  if (better.length > 0)
    return {
      decision: 'continue',
      code: 'guardrail-unclear',
      variant: better[0]!.variant,
      reason: `${better[0]!.variant} is better on ${a.primary.name}, but a guardrail cannot yet be shown to hold`,
    };
  return {
    decision: 'continue',
    code: 'not-significant',
    reason: `no significant difference on ${a.primary.name} yet (day ${fmt(input.days)} of at most ${input.stop.maxDays})`,
  };
}

// ---- the switchback design: each device its own control ----
//
// Per device and arm the metric's mean over the device's measured blocks of that arm (the report
// reads it per block); per treatment the devices that ran both it and control give a paired
// difference d = mean(treatment) - mean(control), so the spread between devices (hardware, scene)
// leaves the comparison. The estimate is the mean of d over those n devices, its standard error
// sd(d) / sqrt(n), and the interval, p-value, MDE, guardrails and verdict are the between design's
// with N = n devices. CUPED has nothing left to remove (a device's pre-period value cancels in its
// own difference) and is off. The sample ratio counts measured blocks per arm against the weights,
// or the schedule's arms of the same device-blocks when the report knows the schedule.

export interface SwitchbackMetricInput {
  spec: MetricSpec;
  /** Per device, per arm: the metric's mean over the device's measured blocks of that arm. */
  values: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

export interface SwitchbackInput extends Pick<
  ExperimentInput,
  'experiment' | 'variants' | 'control' | 'strata' | 'settings' | 'stop' | 'days' | 'status'
> {
  design: { blockHours: number; washoutMinutes: number };
  /** Per device, per arm: its measured blocks (one arm reported in the block's measured part). */
  blocks: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** Device-blocks left out: more than one arm, or the washout, reported in the measured part. */
  mixedBlocks?: number;
  /**
   * From the schedule in git: the arm it gives each measured device-block, counted per arm, and
   * per device the blocks whose reported arm is not the schedule's (a device outside counts all).
   */
  scheduled?: { arms: ReadonlyMap<string, number>; unexpected: ReadonlyMap<string, number> };
  primary: SwitchbackMetricInput;
  guardrails: readonly SwitchbackMetricInput[];
}

/** Mean, sample variance and covariance of paired values. */
function pairedMoments(t: readonly number[], c: readonly number[]): { t: Moments; c: Moments; cov: number } {
  const tm = moments(t);
  const cm = moments(c);
  let sum = 0;
  for (let i = 0; i < t.length; i++) sum += (t[i]! - tm.mean) * (c[i]! - cm.mean);
  return { t: tm, c: cm, cov: t.length > 1 ? sum / (t.length - 1) : NaN };
}

/** One metric of a switchback over `devices`: per-arm stats over paired devices, and each treatment's paired difference. */
function analysePaired(
  m: SwitchbackMetricInput,
  role: 'primary' | 'guardrail',
  names: readonly string[],
  devices: readonly string[],
  ctx: MetricContext,
): Pick<MetricResult, 'arms' | 'comparisons'> {
  const control = ctx.control;
  const treatments = names.filter((n) => n !== control);
  const alpha = ctx.alpha / Math.max(1, treatments.length);
  const valueOf = (d: string, arm: string): number | undefined => {
    const v = m.values.get(d)?.get(arm);
    return v !== undefined && Number.isFinite(v) ? v : undefined;
  };
  const comparisons: Comparison[] = [];
  const armsByName = new Map<string, ArmStats>();
  const controlDevices = new Set<string>();
  for (const t of treatments) {
    const tv: number[] = [];
    const cv: number[] = [];
    for (const d of devices) {
      const a = valueOf(d, t);
      const b = valueOf(d, control);
      if (a === undefined || b === undefined) continue;
      tv.push(a);
      cv.push(b);
      controlDevices.add(d);
    }
    armsByName.set(t, armStats(t, tv, null));
    if (tv.length < 2) continue;
    const p = pairedMoments(tv, cv);
    const diffs = tv.map((v, i) => v - cv[i]!);
    const dm = moments(diffs);
    if (!Number.isFinite(dm.variance)) continue;
    const R = p.t.mean / p.c.mean;
    // delta method for mean(t) / mean(c) - 1 with paired values: (s_t² + R² s_c² - 2 R s_tc) / (n c²)
    const rse =
      p.c.mean !== 0
        ? Math.sqrt(Math.max(0, p.t.variance + R * R * p.c.variance - 2 * R * p.cov) / (tv.length * p.c.mean ** 2))
        : null;
    comparisons.push(
      comparisonOf(
        { variant: t, difference: dm.mean, se: Math.sqrt(dm.variance / dm.n), n: dm.n, controlMean: p.c.mean, rse },
        m.spec,
        role,
        alpha,
        ctx.tuning,
      ),
    );
  }
  const cvAll = [...controlDevices].map((d) => valueOf(d, control)!);
  armsByName.set(control, armStats(control, cvAll, null));
  return { arms: names.map((n) => armsByName.get(n)!), comparisons };
}

/** The whole analysis of one read of a switchback experiment. */
export function analyseSwitchback(input: SwitchbackInput): ExperimentAnalysis {
  const names = input.variants.map((v) => v.name);
  const control = input.control ?? (names.includes('control') ? 'control' : names[0]!);
  const tuning = input.settings.sequentialTuning ?? DEFAULT_SEQUENTIAL_TUNING;
  const ctx: MetricContext = { control, alpha: input.settings.alpha, tuning, cuped: false };
  const blocks = names.map(() => 0);
  const devicesPerArm = names.map(() => 0);
  for (const perArm of input.blocks.values())
    for (const [arm, n] of perArm) {
      const i = names.indexOf(arm);
      if (i < 0 || !(n > 0)) continue;
      blocks[i]! += n;
      devicesPerArm[i]!++;
    }
  const assigned = input.scheduled ? names.map((n) => input.scheduled!.arms.get(n) ?? 0) : null;
  const { srm, shares } = srmOf(input.variants, input.settings.srmAlpha, blocks, assigned);
  const total = blocks.reduce((a, b) => a + b, 0);
  const unexpectedDevices: string[] = [];
  let unexpected = 0;
  for (const [device, n] of input.scheduled?.unexpected ?? [])
    if (n > 0) {
      unexpected++;
      if (unexpectedDevices.length < 20) unexpectedDevices.push(device);
    }
  const devices = [...input.blocks.keys()];
  const cuped: CupedResult = {
    applied: false,
    theta: null,
    devicesWithPre: 0,
    varianceReduction: null,
    reason: 'switchback: each device is its own control (its pre-period cancels in its own difference)',
  };
  const metric = (m: SwitchbackMetricInput, role: 'primary' | 'guardrail'): MetricResult => ({
    name: m.spec.name,
    role,
    direction: m.spec.direction,
    maxRegression: role === 'guardrail' ? (m.spec.maxRegression ?? 0) : null,
    ...analysePaired(m, role, names, devices, ctx),
    cuped,
    strata: [],
  });
  const primary = metric(input.primary, 'primary');
  if (input.strata && input.strata.size > 0)
    for (const stratum of [...new Set(input.strata.values())].sort())
      primary.strata.push({
        stratum,
        ...analysePaired(
          input.primary,
          'primary',
          names,
          devices.filter((d) => input.strata!.get(d) === stratum),
          ctx,
        ),
      });
  const analysis: ExperimentAnalysis = {
    experiment: input.experiment,
    design: {
      type: 'switchback',
      blockHours: input.design.blockHours,
      washoutMinutes: input.design.washoutMinutes,
      measuredBlocks: total,
      mixedBlocks: input.mixedBlocks ?? 0,
    },
    ...readOf(input, control, tuning),
    exposure: {
      arms: input.variants.map((v, i) => ({
        variant: v.name,
        weight: v.weight,
        devices: devicesPerArm[i]!,
        blocks: blocks[i]!,
        expectedShare: shares[i]!,
        observedShare: total > 0 ? blocks[i]! / total : 0,
      })),
      srm,
      multipleExposures: 0,
      unexpected,
      unexpectedDevices,
    },
    primary,
    guardrails: input.guardrails.map((g) => metric(g, 'guardrail')),
    verdict: { decision: 'hold', code: 'no-exposures', reason: '' },
  };
  analysis.verdict = verdictOf(input, analysis, blocks);
  return analysis;
}
