// Reading a configuration repository's working tree into memory, and writing files back
// atomically (temp file in the same directory, fsync, rename): a crash or a full disk leaves
// either the old file or the new one, never half of one.

import {
  closeSync,
  fsyncSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { GitopsError } from '../core/errors.js';
import { decodeFile, MAX_FILE_BYTES, problemText } from '../core/repo/file.js';
import { REPO_ROOTS } from '../core/repo/layout.js';
import { readRegularFile } from './safe-read.js';

const ROOTS = REPO_ROOTS;
const TOP_FILES = ['.sops.yaml'];
const INCLUDE = /\.(ya?ml|json)$/;
/** Files the user names on the command line may be larger than configuration files. */
const READ_LIMIT = 8 * 1024 * 1024;

/**
 * Calls `onEntry` for every configuration file (or link, or other non-directory entry with a
 * configuration name) under the repository's roots, in listing order; whether any root exists.
 */
function walkTree(root: string, onEntry: (path: string, full: string, e: Dirent) => void): boolean {
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
      else if (e.isSymbolicLink() || INCLUDE.test(e.name)) onEntry(relative(root, full).split(sep).join('/'), full, e);
    }
  };
  for (const r of ROOTS) walk(join(root, r));
  return any;
}

/**
 * What the files readWorkingTree reads look like from their metadata alone (path, inode, size,
 * modification time; no content read): a cheap check that nothing changed, for watch mode's
 * quiet rescans. Taken before a read, an edit during the read shows at the next check.
 */
export function treeSignature(root: string): string {
  const parts: string[] = [];
  const stat = (path: string, full: string): void => {
    try {
      const s = lstatSync(full, { bigint: true });
      parts.push(`${path}\0${s.ino}\0${s.size}\0${s.mtimeNs}\0${s.ctimeNs}`);
    } catch {
      parts.push(`${path}\0-`);
    }
  };
  walkTree(root, (path, full) => stat(path, full));
  for (const f of TOP_FILES) stat(f, join(root, f));
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}

/**
 * The repository's configuration files as relative path (with /) -> text. A symbolic link, a
 * FIFO or device node, a file that is not UTF-8 or one over the size cap is kept as a stand-in
 * that core reports at that path (see core/repo-file.ts): it is never silently left out.
 */
export function readWorkingTree(root: string, options: { lazy?: boolean } = {}): Map<string, string> {
  const files = options.lazy ? new LazyFiles() : new Map<string, string>();
  const any = walkTree(root, (path, full, e) => {
    if (e.isSymbolicLink()) files.set(path, problemText({ code: 'symlink' }));
    else if (!e.isFile()) files.set(path, problemText({ code: 'not-a-file' }));
    else if (files instanceof LazyFiles) files.later(path, full);
    else {
      const text = readRepoFile(full);
      if (text !== undefined) files.set(path, text); // undefined: removed since the listing
    }
  });
  for (const f of TOP_FILES) {
    const text = readRepoFile(join(root, f));
    if (text !== undefined) files.set(f, text);
  }
  if (!any)
    throw new GitopsError(
      'not-a-config-repo',
      `${root} has no config/, environments/ or schemas/ directory`,
      'run the command from the root of the configuration repository, or pass --root DIR',
    );
  return files;
}

/**
 * The files of a tree, each read when it is first asked for (a command that reads a few files of
 * a fleet's thousands: `validate --device D`). Listing, `has` and `keys` need no read; walking
 * the texts reads them all, in listing order, as readWorkingTree does.
 */
class LazyFiles extends Map<string, string> {
  readonly #pending = new Map<string, string>();

  /** `path` is read from `full` when asked for; its place in the order is now. */
  later(path: string, full: string): void {
    this.#pending.set(path, full);
    super.set(path, '');
  }

  override get(path: string): string | undefined {
    const full = this.#pending.get(path);
    if (full !== undefined) {
      this.#pending.delete(path);
      // removed since the listing: as if it had not been listed
      const text = readRepoFile(full);
      if (text === undefined) super.delete(path);
      else super.set(path, text);
    }
    return super.get(path);
  }

  override set(path: string, text: string): this {
    this.#pending.delete(path);
    return super.set(path, text);
  }

  override delete(path: string): boolean {
    this.#pending.delete(path);
    return super.delete(path);
  }

  #all(): void {
    for (const path of [...this.#pending.keys()]) this.get(path);
  }

  override entries(): MapIterator<[string, string]> {
    this.#all();
    return super.entries();
  }

  override values(): MapIterator<string> {
    this.#all();
    return super.values();
  }

  override [Symbol.iterator](): MapIterator<[string, string]> {
    return this.entries();
  }

  override forEach(fn: (text: string, path: string, map: Map<string, string>) => void, self?: unknown): void {
    this.#all();
    super.forEach(fn, self);
  }
}

/** One file of the tree as core sees it; undefined when it is not there. */
function readRepoFile(path: string): string | undefined {
  const r = readRegularFile(path, MAX_FILE_BYTES);
  if (r.ok) return decodeFile(r.bytes);
  if (r.code === 'not-found') return undefined;
  if (r.code === 'not-readable')
    throw new GitopsError(
      'file-not-readable',
      `cannot read ${path}: ${r.errno ?? 'error'}`,
      'check the permissions of the working tree',
    );
  return problemText({ code: r.code, ...(r.size !== undefined ? { size: r.size } : {}) });
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
    throw new GitopsError(
      'write-failed',
      `could not write ${path}: ${(err as Error).message}`,
      'check free disk space and permissions; the original file is unchanged',
      { cause: err },
    );
  }
}

/** A file the user named on the command line. */
export function readUserFile(path: string, what: string): string {
  try {
    const size = lstatSync(path).size;
    if (size > READ_LIMIT)
      throw new GitopsError(
        'file-too-large',
        `${what} ${path} is ${(size / 1024 / 1024).toFixed(1)} MiB`,
        'pass the right file',
      );
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof GitopsError) throw err;
    throw new GitopsError(
      'file-not-readable',
      `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      'check the path',
      { cause: err },
    );
  }
}
