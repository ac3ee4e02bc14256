// The device's experiments (issue 16): the variant the running release assigns it (computed from
// the signed commit when the release was prepared, core/experiments/device.ts) is held as
// experiment-owned leases, set and cleared through the runtime layers like any lease: bounds,
// the budget, the component's veto, the bake and its rollback, and every layer above (tuner,
// governor, operator) all hold. Reconciled at each tick of the runtime layers: a new release
// that moves the device to another variant, ends the experiment or pauses it changes the leases
// within a second; a lease renewed before half its time to live is gone. A variant the device
// refused or rolled back is not tried again for that release: the device keeps the layer below,
// and its status says why.
//
// A switchback experiment (core/experiments/switchback.ts) runs the arm of the current block:
// armAt gives it from the schedule and the clock, so the same reconciliation switches the leases
// at a block boundary (the lease of one arm is set to expire where the next switch begins, never
// later), and the status and the exposure say the block and whether it is in its washout.

import { GitopsError } from '../core/errors.js';
import { armAt, experimentActor } from '../core/experiments/device.js';
import type { ArmAt, DeviceExperiment } from '../core/experiments/device.js';
import { DEFAULT_HORIZON_MS } from '../core/experiments/switchback.js';
import type { SwitchbackArm, SwitchbackSchedule } from '../core/experiments/switchback.js';
import type { ExperimentStatus } from '../core/contracts/api.js';
import type { Lease } from '../core/tunables/lease.js';
import { isActive, toMs } from '../core/tunables/lease.js';
import type { Clock } from '../io/clock.js';
import type { LeaseRequest, RuntimeLayers } from './leases.js';
import { specTable } from './leases.js';
import type { Releases } from './releases.js';
import type { Runner } from './runner.js';

export interface ExperimentDeps {
  releases: Pick<Releases, 'current'>;
  runtime: Pick<RuntimeLayers, 'leases' | 'change' | 'runtime'>;
  runner: Pick<Runner, 'exclusive'>;
  clock: Pick<Clock, 'now'>;
  log: (line: string) => void;
}

const OWNER = 'experiment';

/** An experiment of the release and the arm it runs now. */
interface Running {
  e: DeviceExperiment;
  arm: ArmAt;
}

const actorOf = (x: Running): string => experimentActor({ experiment: x.e.experiment, variant: x.arm.variant });

export class Experiments {
  /** Variants this device could not run, by `<release>:<experiment>/<variant>`: not tried again for that release. */
  private readonly failed = new Map<string, { code: string; reason: string }>();

  constructor(private readonly d: ExperimentDeps) {}

  /** The running release's experiments for this device, with its id. */
  private assigned(): { release: string; experiments: Running[]; ttl: (path: string) => number } | undefined {
    const release = this.d.releases.current();
    if (!release) return undefined;
    const context = this.d.runtime.runtime(release)?.runtime.context;
    const specs = context?.specs ?? [];
    const table = specTable(specs);
    // the next switch is looked for at least as far ahead as the longest lease may last
    const horizon = Math.max(DEFAULT_HORIZON_MS, ...specs.map((x) => (x.max_ttl_seconds ?? 0) * 1000));
    const now = this.d.clock.now().getTime();
    return {
      release,
      experiments: (context?.experiments ?? []).map((e) => ({ e, arm: armAt(e, now, horizon) })),
      ttl: (path) => table.at(path)?.max_ttl_seconds ?? 0,
    };
  }

  private key(release: string, x: Running): string {
    return `${release}:${actorOf(x)}`;
  }

  private active(): Lease[] {
    const now = this.d.clock.now().getTime();
    return this.d.runtime.leases.filter((l) => l.owner === OWNER && isActive(l, now));
  }

  /**
   * The lease changes that bring the runtime layers to the release's experiments: one list per
   * experiment (each is applied, and may fail, on its own), and the clears of leases no
   * experiment of the release holds any more.
   */
  private plan(): LeaseRequest[][] {
    const a = this.assigned();
    if (!a) return [];
    const now = this.d.clock.now().getTime();
    const held = this.active();
    const wanted = new Set<string>();
    const batches: LeaseRequest[][] = [];
    for (const x of a.experiments) {
      const { e, arm } = x;
      if (arm.variant === null || this.failed.has(this.key(a.release, x))) continue;
      const actor = actorOf(x);
      // a switchback arm's lease ends where the next switch begins, never later
      const untilSwitch = arm.switchback ? (arm.switchback.nextSwitchMs ?? Infinity) - now : Infinity;
      const sets: LeaseRequest[] = [];
      for (const [path, value] of Object.entries(arm.set)) {
        wanted.add(`${path}\u0000${actor}`);
        const ttlMs = Math.min(a.ttl(path) > 0 ? a.ttl(path) * 1000 : Infinity, untilSwitch);
        const lease = held.find((l) => l.path === path);
        const fresh =
          lease?.actor === actor &&
          lease.value === value &&
          toMs(lease.expires) - now > (Number.isFinite(ttlMs) ? ttlMs : 0) / 2;
        if (!fresh)
          sets.push({
            kind: 'set',
            path,
            value,
            owner: OWNER,
            actor,
            reason: `experiment ${e.experiment}, variant ${arm.variant}${arm.switchback ? `, block ${arm.switchback.block}` : ''}`,
            ...(Number.isFinite(ttlMs) ? { ttlSeconds: ttlMs / 1000 } : {}),
          });
      }
      if (sets.length > 0) batches.push(sets);
    }
    const clears: LeaseRequest[] = held
      .filter((l) => !wanted.has(`${l.path}\u0000${l.actor}`))
      .map((l) => ({ kind: 'clear', path: l.path, owner: OWNER, actor: l.actor }));
    return clears.length > 0 ? [clears, ...batches] : batches;
  }

  /** One reconciliation; nothing to do costs no more than comparing a few leases. */
  async tick(): Promise<void> {
    if (this.plan().length === 0) return;
    // planned again once nothing else runs: a sync may have applied another release meanwhile
    await this.d.runner.exclusive(async () => {
      for (const batch of this.plan()) await this.apply(batch);
    });
  }

  private async apply(batch: LeaseRequest[]): Promise<void> {
    const actor = batch[0]!.actor;
    try {
      await this.d.runtime.change(batch, 'experiment');
    } catch (e) {
      const code = e instanceof GitopsError ? e.code : 'internal';
      const reason = e instanceof Error ? e.message : String(e);
      const a = this.assigned();
      const experiment = a?.experiments.find((x) => actorOf(x) === actor);
      if (a && experiment && batch[0]!.kind === 'set')
        this.failed.set(this.key(a.release, experiment), { code, reason });
      this.d.log(`experiment ${actor.slice('experiment:'.length)}: ${code}: ${reason}`);
    }
  }

  /** What the device runs of each experiment of its release. */
  view(): ExperimentStatus[] {
    const a = this.assigned();
    if (!a) return [];
    const held = this.active();
    return a.experiments.map((x) => {
      const { e, arm } = x;
      const base = {
        experiment: e.experiment,
        variant: arm.variant,
        bucket: e.bucket,
        set: arm.set,
        ...(e.switchback && arm.switchback ? { switchback: switchbackView(e.switchback, arm.switchback) } : {}),
      };
      if (arm.variant === null) return { ...base, state: 'not-in' as const };
      const failed = this.failed.get(this.key(a.release, x));
      if (failed) return { ...base, state: 'refused' as const, ...failed };
      const actor = actorOf(x);
      const all = Object.entries(arm.set).every(([path, value]) =>
        held.some((l) => l.path === path && l.actor === actor && l.value === value),
      );
      return { ...base, state: all ? ('applied' as const) : ('pending' as const) };
    });
  }
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function switchbackView(s: SwitchbackSchedule, arm: SwitchbackArm): NonNullable<ExperimentStatus['switchback']> {
  return {
    block_hours: s.block_hours,
    washout_minutes: s.washout_minutes,
    block: arm.block,
    phase: arm.washout ? 'washout' : 'measure',
    block_end: iso(arm.blockEndMs)!,
    ...(arm.washout ? { washout_end: iso(arm.washoutEndMs)! } : {}),
    next_switch: iso(arm.nextSwitchMs),
  };
}
