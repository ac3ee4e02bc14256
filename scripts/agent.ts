// gitops agent --config agent.yaml          the on-device agent, following a remote
// gitops agent --watch DIR --env E --device D   watch mode: apply edits of a working tree

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { HardwareProfile } from '../agent/core/config/types.js';
import { GitopsError } from '../agent/core/errors.js';
import { hardwareProfileFile, listDevices, listEnvironments } from '../agent/core/repo/layout.js';
import { Agent } from '../agent/daemon/agent.js';
import { Hardware } from '../agent/daemon/hardware.js';
import { startApi } from '../agent/daemon/api.js';
import { hashToken } from '../agent/core/contracts/tokens.js';
import type { TokenEntry } from '../agent/core/contracts/tokens.js';
import { newToken, tokenSource } from '../agent/io/token-file.js';
import { Runner } from '../agent/daemon/runner.js';
import { loadSettings, PACKAGE_ROOT } from '../agent/daemon/settings.js';
import { WatchSource } from '../agent/daemon/watch-source.js';
import { redact } from '../agent/io/redactor.js';
import { readUserFile, readWorkingTree } from '../agent/io/repo-files.js';
import { loadIdentities } from '../agent/io/sops-keys.js';
import { EXIT_OK, list, out, parse, warnTrustProblems } from './cli.js';
import { pickTarget } from './target.js';

const USAGE = [
  'gitops agent --config agent.yaml',
  'gitops agent --watch DIR --env E --device D [--state DIR] [--identity F]... [--hardware-profile FILE|recorded] [--listen HOST:PORT] [--tokens-file F] [--no-loopback-reads] [--bake SECONDS] [--with-example-pipeline]',
  'gitops agent status | journal | releases | diff | sync | rollback [--to R] [--reason TEXT]   (a running agent, through its API)',
  'gitops agent token add --name N --role viewer|operator | list | revoke --name N   (--tokens-file F)',
  'gitops agent export --config agent.yaml --out FILE | import FILE --config agent.yaml',
].join('\n       ');

/** How long a stopping agent waits for the work in progress before it exits anyway. */
const STOP_GRACE_MS = 3000;

const client = async (): Promise<(args: string[]) => Promise<number>> =>
  (await import('./agent-client.js')).clientCommand;
const SUBCOMMANDS: Record<string, () => Promise<(args: string[]) => Promise<number>>> = {
  status: client,
  journal: client,
  releases: client,
  diff: client,
  sync: client,
  rollback: client,
  token: async () => (await import('./agent-token.js')).tokenCommand,
  export: async () => (await import('./agent-backup.js')).exportCommand,
  import: async () => (await import('./agent-backup.js')).importCommand,
};

/** The recorded profile of the device's model, read from the watched working tree at each use. */
function recordedProfile(repoDir: string, model: () => string): () => Promise<HardwareProfile> {
  return async () =>
    parseYaml(readUserFile(join(repoDir, hardwareProfileFile(model())), 'hardware profile')) as HardwareProfile;
}

export async function agentCommand(args: string[]): Promise<number> {
  const sub = args[0] !== undefined ? SUBCOMMANDS[args[0]] : undefined;
  if (sub) return (await sub())(args);
  const { values } = parse(
    'agent',
    args,
    {
      config: { type: 'string', short: 'c' },
      watch: { type: 'string' },
      env: { type: 'string', short: 'e' },
      device: { type: 'string', short: 'd' },
      state: { type: 'string' },
      identity: { type: 'string', multiple: true, short: 'i' },
      'hardware-profile': { type: 'string' },
      listen: { type: 'string' },
      'tokens-file': { type: 'string' },
      'no-loopback-reads': { type: 'boolean' },
      bake: { type: 'string' },
      'with-example-pipeline': { type: 'boolean' },
    },
    USAGE,
  );
  if (values.help) return (out(`usage: ${USAGE}`), EXIT_OK);
  const log = (line: string): void => out(redact(`[agent] ${line}`));
  if (values.config === undefined && values.watch === undefined)
    throw new GitopsError('usage', 'give --config (follow a remote) or --watch DIR (development)', `usage: ${USAGE}`);
  const bake = values.bake === undefined ? undefined : Number(values.bake);
  if (bake !== undefined && !(bake >= 0))
    throw new GitopsError('usage', '--bake must be a number of seconds', 'e.g. --bake 2');

  let agent: Agent;
  let runner: Runner;
  let stopSource = (): void => undefined;
  /** Watchers started once the API listens: a start that fails leaves nothing running. */
  const starters: Array<() => void> = [];
  let listen: string;
  let mode: string;
  let hardware: Hardware | undefined;
  let tokens: () => readonly TokenEntry[] = () => [];
  let allowLoopbackReads: boolean;
  let verify: ((commit: string) => Promise<string | undefined>) | undefined;
  let sessionToken: string | undefined;
  let perMinute: number | undefined;
  if (values.watch !== undefined) {
    const dir = resolve(values.watch);
    if (!values.env || !values.device)
      throw new GitopsError('usage', 'watch mode needs --env and --device', `usage: ${USAGE}`);
    const env = values.env;
    const device = values.device;
    // a clear error now (exit 2, "did you mean") if DIR is not a configuration repository or the names are mistyped
    const files = readWorkingTree(dir);
    try {
      pickTarget(
        { environments: () => listEnvironments(files), devices: (e) => listDevices(files, e) },
        env,
        device,
        USAGE,
      );
    } catch (e) {
      throw e instanceof GitopsError ? new GitopsError('usage', e.message, e.hint) : e;
    }
    const model = (): string =>
      String(
        (
          parseYaml(readUserFile(join(dir, `environments/${env}/devices/${device}.yaml`), 'device file')) as {
            device?: { model?: string };
          }
        ).device?.model ?? '',
      );
    agent = new Agent({
      environment: env,
      device,
      stateDir: resolve(values.state ?? join(dir, '.agent-state')),
      identities: await loadIdentities(list(values.identity)),
      hardwareProfile:
        values['hardware-profile'] === 'recorded'
          ? recordedProfile(dir, model)
          : (() => {
              const h = new Hardware(values['hardware-profile'], log);
              starters.push(() => h.watchDevices());
              return () => h.profile();
            })(),
      watchMode: true,
      ...(bake !== undefined ? { bakeSeconds: bake } : { bakeSeconds: 0 }),
      log,
      env: process.env,
    });
    const source = new WatchSource(agent, dir);
    runner = new Runner(agent, (t) => source.cycle(t), undefined, log);
    starters.push(() => source.start((trigger) => void runner.trigger(trigger)));
    stopSource = () => source.stop();
    listen = values.listen ?? '127.0.0.1:8420';
    mode = `watch ${dir}`;
    allowLoopbackReads = !values['no-loopback-reads'];
    if (values['tokens-file']) tokens = tokenSource(resolve(values['tokens-file']), log);
    else {
      // development: one operator token for this run, shown once in the page's address
      const token = newToken();
      sessionToken = token;
      const entry = { name: 'this-session', role: 'operator' as const, sha256: hashToken(token) };
      tokens = () => [entry];
    }
  } else {
    // remote mode only: the git client and the signature verifiers are not loaded in watch mode
    const [{ RemoteSource }, { loadTrustStore }] = await Promise.all([
      import('../agent/daemon/remote-source.js'),
      import('../agent/io/trust-store.js'),
    ]);
    const settings = loadSettings(values.config!);
    const identities = await loadIdentities(settings.age_identity_file ? [settings.age_identity_file] : []);
    const trust = await loadTrustStore(settings.trust.dir);
    warnTrustProblems(trust);
    hardware = new Hardware(settings.hardware_profile_file, log);
    const h = hardware;
    starters.push(() => h.watchDevices());
    agent = new Agent({
      environment: settings.environment,
      device: settings.device_id,
      stateDir: settings.state_dir,
      identities,
      hardwareProfile: () => h.profile(),
      ...(bake !== undefined ? { bakeSeconds: bake } : {}),
      log,
      env: process.env,
    });
    const source = new RemoteSource(agent, settings, trust);
    runner = new Runner(agent, (t) => source.sync(t), settings.poll_interval_seconds, log);
    listen = values.listen ?? settings.api.listen;
    allowLoopbackReads = settings.api.allow_loopback_reads;
    perMinute = settings.api.mutations_per_minute;
    const tokensFile = values['tokens-file'] ?? settings.api.tokens_file;
    if (tokensFile) tokens = tokenSource(tokensFile, log);
    else log('no api.tokens_file: only loopback reads are possible (no sync or rollback through the API)');
    verify = (commit) => source.verifyCommit(commit);
    mode = `remote ${settings.remote.url.replace(/\/\/[^@/]*@/, '//***@')} (${settings.remote.branch})`;
  }

  let pipeline: ChildProcess | undefined;
  if (values['with-example-pipeline']) {
    pipeline = spawn(
      process.execPath,
      [
        join(PACKAGE_ROOT, 'dist/examples/pipeline/example-pipeline.js'),
        '--components-dir',
        join(agent.options.stateDir, 'components'),
        '--root',
        join(PACKAGE_ROOT, 'examples/device-root'),
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
  }
  let api: Awaited<ReturnType<typeof startApi>>;
  try {
    await agent.recover();
    api = await startApi(
      {
        agent,
        runner,
        identity: { environment: agent.options.environment, device: agent.options.device, mode },
        tokens,
        allowLoopbackReads,
        log,
        ...(hardware ? { hardware } : {}),
        ...(verify ? { verify } : {}),
        ...(perMinute ? { rate: { perMinute, burst: 10 } } : {}),
      },
      listen,
    );
  } catch (e) {
    pipeline?.kill('SIGTERM'); // never leave the example pipeline behind
    throw e;
  }
  for (const start of starters) start();
  log(
    `${agent.options.environment}/${agent.options.device}, ${mode}; state in ${agent.options.stateDir}; API on ${api.url}`,
  );
  out(`status page: ${api.url}/${sessionToken ? `#token=${sessionToken}  (an operator token for this run only)` : ''}`);
  // component health: every 5 s while idle, and right after each apply or rollback
  const checkHealth = (): void =>
    void agent.checkHealth().catch((e: Error) => log(`health check failed: ${e.message}`));
  const monitor = setInterval(() => {
    if (!runner.busy) checkHealth();
  }, 5000);
  agent.events.subscribe((e) => {
    if (e.type === 'applied' || e.type === 'rolled-back') setImmediate(checkHealth);
  });
  monitor.unref();
  process.on('SIGHUP', () => void runner.trigger('signal'));
  runner.start();
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
      stopSource();
      void runner.stop().then(() => {
        clearInterval(monitor);
        void api.close();
        pipeline?.kill('SIGTERM');
        done();
      });
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return EXIT_OK;
}
