// Watch mode (development): candidates are the working tree instead of a remote, without the
// signature step, so that an edit is applied within a few hundred milliseconds. Every change in
// config/, environments/ or schemas/ restarts a short debounce, then the whole tree is read.
// Edits are seen by their notifications; a quiet rescan every 30 s catches what a notification
// missed (a file system without inotify, a watch limit reached); it compares the files'
// metadata first (one lstat each) and reads them only when that moved. An idle agent wakes for
// it twice a minute, not thirty times.

import { createHash } from 'node:crypto';
import { compareText } from '../core/json/value.js';
import type { RepoFiles } from '../core/repo/layout.js';
import type { TreeWatch } from '../io/tree-watcher.js';
import { QUIET_TRIGGER } from './source.js';
import type { Candidate, Source } from './source.js';

/** The safety net's period. */
export const RESCAN_MS = 30_000;

export function treeId(files: ReadonlyMap<string, string>): string {
  const h = createHash('sha256');
  for (const [path, text] of [...files].sort(([a], [b]) => compareText(a, b)))
    h.update(path).update('\0').update(text).update('\0');
  return 'tree-' + h.digest('hex').slice(0, 16);
}

export interface WatchIo {
  readTree(): RepoFiles;
  /** The tree's metadata at a glance (treeSignature): equal means a quiet rescan need not read it. */
  signature?(): string;
  watch(onChange: () => void): TreeWatch;
}

export class WatchSource implements Source {
  /**
   * A tree that was refused or rolled back is held (not applied again) until the tree changes;
   * at start the files on disk are applied whatever happened to them before, as a developer who
   * restarts the agent expects, unless the agent died applying them (crash-loop).
   */
  readonly retriesBadAtStart = true;
  private watching: TreeWatch | undefined;
  private poll: NodeJS.Timeout | undefined;
  /** The last tree read, with its signature taken just before the read. */
  private last: { signature: string; id: string; files: RepoFiles } | undefined;

  constructor(private readonly io: WatchIo) {}

  async next(trigger: string): Promise<Candidate> {
    const signature = this.io.signature?.();
    let tree = this.last;
    // a quiet rescan reads the files only when their metadata moved; an edit's notification always does
    if (!(trigger === QUIET_TRIGGER && signature !== undefined && tree?.signature === signature)) {
      const files = this.io.readTree();
      tree = { signature: signature ?? '', id: treeId(files), files };
      if (signature !== undefined) this.last = tree;
    }
    const { id, files } = tree!;
    return { id, open: async () => ({ files, info: { commit: id, subject: 'working tree', trigger } }) };
  }

  /** Calls `onChange` after edits, and every 30 s as a quiet rescan that catches what a watch missed. */
  start(onChange: (trigger: string) => void): void {
    this.watching = this.io.watch(() => onChange('watch'));
    this.poll = setInterval(() => onChange(QUIET_TRIGGER), RESCAN_MS);
    this.poll.unref();
  }

  stop(): void {
    this.watching?.stop();
    if (this.poll) clearInterval(this.poll);
  }
}
