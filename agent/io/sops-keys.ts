// Where this machine's SOPS identities come from, as sops looks for them: --identity FILE
// (repeatable), else SOPS_AGE_KEY_FILE, else SOPS_AGE_KEY, else ~/.config/sops/age/keys.txt.
// Also finding .sops.yaml from the working directory upwards.

import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { GitopsError } from '../core/errors.js';
import { addIdentityText, emptyIdentities } from '../core/sops/identities.js';
import type { Identities } from '../core/sops/keys.js';
import { parseSopsConfig } from '../core/sops/sops-config.js';
import type { CreationRule } from '../core/sops/sops-config.js';

export async function loadIdentities(
  identityFiles: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Identities> {
  const ids = emptyIdentities();
  const fromFile = async (path: string, label: string): Promise<void> => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new GitopsError(
        'sops-identity-unreadable',
        `cannot read the identity ${label}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        'check the path and its permissions',
      );
    }
    await addIdentityText(ids, text, label);
  };
  if (identityFiles.length > 0) {
    for (const f of identityFiles) await fromFile(f, f);
    return ids;
  }
  if (env.SOPS_AGE_KEY_FILE) {
    await fromFile(env.SOPS_AGE_KEY_FILE, `SOPS_AGE_KEY_FILE (${env.SOPS_AGE_KEY_FILE})`);
    return ids;
  }
  if (env.SOPS_AGE_KEY) {
    await addIdentityText(ids, env.SOPS_AGE_KEY, 'SOPS_AGE_KEY');
    return ids;
  }
  const keys = join(env.XDG_CONFIG_HOME ?? join(env.HOME ?? homedir(), '.config'), 'sops', 'age', 'keys.txt');
  if (existsSync(keys)) await fromFile(keys, keys);
  return ids;
}

/** The nearest .sops.yaml from `cwd` upwards (at most 100 levels), as sops searches. */
export function findSopsConfig(cwd: string): { file: string; dir: string; rules: CreationRule[] } | undefined {
  let dir = resolve(cwd);
  for (let i = 0; i < 100; i++) {
    const file = join(dir, '.sops.yaml');
    if (existsSync(file)) return { file, dir, rules: parseSopsConfig(readFileSync(file, 'utf8'), file) };
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}
