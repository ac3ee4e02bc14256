// The agent: for each candidate (a verified commit from the remote, or an edit of a working tree
// in watch mode) it renders this device's configuration, decrypts its secrets, validates it
// against the live hardware, plans which components are affected, writes the release, asks
// those components to accept it, switches `current` atomically, delivers, watches their health
// for the bake time, and records the release as last good; on any failure it switches back to
// the last good release, delivers it again, and remembers the commit as bad (never retried).

import type { Proposal } from '../client/protocol.js';
import { planChanges } from '../core/agent/plan.js';
import type { Component, HardwareProfile } from '../core/config-types.js';
import { GitopsError } from '../core/errors.js';
import { formatText } from '../core/format-diagnostics.js';
import { isObject } from '../core/paths.js';
import type { JsonObject } from '../core/paths.js';
import { policyOf } from '../core/policy.js';
import type { RepoFiles } from '../core/repo-layout.js';
import { openRepository } from '../core/repository.js';
import type { Identities } from '../core/sops/keys.js';
import { validateTarget } from '../core/validate.js';
import { decryptEnvironmentSecrets } from '../io/environment-secrets.js';
import { Delivery } from '../io/delivery.js';
import type { ComponentTarget } from '../io/delivery.js';
import { redact } from '../io/redactor.js';
import { ReleaseStore } from '../io/release-store.js';
import { fileSchemaCache } from '../io/schema-cache.js';
import type { JournalEntry } from '../io/release-store.js';
import { join } from 'node:path';

export interface CandidateInfo {
  commit: string;
  subject?: string;
  signer?: string | null;
  trigger: string;
  /** Durations of earlier steps (fetch, verify), carried into the journal. */
  steps?: Record<string, number>;
}

export interface AgentState {
  applied: string | null;
  last_good: string | null;
  bad: string[];
  generation: number;
  last_sync: { time: string; trigger: string; result: string } | null;
  last_error: { time: string; commit: string | null; reason: string; code: string } | null;
  applied_at: string | null;
}

export interface AgentOptions {
  environment: string;
  device: string;
  stateDir: string;
  identities: Identities;
  hardwareProfile: () => Promise<HardwareProfile>;
  /** Seconds of bake; overrides the components' bake_seconds when set (tests, watch mode). */
  bakeSeconds?: number;
  watchMode?: boolean;
  log?: (line: string) => void;
  now?: () => Date;
}

export type CycleResult = { outcome: 'applied' | 'unchanged' | 'refused' | 'rolled-back'; commit: string; reason?: string; components?: string[]; ms: number };

const INITIAL: AgentState = { applied: null, last_good: null, bad: [], generation: 0, last_sync: null, last_error: null, applied_at: null };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class Refusal extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

export class Agent {
  readonly store: ReleaseStore;
  readonly delivery: Delivery;
  state: AgentState;
  private readonly log: (line: string) => void;
  private readonly now: () => Date;
  /** Compiled validators kept in the state directory: no schema compiler in memory after the first run. */
  private readonly schemaCache: ReturnType<typeof fileSchemaCache>;

  constructor(readonly options: AgentOptions) {
    this.store = new ReleaseStore(options.stateDir);
    this.delivery = new Delivery(join(options.stateDir, 'components'));
    this.state = { ...INITIAL, ...this.store.readState<Partial<AgentState>>({}) };
    this.schemaCache = fileSchemaCache(join(options.stateDir, 'cache'));
    this.log = options.log ?? (() => undefined);
    this.now = options.now ?? (() => new Date());
  }

  private journal(entry: { event: string; [key: string]: unknown }): void {
    this.store.appendJournal({ time: this.now().toISOString(), ...entry } as JournalEntry);
  }

  private save(): void {
    this.store.writeState(this.state);
  }

  /** At start: clean half-written releases, make current, last_good and the components agree. */
  async recover(): Promise<void> {
    const { current, removed } = this.store.recover();
    if (current && this.state.last_good !== current) {
      // A crash after switching but before the bake ended: the last good release wins.
      const back = this.state.last_good && this.store.hasRelease(this.state.last_good) ? this.state.last_good : current;
      if (back !== current) this.store.switchCurrent(back);
      this.journal({ event: 'recovered', commit: back, found: current, removed, reason: `found current=${current.slice(0, 12)}, last_good=${this.state.last_good?.slice(0, 12) ?? 'none'}; running ${back.slice(0, 12)}` });
      this.state.applied = back;
      this.state.last_good = back;
      this.save();
    } else if (removed.length > 0) {
      this.journal({ event: 'recovered', commit: current, removed, reason: `removed ${removed.length} half-written release(s)` });
    }
    const running = this.store.current();
    if (running) {
      const config = JSON.parse(this.store.readRelease(running, 'config.json')) as JsonObject;
      // Deliver the running release again so that every component runs exactly it.
      const targets = this.targetsOf(config, Object.keys(isObject(config.components) ? config.components : {}));
      const result = await this.deliver(targets, running, config);
      if (!result.ok) this.log(`warning: after restart, ${result.reason}`);
    }
  }

  private targetsOf(config: JsonObject, names: readonly string[]): ComponentTarget[] {
    const components = (isObject(config.components) ? config.components : {}) as unknown as Record<string, ComponentTarget['spec']>;
    return names.filter((n) => components[n]).map((name) => ({ name, spec: components[name]! }));
  }

  private proposal(commit: string, config: JsonObject, t: ComponentTarget, generation: number): Proposal {
    const sections = Object.fromEntries((t.spec as Component).sections.map((s) => [s, config[s] ?? null]));
    return { generation, commit, sections };
  }

  private async deliver(targets: readonly ComponentTarget[], commit: string, config: JsonObject): Promise<{ ok: boolean; reason?: string; generation: number }> {
    const generation = ++this.state.generation;
    this.save();
    for (const t of targets) {
      const r = await this.delivery.apply(t, this.proposal(commit, config, t, generation));
      if (!r.ok) return { ok: false, reason: r.reason!, generation };
    }
    return { ok: true, generation };
  }

  /** Health of every target during `bakeMs`; the first bad verdict ends it. */
  private async bake(targets: readonly ComponentTarget[], generation: number, bakeMs: number): Promise<{ ok: boolean; reason?: string }> {
    const deadline = Date.now() + bakeMs;
    const settle = Date.now() + Math.max(2000, bakeMs); // a component gets this long to report at all
    const reported = new Set<string>();
    for (;;) {
      for (const t of targets) {
        const h = await this.delivery.health(t, generation);
        if (h.ok) reported.add(t.name);
        else if (reported.has(t.name) || Date.now() > settle || !/not reported/.test(h.reason ?? '')) return { ok: false, reason: h.reason! };
      }
      if (Date.now() >= deadline && reported.size === targets.length) return { ok: true };
      await sleep(Math.min(100, Math.max(10, deadline - Date.now())));
    }
  }

  private refuse(info: CandidateInfo, code: string, reason: string, started: number, markBad: boolean): CycleResult {
    const safe = redact(reason);
    this.journal({ event: 'refused', commit: info.commit, signer: info.signer ?? null, subject: info.subject ?? null, trigger: info.trigger, code, reason: safe, steps: info.steps ?? {} });
    this.state.last_error = { time: this.now().toISOString(), commit: info.commit, reason: safe, code };
    if (markBad && !this.state.bad.includes(info.commit)) this.state.bad.push(info.commit);
    this.save();
    this.log(`refused ${info.commit.slice(0, 12)}: ${safe}`);
    return { outcome: 'refused', commit: info.commit, reason: safe, ms: performance.now() - started };
  }

  /** A candidate refused before its configuration was looked at (signatures, history). */
  refuseCandidate(info: CandidateInfo, code: string, reason: string, markBad: boolean): CycleResult {
    return this.refuse(info, code, reason, performance.now(), markBad);
  }

  /** Renders, validates, plans and applies the configuration in `files` for this device. */
  async apply(files: RepoFiles, info: CandidateInfo): Promise<CycleResult> {
    const started = performance.now();
    const steps: Record<string, number> = { ...(info.steps ?? {}) };
    const step = async <T>(name: string, fn: () => Promise<T> | T): Promise<T> => {
      const t0 = performance.now();
      try {
        return await fn();
      } finally {
        steps[name] = Math.round((performance.now() - t0) * 10) / 10;
      }
    };
    const { environment, device } = this.options;
    try {
      const repo = openRepository(files, this.schemaCache);
      if (this.options.watchMode) {
        const envDoc = repo.document(`environments/${environment}/environment.yaml`);
        const policy = policyOf(envDoc?.value && isObject(envDoc.value.policy) ? { name: environment, tier: String(envDoc.value.tier), policy: envDoc.value.policy } : undefined);
        if (!policy.allow_watch_mode) throw new Refusal('policy', `the ${environment} policy does not allow watch mode (policy.allow_watch_mode)`);
      }
      const secrets = await step('decrypt', async () => {
        try {
          return await decryptEnvironmentSecrets(files, environment, this.options.identities);
        } catch (e) {
          throw new Refusal('secrets', e instanceof GitopsError ? e.message : String(e));
        }
      });
      const profile = await step('probe', () => this.options.hardwareProfile());
      const report = await step('validate', () => validateTarget(repo, { environment, device }, { env: process.env, ...(secrets ? { secrets } : {}), hardwareProfile: { profile, source: 'this device' } }));
      const errors = [...repo.schemaDiagnostics, ...report.diagnostics].filter((d) => d.severity === 'error');
      if (errors.length > 0) throw new Refusal(errors.some((d) => d.code.startsWith('hardware')) ? 'hardware' : 'invalid', `the configuration is not valid for ${device}:\n${formatText(errors.slice(0, 5))}`);
      const config = report.result.config;
      const previous = this.store.current();
      const before = previous ? (JSON.parse(this.store.readRelease(previous, 'config.json')) as JsonObject) : undefined;
      const plan = planChanges(before, config);
      if (previous && plan.components.length === 0 && plan.changedSections.length === 0) {
        this.state.applied = info.commit;
        this.state.last_sync = { time: this.now().toISOString(), trigger: info.trigger, result: 'unchanged' };
        this.save();
        this.journal({ event: 'unchanged', commit: info.commit, trigger: info.trigger, reason: 'the rendered configuration of this device did not change' });
        return { outcome: 'unchanged', commit: info.commit, components: [], ms: performance.now() - started };
      }
      const targets = this.targetsOf(config, plan.components);
      const releaseId = info.commit;
      await step('write', () => this.store.writeRelease(releaseId, { 'config.json': JSON.stringify(config, null, 2) }, { commit: info.commit, subject: info.subject ?? null, signer: info.signer ?? null, written_at: this.now().toISOString(), plan }));
      // Generations only grow, across crashes too: a component never mistakes an old verdict or report for a new one.
      const generation = ++this.state.generation;
      this.save();
      await step('accept', async () => {
        for (const t of targets) {
          const v = await this.delivery.propose(t, this.proposal(info.commit, config, t, generation));
          // a component that does not answer is not the commit's fault: refused now, tried again later
          if (!v.ok) throw new Refusal(/did not (judge|answer)/.test(v.reason ?? '') ? 'component-unavailable' : 'veto', v.reason!);
        }
      });
      this.store.switchCurrent(releaseId);
      const delivered = await step('deliver', () => this.deliver(targets, info.commit, config));
      const bakeMs = 1000 * (this.options.bakeSeconds ?? Math.max(0, ...targets.map((t) => t.spec.health?.bake_seconds ?? 10)));
      const health = delivered.ok ? await step('bake', () => this.bake(targets, delivered.generation, bakeMs)) : delivered;
      if (!health.ok) return await this.rollback(info, previous, before, targets, health.reason!, steps, started);
      this.state.applied = info.commit;
      this.state.last_good = info.commit;
      this.state.applied_at = this.now().toISOString();
      this.state.last_error = null;
      this.state.last_sync = { time: this.now().toISOString(), trigger: info.trigger, result: 'applied' };
      this.save();
      const ms = performance.now() - started;
      this.journal({ event: 'applied', commit: info.commit, signer: info.signer ?? null, subject: info.subject ?? null, trigger: info.trigger, sections: plan.changedSections, components: plan.components, steps, ms: Math.round(ms) });
      this.log(`applied ${info.commit.slice(0, 12)}${info.subject ? ` "${info.subject}"` : ''}: ${plan.changedSections.join(', ') || 'no section'} changed; reconfigured ${plan.components.join(', ') || 'nothing'} (${Math.round(ms)} ms)`);
      return { outcome: 'applied', commit: info.commit, components: plan.components, ms };
    } catch (e) {
      if (e instanceof Refusal) return this.refuse({ ...info, steps }, e.code, e.message, started, e.code !== 'component-unavailable');
      const message = e instanceof GitopsError ? e.message : `internal error: ${(e as Error).message}`;
      return this.refuse({ ...info, steps }, e instanceof GitopsError ? e.code : 'internal', message, started, false);
    }
  }

  private async rollback(info: CandidateInfo, previous: string | undefined, before: JsonObject | undefined, targets: ComponentTarget[], reason: string, steps: Record<string, number>, started: number): Promise<CycleResult> {
    const t0 = performance.now();
    let restored = 'nothing to return to (first release)';
    if (previous && before) {
      this.store.switchCurrent(previous);
      const back = this.targetsOf(before, targets.map((t) => t.name));
      const redelivered = await this.deliver(back, previous, before);
      const healthy = redelivered.ok ? await this.bake(back, redelivered.generation, 0) : redelivered;
      restored = healthy.ok ? `${previous.slice(0, 12)} delivered again and healthy` : `${previous.slice(0, 12)} delivered again but ${healthy.reason}`;
    }
    steps.rollback = Math.round((performance.now() - t0) * 10) / 10;
    const safe = redact(reason);
    if (!this.state.bad.includes(info.commit)) this.state.bad.push(info.commit);
    this.state.last_error = { time: this.now().toISOString(), commit: info.commit, reason: safe, code: 'health' };
    this.state.last_sync = { time: this.now().toISOString(), trigger: info.trigger, result: 'rolled-back' };
    this.save();
    this.journal({ event: 'rolled-back', commit: info.commit, signer: info.signer ?? null, subject: info.subject ?? null, trigger: info.trigger, reason: safe, restored, steps });
    this.log(`rolled back ${info.commit.slice(0, 12)}: ${safe}; ${restored}`);
    return { outcome: 'rolled-back', commit: info.commit, reason: safe, ms: performance.now() - started };
  }
}
