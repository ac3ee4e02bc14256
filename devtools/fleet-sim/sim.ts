// The simulated fleet (issue 15, item 6): N real agents in this process, each with its own device
// id, state directory and object store, polling one real `git http-backend` (in a process of its
// own, so its CPU is measured apart) and pushing their telemetry to one real Prometheus server;
// the staged rollout driven by the same library `gitops rollout advance` runs, its gates reading
// that Prometheus. Bake times and poll intervals are scaled down; nothing else is.
//
// Scenarios, in order, on one fleet:
//   good:     a good commit reaches every device through every wave;
//   offline:  a device offline during that promotion catches up when it returns;
//   bad:      a commit that breaks health on a share of the devices halts at the canary wave and
//             never reaches a later one; a revert, promoted like any commit, then reaches everyone;
//   forced:   every rollout ref moved back to an older commit is refused by every device;
//   polls:    the git server's CPU and bytes per 1,000 no-change polls.

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import type { HardwareProfile } from '../../agent/core/config/types.js';
import { openRepository } from '../../agent/core/repo/repository.js';
import { setDocumentMemoLimit } from '../../agent/core/repo/documents.js';
import { assignWave } from '../../agent/core/rollout/waves.js';
import type { RemoteWriteSettings } from '../../agent/daemon/settings.js';
import { readWorkingTree } from '../../agent/io/repo-files.js';
import { advanceRollout, resumeRollout, rolloutIo } from '../../agent/io/rollout.js';
import type { RolloutResult } from '../../agent/io/rollout.js';
import type { Halt } from '../../agent/core/rollout/state.js';
import { fileSchemaCache } from '../../agent/io/schema-cache.js';
import { loadTrustStore } from '../../agent/io/trust-store.js';
import { startPrometheus } from '../prometheus-server.js';
import type { PrometheusServer } from '../prometheus-server.js';
import { SimDevice, Slots } from './device.js';
import type { SimShared } from './device.js';
import { startFarm } from './farm.js';
import type { Farm } from './farm.js';
import { startGitServerProcess } from './git-server-process.js';
import type { GitServerProcess } from './git-server-process.js';
import { buildSimRepo, SIM_ENV, writeFleetSecrets } from './repo.js';
import type { Identities } from '../../agent/core/sops/keys.js';
import type { SimWave } from './repo.js';

export interface SimOptions {
  /** The project root (its example configuration and the bench model's profile). */
  root: string;
  devices: number;
  waves: SimWave[];
  pollSeconds: number;
  telemetrySeconds: number;
  /** Devices whose health the bad commit breaks, as a share of all devices (0..1). */
  brokenShare: number;
  /** Give up a scenario after this long in all. */
  deadlineMs: number;
  /** Give up a scenario when no more devices took its commit for this long. */
  stallMs: number;
  log: (line: string) => void;
}

export interface SimResults {
  devices: number;
  waves: Array<{ name: string; share: number | null; bake_s: number; devices: number }>;
  poll_s: number;
  telemetry_s: number;
  /** Seconds from the first start to every device running the first commit. */
  enrolled_s: number;
  good: { merge_to_100_s: number; waves_reached_s: Record<string, number>; advance_runs: number };
  offline: { device: string; wave: string; caught_up_s: number };
  bad: {
    exposed: number;
    exposed_share: number;
    canary_share: number;
    rolled_back: number;
    halted: string;
    halted_wave: string | null;
    halted_commit: string | null;
    bad_commit: string;
    later_waves_reached: boolean;
    revert_to_100_s: number;
  };
  forced: { refused: number; of: number; still_running_good: number };
  polls: {
    count: number;
    server_cpu_s_per_1000: number;
    bytes_per_1000: number;
    requests_per_poll: number;
    devices_per_core_at_60s: number;
  };
  /** The same polls served by `git upload-pack --stateless-rpc` itself (Gitea's way), no CGI. */
  polls_upload_pack: SimResults['polls'];
  change: { server_cpu_s_per_device: number; bytes_per_device: number };
  /**
   * The simulation's own limits: how long syncs waited for one of the process's slots (p50, p99,
   * max over the whole run) and how busy its one event loop was. A wait near the poll interval
   * means the host, not the fleet's design, sets the pace.
   */
  host: { sync_waits: ReturnType<Slots['takeWaits']>; event_loop_utilisation: number };
  /** Samples Prometheus ingested per second over the last minute; the agents' average push rate. */
  prometheus: { samples_per_s: number; series: number; pushed_per_s: number };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Patience for a fleet that moves: given up when its progress (devices on the commit) has not
 * grown for `stallMs`, or after `limitMs` in all. A busy host slows the fleet without stopping it;
 * a stuck one stops it.
 */
class Patience {
  private best = -1;
  private since = performance.now();
  private readonly end: number;

  constructor(
    private readonly stallMs: number,
    limitMs: number,
  ) {
    this.end = performance.now() + limitMs;
  }

  /** Why to give up now, given the progress, or undefined to go on. */
  exhausted(progress: number): string | undefined {
    const now = performance.now();
    if (progress > this.best) [this.best, this.since] = [progress, now];
    if (now - this.since > this.stallMs) return `no progress for ${Math.round(this.stallMs / 1000)} s`;
    if (now > this.end) return 'out of time';
    return undefined;
  }
}

/** Waits for `done`, looking every 200 ms, with patience; says what it waited for when it gives up. */
async function until(
  what: string,
  patience: Patience,
  progress: () => number,
  done: () => boolean | Promise<boolean>,
  last?: () => string,
): Promise<void> {
  while (!(await done())) {
    const why = patience.exhausted(progress());
    if (why) throw new Error(`fleet simulation: ${why} waiting for ${what}${last ? `: ${last()}` : ''}`);
    await sleep(200);
  }
}

export class FleetSim {
  devices: SimDevice[] = [];
  farm!: Farm;
  prometheus!: PrometheusServer;
  git!: GitServerProcess;
  private work = '';
  private dir = '';
  private wavesOf = new Map<string, string>();
  private advanceRuns = 0;
  private shared: SimShared | undefined;
  private started = 0;
  /** Each device's own age identity. */
  private identities = new Map<string, Identities>();
  private elu = performance.eventLoopUtilization();
  /** Devices taken offline on purpose: not counted as behind. */
  private offline = new Set<SimDevice>();

  constructor(private readonly o: SimOptions) {}

  private sh(args: string[]): string {
    return execFileSync('git', args, { cwd: this.work, env: this.remoteEnv }).toString().trim();
  }
  private remoteEnv: NodeJS.ProcessEnv = {};
  private remote!: ReturnType<typeof buildSimRepo>['remote'];

  /** The repository, the servers, the devices enrolled on the first commit and running it. */
  async setup(dir: string): Promise<number> {
    this.dir = dir;
    setDocumentMemoLimit(this.o.devices + 512);
    this.farm = await startFarm();
    // each device its own age key; the fleet's secrets are encrypted to all of them
    const { generateIdentity, identityToRecipient } = await import('age-encryption');
    const keys = await Promise.all(Array.from({ length: this.o.devices }, () => generateIdentity()));
    const recipients = await Promise.all(keys.map((k) => identityToRecipient(k)));
    const { remote, devices } = buildSimRepo(this.o.root, dir, {
      devices: this.o.devices,
      waves: this.o.waves,
      farm: this.farm.url,
      gates: { maxRolledBack: 0, maxRefusing: 0 },
      recipients,
    });
    await writeFleetSecrets(remote.work, recipients);
    this.remote = remote;
    this.remoteEnv = remote.env;
    this.work = remote.work;
    const anchor = remote.commit('the simulated fleet');
    remote.push();
    this.sh(['remote', 'add', 'origin', remote.bare]);
    this.sh(['fetch', '-q', 'origin']);
    // enrolment: every wave at the first commit, recorded as an emergency promotion
    await this.advance({ emergency: { reason: 'enrolment of the simulated fleet' } });
    const enrolment = join(dir, 'enrolment.git');
    execFileSync('git', ['clone', '-q', '--bare', remote.bare, enrolment], { env: remote.env });

    this.prometheus = await startPrometheus();
    this.git = await startGitServerProcess(join(dir, 'srv'));
    const profile = parseDocument(
      readFileSync(join(this.o.root, 'config/hardware/edge-p4-c920.yaml'), 'utf8'),
    ).toJSON() as HardwareProfile;
    const telemetry: RemoteWriteSettings = {
      url: this.prometheus.writeUrl,
      interval_seconds: this.o.telemetrySeconds,
      timeout_seconds: 30,
      max_queue: 120,
      labels: {},
    };
    const shared: SimShared = {
      environment: SIM_ENV,
      gitUrl: `${this.git.url}/fleet.git`,
      anchor,
      trust: await loadTrustStore(remote.trustDir),
      trustDir: remote.trustDir,
      profile,
      schemaCache: fileSchemaCache(join(dir, 'schema-cache')),
      pollSeconds: this.o.pollSeconds,
      bakeSeconds: 1,
      telemetry,
      enrolment,
      commitFiles: new Map(),
      slots: new Slots(16),
    };
    this.shared = shared;
    const rollout = {
      seed: `${SIM_ENV}-1`,
      waves: this.o.waves.map((w) => ({ name: w.name, share: w.share ?? 0, bakeSeconds: w.bakeSeconds })),
    };
    for (const [i, id] of devices.entries()) {
      const stateDir = join(dir, 'devices', id);
      mkdirSync(stateDir, { recursive: true });
      this.identities.set(id, { age: [keys[i]!], pgp: [], sources: [`${id}'s own key`] });
      this.devices.push(new SimDevice(id, stateDir, shared, this.identities.get(id)!, true));
      this.wavesOf.set(id, assignWave(rollout, { id }).wave);
    }
    const t0 = (this.started = performance.now());
    this.elu = performance.eventLoopUtilization();
    // started a little apart, as a fleet that was not switched on at one instant
    for (const d of this.devices) {
      await d.start();
      await sleep(Math.min(20, (this.o.pollSeconds * 1000) / this.o.devices));
    }
    await this.allRun(anchor, 'every device to run the first commit');
    return (performance.now() - t0) / 1000;
  }

  waveOf(id: string): string {
    return this.wavesOf.get(id)!;
  }

  private async advance(extra: { emergency?: { reason: string; commit?: string } } = {}): Promise<RolloutResult> {
    this.advanceRuns++;
    const io = rolloutIo({ cwd: this.work, prometheusUrl: this.prometheus?.url });
    const repo = openRepository(readWorkingTree(this.work));
    return advanceRollout(io, { repo, environment: SIM_ENV, by: 'fleet-sim', ...extra });
  }

  private patience(): Patience {
    return new Patience(this.o.stallMs, this.o.deadlineMs);
  }

  private running(commit: string, of: SimDevice[] = this.devices): number {
    return of.filter((d) => d.running === commit).length;
  }

  private allRun(commit: string, what: string, of: SimDevice[] = this.devices): Promise<void> {
    return until(
      what,
      this.patience(),
      () => this.running(commit, of),
      () => this.running(commit, of) === of.length,
      () => this.behind(commit, of),
    );
  }

  /** Who does not run `commit` yet, and what its agent said last. */
  private behind(commit: string, of: SimDevice[] = this.devices): string {
    const order = (d: SimDevice): number => this.o.waves.findIndex((w) => w.name === this.waveOf(d.id));
    const behind = of.filter((d) => d.running !== commit && !this.offline.has(d)).sort((a, b) => order(a) - order(b));
    const some = behind.slice(0, 3).map((d) => {
      const st = d.daemon.state.state;
      const sync = `last sync ${st.last_sync?.time} ${st.last_sync?.result} ${st.last_sync?.detail ?? ''}`;
      const phase = `${d.phase.what} for ${((performance.now() - d.phase.since) / 1000).toFixed(0)} s`;
      return `${d.id} (${d.wave}) runs ${d.running?.slice(0, 7)}, ${phase}, ${sync}, last error ${st.last_error?.code}: ${d.lastLine}`;
    });
    const phases = new Map<string, number>();
    for (const d of behind) phases.set(d.phase.what, (phases.get(d.phase.what) ?? 0) + 1);
    const where = [...phases].map(([what, n]) => `${n} ${what}`).join(', ');
    return `${behind.length} of ${of.length} behind (${where}); e.g. ${some.join('; ')}`;
  }

  private commit(file: string, from: RegExp, to: string, message: string): string {
    this.remote.edit(file, from, to);
    const c = this.remote.commit(message);
    this.remote.push();
    this.sh(['fetch', '-q', 'origin']);
    return c;
  }

  /**
   * Runs `gitops rollout advance` every `everyMs` until `done`; returns the seconds each wave
   * took to have all its devices on `commit`.
   */
  private async promote(
    commit: string,
    done: () => boolean,
    everyMs = 1000,
  ): Promise<{ reached: Record<string, number>; last: RolloutResult }> {
    const t0 = performance.now();
    const reached: Record<string, number> = {};
    let last: RolloutResult | undefined;
    const patience = this.patience();
    let said = '';
    while (!done()) {
      last = await this.advance();
      const says = [
        ...last.decision.promotions.map((p) => `promoted ${p.wave} to ${p.commit.slice(0, 7)}`),
        ...last.decision.notes.map((n) => `${n.wave}: ${n.reason}`),
      ].join('; ');
      if (last.decision.halt) this.o.log(`  advance: halted: ${last.decision.halt.reason}`);
      else if (says !== said) this.o.log(`  advance: ${(said = says)}`);
      if (last.decision.halt) break;
      for (const w of this.o.waves) {
        const of = this.devices.filter((d) => this.waveOf(d.id) === w.name);
        if (reached[w.name] === undefined && of.length > 0 && this.running(commit, of) === of.length)
          reached[w.name] = (performance.now() - t0) / 1000;
      }
      const why = patience.exhausted(this.running(commit));
      if (why)
        throw new Error(
          `fleet simulation: ${commit.slice(0, 7)} did not reach the fleet (${why}): ${this.behind(commit)}`,
        );
      await sleep(everyMs);
    }
    return { reached, last: last ?? (await this.advance()) };
  }

  async good(): Promise<{ good: SimResults['good']; offline: SimResults['offline'] }> {
    // one device of the last wave goes offline before the change
    const lastWave = this.o.waves[this.o.waves.length - 1]!.name;
    const away = this.devices.find((d) => this.waveOf(d.id) === lastWave)!;
    await away.stop();
    this.offline.add(away);
    const online = this.devices.filter((d) => d !== away);
    const index = this.devices.indexOf(away);
    const commit = this.commit(
      'config/motion.yaml',
      /sensitivity: [0-9.]+/,
      'sensitivity: 0.55',
      'motion: a little less sensitive',
    );
    const t0 = performance.now();
    const { reached } = await this.promote(commit, () => this.running(commit, online) === online.length);
    const merge = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    // it comes back as after a power cut: a new agent process over the same state directory
    const back = new SimDevice(away.id, away.stateDir, this.shared!, this.identities.get(away.id)!, false);
    this.devices[index] = back;
    await back.start();
    await this.allRun(commit, 'the device that was offline to catch up', [back]);
    return {
      good: { merge_to_100_s: merge, waves_reached_s: reached, advance_runs: this.advanceRuns },
      offline: { device: away.id, wave: lastWave, caught_up_s: (performance.now() - t1) / 1000 },
    };
  }

  async bad(): Promise<SimResults['bad']> {
    const canary = this.o.waves[0]!.name;
    // the bad commit breaks the capture component on a share of the devices
    // in every wave, the same share of its devices (at least one where the share is not 0)
    const broken = new Set<string>();
    for (const w of this.o.waves) {
      const of = this.devices.filter((d) => this.waveOf(d.id) === w.name);
      for (const d of of.slice(0, Math.ceil(of.length * this.o.brokenShare))) broken.add(d.id);
    }
    this.farm.breaks = (device, component, body) =>
      component === 'capture' && body.includes('"fps":24') && broken.has(device);
    const bad = this.commit('config/frame_capture.yaml', /fps: \d+/, 'fps: 24', 'frame capture at 24 fps');
    const exposed = new Set<string>();
    const watch = setInterval(() => {
      for (const d of this.devices) if (d.running === bad) exposed.add(d.id);
    }, 50);
    let halted: Halt | undefined;
    try {
      const { last } = await this.promote(bad, () => false);
      halted = last.decision.halt;
    } finally {
      clearInterval(watch);
    }
    for (const d of this.devices) if (d.running === bad || d.daemon.state.state.bad.includes(bad)) exposed.add(d.id);
    const rolledBack = this.devices.filter((d) => d.daemon.state.state.bad.includes(bad)).length;
    const canaryDevices = this.devices.filter((d) => this.waveOf(d.id) === canary).length;
    const refs = this.sh(['ls-remote', 'origin', `refs/heads/rollout/${SIM_ENV}/*`]);
    const laterReached = refs
      .split('\n')
      .filter((l) => !l.endsWith(`/${canary}`))
      .some((l) => l.startsWith(bad));
    // the fix: a revert, signed and promoted like any other commit, once the rollout is resumed
    this.farm.breaks = undefined;
    await resumeRollout(rolloutIo({ cwd: this.work }), {
      repo: openRepository(readWorkingTree(this.work)),
      environment: SIM_ENV,
      by: 'fleet-sim',
      reason: 'reverting the 24 fps commit',
    });
    const revert = this.commit('config/frame_capture.yaml', /fps: 24/, 'fps: 15', 'Revert "frame capture at 24 fps"');
    const t0 = performance.now();
    await this.promote(revert, () => this.running(revert) === this.devices.length);
    return {
      exposed: exposed.size,
      exposed_share: exposed.size / this.devices.length,
      canary_share: canaryDevices / this.devices.length,
      rolled_back: rolledBack,
      halted: halted?.reason ?? '',
      halted_wave: halted?.wave ?? null,
      halted_commit: halted?.commit ?? null,
      bad_commit: bad,
      later_waves_reached: laterReached,
      revert_to_100_s: (performance.now() - t0) / 1000,
    };
  }

  /** Every rollout ref moved back to the first commit: every device refuses it and keeps what it runs. */
  async forced(): Promise<SimResults['forced']> {
    const good = this.devices[0]!.running!;
    const first = this.sh(['rev-list', '--max-parents=0', 'HEAD']);
    for (const w of this.o.waves)
      this.sh(['push', '-q', '--force', 'origin', `${first}:refs/heads/rollout/${SIM_ENV}/${w.name}`]);
    await Promise.all(this.devices.map((d) => d.sync()));
    const refused = this.devices.filter((d) => {
      const e = d.daemon.state.state.last_error;
      return e?.commit === first && e.code === 'policy';
    }).length;
    const still = this.running(good);
    for (const w of this.o.waves)
      this.sh(['push', '-q', '--force', 'origin', `${good}:refs/heads/rollout/${SIM_ENV}/${w.name}`]);
    return { refused, of: this.devices.length, still_running_good: still };
  }

  /**
   * No-change polls: the git server's CPU and bytes per 1,000, every device asking twice; served
   * through `git http-backend` (the CGI), or by `git upload-pack` itself as forges run it.
   */
  async polls(direct = false): Promise<SimResults['polls']> {
    await this.git.setDirect(direct);
    const c0 = await this.git.counters();
    const cpu0 = this.git.cpuSeconds();
    let polls = 0;
    for (let round = 0; round < 2; round++) {
      await Promise.all(this.devices.map((d) => d.sync()));
      polls += this.devices.length;
    }
    const c1 = await this.git.counters();
    const cpu = this.git.cpuSeconds() - cpu0;
    await this.git.setDirect(false);
    const perPoll = cpu / polls;
    return {
      count: polls,
      server_cpu_s_per_1000: perPoll * 1000,
      bytes_per_1000: ((c1.bytesSent - c0.bytesSent) / polls) * 1000,
      requests_per_poll: (c1.requests - c0.requests) / polls,
      // one core's seconds over the CPU seconds a poll costs, per 60 s poll interval
      devices_per_core_at_60s: Math.floor(60 / perPoll),
    };
  }

  /** One change promoted to every wave at once, every device syncing once: the server's cost per device. */
  async change(): Promise<SimResults['change']> {
    const commit = this.commit(
      'config/motion.yaml',
      /sensitivity: [0-9.]+/,
      'sensitivity: 0.6',
      'motion: sensitivity 0.6',
    );
    await this.advance({ emergency: { reason: 'measuring the cost of one change per device' } });
    const c0 = await this.git.counters();
    const cpu0 = this.git.cpuSeconds();
    await Promise.all(this.devices.map((d) => d.sync()));
    await this.allRun(commit, 'every device to take the measured change');
    const c1 = await this.git.counters();
    return {
      server_cpu_s_per_device: (this.git.cpuSeconds() - cpu0) / this.devices.length,
      bytes_per_device: (c1.bytesSent - c0.bytesSent) / this.devices.length,
    };
  }

  async prometheusFigures(): Promise<SimResults['prometheus']> {
    const rate = await this.prometheus.query('sum(rate(prometheus_tsdb_head_samples_appended_total[1m]))');
    const series = await this.prometheus.query('prometheus_tsdb_head_series');
    const pushed = this.devices.reduce((sum, d) => sum + d.samplesPushed, 0);
    return {
      samples_per_s: Number(rate[0]?.value[1] ?? 0),
      series: Number(series[0]?.value[1] ?? 0),
      pushed_per_s: pushed / ((performance.now() - this.started) / 1000),
    };
  }

  host(): SimResults['host'] {
    return {
      sync_waits: this.shared!.slots.takeWaits(),
      event_loop_utilisation: performance.eventLoopUtilization(this.elu).utilization,
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.devices.map((d) => d.stop()));
    await this.git?.close();
    await this.prometheus?.close();
    await this.farm?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
