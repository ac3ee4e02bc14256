// The backup file: a gzipped tar of a few named files (any tar tool lists it). Written to a
// temporary name and renamed, mode 0600; read in memory, taking only the names asked for, so a
// crafted archive cannot write anywhere.

import { mkdtempSync, renameSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tar from 'tar';
import { GitopsError } from '../core/errors.js';

export async function writeArchive(out: string, files: Record<string, string | Buffer>): Promise<void> {
  const staging = mkdtempSync(join(tmpdir(), 'doorbell-backup-'));
  const tmp = join(dirname(out), `.${Date.now()}-${process.pid}.tmp`);
  try {
    for (const [name, data] of Object.entries(files)) writeFileSync(join(staging, name), data, { mode: 0o600 });
    await tar.c({ gzip: true, file: tmp, cwd: staging, portable: true }, Object.keys(files));
    chmodSync(tmp, 0o600);
    renameSync(tmp, out);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new GitopsError(
      'backup-write-failed',
      `cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      'check that its directory exists and is writable',
      { cause: e },
    );
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** The named files of an archive, in memory; other entries are ignored, oversized ones refused. */
export async function readArchive(
  file: string,
  names: readonly string[],
  maxBytes = 512 * 1024 * 1024,
): Promise<Map<string, Buffer>> {
  const found = new Map<string, Buffer>();
  let total = 0;
  try {
    await tar.t({
      file,
      onReadEntry(entry) {
        const name = entry.path.replace(/^\.\//, '');
        if (entry.type !== 'File' || !names.includes(name)) return void entry.resume();
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => {
          total += c.length;
          if (total <= maxBytes) chunks.push(c);
        });
        entry.on('end', () => found.set(name, Buffer.concat(chunks)));
      },
    });
  } catch (e) {
    throw new GitopsError(
      'backup-invalid',
      `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      'give a file written by gitops agent export',
      { cause: e },
    );
  }
  if (total > maxBytes)
    throw new GitopsError(
      'backup-invalid',
      `${file} holds more than ${maxBytes} bytes`,
      'this is not a backup of a doorbell agent',
    );
  return found;
}
