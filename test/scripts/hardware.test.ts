import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadSchemas } from '../../agent/core/schema/schema-set.js';
import { gitops } from '../helpers/cli.js';
import { fakeRoot, fakeTools, section, shellQuote } from '../helpers/fake-tools.js';
import { exampleCopy, exampleFiles, PROJECT, readText, tempDir, writeText } from '../helpers/project.js';
import { HARDWARE_FIXTURES, hasShared } from '../helpers/shared.js';

const schemas = () => loadSchemas(exampleFiles()).set!;

describe('gitops hardware probe', () => {
  it('on this machine (no GPU, no camera) prints a valid profile saying so, and exits 0', () => {
    const r = gitops(['hardware', 'probe'], { cwd: PROJECT });
    expect(r.status).toBe(0);
    const profile = JSON.parse(r.stdout) as { gpu: unknown; cameras: unknown[]; memory_mb: number };
    expect(schemas().validate('hardwareProfile', profile)).toEqual([]);
    expect(profile.gpu).toBeNull();
    expect(profile.cameras).toEqual([]);
    expect(profile.memory_mb).toBeGreaterThan(0);
  });

  it('checks the model files and storage the configuration names', () => {
    const r = gitops(['hardware', 'probe', '--env', 'production', '--device', 'prod-berlin-001'], { cwd: PROJECT });
    expect(r.status).toBe(0);
    const profile = JSON.parse(r.stdout) as {
      model_files: Array<{ path: string; present: boolean }>;
      disk: { path: string };
    };
    expect(profile.model_files.map((m) => [m.path, m.present])).toEqual([
      ['/opt/doorbell/models/ssd-mobilenet-v2-person.tflite', false],
      ['/opt/doorbell/models/facenet-512.onnx', false],
    ]);
  });

  it('a live profile feeds gitops validate --hardware-profile', () => {
    const dir = exampleCopy();
    const probe = gitops(['hardware', 'probe', '--env', 'production', '--device', 'prod-berlin-001', '--root', dir]);
    writeText(join(dir, 'live.json'), probe.stdout);
    const v = gitops([
      'validate',
      '--env',
      'production',
      '--device',
      'prod-berlin-001',
      '--hardware-profile',
      join(dir, 'live.json'),
      '--root',
      dir,
    ]);
    expect(v.status).toBe(1);
    expect(v.stdout).toContain(
      'model file /opt/doorbell/models/ssd-mobilenet-v2-person.tflite is missing on device prod-berlin-001',
    );
    expect(v.stdout).toContain('has no camera at /dev/video0; its profile lists no camera');
  });
});

describe.skipIf(!hasShared)('gitops hardware parse', () => {
  it('prints the facts of one captured output', () => {
    const r = gitops([
      'hardware',
      'parse',
      'nvidia-smi',
      join(HARDWARE_FIXTURES, 'nvidia/nvidia-smi_table_tesla-p4_525.60.13.txt'),
    ]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      format: 'nvidia-smi-table',
      driverVersion: '525.60.13',
      cudaVersion: '12.0',
      gpus: [{ name: 'Tesla P4', memoryTotalMiB: 7680 }],
    });
    expect(JSON.parse(r.stdout).raw).toBeUndefined();
  });

  it('takes the field order of a headerless CSV', () => {
    const file = join(tempDir(), 'noheader.csv');
    writeText(
      file,
      section(readText(join(HARDWARE_FIXTURES, 'h100-ubuntu2404/nvidia-smi-query.txt')), 'noheader,nounits'),
    );
    const r = gitops([
      'hardware',
      'parse',
      'nvidia-smi-csv',
      file,
      '--fields',
      'name,driver_version,memory.total,compute_cap',
    ]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      driverVersion: '580.159.04',
      gpus: [{ name: 'NVIDIA H100 80GB HBM3', memoryTotalMiB: 81559 }],
    });
  });

  it('an unknown kind or a missing file is a clear error', () => {
    const kind = gitops(['hardware', 'parse', 'nvidia', '/dev/null']);
    expect(kind.status).toBe(2);
    expect(kind.stderr).toContain('kinds: nvidia-smi, nvidia-smi-csv');
    const file = gitops(['hardware', 'parse', 'lsusb', '/nonexistent']);
    expect(file.status).toBe(1);
    expect(file.stderr).toContain('cannot read lsusb output /nonexistent: ENOENT');
  });
});

describe.skipIf(!hasShared)('gitops hardware capture', () => {
  it('records a model profile that CI then validates devices against', () => {
    const dir = exampleCopy();
    const tools = fakeTools({
      'v4l2-ctl': `cat ${shellQuote(join(HARDWARE_FIXTURES, 'camera/v4l2-ctl_list-formats-ext_3d-usb-stereo-camera_rpi5.txt'))}`,
    });
    const sysroot = fakeRoot({
      'dev/video0': '',
      'proc/meminfo': 'MemTotal: 8245000 kB\nMemAvailable: 6000000 kB\n',
      'proc/device-tree/model': 'Raspberry Pi 5 Model B Rev 1.0\0',
    });
    const r = gitops(['hardware', 'capture', '--model', 'rpi5-stereo', '--sysroot', sysroot, '--root', dir], {
      env: { PATH: `${tools}:/usr/bin:/bin` },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const text = readText(join(dir, 'config/hardware/rpi5-stereo.yaml'));
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../../schemas/hardware-profile.schema.json');
    const profile = parse(text) as Record<string, unknown>;
    expect(profile).toMatchObject({
      model: 'rpi5-stereo',
      board: 'Raspberry Pi 5 Model B Rev 1.0',
      memory_mb: 8051,
      gpu: null,
    });
    expect(profile.probed_at).toBeUndefined();

    // shares stg-office-01's age key, so that it can read the staging secrets
    const recipient = /age_recipient: (\S+)/.exec(
      readText(join(dir, 'environments/staging/devices/stg-office-01.yaml')),
    )![1]!;
    const device = (fc: string): string =>
      `version: 2\ndevice:\n  id: stg-stereo-02\n  model: rpi5-stereo\n  age_recipient: ${recipient}\nframe_capture:\n${fc}`;
    writeText(
      join(dir, 'environments/staging/devices/stg-stereo-02.yaml'),
      device('  width: 1280\n  height: 480\n  fps: 90\n'),
    );
    const ok = gitops(['validate', '--env', 'staging', '--device', 'stg-stereo-02', '--root', dir]);
    expect(ok.status).toBe(0);
    writeText(
      join(dir, 'environments/staging/devices/stg-stereo-02.yaml'),
      device('  pixel_format: YUYV\n  width: 1280\n  height: 480\n  fps: 30\n'),
    );
    const bad = gitops(['validate', '--env', 'staging', '--device', 'stg-stereo-02', '--root', dir]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain(
      'camera /dev/video0 supports at most 15 fps at 1280x480 YUYV; MJPG 1280x480 gives 120',
    );
  });
});
