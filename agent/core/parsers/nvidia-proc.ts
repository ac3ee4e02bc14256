// /proc/driver/nvidia/version and /proc/driver/nvidia/gpus/<pci>/information.

import { cleanOutput } from './text.js';

export interface NvidiaProcVersion {
  format: 'nvidia-proc-version' | 'unrecognised';
  version: string | null;
  flavour: 'proprietary' | 'open' | null;
  arch: string | null;
  /** On a Jetson the "version" is the L4T release, not a desktop driver version. */
  platform: 'desktop' | 'jetson' | null;
  raw: string;
}

export function parseNvidiaProcVersion(raw: string): NvidiaProcVersion {
  const line =
    cleanOutput(raw)
      .split('\n')
      .find((l) => l.startsWith('NVRM version:')) ?? '';
  const version = /Kernel Module(?: for \S+)?\s+(\d+(?:\.\d+)+)/.exec(line)?.[1] ?? null;
  if (!version) return { format: 'unrecognised', version: null, flavour: null, arch: null, platform: null, raw };
  const open = /Open Kernel Module/.test(line);
  const arch =
    (open ? /Kernel Module for (\S+)/.exec(line)?.[1] : /NVIDIA UNIX (\S+) Kernel Module/.exec(line)?.[1]) ?? null;
  return {
    format: 'nvidia-proc-version',
    version,
    flavour: open ? 'open' : 'proprietary',
    arch,
    platform: arch === 'aarch64' ? 'jetson' : 'desktop',
    raw,
  };
}

export interface NvidiaGpuInformation {
  format: 'nvidia-gpu-information' | 'unrecognised';
  model: string | null;
  uuid: string | null;
  busLocation: string | null;
  raw: string;
}

export function parseNvidiaGpuInformation(raw: string): NvidiaGpuInformation {
  const fields = new Map<string, string>();
  for (const line of cleanOutput(raw).split('\n')) {
    const m = /^([A-Za-z][A-Za-z ]+?):\s*(.*)$/.exec(line);
    if (m) fields.set(m[1]!.trim(), m[2]!.trim());
  }
  const model = fields.get('Model') ?? null;
  return {
    format: model ? 'nvidia-gpu-information' : 'unrecognised',
    model,
    uuid: fields.get('GPU UUID') ?? null,
    busLocation: fields.get('Bus Location') ?? null,
    raw,
  };
}
