// Fetching the configuration repository with isomorphic-git over smart HTTP(S): no git binary
// on the device. Every response is capped in bytes and time (isomorphic-git buffers whole
// packs in memory, so an endless or huge answer must be cut before it is), the ref
// advertisement is read here as a stream and bounded (only HEAD and the branch reach
// isomorphic-git), a pack is checked from its object headers before anything is inflated, and a
// private remote is reached with a token read from a file.
//
// A poll whose commit the device already has (or knows to be bad) ends once the remote has
// said which commit its branch points at (protocol v2 ls-refs, or the v1 advertisement): no
// pack is asked for. Otherwise the fetch says what the device has (`have`),
// so the remote sends only the new objects.

import fs from 'node:fs';
import { join } from 'node:path';
import git from 'isomorphic-git';
import { GitopsError } from '../core/errors.js';
import { objectReader } from './git-objects.js';
import { cappedHttp, fetchFailure, refMissing, tooLarge } from './git-http.js';
import type { RemoteSession } from './git-http.js';
import type { WireLimits } from './git-wire.js';

export interface SyncOptions {
  url: string;
  branch: string;
  token?: string;
  maxBytes: number;
  timeoutMs: number;
  limits?: Partial<WireLimits>;
  /** A commit whose whole history the repository holds: told to the remote so that it sends only what is newer. */
  have?: string | null;
  /** Commits for which no pack is asked even when they are not here (known bad ones). */
  known?: Iterable<string>;
  /** isomorphic-git's cache (pack indexes), kept by the caller across syncs. */
  cache?: object;
  /** What the remote was found to speak, kept by the caller across syncs (see RemoteSession). */
  session?: RemoteSession;
}

export interface FetchResult {
  /** The commit the remote's branch points at. */
  commit: string;
  /** The pack this fetch added (objects/pack/pack-*.pack), or null when nothing was fetched. */
  pack: string | null;
  /** Bytes received from the remote (advertisement and pack). */
  bytes: number;
}

function packs(gitdir: string): Set<string> {
  try {
    return new Set(fs.readdirSync(join(gitdir, 'objects/pack')).filter((f) => f.endsWith('.pack')));
  } catch {
    return new Set();
  }
}

/**
 * Fetches the branch into a bare repository at `gitdir`: only the branch's commit is asked when
 * it is here already or known, else the objects newer than `have` are fetched.
 */
export async function fetchBranch(gitdir: string, o: SyncOptions): Promise<FetchResult> {
  if (!fs.existsSync(`${gitdir}/HEAD`)) {
    await git.init({ fs, gitdir, bare: true, defaultBranch: o.branch });
  }
  await git.addRemote({ fs, gitdir, remote: 'origin', url: o.url, force: true });
  const http = cappedHttp(o.maxBytes, Date.now() + o.timeoutMs, {
    branch: o.branch,
    ...(o.token ? { token: o.token } : {}),
    ...(o.limits ? { limits: o.limits } : {}),
    ...(o.session ? { session: o.session } : {}),
  });
  const cache = o.cache ?? {};
  const haveRef = `refs/heads/${o.branch}`;
  const fail = (e: unknown): GitopsError =>
    fetchFailure(e, { url: o.url, branch: o.branch, maxBytes: o.maxBytes, exceeded: http.exceeded() });
  let commit: string | undefined;
  try {
    commit = await http.branchCommit(o.url, o.branch);
  } catch (e) {
    throw fail(e);
  }
  if (!commit) throw refMissing(o.branch);
  const reader = objectReader(gitdir, cache);
  if (new Set(o.known ?? []).has(commit) || (await reader.read(commit))?.type === 'commit')
    return { commit, pack: null, bytes: http.received() };

  // isomorphic-git tells the remote what the local branch points at: the commit we have
  if (o.have && (await reader.read(o.have))?.type === 'commit')
    await git.writeRef({ fs, gitdir, ref: haveRef, value: o.have, force: true });
  else await git.deleteRef({ fs, gitdir, ref: haveRef }).catch(() => undefined);
  const before = packs(gitdir);
  try {
    await git.fetch({
      fs,
      http,
      gitdir,
      cache,
      remote: 'origin',
      ref: haveRef,
      remoteRef: o.branch,
      singleBranch: true,
      tags: false,
      onAuthFailure: () => ({ cancel: true }),
    });
  } catch (e) {
    throw fail(e);
  }
  if (http.exceeded()) throw tooLarge(o.maxBytes);
  commit = http.advertised() ?? commit; // pushed to between the two questions: what was fetched
  const added = [...packs(gitdir)].find((p) => !before.has(p));
  if ((await objectReader(gitdir, cache).read(commit))?.type !== 'commit')
    throw new GitopsError(
      'sync-failed',
      `the remote did not send ${commit.slice(0, 12)}`,
      'the agent retries with backoff',
    );
  return { commit, pack: added ? `objects/pack/${added}` : null, bytes: http.received() };
}
