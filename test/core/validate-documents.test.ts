// The per-document checks of validation on the example repository changed in one place each: hardware
// profiles and environment files whose content disagrees with their name, device templates, stray files in
// an environment, files that cannot be configuration (bytes that are not UTF-8, links, too large), and the
// hints for an environment or device that does not exist yet.

import { describe, expect, it } from 'vitest';
import { decodeFile, problemText } from '../../agent/core/repo/file.js';
import type { Diagnostic } from '../../agent/core/validate/diagnostics.js';
import { validateRepository } from '../../agent/core/validate/validate.js';
import { edit, exampleFiles, withFiles } from '../helpers/project.js';

const files = exampleFiles();
const errorsOf = (changed: Map<string, string>, options = {}): Diagnostic[] =>
  validateRepository(changed, options).diagnostics.filter((d) => d.severity === 'error');
const profile = [...files.keys()].find((f) => f.startsWith('config/hardware/'))!;

describe('documents checked on their own', () => {
  it('a hardware profile recording another model than its file name', () => {
    const model = profile.slice('config/hardware/'.length).replace(/\.ya?ml$/, '');
    const changed = edit(files, profile, `model: ${model}`, 'model: other-model');
    const d = errorsOf(changed).find((x) => x.code === 'model-name-mismatch');
    expect(d).toMatchObject({ file: profile, hint: `set model: ${model}` });
    expect(d!.line).toBe(files.get(profile)!.split('\n').indexOf(`model: ${model}`) + 1);
  });

  it('an environment file naming another environment', () => {
    const file = 'environments/staging/environment.yaml';
    const d = errorsOf(edit(files, file, 'name: staging', 'name: stage'), { environments: ['staging'] }).find(
      (x) => x.code === 'environment-name-mismatch',
    );
    expect(d).toMatchObject({ file, hint: 'set name: staging' });
  });

  it('a device template is checked against the device schema', () => {
    const template = 'config/templates/bench.yaml';
    const changed = withFiles({ [template]: 'version: 2\ndevice:\n  modle: x\n' });
    expect(
      errorsOf(changed)
        .filter((d) => d.file === template)
        .map((d) => [d.code, d.suggestion]),
    ).toContainEqual(['unknown-key', 'model']);
  });

  it('a stray YAML file in an environment is still parsed and its errors reported', () => {
    const stray = 'environments/staging/notes.yaml';
    const changed = withFiles({ [stray]: 'a: [1\n' });
    expect(errorsOf(changed, { environments: ['staging'] }).map((d) => [d.code, d.file])).toEqual([
      ['yaml-syntax', stray],
    ]);
    expect(errorsOf(withFiles({ [stray]: 'version: 2\nnotes: fine\n' }), { environments: ['staging'] })).toEqual([]);
  });

  it('files that cannot be configuration, in scope; those of environments not validated are left alone', () => {
    const latin1 = decodeFile(Buffer.from('version: 2\nmotion:\n  enabled: caf\xe9\n', 'latin1'));
    const changed = withFiles({
      'config/motion.yaml': latin1,
      'config/link.yaml': problemText({ code: 'symlink' }),
      'environments/production/big.yaml': problemText({ code: 'file-too-large', size: 5 * 1024 * 1024 }),
    });
    const staging = errorsOf(changed, { environments: ['staging'] }).map((d) => [d.code, d.file, d.line, d.column]);
    expect(staging).toContainEqual(['not-utf8', 'config/motion.yaml', 3, 15]);
    expect(staging).toContainEqual(['symlink', 'config/link.yaml', 1, 1]);
    expect(staging.some(([, file]) => file === 'environments/production/big.yaml')).toBe(false);
    const production = errorsOf(changed, { environments: ['production'] });
    expect(production.find((d) => d.file === 'environments/production/big.yaml')?.message).toBe(
      'environments/production/big.yaml is 5.0 MiB; configuration files are limited to 1.0 MiB',
    );
  });
});

describe('names that do not exist', () => {
  it('a device in an environment without devices: how to add one', () => {
    const noDevices = new Map([...files].filter(([f]) => !f.startsWith('environments/staging/devices/')));
    const [d] = errorsOf(noDevices, { environments: ['staging'], devices: ['stg-door'] }).filter(
      (x) => x.code === 'unknown-device',
    );
    expect(d!.hint).toBe('create environments/staging/devices/stg-door.yaml (gitops device add)');
    expect(d!.suggestion).toBeUndefined();
  });
});
