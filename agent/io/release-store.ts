// The agent's state directory: one directory per release (0700, files 0600, fsynced, made
// under a temporary name and renamed whole), a `current` symlink switched atomically, a
// state.json written atomically, and an append-only JSON-lines journal. After a crash at any
// instant, `current` names either the old release or the new one, never half of one.

import { closeSync, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { GitopsError } from '../core/errors.js';
import { writeFileAtomic } from './repo-files.js';

export interface JournalEntry {
  time: string;
  event: string;
  commit?: string | null;
  [key: string]: unknown;
}

const COMPLETE = 'release.json';

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export class ReleaseStore {
  readonly releases: string;

  /** The store of an agent that has run in `dir`, or undefined when it has not (nothing is created). */
  static existing(dir: string): ReleaseStore | undefined {
    return existsSync(join(dir, 'state.json')) ? new ReleaseStore(dir) : undefined;
  }

  constructor(readonly dir: string) {
    this.releases = join(dir, 'releases');
    mkdirSync(this.releases, { recursive: true, mode: 0o700 });
  }

  /** Writes a release's files and, last, its release.json; returns its directory. */
  writeRelease(id: string, files: Record<string, string>, manifest: object): string {
    if (!/^[0-9a-zA-Z._-]+$/.test(id)) throw new GitopsError('bad-release-id', `"${id}" is not a release id`, 'release ids are commit ids');
    const final = join(this.releases, id);
    const tmp = join(this.releases, `.tmp-${id}-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    try {
      mkdirSync(tmp, { mode: 0o700 });
      for (const [name, text] of [...Object.entries(files), [COMPLETE, JSON.stringify(manifest, null, 2) + '\n'] as const]) {
        const fd = openSync(join(tmp, name), 'wx', 0o600);
        try {
          writeSync(fd, text);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      }
      fsyncDir(tmp);
      rmSync(final, { recursive: true, force: true });
      renameSync(tmp, final);
      fsyncDir(this.releases);
      return final;
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      if (e instanceof GitopsError) throw e;
      throw new GitopsError('release-write-failed', `could not write release ${id}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'check free disk space in the state directory; the running release is untouched');
    }
  }

  hasRelease(id: string): boolean {
    try {
      return lstatSync(join(this.releases, id, COMPLETE)).isFile();
    } catch {
      return false;
    }
  }

  /** The complete releases on disk. */
  list(): string[] {
    return readdirSync(this.releases).filter((name) => !name.startsWith('.') && this.hasRelease(name));
  }

  /** Removes releases not in `keep` and not current, sparing the `spare` most recently written. */
  prune(keep: ReadonlySet<string>, spare = 5): string[] {
    const current = this.current();
    const others = this.list()
      .filter((id) => !keep.has(id) && id !== current)
      .map((id) => ({ id, time: lstatSync(join(this.releases, id, COMPLETE)).mtimeMs }))
      .sort((a, b) => b.time - a.time)
      .slice(spare);
    for (const { id } of others) rmSync(join(this.releases, id), { recursive: true, force: true });
    return others.map((o) => o.id);
  }

  readRelease(id: string, name: string): string {
    return readFileSync(join(this.releases, id, name), 'utf8');
  }

  /** Points `current` at a release: a new symlink renamed over the old one. */
  switchCurrent(id: string): void {
    if (!this.hasRelease(id)) throw new GitopsError('release-missing', `release ${id} is not complete`, 'write it before switching to it');
    const tmp = join(this.dir, `.current-${process.pid}`);
    rmSync(tmp, { force: true });
    symlinkSync(join('releases', id), tmp);
    renameSync(tmp, join(this.dir, 'current'));
    fsyncDir(this.dir);
  }

  current(): string | undefined {
    try {
      const target = readlinkSync(join(this.dir, 'current'));
      const id = target.replace(/^releases\//, '');
      return this.hasRelease(id) ? id : undefined;
    } catch {
      return undefined;
    }
  }

  readState<T>(fallback: T): T {
    try {
      return JSON.parse(readFileSync(join(this.dir, 'state.json'), 'utf8')) as T;
    } catch {
      return fallback;
    }
  }

  writeState(state: object): void {
    writeFileAtomic(join(this.dir, 'state.json'), JSON.stringify(state, null, 2) + '\n', 0o600);
  }

  appendJournal(entry: JournalEntry): void {
    const fd = openSync(join(this.dir, 'journal.jsonl'), 'a', 0o600);
    try {
      writeSync(fd, JSON.stringify(entry) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** The journal file as it is (empty when there is none). */
  journalBytes(): Buffer {
    try {
      return readFileSync(join(this.dir, 'journal.jsonl'));
    } catch {
      return Buffer.alloc(0);
    }
  }

  /** Puts `earlier` lines (a restored device's history) before the journal's own, atomically. */
  prependJournal(earlier: Buffer): void {
    writeFileAtomic(join(this.dir, 'journal.jsonl'), Buffer.concat([earlier, this.journalBytes()]), 0o600);
  }

  journal(limit = 100): JournalEntry[] {
    let text: string;
    try {
      text = readFileSync(join(this.dir, 'journal.jsonl'), 'utf8');
    } catch {
      return [];
    }
    const out: JournalEntry[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line) as JournalEntry);
      } catch {
        // a line cut by a crash mid-write: skipped, the journal stays readable
      }
    }
    return out.slice(-limit);
  }

  /** After a crash: removes half-written releases and symlinks; says what it found. */
  recover(): { current: string | undefined; removed: string[] } {
    const removed: string[] = [];
    for (const name of readdirSync(this.releases)) {
      if (name.startsWith('.tmp-') || !this.hasRelease(name)) {
        rmSync(join(this.releases, name), { recursive: true, force: true });
        removed.push(name);
      }
    }
    for (const name of readdirSync(this.dir)) if (name.startsWith('.current-')) rmSync(join(this.dir, name), { force: true });
    return { current: this.current(), removed };
  }
}
