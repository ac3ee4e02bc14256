// Decrypting an environment's secrets.sops.yaml for rendering (on the device, or with
// `gitops render --reveal-secrets`): every value is registered with the redactor first.

import type { JsonObject } from '../core/json/value.js';
import { isObject } from '../core/json/value.js';
import { secretsFile } from '../core/repo/layout.js';
import type { RepoFiles } from '../core/repo/layout.js';
import type { Identities } from '../core/sops/keys.js';
import { decryptFile } from '../core/sops/sops-file.js';
import { toPlain } from '../core/sops/tree.js';
import type { Redactor } from './redactor.js';

/** Registers every string and number in `v` (a decrypted tree) with `redactor`. */
export function registerValues(redactor: Redactor, v: unknown): void {
  if (typeof v === 'string') redactor.register(v);
  else if (typeof v === 'number') redactor.register(String(v));
  else if (Array.isArray(v)) for (const x of v) registerValues(redactor, x);
  else if (isObject(v)) for (const x of Object.values(v)) registerValues(redactor, x);
}

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
