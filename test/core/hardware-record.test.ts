// The pure part of gitops hardware probe and capture.

import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { probeTargets, recordedProfile, recordedProfileText } from '../../agent/core/hardware/record.js';

describe('probeTargets', () => {
  it('names the storage path, the enabled detectors’ and face model files, and an RTSP stream', () => {
    expect(
      probeTargets({
        storage: { path: '/var/lib/doorbell' },
        detectors: {
          person: { enabled: true, model_path: '/m/person.onnx' },
          pet: { enabled: false, model_path: '/m/pet.onnx' },
        },
        face_recognition: { enabled: true, model_path: '/m/face.onnx' },
        frame_capture: { source: 'rtsp', url: 'rtsp://cam/1' },
      }),
    ).toEqual({
      storagePath: '/var/lib/doorbell',
      modelFiles: ['/m/person.onnx', '/m/face.onnx'],
      streams: ['rtsp://cam/1'],
    });
    expect(probeTargets({ frame_capture: { source: 'v4l2', url: 'x' } })).toEqual({ modelFiles: [], streams: [] });
  });
});

describe('recordedProfile and recordedProfileText', () => {
  const profile = {
    model: 'rpi',
    probed_at: '2026-12-01T10:00:00.000Z',
    memory_mb: 4096,
    memory_available_mb: 1000,
    model_files: [],
    streams: [],
    disk: { total_mb: 100, free_mb: 50 },
  };

  it('drops the live-only facts and leaves the probed profile as it was', () => {
    expect(recordedProfile(profile, 'rpi')).toEqual({
      model: 'rpi',
      memory_mb: 4096,
      disk: { total_mb: 100 },
      description: 'rpi, recorded with gitops hardware capture',
    });
    expect(profile.disk.free_mb).toBe(50);
  });

  it('writes the schema header and the day it was probed above the profile', () => {
    const text = recordedProfileText(recordedProfile(profile, 'rpi'), 'rpi', profile.probed_at);
    expect(text.split('\n').slice(0, 3)).toEqual([
      '# yaml-language-server: $schema=../../schemas/hardware-profile.schema.json',
      '# Hardware profile of model "rpi", recorded by gitops hardware capture on 2026-12-01.',
      '# CI validates every device of this model against these facts.',
    ]);
    expect(parse(text)).toEqual(recordedProfile(profile, 'rpi'));
  });
});
