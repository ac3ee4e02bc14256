// Component health while nothing is being applied: right after each apply or rollback, then
// every 5 s for a minute and while a component is unhealthy, and every 30 s once everything has
// been healthy that long (an idle agent wakes twice a minute for it, not twelve times). A change
// (healthy to unhealthy, silent, back) is journaled and streamed; a component first known healthy
// is streamed only (the status page learns it without polling).

import type { Delivery } from '../io/delivery.js';
import type { Clock } from '../io/clock.js';
import type { AgentEvents } from './events.js';
import type { Journal } from './journal.js';
import type { Releases } from './releases.js';
import { allTargets } from './switchover.js';

export interface ComponentHealth {
  healthy: boolean;
  reason?: string;
  code?: string;
  since: string;
}

/** A component whose last report is older than this has stopped reporting. */
export const MAX_REPORT_AGE_MS = 15_000;
const EVERY_MS = 5000;
/** The period once the SETTLE_CHECKS after the last apply are done and every component is healthy. */
export const STEADY_EVERY_MS = 30_000;
/** Checks at the 5 s period after a start, an apply or a rollback: a minute of them. */
const SETTLE_CHECKS = 12;

export class HealthMonitor {
  /** Each running component's health as last checked, and since when. */
  readonly health = new Map<string, ComponentHealth>();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private stopped = false;
  /** Where a component's first known health is told (set by start). */
  private events: AgentEvents | undefined;

  constructor(
    private readonly delivery: Delivery,
    private readonly releases: Releases,
    private readonly journal: Journal,
    private readonly clock: Pick<Clock, 'now'>,
    private readonly redact: (text: string) => string,
  ) {}

  /** Checks each running component's health once. */
  async check(maxAgeMs = MAX_REPORT_AGE_MS): Promise<void> {
    const running = this.releases.current();
    if (!running) return;
    const targets = allTargets(this.releases.config(running));
    for (const name of this.health.keys()) if (!targets.some((t) => t.name === name)) this.health.delete(name);
    for (const t of targets) {
      const h = await this.delivery.health(t, 0, maxAgeMs);
      const reason = h.ok ? undefined : this.redact(h.reason);
      const code = h.ok ? undefined : h.code;
      const prev = this.health.get(t.name);
      // a component that stays silent is one state, however long ("for 20 s", "for 25 s", ...)
      const sameState =
        prev && prev.healthy === h.ok && (code === 'stale' ? prev.code === 'stale' : prev.reason === reason);
      if (sameState) continue;
      this.health.set(t.name, {
        healthy: h.ok,
        ...(reason ? { reason } : {}),
        ...(code ? { code } : {}),
        since: this.clock.now().toISOString(),
      });
      if (prev || !h.ok)
        this.journal.record({
          event: 'health-changed',
          commit: running,
          component: t.name,
          healthy: h.ok,
          ...(code ? { code } : {}),
          reason: reason ?? null,
        });
      // first known, and healthy: no change to journal, but a page that shows health is told
      else this.events?.emit('health-changed', { commit: running, component: t.name, healthy: true });
    }
  }

  /** Checks on the schedule above while `busy()` is false, and right after an apply or a rollback. */
  start(events: AgentEvents, busy: () => boolean, log: (line: string) => void): void {
    this.events = events;
    let fast = SETTLE_CHECKS;
    const check = (): Promise<void> => this.check().catch((e: Error) => log(`health check failed: ${e.message}`));
    const schedule = (): void => {
      if (this.stopped) return;
      const steady = fast <= 0 && [...this.health.values()].every((h) => h.healthy);
      fast--;
      this.timer = setTimeout(
        () => void (busy() ? Promise.resolve() : check()).then(schedule),
        steady ? STEADY_EVERY_MS : EVERY_MS,
      );
      this.timer.unref();
    };
    schedule();
    this.unsubscribe = events.subscribe((e) => {
      if (e.type === 'applied' || e.type === 'rolled-back') {
        fast = SETTLE_CHECKS;
        setImmediate(() => void check());
        // back to the 5 s period from now on
        clearTimeout(this.timer);
        schedule();
      }
    });
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.unsubscribe?.();
  }
}
