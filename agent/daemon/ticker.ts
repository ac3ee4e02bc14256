// The runtime layers' heartbeat, once a second: an expired lease is removed (the layer below
// it runs again within one tick), the load governor samples its signals and moves on its
// ladder, the experiments' leases follow the running release and the tuners run their trials.
// Every change goes through the runner, one at a time with syncs and rollbacks. When nothing
// needs it (`quiet`: no lease, no governor, experiment or tuner at work) it beats every 15 s,
// and the agent's events (a lease set, a release applied) bring the next beat forward: an idle
// agent does not wake sixty times a minute for nothing.

import { GitopsError } from '../core/errors.js';
import type { RuntimeLayers } from './leases.js';
import type { Runner } from './runner.js';

export interface TickerDeps {
  runtime: Pick<RuntimeLayers, 'due' | 'change'>;
  runner: Pick<Runner, 'exclusive'>;
  log: (line: string) => void;
  /** The governor's tick, when the release runs one. */
  governor?: () => Promise<void>;
  /** The experiments' reconciliation (experiments.ts). */
  experiments?: () => Promise<void>;
  /** The tuners' trials (tuner.ts), after the governor has had its say in the same tick. */
  tuner?: () => Promise<void>;
  /** True when no tick has anything to do until an event says otherwise. */
  quiet?: () => boolean;
}

/** The beat when nothing needs one every second. */
export const QUIET_TICK_MS = 15_000;

export class Ticker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private beatMs = 1000;
  /** The beat now scheduled is the quiet one. */
  private slow = false;
  /** An event came during a tick. */
  private poked = false;
  private stopped = false;

  constructor(private readonly d: TickerDeps) {}

  /** One tick; a tick still running when the next is due is not doubled. */
  tick(): Promise<void> {
    this.running ??= this.once().finally(() => (this.running = undefined));
    return this.running;
  }

  private async once(): Promise<void> {
    try {
      if (this.d.runtime.due()) await this.d.runner.exclusive(() => this.d.runtime.change('expire', 'expiry'));
      if (this.d.governor) await this.d.governor();
      if (this.d.experiments) await this.d.experiments();
      if (this.d.tuner) await this.d.tuner();
    } catch (e) {
      this.d.log(`runtime tick: ${e instanceof GitopsError ? `${e.code}: ${e.message}` : String(e)}`);
    }
  }

  start(ms = 1000): void {
    this.beatMs = ms;
    this.schedule(ms);
  }

  /** Something happened: a quiet beat is brought forward to within a second (or the beat's period). */
  poke(): void {
    // during a tick the next beat is not chosen yet: it is the fast one
    if (this.running) this.poked = true;
    else if (this.slow) this.schedule(this.beatMs);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.slow = ms > this.beatMs;
    this.timer = setTimeout(() => {
      this.slow = false;
      void this.tick().then(() => {
        const quiet = !this.poked && this.d.quiet?.() === true;
        this.poked = false;
        this.schedule(quiet ? Math.max(QUIET_TICK_MS, this.beatMs) : this.beatMs);
      });
    }, ms);
    this.timer.unref?.();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
