// Where this machine's SOPS identities come from, as sops looks for them: --identity FILE
// (repeatable), else SOPS_AGE_KEY_FILE, else SOPS_AGE_KEY, else ~/.config/sops/age/keys.txt.
// Also finding .sops.yaml from the working directory upwards, the creation rule that picks a file,
// and reading a secrets file with its size cap.

import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { GitopsError } from '../core/errors.js';
import { addIdentityText, emptyIdentities } from '../core/sops/identities.js';
import type { Identities } from '../core/sops/keys.js';
import { parseSopsConfig, pickCreationRule } from '../core/sops/sops-config.js';
import type { CreationRule } from '../core/sops/sops-config.js';
import { readBoundedFile } from './local-files.js';

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
        { cause: e },
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

/**
 * The creation rule that picks `file` in the nearest .sops.yaml from `cwd` upwards; undefined
 * when there is no .sops.yaml (a .sops.yaml whose rules miss the file is an error).
 */
export function creationRuleFor(file: string, cwd: string): { configFile: string; rule: CreationRule } | undefined {
  const config = findSopsConfig(cwd);
  if (!config) return undefined;
  const rel = relative(config.dir, resolve(cwd, file)).split('\\').join('/');
  return { configFile: config.file, rule: pickCreationRule(config.rules, rel, config.file) };
}

const MAX_SECRETS_BYTES = 4 * 1024 * 1024;

/** A secrets file's bytes; one over 4 MiB is refused before it is read. */
export const readSecretsFile = (file: string): Buffer =>
  readBoundedFile(
    file,
    MAX_SECRETS_BYTES,
    (size) =>
      new GitopsError(
        'sops-file-too-large',
        `${file} is ${(size / 1024 / 1024).toFixed(1)} MiB; secrets files are limited to ${MAX_SECRETS_BYTES / 1024 / 1024} MiB`,
        'keep large data out of secrets files (store a path or a URL instead)',
      ),
  );
