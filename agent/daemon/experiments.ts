// The device's experiments (issue 16): the variant the running release assigns it (computed from
// the signed commit when the release was prepared, core/experiments/device.ts) is held as
// experiment-owned leases, set and cleared through the runtime layers like any lease: bounds,
// the budget, the component's veto, the bake and its rollback, and every layer above (tuner,
// governor, operator) all hold. Reconciled at each tick of the runtime layers: a new release
// that moves the device to another variant, ends the experiment or pauses it changes the leases
// within a second; a lease renewed before half its time to live is gone. A variant the device
// refused or rolled back is not tried again for that release: the device keeps the layer below,
// and its status says why.

import { GitopsError } from '../core/errors.js';
import { experimentActor } from '../core/experiments/device.js';
import type { DeviceExperiment } from '../core/experiments/device.js';
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

export class Experiments {
  /** Variants this device could not run, by `<release>:<experiment>/<variant>`: not tried again for that release. */
  private readonly failed = new Map<string, { code: string; reason: string }>();

  constructor(private readonly d: ExperimentDeps) {}

  /** The running release's experiments for this device, with its id. */
  private assigned(): { release: string; experiments: DeviceExperiment[]; ttl: (path: string) => number } | undefined {
    const release = this.d.releases.current();
    if (!release) return undefined;
    const context = this.d.runtime.runtime(release)?.runtime.context;
    const table = specTable(context?.specs ?? []);
    return {
      release,
      experiments: context?.experiments ?? [],
      ttl: (path) => table.at(path)?.max_ttl_seconds ?? 0,
    };
  }

  private key(release: string, e: DeviceExperiment): string {
    return `${release}:${experimentActor(e)}`;
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
    for (const e of a.experiments) {
      if (e.variant === null || this.failed.has(this.key(a.release, e))) continue;
      const actor = experimentActor(e);
      const sets: LeaseRequest[] = [];
      for (const [path, value] of Object.entries(e.set)) {
        wanted.add(`${path}\u0000${actor}`);
        const ttlSeconds = a.ttl(path);
        const lease = held.find((l) => l.path === path);
        const fresh =
          lease?.actor === actor && lease.value === value && toMs(lease.expires) - now > (ttlSeconds * 1000) / 2;
        if (!fresh)
          sets.push({
            kind: 'set',
            path,
            value,
            owner: OWNER,
            actor,
            reason: `experiment ${e.experiment}, variant ${e.variant}`,
            ...(ttlSeconds > 0 ? { ttlSeconds } : {}),
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
      const experiment = a?.experiments.find((x) => experimentActor(x) === actor);
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
    return a.experiments.map((e) => {
      const base = { experiment: e.experiment, variant: e.variant, bucket: e.bucket, set: e.set };
      if (e.variant === null) return { ...base, state: 'not-in' as const };
      const failed = this.failed.get(this.key(a.release, e));
      if (failed) return { ...base, state: 'refused' as const, ...failed };
      const actor = experimentActor(e);
      const all = Object.entries(e.set).every(([path, value]) =>
        held.some((l) => l.path === path && l.actor === actor && l.value === value),
      );
      return { ...base, state: all ? ('applied' as const) : ('pending' as const) };
    });
  }
}
