// The tuner on the device (issue 16, item 5): one tuning run's trial loop. Each tick it either
// starts a trial, when the conditions hold (the governor at rest, every component healthy, the
// samples it names below their limits, the hour), as tuner-owned leases (owner 'tuner', actor
// `tuner:<name>`) through the runtime layers' one apply path, so that bounds, budgets, validation
// and rollback all hold; or it runs the trial: nothing is measured while it settles, then the
// objective and the constraints' metrics are sampled every tick until its duration is over, and
// the leases are cleared. A trial is aborted within the tick in which the governor acts (a step
// or a lease of its own), a component turns unhealthy, an experiment takes one of its fields or
// its lease is lost; the abort clears its leases and counts as a failed trial (as the doc asks:
// "record that as a failed constraint"). The method only ever suggests points of the space the
// device resolved from its own specs, so no trial leaves the bounds.
//
// Telemetry (registerTunerMetrics):
//   doorbell_tuning_trial{tuning, model, candidate}            the objective's mean over the
//                                                                candidate's feasible trials
//   doorbell_tuning_trials{tuning, model, candidate, outcome}   trials by outcome: feasible,
//                                                                infeasible, aborted
// with the device's usual labels added by the telemetry pusher; `gitops tune report` pools them.

import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { GovernorView, TuningStatus } from '../core/contracts/api.js';
import type { TunableValue } from '../core/tunables/annotation.js';
import { toMs } from '../core/tunables/lease.js';
import { assignment, candidateKey } from '../core/tuning/space.js';
import type { Best, Method, Observation, Point, Space } from '../core/tuning/space.js';
import type { Tuning } from '../core/tuning/types.js';
import { seededRandom } from '../core/tuning/random.js';
import type { Clock } from '../io/clock.js';
import type { LeaseRequest, RuntimeLayers } from './leases.js';
import { specTable } from './leases.js';
import type { Releases } from './releases.js';
import type { Runner } from './runner.js';

export interface TunerDeps {
  tuning: Tuning;
  /** The space resolved from this device's specs (resolveSpace). */
  space: Space;
  /** makeMethod(tuning.method, space, { ..., random: seededRandom(<device>/<tuning>) }). */
  method: Method;
  /** The device's hardware model (a label of its telemetry). */
  model: string;
  /** The machine's and components' samples, named as the governor names its sources. */
  sample: () => Promise<Readonly<Record<string, number | undefined>>>;
  /** The governor's view (Governor.view); null when nothing runs. */
  governor: () => GovernorView | null;
  /** Whether every component is healthy (HealthMonitor.health). */
  healthy: () => boolean;
  runtime: Pick<RuntimeLayers, 'leases' | 'change'>;
  runner?: Pick<Runner, 'exclusive'>;
  clock: Pick<Clock, 'now' | 'monotonic'>;
  /** The longest lease a path takes here (its spec's max_ttl_seconds). */
  maxTtlSeconds?: (path: string) => number | undefined;
  log: (line: string) => void;
}

export type TrialOutcome = 'feasible' | 'infeasible' | 'aborted';

/** One trial as kept for telemetry and the status. */
export interface TrialSummary {
  candidate: string;
  values: Record<string, TunableValue>;
  outcome: TrialOutcome;
  /** Why it was aborted or infeasible. */
  reason?: string;
  /** The objective's mean over the measured samples; null without samples. */
  mean: number | null;
  samples: number;
  /** Each constraint's statistic over the trial, by metric. */
  constraints: Record<string, number | null>;
  /** ISO 8601. */
  started: string;
  ended: string;
}

interface Running {
  point: Point;
  key: string;
  values: Record<string, TunableValue>;
  started: string;
  /** Monotonic ms. */
  measureFrom: number;
  endAt: number;
  leaseSetAt: number;
  ttlSeconds: number;
  objective: number[];
  metrics: Map<string, number[]>;
}

/** The most samples a metric keeps within one trial (one a second for over an hour). */
const MAX_SAMPLES = 4096;
/** After a refused or failed start, the next try waits this long. */
const RETRY_MS = 60_000;

const p95 = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)]!;
};
const meanOf = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

export class Tuner {
  private running: Running | undefined;
  private readonly summaries: TrialSummary[] = [];
  private readonly history: Observation[] = [];
  private finished: string | undefined;
  private retryAt = -Infinity;
  /** Why no trial runs now, for the status. */
  waiting = '';

  constructor(private readonly d: TunerDeps) {}

  get actor(): string {
    return `tuner:${this.d.tuning.name}`;
  }

  /** The trials so far, oldest first (at most the budget). */
  get trials(): readonly TrialSummary[] {
    return this.summaries;
  }

  /** Whether the run is over (the method's reason), or undefined. */
  get done(): string | undefined {
    return this.finished;
  }

  get current(): { candidate: string; measuring: boolean } | undefined {
    const r = this.running;
    return r ? { candidate: r.key, measuring: this.d.clock.monotonic() >= r.measureFrom } : undefined;
  }

  best(): Best | undefined {
    return this.d.method.best(this.history);
  }

  private governorActs(): boolean {
    const v = this.d.governor();
    return (v?.step ?? 0) > 0 || this.d.runtime.leases.some((l) => l.owner === 'governor');
  }

  /** Why a trial may not start now, or undefined when it may. */
  private blocked(samples: Readonly<Record<string, number | undefined>>): string | undefined {
    const c = this.d.tuning.conditions;
    if (c.governor_at_rest) {
      const v = this.d.governor();
      if (!v) return 'no release runs';
      if (this.governorActs() || v.signals.some((s) => s.state !== 'normal')) return 'the load governor is not at rest';
    }
    if (c.healthy && !this.d.healthy()) return 'a component is unhealthy';
    for (const [metric, limit] of Object.entries(c.below)) {
      const v = samples[metric];
      if (v === undefined) return `${metric} is not sampled`;
      if (v >= limit) return `${metric} is ${v}, not below ${limit}`;
    }
    if (c.utc_hours) {
      const h = this.d.clock.now().getUTCHours();
      const { from, to } = c.utc_hours;
      if (!(from <= to ? h >= from && h < to : h >= from || h < to)) return `outside ${from}:00..${to}:00 UTC`;
    }
    const taken = this.d.tuning.space.find((dim) =>
      this.d.runtime.leases.some((l) => l.owner === 'experiment' && l.path === dim.path),
    );
    if (taken) return `an experiment holds ${taken.path}`;
    return undefined;
  }

  private change(requests: LeaseRequest[]): Promise<unknown> {
    const go = (): Promise<unknown> => this.d.runtime.change(requests, 'tuner');
    return this.d.runner ? this.d.runner.exclusive(go) : go();
  }

  private setRequests(r: Pick<Running, 'values' | 'key' | 'ttlSeconds'>): LeaseRequest[] {
    return Object.entries(r.values).map(([path, value]) => ({
      kind: 'set',
      path,
      value,
      owner: 'tuner',
      actor: this.actor,
      reason: `trial ${this.summaries.length + 1} of ${this.d.tuning.name}: ${r.key}`,
      ttlSeconds: r.ttlSeconds,
    }));
  }

  /** Clears the trial's leases that are still held; never throws. */
  private async clear(r: Running): Promise<void> {
    const held = this.d.runtime.leases.filter((l) => l.owner === 'tuner' && l.path in r.values);
    if (held.length === 0) return;
    try {
      await this.change(held.map((l) => ({ kind: 'clear', path: l.path, owner: 'tuner', actor: this.actor })));
    } catch (e) {
      this.d.log(
        `tuner ${this.d.tuning.name}: clearing its leases failed (${(e as { code?: string }).code ?? String(e)})`,
      );
    }
  }

  private record(r: Running, outcome: TrialOutcome, reason?: string): void {
    const constraints: Record<string, number | null> = {};
    for (const c of this.d.tuning.objective.constraints) {
      const xs = r.metrics.get(c.metric) ?? [];
      constraints[c.metric] =
        xs.length === 0 ? null : c.stat === 'p95' ? p95(xs) : c.stat === 'max' ? Math.max(...xs) : meanOf(xs);
    }
    const mean = r.objective.length > 0 ? meanOf(r.objective) : null;
    this.summaries.push({
      candidate: r.key,
      values: r.values,
      outcome,
      ...(reason ? { reason } : {}),
      mean,
      samples: r.objective.length,
      constraints,
      started: r.started,
      ended: this.d.clock.now().toISOString(),
    });
    this.history.push({ point: r.point, value: outcome === 'feasible' ? mean : null });
    this.d.log(`tuner ${this.d.tuning.name}: trial ${r.key} ${outcome}${reason ? ` (${reason})` : ''}`);
  }

  private async abort(r: Running, reason: string): Promise<void> {
    this.running = undefined;
    await this.clear(r);
    this.record(r, 'aborted', reason);
  }

  /** Ends the trial in progress, if any, as aborted (the release it belonged to is gone); its leases are cleared. */
  async stop(reason: string): Promise<void> {
    const r = this.running;
    if (r) await this.abort(r, reason);
  }

  /** What the status shows of the run. */
  view(): TuningStatus {
    const base = { tuning: this.d.tuning.name, model: this.d.model, trials: this.summaries.length };
    const last = this.summaries.at(-1);
    const best = this.best();
    const extra = {
      ...(last
        ? {
            last: { candidate: last.candidate, outcome: last.outcome, ...(last.reason ? { reason: last.reason } : {}) },
          }
        : {}),
      ...(best ? { best: { candidate: candidateKey(this.d.space, best.point), estimate: best.estimate } } : {}),
    };
    const current = this.current;
    if (this.finished) return { ...base, state: 'done', reason: this.finished, ...extra };
    if (this.d.tuning.status === 'paused') return { ...base, state: 'paused', ...extra };
    if (current) return { ...base, state: 'trial', trial: current, ...extra };
    return { ...base, state: 'waiting', ...(this.waiting ? { reason: this.waiting } : {}), ...extra };
  }

  /** One tick: call it every second, after the governor's tick. */
  async tick(): Promise<void> {
    if (this.finished || this.d.tuning.status === 'paused') return;
    const r = this.running;
    if (r) return this.tickTrial(r);
    const next = this.d.method.suggest(this.history);
    if (next.kind === 'done') {
      this.finished = next.reason;
      this.waiting = '';
      this.d.log(`tuner ${this.d.tuning.name}: done, ${next.reason}`);
      return;
    }
    const now = this.d.clock.monotonic();
    if (now < this.retryAt) return;
    const samples = await this.d.sample();
    const why = this.blocked(samples);
    this.waiting = why ?? '';
    if (why) return;
    const values = assignment(this.d.space, next.point);
    const t = this.d.tuning.trial;
    const wanted = t.settle_seconds + t.duration_seconds + 30;
    const ttlSeconds = Math.min(wanted, ...Object.keys(values).map((p) => this.d.maxTtlSeconds?.(p) ?? wanted));
    const trial: Running = {
      point: next.point,
      key: candidateKey(this.d.space, next.point),
      values,
      started: this.d.clock.now().toISOString(),
      measureFrom: now + t.settle_seconds * 1000,
      endAt: now + (t.settle_seconds + t.duration_seconds) * 1000,
      leaseSetAt: now,
      ttlSeconds,
      objective: [],
      metrics: new Map(),
    };
    try {
      await this.change(this.setRequests(trial));
      this.running = trial;
    } catch (e) {
      this.retryAt = now + RETRY_MS;
      this.waiting = `the trial's leases were refused (${(e as { code?: string }).code ?? String(e)})`;
      this.d.log(`tuner ${this.d.tuning.name}: ${this.waiting}; trying again later`);
    }
  }

  private async tickTrial(r: Running): Promise<void> {
    if (this.governorActs()) return this.abort(r, 'the load governor acted');
    if (!this.d.healthy()) return this.abort(r, 'a component turned unhealthy');
    const leases = this.d.runtime.leases;
    const taken = Object.keys(r.values).find((p) => leases.some((l) => l.owner === 'experiment' && l.path === p));
    if (taken) return this.abort(r, `an experiment took ${taken}`);
    const held = (path: string): boolean =>
      leases.some((l) => l.owner === 'tuner' && l.path === path && l.value === r.values[path]);
    const lost = Object.keys(r.values).find((p) => !held(p));
    if (lost) return this.abort(r, `its lease on ${lost} is gone`);
    const now = this.d.clock.monotonic();
    if (now >= r.measureFrom) {
      const samples = await this.d.sample();
      const push = (xs: number[], v: number | undefined): void => {
        if (v !== undefined && Number.isFinite(v) && xs.length < MAX_SAMPLES) xs.push(v);
      };
      push(r.objective, samples[this.d.tuning.objective.metric]);
      for (const c of this.d.tuning.objective.constraints) {
        if (!r.metrics.has(c.metric)) r.metrics.set(c.metric, []);
        push(r.metrics.get(c.metric)!, samples[c.metric]);
      }
    }
    if (now >= r.endAt) return this.finish(r);
    // renewed once half its time to live is gone (a renewal is no change of the field)
    if (now - r.leaseSetAt > (r.ttlSeconds * 1000) / 2) {
      const soonest = Math.min(...leases.filter((l) => l.owner === 'tuner').map((l) => toMs(l.expires)));
      if (soonest - this.d.clock.now().getTime() < (r.ttlSeconds * 1000) / 2)
        try {
          await this.change(this.setRequests(r));
          r.leaseSetAt = now;
        } catch (e) {
          return this.abort(r, `renewing its leases failed (${(e as { code?: string }).code ?? String(e)})`);
        }
    }
  }

  private async finish(r: Running): Promise<void> {
    this.running = undefined;
    await this.clear(r);
    if (r.objective.length < this.d.tuning.trial.min_samples)
      return this.record(
        r,
        'aborted',
        `${r.objective.length} samples of ${this.d.tuning.objective.metric}, fewer than ${this.d.tuning.trial.min_samples}`,
      );
    const failed = this.d.tuning.objective.constraints.find((c) => {
      const xs = r.metrics.get(c.metric) ?? [];
      if (xs.length === 0) return true;
      const v = c.stat === 'p95' ? p95(xs) : c.stat === 'max' ? Math.max(...xs) : meanOf(xs);
      return (c.max !== undefined && v > c.max) || (c.min !== undefined && v < c.min);
    });
    if (failed) this.record(r, 'infeasible', `${failed.stat} of ${failed.metric} outside its bound`);
    else this.record(r, 'feasible');
  }

  /** The telemetry series of the run (see the top of this file). */
  series(): Array<{
    name: 'doorbell_tuning_trial' | 'doorbell_tuning_trials';
    labels: Record<string, string>;
    value: number;
  }> {
    const base = { tuning: this.d.tuning.name, model: this.d.model };
    const out: ReturnType<Tuner['series']> = [];
    const keys = [...new Set(this.summaries.map((s) => s.candidate))];
    for (const candidate of keys) {
      const of = this.summaries.filter((s) => s.candidate === candidate);
      const feasible = of.filter((s) => s.outcome === 'feasible' && s.mean !== null);
      if (feasible.length > 0)
        out.push({
          name: 'doorbell_tuning_trial',
          labels: { ...base, candidate },
          value: meanOf(feasible.map((s) => s.mean!)),
        });
      for (const outcome of ['feasible', 'infeasible', 'aborted'] as const)
        out.push({
          name: 'doorbell_tuning_trials',
          labels: { ...base, candidate, outcome },
          value: of.filter((s) => s.outcome === outcome).length,
        });
    }
    return out;
  }
}

/** Registers the tuners' series on `registry` (the one the telemetry pusher sends). */
export function registerTunerMetrics(registry: Registry, tuners: () => readonly Tuner[]): void {
  const gauge = (name: 'doorbell_tuning_trial' | 'doorbell_tuning_trials', help: string, labelNames: string[]): Gauge =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const t of tuners()) for (const s of t.series()) if (s.name === name) this.set(s.labels, s.value);
      },
    });
  gauge('doorbell_tuning_trial', "The objective's mean over a tuning candidate's feasible trials on this device.", [
    'tuning',
    'model',
    'candidate',
  ]);
  gauge('doorbell_tuning_trials', "A tuning candidate's trials on this device, by outcome.", [
    'tuning',
    'model',
    'candidate',
    'outcome',
  ]);
}

export interface TunersDeps extends Pick<TunerDeps, 'sample' | 'governor' | 'healthy' | 'clock' | 'log'> {
  device: string;
  releases: Pick<Releases, 'current'>;
  runtime: Pick<RuntimeLayers, 'leases' | 'change' | 'runtime'>;
  runner: Pick<Runner, 'exclusive'>;
}

/**
 * The tuners of the running release: one per tuning run of its runtime context (the runs that
 * target this device, their spaces resolved from its specs), rebuilt when another release runs;
 * the trial in progress of the release before is aborted and its leases cleared.
 */
export class Tuners {
  private built: { release: string | undefined; tuners: Tuner[] } = { release: undefined, tuners: [] };

  constructor(private readonly d: TunersDeps) {}

  /** The tuners of the release the last tick saw. */
  get tuners(): readonly Tuner[] {
    return this.built.tuners;
  }

  /** The release's tuners; the search methods (and their matrix library) are loaded only for a release that tunes. */
  private async build(release: string): Promise<Tuner[]> {
    const context = this.d.runtime.runtime(release)?.runtime.context;
    const runs = context?.tuning ?? [];
    if (runs.length === 0) return [];
    const { makeMethod } = await import('../core/tuning/method.js');
    const table = specTable(context?.specs ?? []);
    return runs.map(
      ({ tuning, model, space }) =>
        new Tuner({
          ...this.d,
          tuning,
          model,
          space,
          method: makeMethod(tuning.method, space, {
            direction: tuning.objective.direction,
            maxTrials: tuning.budget.max_trials,
            random: seededRandom(`${this.d.device}/${tuning.name}`),
          }),
          maxTtlSeconds: (path) => table.at(path)?.max_ttl_seconds,
        }),
    );
  }

  async tick(): Promise<void> {
    const release = this.d.releases.current();
    if (release !== this.built.release) {
      const old = this.built.tuners;
      this.built = { release, tuners: release ? await this.build(release) : [] };
      for (const t of old) await t.stop('another release runs');
    }
    for (const t of this.built.tuners) await t.tick();
  }

  view(): TuningStatus[] {
    return this.built.tuners.map((t) => t.view());
  }
}
