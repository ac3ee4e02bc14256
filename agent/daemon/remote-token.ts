// The remote's deploy token, read from remote.token_file at each sync (it may be rotated).

import { GitopsError } from '../core/errors.js';
import { readRegularFile } from '../io/safe-read.js';

/** A remote's access token is a line; a file named by mistake (a FIFO, a disk image) is not read whole. */
const MAX_TOKEN_BYTES = 64 * 1024;

/** The remote's token from remote.token_file, read at each sync (it may be rotated). */
export function readRemoteToken(file: string): string {
  const read = readRegularFile(file, MAX_TOKEN_BYTES, { followLinks: true });
  if (!read.ok)
    throw new GitopsError(
      read.code === 'file-too-large' ? 'file-too-large' : 'file-not-readable',
      `remote.token_file ${file} cannot be read (${read.errno ?? read.code})`,
      'point remote.token_file at the file holding the deploy token',
    );
  return read.bytes.toString('utf8').trim();
}
