import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { gitops } from '../helpers/cli.js';
import { PROJECT } from '../helpers/project.js';
import { examplePosition } from '../helpers/lines.js';

const OVERRIDES = 'environments/production/overrides.yaml';
/** file:line:column of a value in the example repository, as the origin of a rendered value names it. */
const origin = (file: string, text: string, skip: number): string => {
  const { line, column } = examplePosition(file, text, skip);
  return `${file}:${line}:${column}`;
};
const DEVICE_FPS = origin('environments/production/devices/prod-berlin-001.yaml', '  fps: 20', '  fps: '.length);
const escaped = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const BASE_FPS = origin('config/frame_capture.yaml', '  fps: 15', '  fps: '.length);

describe('gitops render', () => {
  it('prints the rendered configuration of a device as YAML', () => {
    const r = gitops(['render', '--env', 'production', '--device', 'prod-berlin-001'], { cwd: PROJECT });
    expect(r.status).toBe(0);
    const config = parse(r.stdout) as {
      frame_capture: { fps: number; width: number };
      notifications: { push: { topic: string } };
    };
    expect(config.frame_capture).toMatchObject({ fps: 20, width: 1920 });
    expect(config.notifications.push.topic).toBe('doorbell-production-prod-berlin-001');
  });

  it('--show-origin puts the origin of every value beside it', () => {
    const r = gitops(['render', '--env', 'production', '--device', 'prod-berlin-001', '--show-origin'], {
      cwd: PROJECT,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`fps: 20 # ${DEVICE_FPS} (device)`);
    expect(r.stdout).toContain('rotation: 0 # schemas/frame_capture.schema.json (schema default)');
    const faces = examplePosition(
      OVERRIDES,
      'face_recognition:\n  enabled: true',
      'face_recognition:\n  enabled: '.length,
    );
    expect(r.stdout).toContain(`enabled: true # ${OVERRIDES}:${faces.line}:${faces.column} (environment)`);
  });

  it('--format json --show-origin gives the chain per path', () => {
    const r = gitops(
      ['render', '--env', 'production', '--device', 'prod-berlin-001', '--format', 'json', '--show-origin'],
      { cwd: PROJECT },
    );
    const parsed = JSON.parse(r.stdout) as {
      config: unknown;
      origins: Record<string, Array<{ file: string; layer: string }>>;
    };
    expect(parsed.origins['frame_capture.fps']!.map((o) => o.layer)).toEqual(['device', 'base', 'default']);
  });

  it('an unknown environment suggests the right one and exits 1', () => {
    const r = gitops(['render', '--env', 'prod'], { cwd: PROJECT });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('there is no environment "prod". Did you mean "production"?');
  });
});

describe('gitops explain', () => {
  it('shows the value, the schema and the chain of files', () => {
    const r = gitops(['explain', 'frame_capture.fps', '--env', 'production', '--device', 'prod-berlin-001'], {
      cwd: PROJECT,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('frame_capture.fps = 20    [production/prod-berlin-001]');
    expect(r.stdout).toContain('Frames per second asked of the camera.');
    expect(r.stdout).toContain('environment variable: DOORBELL_CAMERA_FPS (not allowed by the production policy)');
    expect(r.stdout).toMatch(new RegExp(`set by\\s+${escaped(DEVICE_FPS)} \\(device\\)\\s+= 20`));
    expect(r.stdout).toMatch(new RegExp(`overrode ${escaped(BASE_FPS)} \\(base\\)\\s+= 15`));
    expect(r.stdout).toMatch(/overrode schemas\/frame_capture\.schema\.json \(schema default\)\s+= 15/);
  });

  it('--format json', () => {
    const r = gitops(
      [
        'explain',
        'detectors.person.runtime',
        '--env',
        'production',
        '--device',
        'prod-hamburg-002',
        '--format',
        'json',
      ],
      { cwd: PROJECT },
    );
    const facts = JSON.parse(r.stdout) as { value: string; enum: string[]; origins: Array<{ file: string }> };
    expect(facts.value).toBe('cpu');
    expect(facts.enum).toContain('cuda');
    expect(facts.origins[0]!.file).toBe('config/detectors.yaml');
  });

  it('a misspelled path gets "Did you mean"', () => {
    const r = gitops(['explain', 'frame_capture.fsp', '--env', 'production'], { cwd: PROJECT });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Did you mean "frame_capture.fps"?');
  });

  it('never shows a secret value', () => {
    const r = gitops(['explain', 'notifications.telegram.bot_token', '--env', 'development'], { cwd: PROJECT });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('secret: only from environments/development/secrets.sops.yaml');
  });
});
