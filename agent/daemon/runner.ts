// Triggers and their order: the poll interval with jitter, SIGHUP, POST /api/v1/sync, or a
// file change in watch mode. One cycle runs at a time; a trigger during a cycle runs one more
// cycle after it. A failing or slow remote backs off exponentially with jitter and never
// disturbs the running configuration.

import { GitopsError } from '../core/errors.js';
import type { Clock } from '../io/clock.js';
import type { CycleAnswer } from '../core/contracts/api.js';
import type { AgentEvents } from './events.js';
import { QUIET_TRIGGER } from './source.js';
import type { StateKeeper } from './state.js';

export interface RunnerDeps {
  state: StateKeeper;
  events: AgentEvents;
  clock: Pick<Clock, 'now' | 'random'>;
  redact: (text: string) => string;
  log: (line: string) => void;
}

export type Cycle = (trigger: string) => Promise<CycleAnswer | undefined>;

export class Runner {
  /** Everything that changes what runs (cycles, rollbacks) goes through this chain, one at a time. */
  private chain: Promise<unknown> = Promise.resolve();
  /** A cycle queued behind the running one: later triggers join it instead of queueing more. */
  private queued: Promise<CycleAnswer | undefined> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;
  busy = false;
  nextPollAt: string | null = null;

  constructor(
    private readonly d: RunnerDeps,
    private readonly cycle: Cycle,
    private readonly pollSeconds: number | undefined,
  ) {}

  /** Runs a cycle now, or right after the work in progress; resolves with its result. */
  trigger(reason: string): Promise<CycleAnswer | undefined> {
    if (this.queued) return this.queued;
    const q = this.exclusive(() => {
      this.queued = undefined;
      return this.stopped ? Promise.resolve(undefined) : this.run(reason);
    });
    this.queued = q;
    return q;
  }

  /** Runs `work` when nothing else runs, and nothing else while it runs. */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      this.busy = true;
      try {
        return await work();
      } finally {
        this.busy = false;
      }
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private async run(reason: string): Promise<CycleAnswer | undefined> {
    const quiet = reason === QUIET_TRIGGER;
    const { events, state } = this.d;
    if (!quiet) events.emit('sync-started', { trigger: reason });
    try {
      const result = await this.cycle(reason);
      if (!result && !quiet) {
        const last = state.state.last_sync;
        events.emit('sync-finished', {
          trigger: reason,
          result: last?.result ?? 'no change',
          ...(last?.detail ? { detail: last.detail } : {}),
        });
      }
      this.failures = 0;
      this.schedule(this.pollSeconds === undefined ? undefined : this.pollSeconds * 1000);
      return result;
    } catch (e) {
      this.failures++;
      const message = this.d.redact(e instanceof GitopsError ? e.message : `internal error: ${(e as Error).message}`);
      const code = e instanceof GitopsError ? e.code : 'internal';
      state.syncFailed(reason, code, message);
      events.emit('sync-failed', { trigger: reason, code, reason: message });
      const poll = (this.pollSeconds ?? 60) * 1000;
      const backoff = Math.min(poll, 1000 * 2 ** Math.min(this.failures, 16));
      this.d.log(`sync failed (${this.failures} in a row): ${message}; retrying in ${Math.round(backoff / 1000)} s`);
      this.schedule(backoff);
      return undefined;
    }
  }

  private schedule(ms: number | undefined): void {
    if (this.timer) clearTimeout(this.timer);
    if (ms === undefined || this.stopped) return;
    const jittered = Math.round(ms * (0.9 + this.d.clock.random() * 0.2));
    this.nextPollAt = new Date(this.d.clock.now().getTime() + jittered).toISOString();
    this.timer = setTimeout(() => void this.trigger('poll'), jittered);
    this.timer.unref?.();
  }

  start(): void {
    void this.trigger('start');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.chain;
  }
}
