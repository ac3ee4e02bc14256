// The CI checks of tuning files (checkTuning): the example repository's file passes; a space
// path that is not tunable, one the tuner may not set, a value out of bounds or off the grid
// (after a device's narrowing), a field an experiment sets, an unknown model and gp-ei over three
// knobs are each refused with their code, located in the file.

import { describe, expect, it } from 'vitest';
import { openRepository } from '../../agent/core/repo/repository.js';
import { deviceTunings } from '../../agent/core/tuning/device.js';
import {
  checkTuning,
  governorRulesOf,
  parseTuningFile,
  resolveSpace,
  tuningValidator,
} from '../../agent/core/tuning/spec.js';
import { targetTunables } from '../../agent/core/tunables/narrowing.js';
import { readFileSync } from 'node:fs';
import { readWorkingTree } from '../../agent/io/repo-files.js';

const root = new URL('../..', import.meta.url).pathname;
const FILE = 'tuning/person-detector.yaml';
// readWorkingTree reads tuning/ once the repository layout names it (REPO_ROOTS)
const example = readWorkingTree(root).set(FILE, readFileSync(root + FILE, 'utf8'));

function withTuning(text: string, extra: Record<string, string> = {}) {
  const files = new Map([...example].filter(([f]) => !f.startsWith('tuning/')));
  files.set('tuning/probe.yaml', text);
  for (const [f, t] of Object.entries(extra)) files.set(f, t);
  return openRepository(files);
}

const base = (space: string, method = '{ type: thompson }', more = ''): string =>
  [
    'description: probe',
    'owner: test',
    'hardware_models: [edge-p4-c920]',
    'space:',
    space,
    'objective: { metric: detector.cpu_ratio, direction: minimize }',
    'trial: { duration_seconds: 60 }',
    'budget: { max_trials: 10 }',
    `method: ${method}`,
    more,
  ].join('\n');

const codes = (repo: ReturnType<typeof withTuning>, opts = {}) =>
  checkTuning(repo, opts).filter((d) => d.severity === 'error');

describe('checkTuning', () => {
  it('accepts the example repository and its tuning file', () => {
    const repo = openRepository(example);
    expect(repo.schemaDiagnostics).toEqual([]);
    expect(checkTuning(repo).filter((d) => d.severity === 'error')).toEqual([]);
    const parsed = parseTuningFile(FILE, example.get(FILE)!, tuningValidator(repo));
    const table = targetTunables(repo, { environment: 'development', device: 'dev-bench-01' })!;
    const { space, problems } = resolveSpace(parsed.tuning!, (p) => table.at(p));
    expect(problems).toEqual([]);
    expect(space!.dims.map((d) => d.values)).toEqual([
      [256, 288, 300, 320, 416, 512],
      [1, 2, 3, 4],
    ]);
  });

  it("holds back values the governor's ladder would give back where it runs (staging), and warns once for them", () => {
    const repo = openRepository(example);
    const parsed = parseTuningFile(FILE, example.get(FILE)!, tuningValidator(repo)).tuning!;
    const target = { environment: 'staging', device: 'stg-office-01' };
    const table = targetTunables(repo, target)!;
    const resolved = resolveSpace(parsed, (p) => table.at(p), governorRulesOf(repo, target));
    expect(resolved.problems).toEqual([]);
    // the ladder's every_other_frame sets 2: a signed 3 or 4 would make it give frames back
    expect(resolved.heldBack).toEqual([
      { path: 'detectors.person.frame_interval', values: [3, 4], step: 'every_other_frame', limit: 2 },
    ]);
    expect(resolved.space!.dims.map((d) => d.values)).toEqual([
      [256, 288, 300, 320, 416, 512],
      [1, 2],
    ]);
    // the device resolves the same space; in development (governor off) nothing is held back
    expect(deviceTunings(repo, 'staging', 'stg-office-01')[0]!.space).toEqual(resolved.space);
    expect(deviceTunings(repo, 'development', 'dev-bench-01')[0]!.space.dims[1]!.values).toEqual([1, 2, 3, 4]);
    const warnings = checkTuning(repo).filter((d) => d.code === 'tuning-governor-held-back');
    expect(warnings).toEqual([
      expect.objectContaining({ severity: 'warning', file: FILE, environment: 'staging', device: 'stg-office-01' }),
    ]);
    // a space where every value is past the step has nothing left: refused
    const past = withTuning(
      base('  detectors.person.frame_interval: { values: [3, 4] }', undefined, 'environments: [staging]').replace(
        '[edge-p4-c920]',
        '[rpi4-camv2]',
      ),
    );
    expect(codes(past).map((d) => [d.code, d.environment])).toEqual([['tuning-space-empty', 'staging']]);
  });

  it('refuses what the schema refuses, located', () => {
    const d = codes(withTuning(base('  motion.sensitivity: { values: [0.5] }', '{ type: annealing }')));
    expect(d[0]).toMatchObject({ file: 'tuning/probe.yaml', line: expect.any(Number) });
  });

  it.each([
    ['storage.retention_days: { values: [7] }', 'tuning-owner-not-allowed'],
    ['frame_capture.width: { values: [640] }', 'tuning-not-tunable'],
    ['motion.sensitivity: { values: [0.95] }', 'tuning-out-of-bounds'],
    ['motion.sensitivity: { values: [0.52] }', 'tuning-off-grid'],
  ])('refuses %s with %s', (space, code) => {
    const d = codes(withTuning(base(`  ${space}`)));
    expect(d.map((x) => x.code)).toContain(code);
    expect(d.find((x) => x.code === code)).toMatchObject({ file: 'tuning/probe.yaml', path: space.split(':')[0] });
  });

  it('checks values against each device narrowing, not only the schema: production keeps the detector to operator and governor', () => {
    const text = example.get(FILE)!.replace('environments: [development, staging]', 'environments: [production]');
    const d = codes(withTuning(text));
    expect(d.length).toBeGreaterThan(0);
    expect(d.every((x) => x.code === 'tuning-owner-not-allowed' && x.environment === 'production')).toBe(true);
    expect(new Set(d.map((x) => x.path))).toEqual(
      new Set(['detectors.person.input_size', 'detectors.person.frame_interval']),
    );
  });

  it('refuses a field an experiment sets in an environment the run targets', () => {
    const repo = withTuning(base('  motion.sensitivity: { values: [0.5, 0.6] }'));
    const experimentPaths = [
      { path: 'motion.sensitivity', experiment: 'motion-sensitivity', environments: ['production'] },
    ];
    expect(codes(repo, { experimentPaths }).map((x) => x.code)).toEqual(['tuning-experiment-owned']);
    const elsewhere = [{ path: 'motion.sensitivity', experiment: 'x', environments: ['nowhere'] }];
    expect(codes(repo, { experimentPaths: elsewhere })).toEqual([]);
  });

  it('refuses an unknown hardware model, gp-ei over three knobs or a non-numeric knob, and a candidate outside the space', () => {
    const three = [
      '  motion.sensitivity: { grid: true }',
      '  frame_capture.fps: { values: [5, 10] }',
      '  face_recognition.enabled: { grid: true }',
    ];
    expect(codes(withTuning(base(three.join('\n'), '{ type: gp-ei }'))).map((x) => x.code)).toEqual(
      expect.arrayContaining(['tuning-method-space']),
    );
    const model = withTuning(base('  motion.sensitivity: { grid: true }').replace('[edge-p4-c920]', '[edge-p4-c902]'));
    expect(codes(model)[0]).toMatchObject({ code: 'tuning-unknown-model', suggestion: 'edge-p4-c920' });
    const sh = base(
      '  motion.sensitivity: { values: [0.5, 0.6] }',
      '{ type: successive-halving, candidates: [{ motion.sensitivity: 0.5 }, { motion.sensitivity: 0.7 }] }',
    );
    expect(codes(withTuning(sh)).map((x) => x.code)).toEqual(['tuning-candidate-outside-space']);
  });
});
