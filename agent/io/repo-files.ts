// Reading a configuration repository's working tree into memory, and writing files back
// atomically (temp file in the same directory, fsync, rename): a crash or a full disk leaves
// either the old file or the new one, never half of one.

import { closeSync, fsyncSync, lstatSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { GitopsError } from '../core/errors.js';

const ROOTS = ['config', 'environments', 'schemas'];
const TOP_FILES = ['.sops.yaml'];
const INCLUDE = /\.(ya?ml|json)$/;
/** Files larger than this are not read whole; core reports them as too large. */
const READ_LIMIT = 8 * 1024 * 1024;

/** The repository's configuration files as relative path (with /) -> text. */
export function readWorkingTree(root: string): Map<string, string> {
  const files = new Map<string, string>();
  let any = false;
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    any = true;
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile() && INCLUDE.test(e.name)) files.set(relative(root, full).split(sep).join('/'), readCapped(full));
    }
  };
  for (const r of ROOTS) walk(join(root, r));
  for (const f of TOP_FILES) {
    try {
      if (lstatSync(join(root, f)).isFile()) files.set(f, readCapped(join(root, f)));
    } catch {
      // absent is fine
    }
  }
  if (!any) throw new GitopsError('not-a-config-repo', `${root} has no config/, environments/ or schemas/ directory`, 'run the command from the root of the configuration repository, or pass --root DIR');
  return files;
}

function readCapped(path: string): string {
  const size = lstatSync(path).size;
  if (size > READ_LIMIT) return ' '.repeat(READ_LIMIT + 1); // core reports the size; the content is not needed
  return readFileSync(path, 'utf8');
}

export function writeFileAtomic(path: string, text: string | Uint8Array, mode = 0o644): void {
  const tmp = join(dirname(path), `.${process.pid}.${Date.now()}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', mode);
    if (typeof text === 'string') writeSync(fd, text);
    else writeSync(fd, text);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
    const dirFd = openSync(dirname(path), 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw new GitopsError('write-failed', `could not write ${path}: ${(err as Error).message}`, 'check free disk space and permissions; the original file is unchanged');
  }
}

/** A file the user named on the command line. */
export function readUserFile(path: string, what: string): string {
  try {
    const size = lstatSync(path).size;
    if (size > READ_LIMIT) throw new GitopsError('file-too-large', `${what} ${path} is ${(size / 1024 / 1024).toFixed(1)} MiB`, 'pass the right file');
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof GitopsError) throw err;
    throw new GitopsError('file-not-readable', `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'check the path');
  }
}
