// Rendering's layers on the example repository changed in one place each: section files that are no section
// or hold another key, an environment file without tier, environment variables (allowed, forbidden, of the
// wrong type, coerced per type), variables the interpolation does not know, and redaction inside lists.

import { describe, expect, it } from 'vitest';
import { coerce } from '../../agent/core/config/env-overrides.js';
import { REDACTED, redactSecrets, render } from '../../agent/core/config/render.js';
import { openRepository } from '../../agent/core/repo/repository.js';
import { edit, exampleFiles, withFiles } from '../helpers/project.js';

const dev = { environment: 'development', device: 'dev-bench-01' };
const renderOf = (files: Map<string, string>, target: { environment: string; device?: string } = dev, options = {}) =>
  render(openRepository(files), target, options);
const codes = (r: ReturnType<typeof render>) => r.diagnostics.map((d) => [d.code, d.severity]);

describe('section files', () => {
  it('a file named for no section and like none gets no suggestion', () => {
    const r = renderOf(withFiles({ 'config/zzqx.yaml': 'version: 2\nzzqx: {}\n' }));
    const d = r.diagnostics.find((x) => x.code === 'unknown-section-file')!;
    expect(d.suggestion).toBeUndefined();
    expect(d.message).toBe('config/zzqx.yaml is not a configuration section');
  });

  it('a key that is no section, in a section file, is to be removed or moved under the section', () => {
    const r = renderOf(edit(exampleFiles(), 'config/motion.yaml', 'version: 2\n', 'version: 2\nspeed: 3\n'));
    expect(r.diagnostics.find((x) => x.code === 'section-file-mismatch')!.hint).toBe(
      'remove "speed" or move it under motion',
    );
  });
});

describe('the environment file', () => {
  it('without a tier the environment counts as development; without a policy it has an empty one', () => {
    const files = edit(exampleFiles(), 'environments/staging/environment.yaml', 'tier: staging\n', '');
    const policyless = new Map(files);
    const text = policyless.get('environments/staging/environment.yaml')!;
    policyless.set('environments/staging/environment.yaml', text.slice(0, text.indexOf('policy:')));
    const r = renderOf(policyless, { environment: 'staging' });
    expect(r.environment).toEqual({ name: 'staging', tier: 'development', policy: {} });
  });
});

describe('environment variables', () => {
  it('an allowed variable overrides, coerced to the field type; a forbidden one warns; a wrong type is an error', () => {
    const r = renderOf(exampleFiles(), dev, {
      env: { DOORBELL_CAMERA_FPS: '12', DOORBELL_LOG_LEVEL: 'loud', DOORBELL_MOTION_SENSITIVITY: ' .5 ' },
    });
    expect(r.config.frame_capture).toMatchObject({ fps: 12 });
    expect(r.config.motion).toMatchObject({ sensitivity: 0.5 });
    expect(r.diagnostics.find((d) => d.code === 'env-override-type')).toMatchObject({
      severity: 'error',
      file: 'env:DOORBELL_LOG_LEVEL',
      path: 'logging.level',
    });
    expect(r.locate('/frame_capture/fps')).toEqual({ file: 'env:DOORBELL_CAMERA_FPS' });
    const production = renderOf(exampleFiles(), { environment: 'production' }, { env: { DOORBELL_CAMERA_FPS: '12' } });
    expect(codes(production)).toContainEqual(['env-override-forbidden', 'warning']);
  });

  it('coerce: integers, numbers, booleans and enums by their text, strings as they are', () => {
    expect(coerce('12', { type: 'integer' })).toBe(12);
    expect(coerce('1.5', { type: 'integer' })).toBeUndefined();
    expect(coerce('2e3', { type: ['number', 'null'] })).toBe(2000);
    expect(coerce('yes', { type: 'boolean' })).toBe(true);
    expect(coerce('OFF', { type: 'boolean' })).toBe(false);
    expect(coerce('maybe', { type: 'boolean' })).toBeUndefined();
    expect(coerce('90', { enum: [0, 90, 180] })).toBe(90);
    expect(coerce(' text ', {})).toBe(' text ');
  });
});

describe('interpolation', () => {
  it('an unknown variable gets the nearest known one; a device variable without a device is only info', () => {
    const typo = renderOf(edit(exampleFiles(), 'config/notifications.yaml', '${environment}', '${enviroment}'));
    const d = typo.diagnostics.find((x) => x.code === 'unknown-variable')!;
    expect(d).toMatchObject({ severity: 'error', suggestion: '${environment}', file: 'config/notifications.yaml' });
    const noDevice = renderOf(exampleFiles(), { environment: 'development' });
    expect(noDevice.diagnostics.filter((x) => x.code === 'unknown-variable').map((x) => x.severity)).toEqual(['info']);
  });

  it('a value made too long by its variables is an error at the value', () => {
    const long = 'x'.repeat(9000); // twice that is past the 16 KiB a value may grow to
    const files = edit(exampleFiles(), DEVICE, 'labels:', `labels:\n    long: ${long}`);
    const r = renderOf(edit(files, 'config/notifications.yaml', '${device.id}', '${device.long}${device.long}'));
    expect(codes(r)).toContainEqual(['interpolation-too-long', 'error']);
  });
});

describe('redactSecrets', () => {
  it('replaces secret values, also inside lists, and leaves the rest', () => {
    const repo = openRepository(exampleFiles());
    const shown = redactSecrets(repo, {
      frame_capture: { password: 'hunter2', fps: 5 },
      web_interface: { auth: { users: { ana: { password_hash: 'h' } } } },
      list: [{ a: 1 }],
    });
    expect(shown).toEqual({
      frame_capture: { password: REDACTED, fps: 5 },
      web_interface: { auth: { users: { ana: { password_hash: REDACTED } } } },
      list: [{ a: 1 }],
    });
  });
});

const DEVICE = 'environments/development/devices/dev-bench-01.yaml';
