// The hardware check's findings one by one, on a real rendered configuration (prod-berlin-001, its person
// detector on cuda) against profiles made from probe facts: GPU and CUDA, accelerators, disk, model files,
// the camera node, and an RTSP stream's frame rate and size.

import { describe, expect, it } from 'vitest';
import type { Config, HardwareProfile } from '../../agent/core/config/types.js';
import { render } from '../../agent/core/config/render.js';
import { checkHardware, compareVersions } from '../../agent/core/hardware/check.js';
import { profileFromFacts } from '../../agent/core/hardware/profile.js';
import type { ProbeFacts } from '../../agent/core/hardware/profile.js';
import { openRepository } from '../../agent/core/repo/repository.js';
import { probeFacts } from '../helpers/probe-facts.js';
import { exampleFiles } from '../helpers/project.js';

const subject = { environment: 'production', device: 'door-1', model: 'probe' };
const rendered = render(openRepository(exampleFiles()), { environment: 'production', device: 'prod-berlin-001' });
const config = (change: (c: Config) => void = () => {}): Config => {
  const c = structuredClone(rendered.config) as unknown as Config;
  change(c);
  return c;
};
const profile = (over: Partial<ProbeFacts>, change: (p: HardwareProfile) => void = () => {}): HardwareProfile => {
  const p = profileFromFacts(probeFacts(over), 'now') as unknown as HardwareProfile;
  change(p);
  return p;
};
const jetson = {
  tegra: { format: 'tegra-release', l4tVersion: '32.7.1', board: null, arch: 'aarch64', raw: '' },
} as const;
const check = (c: Config, p: HardwareProfile) => checkHardware(c, p, subject);
const codes = (c: Config, p: HardwareProfile) => check(c, p).map((f) => f.code);

describe('compareVersions', () => {
  it('compares dotted versions by number, missing parts as 0', () => {
    expect(compareVersions('12.2', '11.4')).toBeGreaterThan(0);
    expect(compareVersions('11.4', '11.10')).toBeLessThan(0);
    expect(compareVersions('12', '12.0.0')).toBe(0);
  });
});

describe('the GPU', () => {
  it('no GPU: the hint names the accelerators the model has instead', () => {
    const [f] = check(config(), profile({ accelerators: [{ type: 'coral-usb', device: '1a6e:089a' }] }));
    expect(f!.code).toBe('hardware-no-cuda');
    expect(f!.hint).toContain("or to the model's accelerator (coral-usb)");
  });

  it("a Jetson's CUDA is too old for the configuration, named with its L4T release", () => {
    const [f] = check(config(), profile(jetson));
    expect(f).toMatchObject({ code: 'hardware-cuda-version' });
    expect(f!.message).toContain('CUDA 10.2 (L4T 32.7.1)');
  });
});

describe('accelerators, RAM and disk', () => {
  it('a detector on an accelerator the model lacks', () => {
    const c = config((x) => {
      x.detectors.person!.runtime = 'hailo';
    });
    expect(check(c, profile({})).map((f) => [f.code, f.pointer])).toContainEqual([
      'hardware-accelerator',
      '/detectors/person/runtime',
    ]);
    expect(codes(c, profile({ accelerators: [{ type: 'hailo', device: '/dev/hailo0' }] }))).not.toContain(
      'hardware-accelerator',
    );
  });

  it('too little RAM, a disk too small for the clips, too little free space', () => {
    const cpu = config((x) => {
      x.detectors.person!.runtime = 'cpu';
      x.face_recognition.runtime = 'cpu';
    });
    const small = profile({
      memory: { totalMb: 512, availableMb: null },
      disk: { path: '/', totalMb: 4096, freeMb: 100 },
    });
    const found = check(cpu, small);
    // (the profile lists no camera either)
    expect(found.map((f) => f.code)).toEqual([
      'hardware-ram',
      'hardware-disk',
      'hardware-disk-free',
      'hardware-camera',
    ]);
    expect(found[1]!.hint).toBe('lower storage.max_size_gb to at most 2');
  });
});

describe('model files and the camera', () => {
  const cpu = (change: (c: Config) => void = () => {}) =>
    config((x) => {
      x.detectors.person!.runtime = 'cpu';
      x.face_recognition.runtime = 'cpu';
      change(x);
    });

  it('a model file that is missing, or has another digest than the configuration names', () => {
    const path = cpu().detectors.person!.model_path;
    const c = cpu((x) => (x.detectors.person!.model_sha256 = 'a'.repeat(64)));
    const missing = profile({ modelFiles: [{ path, present: false, sha256: null, size: null }] });
    expect(check(c, missing).map((f) => f.code)).toContain('hardware-model-file');
    const other = profile({ modelFiles: [{ path, present: true, sha256: 'b'.repeat(64), size: 1 }] });
    const f = check(c, other).find((x) => x.code === 'hardware-model-file')!;
    expect(f.pointer).toBe('/detectors/person/model_sha256');
    expect(f.message).toContain(`has sha256 ${'b'.repeat(12)}…, not the configured ${'a'.repeat(12)}…`);
  });

  it('no camera at the configured node: the nodes it has, or how to record one', () => {
    const none = check(cpu(), profile({})).find((f) => f.code === 'hardware-camera')!;
    expect(none.message).toContain('its profile lists no camera');
    expect(none.suggestion).toBeUndefined();
    const other = check(cpu(), profile({ cameras: [{ device: '/dev/video4', formats: [] }] })).find(
      (f) => f.code === 'hardware-camera',
    )!;
    expect(other).toMatchObject({ suggestion: '/dev/video4', hint: 'set frame_capture.device to /dev/video4' });
  });

  it('an RTSP stream: not probed, no frame rate signalled, slower than asked, another size', () => {
    const url = 'rtsp://camera.local/stream1';
    const rtsp = cpu((x) => {
      x.frame_capture.source = 'rtsp';
      x.frame_capture.url = url;
    });
    const stream = (s: Partial<NonNullable<HardwareProfile['streams']>[number]>) =>
      profile({}, (p) => (p.streams = [{ url, codec: 'h264', width: 1920, height: 1080, fps: 30, ...s }]));
    expect(codes(rtsp, profile({}))).toEqual([]);
    expect(codes(rtsp, stream({ error: 'connection refused' }))).toEqual(['hardware-stream']);
    expect(codes(rtsp, stream({ fps: null, width: null }))).toEqual(['hardware-stream']);
    expect(codes(rtsp, stream({ fps: 5, width: 640, height: 480 }))).toEqual([
      'hardware-stream-fps',
      'hardware-stream-size',
    ]);
  });
});
