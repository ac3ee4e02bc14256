// A commit's configuration files read straight from git objects (no checkout, no working tree):
// config/, environments/, schemas/, experiments/ (REPO_ROOTS) and .sops.yaml, with a cap on every file's size.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import git from 'isomorphic-git';
import { GitopsError } from '../core/errors.js';
import { REPO_ROOTS } from '../core/repo/layout.js';
import type { RepoFiles } from '../core/repo/layout.js';
import { decodeFile, fileProblem, MAX_FILE_BYTES, problemText } from '../core/repo/file.js';

const ROOTS = new Set(REPO_ROOTS);
/** The files of the repository's top that are configuration. */
export const TOP_FILES: readonly string[] = ['.sops.yaml'];
const TOP = new Set(TOP_FILES);
/** The names of configuration files under the roots. */
export const CONFIG_FILE_NAME = /\.(ya?ml|json)$/;

export interface TreeOptions {
  /** A larger configuration file is kept as a file-too-large stand-in (default: core's cap). */
  maxFileBytes?: number;
  cache?: object;
  /**
   * Blob texts by object id, which the commits read together (a diff's two sides, an audit's
   * commits) share so that a blob is read once; the caller owns it and lets it go with them.
   */
  blobs?: Map<string, string>;
}

export async function readCommitFiles(gitdir: string, commit: string, options: TreeOptions = {}): Promise<RepoFiles> {
  const max = options.maxFileBytes ?? MAX_FILE_BYTES;
  const cache = options.cache ?? {};
  const files = new Map<string, string>();
  let root;
  try {
    root = await git.readTree({ fs, gitdir, oid: commit, cache });
  } catch (e) {
    throw new GitopsError(
      'commit-unreadable',
      `cannot read the tree of ${commit}: ${(e as Error).message}`,
      'the commit or one of its objects is missing (a shallow or interrupted fetch)',
      { cause: e },
    );
  }
  // trees first, then the blobs, a few at a time; a blob already in `blobs` is not read again
  const blobs: Array<{ path: string; oid: string }> = [];
  const read = (path: string, oid: string): void => {
    files.set(path, ''); // its place in the walk's order; the text comes below
    blobs.push({ path, oid });
  };
  const walk = async (oid: string, prefix: string): Promise<void> => {
    const tree = await git.readTree({ fs, gitdir, oid, cache });
    for (const entry of tree.tree) {
      const path = `${prefix}${entry.path}`;
      if (entry.type === 'tree') await walk(entry.oid, `${path}/`);
      else if (entry.mode === '120000') files.set(path, problemText({ code: 'symlink' }));
      else if (entry.type === 'commit')
        files.set(path, problemText({ code: 'not-a-file' })); // a submodule
      else if (entry.type === 'blob' && CONFIG_FILE_NAME.test(entry.path)) read(path, entry.oid);
    }
  };
  for (const entry of root.tree) {
    if (entry.type === 'tree' && ROOTS.has(entry.path)) await walk(entry.oid, `${entry.path}/`);
    else if (entry.type === 'blob' && TOP.has(entry.path)) {
      if (entry.mode === '120000') files.set(entry.path, problemText({ code: 'symlink' }));
      else read(entry.path, entry.oid);
    }
  }
  const known = options.blobs ?? new Map<string, string>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < blobs.length) {
      const { path, oid } = blobs[next++]!;
      let text = known.get(oid);
      if (text === undefined) known.set(oid, (text = await blobText(gitdir, oid, max, cache)));
      files.set(path, text);
    }
  };
  await Promise.all(Array.from({ length: Math.min(BLOB_READS, blobs.length) }, worker));
  return files;
}

/**
 * Adds each text of `files` (a work tree's) to `blobs` under the id git gives its bytes, so that a
 * commit read after it (readCommitFiles with the same `blobs`) reads only the blobs the work tree
 * changed. A stand-in, or a text that reading its bytes would not give back, is left out.
 */
export function addBlobTexts(files: RepoFiles, blobs: Map<string, string>, maxBytes = MAX_FILE_BYTES): void {
  for (const text of files.values()) {
    if (fileProblem(text) || text.startsWith('\ufeff')) continue;
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length > maxBytes) continue;
    const id = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
    blobs.set(id, text);
  }
}

/** How many blobs are read at once. */
const BLOB_READS = 16;

/** A blob as core sees it: strict UTF-8 text, or a stand-in core reports (too large, not UTF-8). */
async function blobText(gitdir: string, oid: string, max: number, cache: object): Promise<string> {
  const { blob } = await git.readBlob({ fs, gitdir, oid, cache });
  return decodeFile(blob, max);
}

/** One configuration file of a commit (undefined when it is absent, too large or not text). */
export async function readCommitFile(
  gitdir: string,
  commit: string,
  path: string,
  options: TreeOptions = {},
): Promise<string | undefined> {
  try {
    const { blob } = await git.readBlob({ fs, gitdir, oid: commit, filepath: path, cache: options.cache ?? {} });
    const text = decodeFile(blob, options.maxFileBytes ?? MAX_FILE_BYTES);
    return fileProblem(text) ? undefined : text;
  } catch {
    return undefined;
  }
}
