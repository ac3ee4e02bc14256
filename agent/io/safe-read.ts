// Reading a file that something else named (the repository's tree, a pid file or a model path
// from the configuration): opened without following a final symbolic link and without
// blocking (a FIFO or a device node never stalls the agent), checked to be a regular file,
// and never read past a cap (/dev/zero or a huge file cannot fill memory).

import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import type { FileProblemCode } from '../core/repo/file.js';

export type SafeRead =
  | { ok: true; bytes: Buffer }
  | { ok: false; code: FileProblemCode | 'not-found' | 'not-readable'; size?: number; errno?: string };

/** Opens for reading without blocking (and without following a final link unless asked); a failure as a SafeRead. */
function openFile(path: string, followLinks: boolean): number | Extract<SafeRead, { ok: false }> {
  try {
    return openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | (followLinks ? 0 : constants.O_NOFOLLOW));
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code ?? 'EIO';
    if (errno === 'ELOOP') return { ok: false, code: 'symlink' };
    if (errno === 'ENOENT' || errno === 'ENOTDIR') return { ok: false, code: 'not-found', errno };
    return { ok: false, code: 'not-readable', errno };
  }
}

export function readRegularFile(path: string, maxBytes: number, options: { followLinks?: boolean } = {}): SafeRead {
  const fd = openFile(path, options.followLinks === true);
  if (typeof fd !== 'number') return fd;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { ok: false, code: 'not-a-file' };
    if (st.size > maxBytes) return { ok: false, code: 'file-too-large', size: st.size };
    // one byte more than fstat said, to notice a file that grows while it is read
    const buf = Buffer.alloc(st.size + 1);
    let n = 0;
    for (let r = -1; r !== 0 && n < buf.length; n += r) r = readSync(fd, buf, n, buf.length - n, null);
    if (n > st.size) return { ok: false, code: 'not-readable', errno: 'EAGAIN' };
    return { ok: true, bytes: buf.subarray(0, n) };
  } catch (e) {
    return { ok: false, code: 'not-readable', errno: (e as NodeJS.ErrnoException).code ?? 'EIO' };
  } finally {
    closeSync(fd);
  }
}

/**
 * A pseudo-file of /proc or /sys, whose size fstat does not tell (0 for /proc/stat, 4096 for a
 * sysfs attribute): opened as readRegularFile opens a file (no final link, never blocking, a
 * regular file only) and read to its end, but never past `maxBytes` (past it: file-too-large).
 */
export function readPseudoFile(path: string, maxBytes: number): SafeRead {
  const fd = openFile(path, false);
  if (typeof fd !== 'number') return fd;
  try {
    if (!fstatSync(fd).isFile()) return { ok: false, code: 'not-a-file' };
    const buf = Buffer.alloc(maxBytes + 1);
    let n = 0;
    for (let r = -1; r !== 0 && n < buf.length; n += r) r = readSync(fd, buf, n, buf.length - n, null);
    if (n > maxBytes) return { ok: false, code: 'file-too-large', size: n };
    return { ok: true, bytes: buf.subarray(0, n) };
  } catch (e) {
    return { ok: false, code: 'not-readable', errno: (e as NodeJS.ErrnoException).code ?? 'EIO' };
  } finally {
    closeSync(fd);
  }
}
