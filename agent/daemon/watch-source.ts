// Watch mode (development): render from a working tree instead of a remote, without the
// signature step, and apply an edit within a few hundred milliseconds. Every change in
// config/, environments/ or schemas/ restarts a short debounce, then the whole tree is read.

import { createHash } from 'node:crypto';
import { readdirSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { compareText } from '../core/json/value.js';
import { readWorkingTree } from '../io/repo-files.js';
import type { Agent, CycleResult } from './agent.js';
import { QUIET_TRIGGER } from './runner.js';

export function treeId(files: ReadonlyMap<string, string>): string {
  const h = createHash('sha256');
  for (const [path, text] of [...files].sort(([a], [b]) => compareText(a, b)))
    h.update(path).update('\0').update(text).update('\0');
  return 'tree-' + h.digest('hex').slice(0, 16);
}

export class WatchSource {
  private watchers = new Map<string, FSWatcher>();
  private debounce: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;

  constructor(
    private readonly agent: Agent,
    private readonly dir: string,
    private readonly debounceMs = 40,
  ) {}

  /**
   * Applies the working tree unless it is what runs. A tree that was refused or rolled back is
   * held (not applied again) until the tree changes; at start the files on disk are applied
   * whatever happened to them before, as a developer who restarts the agent expects, unless the
   * agent died applying them (crash-loop): that tree stays held.
   */
  async cycle(trigger: string): Promise<CycleResult | undefined> {
    const files = readWorkingTree(this.dir);
    const id = treeId(files);
    const state = this.agent.state;
    const crashed = state.last_error?.code === 'crash-loop' && state.last_error.commit === id;
    const held = state.bad.includes(id) && (trigger !== 'start' || crashed);
    if (id === state.applied || held) {
      if (trigger !== QUIET_TRIGGER) {
        const why = crashed
          ? 'stopped the agent while it was applied'
          : state.last_error?.commit === id
            ? 'was refused'
            : 'was rolled back';
        state.last_sync = {
          time: this.agent.clock.now().toISOString(),
          trigger,
          result:
            id === state.applied
              ? 'up to date'
              : `held: the working tree is ${id}, which ${why}; it is applied again when the tree changes or the agent restarts`,
        };
        this.agent.store.writeState(state);
      }
      return undefined;
    }
    if (trigger === 'start') state.bad = state.bad.filter((b) => b !== id);
    return this.agent.apply(files, { commit: id, subject: 'working tree', trigger });
  }

  /**
   * Calls `onChange` after a quiet period following changes under the tree. Every directory is
   * watched itself (an inotify watch on a directory sees writes, creations and renames of its
   * entries, so a file replaced by an editor's rename is still seen), new directories are picked
   * up as they appear, and a slow poll catches anything a watch missed.
   */
  start(onChange: (trigger: string) => void): void {
    const fire = (): void => {
      if (this.debounce) clearTimeout(this.debounce);
      this.debounce = setTimeout(() => {
        this.rescan(fire);
        onChange('watch');
      }, this.debounceMs);
    };
    this.rescan(fire);
    this.poll = setInterval(() => onChange(QUIET_TRIGGER), 2000);
    this.poll.unref();
  }

  private rescan(fire: () => void): void {
    const walk = (path: string): void => {
      let entries;
      try {
        entries = readdirSync(path, { withFileTypes: true });
      } catch {
        return;
      }
      if (!this.watchers.has(path)) {
        try {
          const w = watch(path, (_event, name) => {
            if (name && /^\.|~$|\.sw.$/.test(String(name))) return; // editor swap and lock files
            fire();
          });
          w.on('error', () => this.watchers.delete(path));
          this.watchers.set(path, w);
        } catch {
          return;
        }
      }
      for (const e of entries) if (e.isDirectory()) walk(join(path, e.name));
    };
    for (const sub of ['config', 'environments', 'schemas']) walk(join(this.dir, sub));
  }

  stop(): void {
    for (const w of this.watchers.values()) w.close();
    if (this.debounce) clearTimeout(this.debounce);
    if (this.poll) clearInterval(this.poll);
  }
}
