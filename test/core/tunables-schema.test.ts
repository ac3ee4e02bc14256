// Tunables in the schema and in the signed configuration: x-tunable is checked as the schemas load (a
// wrong annotation refuses the schemas, located at its key), the example's annotations read as specs,
// and `tunables:` in overrides and device files narrows them for an environment or a device, never
// widens them, and never reaches the rendered configuration.

import { describe, expect, it } from 'vitest';
import { loadSchemas } from '../../agent/core/schema/schema-set.js';
import { checkAnnotation } from '../../agent/core/tunables/annotation.js';
import { describeSpec, schemaSpecs, tunableTable } from '../../agent/core/tunables/spec.js';
import { targetTunables } from '../../agent/core/tunables/narrowing.js';
import { openRepository } from '../../agent/core/repo/repository.js';
import { render } from '../../agent/core/config/render.js';
import { validateRepository } from '../../agent/core/validate/validate.js';
import type { Diagnostic } from '../../agent/core/validate/diagnostics.js';
import { edit, exampleFiles } from '../helpers/project.js';

const files = exampleFiles();
const FPS_SCHEMA = 'schemas/frame_capture.schema.json';
const fpsTunable = /"x-tunable": (\{[^\n]*\})\n/.exec(files.get(FPS_SCHEMA)!)![1]!;

/** The frame_capture schema with the fps annotation's text replaced. */
const withFpsTunable = (mutate: (a: Record<string, unknown>) => void): Map<string, string> => {
  const a = JSON.parse(fpsTunable) as Record<string, unknown>;
  mutate(a);
  return edit(files, FPS_SCHEMA, fpsTunable, JSON.stringify(a));
};

/** Where `needle` starts on the line of the changed annotation (written compactly, unlike the others). */
const onAnnotationLine = (text: string, needle: string): { line: number; column: number } => {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.includes('"x-tunable": {"'));
  return { line: i + 1, column: lines[i]!.indexOf(needle) + 1 };
};

describe('x-tunable in the schemas', () => {
  it('every annotation of the example reads as a spec', () => {
    const { set } = loadSchemas(files);
    const specs = schemaSpecs(set!);
    expect(specs.map((s) => s.path).sort()).toEqual([
      'detectors.*.confidence_threshold',
      'detectors.*.frame_interval',
      'detectors.*.input_size',
      'face_recognition.enabled',
      'face_recognition.match_threshold',
      'frame_capture.fps',
      'logging.level',
      'motion.sensitivity',
      'storage.retention_days',
    ]);
    expect(specs.find((s) => s.path === 'frame_capture.fps')).toEqual({
      kind: 'range',
      path: 'frame_capture.fps',
      minimum: 1,
      maximum: 30,
      step: 1,
      origin: 1,
      applies: 'restart',
      safe_direction: 'down',
      owners: ['experiment', 'tuner', 'governor', 'operator'],
      default_ttl_seconds: 900,
      max_ttl_seconds: 86400,
      max_changes_per_hour: 12,
      narrowed_by: [],
    });
    expect(specs.find((s) => s.path === 'logging.level')).toMatchObject({
      kind: 'enum',
      enum: ['debug', 'info', 'warn'],
      owners: ['operator'],
    });
  });

  it.each([
    ['minimum above maximum', (a: Record<string, unknown>) => (a.minimum = 40), '"minimum"', /minimum 40 is above/],
    ['a step of 0', (a: Record<string, unknown>) => (a.step = 0), '"step"', /step must be a number above 0/],
    ['a negative step', (a: Record<string, unknown>) => (a.step = -1), '"step"', /step must be a number above 0/],
    [
      'an unknown owner',
      (a: Record<string, unknown>) => (a.owners = ['operator', 'root']),
      '"root"',
      /unknown owner "root"/,
    ],
    ['an unknown key', (a: Record<string, unknown>) => (a.ttl = 5), '"ttl"', /unknown key "ttl"/],
    [
      'the default outside the bounds',
      (a: Record<string, unknown>) => Object.assign(a, { minimum: 20 }),
      '"x-tunable"',
      /default 15 is outside x-tunable's bounds 20..30/,
    ],
    [
      'a maximum off the grid',
      (a: Record<string, unknown>) => (a.step = 4),
      '"maximum"',
      /maximum 30 is not on the grid 1 \+ k \* 4/,
    ],
    [
      'bounds beyond the field',
      (a: Record<string, unknown>) => (a.maximum = 121),
      '"maximum"',
      /maximum 121 is above what the field allows/,
    ],
    ['no applies', (a: Record<string, unknown>) => delete a.applies, '"x-tunable"', /applies must be hot or restart/],
    [
      'a wrong safe direction',
      (a: Record<string, unknown>) => (a.safe_direction = 'sideways'),
      '"safe_direction"',
      /safe_direction must be down or up/,
    ],
    [
      'a default TTL above the maximum',
      (a: Record<string, unknown>) => (a.max_ttl_seconds = 60),
      '"default_ttl_seconds"',
      /default_ttl_seconds 900 is longer than max_ttl_seconds 60/,
    ],
  ])('refuses %s, at the key in the schema file', (_what, mutate, at, message) => {
    const changed = withFpsTunable(mutate);
    const { set, diagnostics } = loadSchemas(changed);
    expect(set).toBeUndefined();
    const d = diagnostics.find((x) => x.code === 'tunable-invalid' && message.test(x.message));
    expect(d, JSON.stringify(diagnostics)).toBeDefined();
    expect(d).toMatchObject({ severity: 'error', file: FPS_SCHEMA, ...onAnnotationLine(changed.get(FPS_SCHEMA)!, at) });
    expect(d!.hint).toBeTruthy();
  });

  it('and validation reports the refusal', () => {
    const report = validateRepository(withFpsTunable((a) => (a.minimum = 40)));
    expect(report.valid).toBe(false);
    expect(report.diagnostics.map((d) => d.code)).toContain('tunable-invalid');
  });

  it('checks an enum against the field and a range against its type', () => {
    const level = { enum: ['info', 'warn'] };
    const common = { applies: 'hot', owners: ['operator'], default_ttl_seconds: 60, max_changes_per_hour: 1 };
    expect(checkAnnotation({ ...level, ...common }, { enum: ['info', 'warn', 'error'], default: 'info' })).toEqual([]);
    expect(
      checkAnnotation({ enum: ['info', 'loud'], ...common }, { enum: ['info', 'warn'], default: 'warn' }).map((p) => [
        p.pointer,
        p.message,
      ]),
    ).toEqual([
      ['/enum/1', 'x-tunable enum value "loud" is not one of the field\'s values'],
      ['/enum', 'the field\'s default "warn" is not in x-tunable enum'],
    ]);
    expect(
      checkAnnotation({ minimum: 1, maximum: 3, step: 0.5, ...common }, { type: 'integer' }).map((p) => p.pointer),
    ).toEqual(['/step']);
    expect(checkAnnotation({ enum: ['a'], minimum: 1, ...common }, {}).map((p) => p.message)).toEqual([
      'x-tunable has both enum and minimum/maximum/step',
    ]);
    expect(checkAnnotation({ ...common }, {}).map((p) => p.message)).toEqual(['x-tunable gives no bounds']);
    expect(checkAnnotation('yes', {}).map((p) => p.message)).toEqual(['x-tunable must be an object']);
  });
});

const PROD = 'environments/production/overrides.yaml';
const BERLIN = 'environments/production/devices/prod-berlin-001.yaml';
const narrowing = /^tunables:\n(?: {2}.*\n|\n)*/m.exec(files.get(PROD)!)![0];

/** Production's overrides with its tunables: block replaced. */
const prodTunables = (block: string, base = files): Map<string, string> => edit(base, PROD, narrowing, block);

const errors = (changed: Map<string, string>): Diagnostic[] =>
  validateRepository(changed, { environments: ['production'] }).diagnostics.filter((d) => d.severity === 'error');

const lineOf = (text: string, needle: string): number => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

describe('tunables: in the signed configuration', () => {
  it('production narrows the frame rate, and the example is valid', () => {
    const repo = openRepository(files);
    const spec = targetTunables(repo, { environment: 'production', device: 'prod-berlin-001' })!.at(
      'frame_capture.fps',
    );
    expect(spec).toMatchObject({
      minimum: 5,
      maximum: 20,
      step: 1,
      owners: ['governor', 'operator'],
      narrowed_by: [PROD],
    });
    expect(describeSpec(spec!)).toBe(
      '5..20 step 1; applies by restart of its component, the governor may only lower it; owners governor, operator; ' +
        'leases 900 s by default, at most 86400 s; at most 12 changes an hour; narrowed by environments/production/overrides.yaml',
    );
    // development does not narrow it
    expect(targetTunables(repo, { environment: 'development' })!.at('frame_capture.fps')).toMatchObject({
      minimum: 1,
      maximum: 30,
      narrowed_by: [],
    });
    expect(validateRepository(files).valid).toBe(true);
  });

  it('never reaches the rendered configuration', () => {
    const repo = openRepository(
      edit(files, BERLIN, 'frame_capture:\n', 'tunables:\n  frame_capture.fps: { maximum: 20 }\nframe_capture:\n'),
    );
    const result = render(repo, { environment: 'production', device: 'prod-berlin-001' });
    expect(Object.keys(result.config)).not.toContain('tunables');
    expect([...result.provenance.keys()].filter((p) => p.startsWith('/tunables'))).toEqual([]);
    expect(repo.schemas!.sections()).not.toContain('tunables');
  });

  it('a widening of bounds, TTL or budget is refused, each at its key', () => {
    const block = [
      'tunables:',
      '  frame_capture.fps:',
      '    minimum: 0',
      '    maximum: 20',
      '  motion.sensitivity:',
      '    max_ttl_seconds: 172800',
      '    max_changes_per_hour: 60',
      '',
    ].join('\n');
    const changed = prodTunables(block);
    const text = changed.get(PROD)!;
    expect(errors(changed).map((d) => [d.code, d.line, d.path])).toEqual([
      ['tunable-widened', lineOf(text, 'minimum: 0'), 'frame_capture.fps'],
      ['tunable-widened', lineOf(text, 'max_ttl_seconds'), 'motion.sensitivity'],
      ['tunable-widened', lineOf(text, 'max_changes_per_hour'), 'motion.sensitivity'],
    ]);
    const widened = errors(changed)[0]!;
    expect(widened).toMatchObject({
      file: PROD,
      column: '    minimum'.indexOf('minimum') + 1, // at the key
      message: 'minimum 0 for frame_capture.fps is outside 1..30, what the schema allows',
      hint: 'narrow within 1..30; only a schema change may widen it',
    });
  });

  it('an entry the schema refuses is reported by the schema alone', () => {
    const changed = prodTunables('tunables:\n  frame_capture.fps:\n    minimum: 0\n    owners: [root]\n');
    expect(errors(changed).map((d) => [d.code, d.path])).toEqual([
      ['schema-enum', 'tunables.frame_capture.fps.owners[0]'],
    ]);
  });

  it('owners beyond the schema are refused as a widening', () => {
    const changed = prodTunables('tunables:\n  storage.retention_days:\n    owners: [operator, governor]\n');
    const d = errors(changed);
    expect(d.map((x) => [x.code, x.line])).toEqual([['tunable-widened', lineOf(changed.get(PROD)!, 'owners')]]);
    expect(d[0]!.message).toBe('owner "governor" may not set storage.retention_days: the schema allows operator');
  });

  it('a path that is not tunable, or not a path at all, is refused with the tunable paths as hint', () => {
    const changed = prodTunables(
      'tunables:\n  frame_capture.width:\n    minimum: 640\n  frame_capture.fsp:\n    maximum: 10\n',
    );
    const text = changed.get(PROD)!;
    const d = errors(changed);
    expect(d.map((x) => [x.code, x.line, x.path])).toEqual([
      ['not-tunable', lineOf(text, 'frame_capture.width'), 'frame_capture.width'],
      ['unknown-path', lineOf(text, 'frame_capture.fsp'), 'frame_capture.fsp'],
    ]);
    expect(d[1]).toMatchObject({ suggestion: 'frame_capture.fps' });
    expect(d[0]!.hint).toContain('frame_capture.fps, ');
  });

  it('bounds off the grid, empty bounds and an enum for a range are refused', () => {
    const changed = prodTunables(
      [
        'tunables:',
        '  motion.sensitivity:',
        '    minimum: 0.33',
        '  storage.retention_days:',
        '    minimum: 20',
        '    maximum: 10',
        '  frame_capture.fps:',
        '    enum: [5, 10]',
        '  logging.level:',
        '    enum: [info, trace]',
        '',
      ].join('\n'),
    );
    const codes = errors(changed).map((d) => [d.code, d.path]);
    expect(codes).toEqual(
      expect.arrayContaining([
        ['tunable-off-grid', 'motion.sensitivity'],
        ['tunable-empty', 'storage.retention_days'],
        ['tunable-mismatch', 'frame_capture.fps'],
        ['tunable-widened', 'logging.level'],
      ]),
    );
    expect(errors(changed).find((d) => d.code === 'tunable-off-grid')!.hint).toBe(
      'use a value 0.2 + k * 0.05, e.g. 0.35',
    );
  });

  it('a device may narrow what its environment allows, but not widen it', () => {
    const narrower = edit(
      files,
      BERLIN,
      'frame_capture:\n',
      // (the load governor's ladder goes down to 5 fps, so the minimum stays: config/load_governor.yaml)
      'tunables:\n  frame_capture.fps: { maximum: 20, default_ttl_seconds: 600 }\nframe_capture:\n',
    );
    expect(errors(narrower)).toEqual([]);
    const spec = targetTunables(openRepository(narrower), { environment: 'production', device: 'prod-berlin-001' })!.at(
      'frame_capture.fps',
    );
    expect(spec).toMatchObject({ minimum: 5, maximum: 20, default_ttl_seconds: 600, narrowed_by: [PROD, BERLIN] });
    // within the schema, but wider than production allows
    const wider = edit(
      files,
      BERLIN,
      'frame_capture:\n',
      'tunables:\n  frame_capture.fps: { maximum: 25 }\nframe_capture:\n',
    );
    expect(errors(wider).map((d) => [d.code, d.file, d.line, d.message])).toEqual([
      [
        'tunable-widened',
        BERLIN,
        lineOf(wider.get(BERLIN)!, 'maximum: 25'),
        `maximum 25 for frame_capture.fps is outside 5..20, what ${PROD} allows`,
      ],
    ]);
  });

  it('bounds that exclude the value the same configuration gives are refused where the value is set', () => {
    const changed = prodTunables('tunables:\n  frame_capture.fps:\n    maximum: 15\n');
    const d = errors(changed);
    expect(d.map((x) => [x.code, x.file, x.line, x.device])).toEqual([
      ['tunable-value-out-of-bounds', BERLIN, lineOf(files.get(BERLIN)!, 'fps: 20'), 'prod-berlin-001'],
    ]);
    expect(d[0]!.message).toBe(
      `frame_capture.fps is 20, outside its tunable bounds 1..15 step 1 (narrowed by ${PROD})`,
    );
  });

  it('a map entry may be narrowed one by one or all at once with *', () => {
    const changed = prodTunables(
      'tunables:\n  detectors.*.confidence_threshold:\n    maximum: 0.8\n  detectors.person.confidence_threshold:\n    minimum: 0.5\n',
    );
    expect(errors(changed)).toEqual([]);
    const table = targetTunables(openRepository(changed), { environment: 'production' })!;
    expect(table.at('detectors.person.confidence_threshold')).toMatchObject({ minimum: 0.5, maximum: 0.8 });
    expect(table.at('detectors.package.confidence_threshold')).toMatchObject({ minimum: 0.3, maximum: 0.8 });
    expect(table.at('detectors.person.runtime')).toBeUndefined();
    const config = render(openRepository(changed), { environment: 'production' }).config;
    expect(table.concrete(config).map((s) => s.path)).toEqual(
      expect.arrayContaining(['detectors.person.confidence_threshold', 'frame_capture.fps', 'logging.level']),
    );
  });

  it('a table without layers is the schema', () => {
    const { set } = loadSchemas(files);
    expect(tunableTable(set!).patterns()).toEqual(schemaSpecs(set!));
  });
});
