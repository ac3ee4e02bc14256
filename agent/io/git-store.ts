// The device's object store (a bare repository in its state directory) over years of polls:
// fetches say what the device has, a pack fetched for a commit the device did not keep
// (refused, rolled back) is removed again, and when packs pile up they are rewritten as one
// pack of what the kept commits reach (their history, trees and blobs): nothing else stays.
// isomorphic-git's cache of pack indexes lives as long as the store, so a sync does not
// reopen every pack.

import fs from 'node:fs';
import { join } from 'node:path';
import git from 'isomorphic-git';
import type { ObjectReader } from '../core/trust/history.js';
import { objectReader } from './git-objects.js';
import { fetchBranch } from './git-sync.js';
import type { FetchResult, SyncOptions } from './git-sync.js';
import type { RemoteSession } from './git-http.js';

/** Packs beyond this many are compacted into one. */
export const MAX_PACKS = 8;
/** Commit objects kept in memory across syncs (the history check walks them all at every sync). */
const MAX_MEMO_BYTES = 8 * 1024 * 1024;

export interface StoreUsage {
  packs: number;
  /** Bytes of everything under objects/ (packs, indexes, loose objects). */
  bytes: number;
}

function dirBytes(path: string): number {
  let total = 0;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(path, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries)
    total += e.isDirectory() ? dirBytes(join(path, e.name)) : fs.statSync(join(path, e.name)).size;
  return total;
}

export class GitStore {
  private objectCache: object = {};
  /** The settling of the last sync, run after its result: reads and the next fetch wait for it. */
  private pending: Promise<void> = Promise.resolve();
  /** Commits read before (immutable: their id is their content); emptied when objects are removed (a refused pack, a compaction). */
  private commits = new Map<string, { type: string; bytes: Uint8Array }>();
  private memoBytes = 0;
  /** What the remote speaks, learnt at the first sync (git-sync.ts RemoteSession). */
  private readonly session: RemoteSession = {};

  constructor(
    readonly gitdir: string,
    private readonly maxPacks = MAX_PACKS,
  ) {}

  /** isomorphic-git's cache for this repository (pack indexes and packs), shared by every read. */
  get cache(): object {
    return this.objectCache;
  }

  reader(): ObjectReader {
    return {
      read: async (oid) => {
        await this.pending;
        const hit = this.commits.get(oid);
        if (hit) return hit;
        const o = await objectReader(this.gitdir, this.objectCache).read(oid);
        if (o?.type === 'commit' && this.memoBytes + o.bytes.length <= MAX_MEMO_BYTES) {
          this.commits.set(oid, o);
          this.memoBytes += o.bytes.length;
        }
        return o;
      },
    };
  }

  async fetch(o: Omit<SyncOptions, 'cache' | 'session'>): Promise<FetchResult> {
    await this.pending;
    return fetchBranch(this.gitdir, { ...o, cache: this.objectCache, session: this.session });
  }

  /** settle() after the caller's answer: the store is compacted while nothing waits on it. */
  settleLater(
    fetched: FetchResult | undefined,
    keep: Array<string | null | undefined>,
    onError: (e: unknown) => void,
  ): void {
    this.pending = this.pending.then(() => this.settle(fetched, keep)).catch(onError);
  }

  /** Resolves once the last settling is done. */
  settled(): Promise<void> {
    return this.pending;
  }

  private packDir(): string {
    return join(this.gitdir, 'objects/pack');
  }

  /** The packs with an index (a pack without one was cut short: isomorphic-git does not read it). */
  packs(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.packDir());
    } catch {
      return [];
    }
    const indexed = new Set(names.filter((f) => f.endsWith('.idx')));
    return names.filter((f) => f.endsWith('.pack') && indexed.has(f.replace(/\.pack$/, '.idx'))).sort();
  }

  /** Packs left without an index (a fetch or a compaction stopped between the two files). */
  private removeUnindexed(): void {
    const indexed = new Set(this.packs());
    let names: string[] = [];
    try {
      names = fs.readdirSync(this.packDir());
    } catch {
      // no pack directory yet
    }
    for (const f of names)
      if (f.endsWith('.pack') && !indexed.has(f)) fs.rmSync(join(this.packDir(), f), { force: true });
  }

  usage(): StoreUsage {
    return { packs: this.packs().length, bytes: dirBytes(join(this.gitdir, 'objects')) };
  }

  private removePack(name: string): void {
    for (const ext of ['.pack', '.idx', '.keep'])
      fs.rmSync(join(this.packDir(), name.replace(/\.pack$/, ext)), { force: true });
    this.objectCache = {}; // its index and bytes are no longer needed
  }

  /**
   * After a sync: the pack fetched for a commit that is not kept is removed (everything the
   * kept commits reach was here before that fetch). When there are more than `maxPacks` packs,
   * the smaller ones are merged into one; once they hold half as much as the largest, the whole
   * store is rewritten as one pack of what the kept commits reach (so each object is rewritten
   * a few times over the store's life, not at every sync).
   */
  async settle(fetched: FetchResult | undefined, keep: Array<string | null | undefined>): Promise<void> {
    const roots = [...new Set(keep.filter((c): c is string => typeof c === 'string'))];
    this.removeUnindexed();
    if (fetched?.pack && !roots.includes(fetched.commit)) {
      this.removePack(fetched.pack.replace(/^objects\/pack\//, ''));
      this.forget();
    }
    const packs = this.packs();
    if (packs.length <= this.maxPacks) return;
    const sizes = new Map(packs.map((p) => [p, fs.statSync(join(this.packDir(), p)).size]));
    const largest = packs.reduce((a, b) => (sizes.get(b)! > sizes.get(a)! ? b : a));
    const small = packs.filter((p) => p !== largest);
    if (small.reduce((n, p) => n + sizes.get(p)!, 0) * 2 >= sizes.get(largest)!) await this.compact(roots);
    else await this.merge(small);
  }

  /** The objects a pack holds, from its index (version 2). */
  private packObjectIds(pack: string): string[] {
    const idx = fs.readFileSync(join(this.packDir(), pack.replace(/\.pack$/, '.idx')));
    if (idx.readUInt32BE(0) !== 0xff744f63 || idx.readUInt32BE(4) !== 2)
      throw new Error(`${pack}: not a version 2 pack index`);
    const n = idx.readUInt32BE(8 + 255 * 4);
    const oids: string[] = [];
    for (let i = 0; i < n; i++)
      oids.push(idx.subarray(8 + 256 * 4 + i * 20, 8 + 256 * 4 + (i + 1) * 20).toString('hex'));
    return oids;
  }

  /** Writes one pack of `oids` and its index; returns its file name. */
  private async writePack(oids: string[]): Promise<string> {
    const { gitdir } = this;
    const { filename, packfile } = await git.packObjects({ fs, gitdir, oids, cache: this.objectCache });
    fs.mkdirSync(this.packDir(), { recursive: true });
    fs.writeFileSync(join(this.packDir(), filename), packfile!);
    await git.indexPack({ fs, dir: gitdir, gitdir, filepath: `objects/pack/${filename}`, cache: {} });
    return filename;
  }

  /** Merges packs into one (their objects were kept: nothing is pruned here). */
  private async merge(packs: string[]): Promise<void> {
    const oids = [...new Set(packs.flatMap((p) => this.packObjectIds(p)))];
    const name = await this.writePack(oids);
    for (const p of packs) if (p !== name) this.removePack(p);
  }

  /** Every object the commits reach: their ancestry, trees and blobs (what is missing is skipped). */
  async reachable(roots: string[]): Promise<Set<string>> {
    const { gitdir } = this;
    const cache = this.objectCache;
    const seen = new Set<string>();
    const trees: string[] = [];
    const commits = [...roots];
    while (commits.length > 0) {
      const oid = commits.pop()!;
      if (seen.has(oid)) continue;
      let c;
      try {
        ({ commit: c } = await git.readCommit({ fs, gitdir, oid, cache }));
      } catch {
        continue;
      }
      seen.add(oid);
      commits.push(...c.parent);
      trees.push(c.tree);
    }
    while (trees.length > 0) {
      const oid = trees.pop()!;
      if (seen.has(oid)) continue;
      let tree;
      try {
        ({ tree } = await git.readTree({ fs, gitdir, oid, cache }));
      } catch {
        continue;
      }
      seen.add(oid);
      for (const e of tree) {
        if (e.type === 'tree') trees.push(e.oid);
        else if (e.type === 'blob') seen.add(e.oid);
      }
    }
    return seen;
  }

  /** Rewrites the store as one pack of what `roots` reach; every other pack and loose object is removed. */
  async compact(roots: string[]): Promise<void> {
    const { gitdir } = this;
    const old = this.packs();
    const oids = [...(await this.reachable(roots))];
    const name = oids.length > 0 ? await this.writePack(oids) : undefined;
    for (const p of old) if (p !== name) this.removePack(p);
    for (const d of fs.readdirSync(join(gitdir, 'objects')))
      if (/^[0-9a-f]{2}$/.test(d)) fs.rmSync(join(gitdir, 'objects', d), { recursive: true, force: true });
    this.forget();
  }

  /** Drops what is held in memory about objects that may be gone from disk. */
  private forget(): void {
    this.objectCache = {};
    this.commits.clear();
    this.memoBytes = 0;
  }
}
