// gitops explain beyond the tour in render-explain.test.ts: usage errors, unknown paths, what the schema says
// of a value (enum, bounds, default, environment variable, tunable range), unset values, JSON, an invalid head.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitops } from '../helpers/cli.js';
import { examplePosition } from '../helpers/lines.js';
import { exampleCopy, PROJECT, readText, writeText } from '../helpers/project.js';

const explain = (...args: string[]) => gitops(['explain', ...args], { cwd: PROJECT });

describe('gitops explain: usage', () => {
  it('--help prints the usage and exits 0', () => {
    const r = explain('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('gitops explain PATH --env E');
  });

  it('no PATH, two PATHs, a path that is not dotted, a format it does not know: exit 2 with the usage', () => {
    for (const args of [[], ['frame_capture.fps', 'motion.enabled'], ['frame_capture..fps']]) {
      const r = explain(...args, '--env', 'development');
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
    }
    expect(explain('--env', 'development').stderr).toContain('explain takes exactly one PATH');
    expect(explain('frame_capture..fps', '--env', 'development').stderr).toContain(
      '"frame_capture..fps" is not a configuration path',
    );
    const format = explain('frame_capture.fps', '--env', 'development', '--format', 'xml');
    expect(format.status).toBe(2);
    expect(format.stderr).toContain('--format must be one of text, json, yaml, not "xml"');
  });

  it('an unknown section gets the nearest one and the list of sections; a path below a leaf gets neither', () => {
    const section = explain('frame_captur', '--env', 'development');
    expect(section.status).toBe(1);
    expect(section.stderr).toContain('Did you mean "frame_capture"?');
    expect(section.stderr).toContain('keys here: version, frame_capture, motion');
    const key = explain('frame_capture.fsp', '--env', 'development');
    expect(key.stderr).toContain('Did you mean "frame_capture.fps"?');
    const leaf = explain('frame_capture.fps.x', '--env', 'development');
    expect(leaf.status).toBe(1);
    expect(leaf.stderr).toContain('frame_capture.fps.x is not a configuration path');
    expect(leaf.stderr).toContain('see schemas/ for the configuration paths');
  });
});

describe('gitops explain: what the schema says', () => {
  it('an enum lists its values and its default', () => {
    const r = explain('frame_capture.pixel_format', '--env', 'development', '--device', 'dev-bench-01');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('frame_capture.pixel_format = "MJPG"    [development/dev-bench-01]');
    expect(r.stdout).toContain('type enum, one of MJPG, YUYV, H264');
    expect(r.stdout).toContain('default "MJPG"');
  });

  it('inclusive and exclusive bounds, the environment variable the policy allows, the tunable range', () => {
    const sensitivity = explain('motion.sensitivity', '--env', 'development');
    expect(sensitivity.stdout).toContain('type number, >= 0, <= 1, default 0.6');
    expect(sensitivity.stdout).toContain(
      'environment variable: DOORBELL_MOTION_SENSITIVITY (allowed by the development policy)',
    );
    expect(sensitivity.stdout).toContain(
      'tunable at runtime within 0.2..0.9 step 0.05; applies hot, the governor may only lower it; ' +
        'owners experiment, tuner, governor, operator; leases 900 s by default, at most 86400 s; at most 6 changes an hour',
    );
    // production narrows the frame rate in its overrides
    const fps = explain('frame_capture.fps', '--env', 'production', '--device', 'prod-berlin-001');
    expect(fps.stdout).toContain(
      'tunable at runtime within 5..20 step 1; applies by restart of its component, the governor may only lower it; ' +
        'owners governor, operator; leases 900 s by default, at most 86400 s; at most 12 changes an hour; ' +
        'narrowed by environments/production/overrides.yaml',
    );
    expect(explain('frame_capture.width', '--env', 'production').stdout).not.toContain('tunable at runtime');
    const size = explain('storage.max_size_gb', '--env', 'production', '--device', 'prod-berlin-001');
    expect(size.stdout).toContain('type number, > 0, <= 16384, default 16');
    const overridden = examplePosition(
      'environments/production/overrides.yaml',
      'max_size_gb: 24',
      'max_size_gb: '.length,
    );
    expect(size.stdout).toContain(
      `set by  environments/production/overrides.yaml:${overridden.line}:${overridden.column} (environment)  = 24`,
    );
  });

  it('a value no layer sets says so, also inside a map entry that does not exist', () => {
    const url = explain('frame_capture.url', '--env', 'development');
    expect(url.status).toBe(0);
    expect(url.stdout).toContain('frame_capture.url = (not set)    [development]');
    expect(url.stdout).toContain('not set by any layer');
    const entry = explain('detectors.nosuch.runtime', '--env', 'production');
    expect(entry.stdout).toContain('detectors.nosuch.runtime = (not set)');
    expect(entry.stdout).toContain('one of cpu, cuda, coral, hailo, openvino');
  });

  it('--format json gives the facts and the chain of origins', () => {
    const r = explain('frame_capture.fps', '--env', 'development', '--format', 'json');
    expect(r.status).toBe(0);
    const facts = JSON.parse(r.stdout) as Record<string, unknown>;
    const fps = examplePosition('config/frame_capture.yaml', '  fps: 15', '  fps: '.length);
    expect(facts).toMatchObject({
      path: 'frame_capture.fps',
      environment: 'development',
      device: null,
      value: 15,
      type: 'number',
      default: 15,
      minimum: 0,
      maximum: 120,
      enum: null,
      env: 'DOORBELL_CAMERA_FPS',
      secret: false,
      tunable: { minimum: 1, maximum: 30 },
      origins: [
        { layer: 'base', file: 'config/frame_capture.yaml', ...fps, value: 15 },
        { layer: 'default', file: 'schemas/frame_capture.schema.json', value: 15 },
      ],
    });
  });

  it('explains a value of an invalid head too, and exits 1 with the diagnostics', () => {
    const dir = exampleCopy();
    const file = join(dir, 'config/frame_capture.yaml');
    writeText(file, readText(file).replace('  fps: 15', '  fps: 500'));
    const r = gitops(['explain', 'frame_capture.fps', '--env', 'development', '--root', dir]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('frame_capture.fps = 500    [development]');
    expect(r.stdout + r.stderr).toContain('schema-range');
  });
});
