// An operator's rollback (POST /api/v1/rollback, `gitops agent rollback`) to a release that was
// applied and found good before: its commit is verified again, delivered to the components it
// changes, baked, and recorded as last good; the release it replaces is marked bad and never
// retried. If the target does not become healthy, the release that ran before runs again.

import { planChanges } from '../core/change/plan.js';
import { GitopsError } from '../core/errors.js';
import type { Clock } from '../io/clock.js';
import type { CycleAnswer } from '../core/contracts/api.js';
import type { Journal } from './journal.js';
import type { RuntimeLayers } from './leases.js';
import type { Releases } from './releases.js';
import type { StateKeeper } from './state.js';
import { bakeMsOf, targetsOf } from './switchover.js';
import type { Switchover } from './switchover.js';

export interface RollbackRequest {
  by: string;
  reason?: string;
  /** Why the commit no longer verifies, or undefined when it does (remote mode). */
  verify?: (commit: string) => Promise<string | undefined>;
}

export interface RollbackDeps {
  releases: Releases;
  state: StateKeeper;
  switchover: Switchover;
  journal: Journal;
  runtime: Pick<RuntimeLayers, 'layered' | 'effective' | 'runtime' | 'adopt'>;
  clock: Pick<Clock, 'monotonic'>;
  redact: (text: string) => string;
  log: (line: string) => void;
  bakeSeconds?: number;
}

export class OperatorRollback {
  constructor(private readonly d: RollbackDeps) {}

  /** The release an operator may roll back to: one that was applied and found good, not the running one. */
  target(to: string): string {
    const id = this.d.releases.find(to);
    if (!this.d.state.state.good.includes(id))
      throw new GitopsError(
        'release-not-good',
        `release ${id.slice(0, 12)} was never applied successfully here (refused or rolled back), so it cannot be returned to`,
        'roll back to a release marked good in GET /api/v1/releases',
      );
    if (id === this.d.releases.current())
      throw new GitopsError(
        'already-running',
        `release ${id.slice(0, 12)} is already running`,
        to === 'last_good'
          ? 'last_good is the running release; "previous" is the good release before it'
          : 'nothing to do',
      );
    return id;
  }

  async run(to: string, request: RollbackRequest): Promise<CycleAnswer> {
    const { releases, switchover, journal, redact } = this.d;
    const started = this.d.clock.monotonic();
    const current = releases.current();
    const target = this.target(to);
    const problem = request.verify ? await request.verify(target) : undefined;
    if (problem)
      throw new GitopsError(
        'release-unverified',
        `release ${target.slice(0, 12)} does not verify any more: ${problem}`,
        "only commits whose signature verifies against this device's trust root are applied",
      );
    // the leases in force that fit the release returned to go with it
    const layered = this.d.runtime.layered(releases.config(target), this.d.runtime.runtime(target)?.runtime.context);
    const config = layered.effective.config;
    const before = current ? this.d.runtime.effective(current) : undefined;
    const plan = planChanges(before, config);
    const targets = targetsOf(config, plan.components);
    const verdict = await switchover.switchTo(target, config, targets, bakeMsOf(targets, this.d.bakeSeconds));
    const reason = redact(request.reason?.trim() || `rolled back by ${request.by}`);
    if (!verdict.ok) {
      const restored =
        current && before ? await switchover.switchBack(current, before, plan.components) : 'nothing ran before';
      const why = redact(verdict.reason);
      journal.record({
        event: 'rollback-failed',
        commit: current ?? null,
        to: target,
        trigger: 'operator',
        by: request.by,
        code: verdict.code,
        reason: why,
        restored,
      });
      throw new GitopsError(
        'rollback-failed',
        `release ${target.slice(0, 12)} did not become healthy: ${why}; ${current ? `${current.slice(0, 12)} runs again` : 'nothing ran before'}`,
        'the journal has the details',
      );
    }
    this.d.state.operatorRolledBack(current, target);
    this.d.runtime.adopt(target, layered, 'operator');
    const ms = this.d.clock.monotonic() - started;
    journal.record({
      event: 'rolled-back',
      commit: current ?? null,
      to: target,
      subject: releases.manifest(target).subject ?? null,
      trigger: 'operator',
      by: request.by,
      reason,
      components: plan.components,
      ms: Math.round(ms),
    });
    this.d.log(`rolled back to ${target.slice(0, 12)} by ${request.by}: ${reason}`);
    return { outcome: 'rolled-back', commit: target, reason, components: plan.components, ms };
  }
}
