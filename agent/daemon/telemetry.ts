// Fleet telemetry: every interval the agent's metrics are taken as one batch (one sample per series,
// stamped with the wall time of the snapshot) and the batches waiting are pushed, oldest first, to
// the configured remote-write endpoint (telemetry.remote_write), so that a device behind NAT needs
// no inbound connection. While the endpoint cannot be reached, batches wait (at most max_queue; the
// oldest are dropped beyond, and counted) and are retried with a jittered, capped backoff; one the
// endpoint refuses (a 4xx other than 429: malformed, out of order, unauthorised) is dropped, counted
// and said once. Batches still waiting are kept in the state directory (telemetry-queue.bin) when a
// push fails and when the agent stops, and pushed first after a restart. Timers and the clock are
// injected: tests drive it without waiting.

import { join } from 'node:path';
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import {
  AGENT_JOB,
  encodeWriteRequest,
  pushLabels,
  pushWriteRequest,
  shownUrl,
  toTimeSeries,
} from '../io/remote-write.js';
import type { AgentLabels, PushOptions, PushResult } from '../io/remote-write.js';
import type { Clock } from '../io/clock.js';
import { fileSpool } from '../io/telemetry-spool.js';
import type { SpooledBatch, TelemetrySpool } from '../io/telemetry-spool.js';
import type { Daemon } from './main.js';
import { AgentMetrics, waveOf } from './metrics.js';
import type { RemoteWriteSettings } from './settings.js';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Node's timers, not holding the process open (the API's server does while the agent runs). */
export const nodeTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface TelemetryOptions {
  settings: RemoteWriteSettings;
  /** What is pushed; the pusher's own metrics are added to it. */
  registry: Registry;
  /** The agent's labels at each snapshot (the wave may change while it runs). */
  labels: () => AgentLabels;
  clock: Pick<Clock, 'now' | 'random'>;
  timers?: Timers;
  push?: (o: PushOptions) => Promise<PushResult>;
  /** Retry delays: from `baseMs`, doubling, at most `maxMs`, each jittered down by up to half. */
  retry?: { baseMs: number; maxMs: number };
  /** Where waiting batches outlive the process (the state directory's telemetry-queue.bin). */
  spool?: TelemetrySpool;
  log: (line: string) => void;
}

type Batch = SpooledBatch;

export const RETRY = { baseMs: 1000, maxMs: 5 * 60_000 };

export class TelemetryPusher {
  /** Batches waiting, oldest first (the one being sent is not among them). */
  private readonly waiting: Batch[] = [];
  private sending: Batch | undefined;
  private tickTimer: unknown;
  private retryTimer: unknown;
  private failures = 0;
  private flushing: Promise<void> | undefined;
  private snapshotting: Promise<void> | undefined;
  private stopped = false;
  private readonly abort = new AbortController();
  /** What was last said about failing pushes: said again only when it changes or after a success. */
  private said: string | undefined;
  private readonly timers: Timers;
  private readonly push: (o: PushOptions) => Promise<PushResult>;
  private readonly retry: { baseMs: number; maxMs: number };
  private readonly pushes: Counter<'result'>;
  private readonly dropped: Counter<'reason'>;
  private readonly samples: Counter;
  /** Totals since start, for a caller that runs many agents in one process (the fleet simulation). */
  readonly stats = { pushed: 0, samples: 0, failed: 0, rejected: 0, overflowed: 0 };

  /** Whether the spool holds batches (so that an empty queue removes it once). */
  private spooled = false;

  constructor(private readonly o: TelemetryOptions) {
    this.timers = o.timers ?? nodeTimers;
    this.push = o.push ?? pushWriteRequest;
    this.retry = o.retry ?? RETRY;
    pushLabels(o.labels(), o.settings.labels); // a settings label the agent sets itself is refused at start
    const registers = [o.registry];
    this.pushes = new Counter({
      name: 'doorbell_agent_telemetry_pushes_total',
      help: 'Pushes to the remote-write endpoint, by result: ok, failed (retried later), rejected (a 4xx: dropped).',
      labelNames: ['result'],
      registers,
    });
    this.dropped = new Counter({
      name: 'doorbell_agent_telemetry_dropped_total',
      help: 'Batches of metrics never delivered, by reason: queue-full (the oldest, while offline), rejected (a 4xx).',
      labelNames: ['reason'],
      registers,
    });
    this.samples = new Counter({
      name: 'doorbell_agent_telemetry_samples_total',
      help: 'Samples delivered to the remote-write endpoint.',
      registers,
    });
    const self = (): { waiting: number; sending: boolean } => ({
      waiting: this.waiting.length,
      sending: !!this.sending,
    });
    new Gauge({
      name: 'doorbell_agent_telemetry_queue',
      help: 'Batches of metrics waiting to be pushed (the one being sent included).',
      registers,
      collect() {
        const q = self();
        this.set(q.waiting + (q.sending ? 1 : 0));
      },
    });
    for (const r of ['ok', 'failed', 'rejected']) this.pushes.inc({ result: r }, 0);
    for (const r of ['queue-full', 'rejected']) this.dropped.inc({ reason: r }, 0);
  }

  /** Batches waiting or being sent. */
  get queued(): number {
    return this.waiting.length + (this.sending ? 1 : 0);
  }

  /** The first snapshot at a random point of the first interval (a fleet started at once spreads out), then every interval. */
  start(): void {
    // what waited when the last process ended goes first, in order
    const kept = this.o.spool?.load();
    if (kept?.problem) this.o.log(`telemetry: ${kept.problem}`);
    if (kept && kept.batches.length > 0) {
      this.waiting.unshift(...kept.batches);
      this.trim();
      this.spooled = true;
      this.o.log(`telemetry: ${kept.batches.length} batch(es) kept from before the restart are pushed first`);
    }
    this.o.log(
      `telemetry: pushing to ${shownUrl(this.o.settings.url)} every ${this.o.settings.interval_seconds}s` +
        ` (at most ${this.o.settings.max_queue} batches kept while it cannot be reached)`,
    );
    this.schedule(this.o.clock.random() * this.o.settings.interval_seconds * 1000);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.tickTimer = this.timers.setTimeout(() => {
      this.tickTimer = undefined;
      this.schedule(this.o.settings.interval_seconds * 1000);
      void this.tick();
    }, ms);
  }

  /** One interval: a snapshot, then the waiting batches pushed unless a retry is already planned. */
  async tick(): Promise<void> {
    await this.snapshot();
    if (this.retryTimer === undefined) await this.flush();
  }

  /** The metrics now, as one batch at the end of the queue (the oldest dropped beyond max_queue). */
  async snapshot(): Promise<void> {
    if (this.stopped) return;
    const run = async (): Promise<void> => {
      let batch: Batch;
      try {
        const metrics = await this.o.registry.getMetricsAsJSON();
        const series = toTimeSeries(
          metrics,
          pushLabels(this.o.labels(), this.o.settings.labels),
          this.o.clock.now().getTime(),
        );
        batch = { body: encodeWriteRequest(series), samples: series.length };
      } catch (e) {
        this.o.log(`telemetry: the metrics could not be taken: ${(e as Error).message}`);
        return;
      }
      this.waiting.push(batch);
      this.trim();
    };
    const previous = this.snapshotting;
    const current = (this.snapshotting = (previous ?? Promise.resolve()).then(run));
    await current;
    if (this.snapshotting === current) this.snapshotting = undefined;
  }

  private trim(): void {
    while (this.waiting.length > this.o.settings.max_queue) {
      this.waiting.shift();
      this.dropped.inc({ reason: 'queue-full' });
      this.stats.overflowed++;
    }
  }

  /** Pushes the waiting batches, oldest first, until one fails (then a retry is planned) or none is left. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async drain(): Promise<void> {
    await this.drainQueue();
    if (!this.stopped && this.waiting.length === 0 && this.spooled) this.keep();
  }

  private async drainQueue(): Promise<void> {
    const s = this.o.settings;
    while (!this.stopped && this.waiting.length > 0) {
      const batch = (this.sending = this.waiting.shift()!);
      const r = await this.push({
        url: s.url,
        body: batch.body,
        timeoutMs: s.timeout_seconds * 1000,
        signal: this.abort.signal,
        ...(s.token_file ? { tokenFile: s.token_file } : {}),
      });
      this.sending = undefined;
      if (r.ok) {
        this.pushes.inc({ result: 'ok' });
        this.samples.inc(batch.samples);
        this.stats.pushed++;
        this.stats.samples += batch.samples;
        if (this.failures > 0) this.o.log(`telemetry: delivered again after ${this.failures} failed push(es)`);
        this.failures = 0;
        this.said = undefined;
        continue;
      }
      if (!r.retry) {
        this.pushes.inc({ result: 'rejected' });
        this.dropped.inc({ reason: 'rejected' });
        this.stats.rejected++;
        this.sayOnce(`rejected:${r.status}`, `telemetry: a batch was refused and is dropped: ${r.reason}`);
        continue;
      }
      this.pushes.inc({ result: 'failed' });
      this.stats.failed++;
      this.waiting.unshift(batch); // tried again first: delivered in order (after a restart too)
      this.trim();
      if (this.stopped) return; // stop() keeps what waits
      this.keep();
      const delay = this.backoff(this.failures++);
      this.sayOnce(
        'failed',
        `telemetry: push failed (${r.reason}); retrying with backoff, ${this.queued} batch(es) kept (at most ${s.max_queue})`,
      );
      this.retryTimer = this.timers.setTimeout(() => {
        this.retryTimer = undefined;
        void this.flush();
      }, delay);
      return;
    }
  }

  /** Writes the waiting batches to the spool (removed once none waits): a restart does not lose them. */
  private keep(): void {
    if (!this.o.spool || (!this.spooled && this.waiting.length === 0)) return;
    try {
      this.o.spool.save([...(this.sending ? [this.sending] : []), ...this.waiting]);
      this.spooled = this.waiting.length > 0 || this.sending !== undefined;
    } catch (e) {
      this.sayOnce('spool', `telemetry: the waiting batches could not be kept on disk: ${(e as Error).message}`);
    }
  }

  /** The delay before retry `n` (0-based): doubling from the base, capped, jittered down by up to half. */
  backoff(n: number): number {
    const full = Math.min(this.retry.maxMs, this.retry.baseMs * 2 ** Math.min(n, 30));
    return Math.round(full * (1 - this.o.clock.random() / 2));
  }

  private sayOnce(kind: string, line: string): void {
    if (this.said === kind) return;
    this.said = kind;
    this.o.log(line);
  }

  /** No more snapshots or pushes; a push under way is cut short, and what waits is kept in the spool. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.tickTimer !== undefined) this.timers.clearTimeout(this.tickTimer);
    if (this.retryTimer !== undefined) this.timers.clearTimeout(this.retryTimer);
    this.tickTimer = this.retryTimer = undefined;
    this.abort.abort();
    await Promise.allSettled([this.flushing, this.snapshotting]);
    this.keep();
  }
}

/**
 * The running agent's pusher (main.ts): its metrics (those the API serves at /metrics, the
 * pusher's own added) pushed with its environment, device id and wave; started.
 */
export function startTelemetry(
  settings: RemoteWriteSettings,
  daemon: Pick<Daemon, 'state' | 'clock' | 'stateDir'>,
  identity: { environment: string; device: string },
  log: (line: string) => void,
): TelemetryPusher {
  const metrics = AgentMetrics.of(daemon);
  if (!metrics) throw new Error('telemetry needs the metrics the API builds: start it after the API');
  const pusher = new TelemetryPusher({
    settings,
    registry: metrics.registry,
    labels: () => ({ ...identity, wave: waveOf(daemon.state.state), job: AGENT_JOB, instance: identity.device }),
    clock: daemon.clock,
    spool: fileSpool(join(daemon.stateDir, 'telemetry-queue.bin'), settings.max_queue),
    log,
  });
  pusher.start();
  return pusher;
}
