// One simulated doorbell: the real agent (buildDaemon, the remote source following its wave's
// ref, the runner's jittered polls, the telemetry pusher) with its own state directory, device
// id and object store, in a process that hosts many of them. Only the hardware is not real: the
// bench model's recorded profile stands in for the probe, and the components are the farm's.

import { cpSync } from 'node:fs';
import { join } from 'node:path';
import type { HardwareProfile } from '../../agent/core/config/types.js';
import type { RepoFiles } from '../../agent/core/repo/layout.js';
import type { CompiledSchemaCache } from '../../agent/core/schema/schema-set.js';
import type { Identities } from '../../agent/core/sops/keys.js';
import type { TrustStore } from '../../agent/core/trust/verify-object.js';
import type { CycleAnswer } from '../../agent/core/contracts/api.js';
import { systemClock } from '../../agent/io/clock.js';
import { Redactor } from '../../agent/io/redactor.js';
import { buildDaemon } from '../../agent/daemon/main.js';
import type { Daemon } from '../../agent/daemon/main.js';
import { AgentMetrics, waveOf } from '../../agent/daemon/metrics.js';
import { RemoteSource } from '../../agent/daemon/remote-source.js';
import type { Source } from '../../agent/daemon/source.js';
import { Runner } from '../../agent/daemon/runner.js';
import type { AgentSettings, RemoteWriteSettings } from '../../agent/daemon/settings.js';
import { TelemetryPusher } from '../../agent/daemon/telemetry.js';
import { AGENT_JOB } from '../../agent/io/remote-write.js';

export interface SimShared {
  environment: string;
  gitUrl: string;
  anchor: string;
  trust: TrustStore;
  trustDir: string;
  profile: HardwareProfile;
  schemaCache: CompiledSchemaCache;
  pollSeconds: number;
  bakeSeconds: number;
  telemetry: RemoteWriteSettings | undefined;
  /**
   * At most so many agents of the process sync at once: a thousand devices each have a CPU of
   * their own; here they share one event loop, and a thousand applies at once would starve the
   * farm's answers past their timeouts.
   */
  slots: Slots;
  /** The trees read so far, by commit: each is read once for the whole simulated fleet. */
  commitFiles: Map<string, Promise<RepoFiles>>;
  /** A bare repository holding the anchor's history: a device is enrolled with it. */
  enrolment: string;
}

export class SimDevice {
  readonly daemon: Daemon;
  private runner: Runner | undefined;
  private pusher: TelemetryPusher | undefined;
  private readonly source: RemoteSource;
  /** What its agent logged last (a failing scenario says it). */
  lastLine = '';
  /** Where its current cycle is (waiting for a slot, fetching, opening, applying) and since when (monotonic ms). */
  phase: { what: string; since: number } = { what: 'idle', since: performance.now() };

  constructor(
    readonly id: string,
    readonly stateDir: string,
    private readonly shared: SimShared,
    identities: Identities,
    enrol: boolean,
  ) {
    if (enrol) cpSync(shared.enrolment, join(stateDir, 'repo.git'), { recursive: true });
    const log = (line: string): void => {
      this.lastLine = line;
    };
    this.daemon = buildDaemon({
      environment: shared.environment,
      device: id,
      stateDir,
      identities,
      hardwareProfile: async () => shared.profile,
      bakeSeconds: shared.bakeSeconds,
      env: {},
      redactor: new Redactor(),
      log,
      schemaCache: shared.schemaCache,
    });
    const d = this.daemon;
    const settings: AgentSettings = {
      version: 2,
      remote: { url: shared.gitUrl, branch: 'main', max_fetch_mb: 64, fetch_timeout_seconds: 120, follow: 'auto' },
      environment: shared.environment,
      device_id: id,
      trust: { dir: shared.trustDir, mode: 'all', anchor_commit: shared.anchor },
      state_dir: stateDir,
      poll_interval_seconds: shared.pollSeconds,
      api: { listen: '127.0.0.1:0', allow_loopback_reads: true, mutations_per_minute: 30 },
    };
    this.source = new RemoteSource(() => d.state.state, settings, shared.trust, {
      readToken: () => '',
      clock: d.clock,
      log,
      commitFiles: shared.commitFiles,
    });
  }

  /** The commit it runs. */
  get running(): string | null {
    return this.daemon.state.state.applied;
  }

  get wave(): string {
    return waveOf(this.daemon.state.state);
  }

  /** Starts polling (the first sync at once) and pushing telemetry. */
  async start(): Promise<void> {
    const d = this.daemon;
    await d.agent.recover(d.store);
    this.runner = new Runner(
      { state: d.state, events: d.events, clock: d.clock, redact: d.redact, log: d.log },
      (trigger) => this.tracked(trigger),
      this.shared.pollSeconds,
    );
    if (this.shared.telemetry) {
      const metrics =
        AgentMetrics.of(d) ?? new AgentMetrics(d, { environment: this.shared.environment, device: this.id }, () => 0);
      this.pusher = new TelemetryPusher({
        settings: this.shared.telemetry,
        registry: metrics.registry,
        labels: () => ({
          environment: this.shared.environment,
          device: this.id,
          wave: waveOf(d.state.state),
          job: AGENT_JOB,
          instance: this.id,
        }),
        clock: systemClock,
        log: d.log,
      });
      this.pusher.start();
    }
    this.runner.start();
  }

  /** One cycle, its phases recorded: a device stuck in one says where. */
  private async tracked(trigger: string): Promise<CycleAnswer | undefined> {
    const at = (what: string): void => {
      this.phase = { what, since: performance.now() };
    };
    const source: Source = {
      retriesBadAtStart: this.source.retriesBadAtStart,
      next: async (t) => {
        at('fetching');
        const c = await this.source.next(t);
        return {
          ...c,
          open: async () => {
            at('opening');
            const opened = await c.open();
            at('applying');
            return opened;
          },
        };
      },
    };
    at('waiting for a slot');
    try {
      return await this.shared.slots.run(() => this.daemon.agent.sync(source, trigger));
    } finally {
      at('idle');
    }
  }

  /** A sync now (the webhook-style trigger). */
  sync(): Promise<CycleAnswer | undefined> {
    return this.runner!.trigger('api');
  }

  get samplesPushed(): number {
    return this.pusher?.stats.samples ?? 0;
  }

  /** Goes offline: no polls, no pushes, until started again. */
  async stop(): Promise<void> {
    await this.pusher?.stop();
    await this.runner?.stop();
    this.pusher = undefined;
    this.runner = undefined;
  }
}

/** A counting semaphore that measures how long work waited for it. */
export class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];
  private waits: number[] = [];

  constructor(size: number) {
    this.free = size;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    const asked = performance.now();
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    this.waits.push(performance.now() - asked);
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }

  /** The waits since the last call (ms): how far the process's syncs fell behind the fleet's polls. */
  takeWaits(): { count: number; p50_ms: number; p99_ms: number; max_ms: number; queued: number } {
    const w = this.waits.sort((a, b) => a - b);
    this.waits = [];
    const at = (q: number): number => w[Math.min(w.length - 1, Math.floor(q * w.length))] ?? 0;
    return {
      count: w.length,
      p50_ms: at(0.5),
      p99_ms: at(0.99),
      max_ms: w[w.length - 1] ?? 0,
      queued: this.waiting.length,
    };
  }
}
