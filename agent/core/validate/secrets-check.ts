// What CI checks about an environment's secrets file without any key: it is a well-formed sops
// file, every value its rule says must be encrypted is, its recipients are exactly what
// .sops.yaml names for it, and every device of the environment can decrypt it.

import type { Diagnostic } from './diagnostics.js';
import { GitopsError } from '../errors.js';
import { isObject } from '../json/value.js';
import { deviceFile, secretsFile } from '../repo/layout.js';
import type { Repository } from '../repo/repository.js';
import { parseEnc } from '../sops/cipher.js';
import { plaintextLeaves } from '../sops/edit.js';
import { pickCreationRule, parseSopsConfig } from '../sops/sops-config.js';
import { readEncrypted } from '../sops/sops-file.js';
import { locate } from '../repo/yaml-source.js';

export const SOPS_CONFIG = '.sops.yaml';

/**
 * The secrets file of `env` and whether `devices` (all of the environment's by default; a pool's
 * part checks its own, checkDeviceRecipients) can decrypt it.
 */
export function checkSecretsFile(
  repo: Repository,
  env: string,
  devices: readonly string[] = repo.devices(env),
): Diagnostic[] {
  const file = secretsFile(env);
  const text = repo.files.get(file);
  if (text === undefined) return [];
  const out: Diagnostic[] = [];
  const at = (pointer: string): { line?: number; column?: number } => {
    const d = repo.document(file);
    return (d && locate(d.positions, pointer, true)) ?? { line: 1, column: 1 };
  };
  let parsed;
  try {
    parsed = readEncrypted(Buffer.from(text, 'utf8'), file);
  } catch (e) {
    if (!(e instanceof GitopsError)) throw e;
    return [
      {
        severity: 'error',
        code: 'secrets-invalid',
        message: e.message,
        file,
        line: 1,
        column: 1,
        ...(e.hint ? { hint: e.hint } : {}),
      },
    ];
  }
  for (const path of plaintextLeaves(parsed.branches, parsed.metadata.rule)) {
    out.push({
      severity: 'error',
      code: 'secrets-plaintext',
      message: `${path} in ${file} is not encrypted, but its rule (${parsed.metadata.rule.kind}: ${parsed.metadata.rule.value}) says it must be`,
      file,
      ...at('/' + path.split('.').join('/')),
      path,
      hint: `remove it and set it again with gitops secrets set ${file} ${path} -`,
    });
  }
  if (!parseEnc(parsed.metadata.mac))
    out.push({
      severity: 'error',
      code: 'secrets-invalid',
      message: `${file} has no well-formed MAC`,
      file,
      ...at('/sops/mac'),
      hint: 'a file without a valid MAC cannot be shown to be unaltered; re-encrypt it',
    });

  const recipients = recipientsOf(parsed);
  const configText = repo.files.get(SOPS_CONFIG);
  if (configText === undefined) {
    out.push({
      severity: 'error',
      code: 'sops-config-missing',
      message: `${file} exists but the repository has no ${SOPS_CONFIG}`,
      file: SOPS_CONFIG,
      hint: 'add .sops.yaml with one creation rule per environment',
    });
  } else {
    try {
      const rule = pickCreationRule(parseSopsConfig(configText, SOPS_CONFIG), file, SOPS_CONFIG);
      const wanted = new Set(rule.groups.flat());
      for (const r of wanted)
        if (!recipients.has(r))
          out.push({
            severity: 'error',
            code: 'secrets-recipients',
            message: `${file} is not encrypted to ${r}, which ${SOPS_CONFIG} (rule ${rule.index}) names`,
            file,
            ...at('/sops'),
            hint: `re-wrap its data key: gitops secrets updatekeys ${file}`,
          });
      for (const r of recipients)
        if (!wanted.has(r))
          out.push({
            severity: 'error',
            code: 'secrets-recipients',
            message: `${file} is still encrypted to ${r}, which ${SOPS_CONFIG} no longer names`,
            file,
            ...at('/sops'),
            hint: `remove it: gitops secrets updatekeys ${file}, then gitops secrets rotate ${file} (a removed key may keep a copy of the old data key)`,
          });
    } catch (e) {
      if (!(e instanceof GitopsError)) throw e;
      out.push({
        severity: 'error',
        code: e.code,
        message: e.message,
        file: SOPS_CONFIG,
        ...(e.hint ? { hint: e.hint } : {}),
      });
    }
  }
  out.push(...deviceRecipients(repo, env, recipients, devices));
  return out;
}

/** Whether each of `devices` can decrypt the secrets file of `env` (none when it has none, or it cannot be read). */
export function checkDeviceRecipients(repo: Repository, env: string, devices: readonly string[]): Diagnostic[] {
  const text = repo.files.get(secretsFile(env));
  if (text === undefined || devices.length === 0) return [];
  let recipients: Set<string>;
  try {
    recipients = recipientsOf(readEncrypted(Buffer.from(text, 'utf8'), secretsFile(env)));
  } catch (e) {
    if (!(e instanceof GitopsError)) throw e;
    return [];
  }
  return deviceRecipients(repo, env, recipients, devices);
}

const recipientsOf = (parsed: ReturnType<typeof readEncrypted>): Set<string> =>
  new Set(parsed.metadata.keyGroups.flatMap((g) => g.age.map((a) => a.recipient)));

function deviceRecipients(
  repo: Repository,
  env: string,
  recipients: ReadonlySet<string>,
  devices: readonly string[],
): Diagnostic[] {
  const file = secretsFile(env);
  const out: Diagnostic[] = [];
  for (const device of devices) {
    const d = repo.document(deviceFile(env, device));
    const meta = d?.value && isObject(d.value.device) ? d.value.device : undefined;
    const recipient = typeof meta?.age_recipient === 'string' ? meta.age_recipient : undefined;
    if (!recipient) {
      out.push({
        severity: 'error',
        code: 'device-no-recipient',
        message: `device ${device} has no age_recipient, so it cannot decrypt ${file}`,
        file: deviceFile(env, device),
        ...(d ? (locate(d.positions, '/device', true) ?? {}) : {}),
        hint: "add device.age_recipient (the public key of the device's age identity) and list it in .sops.yaml",
      });
    } else if (!recipients.has(recipient)) {
      out.push({
        severity: 'error',
        code: 'secrets-recipients',
        message: `device ${device} (${recipient.slice(0, 16)}…) cannot decrypt ${file}: it is not one of its recipients`,
        file: deviceFile(env, device),
        ...(d ? (locate(d.positions, '/device/age_recipient') ?? {}) : {}),
        hint: `add the key to the ${env} rule in .sops.yaml, then gitops secrets updatekeys ${file}`,
      });
    }
  }
  return out;
}
