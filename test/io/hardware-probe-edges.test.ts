// The real probe on a fake root with a scripted tool runner, for the cases the replayed captures do not
// reach: an nvidia-smi too old for the full query, one that is missing while the device node is there, one
// that fails, one that sees no GPU; PCIe and Hailo accelerators, VA-API through vainfo, missing tools,
// model files that are not files, a storage path not made yet; and why each tool gave no facts.

import { describe, expect, it } from 'vitest';
import { explainRun, probeFacts } from '../../agent/io/hardware-probe.js';
import type { RunResult, ToolRunner } from '../../agent/io/tool-runner.js';
import { fakeRoot } from '../helpers/fake-tools.js';

const ok = (stdout: string): RunResult => ({ kind: 'ok', stdout, stderr: '', ms: 1 });
const exit = (code: number, stderr = '', stdout = ''): RunResult => ({ kind: 'exit', code, stdout, stderr, ms: 1 });
/** A runner that answers per tool (and, for nvidia-smi, per mode); every other tool is missing. */
const runner =
  (answers: Record<string, (args: readonly string[]) => RunResult>): ToolRunner =>
  async (cmd, args) =>
    answers[cmd]?.(args) ?? { kind: 'missing', cmd };
const MEMINFO = 'MemTotal:        8000000 kB\nMemAvailable:    6000000 kB\n';

describe('explainRun', () => {
  it('says why each kind of run gave no facts', () => {
    expect(explainRun('lsusb', { kind: 'missing', cmd: 'lsusb' })).toBe('lsusb is not installed (install usbutils)');
    expect(explainRun('mytool', { kind: 'missing', cmd: 'mytool' })).toBe('mytool is not installed (install mytool)');
    expect(explainRun('vainfo', { kind: 'denied', cmd: 'vainfo' })).toBe('vainfo may not be run by this user');
    expect(explainRun('ffprobe', { kind: 'timeout', stdout: '', stderr: '', ms: 5 })).toBe(
      'ffprobe did not answer within its timeout',
    );
    expect(explainRun('v4l2-ctl', { kind: 'too-much-output', ms: 5 })).toBe(
      'v4l2-ctl printed more output than a probe accepts',
    );
    expect(explainRun('v4l2-ctl', exit(1, '', 'only stdout\nsecond line'))).toBe('v4l2-ctl exited 1: only stdout');
  });
});

describe('probeFacts: the GPU', () => {
  it('an nvidia-smi without the full query fields is asked the short set; no table means no CUDA version', async () => {
    const asked: string[] = [];
    const { facts } = await probeFacts({
      root: fakeRoot({ 'proc/meminfo': MEMINFO }),
      runner: runner({
        'nvidia-smi': (args) => {
          asked.push(args[0] ?? '(table)');
          if (args.length === 0) return exit(9, 'no table');
          return args[0]!.includes('temperature')
            ? exit(2, 'Field "temperature.gpu" is not a valid field')
            : ok('0, Tesla T4, 470.82, 15360, 10\n');
        },
      }),
    });
    expect(asked).toHaveLength(3);
    expect(facts.nvidia).toMatchObject({ driverVersion: '470.82', cudaVersion: null });
    expect(facts.nvidia!.gpus).toMatchObject([{ name: 'Tesla T4', memoryTotalMiB: 15360 }]);
  });

  it('no nvidia-smi but a /dev/nvidia0: the GPU is unknown, with what to install', async () => {
    const { facts } = await probeFacts({ root: fakeRoot({ 'dev/nvidia0': '' }), runner: runner({}) });
    expect(facts.nvidia).toBeNull();
    expect(facts.memory).toBeNull();
    expect(facts.unknown).toMatchObject({
      gpu: '/dev/nvidia0 exists but nvidia-smi is not installed (install the NVIDIA driver utilities)',
      memory: '/proc/meminfo could not be read',
      usb: 'lsusb is not installed (install usbutils)',
    });
  });

  it('an nvidia-smi that fails: a recognised error is a fact, anything else is unknown with its first line', async () => {
    const mismatch = await probeFacts({
      root: fakeRoot({}),
      runner: runner({
        'nvidia-smi': () => exit(18, '', 'Failed to initialize NVML: Driver/library version mismatch'),
      }),
    });
    expect(mismatch.facts.nvidia?.error).toBe('driver-library-mismatch');
    const odd = await probeFacts({
      root: fakeRoot({}),
      runner: runner({ 'nvidia-smi': () => exit(3, 'something odd happened\nmore') }),
    });
    expect(odd.facts.nvidia).toBeNull();
    expect(odd.facts.unknown.gpu).toBe('nvidia-smi exited 3: something odd happened');
  });

  it('an nvidia-smi that lists no GPU is asked nothing more', async () => {
    const asked: string[] = [];
    const { facts } = await probeFacts({
      root: fakeRoot({}),
      runner: runner({ 'nvidia-smi': (args) => (asked.push(args.join(' ')), ok('')) }),
    });
    expect(facts.nvidia?.gpus).toEqual([]);
    expect(asked).toHaveLength(1);
  });
});

describe('probeFacts: accelerators and files', () => {
  it('a Coral on PCIe, Hailo NPUs, and Intel VA-API through vainfo', async () => {
    const { facts } = await probeFacts({
      root: fakeRoot({
        'dev/apex_0': '',
        'dev/hailo0': '',
        'dev/hailo1': '',
        'dev/dri/renderD129': '',
        'dev/dri/renderD128': '',
      }),
      runner: runner({
        lsusb: () => ok(''),
        vainfo: (args) =>
          ok(
            args.includes('/dev/dri/renderD128')
              ? 'vainfo: Driver version: Intel iHD driver for Intel(R) Gen Graphics - 23.1.1 ()\n'
              : '',
          ),
      }),
    });
    expect(facts.accelerators).toEqual([
      { type: 'coral-pcie', device: '/dev/apex_0' },
      { type: 'hailo', device: '/dev/hailo0' },
      { type: 'hailo', device: '/dev/hailo1' },
      {
        type: 'intel-vaapi',
        device: '/dev/dri/renderD128',
        detail: 'Intel iHD driver for Intel(R) Gen Graphics - 23.1.1',
      },
    ]);
    expect(facts.unknown.usb).toBeUndefined();
  });

  it('a render node whose driver is not Intel is no accelerator; vainfo missing says so', async () => {
    const amd = await probeFacts({
      root: fakeRoot({ 'dev/dri/renderD128': '' }),
      runner: runner({ vainfo: () => exit(1, 'vainfo: Driver version: Mesa Gallium driver 23.2.1 for AMD Radeon') }),
    });
    expect(amd.facts.accelerators).toEqual([]);
    expect(amd.facts.unknown.vaapi).toBeUndefined();
    const none = await probeFacts({ root: fakeRoot({ 'dev/dri/renderD128': '' }), runner: runner({}) });
    expect(none.facts.unknown.vaapi).toBe('vainfo is not installed (install vainfo)');
  });

  it('a model path that is a directory, or is absent, is not present; the disk is measured at the nearest parent', async () => {
    const root = fakeRoot({ 'opt/models/dir/.keep': '', 'var/lib/.keep': '' });
    const { facts } = await probeFacts({
      root,
      runner: runner({}),
      modelFiles: ['/opt/models/dir', '/opt/models/none.onnx'],
      storagePath: '/var/lib/doorbell/clips',
    });
    expect(facts.modelFiles).toEqual([
      { path: '/opt/models/dir', present: false, sha256: null, size: null },
      { path: '/opt/models/none.onnx', present: false, sha256: null, size: null },
    ]);
    expect(facts.disk?.path).toBe('/var/lib');
    expect(facts.disk!.totalMb).toBeGreaterThan(0);
  });
});
