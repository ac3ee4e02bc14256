// From probe facts to a hardware profile (schemas/hardware-profile.schema.json): the same shape
// as the recorded profiles in config/hardware/, so that one validation serves CI and the device.

import type { Camera } from '../config/types.js';
import { CURRENT_VERSION } from '../schema/migrate.js';
import type { NvidiaFacts } from '../parsers/nvidia-smi.js';
import type { NvidiaProcVersion } from '../parsers/nvidia-proc.js';
import type { TegraRelease } from '../parsers/tegra.js';
import { cudaForL4t } from '../parsers/tegra.js';
import type { JsonObject } from '../json/value.js';

export interface ProbeFacts {
  model: string;
  cpu: { arch: string; cores: number };
  board: string | null;
  memory: { totalMb: number; availableMb: number | null } | null;
  disk: { path: string; totalMb: number; freeMb: number } | null;
  nvidia: NvidiaFacts | null;
  nvidiaProc: NvidiaProcVersion | null;
  tegra: TegraRelease | null;
  accelerators: Array<{ type: 'coral-usb' | 'coral-pcie' | 'hailo' | 'intel-vaapi'; device?: string; detail?: string }>;
  cameras: Array<Camera & { name?: string; driver?: string; bus?: string }>;
  streams: Array<{
    url: string;
    codec: string | null;
    width: number | null;
    height: number | null;
    fps: number | null;
    error?: string;
  }>;
  modelFiles: Array<{ path: string; present: boolean; sha256: string | null; size: number | null }>;
  /** Facts the probe could not establish, and why (a tool missing, a driver broken). */
  unknown: Record<string, string>;
}

const nvidiaAdvice: Record<string, string> = {
  'driver-not-loaded':
    'nvidia-smi cannot talk to the NVIDIA driver (kernel module not loaded): load or reinstall the driver',
  'driver-library-mismatch':
    'the NVIDIA kernel module and its user-space library disagree: reboot to load the new module',
  'nvml-not-found': 'the NVML library is missing: reinstall the NVIDIA driver utilities',
  'no-permission': 'nvidia-smi lacks permission: run the agent in the video group',
  'gpu-lost': 'a GPU has fallen off the bus: power-cycle the device',
  'no-devices': 'the driver is loaded but sees no GPU',
};

export function describeNvidiaError(facts: NvidiaFacts): string {
  const base = nvidiaAdvice[facts.error ?? ''] ?? `nvidia-smi failed (${facts.error ?? 'unrecognised output'})`;
  return facts.detail ? `${base} (${facts.detail})` : base;
}

export function profileFromFacts(f: ProbeFacts, probedAt: string): JsonObject {
  let gpu: JsonObject | null = null;
  const unknown = { ...f.unknown };
  if (f.tegra?.l4tVersion) {
    gpu = {
      name: f.board ?? `Jetson (${f.tegra.board ?? 'unknown board'})`,
      platform: 'jetson',
      l4t_version: f.tegra.l4tVersion,
      cuda_version: cudaForL4t(f.tegra.l4tVersion),
    };
  } else if (f.nvidia && f.nvidia.gpus.length > 0) {
    const best = [...f.nvidia.gpus].sort((a, b) => (b.memoryTotalMiB ?? 0) - (a.memoryTotalMiB ?? 0))[0]!;
    gpu = {
      name: best.name ?? 'NVIDIA GPU',
      platform: 'desktop',
      ...(best.memoryTotalMiB !== null ? { memory_mib: best.memoryTotalMiB } : {}),
      ...((f.nvidia.driverVersion ?? f.nvidiaProc?.version)
        ? { driver_version: (f.nvidia.driverVersion ?? f.nvidiaProc?.version)! }
        : {}),
      cuda_version: f.nvidia.cudaVersion,
    };
  } else if (f.nvidia?.error) {
    unknown.gpu = describeNvidiaError(f.nvidia);
  } else if (f.nvidiaProc?.version && !f.nvidia) {
    unknown.gpu = `an NVIDIA driver ${f.nvidiaProc.version} is loaded but nvidia-smi is not installed: install the NVIDIA utilities to confirm CUDA`;
  }
  return {
    version: CURRENT_VERSION,
    model: f.model,
    description: `live probe of ${f.model}`,
    cpu: { arch: f.cpu.arch, cores: f.cpu.cores },
    ...(f.board ? { board: f.board } : {}),
    memory_mb: f.memory?.totalMb ?? 0,
    ...(f.memory?.availableMb != null ? { memory_available_mb: f.memory.availableMb } : {}),
    ...(f.disk ? { disk: { path: f.disk.path, total_mb: f.disk.totalMb, free_mb: f.disk.freeMb } } : {}),
    gpu,
    accelerators: f.accelerators.map((a) => ({ ...a })),
    cameras: f.cameras.map((c) => JSON.parse(JSON.stringify(c)) as JsonObject),
    streams: f.streams.map((s) => ({ ...s })),
    model_files: f.modelFiles.map((m) => ({ ...m })),
    probed_at: probedAt,
    ...(Object.keys(unknown).length > 0 ? { unknown } : {}),
  };
}
