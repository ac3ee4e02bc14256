// Git bundles (format v2, as `git bundle create` writes and `git bundle verify` reads): the
// applied history of a device, carried offline. Written and read with isomorphic-git, so a
// device needs no git binary.

import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import git from 'isomorphic-git';
import { GitopsError } from '../core/errors.js';

const HEADER = '# v2 git bundle\n';

/** Every object reachable from `commit`: its ancestry, their trees and blobs. */
async function reachable(gitdir: string, commit: string): Promise<string[]> {
  const seen = new Set<string>();
  const trees: string[] = [];
  const commits = [commit];
  while (commits.length > 0) {
    const oid = commits.pop()!;
    if (seen.has(oid)) continue;
    seen.add(oid);
    const { commit: c } = await git.readCommit({ fs, gitdir, oid });
    commits.push(...c.parent);
    trees.push(c.tree);
  }
  while (trees.length > 0) {
    const oid = trees.pop()!;
    if (seen.has(oid)) continue;
    seen.add(oid);
    const { tree } = await git.readTree({ fs, gitdir, oid });
    for (const e of tree) {
      if (e.type === 'tree') trees.push(e.oid);
      else if (e.type === 'blob') seen.add(e.oid);
    }
  }
  return [...seen];
}

export function hasRepository(gitdir: string): boolean {
  return fs.existsSync(join(gitdir, 'HEAD'));
}

/** Removes a repository this process made (a restore that failed keeps nothing). */
export function discardRepository(gitdir: string): void {
  fs.rmSync(gitdir, { recursive: true, force: true });
}

/** A bundle holding `ref` at `commit` and everything it reaches. */
export async function writeBundle(gitdir: string, ref: string, commit: string): Promise<Buffer> {
  if (!hasRepository(gitdir))
    throw new GitopsError(
      'no-history',
      `${gitdir} holds no git repository`,
      'export works in remote mode, after a commit was applied',
    );
  const { packfile } = await git.packObjects({ fs, gitdir, oids: await reachable(gitdir, commit) });
  if (!packfile) throw new GitopsError('bundle-failed', 'isomorphic-git made no pack', 'report this');
  return Buffer.concat([Buffer.from(`${HEADER}${commit} ${ref}\n\n`), Buffer.from(packfile)]);
}

/** The references a bundle names, and its pack. Prerequisites (thin bundles) are refused. */
export function parseBundle(bytes: Buffer, label: string): { refs: Map<string, string>; pack: Buffer } {
  if (!bytes.subarray(0, HEADER.length).equals(Buffer.from(HEADER)))
    throw new GitopsError(
      'bundle-invalid',
      `${label} is not a v2 git bundle`,
      'use a file written by gitops agent export (or git bundle create)',
    );
  const end = bytes.indexOf('\n\n', HEADER.length - 1);
  if (end < 0)
    throw new GitopsError('bundle-invalid', `${label}: the bundle header never ends`, 'the file is cut short');
  const refs = new Map<string, string>();
  for (const line of bytes.subarray(HEADER.length, end).toString('utf8').split('\n')) {
    if (line.startsWith('-'))
      throw new GitopsError(
        'bundle-invalid',
        `${label} needs commits this device does not have (${line.slice(1, 13)})`,
        'export a full bundle',
      );
    const m = /^([0-9a-f]{40}) (refs\/[^\s]+)$/.exec(line);
    if (!m)
      throw new GitopsError(
        'bundle-invalid',
        `${label}: unexpected header line ${JSON.stringify(line.slice(0, 80))}`,
        'the file is damaged',
      );
    refs.set(m[2]!, m[1]!);
  }
  const pack = bytes.subarray(end + 2);
  if (pack.subarray(0, 4).toString('latin1') !== 'PACK')
    throw new GitopsError('bundle-invalid', `${label}: no pack after the header`, 'the file is damaged');
  return { refs, pack };
}

/** Adds a bundle's objects to the bare repository at `gitdir` (made when missing); returns its references. */
export async function readBundle(
  gitdir: string,
  bytes: Buffer,
  label: string,
  branch: string,
): Promise<Map<string, string>> {
  const { refs, pack } = parseBundle(bytes, label);
  if (!hasRepository(gitdir)) await git.init({ fs, gitdir, bare: true, defaultBranch: branch });
  const packDir = join(gitdir, 'objects/pack');
  fs.mkdirSync(packDir, { recursive: true });
  const name = `objects/pack/pack-${createHash('sha1').update(pack.subarray(-20)).digest('hex')}.pack`;
  fs.writeFileSync(join(gitdir, name), pack);
  try {
    await git.indexPack({ fs, dir: gitdir, gitdir, filepath: name });
  } catch (e) {
    fs.rmSync(join(gitdir, name), { force: true });
    throw new GitopsError(
      'bundle-invalid',
      `${label}: the pack cannot be read: ${(e as Error).message.split('\n')[0]}`,
      'the file is damaged',
      { cause: e },
    );
  }
  return refs;
}

export async function setRef(gitdir: string, ref: string, commit: string): Promise<void> {
  await git.writeRef({ fs, gitdir, ref, value: commit, force: true });
}
