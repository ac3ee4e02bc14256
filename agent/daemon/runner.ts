// Triggers and their order: the poll interval with jitter, SIGHUP, POST /api/v1/sync, or a
// file change in watch mode. One cycle runs at a time; a trigger during a cycle runs one more
// cycle after it. A failing or slow remote backs off exponentially with jitter and never
// disturbs the running configuration.

import { GitopsError } from '../core/errors.js';
import { redact } from '../io/redactor.js';
import type { Agent, CycleResult } from './agent.js';

export type Cycle = (trigger: string) => Promise<CycleResult | undefined>;

export class Runner {
  private running: Promise<CycleResult | undefined> | undefined;
  private again: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;
  nextPollAt: string | null = null;

  constructor(private readonly agent: Agent, private readonly cycle: Cycle, private readonly pollSeconds: number | undefined, private readonly log: (line: string) => void) {}

  /** Runs a cycle now, or right after the one in progress; resolves with its result. */
  trigger(reason: string): Promise<CycleResult | undefined> {
    if (this.running) {
      this.again = reason;
      return this.running.then(() => this.trigger(reason));
    }
    this.running = this.run(reason).finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        const r = this.again;
        this.again = undefined;
        void this.trigger(r);
      }
    });
    return this.running;
  }

  private async run(reason: string): Promise<CycleResult | undefined> {
    try {
      const result = await this.cycle(reason);
      this.failures = 0;
      this.schedule(this.pollSeconds === undefined ? undefined : this.pollSeconds * 1000);
      return result;
    } catch (e) {
      this.failures++;
      const message = redact(e instanceof GitopsError ? e.message : `internal error: ${(e as Error).message}`);
      this.agent.state.last_error = { time: new Date().toISOString(), commit: null, reason: message, code: e instanceof GitopsError ? e.code : 'internal' };
      this.agent.state.last_sync = { time: new Date().toISOString(), trigger: reason, result: 'failed' };
      this.agent.store.writeState(this.agent.state);
      const poll = (this.pollSeconds ?? 60) * 1000;
      const backoff = Math.min(poll, 1000 * 2 ** Math.min(this.failures, 16));
      this.log(`sync failed (${this.failures} in a row): ${message}; retrying in ${Math.round(backoff / 1000)} s`);
      this.schedule(backoff);
      return undefined;
    }
  }

  private schedule(ms: number | undefined): void {
    if (this.timer) clearTimeout(this.timer);
    if (ms === undefined || this.stopped) return;
    const jittered = Math.round(ms * (0.9 + Math.random() * 0.2));
    this.nextPollAt = new Date(Date.now() + jittered).toISOString();
    this.timer = setTimeout(() => void this.trigger('poll'), jittered);
    this.timer.unref?.();
  }

  start(): void {
    void this.trigger('start');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
