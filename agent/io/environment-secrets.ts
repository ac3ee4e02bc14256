// Decrypting an environment's secrets.sops.yaml for rendering (on the device, or with
// `gitops render --reveal-secrets`): every value is registered with the redactor first.

import type { JsonObject } from '../core/json/value.js';
import { isObject } from '../core/json/value.js';
import { secretsFile } from '../core/repo/layout.js';
import type { RepoFiles } from '../core/repo/layout.js';
import type { Identities } from '../core/sops/keys.js';
import { decryptFile } from '../core/sops/sops-file.js';
import { toPlain } from '../core/sops/tree.js';
import { registerValues } from './redactor.js';
import type { Redactor } from './redactor.js';

/**
 * The decrypted secrets of `env`, or undefined when the environment has no secrets file; every
 * value is registered with `redactor` (the process's, from its composition root) before it is returned.
 */
export async function decryptEnvironmentSecrets(
  files: RepoFiles,
  env: string,
  ids: Identities,
  redactor: Redactor,
): Promise<JsonObject | undefined> {
  const file = secretsFile(env);
  const text = files.get(file);
  if (text === undefined) return undefined;
  const d = await decryptFile(Buffer.from(text, 'utf8'), file, ids);
  const plain = toPlain(d.branches[0]!);
  registerValues(redactor, plain);
  return isObject(plain) ? (plain as JsonObject) : {};
}
