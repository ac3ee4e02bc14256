// What CI asks of the load governor's rules (agent/core/governor/check.ts), through the validation that
// `gitops validate` and the device share: each problem by its code, at the file, line and column of the
// rule that has it, for the targets it concerns. The example itself is valid.

import { describe, expect, it } from 'vitest';
import { checkGovernor, checkLadderSteps, configAtStep, GOVERNOR_CODES } from '../../agent/core/governor/check.js';
import { render } from '../../agent/core/config/render.js';
import { openRepository } from '../../agent/core/repo/repository.js';
import { targetTunables } from '../../agent/core/tunables/narrowing.js';
import type { Diagnostic } from '../../agent/core/validate/diagnostics.js';
import { validateFor, validateRepository } from '../../agent/core/validate/validate.js';
import { edit, exampleFiles } from '../helpers/project.js';
import { positionIn } from '../helpers/lines.js';

const RULES = 'config/load_governor.yaml';
const files = exampleFiles();

const found = (f: Map<string, string>, code: string): Diagnostic[] =>
  validateRepository(f).diagnostics.filter((d) => d.code === code);
/** The one diagnostic with `code`; it must be the only error (or warning) of its kind. */
const one = (f: Map<string, string>, code: string): Diagnostic => {
  const hits = found(f, code);
  expect(
    hits,
    JSON.stringify(
      validateRepository(f).diagnostics.filter((d) => d.severity !== 'info'),
      null,
      1,
    ),
  ).toHaveLength(1);
  return hits[0]!;
};
/** The rules file with `from` replaced by `to`, and where `to` (skip characters in) now sits. */
const change = (from: string, to: string, skip = 0) => {
  const next = edit(files, RULES, from, to);
  return { files: next, at: { file: RULES, ...positionIn(next.get(RULES)!, to, skip) } };
};
const STEP = `    - name: capture_10_fps
      set:
        frame_capture.fps: 10
`;
/** The rules file with one more step after capture_10_fps, and where its value sits. */
const withStep = (name: string, set: string) =>
  change(
    STEP,
    `${STEP}    - name: ${name}\n      set:\n        ${set}\n`,
    STEP.length + `    - name: ${name}\n      set:\n        `.length + set.indexOf(': ') + 2,
  );

describe('the example rules', () => {
  it('are valid for every target, and ship the ladder the issue names', () => {
    const report = validateRepository(files);
    expect(report.diagnostics.filter((d) => d.code.startsWith('governor-'))).toEqual([]);
    expect(report.valid).toBe(true);
    const config = render(openRepository(files), { environment: 'production', device: 'prod-berlin-001' }).config;
    expect(configAtStep(config, 5)).toMatchObject({
      face_recognition: { enabled: false },
      frame_capture: { fps: 5 },
      detectors: { person: { frame_interval: 2, input_size: 256 }, package: { frame_interval: 2, input_size: 256 } },
    });
  });
});

describe('signals', () => {
  it('an exit threshold on the wrong side of the enter threshold (governor-thresholds)', () => {
    const c = change('      exit_below: 70\n', '      exit_below: 80\n', '      exit_below: '.length);
    expect(one(c.files, 'governor-thresholds')).toMatchObject({
      severity: 'error',
      ...c.at,
      path: 'load_governor.signals.soc_temp.exit_below',
      message: 'signal soc_temp leaves below 80 but enters above 78: exit_below must be below enter_above',
      targets: [
        'development/dev-bench-01',
        'production/prod-berlin-001',
        'production/prod-hamburg-002',
        'staging/stg-office-01',
      ],
    });
    const equal = change('      exit_below: 70\n', '      exit_below: 78\n', '      exit_below: '.length);
    expect(one(equal.files, 'governor-thresholds')).toMatchObject(equal.at);
    const low = change('      exit_above: 0.2\n', '      exit_above: 0.05\n', '      exit_above: '.length);
    expect(one(low.files, 'governor-thresholds').message).toBe(
      'signal memory leaves above 0.05 but enters below 0.1: exit_above must be above enter_below',
    );
  });

  it('a signal with both kinds of threshold, or with one half of a pair', () => {
    const both = change(
      '      enter_below: 0.1\n',
      '      enter_below: 0.1\n      enter_above: 0.9\n      exit_below: 0.5\n',
    );
    expect(one(both.files, 'governor-thresholds')).toMatchObject({
      message: 'signal memory gives both enter_above and enter_below',
      path: 'load_governor.signals.memory',
    });
    // the schema pairs them: an enter threshold needs its exit threshold
    const half = change('      exit_below: 70\n', '');
    expect(found(half.files, 'schema')[0]).toMatchObject({
      file: RULES,
      path: 'load_governor.signals.soc_temp',
      message: 'load_governor.signals.soc_temp must have property exit_below when property enter_above is present',
    });
  });

  it('a source the agent does not sample, or a component that does not exist (governor-unknown-source)', () => {
    const machine = change('source: soc_temp_c', 'source: soc_tmp_c', 'source: '.length);
    expect(one(machine.files, 'governor-unknown-source')).toMatchObject({
      ...machine.at,
      message: 'signal soc_temp reads soc_tmp_c, which the agent does not sample. Did you mean "soc_temp_c"?',
      suggestion: 'soc_temp_c',
    });
    const component = change(
      'source: detector.inference_latency_ms',
      'source: detectr.inference_latency_ms',
      'source: '.length,
    );
    expect(one(component.files, 'governor-unknown-source')).toMatchObject({
      ...component.at,
      message:
        'signal inference_latency reads detectr.inference_latency_ms, but there is no component "detectr". Did you mean "detector"?',
      suggestion: 'detector.inference_latency_ms',
    });
  });
});

describe('ladder steps', () => {
  it('a protected field (governor-protected), also when protected lists nothing', () => {
    const c = withStep('no_clips', 'storage.retention_days: 1');
    expect(one(c.files, 'governor-protected')).toMatchObject({
      severity: 'error',
      ...c.at,
      message:
        'step "no_clips" sets storage.retention_days, which is protected: the governor never writes notifications, web_interface, storage',
    });
    const emptied = edit(c.files, RULES, '  protected: [notifications, web_interface, storage]', '  protected: []');
    expect(found(emptied, 'governor-protected')).toHaveLength(1);
    const listed = withStep('no_motion', 'motion.sensitivity: 0.5');
    expect(found(listed.files, 'governor-protected')).toEqual([]);
    const more = edit(
      listed.files,
      RULES,
      '  protected: [notifications, web_interface, storage]',
      '  protected: [motion]',
    );
    expect(one(more, 'governor-protected')).toMatchObject({
      ...listed.at,
      message: expect.stringContaining('motion.sensitivity, which is protected'),
    });
  });

  it('a field that is not tunable, or not a configuration path (governor-not-tunable, governor-unknown-path)', () => {
    const width = withStep('narrow', 'frame_capture.width: 640');
    expect(one(width.files, 'governor-not-tunable')).toMatchObject({
      ...width.at,
      message: 'step "narrow": frame_capture.width is not tunable at runtime',
    });
    const typo = withStep('typo', 'frame_capture.fpz: 8');
    expect(one(typo.files, 'governor-unknown-path')).toMatchObject({
      ...typo.at,
      message:
        'step "typo" sets frame_capture.fpz, which is not in this configuration. Did you mean "frame_capture.fps"?',
      suggestion: 'frame_capture.fps',
    });
    const entry = withStep('entry', 'detectors.persn.frame_interval: 2');
    expect(one(entry.files, 'governor-unknown-path')).toMatchObject({
      ...entry.at,
      suggestion: 'detectors.person.frame_interval',
    });
  });

  it('a field the governor may not set (governor-owner-not-allowed)', () => {
    const c = withStep('strict_faces', 'face_recognition.match_threshold: 0.9');
    expect(one(c.files, 'governor-owner-not-allowed')).toMatchObject({
      ...c.at,
      message: 'step "strict_faces": governor may not set face_recognition.match_threshold',
    });
  });

  it('a value outside the signed, narrowed bounds, off the grid, or of the wrong type', () => {
    // production narrows fps to 5..20; staging and development keep 1..30
    const low = withStep('fps_3', 'frame_capture.fps: 3');
    const out = one(low.files, 'governor-out-of-bounds');
    expect(out).toMatchObject({
      ...low.at,
      message: 'step "fps_3": 3 is outside the bounds of frame_capture.fps: 5..20 step 1',
      targets: ['production/prod-berlin-001', 'production/prod-hamburg-002'],
    });
    // one diagnostic per bounds: 1..30 in development and staging, 5..20 in production
    const grid = withStep('fps_half', 'frame_capture.fps: 7.5');
    expect(found(grid.files, 'governor-off-grid').map((d) => [d.line, d.column, d.message])).toEqual([
      [grid.at.line, grid.at.column, 'step "fps_half": 7.5 is not on the grid of frame_capture.fps: 1..30 step 1'],
      [grid.at.line, grid.at.column, 'step "fps_half": 7.5 is not on the grid of frame_capture.fps: 5..20 step 1'],
    ]);
    // a key with * reports its problem once, not once per detector
    const every = withStep('half_frames', 'detectors.*.frame_interval: 1.5');
    expect(one(every.files, 'governor-off-grid').message).toBe(
      'step "half_frames": 1.5 is not on the grid of detectors.package.frame_interval: 1..4 step 1',
    );
    const text = withStep('fps_text', 'frame_capture.fps: ten');
    expect(one(text.files, 'governor-wrong-type').message).toBe(
      'step "fps_text": frame_capture.fps takes a number, not "ten"',
    );
  });

  it('a value less conservative than the signed one, where the governor runs (governor-less-safe)', () => {
    // staging signs face_recognition off: turning it on is the unsafe way; production signs it on
    const c = withStep('faces_on', 'face_recognition.enabled: true');
    expect(one(c.files, 'governor-less-safe')).toMatchObject({
      ...c.at,
      message:
        'step "faces_on" sets face_recognition.enabled to true, less conservative than the signed false ' +
        `(config/face_recognition.yaml:${positionIn(files.get('config/face_recognition.yaml')!, 'enabled: false').line}): ` +
        'the governor may only lower it',
      targets: ['staging/stg-office-01'],
    });
    // frame_interval: the governor may only raise it; where a device file signs 3, a step to 2 gives back frames
    const device = 'environments/production/devices/prod-berlin-001.yaml';
    const signed = edit(
      files,
      device,
      'detectors:\n  person:\n    runtime: cuda\n',
      'detectors:\n  person:\n    runtime: cuda\n    frame_interval: 3\n',
    );
    const d = one(signed, 'governor-less-safe');
    expect(d).toMatchObject({
      file: RULES,
      message: expect.stringContaining(
        `sets detectors.person.frame_interval to 2, less conservative than the signed 3 ` +
          `(${device}:${positionIn(signed.get(device)!, 'frame_interval').line}): the governor may only raise it`,
      ),
      targets: ['production/prod-berlin-001'],
    });
    // where the governor is off (development), the signed values of the target do not count
    const dev = edit(
      files,
      'environments/development/devices/dev-bench-01.yaml',
      'detectors:\n  person:\n    runtime: cuda\n',
      'detectors:\n  person:\n    runtime: cuda\n    frame_interval: 4\n',
    );
    expect(found(dev, 'governor-less-safe')).toEqual([]);
  });

  it('a step that gives back what a milder one took is a warning (governor-ladder-order)', () => {
    const c = change(
      '        frame_capture.fps: 5\n',
      '        frame_capture.fps: 5\n    - name: back_to_10\n      set:\n        frame_capture.fps: 10\n',
      '        frame_capture.fps: 5\n    - name: back_to_10\n      set:\n        frame_capture.fps: '.length,
    );
    expect(one(c.files, 'governor-ladder-order')).toMatchObject({
      severity: 'warning',
      ...c.at,
      message:
        'step "back_to_10" sets frame_capture.fps to 10, less conservative than 5 of the milder step "capture_5_fps"',
    });
    expect(validateRepository(c.files).valid).toBe(true);
  });

  it('two steps of one name (governor-step-name)', () => {
    const c = withStep('capture_10_fps', 'frame_capture.fps: 10');
    expect(one(c.files, 'governor-step-name')).toMatchObject({
      file: RULES,
      message: 'the ladder names the step "capture_10_fps" twice',
    });
  });

  it('a step whose configuration fails validation (governor-step-invalid)', () => {
    // the schema wants a whole frame_interval: the configuration at that step does not pass it
    const c = withStep('half_frames', 'detectors.*.frame_interval: 1.5');
    const d = found(c.files, 'governor-step-invalid');
    const line = positionIn(c.files.get(RULES)!, '    - name: half_frames').line;
    expect(d.map((x) => [x.file, x.line, x.message])).toEqual(
      ['package', 'person'].map((name) => [
        RULES,
        line,
        `at step 3 ("half_frames") the configuration fails schema-type: detectors.${name}.frame_interval must be integer`,
      ]),
    );
    expect(d[0]!.targets).toEqual([
      'production/prod-berlin-001',
      'production/prod-hamburg-002',
      'staging/stg-office-01',
    ]);
    // a step that breaks a rule of one device only: the first step where it fails, once
    const config = render(openRepository(files), { environment: 'production', device: 'prod-berlin-001' }).config;
    const slow = (c2: typeof config) =>
      (c2.frame_capture as { fps: number }).fps < 6
        ? [
            {
              severity: 'error' as const,
              code: 'too-slow',
              pointer: '/frame_capture/fps',
              message: 'under 6 fps',
              hint: 'faster',
            },
          ]
        : [];
    expect(checkLadderSteps(config, slow)).toEqual([
      {
        severity: 'error',
        code: 'governor-step-invalid',
        pointer: '/load_governor/ladder/4',
        message: 'at step 5 ("capture_5_fps") the configuration fails too-slow: under 6 fps',
        hint: 'faster; or change the step',
      },
    ]);
  });
});

describe('leases and budgets', () => {
  it('leases that lapse between ticks, or outlive what a ladder field allows (governor-lease-ttl)', () => {
    const short = change('  lease_ttl_seconds: 120', '  lease_ttl_seconds: 1', '  lease_ttl_seconds: '.length);
    expect(one(short.files, 'governor-lease-ttl')).toMatchObject({
      ...short.at,
      message: 'governor leases live 1 s, less than two ticks of 1 s: they would lapse between renewals',
    });
    const long = change('  lease_ttl_seconds: 120', '  lease_ttl_seconds: 86400', '  lease_ttl_seconds: '.length);
    const narrowed = edit(
      long.files,
      'environments/production/overrides.yaml',
      '  face_recognition.enabled:\n    owners: [operator, governor]\n',
      '  face_recognition.enabled:\n    owners: [operator, governor]\n    max_ttl_seconds: 3600\n',
    );
    expect(one(narrowed, 'governor-lease-ttl')).toMatchObject({
      ...long.at,
      message: 'governor leases live 86400 s, but a lease on face_recognition.enabled may live at most 3600 s',
      targets: ['production/prod-berlin-001', 'production/prod-hamburg-002'],
    });
  });

  it('more moves an hour than a ladder field allows changes is a warning (governor-field-budget)', () => {
    const c = change(
      '  max_transitions_per_hour: 10',
      '  max_transitions_per_hour: 13',
      '  max_transitions_per_hour: '.length,
    );
    // every ladder field allows 12 changes an hour: each is named
    const hits = found(c.files, 'governor-field-budget');
    expect(hits.every((d) => d.severity === 'warning' && d.line === c.at.line)).toBe(true);
    expect(hits.map((d) => d.message)).toContain(
      'the governor may move 13 times an hour, but frame_capture.fps allows 12 changes an hour: the field would change more often than its budget',
    );
  });
});

describe('the device refuses what CI refuses', () => {
  it('validateFor one device reports the same code', () => {
    const c = withStep('no_clips', 'storage.retention_days: 1');
    const report = validateFor(openRepository(c.files), { environment: 'production', device: 'prod-berlin-001' });
    expect(report.valid).toBe(false);
    expect(report.diagnostics.find((d) => d.code === 'governor-protected')).toMatchObject(c.at);
  });

  it('a step whose * matches nothing, where the governor runs, is a warning (governor-path-unmatched)', () => {
    const repo = openRepository(files);
    const target = { environment: 'staging', device: 'stg-office-01' };
    const config = structuredClone(render(repo, target).config);
    config.detectors = {};
    const findings = checkGovernor(config, { table: targetTunables(repo, target)!, schemas: repo.schemas! });
    expect(findings.map((f) => [f.severity, f.code, f.pointer])).toEqual([
      ['warning', 'governor-path-unmatched', '/load_governor/ladder/2/set/detectors.*.frame_interval'],
      ['warning', 'governor-path-unmatched', '/load_governor/ladder/3/set/detectors.*.input_size'],
    ]);
  });

  it('every code it reports is one of the stable codes', () => {
    expect(new Set(GOVERNOR_CODES).size).toBe(GOVERNOR_CODES.length);
    for (const code of GOVERNOR_CODES) expect(code).toMatch(/^governor-[a-z-]+$/);
  });
});
