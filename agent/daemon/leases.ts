// The runtime layers of the running release (DESIGN.md section 9): the leases in force, kept in
// leases.json, and the one path by which they change. A change (an operator's set or clear, the
// governor's step, an expiry) renders the effective configuration (signed + layers), checks it
// like a commit (schema, rules, policy, hardware), plans the affected components, asks them,
// delivers, bakes, and on failure delivers the configuration before it again and keeps the
// leases as they were. Every event is journaled with its actor.

import { planChanges } from '../core/change/plan.js';
import type { HardwareProfile } from '../core/config/types.js';
import type { LeaseAnswer, TunableEntry, TunablesAnswer } from '../core/contracts/api.js';
import { GitopsError } from '../core/errors.js';
import type { ErrorCode } from '../core/errors.js';
import { getAt, isObject } from '../core/json/value.js';
import type { Json, JsonObject } from '../core/json/value.js';
import type { RepoFiles } from '../core/repo/layout.js';
import { loadSchemas } from '../core/schema/schema-set.js';
import type { CompiledSchemaCache, SchemaSet } from '../core/schema/schema-set.js';
import { OWNERS } from '../core/tunables/annotation.js';
import type { Owner, TunableValue } from '../core/tunables/annotation.js';
import { atLeastAsSafe, effectiveConfig, effectiveValue } from '../core/tunables/effective.js';
import type { EffectiveConfig } from '../core/tunables/effective.js';
import { applyLeaseEvent, changeOf, NO_LEASES } from '../core/tunables/events.js';
import type { LeaseEvent, LeaseState, ReplayContext } from '../core/tunables/events.js';
import { afterRestart, newLease, revalidate, toMs, withinBudget } from '../core/tunables/lease.js';
import type { ChangeRecord, DroppedLease, Lease, LeaseFinding, LeasePolicy } from '../core/tunables/lease.js';
import { keySegments } from '../core/tunables/spec.js';
import type { TunableSpec } from '../core/tunables/spec.js';
import { checkEffective } from '../core/validate/effective.js';
import type { RuntimeContext } from '../core/validate/effective.js';
import { policyOf } from '../core/validate/policy.js';
import type { Clock } from '../io/clock.js';
import type { Delivery } from '../io/delivery.js';
import type { Journal } from './journal.js';
import type { ReleaseRuntime, Releases } from './releases.js';
import { REDACTED_VIEW } from './releases.js';
import type { StateKeeper } from './state.js';
import { bakeMsOf, proposal, targetsOf } from './switchover.js';
import type { Switchover } from './switchover.js';

export interface LeaseStore {
  readLeases(): unknown;
  writeLeases(value: object): void;
}

export interface LeaseDeps {
  releases: Releases;
  store: LeaseStore;
  switchover: Switchover;
  delivery: Pick<Delivery, 'propose'>;
  state: StateKeeper;
  journal: Journal;
  clock: Clock;
  schemaCache: CompiledSchemaCache;
  hardwareProfile: () => Promise<HardwareProfile>;
  bakeSeconds?: number;
  redact: (text: string) => string;
  log: (line: string) => void;
}

/** leases.json */
interface Saved {
  version: 1;
  commit: string | undefined;
  leases: Lease[];
  /** Lease sets and clears of the last hour, for the change budgets. */
  changes: ChangeRecord[];
}

/** What an operator or the governor asks for. */
export type LeaseRequest =
  | { kind: 'set'; path: string; value: TunableValue; owner: Owner; actor: string; reason: string; ttlSeconds?: number }
  | { kind: 'clear'; path: string; owner: Owner; actor: string };

/** A release's signed configuration with the leases that fit it, and what they make of it. */
export interface Layered {
  kept: Lease[];
  dropped: DroppedLease[];
  effective: EffectiveConfig;
}

const HOUR_MS = 3_600_000;

/** Looks specs up by path. */
export function specTable(specs: readonly TunableSpec[]): {
  at(path: string | readonly string[]): TunableSpec | undefined;
} {
  const byPath = new Map(specs.map((s) => [s.path, s]));
  return { at: (path) => byPath.get(typeof path === 'string' ? path : path.join('.')) };
}

/** The runtime context of a rendered target, for its release's runtime.json. */
export function releaseRuntime(context: RuntimeContext, files: RepoFiles): ReleaseRuntime {
  const schemas: Record<string, string> = {};
  for (const [path, text] of files) if (path.startsWith('schemas/')) schemas[path] = text;
  return { context, schemas };
}

const isLease = (v: unknown): v is Lease =>
  isObject(v as Json) &&
  ['path', 'actor', 'reason', 'start', 'expires', 'commit'].every(
    (k) => typeof (v as Record<string, unknown>)[k] === 'string',
  ) &&
  OWNERS.includes((v as Lease).owner) &&
  ['string', 'number', 'boolean'].includes(typeof (v as Lease).value);

/** A lease finding as the error of a refusal. */
function refusalOf(findings: readonly LeaseFinding[]): GitopsError {
  const f = findings[0]!;
  const code: ErrorCode =
    f.code === 'lease-expired' || f.code === 'lease-cleared' || f.code === 'lease-dropped-on-restart'
      ? 'lease-invalid'
      : f.code;
  return new GitopsError(code, findings.map((x) => x.message).join('; '), f.hint);
}

export class RuntimeLayers {
  private current: LeaseState = NO_LEASES;
  private changes: ChangeRecord[] = [];
  /** When the leases in force were last delivered: what runs is the effective configuration at that instant. */
  private deliveredAt = 0;
  private cached: { id: string; runtime: ReleaseRuntime; schemas: SchemaSet | undefined } | undefined;

  constructor(private readonly d: LeaseDeps) {}

  get leases(): readonly Lease[] {
    return this.current.leases;
  }

  private now(): number {
    return this.d.clock.now().getTime();
  }

  private save(): void {
    const cutoff = this.now() - HOUR_MS;
    this.changes = this.changes.filter((c) => toMs(c.at) > cutoff);
    this.d.store.writeLeases({
      version: 1,
      commit: this.current.commit,
      leases: this.current.leases,
      changes: this.changes,
    } satisfies Saved);
  }

  /** At start: the leases saved before, less those that end with a restart (every one but the operator's) or expired. */
  load(): void {
    const raw = this.d.store.readLeases() as Partial<Saved> | undefined;
    const leases = Array.isArray(raw?.leases) ? raw.leases.filter(isLease) : [];
    this.changes = Array.isArray(raw?.changes)
      ? raw.changes.filter((c): c is ChangeRecord => typeof c?.path === 'string' && typeof c.at === 'string')
      : [];
    const { kept, dropped } = afterRestart(leases, this.now());
    this.current = { commit: typeof raw?.commit === 'string' ? raw.commit : undefined, leases: kept };
    this.deliveredAt = this.now();
    this.journalDropped(dropped, 'restart');
    if (raw !== undefined) this.save();
  }

  private journalDropped(dropped: readonly DroppedLease[], trigger: string): void {
    for (const { lease, why } of dropped)
      this.d.journal.record({
        event: why[0]?.code === 'lease-expired' ? 'lease-expired' : 'lease-dropped',
        path: lease.path,
        owner: lease.owner,
        actor: lease.actor,
        value: lease.value,
        commit: lease.commit,
        trigger,
        code: why[0]?.code,
        reason: why.map((w) => w.message).join('; '),
      });
  }

  /** The runtime of a release (cached for the running one), or undefined for a release older than leases. */
  runtime(id: string): { runtime: ReleaseRuntime; schemas: () => SchemaSet } | undefined {
    if (this.cached?.id !== id) {
      const runtime = this.d.releases.runtime(id);
      if (!runtime) return undefined;
      this.cached = { id, runtime, schemas: undefined };
    }
    const c = this.cached;
    const schemas = (): SchemaSet => {
      if (!c.schemas) {
        const loaded = loadSchemas(new Map(Object.entries(c.runtime.schemas)), this.d.schemaCache);
        if (!loaded.set)
          throw new GitopsError('internal', `the schemas kept with release ${id.slice(0, 12)} do not compile`);
        c.schemas = loaded.set;
      }
      return c.schemas;
    };
    return { runtime: c.runtime, schemas };
  }

  /** What the environment's policy adds for leases of `owner` (policy.operator_leases). */
  private policy(context: RuntimeContext | undefined, owner: Owner | undefined): LeasePolicy {
    const op = policyOf(context?.environment).operator_leases;
    if (owner !== 'operator') return {};
    return {
      ...(op.allowed === false ? { owners: OWNERS.filter((o) => o !== 'operator') } : {}),
      ...(op.max_ttl_seconds !== undefined ? { maxTtlSeconds: op.max_ttl_seconds } : {}),
    };
  }

  /** `config` (a release's signed configuration) with the leases that fit `context`; nothing is kept yet. */
  layered(
    config: JsonObject,
    context: RuntimeContext | undefined,
    leases: readonly Lease[] = this.current.leases,
  ): Layered {
    const table = specTable(context?.specs ?? []);
    const at = (p: string): TunableSpec | undefined => table.at(p);
    const ops = revalidate(
      leases.filter((l) => l.owner === 'operator'),
      at,
      this.policy(context, 'operator'),
    );
    const others = revalidate(
      leases.filter((l) => l.owner !== 'operator'),
      at,
    );
    const kept = [...ops.kept, ...others.kept];
    const dropped = [...ops.dropped, ...others.dropped];
    return { kept, dropped, effective: effectiveConfig(config, table, kept, this.now()) };
  }

  /** What runs for release `id`: its signed configuration (or view) with the leases in force when they were delivered. */
  effective(id: string, view: 'config.json' | typeof REDACTED_VIEW = 'config.json'): JsonObject {
    const table = specTable(this.runtime(id)?.runtime.context.specs ?? []);
    return effectiveConfig(this.d.releases.config(id, view), table, this.current.leases, this.deliveredAt).config;
  }

  /** After `commit` ran with `layered`: its leases are the ones in force, those dropped are journaled. */
  adopt(commit: string, layered: Pick<Layered, 'kept' | 'dropped'>, trigger: string): void {
    this.current = { commit, leases: layered.kept };
    this.deliveredAt = this.now();
    this.journalDropped(layered.dropped, trigger);
    this.save();
  }

  /** Whether a lease has expired by now (the next tick removes it). */
  due(): boolean {
    const n = this.now();
    return this.current.leases.some((l) => toMs(l.expires) <= n);
  }

  /** Every tunable field of the running release, its layers and the one that wins. */
  view(): Omit<TunablesAnswer, 'governor'> {
    const id = this.d.releases.current();
    const now = this.now();
    const base = { commit: id ?? null, now: new Date(now).toISOString(), leases: [...this.current.leases] };
    const rt = id ? this.runtime(id) : undefined;
    if (!id || !rt) return { ...base, tunables: [] };
    const signed = this.d.releases.config(id, REDACTED_VIEW);
    const tunables: TunableEntry[] = rt.runtime.context.specs.map((spec) => {
      const s = getAt(signed, keySegments(spec.path));
      const ev = effectiveValue(s, spec, this.current.leases, now);
      return {
        path: spec.path,
        spec,
        signed: s ?? null,
        value: ev.value ?? null,
        winner: ev.winner,
        layers: ev.layers,
      };
    });
    return { ...base, tunables };
  }

  /**
   * Applies lease changes through the same steps as a commit: refused before anything is
   * delivered when they do not fit (bounds, owner, policy, budget, validation, a component's veto);
   * rolled back when a component turns unhealthy. An expiry is applied whatever comes of it.
   */
  async change(requests: readonly LeaseRequest[] | 'expire', trigger: string): Promise<LeaseAnswer[]> {
    const { releases, journal, clock } = this.d;
    const started = clock.monotonic();
    const running = releases.current();
    if (!running)
      throw new GitopsError(
        'no-release-yet',
        'nothing runs on this device yet',
        'a lease needs an applied release: sync first',
      );
    const rt = this.runtime(running);
    const context = rt?.runtime.context;
    const table = specTable(context?.specs ?? []);
    const nowMs = this.now();
    const at = new Date(nowMs).toISOString();
    const events: LeaseEvent[] =
      requests === 'expire'
        ? [{ type: 'expire', at }]
        : requests.map((r) => this.eventOf(r, running, context, table.at(r.path), at, trigger));
    let next = this.current;
    const dropped: DroppedLease[] = [];
    const changes: ChangeRecord[] = [];
    /** Sets that only renew a lease (same owner, path and value): saved, not journaled. */
    const renewals = new Set<LeaseEvent>();
    for (const event of events) {
      const owner = event.type === 'set' ? event.lease.owner : event.type === 'clear' ? event.owner : undefined;
      const ctx: ReplayContext = { specs: () => (p) => table.at(p), policy: this.policy(context, owner) };
      const out = applyLeaseEvent(next, event, ctx);
      if (out.refused.length > 0) throw this.refused(refusalOf(out.refused), event, trigger);
      if (event.type === 'clear' && out.dropped.length === 0)
        throw this.refused(
          new GitopsError(
            'lease-not-found',
            `no ${event.owner} lease on ${event.path}`,
            'gitops agent tune list shows the leases held',
          ),
          event,
          trigger,
        );
      const change = changeOf(next, event, out);
      if (change && owner !== 'governor') {
        // the governor's budget is its own max_transitions_per_hour: a thermal step is never refused
        const spec = table.at(change.path)!;
        const budget = withinBudget([...this.changes, ...changes], spec, nowMs);
        if (!budget.allowed)
          throw this.refused(
            new GitopsError(
              'lease-budget',
              `${change.path} changed ${budget.used} times in the last hour; at most ${budget.limit} are allowed`,
              budget.retryAt ? `try again after ${budget.retryAt}, or change it by a commit` : 'change it by a commit',
            ),
            event,
            trigger,
          );
      }
      if (change) changes.push(change);
      else if (event.type === 'set') renewals.add(event);
      dropped.push(...out.dropped);
      next = out.state;
    }
    const signed = releases.config(running);
    const before = effectiveConfig(signed, table, this.current.leases, this.deliveredAt);
    const after = effectiveConfig(signed, table, next.leases, nowMs);
    const commitNext = (): void => {
      this.current = next;
      this.deliveredAt = nowMs;
      this.changes.push(...changes);
      this.save();
    };
    const answers = (components: string[], outcome: LeaseAnswer['outcome']): LeaseAnswer[] =>
      events.flatMap((e) => {
        if (e.type !== 'set' && e.type !== 'clear') return [];
        const path = e.type === 'set' ? e.lease.path : e.path;
        const ev = after.values.find((v) => v.path === path);
        return [
          {
            outcome,
            path,
            owner: e.type === 'set' ? e.lease.owner : e.owner,
            lease: e.type === 'set' ? e.lease : null,
            value: ev?.value ?? getAt(signed, keySegments(path)) ?? null,
            winner: ev?.winner ?? 'signed',
            components,
            ms: clock.monotonic() - started,
          },
        ];
      });
    const plan = planChanges(before.config, after.config);
    const expiry = requests === 'expire';
    if (!expiry && plan.components.length > 0 && rt) {
      const problems = checkEffective(rt.schemas(), after.config, context!, await this.d.hardwareProfile());
      if (problems.length > 0)
        throw this.refused(
          new GitopsError(
            'lease-invalid',
            `with this lease the configuration is not valid for this device: ${problems.map((p) => `${p.path ? `${p.path}: ` : ''}${p.message}`).join('; ')}`,
            'choose a value the configuration allows here (gitops validate shows the rules)',
            { diagnostics: problems },
          ),
          events[0]!,
          trigger,
        );
    }
    const targets = targetsOf(after.config, plan.components);
    let verdict: { ok: true } | { ok: false; code: string; reason: string } = { ok: true };
    if (targets.length > 0) {
      const generation = this.d.state.nextGeneration();
      if (!expiry)
        for (const t of targets) {
          const v = await this.d.delivery.propose(t, proposal(running, after.config, t, generation));
          if (!v.ok)
            throw this.refused(
              new GitopsError(
                'lease-vetoed',
                `${t.name} refused the configuration with the lease: ${this.d.redact(v.reason)}`,
                'the component says why',
              ),
              events[0]!,
              trigger,
            );
        }
      const delivered = await this.d.switchover.deliver(targets, running, after.config);
      verdict = delivered.verdict.ok
        ? await this.d.switchover.bake(targets, delivered.generation, bakeMsOf(targets, this.d.bakeSeconds))
        : delivered.verdict;
    }
    const ms = Math.round(clock.monotonic() - started);
    // A governor step that only makes fields more conservative is kept even when a component is
    // still unhealthy after it: going back to the less safe values could not help (under heavy
    // load the next step may). Only the governor's own budget and intervals limit it.
    const mitigation =
      !expiry &&
      events.every((e) => e.type === 'set' && e.lease.owner === 'governor') &&
      after.values.every((v) => {
        const spec = table.at(v.path);
        return !spec || atLeastAsSafe(spec, v.value, getAt(before.config, keySegments(v.path)));
      });
    if (!verdict.ok && !expiry && !mitigation) {
      const back = await this.d.switchover.deliver(targets, running, before.config);
      const reason = this.d.redact(verdict.reason);
      for (const e of events)
        journal.record({
          event: 'lease-rolled-back',
          ...this.describe(e),
          trigger,
          code: verdict.code,
          reason,
          restored: back.verdict.ok
            ? 'the configuration before it delivered again'
            : `delivered again but ${this.d.redact(back.verdict.reason)}`,
          ms,
        });
      this.d.log(`rolled back a lease change: ${reason}`);
      throw new GitopsError(
        'lease-rolled-back',
        `the lease made ${reason}; the configuration before it runs again`,
        'the journal has the details',
      );
    }
    commitNext();
    for (const e of events)
      if ((e.type === 'set' || e.type === 'clear') && !renewals.has(e))
        journal.record({
          event: e.type === 'set' ? 'lease-set' : 'lease-cleared',
          ...this.describe(e),
          trigger,
          components: plan.components,
          ...(verdict.ok ? {} : { health: this.d.redact(verdict.reason) }),
          ms,
        });
    this.journalDropped(
      dropped.filter((x) => x.why[0]?.code === 'lease-expired'),
      trigger,
    );
    if (!verdict.ok)
      this.d.log(`${expiry ? 'after an expiry' : 'kept a governor step although'} ${this.d.redact(verdict.reason)}`);
    return answers(plan.components, plan.components.length > 0 ? 'applied' : 'unchanged');
  }

  private eventOf(
    r: LeaseRequest,
    commit: string,
    context: RuntimeContext | undefined,
    spec: TunableSpec | undefined,
    at: string,
    trigger: string,
  ): LeaseEvent {
    const refuse = (e: GitopsError): GitopsError => {
      const { kind: _, ...asked } = r;
      this.d.journal.record({
        event: 'lease-refused',
        ...asked,
        trigger,
        code: e.code,
        reason: this.d.redact(e.message),
      });
      return e;
    };
    if (r.owner === 'operator' && policyOf(context?.environment).operator_leases.allowed === false)
      throw refuse(
        new GitopsError(
          'lease-policy',
          `the ${context?.environment.name ?? 'environment'} policy forbids operator leases (policy.operator_leases.allowed)`,
          'change the value by a pull request',
        ),
      );
    if (r.kind === 'clear') return { type: 'clear', at, path: r.path, owner: r.owner, actor: r.actor };
    if (!spec)
      throw refuse(
        new GitopsError(
          'not-tunable',
          `${r.path} is not tunable at runtime on this device`,
          `tunable here: ${(context?.specs ?? []).map((s) => s.path).join(', ') || '(none)'}`,
        ),
      );
    const lease = newLease(
      spec,
      {
        owner: r.owner,
        actor: r.actor,
        reason: r.reason,
        value: r.value,
        commit,
        ...(r.ttlSeconds !== undefined ? { ttlSeconds: r.ttlSeconds } : {}),
      },
      at,
    );
    return { type: 'set', at, lease };
  }

  private describe(e: LeaseEvent): Record<string, unknown> {
    if (e.type === 'set')
      return {
        path: e.lease.path,
        owner: e.lease.owner,
        actor: e.lease.actor,
        reason: this.d.redact(e.lease.reason),
        value: e.lease.value,
        start: e.lease.start,
        expires: e.lease.expires,
        commit: e.lease.commit,
      };
    if (e.type === 'clear') return { path: e.path, owner: e.owner, actor: e.actor };
    return {};
  }

  /** Journals a refused request and gives the error to throw. */
  private refused(error: GitopsError, event: LeaseEvent, trigger: string): GitopsError {
    this.d.journal.record({
      event: 'lease-refused',
      ...this.describe(event),
      trigger,
      code: error.code,
      reason: this.d.redact(error.message),
    });
    return error;
  }
}
