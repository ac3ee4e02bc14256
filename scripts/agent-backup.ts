// gitops agent export --config agent.yaml --out FILE
// gitops agent import FILE --config agent.yaml
// Backup and offline restore of a device (agent/daemon/backup.ts says what is in the file).

import { resolve } from 'node:path';
import { GitopsError } from '../agent/core/errors.js';
import { commitLabel } from '../agent/core/format/agent-answers.js';
import { exportBackup, importBackup } from '../agent/daemon/backup.js';
import { Hardware } from '../agent/daemon/hardware.js';
import { buildDaemon } from '../agent/daemon/main.js';
import { loadSettings } from '../agent/daemon/settings.js';
import { loadIdentities } from '../agent/io/sops-keys.js';
import { loadTrustStore } from '../agent/io/trust-store.js';
import { EXIT_OK, out, parse, redactor, warnTrustProblems } from './cli.js';

const USAGE = 'gitops agent export --config agent.yaml --out FILE | gitops agent import FILE --config agent.yaml';

function settingsOf(config: string | undefined): ReturnType<typeof loadSettings> {
  if (!config) throw new GitopsError('usage', '--config agent.yaml is required', `usage: ${USAGE}`);
  return loadSettings(config);
}

export async function exportCommand(args: string[]): Promise<number> {
  const { values } = parse(
    'agent export',
    args.slice(1),
    { config: { type: 'string', short: 'c' }, out: { type: 'string', short: 'o' } },
    USAGE,
  );
  if (values.help) return (out(`usage: ${USAGE}`), EXIT_OK);
  if (!values.out) throw new GitopsError('usage', 'agent export: --out FILE is required', `usage: ${USAGE}`);
  const r = await exportBackup(settingsOf(values.config), resolve(values.out));
  out(
    `wrote ${values.out}: ${r.environment}/${r.device}, history up to ${commitLabel(r.commit, r.subject)} ` +
      `(${r.bytes} bytes of git bundle), ${r.journal} journal entries, the state; no release, no secret, no key`,
  );
  return EXIT_OK;
}

export async function importCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    'agent import',
    args.slice(1),
    { config: { type: 'string', short: 'c' } },
    USAGE,
  );
  if (values.help) return (out(`usage: ${USAGE}`), EXIT_OK);
  const file = positionals[0];
  if (!file) throw new GitopsError('usage', 'agent import: give the backup FILE', `usage: ${USAGE}`);
  const settings = settingsOf(values.config);
  const trust = await loadTrustStore(settings.trust.dir);
  warnTrustProblems(trust);
  const hardware = new Hardware(settings.hardware_profile_file);
  const daemon = buildDaemon({
    environment: settings.environment,
    device: settings.device_id,
    stateDir: settings.state_dir,
    identities: await loadIdentities(settings.age_identity_file ? [settings.age_identity_file] : []),
    hardwareProfile: () => hardware.profile(),
    env: process.env,
    redactor,
  });
  const r = await importBackup(settings, daemon, trust, resolve(file));
  out(
    `restored ${commitLabel(r.commit, r.subject)}, signed by ${r.signer ?? '?'}: history verified against ` +
      `${settings.trust.dir}, rendered and validated for ${r.device}; start the agent to deliver it`,
  );
  return EXIT_OK;
}
