// Watching a working tree for edits (watch mode): every directory under the given subdirectories
// is watched itself (an inotify watch on a directory sees writes, creations and renames of its
// entries, so a file replaced by an editor's rename is still seen), new directories are picked up
// as they appear, and a quiet period after the last change is waited for before `onChange`.

import { readdirSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { join } from 'node:path';

export interface TreeWatch {
  stop(): void;
}

/** Editor swap, backup and lock files are not edits. */
const IGNORED = /^\.|~$|\.sw.$/;

export function watchTree(
  dir: string,
  subdirs: readonly string[],
  debounceMs: number,
  onChange: () => void,
): TreeWatch {
  const watchers = new Map<string, FSWatcher>();
  let debounce: NodeJS.Timeout | undefined;
  const fire = (): void => {
    if (debounce) clearTimeout(debounce);
    debounce = setTimeout(() => {
      rescan();
      onChange();
    }, debounceMs);
  };
  const walk = (path: string): void => {
    let entries;
    try {
      entries = readdirSync(path, { withFileTypes: true });
    } catch {
      return;
    }
    if (!watchers.has(path)) {
      try {
        const w = watch(path, (_event, name) => {
          if (name && IGNORED.test(String(name))) return;
          fire();
        });
        w.on('error', () => watchers.delete(path));
        watchers.set(path, w);
      } catch {
        return;
      }
    }
    for (const e of entries) if (e.isDirectory()) walk(join(path, e.name));
  };
  const rescan = (): void => {
    for (const sub of subdirs) walk(join(dir, sub));
  };
  rescan();
  return {
    stop() {
      for (const w of watchers.values()) w.close();
      if (debounce) clearTimeout(debounce);
    },
  };
}

/** Calls `onEntry` for every entry of `dir` that appears, disappears or changes; nothing when `dir` cannot be watched. */
export function watchEntries(dir: string, onEntry: (path: string, name: string) => void): TreeWatch | undefined {
  try {
    const w = watch(dir, (_event, name) => {
      if (name) onEntry(join(dir, String(name)), String(name));
    });
    w.on('error', () => undefined);
    return { stop: () => w.close() };
  } catch {
    return undefined;
  }
}
