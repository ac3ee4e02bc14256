// The composition root of the on-device agent: the one place that builds the real io (release
// store, delivery, schema cache, clock, redactor, hardware, sources) and wires the agent, the
// runner, the API, the health monitor and the signals. `gitops agent` (scripts/agent.ts) parses
// its arguments and calls `runAgent`; `gitops agent import` calls `buildDaemon`.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { checkState } from '../core/contracts/agent-state.js';
import type { AgentState } from '../core/contracts/agent-state.js';
import type { HardwareProfile } from '../core/config/types.js';
import { hashToken } from '../core/contracts/tokens.js';
import type { TokenEntry } from '../core/contracts/tokens.js';
import { deviceFile, hardwareProfileFile } from '../core/repo/layout.js';
import type { Identities } from '../core/sops/keys.js';
import { systemClock } from '../io/clock.js';
import type { Clock } from '../io/clock.js';
import { Delivery } from '../io/delivery.js';
import { nodeProcessRunner } from '../io/process.js';
import type { Redactor } from '../io/redactor.js';
import { streamLogger } from '../io/logger.js';
import { LoadSignals } from '../io/load-signals.js';
import { ReleaseStore } from '../io/release-store.js';
import { readUserFile, readWorkingTree, treeSignature } from '../io/repo-files.js';
import type { CompiledSchemaCache } from '../core/schema/schema-set.js';
import { fileSchemaCache } from '../io/schema-cache.js';
import { newToken, tokenSource } from '../io/token-file.js';
import { watchTree } from '../io/tree-watcher.js';
import { Agent } from './agent.js';
import { startApi } from './api.js';
import { AgentEvents } from './events.js';
import { Governor } from './governor.js';
import { Hardware } from './hardware.js';
import { HealthMonitor } from './health-monitor.js';
import { Journal } from './journal.js';
import { RuntimeLayers } from './leases.js';
import { Releases } from './releases.js';
import { OperatorRollback } from './rollback.js';
import { Runner } from './runner.js';
import type { AgentSettings } from './settings.js';
import { PACKAGE_ROOT } from './settings.js';
import type { Source } from './source.js';
import { StateKeeper } from './state.js';
import { Switchover } from './switchover.js';
import { Ticker } from './ticker.js';
import { Experiments } from './experiments.js';
import { AgentMetrics } from './metrics.js';
import { registerTunerMetrics, Tuners } from './tuner.js';
import { REPO_ROOTS } from '../core/repo/layout.js';
import { WatchSource } from './watch-source.js';
import type { Isolate } from '../io/isolate.js';
import { cycleWorker, IsolatedRemoteSource, isolatedPreparer } from './isolated.js';
import type { Preparer } from './prepare.js';
import { plainIdentities } from '../core/sops/identities.js';
import { readRemoteToken } from './remote-token.js';

export interface DaemonConfig {
  environment: string;
  device: string;
  stateDir: string;
  identities: Identities;
  hardwareProfile: () => Promise<HardwareProfile>;
  bakeSeconds?: number;
  watchMode?: boolean;
  env: Readonly<Record<string, string | undefined>>;
  /** The process's redactor: decrypted secrets are registered with it, every answer and line passes it. */
  redactor: Redactor;
  log?: (line: string) => void;
  clock?: Clock;
  /** Compiled validators (default: kept in the state directory); many agents in one process share one. */
  schemaCache?: CompiledSchemaCache;
  /** Where candidates are prepared (runAgent: the cycle worker); unset: in this process. */
  preparer?: Preparer;
}

/** Everything a running agent is made of, built once. */
export interface Daemon {
  agent: Agent;
  state: StateKeeper;
  store: ReleaseStore;
  releases: Releases;
  journal: Journal;
  events: AgentEvents;
  health: HealthMonitor;
  rollback: OperatorRollback;
  delivery: Delivery;
  runtime: RuntimeLayers;
  clock: Clock;
  redact: (text: string) => string;
  log: (line: string) => void;
  stateDir: string;
}

/**
 * state.json as saved, or, when it is not an agent state (hand-edited, damaged), rebuilt from
 * what is on disk: the running release becomes applied and last good, generations continue
 * above every one the components have seen. The bad file is kept beside it and journaled.
 */
function openState(
  store: ReleaseStore,
  delivery: Delivery,
  journal: Journal,
  clock: Clock,
  log: (line: string) => void,
): StateKeeper {
  const read = store.readStateFile();
  const checked = 'error' in read ? { problem: read.error } : checkState(read.value);
  const keeper = (initial: AgentState): StateKeeper =>
    new StateKeeper(
      initial,
      (s) => store.writeState(s),
      () => clock.now(),
    );
  if ('state' in checked) return keeper(checked.state);
  const aside = store.setStateAside(clock.now());
  const running = store.current() ?? null;
  const state = keeper(StateKeeper.rebuilt(running, delivery.highestGeneration()));
  store.writeState(state.state);
  journal.record({
    event: 'recovered',
    commit: running,
    reason:
      `state.json was not an agent state (${checked.problem}); kept as ${aside} and rebuilt from the release store` +
      (running ? `: running ${running.slice(0, 12)}` : ''),
  });
  log(`warning: state.json was not an agent state (${checked.problem}); kept as ${aside}, rebuilt`);
  return state;
}

export function buildDaemon(c: DaemonConfig): Daemon {
  const clock = c.clock ?? systemClock;
  const log = c.log ?? (() => undefined);
  const redact = (text: string): string => c.redactor.redact(text);
  const store = new ReleaseStore(c.stateDir);
  const delivery = new Delivery(join(c.stateDir, 'components'), nodeProcessRunner);
  const events = new AgentEvents(() => clock.now());
  const journal = new Journal(store, events, () => clock.now());
  const state = openState(store, delivery, journal, clock, log);
  const releases = new Releases(store, () => state.state, redact);
  const switchover = new Switchover(delivery, state, (id) => store.switchCurrent(id), clock);
  const health = new HealthMonitor(delivery, releases, journal, clock, redact);
  // compiled validators kept in the state directory: no schema compiler in memory after the first run
  const schemaCache = c.schemaCache ?? fileSchemaCache(join(c.stateDir, 'cache'));
  const runtime = new RuntimeLayers({
    releases,
    store,
    switchover,
    delivery,
    state,
    journal,
    clock,
    schemaCache,
    hardwareProfile: c.hardwareProfile,
    ...(c.bakeSeconds !== undefined ? { bakeSeconds: c.bakeSeconds } : {}),
    redact,
    log,
  });
  runtime.load();
  const rollback = new OperatorRollback({
    releases,
    state,
    switchover,
    journal,
    runtime,
    clock,
    redact,
    log,
    ...(c.bakeSeconds !== undefined ? { bakeSeconds: c.bakeSeconds } : {}),
  });
  const agent = new Agent({
    environment: c.environment,
    device: c.device,
    identities: c.identities,
    redactor: c.redactor,
    hardwareProfile: c.hardwareProfile,
    ...(c.bakeSeconds !== undefined ? { bakeSeconds: c.bakeSeconds } : {}),
    ...(c.watchMode !== undefined ? { watchMode: c.watchMode } : {}),
    env: c.env,
    state,
    releases,
    journal,
    switchover,
    delivery,
    runtime,
    schemaCache,
    ...(c.preparer ? { preparer: c.preparer } : {}),
    clock,
    redact,
    log,
  });
  return {
    agent,
    state,
    store,
    releases,
    journal,
    events,
    health,
    rollback,
    delivery,
    runtime,
    clock,
    redact,
    log,
    stateDir: c.stateDir,
  };
}

/** How long a stopping agent waits for the work in progress before it exits anyway. */
export const STOP_GRACE_MS = 3000;

export type AgentMode =
  | {
      kind: 'watch';
      dir: string;
      environment: string;
      device: string;
      stateDir: string;
      identities: Identities;
      /** A profile file, `recorded` (the model's profile in the watched tree), or undefined: probe. */
      hardwareProfile: string | undefined;
      listen: string;
      tokensFile: string | undefined;
      allowLoopbackReads: boolean;
    }
  | {
      kind: 'remote';
      settings: AgentSettings;
      identities: Identities;
      listen: string | undefined;
      tokensFile: string | undefined;
    };

export interface RunOptions {
  mode: AgentMode;
  bakeSeconds: number | undefined;
  withExamplePipeline: boolean;
  env: Readonly<Record<string, string | undefined>>;
  redactor: Redactor;
  /** Standard output: the status page's address, and the log lines (each through the redactor). */
  out: (line: string) => void;
}

/** The recorded profile of the device's model, read from the watched working tree at each use. */
function recordedProfile(dir: string, env: string, device: string): () => Promise<HardwareProfile> {
  const model = (): string =>
    String(
      (parseYaml(readUserFile(join(dir, deviceFile(env, device)), 'device file')) as { device?: { model?: string } })
        .device?.model ?? '',
    );
  return async () =>
    parseYaml(readUserFile(join(dir, hardwareProfileFile(model())), 'hardware profile')) as HardwareProfile;
}

/** The agent's cycle worker: told the device, its identities, the environment, the validators' cache and, in remote mode, the settings. */
function agentWorker(
  d: { environment: string; device: string; identities: Identities; stateDir: string; settings?: AgentSettings },
  env: Readonly<Record<string, string | undefined>>,
  log: (line: string) => void,
): Isolate {
  return cycleWorker(
    {
      environment: d.environment,
      device: d.device,
      identities: plainIdentities(d.identities),
      env: { ...env },
      watchMode: d.settings === undefined,
      schemaCacheDir: join(d.stateDir, 'cache'),
      ...(d.settings ? { settings: d.settings } : {}),
    },
    log,
  );
}

/** Runs the agent until SIGTERM or SIGINT. */
export async function runAgent(o: RunOptions): Promise<void> {
  const logger = streamLogger({
    stream: { write: (text: string) => o.out(text) },
    redactor: o.redactor,
    format: 'plain',
    prefix: '[agent] ',
  });
  const log = (line: string): void => logger.info(line);
  const m = o.mode;
  /** Watchers started once the API listens: a start that fails leaves nothing running. */
  const starters: Array<() => void> = [];
  const stoppers: Array<() => void> = [];
  let hardware: Hardware | undefined;
  let daemon: Daemon;
  let source: Source;
  let pollSeconds: number | undefined;
  let tokens: () => readonly TokenEntry[] = () => [];
  let sessionToken: string | undefined;
  let verify: ((commit: string) => Promise<string | undefined>) | undefined;
  let perMinute: number | undefined;
  let listen: string;
  let allowLoopbackReads: boolean;
  let description: string;
  if (m.kind === 'watch') {
    let profile: () => Promise<HardwareProfile>;
    if (m.hardwareProfile === 'recorded') profile = recordedProfile(m.dir, m.environment, m.device);
    else {
      const h = new Hardware(m.hardwareProfile, log);
      starters.push(() => h.watchDevices());
      stoppers.push(() => h.stop());
      profile = () => h.profile();
    }
    // the worker stays warm between edits: an edit is applied without starting one
    const worker = agentWorker(m, o.env, log);
    stoppers.push(() => void worker.end());
    daemon = buildDaemon({
      environment: m.environment,
      device: m.device,
      stateDir: m.stateDir,
      identities: m.identities,
      hardwareProfile: profile,
      preparer: isolatedPreparer(worker, o.redactor, profile),
      watchMode: true,
      bakeSeconds: o.bakeSeconds ?? 0,
      env: o.env,
      redactor: o.redactor,
      log,
    });
    const watch = new WatchSource({
      readTree: () => readWorkingTree(m.dir),
      signature: () => treeSignature(m.dir),
      watch: (onChange) => watchTree(m.dir, REPO_ROOTS, 40, onChange),
    });
    source = watch;
    starters.push(() => watch.start((trigger) => void runner.trigger(trigger)));
    stoppers.push(() => watch.stop());
    listen = m.listen;
    allowLoopbackReads = m.allowLoopbackReads;
    description = `watch ${m.dir}`;
    if (m.tokensFile) tokens = tokenSource(m.tokensFile, log);
    else {
      // development: one operator token for this run, shown once in the page's address
      const token = newToken();
      sessionToken = token;
      const entry = { name: 'this-session', role: 'operator' as const, sha256: hashToken(token) };
      tokens = () => [entry];
    }
  } else {
    // the git client, the signature verifiers and the decrypter are loaded in the cycle worker only
    const s = m.settings;
    const h = (hardware = new Hardware(s.hardware_profile_file, log));
    starters.push(() => h.watchDevices());
    stoppers.push(() => h.stop());
    const worker = agentWorker(
      { environment: s.environment, device: s.device_id, identities: m.identities, stateDir: s.state_dir, settings: s },
      o.env,
      log,
    );
    stoppers.push(() => void worker.end());
    daemon = buildDaemon({
      environment: s.environment,
      device: s.device_id,
      stateDir: s.state_dir,
      identities: m.identities,
      hardwareProfile: () => h.profile(),
      preparer: isolatedPreparer(worker, o.redactor, () => h.profile()),
      ...(o.bakeSeconds !== undefined ? { bakeSeconds: o.bakeSeconds } : {}),
      env: o.env,
      redactor: o.redactor,
      log,
    });
    const d = daemon;
    const remote = new IsolatedRemoteSource(worker, () => d.state.state, s, readRemoteToken);
    source = remote;
    pollSeconds = s.poll_interval_seconds;
    listen = m.listen ?? s.api.listen;
    allowLoopbackReads = s.api.allow_loopback_reads;
    perMinute = s.api.mutations_per_minute;
    const tokensFile = m.tokensFile ?? s.api.tokens_file;
    if (tokensFile) tokens = tokenSource(tokensFile, log);
    else log('no api.tokens_file: only loopback reads are possible (no sync or rollback through the API)');
    verify = (commit) => remote.verifyCommit(commit);
    description = `remote ${s.remote.url.replace(/\/\/[^@/]*@/, '//***@')} (${s.remote.branch})`;
  }
  const { agent, health, events, state } = daemon;
  const runner = new Runner(
    { state, events, clock: daemon.clock, redact: daemon.redact, log },
    (trigger) => agent.sync(source, trigger),
    pollSeconds,
  );
  // the machine's load, sampled only while a release runs the governor
  const load = new LoadSignals();
  const governor = new Governor({
    releases: daemon.releases,
    runtime: daemon.runtime,
    runner,
    delivery: daemon.delivery,
    sampleMachine: async () => load.sample(daemon.clock.now().getTime()).values,
    journal: daemon.journal,
    events,
    clock: daemon.clock,
    log,
  });

  const experiments = new Experiments({
    releases: daemon.releases,
    runtime: daemon.runtime,
    runner,
    clock: daemon.clock,
    log,
  });

  // the tuning runs of the running release: trials as tuner-owned leases, aborted when the governor acts
  const tuners = new Tuners({
    device: daemon.agent.deps.device,
    releases: daemon.releases,
    runtime: daemon.runtime,
    runner,
    sample: () => governor.samples(),
    governor: () => governor.view(),
    healthy: () => [...health.health.values()].every((h) => h.healthy),
    clock: daemon.clock,
    log,
  });

  const pipeline: ChildProcess | undefined = o.withExamplePipeline
    ? spawn(
        process.execPath,
        [
          join(PACKAGE_ROOT, 'dist/examples/pipeline/example-pipeline.js'),
          '--components-dir',
          join(daemon.stateDir, 'components'),
          '--root',
          join(PACKAGE_ROOT, 'examples/device-root'),
        ],
        { stdio: ['ignore', 'inherit', 'inherit'] },
      )
    : undefined;
  let api: Awaited<ReturnType<typeof startApi>>;
  const environment = agent.deps.environment;
  const device = agent.deps.device;
  try {
    await agent.recover(daemon.store);
    api = await startApi(
      {
        daemon,
        runner,
        identity: { environment, device, mode: description },
        tokens,
        allowLoopbackReads,
        log,
        governor: () => governor.view(),
        experiments: () => experiments.view(),
        figures: () => governor.figures(),
        tuning: () => tuners.view(),
        ...(hardware ? { hardware } : {}),
        ...(verify ? { verify } : {}),
        ...(perMinute ? { rate: { perMinute, burst: 10 } } : {}),
      },
      listen,
    );
    const metrics = AgentMetrics.of(daemon);
    if (metrics) registerTunerMetrics(metrics.registry, () => tuners.tuners);
    // fleet telemetry: pushed, so that a device behind NAT needs no inbound connection
    const pushTo = m.kind === 'remote' ? m.settings.telemetry?.remote_write : undefined;
    if (pushTo) {
      // the remote-write encoder (protobuf, snappy) is loaded only where telemetry is pushed
      const { startTelemetry } = await import('./telemetry.js');
      const pusher = startTelemetry(pushTo, daemon, { environment, device }, log);
      stoppers.push(() => void pusher.stop());
    }
  } catch (e) {
    pipeline?.kill('SIGTERM'); // never leave the example pipeline behind
    throw e;
  }
  for (const start of starters) start();
  log(`${environment}/${device}, ${description}; state in ${daemon.stateDir}; API on ${api.url}`);
  o.out(
    `status page: ${api.url}/${sessionToken ? `#token=${sessionToken}  (an operator token for this run only)` : ''}`,
  );
  // component health: every 5 s while idle, and right after each apply or rollback
  health.start(events, () => runner.busy, log);
  process.on('SIGHUP', () => void runner.trigger('signal'));
  runner.start();
  const ticker = new Ticker({
    runtime: daemon.runtime,
    runner,
    log,
    governor: () => governor.tick(),
    experiments: () => experiments.tick(),
    tuner: () => tuners.tick(),
    quiet: () =>
      daemon.runtime.leases.length === 0 &&
      !governor.active() &&
      experiments.view().length === 0 &&
      tuners.tuners.length === 0,
  });
  // a lease set, a release applied or rolled back: the next beat comes within a second
  events.subscribe(() => ticker.poke());
  ticker.start();
  stoppers.push(() => ticker.stop());
  await new Promise<void>((done) => {
    const stop = (): void => {
      log('stopping');
      // whatever it is doing (a bake, a component that does not answer), the agent is gone within
      // a few seconds: every step is crash-safe, so an apply cut short is taken up at the next start
      setTimeout(() => {
        log(`stopped in the middle of ${runner.busy ? 'a sync' : 'shutting down'}; it is taken up at the next start`);
        pipeline?.kill('SIGTERM');
        process.exit(0);
      }, STOP_GRACE_MS).unref();
      for (const s of stoppers) s();
      void runner.stop().then(() => {
        health.stop();
        void api.close();
        pipeline?.kill('SIGTERM');
        done();
      });
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
