// The real probe, on a fake root and with tools that replay real captured output.

import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { profileFromFacts } from '../../agent/core/hardware/profile.js';
import { loadSchemas } from '../../agent/core/schema/schema-set.js';
import { probeFacts } from '../../agent/io/hardware-probe.js';
import { runTool } from '../../agent/io/tool-runner.js';
import { fakeRoot, fakeTools, section, shellQuote } from '../helpers/fake-tools.js';
import { exampleFiles } from '../helpers/project.js';
import { fixture, HARDWARE_FIXTURES, hasShared } from '../helpers/shared.js';

const cat = (relative: string): string => `cat ${shellQuote(join(HARDWARE_FIXTURES, relative))}`;
const PATH_TAIL = '/usr/bin:/bin';

describe('runTool', () => {
  it('tells a missing tool, a non-zero exit, a hang and a flood apart', async () => {
    const tools = fakeTools({
      fails: 'echo "Cannot open device /dev/video0" >&2; exit 2',
      hangs: 'exec sleep 30',
      floods: 'exec head -c 20000000 /dev/zero',
    });
    const path = `${tools}:${PATH_TAIL}`;
    expect(await runTool('no-such-tool-here', [], { path })).toEqual({ kind: 'missing', cmd: 'no-such-tool-here' });
    expect(await runTool('fails', [], { path })).toMatchObject({
      kind: 'exit',
      code: 2,
      stderr: 'Cannot open device /dev/video0\n',
    });
    const t0 = Date.now();
    expect(await runTool('hangs', [], { path, timeoutMs: 300 })).toMatchObject({ kind: 'timeout' });
    expect(Date.now() - t0).toBeLessThan(10_000); // bounded by the timeout, not by the tool
    expect(await runTool('floods', [], { path, maxBytes: 1024 * 1024 })).toMatchObject({ kind: 'too-much-output' });
  });
});

describe.skipIf(!hasShared)('probeFacts with replayed tools', () => {
  const h100Query = (): string => section(fixture('h100-ubuntu2404/nvidia-smi-query.txt'), '');
  const gpuBox = () => {
    const tools = fakeTools({
      // query mode first: the capture with header and units; plain: the table (for CUDA)
      'nvidia-smi': `case "$1" in --query-gpu=*) printf '%s' ${shellQuote(h100Query())};; *) ${cat('h100-ubuntu2404/nvidia-smi.txt')};; esac`,
      'v4l2-ctl': `case "$2" in /dev/video0) ${cat('camera/v4l2-ctl_all_list-formats-ext_logitech-c920.txt')};; *) printf 'ioctl: VIDIOC_ENUM_FMT\\n\\tType: Video Capture\\n\\n';; esac`,
      lsusb: cat('accel/lsusb_coral-usb_initialized.txt'),
    });
    const root = fakeRoot({
      'proc/meminfo': section(fixture('h100-ubuntu2404/system.txt'), 'meminfo'),
      'proc/driver/nvidia/version': section(fixture('h100-ubuntu2404/driver.txt'), '/proc/driver/nvidia/version'),
      'dev/nvidia0': '',
      'dev/video0': '',
      'dev/video1': '',
      'sys/class/video4linux/video0/name': 'HD Pro Webcam C920\n',
      'opt/models/person.onnx': 'model bytes',
    });
    return { tools, root };
  };

  it('finds the GPU, the camera (not its metadata node), the Coral, memory and model files', async () => {
    const { tools, root } = gpuBox();
    const { facts } = await probeFacts({
      root,
      path: `${tools}:${PATH_TAIL}`,
      modelFiles: ['/opt/models/person.onnx', '/opt/models/missing.onnx'],
      storagePath: '/var/lib/doorbell/clips',
    });
    const profile = profileFromFacts(facts, '2026-11-27T00:00:00Z');
    expect(profile.gpu).toEqual({
      name: 'NVIDIA H100 80GB HBM3',
      platform: 'desktop',
      memory_mib: 81559,
      driver_version: '580.159.04',
      cuda_version: '13.0',
    });
    expect(profile.memory_mb).toBe(128887);
    expect(
      (profile.cameras as Array<{ device: string; name: string; formats: unknown[] }>).map((c) => [
        c.device,
        c.name,
        c.formats.length,
      ]),
    ).toEqual([['/dev/video0', 'HD Pro Webcam C920', 3]]);
    expect(profile.accelerators).toEqual([{ type: 'coral-usb', device: '18d1:9302', detail: 'initialised' }]);
    expect(profile.model_files).toEqual([
      {
        path: '/opt/models/person.onnx',
        present: true,
        sha256: createHash('sha256').update('model bytes').digest('hex'),
        size: 11,
      },
      { path: '/opt/models/missing.onnx', present: false, sha256: null, size: null },
    ]);
    expect((profile.disk as { path: string }).path).toBe('/'); // the nearest existing parent of the storage path
    expect(loadSchemas(exampleFiles()).set!.validate('hardwareProfile', profile)).toEqual([]);
  });

  it('an unknown query field (exit 2) is retried with the minimal field set', async () => {
    const { root } = gpuBox();
    const calls = fakeRoot({});
    const tools = fakeTools({
      'nvidia-smi': `echo "$*" >> ${shellQuote(join(calls, 'calls'))}; case "$1" in --query-gpu=index,name,driver_version,memory.total,memory.used) echo "0, NVIDIA H100 80GB HBM3, 580.159.04, 81559, 0";; --query-gpu=*) printf '%s' ${shellQuote(section(fixture('h100-ubuntu2404/nvidia-smi-query.txt'), 'bad field'))}; exit 2;; *) ${cat('h100-ubuntu2404/nvidia-smi.txt')};; esac`,
    });
    const { facts } = await probeFacts({ root, path: `${tools}:${PATH_TAIL}` });
    expect(facts.nvidia?.gpus[0]).toMatchObject({ name: 'NVIDIA H100 80GB HBM3', memoryTotalMiB: 81559 });
    expect(facts.nvidia?.cudaVersion).toBe('13.0');
  });

  it('a driver that nvidia-smi cannot reach is a reason, not "no GPU"', async () => {
    const tools = fakeTools({ 'nvidia-smi': `${cat('nvidia/nvidia-smi_error_no-driver.txt')}; exit 9` });
    const root = fakeRoot({ 'proc/meminfo': 'MemTotal: 4096000 kB\n', 'dev/nvidia0': '' });
    const profile = profileFromFacts((await probeFacts({ root, path: `${tools}:${PATH_TAIL}` })).facts, 'now');
    expect(profile.gpu).toBeNull();
    expect((profile.unknown as Record<string, string>).gpu).toMatch(/cannot talk to the NVIDIA driver/);
  });

  it('a Jetson: L4T from nv_tegra_release, the board name, one tegrastats line', async () => {
    const tools = fakeTools({
      tegrastats: `while true; do ${cat('jetson/tegrastats_agx-orin-64gb.txt')}; sleep 1; done`,
    });
    const root = fakeRoot({
      'etc/nv_tegra_release': fixture('jetson/nv_tegra_release_R32.7.6_t210ref_nano.txt'),
      'proc/device-tree/model': 'NVIDIA Jetson Nano Developer Kit\0',
      'proc/meminfo': 'MemTotal: 4051040 kB\n',
    });
    const { facts, steps } = await probeFacts({ root, path: `${tools}:${PATH_TAIL}` });
    expect(profileFromFacts(facts, 'now').gpu).toEqual({
      name: 'NVIDIA Jetson Nano Developer Kit',
      platform: 'jetson',
      l4t_version: '32.7.6',
      cuda_version: '10.2',
    });
    expect(facts.unknown.tegrastats).toBeUndefined();
    expect(steps.tegrastats).toBeLessThan(3000);
  });

  it('missing tools are "unknown, install …", a camera gone mid-probe is a fact, a hanging tool is cut at its timeout', async () => {
    const tools = fakeTools({
      'v4l2-ctl':
        'case "$2" in /dev/video0) echo "Cannot open device /dev/video0, exiting." >&2; exit 1;; *) exec sleep 30;; esac',
    });
    const root = fakeRoot({ 'dev/video0': '', 'dev/video2': '', 'proc/meminfo': 'MemTotal: 2048000 kB\n' });
    const t0 = Date.now();
    const { facts } = await probeFacts({ root, path: `${tools}:${PATH_TAIL}`, timeoutMs: 400 });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(facts.cameras).toEqual([]);
    expect(facts.unknown['camera /dev/video0']).toBe('v4l2-ctl exited 1: Cannot open device /dev/video0, exiting.');
    expect(facts.unknown['camera /dev/video2']).toBe('v4l2-ctl did not answer within its timeout');
    expect(facts.unknown.usb).toBe('lsusb is not installed (install usbutils)');
    const noTools = await probeFacts({ root, path: '/nonexistent' });
    expect(noTools.facts.unknown.cameras).toBe(
      '2 video device(s) present but v4l2-ctl is not installed (install v4l-utils)',
    );
  });

  it('RTSP sources: credentials never appear in the facts, even in errors', async () => {
    const tools = fakeTools({ ffprobe: 'for a; do last="$a"; done; echo "$last: 401 Unauthorized" >&2; exit 1' });
    const { facts } = await probeFacts({
      root: fakeRoot({}),
      path: `${tools}:${PATH_TAIL}`,
      streams: ['rtsp://admin:hunter2@192.0.2.10/main'],
    });
    expect(JSON.stringify(facts)).not.toContain('hunter2');
    expect(facts.streams[0]).toMatchObject({
      url: 'rtsp://***@192.0.2.10/main',
      error: 'ffprobe exited 1: rtsp://***@192.0.2.10/main: 401 Unauthorized',
    });
  });
});
