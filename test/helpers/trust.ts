// Helpers for the signature tests: signing as if at another time, signing hand-made commits.

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './project.js';

/** A gpg wrapper that signs as if at a fixed time (for a key that has expired by now). */
export function fakedGpg(time: string): string {
  const file = join(tempDir(), 'gpg-faked');
  writeFileSync(file, `#!/bin/sh\nexec gpg --faked-system-time=${time} "$@"\n`, { mode: 0o755 });
  return file;
}

/** Git configuration (environment) that signs OpenPGP through fakedGpg(time). */
export const fakedGpgEnv = (time: string): Record<string, string> => ({
  GIT_CONFIG_COUNT: '1',
  GIT_CONFIG_KEY_0: 'gpg.program',
  GIT_CONFIG_VALUE_0: fakedGpg(time),
});

/** Signs a commit payload with `ssh-keygen -Y sign` and inserts the gpgsig header at the end of its headers, as git does. */
export function sshSignCommit(payload: Buffer, privateKey: string, namespace = 'git'): Buffer {
  const dir = tempDir();
  writeFileSync(join(dir, 'payload'), payload);
  execFileSync('ssh-keygen', ['-Y', 'sign', '-n', namespace, '-f', privateKey, join(dir, 'payload')], {
    stdio: 'pipe',
  });
  const sig = readFileSync(join(dir, 'payload.sig'), 'latin1').trimEnd().split('\n').join('\n ');
  return Buffer.from(payload.toString('latin1').replace('\n\n', `\ngpgsig ${sig}\n\n`), 'latin1');
}
