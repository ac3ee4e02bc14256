// What the in-process daemon tests share: a fake clock, the example repository with components
// reloaded by real commands, and a source that offers whatever the test sets.

import { parseDocument } from 'yaml';
import type { RepoFiles } from '../../agent/core/repo/layout.js';
import type { Source } from '../../agent/daemon/source.js';
import type { Clock } from '../../agent/io/clock.js';
import { exampleFiles } from './project.js';

export const START = Date.parse('2030-06-01T12:00:00.000Z');

/** Wall time that starts at START and moves only when the daemon sleeps; sleeping costs no real time. */
export function fakeClock(): Clock & { slept: number } {
  const c = {
    slept: 0,
    now: () => new Date(START + c.slept),
    monotonic: () => c.slept,
    sleep: async (ms: number) => {
      c.slept += ms;
      await new Promise((r) => setImmediate(r));
    },
    random: () => 0.5,
  };
  return c;
}

/**
 * The example repository (development) with every component reloaded by the command `reload`
 * gives it; with `health`, capture is judged by that URL for a bake of two minutes, and no other
 * component has a health check (without it, none has).
 */
export function commandRepository(
  reload: (name: string) => string[] = () => ['true'],
  health?: string,
): Map<string, string> {
  const files = exampleFiles();
  const doc = parseDocument(files.get('config/components.yaml')!);
  for (const { key } of (doc.get('components') as { items: Array<{ key: { value: string } }> }).items) {
    doc.setIn(['components', key.value, 'reload'], { method: 'command', command: reload(key.value), timeout_ms: 5000 });
    if (health && key.value === 'capture')
      doc.setIn(['components', key.value, 'health'], { url: health, bake_seconds: 120 });
    else doc.deleteIn(['components', key.value, 'health']);
  }
  // the bench's overrides (the file protocol of the example pipeline) are not what these tests run
  const overrides = parseDocument(files.get('environments/development/overrides.yaml')!);
  overrides.delete('components');
  return new Map(files)
    .set('config/components.yaml', doc.toString())
    .set('environments/development/overrides.yaml', overrides.toString());
}

export type Offer = { id: string; files?: RepoFiles; refused?: { code: 'unsigned'; markBad: boolean } };

/** A source that offers whatever tree (or refusal) the test sets, under the id the test gives it. */
export function testSource(): Source & { offer(o: Offer): void } {
  let current: Offer | undefined;
  return {
    retriesBadAtStart: false,
    offer(o) {
      current = o;
    },
    async next(trigger) {
      const c = current!;
      const info = { commit: c.id, subject: c.id, trigger };
      return {
        id: c.id,
        open: async () =>
          c.refused
            ? { refused: { info, code: c.refused.code, reason: 'no signature', markBad: c.refused.markBad } }
            : { files: c.files!, info },
      };
    },
  };
}
