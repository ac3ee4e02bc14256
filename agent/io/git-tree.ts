// A commit's configuration files read straight from git objects (no checkout, no working tree):
// config/, environments/, schemas/, experiments/ (REPO_ROOTS) and .sops.yaml, with a cap on every file's size.

import fs from 'node:fs';
import git from 'isomorphic-git';
import { GitopsError } from '../core/errors.js';
import { REPO_ROOTS } from '../core/repo/layout.js';
import type { RepoFiles } from '../core/repo/layout.js';
import { decodeFile, fileProblem, MAX_FILE_BYTES, problemText } from '../core/repo/file.js';

const ROOTS = new Set(REPO_ROOTS);
const TOP_FILES = new Set(['.sops.yaml']);
const INCLUDE = /\.(ya?ml|json)$/;

export interface TreeOptions {
  /** A larger configuration file is kept as a file-too-large stand-in (default: core's cap). */
  maxFileBytes?: number;
  cache?: object;
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
  const walk = async (oid: string, prefix: string): Promise<void> => {
    const tree = await git.readTree({ fs, gitdir, oid, cache });
    for (const entry of tree.tree) {
      const path = `${prefix}${entry.path}`;
      if (entry.type === 'tree') await walk(entry.oid, `${path}/`);
      else if (entry.mode === '120000') files.set(path, problemText({ code: 'symlink' }));
      else if (entry.type === 'commit')
        files.set(path, problemText({ code: 'not-a-file' })); // a submodule
      else if (entry.type === 'blob' && INCLUDE.test(entry.path))
        files.set(path, await blobText(gitdir, entry.oid, max, cache));
    }
  };
  for (const entry of root.tree) {
    if (entry.type === 'tree' && ROOTS.has(entry.path)) await walk(entry.oid, `${entry.path}/`);
    else if (entry.type === 'blob' && TOP_FILES.has(entry.path))
      files.set(
        entry.path,
        entry.mode === '120000' ? problemText({ code: 'symlink' }) : await blobText(gitdir, entry.oid, max, cache),
      );
  }
  return files;
}

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
