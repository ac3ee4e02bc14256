// The one owner of the agent's state (state.json): every change is one of the transitions below,
// written to disk before it returns. Everything else reads `state` (read-only) and calls these.

import { INITIAL_STATE } from '../core/contracts/agent-state.js';
import type { AgentState, LocatedFinding, SyncResult } from '../core/contracts/agent-state.js';
import type { DeepReadonly } from '../core/contracts/api.js';
import type { ErrorCode } from '../core/errors.js';

/** Good releases kept on disk to return to; older ones are removed. */
export const KEEP_RELEASES = 20;

export type StateView = DeepReadonly<AgentState>;

export interface Refused {
  commit: string;
  code: ErrorCode;
  /** Already redacted. */
  reason: string;
  markBad: boolean;
  diagnostics?: LocatedFinding[];
}

export class StateKeeper {
  private readonly s: AgentState;

  constructor(
    initial: AgentState,
    private readonly write: (state: AgentState) => void,
    private readonly now: () => Date,
  ) {
    this.s = structuredClone(initial);
  }

  /** A fresh state for a device whose state.json was unusable, rebuilt from what runs. */
  static rebuilt(running: string | null, generation: number): AgentState {
    return {
      ...structuredClone(INITIAL_STATE),
      applied: running,
      last_good: running,
      good: running ? [running] : [],
      generation,
    };
  }

  get state(): StateView {
    return this.s;
  }

  private save(): void {
    this.write(this.s);
  }

  private time(): string {
    return this.now().toISOString();
  }

  private markBad(commit: string): void {
    if (!this.s.bad.includes(commit)) this.s.bad.push(commit);
  }

  private synced(trigger: string, result: SyncResult, detail?: string): void {
    this.s.last_sync = { time: this.time(), trigger, result, ...(detail ? { detail } : {}) };
  }

  /** Written before a candidate is applied: a process that dies applying it is counted at the next start. */
  beginAttempt(commit: string): void {
    const prior = this.s.in_progress;
    this.s.in_progress = { commit, attempts: prior?.commit === commit ? prior.attempts + 1 : 1 };
    this.save();
  }

  endAttempt(): void {
    this.s.in_progress = null;
    this.save();
  }

  /** Generations only grow, across crashes too: a component never mistakes an old verdict or report for a new one. */
  nextGeneration(): number {
    const generation = ++this.s.generation;
    this.save();
    return generation;
  }

  private good(commit: string): void {
    this.s.applied = commit;
    this.s.last_good = commit;
    this.s.good = [...this.s.good.filter((c) => c !== commit), commit].slice(-KEEP_RELEASES);
    this.s.applied_at = this.time();
    this.s.last_error = null;
  }

  applied(commit: string, trigger: string): void {
    this.good(commit);
    this.synced(trigger, 'applied');
    this.save();
  }

  /** A commit whose rendered configuration is the running one: it is what runs now. */
  unchanged(commit: string, trigger: string): void {
    this.s.applied = commit;
    this.synced(trigger, 'unchanged');
    this.save();
  }

  /** Whether this refusal repeats the last one (the same candidate, code and reason): said once. */
  refused(r: Refused): { repeated: boolean } {
    const prior = this.s.last_error;
    const repeated = prior?.commit === r.commit && prior.code === r.code && prior.reason === r.reason;
    this.s.last_error = {
      time: repeated ? prior.time : this.time(),
      commit: r.commit,
      reason: r.reason,
      code: r.code,
      ...(r.diagnostics?.length ? { diagnostics: r.diagnostics } : {}),
    };
    if (r.markBad) this.markBad(r.commit);
    this.save();
    return { repeated };
  }

  /** A candidate that did not become healthy: bad for ever; what ran before runs again. */
  rolledBack(commit: string, trigger: string, reason: string): void {
    this.markBad(commit);
    this.s.last_error = { time: this.time(), commit, reason, code: 'health' };
    this.synced(trigger, 'rolled-back');
    this.save();
  }

  /** An operator returned to `to`, a good release; the release it replaced is bad from now on. */
  operatorRolledBack(from: string | undefined, to: string): void {
    if (from) {
      this.markBad(from);
      this.s.good = this.s.good.filter((c) => c !== from);
    }
    this.good(to);
    this.synced('operator', 'rolled-back');
    this.save();
  }

  /** Offline restore: `commit` is staged as current and last good, with the exported device's bad list. */
  restored(commit: string, trigger: string, exported: { bad: string[]; generation: number }): void {
    this.s.bad = [...exported.bad];
    this.s.generation = Math.max(this.s.generation, exported.generation);
    this.good(commit);
    this.synced(trigger, 'restored');
    this.save();
  }

  /** At start, after a crash between switching and the end of the bake: `running` is what runs. */
  recovered(running: string): void {
    this.s.applied = running;
    this.s.last_good = running;
    this.save();
  }

  /** The candidate the agent died applying too often: no longer in progress (the caller refuses it). */
  crashLoopSeen(): void {
    this.s.in_progress = null;
  }

  /** A sync that did not get as far as a candidate (the remote unreachable, a bad answer). */
  syncFailed(trigger: string, code: ErrorCode, reason: string): void {
    this.s.last_error = { time: this.time(), commit: null, reason, code };
    this.synced(trigger, 'failed');
    this.save();
  }

  /** The ref the device follows (written with the sync's result). */
  follow(f: { wave: string; ref: string }): void {
    if (this.s.following?.wave !== f.wave || this.s.following.ref !== f.ref)
      this.s.following = { wave: f.wave, ref: f.ref };
  }

  /** A sync that found nothing to do. */
  nothingToDo(trigger: string, result: 'up to date' | 'held' | 'known-bad', detail?: string): void {
    this.synced(trigger, result, detail);
    this.save();
  }

  /** Watch mode, at start: the tree on disk is tried again whatever happened to it before. */
  forgive(commit: string): void {
    this.s.bad = this.s.bad.filter((b) => b !== commit);
  }
}
