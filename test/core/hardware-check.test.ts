// Validation against hardware facts, with profiles built from the real captures.

import { describe, expect, it } from 'vitest';
import type { Config, HardwareProfile } from '../../agent/core/config/types.js';
import { checkHardware } from '../../agent/core/hardware/check.js';
import { profileFromFacts } from '../../agent/core/hardware/profile.js';
import type { ProbeFacts } from '../../agent/core/hardware/profile.js';
import { parseFfprobe } from '../../agent/core/parsers/ffprobe.js';
import { parseNvidiaSmiTable } from '../../agent/core/parsers/nvidia-smi.js';
import { parseTegraRelease } from '../../agent/core/parsers/tegra.js';
import { parseLsusb } from '../../agent/core/parsers/usb-accel.js';
import { cameraFromV4l2, parseV4l2Formats } from '../../agent/core/parsers/v4l2-formats.js';
import { render } from '../../agent/core/config/render.js';
import { openRepository } from '../../agent/core/repo/repository.js';
import { exampleFiles } from '../helpers/project.js';
import { probeFacts } from '../helpers/probe-facts.js';
import { fixture, hasShared } from '../helpers/shared.js';

const subject = { environment: 'production', device: 'door-1', model: 'probe' };
const baseConfig = (): Config =>
  structuredClone(
    render(openRepository(exampleFiles()), { environment: 'production', device: 'prod-berlin-001' }).config,
  ) as unknown as Config;
const facts = probeFacts;
const profile = (over: Partial<ProbeFacts>): HardwareProfile =>
  profileFromFacts(facts(over), '2026-11-27T00:00:00Z') as unknown as HardwareProfile;
const codes = (fs: Array<{ code: string; severity: string }>): string[] => fs.map((f) => `${f.severity}:${f.code}`);

describe.skipIf(!hasShared)('GPUs and CUDA from real captures', () => {
  const c920 = (): ProbeFacts['cameras'] => [
    cameraFromV4l2('/dev/video0', parseV4l2Formats(fixture('camera/v4l2-ctl_all_list-formats-ext_logitech-c920.txt'))),
  ];

  it('an H100 with CUDA 13.0 runs the cuda detectors', () => {
    const p = profile({ nvidia: parseNvidiaSmiTable(fixture('h100-ubuntu2404/nvidia-smi.txt')), cameras: c920() });
    expect(p.gpu).toMatchObject({
      name: 'NVIDIA H100 80GB HBM3',
      memory_mib: 81559,
      cuda_version: '13.0',
      driver_version: '580.159.04',
      platform: 'desktop',
    });
    expect(checkHardware(baseConfig(), p, subject)).toEqual([]);
  });

  it('a Jetson Nano compares its L4T CUDA (10.2), not a desktop driver, and says what to flash', () => {
    const p = profile({
      tegra: parseTegraRelease(fixture('jetson/nv_tegra_release_R32.7.6_t210ref_nano.txt')),
      board: 'NVIDIA Jetson Nano Developer Kit',
      memory: { totalMb: 3956, availableMb: 2000 },
      cameras: c920(),
    });
    expect(p.gpu).toMatchObject({ platform: 'jetson', l4t_version: '32.7.6', cuda_version: '10.2' });
    const found = checkHardware(baseConfig(), p, subject);
    const cuda = found.find((f) => f.code === 'hardware-cuda-version')!;
    expect(cuda.message).toBe(
      'device door-1 (model probe) offers CUDA 10.2 (L4T 32.7.6); the configuration needs CUDA 11.4 or newer',
    );
    expect(cuda.hint).toMatch(/JetPack/);
  });

  it('on a Jetson, GPU memory is the system RAM', () => {
    const p = profile({
      tegra: parseTegraRelease(fixture('jetson/nv_tegra_release_R32.7.6_t210ref_nano.txt')),
      memory: { totalMb: 1024, availableMb: 500 },
      cameras: c920(),
    });
    const config = baseConfig();
    config.hardware.min_cuda_version = '10.2';
    config.hardware.min_ram_mb = 512;
    config.detectors.person!.gpu_memory_mb = 2000;
    expect(checkHardware(config, p, subject).find((f) => f.code === 'hardware-gpu-memory')?.message).toBe(
      'cuda work needs 2000 MiB of GPU memory but device door-1 (model probe) has 1024 MiB (Jetson GPU memory is the system RAM)',
    );
  });

  it('a broken driver makes CUDA unknown: a warning with the reason, not a false "no GPU"', () => {
    const p = profile({
      nvidia: parseNvidiaSmiTable(fixture('nvidia/nvidia-smi_error_driver-library-mismatch.txt')),
      cameras: c920(),
    });
    expect(p.gpu).toBeNull();
    const found = checkHardware(baseConfig(), p, subject);
    expect(codes(found)).toEqual(['warning:hardware-cuda-unknown', 'warning:hardware-cuda-unknown']);
    expect(found[0]!.message).toMatch(/reboot to load the new module \(NVML library version 580\.178\)/);
  });

  it('a Coral detector needs a Coral: found by USB id in either state', () => {
    const config = baseConfig();
    config.detectors.person!.runtime = 'coral';
    config.face_recognition.runtime = 'cpu';
    expect(codes(checkHardware(config, profile({ cameras: c920() }), subject))).toEqual(['error:hardware-accelerator']);
    const coral = parseLsusb(fixture('accel/lsusb_coral-usb_uninitialized.txt')).accelerators.map((a) => ({
      type: a.type,
      device: a.id,
    }));
    expect(checkHardware(config, profile({ cameras: c920(), accelerators: coral }), subject)).toEqual([]);
  });

  it('RTSP cameras: fps not signalled is a warning; a size that differs is a warning; more fps than sent is an error', () => {
    const config = baseConfig();
    config.frame_capture = {
      ...config.frame_capture,
      source: 'rtsp',
      url: 'rtsp://192.0.2.10:554/main',
      width: 2560,
      height: 1920,
      fps: 15,
    };
    const reolink = parseFfprobe(fixture('ffprobe/frigate-api-ffprobe_reolink-rlc-410-5mp.json')).streams[0]!;
    const p = profile({
      nvidia: parseNvidiaSmiTable(fixture('h100-ubuntu2404/nvidia-smi.txt')),
      streams: [{ url: 'rtsp://192.0.2.10:554/main', ...reolink }],
    });
    expect(checkHardware(config, p, subject).map((f) => f.message)).toEqual([
      'stream rtsp://192.0.2.10:554/main does not signal its frame rate; 15 fps cannot be checked before it runs',
    ]);
    p.streams![0]!.fps = 12.5;
    config.frame_capture.width = 1920;
    expect(codes(checkHardware(config, p, subject))).toEqual([
      'error:hardware-stream-fps',
      'warning:hardware-stream-size',
    ]);
  });
});

describe('model files, memory and disk from a live probe', () => {
  const cam = [
    { device: '/dev/video0', formats: [{ fourcc: 'MJPG', modes: [{ width: 1920, height: 1080, fps: [30] }] }] },
  ];
  const gpu = {
    nvidia: {
      format: 'nvidia-smi-csv' as const,
      driverVersion: '550.1',
      cudaVersion: '12.4',
      gpus: [
        {
          index: 0,
          name: 'L4',
          busId: null,
          memoryTotalMiB: 23034,
          memoryUsedMiB: 0,
          temperatureC: null,
          powerDrawW: null,
          utilizationPercent: null,
        },
      ],
      raw: '',
    },
  };

  it('a missing model file or one with another digest is refused', () => {
    const config = baseConfig();
    config.detectors.person!.model_sha256 = 'a'.repeat(64);
    const p = profile({
      ...gpu,
      cameras: cam,
      modelFiles: [
        { path: config.detectors.person!.model_path, present: true, sha256: 'b'.repeat(64), size: 10 },
        { path: '/opt/doorbell/models/facenet-512.onnx', present: false, sha256: null, size: null },
      ],
    });
    const found = checkHardware(config, p, subject);
    expect(found.map((f) => f.message)).toEqual([
      'model file /opt/doorbell/models/ssd-mobilenet-v2-person.tflite on device door-1 (model probe) ' +
        'has sha256 bbbbbbbbbbbb…, not the configured aaaaaaaaaaaa…',
      'model file /opt/doorbell/models/facenet-512.onnx is missing on device door-1 (model probe)',
    ]);
  });

  it('too little free disk is refused', () => {
    const p = profile({ ...gpu, cameras: cam, disk: { path: '/var', totalMb: 500000, freeMb: 100 } });
    expect(checkHardware(baseConfig(), p, subject).map((f) => f.code)).toEqual(['hardware-disk-free']);
  });
});
