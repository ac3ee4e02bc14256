import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitops } from '../helpers/cli.js';
import { exampleCopy, PROJECT, readText, writeText } from '../helpers/project.js';
import { examplePosition } from '../helpers/lines.js';

describe('gitops validate', () => {
  it('exits 0 on the example repository', () => {
    const r = gitops(['validate'], { cwd: PROJECT });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/valid, \d+ warnings?: 3 environments, 4 devices/);
  });

  it('exits 1 on fps 500 with a file:line:col diagnostic, the range and a hint', () => {
    const dir = exampleCopy();
    const file = join(dir, 'config/frame_capture.yaml');
    writeText(file, readText(file).replace('  fps: 15', '  fps: 500'));
    const r = gitops(['validate', '--root', dir]);
    expect(r.status).toBe(1);
    const { line, column } = examplePosition('config/frame_capture.yaml', '  fps: 15', '  fps: '.length);
    expect(r.stdout).toContain(
      `config/frame_capture.yaml:${line}:${column} error schema-range frame_capture.fps is 500, above the maximum 120`,
    );
    expect(r.stdout).toContain('hint: allowed range: more than 0 and at most 120');
  });

  it('--format json is JSON a program can read', () => {
    const dir = exampleCopy();
    const file = join(dir, 'config/frame_capture.yaml');
    writeText(file, readText(file).replace('  fps: 15', '  fsp: 15'));
    const r = gitops(['validate', '--format', 'json'], { cwd: dir });
    expect(r.status).toBe(1);
    const parsed = JSON.parse(r.stdout) as {
      valid: boolean;
      diagnostics: Array<Record<string, unknown>>;
      targets: unknown[];
    };
    expect(parsed.valid).toBe(false);
    expect(parsed.targets).toHaveLength(4);
    expect(parsed.diagnostics.find((d) => d.code === 'unknown-key')).toMatchObject({
      file: 'config/frame_capture.yaml',
      ...examplePosition('config/frame_capture.yaml', '  fps: 15', 2),
      suggestion: 'fps',
      severity: 'error',
    });
  });

  it('--format github prints workflow annotations', () => {
    const dir = exampleCopy();
    const file = join(dir, 'config/frame_capture.yaml');
    writeText(file, readText(file).replace('  fps: 15', '  fsp: 15'));
    const r = gitops(['validate', '--format', 'github', '--root', dir]);
    expect(r.status).toBe(1);
    const { line, column } = examplePosition('config/frame_capture.yaml', '  fps: 15', 2);
    expect(r.stdout.split('\n')).toContain(
      `::error file=config/frame_capture.yaml,line=${line},col=${column},title=unknown-key::` +
        '"fsp" is not allowed in frame_capture. Did you mean "fps"?%0A' +
        'hint: allowed keys: source, device, url, username, password, pixel_format, width, height, fps, rotation, buffer_frames',
    );
  });

  it('validates one environment and device against a given hardware profile', () => {
    const dir = exampleCopy();
    const profile = join(dir, 'probe.json');
    writeText(
      profile,
      JSON.stringify({
        version: 2,
        model: 'bench',
        memory_mb: 2048,
        gpu: null,
        cameras: [
          { device: '/dev/video0', formats: [{ fourcc: 'MJPG', modes: [{ width: 1280, height: 720, fps: [30] }] }] },
        ],
      }),
    );
    const r = gitops([
      'validate',
      '--env',
      'development',
      '--device',
      'dev-bench-01',
      '--hardware-profile',
      profile,
      '--root',
      dir,
    ]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(
      'detector "person" runs on cuda, but device dev-bench-01 (model edge-p4-c920) has no NVIDIA GPU and no CUDA',
    );
  });

  it('usage errors exit 2 with a hint', () => {
    const r = gitops(['validate', '--format', 'xml'], { cwd: PROJECT });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--format must be one of text, json, yaml, github, not "xml"');
    expect(gitops(['validate', '--bogus'], { cwd: PROJECT }).status).toBe(2);
    expect(gitops(['frobnicate'], { cwd: PROJECT }).status).toBe(2);
  });

  it('a directory that is not a configuration repository is a clear error, no stack trace', () => {
    const r = gitops(['validate', '--root', '/tmp/definitely-not-here-' + process.pid]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /has no config\/, environments\/ or schemas\/ directory\n {2}hint: run the command from the root/,
    );
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it('malformed YAML gets a location and a hint, not a stack trace', () => {
    const dir = exampleCopy();
    writeText(join(dir, 'config/motion.yaml'), 'version: 2\nmotion:\n\tenabled: true\n');
    const r = gitops(['validate', '--root', dir]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/config\/motion\.yaml:3:1 error yaml-syntax/);
    expect(r.stdout).toContain('replace the tab with spaces');
  });
});
