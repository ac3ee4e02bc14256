// The agent: for each candidate (a verified commit from the remote, or an edit of a working tree
// in watch mode) it renders this device's configuration, decrypts its secrets, validates it
// against the live hardware, plans which components are affected, writes the release, asks
// those components to accept it, switches `current` atomically, delivers, watches their health
// for the bake time, and records the release as last good; on any failure it switches back to
// the last good release, delivers it again, and remembers the commit as bad (never retried).

import type { Proposal } from '../core/contracts/protocol.js';
import { planChanges } from '../core/change/plan.js';
import type { Component, HardwareProfile } from '../core/config/types.js';
import { GitopsError } from '../core/errors.js';
import { formatText } from '../core/format/diagnostics.js';
import { compareText, isObject } from '../core/json/value.js';
import type { JsonObject } from '../core/json/value.js';
import { policyOf } from '../core/validate/policy.js';
import { environmentFile } from '../core/repo/layout.js';
import type { RepoFiles } from '../core/repo/layout.js';
import { openRepository } from '../core/repo/repository.js';
import type { Identities } from '../core/sops/keys.js';
import { validateFor } from '../core/validate/validate.js';
import type { ValidationReport } from '../core/validate/validate.js';
import { checkState, INITIAL_STATE } from '../core/contracts/agent-state.js';
import type { AgentState, LocatedFinding } from '../core/contracts/agent-state.js';
import type { Diagnostic } from '../core/validate/diagnostics.js';
import { decryptEnvironmentSecrets } from '../io/environment-secrets.js';
import { Delivery } from '../io/delivery.js';
import type { ComponentTarget } from '../io/delivery.js';
import { redact } from '../io/redactor.js';
import { ReleaseStore } from '../io/release-store.js';
import { fileSchemaCache } from '../io/schema-cache.js';
import type { JournalEntry } from '../io/release-store.js';
import { join } from 'node:path';
import { redactSecrets } from '../core/config/render.js';
import type { EnvironmentInfo } from '../core/config/render.js';
import { AgentEvents } from './events.js';
import { systemClock } from '../io/clock.js';
import type { Clock } from '../io/clock.js';

export interface CandidateInfo {
  commit: string;
  subject?: string;
  signer?: string | null;
  /** Committer time of the commit (ISO 8601), when it is a commit. */
  committed_at?: string;
  trigger: string;
  /** Durations of earlier steps (fetch, verify), carried into the journal. */
  steps?: Record<string, number>;
}

export type { AgentState } from '../core/contracts/agent-state.js';

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
  /** Wall time and randomness (the composition root passes the system's). */
  clock?: Clock;
  /** The process environment, for the x-env overrides the policy allows. */
  env?: Readonly<Record<string, string | undefined>>;
}

export type CycleResult = {
  outcome: 'applied' | 'unchanged' | 'refused' | 'rolled-back';
  commit: string;
  reason?: string;
  components?: string[];
  ms: number;
};

/** A candidate during whose apply the agent died this many times is marked bad at the next start. */
export const CRASH_ATTEMPTS = 2;
/** Good releases kept on disk to return to; older ones are removed. */
export const KEEP_RELEASES = 20;
/** The release's configuration with every secret replaced by <redacted>: what the API shows. */
export const REDACTED_VIEW = 'config.redacted.json';
/** What an operator may call a release; nothing else reaches the release store. */
const RELEASE_NAME = /^(current|last_good|previous|[0-9a-f]{7,40}|tree-[0-9a-f]{7,16})$/;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class Refusal extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly diagnostics: readonly Diagnostic[] = [],
  ) {
    super(message);
  }
}

/** Where a refused configuration is wrong, as the journal and the API keep it (the first few). */
function locatedFindings(diagnostics: readonly Diagnostic[]): LocatedFinding[] {
  return diagnostics.slice(0, 20).map((d) => ({
    code: d.code,
    ...(d.file ? { file: d.file } : {}),
    ...(d.line ? { line: d.line } : {}),
    ...(d.column ? { column: d.column } : {}),
    ...(d.path ? { path: d.path } : {}),
  }));
}

export class Agent {
  readonly store: ReleaseStore;
  readonly delivery: Delivery;
  readonly clock: Clock;
  readonly events: AgentEvents;
  state: AgentState;
  /** Each running component's health as last checked, and since when. */
  readonly health = new Map<string, { healthy: boolean; reason?: string; code?: string; since: string }>();
  private readonly log: (line: string) => void;
  private readonly now: () => Date;
  /** Compiled validators kept in the state directory: no schema compiler in memory after the first run. */
  private readonly schemaCache: ReturnType<typeof fileSchemaCache>;
  /** Release manifests as read from disk (the status endpoint asks for two on every request). */
  private readonly manifests = new Map<string, ReleaseManifest>();

  constructor(readonly options: AgentOptions) {
    this.store = new ReleaseStore(options.stateDir);
    this.delivery = new Delivery(join(options.stateDir, 'components'));
    this.log = options.log ?? (() => undefined);
    this.clock = options.clock ?? systemClock;
    this.now = () => this.clock.now();
    this.events = new AgentEvents(this.now);
    this.state = this.loadState();
    this.schemaCache = fileSchemaCache(join(options.stateDir, 'cache'));
  }

  /**
   * state.json as saved, or, when it is not an agent state (hand-edited, damaged), rebuilt from
   * what is on disk: the running release becomes applied and last good, generations continue
   * above every one the components have seen. The bad file is kept beside it and journaled.
   */
  private loadState(): AgentState {
    const read = this.store.readStateFile();
    const checked = 'error' in read ? { problem: read.error } : checkState(read.value);
    if ('state' in checked) return checked.state;
    const aside = this.store.setStateAside(this.now());
    const running = this.store.current() ?? null;
    const state: AgentState = {
      ...structuredClone(INITIAL_STATE),
      applied: running,
      last_good: running,
      good: running ? [running] : [],
      generation: this.delivery.highestGeneration(),
    };
    this.store.writeState(state);
    this.journal({
      event: 'recovered',
      commit: running,
      reason: `state.json was not an agent state (${checked.problem}); kept as ${aside} and rebuilt from the release store${running ? `: running ${running.slice(0, 12)}` : ''}`,
    });
    this.log(`warning: state.json was not an agent state (${checked.problem}); kept as ${aside}, rebuilt`);
    return state;
  }

  /** Appends to the journal and tells the event stream and the metrics. */
  private journal(entry: { event: string; [key: string]: unknown }): void {
    const line = { time: this.now().toISOString(), ...entry } as JournalEntry;
    this.store.appendJournal(line);
    const { event, ...data } = line;
    this.events.emit(event, data);
  }

  private markGood(commit: string): void {
    this.state.applied = commit;
    this.state.last_good = commit;
    this.state.good = [...this.state.good.filter((c) => c !== commit), commit].slice(-KEEP_RELEASES);
    this.state.applied_at = this.now().toISOString();
    this.state.last_error = null;
  }

  private save(): void {
    this.store.writeState(this.state);
  }

  /** At start: clean half-written releases, make current, last_good and the components agree. */
  async recover(): Promise<void> {
    const crashed = this.state.in_progress;
    if (crashed && crashed.attempts >= CRASH_ATTEMPTS) {
      // the process died every time it applied this candidate: it is the candidate's fault
      this.state.in_progress = null;
      this.refuse(
        { commit: crashed.commit, trigger: 'restart' },
        'crash-loop',
        `the agent stopped ${crashed.attempts} times while applying ${crashed.commit.slice(0, 12)}; it is marked bad and not tried again`,
        performance.now(),
        true,
      );
    }
    const { current, removed } = this.store.recover();
    if (current && this.state.last_good !== current) {
      // A crash after switching but before the bake ended: the last good release wins.
      const back = this.state.last_good && this.store.hasRelease(this.state.last_good) ? this.state.last_good : current;
      if (back !== current) this.store.switchCurrent(back);
      this.journal({
        event: 'recovered',
        commit: back,
        found: current,
        removed,
        reason: `found current=${current.slice(0, 12)}, last_good=${this.state.last_good?.slice(0, 12) ?? 'none'}; running ${back.slice(0, 12)}`,
      });
      this.state.applied = back;
      this.state.last_good = back;
      this.save();
    } else if (removed.length > 0) {
      this.journal({
        event: 'recovered',
        commit: current,
        removed,
        reason: `removed ${removed.length} half-written release(s)`,
      });
    }
    if (!this.store.current() && this.state.last_good && this.store.hasRelease(this.state.last_good)) {
      // the current link was deleted (by hand, a bad disk): last good is what ran
      this.store.switchCurrent(this.state.last_good);
      this.journal({
        event: 'recovered',
        commit: this.state.last_good,
        reason: `the current link was missing; repaired to last good ${this.state.last_good.slice(0, 12)}`,
      });
    }
    const running = this.store.current();
    if (running) {
      const config = this.releaseConfig(running);
      // Deliver the running release again so that every component runs exactly it.
      const targets = this.targetsOf(config, Object.keys(isObject(config.components) ? config.components : {}));
      const result = await this.deliver(targets, running, config);
      if (!result.ok) this.log(`warning: after restart, ${result.reason}`);
    }
  }

  private targetsOf(config: JsonObject, names: readonly string[]): ComponentTarget[] {
    const components = (isObject(config.components) ? config.components : {}) as unknown as Record<
      string,
      ComponentTarget['spec']
    >;
    return names.filter((n) => components[n]).map((name) => ({ name, spec: components[name]! }));
  }

  private proposal(commit: string, config: JsonObject, t: ComponentTarget, generation: number): Proposal {
    const sections = Object.fromEntries((t.spec as Component).sections.map((s) => [s, config[s] ?? null]));
    return { generation, commit, sections };
  }

  private async deliver(
    targets: readonly ComponentTarget[],
    commit: string,
    config: JsonObject,
  ): Promise<{ ok: boolean; reason?: string; generation: number }> {
    const generation = ++this.state.generation;
    this.save();
    for (const t of targets) {
      const r = await this.delivery.apply(t, this.proposal(commit, config, t, generation));
      if (!r.ok) return { ok: false, reason: r.reason!, generation };
    }
    return { ok: true, generation };
  }

  /** Health of every target during `bakeMs`; the first bad verdict ends it. */
  private async bake(
    targets: readonly ComponentTarget[],
    generation: number,
    bakeMs: number,
  ): Promise<{ ok: boolean; reason?: string }> {
    const deadline = performance.now() + bakeMs;
    const settle = performance.now() + Math.max(2000, bakeMs); // a component gets this long to report at all
    const reported = new Set<string>();
    for (;;) {
      for (const t of targets) {
        const h = await this.delivery.health(t, generation);
        if (h.ok) reported.add(t.name);
        else if (reported.has(t.name) || performance.now() > settle || h.code === undefined)
          return { ok: false, reason: h.reason! };
      }
      if (performance.now() >= deadline && reported.size === targets.length) return { ok: true };
      await sleep(Math.min(100, Math.max(10, deadline - performance.now())));
    }
  }

  private refuse(
    info: CandidateInfo,
    code: string,
    reason: string,
    started: number,
    markBad: boolean,
    diagnostics: readonly Diagnostic[] = [],
  ): CycleResult {
    const safe = redact(reason);
    const findings = locatedFindings(diagnostics);
    const prior = this.state.last_error;
    // the same candidate refused again for the same reason (a rescan, a retry) is said once
    const repeated = prior?.commit === info.commit && prior.code === code && prior.reason === safe;
    // the state first: whoever hears the event and asks for the status sees this refusal
    this.state.last_error = {
      time: repeated ? prior.time : this.now().toISOString(),
      commit: info.commit,
      reason: safe,
      code,
      ...(findings.length ? { diagnostics: findings } : {}),
    };
    if (markBad && !this.state.bad.includes(info.commit)) this.state.bad.push(info.commit);
    this.save();
    if (repeated) return { outcome: 'refused', commit: info.commit, reason: safe, ms: performance.now() - started };
    this.journal({
      event: 'refused',
      commit: info.commit,
      signer: info.signer ?? null,
      subject: info.subject ?? null,
      trigger: info.trigger,
      code,
      reason: safe,
      ...(findings.length ? { diagnostics: findings } : {}),
      steps: info.steps ?? {},
    });
    this.log(`refused ${info.commit.slice(0, 12)}: ${safe}`);
    return { outcome: 'refused', commit: info.commit, reason: safe, ms: performance.now() - started };
  }

  /** A candidate refused before its configuration was looked at (signatures, history). */
  refuseCandidate(info: CandidateInfo, code: string, reason: string, markBad: boolean): CycleResult {
    return this.refuse(info, code, reason, performance.now(), markBad);
  }

  /**
   * Renders this device's configuration from `files`, decrypts it and validates it against the
   * hardware with the same entry point as `gitops validate` (every document of the environment
   * and the base is checked, not only what this device reads); throws a Refusal.
   */
  private async prepare(
    files: RepoFiles,
    step: <T>(name: string, fn: () => Promise<T> | T) => Promise<T>,
  ): Promise<{ config: JsonObject; redacted: JsonObject }> {
    const { environment, device } = this.options;
    const repo = openRepository(files, this.schemaCache);
    const scope = { env: this.options.env ?? {} };
    const invalid = (report: ValidationReport): Refusal => {
      const errors = report.diagnostics.filter((d) => d.severity === 'error');
      return new Refusal(
        errors.some((d) => d.code.startsWith('hardware')) ? 'hardware' : 'invalid',
        `the configuration is not valid for ${device}:\n${formatText(errors.slice(0, 5))}`,
        errors,
      );
    };
    // watch mode's policy is checked before anything is decrypted, and again once validated; an
    // environment file that does not parse is no permission: validation refuses it where it is wrong
    const envDoc = repo.document(environmentFile(environment))?.value;
    const early = envDoc && {
      name: environment,
      tier: String(envDoc.tier),
      policy: isObject(envDoc.policy) ? envDoc.policy : {},
    };
    const checkWatchMode = (env: EnvironmentInfo | undefined): void => {
      if (this.options.watchMode === true && policyOf(env).allow_watch_mode !== true)
        throw new Refusal('policy', `the ${environment} policy does not allow watch mode (policy.allow_watch_mode)`);
    };
    if (early) checkWatchMode(early);
    const secrets = await step('decrypt', async () => {
      try {
        return await decryptEnvironmentSecrets(files, environment, this.options.identities);
      } catch (e) {
        // a secrets file that does not even parse is refused as CI refuses it
        const report = validateFor(repo, { environment, device }, scope);
        if (!report.valid) throw invalid(report);
        throw new Refusal('secrets', e instanceof GitopsError ? e.message : String(e));
      }
    });
    const profile = await step('probe', () => this.options.hardwareProfile());
    const report = await step('validate', () =>
      validateFor(
        repo,
        { environment, device },
        { ...scope, ...(secrets ? { secrets } : {}), hardwareProfile: { profile, source: 'this device' } },
      ),
    );
    if (!report.valid) throw invalid(report);
    const result = report.targets[0]!.result;
    checkWatchMode(result.environment);
    return { config: result.config, redacted: redactSecrets(repo, result.config) };
  }

  private writeRelease(info: CandidateInfo, config: JsonObject, redacted: JsonObject, plan: object): string {
    const views = {
      'config.json': JSON.stringify(config, null, 2),
      [REDACTED_VIEW]: JSON.stringify(redacted, null, 2),
    };
    this.manifests.delete(info.commit);
    return this.store.writeRelease(info.commit, views, {
      commit: info.commit,
      subject: info.subject ?? null,
      signer: info.signer ?? null,
      committed_at: info.committed_at ?? null,
      written_at: this.now().toISOString(),
      plan,
    });
  }

  /**
   * Offline restore: renders and validates a verified commit like an apply, writes its release
   * and makes it current and last good, without delivering; the agent delivers it when it starts.
   */
  async stage(files: RepoFiles, info: CandidateInfo, extra: Record<string, unknown> = {}): Promise<void> {
    const step = async <T>(_name: string, fn: () => Promise<T> | T): Promise<T> => fn();
    let prepared;
    try {
      prepared = await this.prepare(files, step);
    } catch (e) {
      if (e instanceof Refusal)
        throw new GitopsError(e.code, e.message, 'nothing was restored; the state directory is as it was');
      throw e;
    }
    this.writeRelease(info, prepared.config, prepared.redacted, planChanges(undefined, prepared.config));
    this.store.switchCurrent(info.commit);
    this.markGood(info.commit);
    this.state.last_sync = { time: this.now().toISOString(), trigger: info.trigger, result: 'restored' };
    this.save();
    this.journal({
      event: 'restored',
      commit: info.commit,
      subject: info.subject ?? null,
      signer: info.signer ?? null,
      trigger: info.trigger,
      ...extra,
    });
  }

  /**
   * Renders, validates, plans and applies the configuration in `files` for this device. The
   * candidate is written down first: if the process dies while applying it, the restart knows.
   */
  async apply(files: RepoFiles, info: CandidateInfo): Promise<CycleResult> {
    const prior = this.state.in_progress;
    this.state.in_progress = { commit: info.commit, attempts: prior?.commit === info.commit ? prior.attempts + 1 : 1 };
    this.save();
    try {
      return await this.applyCandidate(files, info);
    } finally {
      this.state.in_progress = null;
      this.save();
    }
  }

  private async applyCandidate(files: RepoFiles, info: CandidateInfo): Promise<CycleResult> {
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
    try {
      const { config, redacted } = await this.prepare(files, step);
      const previous = this.store.current();
      const before = previous ? this.releaseConfig(previous) : undefined;
      const plan = planChanges(before, config);
      if (previous && plan.components.length === 0 && plan.changedSections.length === 0) {
        this.state.applied = info.commit;
        this.state.last_sync = { time: this.now().toISOString(), trigger: info.trigger, result: 'unchanged' };
        this.save();
        this.journal({
          event: 'unchanged',
          commit: info.commit,
          trigger: info.trigger,
          reason: 'the rendered configuration of this device did not change',
        });
        return { outcome: 'unchanged', commit: info.commit, components: [], ms: performance.now() - started };
      }
      const targets = this.targetsOf(config, plan.components);
      const releaseId = info.commit;
      await step('write', () => this.writeRelease(info, config, redacted, plan));
      // Generations only grow, across crashes too: a component never mistakes an old verdict or report for a new one.
      const generation = ++this.state.generation;
      this.save();
      await step('accept', async () => {
        for (const t of targets) {
          const v = await this.delivery.propose(t, this.proposal(info.commit, config, t, generation));
          // a component that does not answer is not the commit's fault: refused now, tried again later
          if (!v.ok)
            throw new Refusal(
              /did not (judge|answer)/.test(v.reason ?? '') ? 'component-unavailable' : 'veto',
              v.reason!,
            );
        }
      });
      this.store.switchCurrent(releaseId);
      const delivered = await step('deliver', () => this.deliver(targets, info.commit, config));
      const health = delivered.ok
        ? await step('bake', () => this.bake(targets, delivered.generation, this.bakeMsOf(targets)))
        : delivered;
      if (!health.ok) return await this.rollback(info, previous, before, targets, health.reason!, steps, started);
      this.markGood(info.commit);
      for (const id of this.store.prune(new Set(this.state.good))) this.manifests.delete(id);
      this.state.last_sync = { time: this.now().toISOString(), trigger: info.trigger, result: 'applied' };
      this.save();
      const ms = performance.now() - started;
      this.journal({
        event: 'applied',
        commit: info.commit,
        signer: info.signer ?? null,
        subject: info.subject ?? null,
        trigger: info.trigger,
        sections: plan.changedSections,
        components: plan.components,
        steps,
        ms: Math.round(ms),
      });
      this.log(
        `applied ${info.commit.slice(0, 12)}${info.subject ? ` "${info.subject}"` : ''}: ${plan.changedSections.join(', ') || 'no section'} changed; reconfigured ${plan.components.join(', ') || 'nothing'} (${Math.round(ms)} ms)`,
      );
      return { outcome: 'applied', commit: info.commit, components: plan.components, ms };
    } catch (e) {
      if (e instanceof Refusal)
        return this.refuse(
          { ...info, steps },
          e.code,
          e.message,
          started,
          e.code !== 'component-unavailable',
          e.diagnostics,
        );
      const message = e instanceof GitopsError ? e.message : `internal error: ${(e as Error).message}`;
      return this.refuse({ ...info, steps }, e instanceof GitopsError ? e.code : 'internal', message, started, false);
    }
  }

  private async rollback(
    info: CandidateInfo,
    previous: string | undefined,
    before: JsonObject | undefined,
    targets: ComponentTarget[],
    reason: string,
    steps: Record<string, number>,
    started: number,
  ): Promise<CycleResult> {
    const t0 = performance.now();
    let restored = 'nothing to return to (first release)';
    if (previous && before) {
      this.store.switchCurrent(previous);
      const back = this.targetsOf(
        before,
        targets.map((t) => t.name),
      );
      const redelivered = await this.deliver(back, previous, before);
      const healthy = redelivered.ok ? await this.bake(back, redelivered.generation, 0) : redelivered;
      restored = healthy.ok
        ? `${previous.slice(0, 12)} delivered again and healthy`
        : `${previous.slice(0, 12)} delivered again but ${healthy.reason}`;
    }
    steps.rollback = Math.round((performance.now() - t0) * 10) / 10;
    const safe = redact(reason);
    if (!this.state.bad.includes(info.commit)) this.state.bad.push(info.commit);
    this.state.last_error = { time: this.now().toISOString(), commit: info.commit, reason: safe, code: 'health' };
    this.state.last_sync = { time: this.now().toISOString(), trigger: info.trigger, result: 'rolled-back' };
    this.save();
    this.journal({
      event: 'rolled-back',
      commit: info.commit,
      signer: info.signer ?? null,
      subject: info.subject ?? null,
      trigger: info.trigger,
      reason: safe,
      restored,
      steps,
    });
    this.log(`rolled back ${info.commit.slice(0, 12)}: ${safe}; ${restored}`);
    return { outcome: 'rolled-back', commit: info.commit, reason: safe, ms: performance.now() - started };
  }

  private bakeMsOf(targets: readonly ComponentTarget[]): number {
    return 1000 * (this.options.bakeSeconds ?? Math.max(0, ...targets.map((t) => t.spec.health?.bake_seconds ?? 10)));
  }

  releaseConfig(id: string, view: 'config.json' | typeof REDACTED_VIEW = 'config.json'): JsonObject {
    try {
      return JSON.parse(this.store.readRelease(id, view)) as JsonObject;
    } catch (e) {
      // releases written before the redacted view existed: the registered secrets are masked
      if (view === REDACTED_VIEW) return JSON.parse(redact(this.store.readRelease(id, 'config.json'))) as JsonObject;
      throw e;
    }
  }

  manifest(id: string): ReleaseManifest {
    let m = this.manifests.get(id);
    if (!m) this.manifests.set(id, (m = JSON.parse(this.store.readRelease(id, 'release.json')) as ReleaseManifest));
    return m;
  }

  /** What a release on disk is: its commit, subject, signer and times. */
  describeRelease(id: string): ReleaseDescription {
    const m = this.manifest(id);
    return {
      commit: id,
      subject: m.subject ?? null,
      signer: m.signer ?? null,
      committed_at: m.committed_at ?? null,
      written_at: m.written_at ?? null,
    };
  }

  /** Every release on disk, newest first, with what became of it. */
  releases(): ReleaseInfo[] {
    const current = this.store.current();
    return this.store
      .list()
      .map((id) => ({
        ...this.describeRelease(id),
        current: id === current,
        last_good: id === this.state.last_good,
        good: this.state.good.includes(id),
        bad: this.state.bad.includes(id),
      }))
      .sort((a, b) => compareText(String(b.written_at), String(a.written_at)));
  }

  /**
   * A release named by an operator: `current` (what runs), `last_good` (the release last found
   * good: what runs, unless a rollback failed or nothing has been found good since), `previous`
   * (the newest good release other than the running one: what a rollback returns to), or a
   * commit id or prefix of a release on disk.
   */
  findRelease(name: string): string {
    if (!RELEASE_NAME.test(name))
      throw new GitopsError(
        'bad-release',
        `"${name.slice(0, 80)}" is not a release name`,
        'current, last_good, previous, or a commit id (7 to 40 hex digits) from GET /api/v1/releases',
      );
    const current = this.store.current();
    if (name === 'current') {
      if (!current)
        throw new GitopsError(
          'release-unknown',
          'nothing has been applied yet',
          'wait for the first sync, or POST /api/v1/sync',
        );
      return current;
    }
    if (name === 'last_good') {
      const good = this.state.last_good;
      if (!good || !this.store.hasRelease(good))
        throw new GitopsError(
          'no-release',
          'no release has been found good on this device yet',
          'GET /api/v1/releases lists the releases on this device',
        );
      return good;
    }
    if (name === 'previous') {
      const back = [...this.state.good].reverse().find((c) => c !== current && this.store.hasRelease(c));
      if (!back)
        throw new GitopsError(
          'no-release',
          'there is no earlier good release to return to',
          'GET /api/v1/releases lists the releases on this device',
        );
      return back;
    }
    const known = this.store.list().filter((id) => id.startsWith(name));
    if (known.length > 1)
      throw new GitopsError(
        'bad-release',
        `"${name}" names ${known.length} releases`,
        'give more digits of the commit id',
      );
    if (!known[0])
      throw new GitopsError(
        'release-unknown',
        `no release ${name} on this device`,
        'GET /api/v1/releases lists the releases on this device',
      );
    return known[0];
  }

  /** The release an operator may roll back to: one that was applied and found good, not the running one. */
  private rollbackTarget(to: string): string {
    const id = this.findRelease(to);
    if (!this.state.good.includes(id))
      throw new GitopsError(
        'release-not-good',
        `release ${id.slice(0, 12)} was never applied successfully here (refused or rolled back), so it cannot be returned to`,
        'roll back to a release marked good in GET /api/v1/releases',
      );
    if (id === this.store.current())
      throw new GitopsError(
        'already-running',
        `release ${id.slice(0, 12)} is already running`,
        to === 'last_good'
          ? 'last_good is the running release; "previous" is the good release before it'
          : 'nothing to do',
      );
    return id;
  }

  /**
   * An operator's rollback to a release that was applied and found good before: its commit is
   * verified again (`verify`), delivered to the components it changes, baked, and recorded as
   * last good; the release it replaces is marked bad and never retried. If the target does not
   * become healthy, the release that ran before is delivered again.
   */
  async rollbackTo(
    to: string,
    request: { by: string; reason?: string; verify?: (commit: string) => Promise<string | undefined> },
  ): Promise<CycleResult> {
    const started = performance.now();
    const current = this.store.current();
    const target = this.rollbackTarget(to);
    const problem = request.verify ? await request.verify(target) : undefined;
    if (problem)
      throw new GitopsError(
        'release-unverified',
        `release ${target.slice(0, 12)} does not verify any more: ${problem}`,
        "only commits whose signature verifies against this device's trust root are applied",
      );
    const config = this.releaseConfig(target);
    const before = current ? this.releaseConfig(current) : undefined;
    const plan = planChanges(before, config);
    const targets = this.targetsOf(config, plan.components);
    this.store.switchCurrent(target);
    const delivered = await this.deliver(targets, target, config);
    const health = delivered.ok ? await this.bake(targets, delivered.generation, this.bakeMsOf(targets)) : delivered;
    const reason = redact(request.reason?.trim() || `rolled back by ${request.by}`);
    if (!health.ok) {
      if (current && before) {
        this.store.switchCurrent(current);
        await this.deliver(this.targetsOf(before, plan.components), current, before);
      }
      this.journal({
        event: 'rollback-failed',
        commit: current ?? null,
        to: target,
        trigger: 'operator',
        by: request.by,
        reason: redact(health.reason!),
      });
      throw new GitopsError(
        'rollback-failed',
        `release ${target.slice(0, 12)} did not become healthy: ${redact(health.reason!)}; ${current ? `${current.slice(0, 12)} runs again` : 'nothing ran before'}`,
        'the journal has the details',
      );
    }
    if (current) {
      if (!this.state.bad.includes(current)) this.state.bad.push(current);
      this.state.good = this.state.good.filter((c) => c !== current);
    }
    this.markGood(target);
    this.state.last_sync = { time: this.now().toISOString(), trigger: 'operator', result: 'rolled-back' };
    this.save();
    const ms = performance.now() - started;
    this.journal({
      event: 'rolled-back',
      commit: current ?? null,
      to: target,
      subject: this.manifest(target).subject ?? null,
      trigger: 'operator',
      by: request.by,
      reason,
      components: plan.components,
      ms: Math.round(ms),
    });
    this.log(`rolled back to ${target.slice(0, 12)} by ${request.by}: ${reason}`);
    return { outcome: 'rolled-back', commit: target, reason, components: plan.components, ms };
  }

  /** Checks each running component's health; a change is journaled and streamed. */
  async checkHealth(maxAgeMs = 15_000): Promise<void> {
    const running = this.store.current();
    if (!running) return;
    const config = this.releaseConfig(running);
    const targets = this.targetsOf(config, Object.keys(isObject(config.components) ? config.components : {}));
    for (const name of this.health.keys()) if (!targets.some((t) => t.name === name)) this.health.delete(name);
    for (const t of targets) {
      const h = await this.delivery.health(t, 0, maxAgeMs);
      const prev = this.health.get(t.name);
      // a component that stays silent is one state, however long ("for 20 s", "for 25 s", ...)
      const sameState =
        prev &&
        prev.healthy === h.ok &&
        (h.code === 'stale' ? prev.code === 'stale' : prev.reason === (h.reason ? redact(h.reason) : undefined));
      if (sameState) continue;
      this.health.set(t.name, {
        healthy: h.ok,
        ...(h.reason ? { reason: redact(h.reason) } : {}),
        ...(h.code ? { code: h.code } : {}),
        since: this.now().toISOString(),
      });
      if (prev || !h.ok)
        this.journal({
          event: 'health-changed',
          commit: running,
          component: t.name,
          healthy: h.ok,
          reason: h.reason ? redact(h.reason) : null,
        });
    }
  }
}

export interface ReleaseManifest {
  commit: string;
  subject?: string | null;
  signer?: string | null;
  committed_at?: string | null;
  written_at?: string;
}

export interface ReleaseDescription {
  commit: string;
  subject: string | null;
  signer: string | null;
  committed_at: string | null;
  written_at: string | null;
}

export interface ReleaseInfo extends ReleaseDescription {
  current: boolean;
  last_good: boolean;
  good: boolean;
  bad: boolean;
}
