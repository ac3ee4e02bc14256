// From probe facts to a hardware profile, for each way the GPU facts come (a Jetson's L4T release, nvidia-smi
// with several GPUs, an nvidia-smi error, a driver without nvidia-smi) and for facts the probe could not get;
// every profile made is one the hardware-profile schema accepts.

import { describe, expect, it } from 'vitest';
import { describeNvidiaError, profileFromFacts } from '../../agent/core/hardware/profile.js';
import type { ProbeFacts } from '../../agent/core/hardware/profile.js';
import type { NvidiaFacts, NvidiaGpu } from '../../agent/core/parsers/nvidia-smi.js';
import { openRepository } from '../../agent/core/repo/repository.js';
import { exampleFiles } from '../helpers/project.js';
import { probeFacts } from '../helpers/probe-facts.js';

const schemas = openRepository(exampleFiles()).schemas!;
/** A device whose probe got only memory (no available memory, no disk), changed in one place per case. */
const facts = (over: Partial<ProbeFacts>): ProbeFacts =>
  probeFacts({ memory: { totalMb: 8192, availableMb: null }, disk: null, ...over });
const gpu = (name: string | null, memoryTotalMiB: number | null): NvidiaGpu => ({
  index: 0,
  name,
  busId: null,
  memoryTotalMiB,
  memoryUsedMiB: null,
  temperatureC: null,
  powerDrawW: null,
  utilizationPercent: null,
});
const smi = (over: Partial<NvidiaFacts>): NvidiaFacts => ({
  format: 'nvidia-smi-csv',
  driverVersion: null,
  cudaVersion: null,
  gpus: [],
  raw: '',
  ...over,
});
const profileOf = (over: Partial<ProbeFacts>) => {
  const profile = profileFromFacts(facts(over), '2026-11-27T00:00:00Z');
  expect(schemas.validate('hardwareProfile', profile)).toEqual([]);
  return profile;
};
const tegra = (l4tVersion: string, board: string | null) =>
  ({ format: 'tegra-release', l4tVersion, board, arch: 'aarch64', raw: '' }) as const;

describe('profileFromFacts', () => {
  it('a Jetson: the GPU from the L4T release, named by the board, CUDA from the L4T version', () => {
    expect(profileOf({ board: 'NVIDIA Jetson Orin Nano', tegra: tegra('36.4.0', 't186ref') }).gpu).toEqual({
      name: 'NVIDIA Jetson Orin Nano',
      platform: 'jetson',
      l4t_version: '36.4.0',
      cuda_version: '12.6',
    });
    expect(profileOf({ tegra: tegra('40.0', null) }).gpu).toEqual({
      name: 'Jetson (unknown board)',
      platform: 'jetson',
      l4t_version: '40.0',
      cuda_version: null,
    });
  });

  it('nvidia-smi with several GPUs: the one with the most memory; the driver from /proc when nvidia-smi has none', () => {
    const profile = profileOf({
      nvidia: smi({ gpus: [gpu('small', 4096), gpu(null, null), gpu('big', 24576)], cudaVersion: '12.2' }),
      nvidiaProc: {
        format: 'nvidia-proc-version',
        version: '535.54',
        flavour: 'open',
        arch: null,
        platform: 'desktop',
        raw: '',
      },
    });
    expect(profile.gpu).toEqual({
      name: 'big',
      platform: 'desktop',
      memory_mib: 24576,
      driver_version: '535.54',
      cuda_version: '12.2',
    });
    const unnamed = profileOf({ nvidia: smi({ gpus: [gpu(null, null)], driverVersion: '550.1' }) });
    expect(unnamed.gpu).toEqual({
      name: 'NVIDIA GPU',
      platform: 'desktop',
      driver_version: '550.1',
      cuda_version: null,
    });
  });

  it('an nvidia-smi error, or a driver without nvidia-smi, is an unknown GPU with the advice', () => {
    const broken = profileOf({ nvidia: smi({ format: 'error', error: 'no-permission' }) });
    expect(broken.gpu).toBeNull();
    expect(broken.unknown).toEqual({ gpu: 'nvidia-smi lacks permission: run the agent in the video group' });
    const proc = profileOf({
      nvidiaProc: {
        format: 'nvidia-proc-version',
        version: '550.90',
        flavour: null,
        arch: null,
        platform: 'desktop',
        raw: '',
      },
    });
    expect(proc.unknown).toEqual({
      gpu: 'an NVIDIA driver 550.90 is loaded but nvidia-smi is not installed: install the NVIDIA utilities to confirm CUDA',
    });
    expect(profileOf({}).unknown).toBeUndefined();
  });

  it('what the probe could not get stays out: no memory, no disk, no available memory', () => {
    // without memory facts memory_mb is 0, which the schema refuses (minimum 1): so is the profile
    const profile = profileFromFacts(facts({ memory: null, board: 'Raspberry Pi 4 Model B' }), 'now');
    expect(profile).toMatchObject({ memory_mb: 0, board: 'Raspberry Pi 4 Model B' });
    expect(schemas.validate('hardwareProfile', profile).map((e) => e.instancePath)).toEqual(['/memory_mb']);
    expect(profile).not.toHaveProperty('disk');
    expect(profile).not.toHaveProperty('memory_available_mb');
    const full = profileOf({
      memory: { totalMb: 8192, availableMb: 5000 },
      disk: { path: '/var/lib/doorbell', totalMb: 30000, freeMb: 20000 },
    });
    expect(full).toMatchObject({
      memory_available_mb: 5000,
      disk: { path: '/var/lib/doorbell', total_mb: 30000, free_mb: 20000 },
    });
  });
});

describe('describeNvidiaError', () => {
  it('known errors get advice, unknown ones name the error, and the detail is added', () => {
    expect(describeNvidiaError(smi({ error: 'gpu-lost' }))).toBe(
      'a GPU has fallen off the bus: power-cycle the device',
    );
    expect(describeNvidiaError(smi({ error: 'driver-library-mismatch', detail: 'NVML 550.1' }))).toBe(
      'the NVIDIA kernel module and its user-space library disagree: reboot to load the new module (NVML 550.1)',
    );
    expect(describeNvidiaError(smi({ error: 'weird' as NvidiaFacts['error'] }))).toBe('nvidia-smi failed (weird)');
    expect(describeNvidiaError(smi({}))).toBe('nvidia-smi failed (unrecognised output)');
  });
});
