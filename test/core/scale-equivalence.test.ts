// The shortcuts that make validation and diff scale (shared environment layers, shared tunable
// tables, diff rendering only the targets whose inputs changed) give what the plain paths give:
// on a generated fleet, each target validated in a repository of its own (nothing shared) equals
// its part of the whole-fleet validation, and the pruned diff equals the diff that renders every
// target, for each kind of change.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateFleet } from '../../devtools/fleet-gen.js';
import { diffRepositories } from '../../agent/core/change/diff.js';
import { render } from '../../agent/core/config/render.js';
import { openRepository } from '../../agent/core/repo/repository.js';
import { validateOpened, validateTarget } from '../../agent/core/validate/validate.js';
import { readWorkingTree } from '../../agent/io/repo-files.js';
import { PROJECT, tempDir } from '../helpers/project.js';

describe('validation and diff at scale give what the plain paths give', () => {
  const fleet = generateFleet(PROJECT, join(tempDir('scale-'), 'fleet'), 60);
  const files = readWorkingTree(fleet.repo);

  it('every target of the whole-fleet validation equals the target validated alone', () => {
    const report = validateOpened(openRepository(files));
    expect(report.targets.length).toBe(64); // the example's 4 devices and the 60 generated
    for (const t of report.targets) {
      const alone = openRepository(files);
      expect(validateTarget(alone, t.target).diagnostics).toEqual(t.diagnostics);
      expect(render(alone, t.target).config).toEqual(t.result.config);
      expect([...render(alone, t.target).provenance]).toEqual([...t.result.provenance]);
    }
  });

  const edits: Array<[string, Record<string, (text: string | undefined) => string | undefined>, number]> = [
    ['a base value', { 'config/motion.yaml': (t) => t!.replace('sensitivity: 0.6', 'sensitivity: 0.7') }, 64],
    [
      'one device file',
      { 'environments/production/devices/prod-gen-00003.yaml': (t) => `${t!}storage:\n  retention_days: 9\n` },
      1,
    ],
    [
      'a device added and one removed',
      {
        'environments/staging/devices/stag-gen-00099.yaml': () =>
          files.get('environments/staging/devices/stag-gen-00001.yaml')!.replace('stag-gen-00001', 'stag-gen-00099'),
        'environments/staging/devices/stag-gen-00002.yaml': () => undefined,
      },
      2,
    ],
    [
      "an environment's overrides",
      { 'environments/staging/overrides.yaml': (t) => t!.replace('enabled: true', 'enabled: false') },
      13, // staging: its own device and 12 generated
    ],
    [
      'a schema',
      {
        'schemas/motion.schema.json': (t) => t!.replace('0 ignores everything', 'Zero ignores everything'),
      },
      0, // every target rendered again: a schema is read by all
    ],
    ['a file no render reads', { 'config/templates/pi-csi.yaml': (t) => `${t!}# a comment\n` }, 0],
  ];
  for (const [what, change, expected] of edits)
    it(`a change to ${what}: the pruned diff equals the diff of every target`, () => {
      const head = new Map(files);
      for (const [file, edit] of Object.entries(change)) {
        const text = edit(files.get(file));
        if (text === undefined) head.delete(file);
        else head.set(file, text);
        expect(text === undefined || text !== files.get(file), `${file} changed`).toBe(true);
      }
      const pruned = diffRepositories(files, head);
      expect(pruned).toEqual(diffRepositories(files, head, { everyTarget: true }));
      expect(pruned.targets.length).toBe(expected);
    });
});

describe('validate --device D checks that device, not its environment', () => {
  const fleet = generateFleet(PROJECT, join(tempDir('scoped-'), 'fleet'), 30);
  const files = new Map(readWorkingTree(fleet.repo));
  // another production device's file is broken; prod-berlin-001 is fine
  const other = 'environments/production/devices/prod-gen-00004.yaml';
  files.set(other, `${files.get(other)!}storage:\n  retention_days: -3\n`);
  const options = { environments: ['production'], devices: ['prod-berlin-001'] };

  it("without the scope, the other device's broken file is reported; with it, not", () => {
    const whole = validateOpened(openRepository(files), options);
    expect(whole.diagnostics.some((d) => d.file === other && d.severity === 'error')).toBe(true);
    const scoped = validateOpened(openRepository(files), { ...options, onlyNamedDevices: true });
    expect(scoped.valid).toBe(true);
    expect(scoped.diagnostics.some((d) => d.file === other)).toBe(false);
    // what concerns the device and the rest of the repository is the same either way
    expect(scoped.targets.map((t) => t.diagnostics)).toEqual(whole.targets.map((t) => t.diagnostics));
    expect(scoped.diagnostics).toEqual(whole.diagnostics.filter((d) => d.file !== other));
  });

  it("the device's own broken file is reported with the scope", () => {
    const own = 'environments/production/devices/prod-berlin-001.yaml';
    const mine = new Map(files);
    mine.set(own, `${files.get(own)!}storage:\n  retention_days: -3\n`);
    const scoped = validateOpened(openRepository(mine), { ...options, onlyNamedDevices: true });
    expect(scoped.valid).toBe(false);
    expect(scoped.diagnostics.some((d) => d.file === own && d.severity === 'error')).toBe(true);
  });
});
