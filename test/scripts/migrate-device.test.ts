import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitops } from '../helpers/cli.js';
import { exampleCopy, PROJECT, readText, tempDir, writeText } from '../helpers/project.js';
import { ageKey } from '../helpers/age.js';

const v1Tree = (): string => {
  const dir = exampleCopy();
  cpSync(join(PROJECT, 'test/fixtures/v1'), dir, { recursive: true });
  return dir;
};

describe('gitops migrate', () => {
  it('a v1 tree validates (migrated in memory) and reports the files that are behind', () => {
    const dir = v1Tree();
    const r = gitops(['validate', '--root', dir]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(
      'config/frame_capture.yaml:3:10 warning migration-pending config/frame_capture.yaml is format version 1; current is 2',
    );
    const render = gitops([
      'render',
      '--env',
      'production',
      '--device',
      'prod-berlin-001',
      '--format',
      'json',
      '--root',
      dir,
    ]);
    expect(JSON.parse(render.stdout).frame_capture).toMatchObject({ width: 1920, height: 1080 });
  });

  it('--check exits 1 and changes nothing; migrate rewrites keeping comments; then --check exits 0', () => {
    const dir = v1Tree();
    const file = join(dir, 'config/frame_capture.yaml');
    const before = readText(file);
    const check = gitops(['migrate', '--check', '--root', dir]);
    expect(check.status).toBe(1);
    expect(check.stdout).toContain('would migrate config/frame_capture.yaml (version 1 -> 2)');
    expect(check.stdout).toContain(
      'would migrate environments/production/devices/prod-berlin-001.yaml (version 1 -> 2)',
    );
    expect(readText(file)).toBe(before);

    const run = gitops(['migrate', '--root', dir]);
    expect(run.status).toBe(0);
    const after = readText(file);
    expect(after).toContain('# MJPG keeps USB webcams at full frame rate.');
    expect(after).toContain('  # 720p is enough for a doorstep.\n  width: 1280\n  height: 720 # width x height\n');
    expect(after).toContain('version: 2\n');
    expect(after).not.toMatch(/^\s*resolution:/m);

    expect(gitops(['migrate', '--check', '--root', dir]).status).toBe(0);
    const valid = gitops(['validate', '--root', dir]);
    expect(valid.status).toBe(0);
    expect(valid.stdout).not.toContain('migration-pending');
  });

  it('leaves a file it cannot convert untouched and exits 1', () => {
    const dir = v1Tree();
    const file = join(dir, 'config/frame_capture.yaml');
    writeText(file, readText(file).replace('"1280x720"', 'full-hd'));
    const r = gitops(['migrate', '--root', dir]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('frame_capture.resolution "full-hd" is not WIDTHxHEIGHT');
    expect(readText(file)).toContain('resolution: full-hd');
  });
});

describe('gitops device add', () => {
  const operator = (dir: string): Record<string, string> => ({
    SOPS_AGE_KEY_FILE: join(dir, 'environments/development/keys/dev-operator.agekey'),
  });
  const snapshot = (dir: string): string[] =>
    ['.sops.yaml', 'environments/development/secrets.sops.yaml'].map((f) => readText(join(dir, f)));

  it('creates a device from a template, lists its key in .sops.yaml and re-wraps the secrets: gitops validate passes and the device can decrypt', async () => {
    const dir = exampleCopy();
    const key = await ageKey();
    const r = gitops(
      [
        'device',
        'add',
        'dev-bench-02',
        '--env',
        'development',
        '--model',
        'rpi4-camv2',
        '--template',
        'pi-csi',
        '--age-recipient',
        key.recipient,
        '--root',
        dir,
      ],
      { env: operator(dir) },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const text = readText(join(dir, 'environments/development/devices/dev-bench-02.yaml'));
    // one $schema header, the one every device file carries
    const header = readText(join(dir, 'environments/production/devices/prod-berlin-001.yaml')).split('\n')[0]!;
    expect(header).toBe('# yaml-language-server: $schema=../../../schemas/device.schema.json');
    expect(text.split('\n')[0]).toBe(header);
    expect(text.match(/\$schema=/g)).toHaveLength(1);
    expect(text).not.toContain('Template for a doorbell');
    expect(text).toContain('id: dev-bench-02');
    expect(text).toContain(`age_recipient: ${key.recipient}`);
    expect(text).toContain('# 32 GB SD card: keep clips small.');
    expect(readText(join(dir, '.sops.yaml'))).toContain(key.recipient);
    expect(readText(join(dir, '.sops.yaml'))).toContain(
      '# device dev-bench-01: environments/development/keys/dev-bench-01.agekey',
    );
    expect(gitops(['validate', '--root', dir]).status).toBe(0);
    const dec = gitops([
      'secrets',
      'decrypt',
      join(dir, 'environments/development/secrets.sops.yaml'),
      '--identity',
      key.file,
    ]);
    expect(dec.status).toBe(0);
    expect(dec.stdout).toContain('bot_token:');
  });

  it('writes nothing when gitops validate would then fail: no key for the device, or no operator key to re-wrap the secrets', async () => {
    const dir = exampleCopy();
    const before = snapshot(dir);
    const noRecipient = gitops(
      [
        'device',
        'add',
        'dev-bench-02',
        '--env',
        'development',
        '--model',
        'rpi4-camv2',
        '--template',
        'pi-csi',
        '--root',
        dir,
      ],
      { env: operator(dir) },
    );
    expect(noRecipient.status).toBe(1);
    expect(noRecipient.stdout).toMatch(/error device-no-recipient/);
    expect(noRecipient.stdout).toContain('--age-recipient');
    const key = await ageKey();
    const noOperator = gitops(
      [
        'device',
        'add',
        'dev-bench-02',
        '--env',
        'development',
        '--model',
        'rpi4-camv2',
        '--template',
        'pi-csi',
        '--age-recipient',
        key.recipient,
        '--root',
        dir,
      ],
      { env: { HOME: tempDir('home-') } },
    );
    expect(noOperator.status).toBe(1);
    expect(noOperator.stderr).toContain('--identity');
    expect(existsSync(join(dir, 'environments/development/devices/dev-bench-02.yaml'))).toBe(false);
    expect(snapshot(dir)).toEqual(before);
    expect(gitops(['validate', '--root', dir]).status).toBe(0);
  });

  it('picks the template made for the model when none is named', async () => {
    const dir = exampleCopy();
    const key = await ageKey();
    const r = gitops(
      [
        'device',
        'add',
        'dev-bench-02',
        '--env',
        'development',
        '--model',
        'edge-p4-c920',
        '--age-recipient',
        key.recipient,
        '--root',
        dir,
      ],
      { env: operator(dir) },
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('template gpu-webcam');
  });

  it('refuses, without writing, a device whose template does not fit the model', () => {
    const dir = exampleCopy();
    const r = gitops([
      'device',
      'add',
      'prod-x-004',
      '--env',
      'production',
      '--model',
      'rpi4-camv2',
      '--template',
      'gpu-webcam',
      '--root',
      dir,
    ]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('has no NVIDIA GPU');
    expect(r.stdout).toContain('environments/production/devices/prod-x-004.yaml was not written');
    expect(existsSync(join(dir, 'environments/production/devices/prod-x-004.yaml'))).toBe(false);
  });

  it('refuses an existing id, an unknown model and a bad id', () => {
    const dir = exampleCopy();
    expect(
      gitops(['device', 'add', 'prod-berlin-001', '--env', 'production', '--model', 'rpi4-camv2', '--root', dir])
        .stderr,
    ).toContain('already exists');
    expect(
      gitops(['device', 'add', 'x-1', '--env', 'production', '--model', 'rpi4-cam', '--root', dir]).stderr,
    ).toContain('Did you mean "rpi4-camv2"?');
    expect(
      gitops(['device', 'add', 'Bad_Id', '--env', 'production', '--model', 'rpi4-camv2', '--root', dir]).status,
    ).toBe(2);
  });
});
