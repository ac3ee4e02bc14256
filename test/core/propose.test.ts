// A proposed change written into the file a person would edit, typed by the schema, comments
// kept; refused before anything is written for unknown paths, secrets and wrong values.

import { describe, expect, it } from 'vitest';
import { applySettings, parseSetting } from '../../agent/core/change/propose.js';
import { openRepository } from '../../agent/core/repo/repository.js';
import { exampleFiles, withFiles } from '../helpers/project.js';

const repo = () => openRepository(exampleFiles());

describe('parseSetting', () => {
  it('splits at the first =, keeping the rest of the value', () => {
    expect(parseSetting('notifications.webhook.url=https://x.test/a=b')).toEqual({
      path: ['notifications', 'webhook', 'url'],
      text: 'https://x.test/a=b',
    });
  });
  it('refuses what is not PATH=VALUE', () => {
    expect(() => parseSetting('frame_capture.fps')).toThrow('"frame_capture.fps" is not PATH=VALUE');
    expect(() => parseSetting('=12')).toThrow('is not PATH=VALUE');
  });
});

describe('applySettings', () => {
  it('edits the device file, typed by the schema, keeping its comments', () => {
    const before = exampleFiles().get('environments/production/devices/prod-berlin-001.yaml')!;
    const { files, file } = applySettings(repo(), 'production', 'prod-berlin-001', [
      parseSetting('frame_capture.fps=18'),
      parseSetting('logging.level=warn'),
    ]);
    expect(file).toBe('environments/production/devices/prod-berlin-001.yaml');
    const after = files.get(file)!;
    expect(after).toContain('  fps: 18\n');
    expect(after).toContain('level: warn');
    expect(after.split('\n').filter((l) => l.trimStart().startsWith('#'))).toEqual(
      before.split('\n').filter((l) => l.trimStart().startsWith('#')),
    );
    expect(files.size).toBe(exampleFiles().size);
  });

  it('without a device, edits the environment overrides; a missing overrides file is created', () => {
    expect(
      applySettings(repo(), 'staging', undefined, [parseSetting('motion.sensitivity=0.4')]).files.get(
        'environments/staging/overrides.yaml',
      ),
    ).toContain('sensitivity: 0.4');
    const bare = openRepository(withFiles({ 'environments/staging/overrides.yaml': undefined }));
    const created = applySettings(bare, 'staging', undefined, [parseSetting('motion.sensitivity=0.4')]).files.get(
      'environments/staging/overrides.yaml',
    )!;
    expect(created).toMatch(/^# yaml-language-server: \$schema=/);
    expect(created).toContain('version: 2');
    expect(created).toContain('sensitivity: 0.4');
  });

  it('refuses an unknown path with a suggestion, a secret, a wrong value, and a file that does not parse', () => {
    expect(() => applySettings(repo(), 'production', undefined, [parseSetting('frame_capture.fsp=5')])).toThrow(
      'Did you mean "frame_capture.fps"?',
    );
    expect(() =>
      applySettings(repo(), 'production', undefined, [parseSetting('notifications.telegram.bot_token=x')]),
    ).toThrow('is a secret: it is not proposed in plaintext');
    expect(() => applySettings(repo(), 'production', undefined, [parseSetting('frame_capture.fps=fast')])).toThrow(
      '"fast" is not a valid',
    );
    expect(() => applySettings(repo(), 'production', undefined, [parseSetting('logging.level=loud')])).toThrow(
      'one of trace, debug, info, warn, error',
    );
    const broken = openRepository(withFiles({ 'environments/production/overrides.yaml': 'web_interface: [\n' }));
    expect(() => applySettings(broken, 'production', undefined, [parseSetting('frame_capture.fps=5')])).toThrow(
      'environments/production/overrides.yaml does not parse',
    );
  });
});
