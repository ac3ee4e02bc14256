// What validation refuses about experiments (agent/core/experiments/check.ts), each with its code,
// on the example repository with one file changed; and that the example's experiment validates.

import { describe, expect, it } from 'vitest';
import { openRepository } from '../../agent/core/repo/repository.js';
import { validateFor, validateRepository } from '../../agent/core/validate/validate.js';
import { edit, exampleFiles, withFiles } from '../helpers/project.js';

const FILE = 'experiments/motion-sensitivity.yaml';
const base = exampleFiles();
const text = base.get(FILE)!;

const codes = (files: Map<string, string>): string[] =>
  validateRepository(files)
    .diagnostics.filter((d) => d.severity === 'error')
    .map((d) => d.code);
const errorsOf = (files: Map<string, string>, code: string) =>
  validateRepository(files).diagnostics.filter((d) => d.code === code);
const changed = (from: string, to: string): Map<string, string> => edit(base, FILE, from, to);
const second = (name: string, body: string): Map<string, string> => withFiles({ [`experiments/${name}.yaml`]: body });

describe('experiment checks', () => {
  it('the example experiment validates', () => {
    const report = validateRepository(base);
    expect(report.diagnostics.filter((d) => d.code.startsWith('experiment-') || d.file === FILE)).toEqual([]);
    expect(report.valid).toBe(true);
  });

  it('refuses a file the schema refuses, located in it', () => {
    const d = validateRepository(changed('unit: device', 'unit: household')).diagnostics.find((x) => x.file === FILE);
    expect(d).toMatchObject({ severity: 'error', code: 'schema-enum', file: FILE });
  });

  it.each([
    ['experiment-non-ascii', 'seed: motion-sensitivity-1', 'seed: motion-sensitivität-1'],
    ['experiment-unknown-environment', 'environments: [production]', 'environments: [prodution]'],
    ['experiment-weights-sum', '{ name: control, weight: 0.5 }', '{ name: control, weight: 0.6 }'],
    ['experiment-duplicate-variant', '{ name: low, weight: 0.5', '{ name: control, weight: 0.5'],
    ['experiment-empty-range', 'range: [0, 0.5]', 'range: [0.5, 0.5]'],
    [
      'experiment-washout-too-long',
      'design: { type: between }',
      'design: { type: switchback, block_hours: 1, washout_minutes: 60 }',
    ],
    ['experiment-unknown-path', 'motion.sensitivity: 0.45', 'motion.sensitivty: 0.45'],
    ['experiment-not-tunable', 'motion.sensitivity: 0.45', 'motion.min_area_percent: 2'],
    ['experiment-owner-not-allowed', 'motion.sensitivity: 0.45', 'storage.retention_days: 7'],
    ['experiment-value-out-of-bounds', 'motion.sensitivity: 0.45', 'motion.sensitivity: 0.95'],
    ['experiment-value-off-grid', 'motion.sensitivity: 0.45', 'motion.sensitivity: 0.47'],
  ])('%s', (code, from, to) => {
    const found = errorsOf(changed(from, to), code);
    expect(found.length, JSON.stringify(validateRepository(changed(from, to)).diagnostics.slice(0, 3))).toBeGreaterThan(
      0,
    );
    expect(found[0]).toMatchObject({ severity: 'error', file: FILE });
    expect(found[0]!.line).toBeGreaterThan(1);
  });

  it('refuses a file name outside [a-z0-9-]', () => {
    const files = withFiles({ [FILE]: undefined, 'experiments/Motion_Test.yaml': text });
    expect(codes(files)).toContain('experiment-bad-name');
  });

  it('refuses a device id that is not ASCII, in an environment the experiment runs in', () => {
    const device = base.get('environments/production/devices/prod-hamburg-002.yaml')!;
    const files = withFiles({ 'environments/production/devices/prod-hämburg.yaml': device });
    expect(errorsOf(files, 'experiment-non-ascii')).toContainEqual(
      expect.objectContaining({ file: FILE, targets: ['production/prod-hämburg'] }),
    );
  });

  it("checks the value against each device's narrowed bounds, and names the device", () => {
    const path = 'environments/production/devices/prod-berlin-001.yaml';
    const files = edit(
      base,
      path,
      'frame_capture:',
      'tunables:\n  motion.sensitivity: { maximum: 0.4 }\nframe_capture:',
    );
    const found = errorsOf(files, 'experiment-value-out-of-bounds');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ file: FILE, targets: ['production/prod-berlin-001'] });
    expect(found[0]!.message).toContain(path);
    // a device that takes the owner experiment away
    const noOwner = edit(
      base,
      path,
      'frame_capture:',
      'tunables:\n  motion.sensitivity: { owners: [operator] }\nframe_capture:',
    );
    expect(errorsOf(noOwner, 'experiment-owner-not-allowed')[0]).toMatchObject({
      targets: ['production/prod-berlin-001'],
    });
  });

  it('refuses overlapping ranges of one namespace, and allows disjoint ones', () => {
    const other = text
      .replace('seed: motion-sensitivity-1', 'seed: other-1')
      .replace('motion.sensitivity: 0.45', 'motion.sensitivity: 0.5');
    expect(codes(second('other', other.replace('range: [0, 0.5]', 'range: [0.4, 1]')))).toContain(
      'experiment-namespace-overlap',
    );
    const disjoint = second('other', other.replace('range: [0, 0.5]', 'range: [0.5, 1]'));
    expect(codes(disjoint).filter((c) => c.startsWith('experiment-'))).toEqual([]);
  });

  it('refuses a field set by two experiments that may share a device', () => {
    const other = text
      .replace('seed: motion-sensitivity-1', 'seed: other-1')
      .replace('namespace: { name: motion, range: [0, 0.5] }', 'namespace: { name: pipeline, range: [0, 1] }');
    const found = errorsOf(second('other', other), 'experiment-path-conflict');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ file: 'experiments/other.yaml', path: 'variants[1].set.motion.sensitivity' });
    // in another environment only: no device can be in both
    expect(
      codes(second('other', other.replace('environments: [production]', 'environments: [staging]'))),
    ).not.toContain('experiment-path-conflict');
  });

  it('the device refuses what CI refuses (validateFor one device)', () => {
    const repo = openRepository(changed('motion.sensitivity: 0.45', 'motion.sensitivity: 0.95'));
    const report = validateFor(repo, { environment: 'production', device: 'prod-hamburg-002' });
    expect(report.valid).toBe(false);
    expect(report.diagnostics.map((d) => d.code)).toContain('experiment-value-out-of-bounds');
  });
});
