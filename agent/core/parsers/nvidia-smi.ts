// nvidia-smi: the human table (narrow pre-R530 and wide R530+ layouts) and the CSV of
// `--query-gpu` (with or without header and units), plus the known failure messages.

import { cleanOutput, parseNumber, parseText } from './text.js';

export type NvidiaError =
  | 'driver-not-loaded'
  | 'driver-library-mismatch'
  | 'nvml-not-found'
  | 'no-permission'
  | 'invalid-field'
  | 'gpu-lost'
  | 'no-devices';

export interface NvidiaGpu {
  index: number | null;
  name: string | null;
  busId: string | null;
  memoryTotalMiB: number | null;
  memoryUsedMiB: number | null;
  temperatureC: number | null;
  powerDrawW: number | null;
  utilizationPercent: number | null;
}

export interface NvidiaFacts {
  format: 'nvidia-smi-table' | 'nvidia-smi-csv' | 'nvidia-smi-q' | 'nvidia-smi-xml' | 'error' | 'unrecognised';
  driverVersion: string | null;
  cudaVersion: string | null;
  gpus: NvidiaGpu[];
  error?: NvidiaError;
  /** Extra detail for errors, e.g. the NVML library version of a mismatch. */
  detail?: string;
  raw: string;
}

const emptyGpu = (): NvidiaGpu => ({
  index: null,
  name: null,
  busId: null,
  memoryTotalMiB: null,
  memoryUsedMiB: null,
  temperatureC: null,
  powerDrawW: null,
  utilizationPercent: null,
});

/** Classifies the failure messages nvidia-smi prints instead of output. */
export function classifyNvidiaError(text: string): { error: NvidiaError; detail?: string } | undefined {
  if (/couldn't communicate with the NVIDIA driver/i.test(text)) return { error: 'driver-not-loaded' };
  const mismatch = /Driver\/library version mismatch/i.test(text);
  if (mismatch) {
    const lib = /NVML library version:\s*([\d.]+)/.exec(text)?.[1];
    return { error: 'driver-library-mismatch', ...(lib ? { detail: `NVML library version ${lib}` } : {}) };
  }
  if (/NVML Shared Library Not Found|libnvidia-ml\.so.*not found/i.test(text)) return { error: 'nvml-not-found' };
  if (/Insufficient Permissions/i.test(text)) return { error: 'no-permission' };
  if (/is not a valid field to query/i.test(text))
    return { error: 'invalid-field', detail: /Field "([^"]+)"/.exec(text)?.[1] ?? '' };
  if (/GPU is lost|fallen off the bus/i.test(text)) return { error: 'gpu-lost' };
  if (/No devices were found/i.test(text)) return { error: 'no-devices' };
  return undefined;
}

export function parseNvidiaSmiTable(raw: string): NvidiaFacts {
  const text = cleanOutput(raw);
  const failure = classifyNvidiaError(text);
  const header = /NVIDIA-SMI\s+(\S+)\s+Driver Version:\s+(\S+)\s+CUDA Version:\s+(\S+)/.exec(text);
  if (!header) {
    if (failure) return { format: 'error', driverVersion: null, cudaVersion: null, gpus: [], ...failure, raw };
    return { format: 'unrecognised', driverVersion: null, cudaVersion: null, gpus: [], raw };
  }
  const gpus: NvidiaGpu[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const row1 = /^\|\s+(\d+)\s+(.+?)\s+(On|Off|N\/A)\s*\|\s*(\S+)\s+(\S+)\s*\|/.exec(lines[i]!);
    if (!row1) continue;
    const gpu = emptyGpu();
    gpu.index = Number(row1[1]);
    gpu.name = row1[2]!.trim();
    gpu.busId = parseText(row1[4]);
    const row2 = lines[i + 1] ?? '';
    const mem = /(\d+)MiB\s*\/\s*(\d+)MiB/.exec(row2);
    if (mem) {
      gpu.memoryUsedMiB = Number(mem[1]);
      gpu.memoryTotalMiB = Number(mem[2]);
    }
    const cells = row2.split('|');
    const first = cells[1] ?? '';
    const temp = /(-?\d+)C\b/.exec(first);
    gpu.temperatureC = temp && Number(temp[1]) > -200 ? Number(temp[1]) : null;
    const power = /(\S+)\s*\/\s*\S+\s*$/.exec(first.trim());
    gpu.powerDrawW = power ? parseNumber(power[1]!.replace(/W$/, '')) : null;
    const util = /(\d+)%/.exec(cells[3] ?? '');
    gpu.utilizationPercent = util ? Number(util[1]) : null;
    gpus.push(gpu);
  }
  return {
    format: 'nvidia-smi-table',
    driverVersion: parseText(header[2]),
    cudaVersion: parseText(header[3]),
    gpus,
    raw,
  };
}

/** The fields `gitops hardware probe` asks for, in order. */
export const QUERY_FIELDS = [
  'index',
  'name',
  'pci.bus_id',
  'driver_version',
  'memory.total',
  'memory.used',
  'temperature.gpu',
  'power.draw',
  'utilization.gpu',
] as const;

/**
 * `nvidia-smi --query-gpu=... --format=csv[,noheader][,nounits]`. With a header the field names
 * come from it (units in brackets dropped); without one, from `fields` in the order asked.
 */
export function parseNvidiaSmiCsv(raw: string, fields: readonly string[] = QUERY_FIELDS): NvidiaFacts {
  const text = cleanOutput(raw);
  const failure = classifyNvidiaError(text);
  if (failure) return { format: 'error', driverVersion: null, cudaVersion: null, gpus: [], ...failure, raw };
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^exit=\d+$/.test(l));
  if (lines.length === 0) return { format: 'unrecognised', driverVersion: null, cudaVersion: null, gpus: [], raw };
  let names = [...fields];
  const hasHeader =
    /^[a-z_.]+(\s*\[[^\]]*\])?(\s*,\s*[a-z_.]+(\s*\[[^\]]*\])?)*$/.test(lines[0]!) &&
    lines[0]!.split(',').some((h) => h.trim().startsWith('name') || h.includes('.'));
  if (hasHeader) {
    names = lines[0]!.split(',').map((h) => h.trim().replace(/\s*\[.*\]$/, ''));
    lines.shift();
  }
  const gpus: NvidiaGpu[] = [];
  let driverVersion: string | null = null;
  for (const line of lines) {
    const cells = line.split(/,\s*/);
    if (cells.length !== names.length)
      return { format: 'unrecognised', driverVersion: null, cudaVersion: null, gpus: [], raw };
    const get = (name: string): string | undefined => {
      const i = names.indexOf(name);
      return i < 0 ? undefined : cells[i];
    };
    const gpu = emptyGpu();
    gpu.index = parseNumber(get('index'));
    gpu.name = parseText(get('name'));
    gpu.busId = parseText(get('pci.bus_id'));
    gpu.memoryTotalMiB = parseNumber(get('memory.total'));
    gpu.memoryUsedMiB = parseNumber(get('memory.used'));
    gpu.temperatureC = parseNumber(get('temperature.gpu'));
    gpu.powerDrawW = parseNumber(get('power.draw'));
    gpu.utilizationPercent = parseNumber(get('utilization.gpu'));
    if (gpu.index === null && !names.includes('index')) gpu.index = gpus.length;
    driverVersion ??= parseText(get('driver_version'));
    gpus.push(gpu);
  }
  return { format: 'nvidia-smi-csv', driverVersion, cudaVersion: null, gpus, raw };
}

/** `nvidia-smi -q` (text): driver and CUDA versions, and per GPU its name, bus id and memory. */
export function parseNvidiaSmiQuery(raw: string): NvidiaFacts {
  const text = cleanOutput(raw);
  const failure = classifyNvidiaError(text);
  const field = (block: string, name: string): string | undefined =>
    new RegExp(`^\\s*${name}\\s*:\\s*(.*)$`, 'm').exec(block)?.[1];
  const driverVersion = parseText(field(text, 'Driver Version'));
  if (!driverVersion)
    return failure
      ? { format: 'error', driverVersion: null, cudaVersion: null, gpus: [], ...failure, raw }
      : { format: 'unrecognised', driverVersion: null, cudaVersion: null, gpus: [], raw };
  const blocks = text.split(/^GPU (?=[0-9A-Fa-f]{8}:)/m).slice(1);
  const gpus = blocks.map((block, index) => {
    const fb = /FB Memory Usage\n((?:\s{8,}.*\n?)+)/.exec(block)?.[1] ?? '';
    return {
      index,
      name: parseText(field(block, 'Product Name')),
      busId: parseText(/^(\S+)/.exec(block)?.[1]),
      memoryTotalMiB: parseNumber(field(fb, 'Total')),
      memoryUsedMiB: parseNumber(field(fb, 'Used')),
      temperatureC: parseNumber(field(block, 'GPU Current Temp')),
      powerDrawW: parseNumber(field(block, 'Average Power Draw')),
      utilizationPercent: parseNumber(field(block, 'Gpu')),
    };
  });
  return { format: 'nvidia-smi-q', driverVersion, cudaVersion: parseText(field(text, 'CUDA Version')), gpus, raw };
}

/** `nvidia-smi -q -x` (XML): the same facts as the text form. */
export function parseNvidiaSmiXml(raw: string): NvidiaFacts {
  const text = cleanOutput(raw);
  const tag = (block: string, name: string): string | undefined =>
    new RegExp(`<${name}>([^<]*)</${name}>`).exec(block)?.[1];
  const driverVersion = parseText(tag(text, 'driver_version'));
  if (!driverVersion) return { format: 'unrecognised', driverVersion: null, cudaVersion: null, gpus: [], raw };
  const gpus = [...text.matchAll(/<gpu id="([^"]+)">([\s\S]*?)<\/gpu>/g)].map((m, index) => {
    const fb = /<fb_memory_usage>([\s\S]*?)<\/fb_memory_usage>/.exec(m[2]!)?.[1] ?? '';
    return {
      index,
      name: parseText(tag(m[2]!, 'product_name')),
      busId: m[1]!,
      memoryTotalMiB: parseNumber(tag(fb, 'total')),
      memoryUsedMiB: parseNumber(tag(fb, 'used')),
      temperatureC: parseNumber(tag(m[2]!, 'gpu_temp')),
      powerDrawW: parseNumber(tag(m[2]!, 'average_power_draw') ?? tag(m[2]!, 'power_draw')),
      utilizationPercent: parseNumber(tag(m[2]!, 'gpu_util')),
    };
  });
  return { format: 'nvidia-smi-xml', driverVersion, cudaVersion: parseText(tag(text, 'cuda_version')), gpus, raw };
}
