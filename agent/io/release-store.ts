// The agent's state directory: one directory per release (0700, files 0600, fsynced, made
// under a temporary name and renamed whole), a `current` symlink switched atomically, a
// state.json written atomically, and an append-only JSON-lines journal. After a crash at any
// instant, `current` names either the old release or the new one, never half of one.
//
// The journal is bounded: when journal.jsonl would pass `maxBytes` it becomes journal.1.jsonl
// (journal.1 becomes journal.2, ...; `keep` of them are kept, the oldest dropped). It is read
// from the end, a chunk at a time, so that the last few entries of a long history cost little
// memory; lines that are not JSON objects (cut by a crash, or written by something else) are
// skipped.

import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { JournalEntry } from '../core/contracts/api.js';
import { GitopsError } from '../core/errors.js';
import { writeFileAtomic } from './repo-files.js';

export type { JournalEntry } from '../core/contracts/api.js';

const COMPLETE = 'release.json';
const JOURNAL = 'journal.jsonl';
const ROTATED = /^journal\.(\d+)\.jsonl$/;
const rotatedName = (n: number): string => `journal.${n}.jsonl`;

export interface JournalLimits {
  /** journal.jsonl is rotated before it would grow past this many bytes. */
  maxBytes: number;
  /** Rotated files kept (journal.1.jsonl is the newest of them). */
  keep: number;
}

/** 2 MiB a file, 4 rotated files kept: about 10 MiB and tens of thousands of entries at most. */
export const JOURNAL_LIMITS: JournalLimits = { maxBytes: 2 * 1024 * 1024, keep: 4 };

/** A journal line as an entry: a JSON object, or undefined for anything else. */
export function journalEntry(line: string): JournalEntry | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined; // a line cut by a crash mid-write
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JournalEntry) : undefined;
}

/** How many entries journal text holds (what journalEntry accepts). */
export function countJournalEntries(bytes: Buffer): number {
  let count = 0;
  for (const line of bytes.toString('utf8').split('\n')) if (line && journalEntry(line)) count++;
  return count;
}

/**
 * The lines of a file, last first, read backwards `chunk` bytes at a time. A line longer than
 * `maxLine` bytes is skipped rather than held in memory. Nothing when the file does not exist.
 */
export function* linesFromEnd(path: string, chunk = 64 * 1024, maxLine = 1024 * 1024): Generator<string> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return;
  }
  try {
    let pos = fstatSync(fd).size;
    let carry = Buffer.alloc(0); // the end of a line whose start is further back
    let overlong = false;
    while (pos > 0) {
      const n = Math.min(chunk, pos);
      pos -= n;
      const buf = Buffer.allocUnsafe(n);
      readSync(fd, buf, 0, n, pos);
      let end = n;
      // (lastIndexOf with offset -1 would search from the end again: i = 0 stops the loop by hand)
      for (let i = buf.lastIndexOf(0x0a, n - 1); i >= 0; i = i > 0 ? buf.lastIndexOf(0x0a, i - 1) : -1) {
        if (!overlong) {
          const line = carry.length > 0 ? Buffer.concat([buf.subarray(i + 1, end), carry]) : buf.subarray(i + 1, end);
          if (line.length > 0) yield line.toString('utf8');
        }
        carry = Buffer.alloc(0);
        overlong = false;
        end = i;
      }
      if (!overlong) {
        carry = Buffer.concat([buf.subarray(0, end), carry]);
        if (carry.length > maxLine) {
          overlong = true;
          carry = Buffer.alloc(0);
        }
      }
    }
    if (!overlong && carry.length > 0) yield carry.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The runtime layers: the leases in force and the changes of the last hour. */
const LEASES = 'leases.json';

export class ReleaseStore {
  readonly releases: string;

  /** The store of an agent that has run in `dir`, or undefined when it has not (nothing is created). */
  static existing(dir: string): ReleaseStore | undefined {
    return existsSync(join(dir, 'state.json')) ? new ReleaseStore(dir) : undefined;
  }

  constructor(
    readonly dir: string,
    readonly journalLimits: JournalLimits = JOURNAL_LIMITS,
  ) {
    this.releases = join(dir, 'releases');
    mkdirSync(this.releases, { recursive: true, mode: 0o700 });
  }

  /** Writes a release's files and, last, its release.json; returns its directory. */
  writeRelease(id: string, files: Record<string, string>, manifest: object): string {
    if (!/^[0-9a-zA-Z._-]+$/.test(id))
      throw new GitopsError('bad-release-id', `"${id}" is not a release id`, 'release ids are commit ids');
    const final = join(this.releases, id);
    const tmp = join(this.releases, `.tmp-${id}-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    try {
      mkdirSync(tmp, { mode: 0o700 });
      for (const [name, text] of [
        ...Object.entries(files),
        [COMPLETE, JSON.stringify(manifest, null, 2) + '\n'] as const,
      ]) {
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
      throw new GitopsError(
        'release-write-failed',
        `could not write release ${id}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        'check free disk space in the state directory; the running release is untouched',
        { cause: e },
      );
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
    if (!this.hasRelease(id))
      throw new GitopsError('release-missing', `release ${id} is not complete`, 'write it before switching to it');
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

  /** state.json as parsed JSON (undefined when there is none), or why it cannot be parsed. */
  readStateFile(): { value: unknown } | { error: string } {
    let text: string;
    try {
      text = readFileSync(join(this.dir, 'state.json'), 'utf8');
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ENOENT'
        ? { value: undefined }
        : { error: (e as NodeJS.ErrnoException).code ?? 'unreadable' };
    }
    try {
      return { value: JSON.parse(text) as unknown };
    } catch {
      return { error: 'not JSON' };
    }
  }

  /** Moves state.json aside (kept for a person to look at); returns the name it now has. */
  setStateAside(now: Date): string {
    const name = `state.json.bad-${now.toISOString().replace(/[:.]/g, '-')}`;
    renameSync(join(this.dir, 'state.json'), join(this.dir, name));
    fsyncDir(this.dir);
    return name;
  }

  /** leases.json (the runtime layers) as parsed JSON; undefined when there is none or it is not JSON. */
  readLeases(): unknown {
    try {
      return JSON.parse(readFileSync(join(this.dir, LEASES), 'utf8')) as unknown;
    } catch {
      return undefined;
    }
  }

  writeLeases(value: object): void {
    writeFileAtomic(join(this.dir, LEASES), JSON.stringify(value, null, 2) + '\n', 0o600);
  }

  writeState(state: object): void {
    writeFileAtomic(join(this.dir, 'state.json'), JSON.stringify(state, null, 2) + '\n', 0o600);
  }

  /**
   * Appends one entry (fsynced). A journal that would grow past its limit is rotated first; a
   * last line cut by a crash is ended, so that it does not swallow the new entry.
   */
  appendJournal(entry: JournalEntry): void {
    const path = join(this.dir, JOURNAL);
    const line = JSON.stringify(entry) + '\n';
    let fd = openSync(path, 'a+', 0o600);
    try {
      let size = fstatSync(fd).size;
      if (size > 0 && size + Buffer.byteLength(line) > this.journalLimits.maxBytes) {
        closeSync(fd);
        fd = -1;
        try {
          this.rotateJournal();
        } catch {
          // the entry matters more than the bound: it is appended to the journal as it is
        }
        fd = openSync(path, 'a+', 0o600);
        size = fstatSync(fd).size;
      }
      let text = line;
      if (size > 0) {
        const last = Buffer.alloc(1);
        readSync(fd, last, 0, 1, size - 1);
        if (last[0] !== 0x0a) text = '\n' + line;
      }
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }

  /** The rotated journal files, newest (journal.1.jsonl) first; gaps left by a crash are skipped. */
  private rotatedJournals(): Array<{ n: number; path: string }> {
    return readdirSync(this.dir)
      .map((name) => ({ name, m: ROTATED.exec(name) }))
      .filter((x): x is { name: string; m: RegExpExecArray } => x.m !== null)
      .map(({ name, m }) => ({ n: Number(m[1]), path: join(this.dir, name) }))
      .sort((a, b) => a.n - b.n);
  }

  /**
   * journal.jsonl becomes journal.1, the k-th newest rotated file journal.(k+1) (a gap left by a
   * crash mid-rotation closes), and files beyond `keep` are dropped, oldest first. Every step is
   * one rename, so a reader never sees the history out of order.
   */
  private rotateJournal(): void {
    const { keep } = this.journalLimits;
    const moves = this.rotatedJournals().map((f, k) => ({ ...f, to: k + 2 }));
    for (const f of [...moves].reverse()) if (f.to > keep) rmSync(f.path, { force: true });
    const kept = moves.filter((f) => f.to <= keep);
    // moves up first, the oldest first; then moves down (past a gap), the newest first: no target is taken
    for (const f of [...kept].reverse()) if (f.to > f.n) renameSync(f.path, join(this.dir, rotatedName(f.to)));
    for (const f of kept) if (f.to < f.n) renameSync(f.path, join(this.dir, rotatedName(f.to)));
    if (keep > 0) renameSync(join(this.dir, JOURNAL), join(this.dir, rotatedName(1)));
    else rmSync(join(this.dir, JOURNAL), { force: true });
    fsyncDir(this.dir);
  }

  /** The journal files, oldest first: the rotated ones, then journal.jsonl. */
  journalFiles(): string[] {
    const files = this.rotatedJournals()
      .reverse()
      .map((f) => f.path);
    const current = join(this.dir, JOURNAL);
    return existsSync(current) ? [...files, current] : files;
  }

  /** The whole journal, rotated files included, oldest first (empty when there is none). */
  journalBytes(): Buffer {
    const parts: Buffer[] = [];
    for (const file of this.journalFiles()) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch {
        continue;
      }
      if (bytes.length === 0) continue;
      parts.push(bytes);
      if (bytes[bytes.length - 1] !== 0x0a) parts.push(Buffer.from('\n'));
    }
    return Buffer.concat(parts);
  }

  /** Puts `earlier` lines (a restored device's history) before the journal's own, atomically. */
  prependJournal(earlier: Buffer): void {
    if (earlier.length === 0) return;
    const oldest = this.journalFiles()[0] ?? join(this.dir, JOURNAL);
    let own: Buffer = Buffer.alloc(0);
    try {
      own = readFileSync(oldest);
    } catch {
      // no journal yet
    }
    const sep = earlier[earlier.length - 1] === 0x0a ? [] : [Buffer.from('\n')];
    writeFileAtomic(oldest, Buffer.concat([earlier, ...sep, own]), 0o600);
  }

  /**
   * The last `limit` entries, oldest first, that `wanted` accepts (all by default): read from
   * the end of the journal, through the rotated files, only as far back as needed.
   */
  journal(limit = 100, wanted?: (entry: JournalEntry) => boolean): JournalEntry[] {
    const out: JournalEntry[] = [];
    if (limit < 1) return out;
    const files = this.journalFiles().reverse();
    for (const file of files) {
      for (const line of linesFromEnd(file)) {
        const entry = journalEntry(line);
        if (!entry || (wanted && !wanted(entry))) continue;
        out.push(entry);
        if (out.length >= limit) return out.reverse();
      }
    }
    return out.reverse();
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
    for (const name of readdirSync(this.dir))
      if (name.startsWith('.current-')) rmSync(join(this.dir, name), { force: true });
    return { current: this.current(), removed };
  }
}
