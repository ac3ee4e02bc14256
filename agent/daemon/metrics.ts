// Prometheus metrics of the agent (GET /metrics): applies by outcome, refusals by reason, step
// durations as histograms, the running release as an info metric, the last successful apply
// time, component health, open event streams, and Node's process metrics. Counters are fed by
// the agent's events, gauges are read from its state at each scrape. The same registry is what
// the agent pushes to a remote-write endpoint (telemetry.ts), where the fleet's gate reads
// release_info (devices per commit of a wave) and candidate_info (who refused or rolled back what).

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CycleAnswer, ExperimentStatus, GovernorView, JournalEntry } from '../core/contracts/api.js';
import { isActive } from '../core/tunables/lease.js';
import type { ErrorCode } from '../core/errors.js';
import type { Daemon } from './main.js';
import type { StateView } from './state.js';

const OUTCOMES: readonly string[] = [
  'applied',
  'unchanged',
  'refused',
  'rolled-back',
] satisfies CycleAnswer['outcome'][];
/** Refusal codes counted from zero, so that a dashboard shows them before the first one happens. */
const REASONS: readonly ErrorCode[] = [
  'unsigned',
  'untrusted-key',
  'bad-signature',
  'key-not-valid',
  'malformed',
  'policy',
  'invalid',
  'hardware',
  'secrets',
  'veto',
  'component-unavailable',
  'internal',
];
/** Lease events, counted from zero. */
const LEASE_EVENTS = [
  'lease-set',
  'lease-cleared',
  'lease-expired',
  'lease-dropped',
  'lease-refused',
  'lease-rolled-back',
];
const STEPS = [
  'fetch',
  'verify',
  'read',
  'decrypt',
  'probe',
  'validate',
  'write',
  'accept',
  'deliver',
  'bake',
  'rollback',
];

/** Codes of a candidate that was applied and then left again (health, the agent dying while applying it). */
const ROLLED_BACK_CODES: ReadonlySet<string> = new Set<ErrorCode>(['health', 'crash-loop']);

export interface Candidate {
  commit: string;
  outcome: 'refused' | 'rolled-back';
  /** The refusal's code, health / crash-loop for a rollback, operator for an operator's. */
  code: string;
}

/**
 * The latest commit this device tried and does not run: the last error's candidate, or else the
 * last commit marked bad (what happened to it read from the journal, newest entry first).
 */
export function lastCandidate(
  state: StateView,
  running: string | undefined,
  journal: (commit: string) => JournalEntry | undefined,
): Candidate | undefined {
  const e = state.last_error;
  if (e?.commit && e.commit !== running)
    return { commit: e.commit, outcome: ROLLED_BACK_CODES.has(e.code) ? 'rolled-back' : 'refused', code: e.code };
  const bad = state.bad.at(-1);
  if (!bad || bad === running) return undefined;
  const entry = journal(bad);
  const code = typeof entry?.code === 'string' ? entry.code : entry?.trigger === 'operator' ? 'operator' : 'unknown';
  const outcome = entry?.event === 'rolled-back' || ROLLED_BACK_CODES.has(code) ? 'rolled-back' : 'refused';
  return { commit: bad, outcome, code };
}

/** The wave the device follows (all: the environment's branch, or not known yet). */
export const waveOf = (state: StateView): string => state.following?.wave ?? 'all';

/** Each daemon's metrics, for what pushes them (the API builds them). */
const built = new WeakMap<object, AgentMetrics>();

/** How often the event loop's lag is sampled (nodejs_eventloop_lag_*). */
export const EVENT_LOOP_SAMPLE_MS = 10_000;

export class AgentMetrics {
  readonly registry = new Registry();

  /** The metrics the API built for `daemon` (the registry the telemetry pusher sends and adds to). */
  static of(daemon: object): AgentMetrics | undefined {
    return built.get(daemon);
  }

  constructor(
    daemon: Pick<Daemon, 'state' | 'releases' | 'events' | 'health' | 'runtime' | 'clock'> & {
      journal?: Pick<Daemon['journal'], 'entries'>;
    },
    identity: { environment: string; device: string },
    streams: () => number,
    governor: () => GovernorView | null = () => null,
    experiments: () => ExperimentStatus[] = () => [],
    figures: () => Promise<Record<string, number>> = async () => ({}),
  ) {
    built.set(daemon, this);
    const registers = [this.registry];
    // the event loop's lag sampled every 10 s, not prom-client's default of every 10 ms: an idle agent
    // would otherwise wake a hundred times a second for its own monitoring
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
    // gauges that prom-client names like counters (promtool's lint refuses them)
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
      this.registry.removeSingleMetric(name);
    const applies = new Counter({
      name: 'doorbell_agent_applies_total',
      help: 'Candidates handled, by outcome (health rollbacks count as rolled-back).',
      labelNames: ['outcome'],
      registers,
    });
    const refusals = new Counter({
      name: 'doorbell_agent_refusals_total',
      help: 'Refused candidates, by reason.',
      labelNames: ['reason'],
      registers,
    });
    const rollbacks = new Counter({
      name: 'doorbell_agent_operator_rollbacks_total',
      help: 'Rollbacks asked by an operator, by result.',
      labelNames: ['result'],
      registers,
    });
    const failures = new Counter({
      name: 'doorbell_agent_sync_failures_total',
      help: 'Syncs that failed before a candidate was judged (remote unreachable, fetch too large), by code.',
      labelNames: ['code'],
      registers,
    });
    const steps = new Histogram({
      name: 'doorbell_agent_step_duration_seconds',
      help: 'Duration of each step of an apply.',
      labelNames: ['step'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    const leaseEvents = new Counter({
      name: 'doorbell_agent_lease_events_total',
      help: 'Runtime lease events (set, cleared, expired, dropped by a commit or a restart, refused, rolled back), by event and owner.',
      labelNames: ['event', 'owner'],
      registers,
    });
    for (const e of LEASE_EVENTS) leaseEvents.inc({ event: e, owner: 'operator' }, 0);
    for (const o of OUTCOMES) applies.inc({ outcome: o }, 0);
    for (const r of REASONS) refusals.inc({ reason: r }, 0);
    for (const r of ['ok', 'failed']) rollbacks.inc({ result: r }, 0);
    for (const s of STEPS) steps.zero({ step: s });

    new Gauge({
      name: 'doorbell_agent_release_info',
      help: 'The release this device runs (value 1), its last good one, and the rollout wave the device follows (all: none).',
      labelNames: ['environment', 'device', 'wave', 'commit', 'last_good'],
      registers,
      collect() {
        this.reset();
        // the commit the device runs: a commit whose configuration equals the release's is
        // applied without a new release, and it is that commit the rollout gate asks about
        const current = daemon.state.state.applied ?? daemon.releases.current();
        if (current)
          this.set(
            {
              environment: identity.environment,
              device: identity.device,
              wave: waveOf(daemon.state.state),
              commit: current,
              last_good: daemon.state.state.last_good ?? '',
            },
            1,
          );
      },
    });
    // what happened to a commit is read from the journal once, not at every scrape
    let known: JournalEntry | undefined;
    const journalOf = (commit: string): JournalEntry | undefined => {
      if (known?.commit !== commit) {
        const wanted = (x: JournalEntry): boolean =>
          x.commit === commit && (x.event === 'refused' || x.event === 'rolled-back');
        known = daemon.journal?.entries(1, wanted)[0];
      }
      return known;
    };
    new Gauge({
      name: 'doorbell_agent_candidate_info',
      help:
        'The latest commit this device tried and does not run (value 1): refused (validation, signature, history, hardware...) ' +
        'or rolled-back (applied, then unhealthy, and returned), with the code why; absent when there is none.',
      labelNames: ['environment', 'device', 'wave', 'commit', 'outcome', 'code'],
      registers,
      collect() {
        this.reset();
        const state = daemon.state.state;
        const c = lastCandidate(state, daemon.releases.current(), journalOf);
        if (c) this.set({ environment: identity.environment, device: identity.device, wave: waveOf(state), ...c }, 1);
      },
    });
    new Gauge({
      name: 'doorbell_agent_last_successful_apply_timestamp_seconds',
      help: 'When a release was last applied and found healthy (Unix time); 0 when never.',
      registers,
      collect() {
        this.set(daemon.state.state.applied_at ? Date.parse(daemon.state.state.applied_at) / 1000 : 0);
      },
    });
    new Gauge({
      name: 'doorbell_agent_component_healthy',
      help: 'Each running component: 1 healthy, 0 not, as last checked.',
      labelNames: ['component'],
      registers,
      collect() {
        this.reset();
        for (const [name, h] of daemon.health.health) this.set({ component: name }, h.healthy ? 1 : 0);
      },
    });
    new Gauge({
      name: 'doorbell_agent_event_streams',
      help: 'Open server-sent event streams.',
      registers,
      collect() {
        this.set(streams());
      },
    });

    new Gauge({
      name: 'doorbell_agent_lease_active',
      help: 'Each runtime lease in force (value 1), by owner and configuration path.',
      labelNames: ['owner', 'path'],
      registers,
      collect() {
        this.reset();
        const now = daemon.clock.now().getTime();
        for (const l of daemon.runtime.leases) if (isActive(l, now)) this.set({ owner: l.owner, path: l.path }, 1);
      },
    });
    new Gauge({
      name: 'doorbell_agent_governor_step',
      help: "The load governor's step down its ladder (0: the signed configuration); absent when it does not run.",
      registers,
      collect() {
        this.reset();
        const g = governor();
        if (g?.enabled) this.set(g.step);
      },
    });
    new Gauge({
      name: 'doorbell_agent_governor_signal',
      help: 'The last sample of each signal the load governor watches.',
      labelNames: ['signal'],
      registers,
      collect() {
        this.reset();
        for (const s of governor()?.signals ?? []) if (s.value !== null) this.set({ signal: s.name }, s.value);
      },
    });
    new Gauge({
      name: 'doorbell_agent_governor_signal_hot',
      help: 'Each signal the load governor watches: 1 when it has entered (hot, or leaving but not yet back), 0 otherwise.',
      labelNames: ['signal'],
      registers,
      collect() {
        this.reset();
        for (const s of governor()?.signals ?? [])
          this.set({ signal: s.name }, s.state === 'hot' || s.state === 'leaving' ? 1 : 0);
      },
    });

    new Gauge({
      name: 'doorbell_component_figure',
      help:
        'The last figure each running component reported (agent/client report() or its metrics.url), by component and figure: ' +
        'what experiments and tuning runs measure (detector cpu_ratio, inference_latency_p95_ms, agreement).',
      labelNames: ['component', 'figure'],
      registers,
      async collect() {
        this.reset();
        for (const [key, value] of Object.entries(await figures())) {
          const dot = key.indexOf('.');
          if (dot > 0 && Number.isFinite(value))
            this.set({ component: key.slice(0, dot), figure: key.slice(dot + 1) }, value);
        }
      },
    });
    new Gauge({
      name: 'doorbell_experiment_exposure',
      help:
        'Each experiment this device runs a variant of (value 1), by experiment and variant: the arm the report counts it in. ' +
        'A variant the device refused, or one not yet in force, is not an exposure. ' +
        'A switchback experiment adds phase: washout in the first minutes after a switch (the report leaves it out), else measure.',
      labelNames: ['experiment', 'variant', 'phase'],
      registers,
      collect() {
        this.reset();
        for (const e of experiments())
          if (e.variant !== null && e.state === 'applied')
            this.set(
              {
                experiment: e.experiment,
                variant: e.variant,
                ...(e.switchback ? { phase: e.switchback.phase } : {}),
              },
              1,
            );
      },
    });

    daemon.events.subscribe((e) => {
      if (LEASE_EVENTS.includes(e.type))
        return leaseEvents.inc({ event: e.type, owner: String(e.owner ?? 'operator') });
      if (e.type === 'rolled-back' && e.trigger === 'operator') return rollbacks.inc({ result: 'ok' });
      if (e.type === 'rollback-failed') return rollbacks.inc({ result: 'failed' });
      if (e.type === 'sync-failed') return failures.inc({ code: String(e.code ?? 'internal') });
      if (!OUTCOMES.includes(e.type)) return;
      applies.inc({ outcome: e.type });
      if (e.type === 'refused') refusals.inc({ reason: String(e.code ?? 'internal') });
      for (const [step, ms] of Object.entries((e.steps ?? {}) as Record<string, number>))
        if (typeof ms === 'number') steps.observe({ step }, ms / 1000);
    });
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }
}
