// The agent: for each candidate (a verified commit from the remote, or an edit of a working tree
// in watch mode) it renders this device's configuration, decrypts its secrets, validates it
// against the live hardware, plans which components are affected, writes the release, asks
// those components to accept it, and hands it to the switchover (switch, deliver, bake); on any
// failure the switchover returns to the last good release and the commit is remembered as bad
// (never retried). Its collaborators are built once, in main.ts.

import { planChanges } from '../core/change/plan.js';
import type { HardwareProfile } from '../core/config/types.js';
import type { LocatedFinding } from '../core/contracts/agent-state.js';
import type { CycleAnswer } from '../core/contracts/api.js';
import { GitopsError } from '../core/errors.js';
import { commitLabel } from '../core/format/agent-answers.js';
import type { RepoFiles } from '../core/repo/layout.js';
import type { CompiledSchemaCache } from '../core/schema/schema-set.js';
import type { Identities } from '../core/sops/keys.js';
import type { Diagnostic } from '../core/validate/diagnostics.js';
import type { Clock } from '../io/clock.js';
import type { Delivery } from '../io/delivery.js';
import type { Redactor } from '../io/redactor.js';
import type { Journal } from './journal.js';
import type { RuntimeLayers } from './leases.js';
import { REDACTED_VIEW, RUNTIME_VIEW } from './releases.js';
import type { Releases } from './releases.js';
import type { Prepared, Preparer, Step } from './prepare.js';
import { refusal } from './refusal.js';
import { QUIET_TRIGGER } from './source.js';
import type { Source } from './source.js';
import type { StateKeeper } from './state.js';
import { allTargets, bakeMsOf, proposal, targetsOf } from './switchover.js';
import type { Switchover } from './switchover.js';

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

export interface AgentDeps {
  environment: string;
  device: string;
  identities: Identities;
  /** Decrypted secrets are registered with it before anything can print them. */
  redactor: Redactor;
  hardwareProfile: () => Promise<HardwareProfile>;
  /** Seconds of bake; overrides the components' bake_seconds when set (tests, watch mode). */
  bakeSeconds?: number;
  watchMode?: boolean;
  /** The process environment, for the x-env overrides the policy allows. */
  env: Readonly<Record<string, string | undefined>>;
  state: StateKeeper;
  releases: Releases;
  journal: Journal;
  switchover: Switchover;
  delivery: Delivery;
  /** The leases above the signed configuration: every delivery carries them. */
  runtime: RuntimeLayers;
  schemaCache: CompiledSchemaCache;
  /** Where candidates are prepared (the cycle worker); unset: in this process. */
  preparer?: Preparer;
  clock: Clock;
  redact: (text: string) => string;
  log: (line: string) => void;
}

/** What one cycle came to: the API's answer to a sync or a rollback. */
export type CycleResult = CycleAnswer;

/** A candidate during whose apply the agent died this many times is marked bad at the next start. */
export const CRASH_ATTEMPTS = 2;

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

/** A candidate as the journal names it. */
const described = (info: CandidateInfo) => ({
  commit: info.commit,
  signer: info.signer ?? null,
  subject: info.subject ?? null,
  trigger: info.trigger,
});

export class Agent {
  constructor(readonly deps: AgentDeps) {}

  private get keeper(): StateKeeper {
    return this.deps.state;
  }

  private elapsed(since: number): number {
    return this.deps.clock.monotonic() - since;
  }

  /** At start: clean half-written releases, make current, last_good and the components agree. */
  async recover(store: {
    recover(): { current: string | undefined; removed: string[] };
    switchCurrent(id: string): void;
  }): Promise<void> {
    const { journal, releases } = this.deps;
    const crashed = this.keeper.state.in_progress;
    if (crashed && crashed.attempts >= CRASH_ATTEMPTS) {
      // the process died every time it applied this candidate: it is the candidate's fault
      this.keeper.crashLoopSeen();
      this.refuse(
        { commit: crashed.commit, trigger: 'restart' },
        refusal(
          'crash-loop',
          `the agent stopped ${crashed.attempts} times while applying ${crashed.commit.slice(0, 12)}; it is marked bad and not tried again`,
        ),
        this.deps.clock.monotonic(),
      );
    }
    const { current, removed } = store.recover();
    const lastGood = this.keeper.state.last_good;
    if (current && lastGood !== current) {
      // A crash after switching but before the bake ended: the last good release wins.
      const back = lastGood && releases.has(lastGood) ? lastGood : current;
      if (back !== current) store.switchCurrent(back);
      journal.record({
        event: 'recovered',
        commit: back,
        found: current,
        removed,
        reason: `found current=${current.slice(0, 12)}, last_good=${lastGood?.slice(0, 12) ?? 'none'}; running ${back.slice(0, 12)}`,
      });
      this.keeper.recovered(back);
    } else if (removed.length > 0) {
      journal.record({
        event: 'recovered',
        commit: current,
        removed,
        reason: `removed ${removed.length} half-written release(s)`,
      });
    }
    const good = this.keeper.state.last_good;
    if (!releases.current() && good && releases.has(good)) {
      // the current link was deleted (by hand, a bad disk): last good is what ran
      store.switchCurrent(good);
      journal.record({
        event: 'recovered',
        commit: good,
        reason: `the current link was missing; repaired to last good ${good.slice(0, 12)}`,
      });
    }
    const running = releases.current();
    if (running) {
      // Deliver the running release again so that every component runs exactly it.
      const config = this.deps.runtime.effective(running);
      const { verdict } = await this.deps.switchover.deliver(allTargets(config), running, config);
      if (!verdict.ok) this.deps.log(`warning: after restart, ${verdict.reason}`);
    }
  }

  /**
   * One sync: the source's candidate, unless it is what runs or known bad; then opened (read,
   * checked) and applied. Nothing to do is recorded as the sync's result, not as an event.
   */
  async sync(source: Source, trigger: string): Promise<CycleResult | undefined> {
    const candidate = await source.next(trigger);
    try {
      if (candidate.following) this.keeper.follow(candidate.following);
      if (candidate.held !== undefined) {
        this.keeper.nothingToDo(trigger, 'held', candidate.held);
        return undefined;
      }
      const state = this.keeper.state;
      const id = candidate.id;
      const crashed = state.last_error?.code === 'crash-loop' && state.last_error.commit === id;
      if (state.bad.includes(id) && source.retriesBadAtStart && trigger === 'start' && !crashed)
        this.keeper.forgive(id);
      if (id === state.applied || state.bad.includes(id)) {
        if (trigger === QUIET_TRIGGER) return undefined;
        if (id === state.applied) this.keeper.nothingToDo(trigger, 'up to date');
        else if (!source.retriesBadAtStart)
          this.keeper.nothingToDo(trigger, 'known-bad', `known bad commit ${id.slice(0, 12)}, not retried`);
        else {
          const why = crashed
            ? 'stopped the agent while it was applied'
            : state.last_error?.commit === id
              ? 'was refused'
              : 'was rolled back';
          this.keeper.nothingToDo(
            trigger,
            'held',
            `the working tree is ${id}, which ${why}; it is applied again when the tree changes or the agent restarts`,
          );
        }
        return undefined;
      }
      const opened = await candidate.open();
      if ('refused' in opened) {
        const r = opened.refused;
        return this.refuse(r.info, refusal(r.code, r.reason, undefined, !r.markBad), this.deps.clock.monotonic());
      }
      return await this.apply(opened.files, opened.info);
    } finally {
      candidate.settle?.();
    }
  }

  private refuse(info: CandidateInfo, e: GitopsError, started: number): CycleResult {
    const safe = this.deps.redact(e.message);
    const findings = locatedFindings(e.diagnostics ?? []);
    // the state first: whoever hears the event and asks for the status sees this refusal
    const { repeated } = this.keeper.refused({
      commit: info.commit,
      code: e.code,
      reason: safe,
      markBad: e.retryable === false,
      ...(findings.length ? { diagnostics: findings } : {}),
    });
    const result: CycleResult = { outcome: 'refused', commit: info.commit, reason: safe, ms: this.elapsed(started) };
    // the same candidate refused again for the same reason (a rescan, a retry) is said once
    if (repeated) return result;
    this.deps.journal.record({
      event: 'refused',
      ...described(info),
      code: e.code,
      reason: safe,
      ...(findings.length ? { diagnostics: findings } : {}),
      steps: info.steps ?? {},
    });
    this.deps.log(`refused ${info.commit.slice(0, 12)}: ${safe}`);
    return result;
  }

  /** The candidate's configuration prepared by the cycle's preparer, or here (prepare.ts loaded only then). */
  private async prepare(files: RepoFiles, step: Step): Promise<Prepared> {
    if (this.deps.preparer) return this.deps.preparer(files, step);
    const { prepareRelease } = await import('./prepare.js');
    return prepareRelease(files, this.deps, step);
  }

  private writeRelease(info: CandidateInfo, prepared: Prepared, plan: object, leases: readonly object[] = []): void {
    this.deps.releases.write(
      {
        commit: info.commit,
        subject: info.subject ?? null,
        signer: info.signer ?? null,
        committed_at: info.committed_at ?? null,
        written_at: this.deps.clock.now().toISOString(),
        plan,
        leases,
      },
      {
        'config.json': JSON.stringify(prepared.config, null, 2),
        [REDACTED_VIEW]: JSON.stringify(prepared.redacted, null, 2),
        [RUNTIME_VIEW]: JSON.stringify(prepared.runtime),
      },
    );
  }

  /**
   * Offline restore: renders and validates a verified commit like an apply, writes its release
   * and makes it current and last good, without delivering; the agent delivers it when it starts.
   * `exported`: the backed-up device's bad commits and generation, adopted with it.
   */
  async stage(
    files: RepoFiles,
    info: CandidateInfo,
    switchCurrent: (id: string) => void,
    exported: { bad: string[]; generation: number },
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    const step: Step = async (_name, fn) => fn();
    let prepared;
    try {
      prepared = await this.prepare(files, step);
    } catch (e) {
      if (e instanceof GitopsError)
        throw new GitopsError(e.code, e.message, 'nothing was restored; the state directory is as it was', {
          cause: e,
        });
      throw e;
    }
    this.writeRelease(info, prepared, planChanges(undefined, prepared.config));
    switchCurrent(info.commit);
    this.keeper.restored(info.commit, info.trigger, exported);
    this.deps.journal.record({
      event: 'restored',
      ...described(info),
      ...extra,
    });
  }

  /**
   * Renders, validates, plans and applies the configuration in `files` for this device. The
   * candidate is written down first: if the process dies while applying it, the restart knows.
   */
  async apply(files: RepoFiles, info: CandidateInfo): Promise<CycleResult> {
    this.keeper.beginAttempt(info.commit);
    try {
      return await this.applyCandidate(files, info);
    } finally {
      this.keeper.endAttempt();
    }
  }

  private async applyCandidate(files: RepoFiles, info: CandidateInfo): Promise<CycleResult> {
    const { clock, releases, switchover, journal, delivery } = this.deps;
    const started = clock.monotonic();
    const steps: Record<string, number> = { ...(info.steps ?? {}) };
    const step: Step = async (name, fn) => {
      const t0 = clock.monotonic();
      try {
        return await fn();
      } finally {
        steps[name] = Math.round(this.elapsed(t0) * 10) / 10;
      }
    };
    try {
      const prepared = await this.prepare(files, step);
      Object.assign(steps, prepared.steps);
      // what runs is the signed configuration with the leases that still fit the new commit
      const layered = this.deps.runtime.layered(prepared.config, prepared.runtime.context);
      const config = layered.effective.config;
      const previous = releases.current();
      const before = previous ? this.deps.runtime.effective(previous) : undefined;
      const plan = planChanges(before, config);
      // a commit that changes only what governs the leases (bounds, owners, the policy) is applied
      // like any other, delivering nothing: its release is what the next lease is checked against
      const sameRuntime =
        previous !== undefined &&
        JSON.stringify(releases.runtime(previous)?.context) === JSON.stringify(prepared.runtime.context);
      if (previous && plan.components.length === 0 && plan.changedSections.length === 0 && sameRuntime) {
        this.keeper.unchanged(info.commit, info.trigger);
        this.deps.runtime.adopt(previous, layered, info.trigger);
        journal.record({
          event: 'unchanged',
          commit: info.commit,
          trigger: info.trigger,
          reason: 'the rendered configuration of this device did not change',
        });
        return { outcome: 'unchanged', commit: info.commit, components: [], ms: this.elapsed(started) };
      }
      const targets = targetsOf(config, plan.components);
      await step('write', () => this.writeRelease(info, prepared, plan, layered.kept));
      const generation = this.keeper.nextGeneration();
      await step('accept', async () => {
        for (const t of targets) {
          const v = await delivery.propose(t, proposal(info.commit, config, t, generation));
          // a component that does not answer is not the commit's fault: refused now, tried again later
          if (!v.ok)
            throw v.code === 'unavailable'
              ? refusal('component-unavailable', v.reason, undefined, true)
              : refusal('veto', v.reason);
        }
      });
      const verdict = await switchover.switchTo(
        info.commit,
        config,
        targets,
        bakeMsOf(targets, this.deps.bakeSeconds),
        step,
      );
      if (!verdict.ok) {
        const t0 = clock.monotonic();
        const restored =
          previous && before
            ? await switchover.switchBack(
                previous,
                before,
                targets.map((t) => t.name),
              )
            : 'nothing to return to (first release)';
        steps.rollback = Math.round(this.elapsed(t0) * 10) / 10;
        const safe = this.deps.redact(verdict.reason);
        this.keeper.rolledBack(info.commit, info.trigger, safe);
        journal.record({
          event: 'rolled-back',
          ...described(info),
          code: verdict.code,
          reason: safe,
          restored,
          steps,
        });
        this.deps.log(`rolled back ${info.commit.slice(0, 12)}: ${safe}; ${restored}`);
        return { outcome: 'rolled-back', commit: info.commit, reason: safe, ms: this.elapsed(started) };
      }
      this.keeper.applied(info.commit, info.trigger);
      this.deps.runtime.adopt(info.commit, layered, info.trigger);
      releases.prune(new Set(this.keeper.state.good));
      const ms = this.elapsed(started);
      journal.record({
        event: 'applied',
        ...described(info),
        sections: plan.changedSections,
        components: plan.components,
        ...(layered.kept.length > 0
          ? { leases: layered.kept.map((l) => `${l.owner}:${l.path}=${String(l.value)}`) }
          : {}),
        steps,
        ms: Math.round(ms),
      });
      const changed = plan.changedSections.join(', ') || 'no section';
      const reconfigured = plan.components.join(', ') || 'nothing';
      this.deps.log(
        `applied ${commitLabel(info.commit, info.subject)}: ${changed} changed; reconfigured ${reconfigured} (${Math.round(ms)} ms)`,
      );
      return { outcome: 'applied', commit: info.commit, components: plan.components, ms };
    } catch (e) {
      const error =
        e instanceof GitopsError
          ? e
          : new GitopsError('internal', `internal error: ${(e as Error).message}`, undefined, { cause: e });
      return this.refuse({ ...info, steps }, error, started);
    }
  }
}
