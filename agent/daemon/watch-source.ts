// Watch mode (development): render from a working tree instead of a remote, without the
// signature step, and apply an edit within a few hundred milliseconds. Editors that save by
// writing a temporary file and renaming it over the original are handled: every change in
// config/, environments/ or schemas/ restarts a short debounce, then the whole tree is read.

import { createHash } from 'node:crypto';
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { readWorkingTree } from '../io/repo-files.js';
import type { Agent, CycleResult } from './agent.js';

export function treeId(files: ReadonlyMap<string, string>): string {
  const h = createHash('sha256');
  for (const [path, text] of [...files].sort(([a], [b]) => a.localeCompare(b))) h.update(path).update('\0').update(text).update('\0');
  return 'tree-' + h.digest('hex').slice(0, 16);
}

export class WatchSource {
  private watchers: FSWatcher[] = [];
  private debounce: NodeJS.Timeout | undefined;

  constructor(private readonly agent: Agent, private readonly dir: string, private readonly debounceMs = 40) {}

  async cycle(trigger: string): Promise<CycleResult | undefined> {
    const files = readWorkingTree(this.dir);
    const id = treeId(files);
    if (id === this.agent.state.applied) return undefined;
    return this.agent.apply(files, { commit: id, subject: 'working tree', trigger });
  }

  /** Calls `onChange` after a quiet period following changes under the tree. */
  start(onChange: () => void): void {
    for (const sub of ['config', 'environments', 'schemas']) {
      try {
        this.watchers.push(
          watch(join(this.dir, sub), { recursive: true }, (_e, name) => {
            if (name && /(^|\/)(\.|.*~$|.*\.sw.$|.*\.tmp$)/.test(String(name))) return; // editor swap and temp files
            if (this.debounce) clearTimeout(this.debounce);
            this.debounce = setTimeout(onChange, this.debounceMs);
          }),
        );
      } catch {
        // a missing directory is reported by the first cycle
      }
    }
  }

  stop(): void {
    for (const w of this.watchers) w.close();
    if (this.debounce) clearTimeout(this.debounce);
  }
}
