// Concluding an experiment (agent/core/experiments/conclude.ts) on the example repository: the
// shipped values written into the overrides of the experiment's environments with their comments
// kept and their types from the schema, the experiment removed, the result valid; the control arm
// only removes the file; a device that sets the path itself is named; an unknown variant and a
// value the schema refuses are refused by code.

import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { concludeExperiment, variantOf } from '../../agent/core/experiments/conclude.js';
import { readExperiment } from '../../agent/core/experiments/read.js';
import type { Experiment } from '../../agent/core/experiments/read.js';
import { openRepository } from '../../agent/core/repo/repository.js';
import { validateRepository } from '../../agent/core/validate/validate.js';
import { withCode } from '../helpers/codes.js';
import { edit, exampleFiles } from '../helpers/project.js';

const FILE = 'experiments/motion-sensitivity.yaml';
const OVERRIDES = 'environments/production/overrides.yaml';

function open(files: Map<string, string>) {
  const repo = openRepository(files);
  const read = readExperiment(repo, 'motion-sensitivity');
  if (read.kind !== 'read') throw new Error('the example experiment does not read');
  return { repo, e: read.experiment };
}

describe('concludeExperiment', () => {
  it('writes the shipped values into the overrides (comments kept), removes the experiment; the result validates', () => {
    const base = exampleFiles();
    const { repo, e } = open(base);
    const c = concludeExperiment(repo, e, 'low');
    expect(c.written).toEqual([OVERRIDES]);
    expect(c.removed).toEqual([FILE]);
    expect(c.files.has(FILE)).toBe(false);
    expect(c.values).toEqual([{ environment: 'production', file: OVERRIDES, path: 'motion.sensitivity', value: 0.45 }]);
    const text = c.files.get(OVERRIDES)!;
    expect(text.startsWith(base.get(OVERRIDES)!.split('\nversion: 2')[0]!)).toBe(true); // the header comments
    expect(text).toContain("# The residents' group chat; the bot token is in secrets.sops.yaml.");
    expect((parseYaml(text) as { motion: { sensitivity: unknown } }).motion.sensitivity).toBe(0.45);
    expect(c.shadowed).toEqual([]);
    // nothing else changes
    for (const [path, t] of base) if (path !== OVERRIDES && path !== FILE) expect(c.files.get(path)).toBe(t);
    expect(validateRepository(c.files).valid).toBe(true);
  });

  it('the control arm only removes the experiment', () => {
    const base = exampleFiles();
    const { repo, e } = open(base);
    const c = concludeExperiment(repo, e, 'control');
    expect(c.written).toEqual([]);
    expect(c.values).toEqual([]);
    expect([...c.files.keys()].sort()).toEqual([...base.keys()].filter((p) => p !== FILE).sort());
  });

  it('names a device whose own file sets a shipped path (it keeps its value)', () => {
    const files = edit(
      exampleFiles(),
      'environments/production/devices/prod-hamburg-002.yaml',
      'motion:\n  zones:',
      'motion:\n  sensitivity: 0.7\n  zones:',
    );
    const { repo, e } = open(files);
    expect(concludeExperiment(repo, e, 'low').shadowed).toEqual([
      { environment: 'production', device: 'prod-hamburg-002', path: 'motion.sensitivity', value: 0.7 },
    ]);
  });

  it('refuses an unknown variant and a value the schema does not accept, by code', () => {
    const { repo, e } = open(exampleFiles());
    expect(() => concludeExperiment(repo, e, 'lw')).toThrow(withCode('unknown-variant', 'Did you mean "low"?'));
    expect(() => variantOf(e, 'high')).toThrow(withCode('unknown-variant'));
    const odd: Experiment = {
      ...e,
      variants: [e.variants[0]!, { name: 'odd', weight: 0.5, set: { 'motion.sensitivity': 'high' } }],
    };
    expect(() => concludeExperiment(repo, odd, 'odd')).toThrow(withCode('bad-value'));
    const unknown: Experiment = { ...e, variants: [{ name: 'x', weight: 1, set: { 'motion.sensitivty': 0.5 } }] };
    expect(() => concludeExperiment(repo, unknown, 'x')).toThrow(withCode('unknown-path'));
  });
});
