// The load governor on the device (DESIGN.md section 9): each tick samples the machine and the
// components' own reports, moves the signals and the ladder (agent/core/governor), and makes the
// governor's leases what the ladder's step wants: set, renewed before they expire, or cleared.
// Every move is journaled; the leases go through the runtime layers' apply path like any other.

import type { GovernorView } from '../core/contracts/api.js';
import { governorView, rulesOfConfig, tick } from '../core/governor/index.js';
import type { GovernorRules, GovernorState, Samples } from '../core/governor/index.js';
import type { TunableValue } from '../core/tunables/annotation.js';
import { toMs } from '../core/tunables/lease.js';
import type { Clock } from '../io/clock.js';
import type { ComponentTarget, Delivery } from '../io/delivery.js';
import type { AgentEvents } from './events.js';
import type { Journal } from './journal.js';
import type { LeaseRequest, RuntimeLayers } from './leases.js';
import type { Releases } from './releases.js';
import type { Runner } from './runner.js';
import { allTargets } from './switchover.js';

export interface GovernorDeps {
  releases: Pick<Releases, 'current' | 'config'>;
  runtime: Pick<RuntimeLayers, 'leases' | 'change'>;
  runner: Pick<Runner, 'exclusive'>;
  delivery: Pick<Delivery, 'metrics'>;
  /** The machine's signals (soc_temp_c, cpu_utilisation, ...); undefined where there is none. */
  sampleMachine: () => Promise<Samples>;
  journal: Journal;
  events: AgentEvents;
  clock: Pick<Clock, 'now'>;
  log: (line: string) => void;
}

export class Governor {
  private state: GovernorState | undefined;
  /** The running release's rules and components, read once per release (a tick reads no file of it). */
  private rules: { release: string; rules: GovernorRules; targets: ComponentTarget[] } | undefined;
  /** After a lease change of the governor failed, it is not tried again before this (epoch ms). */
  private retryAt = 0;
  private lastTick = -Infinity;

  constructor(private readonly d: GovernorDeps) {}

  private rulesOf(release: string): { rules: GovernorRules; targets: ComponentTarget[] } {
    if (this.rules?.release !== release) {
      const signed = this.d.releases.config(release);
      this.rules = { release, rules: rulesOfConfig(signed), targets: allTargets(signed) };
    }
    return this.rules;
  }

  /** The governor of the running release as the API shows it; null when nothing runs. */
  view(): GovernorView | null {
    const release = this.d.releases.current();
    return release ? governorView(this.rulesOf(release).rules, this.state, this.d.clock.now().getTime()) : null;
  }

  /** Samples the components' own figures as `<component>.<metric>`. */
  private async componentSamples(targets: readonly ComponentTarget[]): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const t of targets) {
      const m = await this.d.delivery.metrics(t);
      for (const [name, value] of Object.entries(m?.values ?? {})) out[`${t.name}.${name}`] = value;
    }
    return out;
  }

  /** The running release's components' figures (`<component>.<figure>`): the tuner's samples and the agent's telemetry. */
  figures(): Promise<Record<string, number>> {
    const release = this.d.releases.current();
    return this.componentSamples(release ? this.rulesOf(release).targets : []);
  }

  /** The machine's samples and the components' figures, named as the signals name their sources (the tuner reads them too). */
  async samples(): Promise<Samples> {
    return { ...(await this.d.sampleMachine()), ...(await this.figures()) };
  }

  /** Whether the running release's governor samples (on, or stepped down, or holding leases): it needs the 1 s beat. */
  active(): boolean {
    const release = this.d.releases.current();
    if (!release) return false;
    const { rules } = this.rulesOf(release);
    return rules.enabled || (this.state?.step ?? 0) > 0 || this.d.runtime.leases.some((l) => l.owner === 'governor');
  }

  async tick(): Promise<void> {
    const release = this.d.releases.current();
    if (!release) return;
    const { rules, targets } = this.rulesOf(release);
    const held = this.d.runtime.leases.filter((l) => l.owner === 'governor');
    // off and nothing to undo: nothing is sampled
    if (!rules.enabled && (this.state?.step ?? 0) === 0 && held.length === 0) return;
    const now = this.d.clock.now().getTime();
    // the ticker beats every second; the rules may ask for fewer ticks
    if (now - this.lastTick < rules.tickMs - 50) return;
    this.lastTick = now;
    const samples = rules.enabled
      ? { ...(await this.d.sampleMachine()), ...(await this.componentSamples(targets)) }
      : {};
    const result = tick(rules, this.state, samples, now);
    this.state = result.state;
    for (const c of result.changes) this.d.events.emit('governor-signal', { ...c, at: new Date(c.at).toISOString() });
    if (result.move) {
      const m = result.move;
      this.d.journal.record({
        event: 'governor-step',
        from: m.from,
        to: m.to,
        step: m.to > 0 ? (rules.ladder[m.to - 1]?.name ?? null) : null,
        signal: m.signal,
        value: m.value,
        reason: m.reason,
      });
      this.d.log(`governor: step ${m.from} -> ${m.to}: ${m.reason}`);
    }
    if (now < this.retryAt) return;
    const requests = this.reconcile(result.wanted, rules, now);
    if (requests.length === 0) return;
    try {
      await this.d.runner.exclusive(() => this.d.runtime.change(requests, 'governor'));
    } catch (e) {
      // refused or rolled back (journaled by the runtime layers): the step is tried again later
      this.retryAt = now + rules.degradeIntervalMs;
      this.d.log(
        `governor: its leases were not applied (${(e as { code?: string }).code ?? String(e)}); trying again later`,
      );
    }
  }

  /** The lease changes that make the governor's leases what `wanted` says. */
  private reconcile(wanted: Record<string, TunableValue>, rules: GovernorRules, now: number): LeaseRequest[] {
    const held = this.d.runtime.leases.filter((l) => l.owner === 'governor');
    const step = this.state?.step ?? 0;
    const name = step > 0 ? (rules.ladder[step - 1]?.name ?? 'ladder') : 'ladder';
    const reason = this.state?.last_move?.reason ?? 'the load governor';
    const out: LeaseRequest[] = [];
    for (const [path, value] of Object.entries(wanted)) {
      const lease = held.find((l) => l.path === path);
      // renewed when half its time to live is gone, so that it never lapses while the step holds
      const renew = lease && toMs(lease.expires) - now < (rules.leaseTtlSeconds * 1000) / 2;
      if (!lease || lease.value !== value || renew)
        out.push({
          kind: 'set',
          path,
          value,
          owner: 'governor',
          actor: `governor/${name}`,
          reason,
          ttlSeconds: rules.leaseTtlSeconds,
        });
    }
    for (const l of held)
      if (!(l.path in wanted)) out.push({ kind: 'clear', path: l.path, owner: 'governor', actor: `governor/${name}` });
    return out;
  }
}
