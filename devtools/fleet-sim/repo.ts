// The simulated fleet's configuration repository: the example configuration with one more
// environment, `fleet`, of N devices (sim-00000, ...) declaring a staged rollout with bake times
// scaled down, whose components are reached over HTTP at a component farm (farm.ts) under each
// device's id. Committed and signed with a key made for the run (fleet-remote.ts).

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import type { YAMLMap, YAMLSeq } from 'yaml';
import { encryptFile } from '../../agent/core/sops/sops-file.js';
import { fleetRemote } from '../fleet-remote.js';
import type { FleetRemote } from '../fleet-remote.js';

export const SIM_ENV = 'fleet';

export interface SimWave {
  name: string;
  /** Percent of the devices (the last wave takes the rest). */
  share?: number;
  bakeSeconds: number;
}

export interface SimRepoOptions {
  devices: number;
  waves: SimWave[];
  /** The component farm's base URL (http://127.0.0.1:PORT). */
  farm: string;
  gates: { maxRolledBack: number; maxRefusing: number };
  /** Each device's age recipient, by index. */
  recipients: readonly string[];
}

export const simDeviceId = (i: number): string => `sim-${String(i).padStart(5, '0')}`;

/** The repository, its first commit made (not pushed); the ids of its devices. */
export function buildSimRepo(root: string, dir: string, o: SimRepoOptions): { remote: FleetRemote; devices: string[] } {
  // commits dated a day ago: a device's clock is never behind them
  const remote = fleetRemote(
    root,
    dir,
    { name: 'Fleet Sim', email: 'sim@example.test' },
    Math.floor(Date.now() / 1000) - 86_400,
  );
  const work = remote.work;
  const envDir = join(work, 'environments', SIM_ENV);
  // the simulated environment only: the others' devices and secrets are not the fleet's
  for (const env of ['development', 'staging', 'production']) {
    if (env === 'development') continue;
    rmSync(join(work, 'environments', env), { recursive: true, force: true });
  }
  mkdirSync(join(envDir, 'devices'), { recursive: true });
  const dev = (file: string): string => readFileSync(join(work, 'environments/development', file), 'utf8');

  const env = parseDocument(dev('environment.yaml'));
  env.set('name', SIM_ENV);
  env.set('description', `A simulated fleet of ${o.devices} doorbells.`);
  env.set('rollout', {
    seed: `${SIM_ENV}-1`,
    waves: o.waves.map((w) => ({
      name: w.name,
      ...(w.share !== undefined ? { share: w.share } : {}),
      bake: w.bakeSeconds,
    })),
    gates: { max_rolled_back: o.gates.maxRolledBack, max_refusing: o.gates.maxRefusing, no_data: 'hold' },
  });
  writeFileSync(join(envDir, 'environment.yaml'), env.toString());

  const overrides = parseDocument(dev('overrides.yaml'));
  overrides.delete('components');
  overrides.setIn(['web_interface', 'auth'], { mode: 'none' });
  writeFileSync(join(envDir, 'overrides.yaml'), overrides.toString());
  rmSync(join(work, 'environments/development'), { recursive: true, force: true });

  // every component reconfigured and judged over HTTP at the farm, under the device's own id
  const components = parseDocument(readFileSync(join(work, 'config/components.yaml'), 'utf8'));
  for (const { key } of (components.get('components') as { items: Array<{ key: { value: string } }> }).items) {
    const url = `${o.farm}/d/\${device.id}/${key.value}`;
    components.setIn(['components', key.value, 'reload'], { method: 'http', url, timeout_ms: 10_000 });
    components.setIn(['components', key.value, 'health'], {
      url: `${url}/healthz`,
      timeout_ms: 10_000,
      bake_seconds: 1,
    });
  }
  writeFileSync(join(work, 'config/components.yaml'), components.toString());

  const devices = Array.from({ length: o.devices }, (_, i) => simDeviceId(i));
  devices.forEach((id, i) =>
    writeFileSync(
      join(envDir, 'devices', `${id}.yaml`),
      `version: 2\ndevice:\n  id: ${id}\n  model: edge-p4-c920\n  age_recipient: ${o.recipients[i]}\n` +
        'detectors:\n  person:\n    runtime: cuda\n',
    ),
  );
  return { remote, devices };
}

/**
 * The fleet's secrets, encrypted to every device's own age key (a creation rule of a thousand
 * recipients): each device decrypts them with its key alone when it applies a commit.
 */
export async function writeFleetSecrets(work: string, recipients: readonly string[]): Promise<void> {
  const sops = parseDocument(readFileSync(join(work, '.sops.yaml'), 'utf8'));
  const rules = (sops.get('creation_rules') as YAMLSeq).items.filter(
    (r) => !String((r as YAMLMap).get('path_regex')).includes(SIM_ENV),
  );
  rules.push(sops.createNode({ path_regex: `^environments/${SIM_ENV}/`, age: recipients.join(',') }));
  sops.set('creation_rules', rules);
  writeFileSync(join(work, '.sops.yaml'), sops.toString());
  const file = `environments/${SIM_ENV}/secrets.sops.yaml`;
  const plain = 'frame_capture:\n  username: sim\n  password: simulated-camera-password\n';
  writeFileSync(
    join(work, file),
    await encryptFile(Buffer.from(plain), file, { groups: [[...recipients]] }, new Date()),
  );
}
