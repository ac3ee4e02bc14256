// Editing plaintext secrets safely: a 0600 file in a private 0700 directory, the user's
// $EDITOR, and the plaintext removed on every exit path, signals included.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GitopsError } from '../core/errors.js';
import { nodeProcessRunner } from './process.js';
import type { ProcessRunner } from './process.js';

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export async function editInPrivateFile(
  content: Buffer,
  name: string,
  editor: string,
  processes: ProcessRunner = nodeProcessRunner,
): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'gitops-secrets-'));
  const file = join(dir, name);
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  const onSignal = (signal: NodeJS.Signals): void => {
    cleanup();
    for (const s of SIGNALS) process.removeListener(s, onSignal);
    process.kill(process.pid, signal);
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  try {
    writeFileSync(file, content, { mode: 0o600 });
    // $EDITOR may carry arguments ("code --wait"): let the shell split it, pass the file as $1.
    const code = await processes.spawnInherit('/bin/sh', ['-c', `${editor} "$1"`, 'editor', file]);
    if (code !== 0)
      throw new GitopsError(
        'editor-failed',
        `the editor (${editor}) exited with status ${code}; nothing was written`,
        'set EDITOR to a working editor, and save and quit normally',
      );
    return readFileSync(file);
  } finally {
    cleanup();
    for (const s of SIGNALS) process.removeListener(s, onSignal);
  }
}
