// Reading raw git objects and refs with isomorphic-git (no git binary needed): a bare or a
// non-bare repository, objects by full or abbreviated id, branches and tag refs by name.

import fs from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import git from 'isomorphic-git';
import { GitopsError } from '../core/errors.js';
import type { ObjectReader } from '../core/trust/history.js';

/** The git directory of a repository path: PATH/.git for a working tree, PATH itself when bare. */
export function gitDirOf(path: string): string {
  if (fs.existsSync(join(path, '.git', 'HEAD'))) return join(path, '.git');
  if (fs.existsSync(join(path, 'HEAD')) && fs.existsSync(join(path, 'objects'))) return path;
  throw new GitopsError(
    'not-a-repository',
    `${path} is not a git repository (no HEAD and objects/)`,
    'pass --repo with a bare repository or a working tree',
  );
}

/** A loose object read directly (one file, one inflate); undefined when it is packed or absent. */
function readLoose(gitdir: string, oid: string): { type: string; bytes: Uint8Array } | undefined {
  let data: Buffer;
  try {
    data = inflateSync(fs.readFileSync(join(gitdir, 'objects', oid.slice(0, 2), oid.slice(2))));
  } catch {
    return undefined;
  }
  const nul = data.indexOf(0);
  const m = /^(commit|tree|blob|tag) (\d+)$/.exec(data.subarray(0, nul).toString('latin1'));
  if (!m || Number(m[2]) !== data.length - nul - 1) return undefined;
  return { type: m[1]!, bytes: data.subarray(nul + 1) };
}

/** Objects of the repository; `cache` is where isomorphic-git keeps pack indexes between reads (pass one to keep them across readers). */
export function objectReader(gitdir: string, cache: object = {}): ObjectReader {
  return {
    async read(oid) {
      if (!/^[0-9a-f]{40}$/.test(oid)) return undefined;
      const loose = readLoose(gitdir, oid);
      if (loose) return loose;
      try {
        const o = await git.readObject({ fs, gitdir, oid, format: 'content', cache });
        return { type: o.type, bytes: o.object as Uint8Array };
      } catch {
        return undefined;
      }
    },
  };
}

export interface ResolvedObject {
  oid: string;
  /** The full ref name it was found through (refs/heads/x, refs/tags/x), if any. */
  ref: string | null;
  type: string;
}

/** An object id (full or abbreviated), a branch, a tag, or a full ref, without peeling tags. */
export async function resolveObject(gitdir: string, spec: string): Promise<ResolvedObject> {
  const reader = objectReader(gitdir);
  const typed = async (oid: string, ref: string | null): Promise<ResolvedObject> => {
    const o = await reader.read(oid);
    if (!o)
      throw new GitopsError(
        'object-missing',
        `${spec} points at ${oid}, which is not in the repository`,
        'fetch the missing objects (the clone may be shallow)',
      );
    return { oid, ref, type: o.type };
  };
  if (/^[0-9a-f]{40}$/.test(spec)) return typed(spec, null);
  const refs = spec.startsWith('refs/') ? [spec] : [`refs/heads/${spec}`, `refs/tags/${spec}`, `refs/remotes/${spec}`];
  if (spec === 'HEAD') refs.unshift('HEAD');
  for (const ref of refs) {
    try {
      const oid = await git.resolveRef({ fs, gitdir, ref, depth: ref === 'HEAD' ? undefined : 2 });
      return typed(oid, ref);
    } catch {
      // try the next kind of ref
    }
  }
  if (/^[0-9a-f]{4,39}$/.test(spec)) {
    try {
      return typed(await git.expandOid({ fs, gitdir, oid: spec }), null);
    } catch {
      // not a unique prefix either
    }
  }
  throw new GitopsError(
    'unknown-object',
    `"${spec}" is not an object id, branch or tag in this repository`,
    'list refs with git show-ref, or give a full commit id',
  );
}
