// `gitops validate` on a copy of the example repository refuses a load governor rule that CI must
// refuse, at the file, line and column of the rule, by its code; the example's own rules pass.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitops } from '../helpers/cli.js';
import { exampleCopy, readText, writeText } from '../helpers/project.js';
import { positionIn } from '../helpers/lines.js';

const STEP = '        frame_capture.fps: 10\n';

describe('gitops validate and the load governor', () => {
  it('refuses a ladder step that writes a protected field, and one that leaves the narrowed bounds', () => {
    const dir = exampleCopy();
    const file = join(dir, 'config/load_governor.yaml');
    const text = readText(file).replace(
      STEP,
      `${STEP}    - name: no_clips\n      set:\n        storage.retention_days: 1\n    - name: fps_3\n      set:\n        frame_capture.fps: 3\n`,
    );
    writeText(file, text);
    const r = gitops(['validate', '--root', dir]);
    expect(r.status).toBe(1);
    const protectedAt = positionIn(text, 'storage.retention_days: 1', 'storage.retention_days: '.length);
    const boundsAt = positionIn(text, 'frame_capture.fps: 3', 'frame_capture.fps: '.length);
    expect(r.stdout).toContain(
      `config/load_governor.yaml:${protectedAt.line}:${protectedAt.column} error governor-protected ` +
        'step "no_clips" sets storage.retention_days, which is protected',
    );
    expect(r.stdout).toContain(
      `config/load_governor.yaml:${boundsAt.line}:${boundsAt.column} error governor-out-of-bounds ` +
        'step "fps_3": 3 is outside the bounds of frame_capture.fps: 5..20 step 1',
    );
  });

  it('--format json carries the code, the file and the targets', () => {
    const dir = exampleCopy();
    const file = join(dir, 'config/load_governor.yaml');
    writeText(file, readText(file).replace('source: soc_temp_c', 'source: soc_tmp_c'));
    const r = gitops(['validate', '--format', 'json', '--root', dir]);
    expect(r.status).toBe(1);
    const parsed = JSON.parse(r.stdout) as { diagnostics: Array<Record<string, unknown>> };
    expect(parsed.diagnostics.filter((d) => d.code === 'governor-unknown-source')).toEqual([
      expect.objectContaining({ file: 'config/load_governor.yaml', suggestion: 'soc_temp_c', severity: 'error' }),
    ]);
  });
});
