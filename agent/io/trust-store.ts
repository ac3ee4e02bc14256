// The device's trust root: a directory with an OpenSSH `allowed_signers` file and armored
// OpenPGP public keys (`*.asc`) at its top level. It is pinned on the device (its settings),
// never taken from the configuration repository.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GitopsError } from '../core/errors.js';
import { parseAllowedSigners } from '../core/trust/allowed-signers.js';
import { readTrustedKeys } from '../core/trust/openpgp-verify.js';
import type { TrustStore } from '../core/trust/verify-object.js';

export async function loadTrustStore(dir: string): Promise<TrustStore> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new GitopsError(
      'trust-dir-unreadable',
      `cannot read the trust directory ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      'pass --trust with a directory holding allowed_signers and/or *.asc public keys',
      { cause: e },
    );
  }
  const store: TrustStore = { signers: [], pgpKeys: [], problems: [] };
  if (names.includes('allowed_signers')) {
    const file = join(dir, 'allowed_signers');
    const { signers, problems } = parseAllowedSigners(readFileSync(file, 'utf8'), file);
    store.signers.push(...signers);
    store.problems.push(...problems);
  }
  for (const name of names.filter((n) => n.endsWith('.asc')).sort()) {
    const file = join(dir, name);
    const { keys, problem } = await readTrustedKeys(readFileSync(file, 'utf8'), file);
    store.pgpKeys.push(...keys);
    if (problem) store.problems.push({ file, line: 1, message: problem });
  }
  if (store.signers.length === 0 && store.pgpKeys.length === 0) {
    throw new GitopsError(
      'trust-empty',
      `the trust directory ${dir} holds no usable key${store.problems.length ? ` (${store.problems.map((p) => `${p.file}:${p.line}: ${p.message}`).join('; ')})` : ''}`,
      'add an allowed_signers file or *.asc public keys at its top level',
    );
  }
  return store;
}
