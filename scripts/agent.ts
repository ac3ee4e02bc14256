// gitops agent --config agent.yaml          the on-device agent, following a remote
// gitops agent --watch DIR --env E --device D   watch mode: apply edits of a working tree

import { join, resolve } from 'node:path';
import { GitopsError } from '../agent/core/errors.js';
import { listDevices, listEnvironments } from '../agent/core/repo/layout.js';
import { runAgent } from '../agent/daemon/main.js';
import { loadSettings } from '../agent/daemon/settings.js';
import { readWorkingTree } from '../agent/io/repo-files.js';
import { loadIdentities } from '../agent/io/sops-keys.js';
import { EXIT_OK, list, out, parse, redactor, warnTrustProblems } from './cli.js';
import { pickTarget } from './target.js';

const USAGE = [
  'gitops agent --config agent.yaml',
  'gitops agent --watch DIR --env E --device D [--state DIR] [--identity F]... [--hardware-profile FILE|recorded]' +
    ' [--listen HOST:PORT] [--tokens-file F] [--no-loopback-reads] [--bake SECONDS] [--with-example-pipeline]',
  'gitops agent status | journal | releases | diff | sync | rollback [--to R] [--reason TEXT]   (a running agent, through its API)',
  'gitops agent tune list | set PATH=VALUE [--ttl 30m] --reason TEXT | clear PATH   (operator leases on a running agent)',
  'gitops agent token add --name N --role viewer|operator | list | revoke --name N   (--tokens-file F)',
  'gitops agent export --config agent.yaml --out FILE | import FILE --config agent.yaml',
].join('\n       ');

const client = async (): Promise<(args: string[]) => Promise<number>> =>
  (await import('./agent-client.js')).clientCommand;
const SUBCOMMANDS: Record<string, () => Promise<(args: string[]) => Promise<number>>> = {
  status: client,
  journal: client,
  releases: client,
  diff: client,
  sync: client,
  rollback: client,
  tune: async () => (await import('./agent-tune.js')).tuneCommand,
  token: async () => (await import('./agent-token.js')).tokenCommand,
  export: async () => (await import('./agent-backup.js')).exportCommand,
  import: async () => (await import('./agent-backup.js')).importCommand,
};

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
  if (values.config === undefined && values.watch === undefined)
    throw new GitopsError('usage', 'give --config (follow a remote) or --watch DIR (development)', `usage: ${USAGE}`);
  const bake = values.bake === undefined ? undefined : Number(values.bake);
  if (bake !== undefined && !(bake >= 0))
    throw new GitopsError('usage', '--bake must be a number of seconds', 'e.g. --bake 2');

  const common = {
    bakeSeconds: bake,
    withExamplePipeline: values['with-example-pipeline'] === true,
    env: process.env,
    redactor,
    out,
  };
  if (values.watch !== undefined) {
    const dir = resolve(values.watch);
    if (!values.env || !values.device)
      throw new GitopsError('usage', 'watch mode needs --env and --device', `usage: ${USAGE}`);
    // a clear error now (exit 2, "did you mean") if DIR is not a configuration repository or the names are mistyped
    const files = readWorkingTree(dir);
    try {
      pickTarget(
        { environments: () => listEnvironments(files), devices: (e) => listDevices(files, e) },
        values.env,
        values.device,
        USAGE,
      );
    } catch (e) {
      throw e instanceof GitopsError ? new GitopsError('usage', e.message, e.hint, { cause: e }) : e;
    }
    await runAgent({
      ...common,
      mode: {
        kind: 'watch',
        dir,
        environment: values.env,
        device: values.device,
        stateDir: resolve(values.state ?? join(dir, '.agent-state')),
        identities: await loadIdentities(list(values.identity)),
        hardwareProfile: values['hardware-profile'],
        listen: values.listen ?? '127.0.0.1:8420',
        tokensFile: values['tokens-file'] ? resolve(values['tokens-file']) : undefined,
        allowLoopbackReads: !values['no-loopback-reads'],
      },
    });
  } else {
    const settings = loadSettings(values.config!);
    // checked here, at start (a trust directory without a usable key stops the agent); the cycle
    // worker reads it again where signatures are verified
    warnTrustProblems(await (await import('../agent/io/trust-store.js')).loadTrustStore(settings.trust.dir));
    await runAgent({
      ...common,
      mode: {
        kind: 'remote',
        settings,
        identities: await loadIdentities(settings.age_identity_file ? [settings.age_identity_file] : []),
        listen: values.listen,
        tokensFile: values['tokens-file'],
      },
    });
  }
  return EXIT_OK;
}
