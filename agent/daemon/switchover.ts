// The one step that changes what runs, shared by an apply, the automatic rollback after it and an
// operator's rollback: switch `current` to a release, deliver it to the components it changes
// under a new generation, and watch their health for the bake time; and the way back, the same
// step towards the release that ran before, judged without a bake.

import type { Proposal } from '../core/contracts/protocol.js';
import type { Component } from '../core/config/types.js';
import { isObject } from '../core/json/value.js';
import type { JsonObject } from '../core/json/value.js';
import type { ComponentTarget, Delivery, Outcome } from '../io/delivery.js';
import type { Clock } from '../io/clock.js';
import type { StateKeeper } from './state.js';

/** Runs one named step of a cycle, timing it for the journal. */
export type Timed = <T>(name: string, fn: () => Promise<T>) => Promise<T>;

/** A switch's verdict: the delivery's, for the first component that failed. */
export type Verdict = Outcome;

/** The components of a release's configuration, as the delivery sees them. */
export function targetsOf(config: JsonObject, names: readonly string[]): ComponentTarget[] {
  const components = (isObject(config.components) ? config.components : {}) as unknown as Record<
    string,
    ComponentTarget['spec']
  >;
  return names.filter((n) => components[n]).map((name) => ({ name, spec: components[name]! }));
}

/** Every component of a release's configuration. */
export function allTargets(config: JsonObject): ComponentTarget[] {
  return targetsOf(config, Object.keys(isObject(config.components) ? config.components : {}));
}

export function proposal(commit: string, config: JsonObject, t: ComponentTarget, generation: number): Proposal {
  const sections = Object.fromEntries((t.spec as Component).sections.map((s) => [s, config[s] ?? null]));
  return { generation, commit, sections };
}

export class Switchover {
  constructor(
    private readonly delivery: Delivery,
    private readonly state: StateKeeper,
    private readonly switchCurrent: (release: string) => void,
    private readonly clock: Pick<Clock, 'monotonic' | 'sleep'>,
  ) {}

  /** Hands `config` to the targets under a new generation. */
  async deliver(
    targets: readonly ComponentTarget[],
    commit: string,
    config: JsonObject,
  ): Promise<{ verdict: Verdict; generation: number }> {
    const generation = this.state.nextGeneration();
    for (const t of targets) {
      const r = await this.delivery.apply(t, proposal(commit, config, t, generation));
      if (!r.ok) return { verdict: r, generation };
    }
    return { verdict: { ok: true }, generation };
  }

  /** Health of every target during `bakeMs`; the first bad verdict ends it. */
  async bake(targets: readonly ComponentTarget[], generation: number, bakeMs: number): Promise<Verdict> {
    const now = (): number => this.clock.monotonic();
    const deadline = now() + bakeMs;
    const settle = now() + Math.max(2000, bakeMs); // a component gets this long to report at all
    const reported = new Set<string>();
    for (;;) {
      for (const t of targets) {
        const h = await this.delivery.health(t, generation);
        if (h.ok) reported.add(t.name);
        else if (reported.has(t.name) || now() > settle || h.code !== 'not-reported') return h;
      }
      if (now() >= deadline && reported.size === targets.length) return { ok: true };
      await this.clock.sleep(Math.min(100, Math.max(10, deadline - now())));
    }
  }

  /** Makes `release` what runs: switched, delivered, baked (each step timed by `timed`). */
  async switchTo(
    release: string,
    config: JsonObject,
    targets: readonly ComponentTarget[],
    bakeMs: number,
    timed: Timed = (_name, fn) => fn(),
  ): Promise<Verdict> {
    this.switchCurrent(release);
    const { verdict, generation } = await timed('deliver', () => this.deliver(targets, release, config));
    return verdict.ok ? timed('bake', () => this.bake(targets, generation, bakeMs)) : verdict;
  }

  /** Back to `release` (what ran before), for the components `names`; says how that went. */
  async switchBack(release: string, config: JsonObject, names: readonly string[]): Promise<string> {
    const verdict = await this.switchTo(release, config, targetsOf(config, names), 0);
    return verdict.ok
      ? `${release.slice(0, 12)} delivered again and healthy`
      : `${release.slice(0, 12)} delivered again but ${verdict.reason}`;
  }
}

/** How long a release is watched before it is good: the components' longest bake_seconds unless overridden. */
export function bakeMsOf(targets: readonly ComponentTarget[], override: number | undefined): number {
  return 1000 * (override ?? Math.max(0, ...targets.map((t) => t.spec.health?.bake_seconds ?? 10)));
}
