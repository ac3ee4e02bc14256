// What the load governor samples from a machine, cheaply: /proc/stat (CPU time), /proc/loadavg,
// a thermal zone's temp (millidegrees C), NVIDIA clock throttle reasons and Raspberry Pi
// `vcgencmd get_throttled`. Pure parsers: null where the text is not what it should be.

import { cleanOutput } from './text.js';
import { classifyNvidiaError, parseNvidiaSmiCsv } from './nvidia-smi.js';
import type { NvidiaError } from './nvidia-smi.js';

/** The aggregate `cpu` line of /proc/stat, in clock ticks, and how many CPUs it counts. */
export interface CpuTimes {
  /** Every tick (user, nice, system, idle, iowait, irq, softirq, steal; guest time is already in user). */
  total: number;
  /** Ticks not working: idle and iowait. */
  idle: number;
  cpus: number;
}

export function parseProcStat(raw: string): CpuTimes | null {
  const text = cleanOutput(raw);
  const m = /^cpu\s+(\d+(?:\s+\d+){3,})/m.exec(text);
  if (!m) return null;
  const f = m[1]!.split(/\s+/).map(Number);
  // user nice system idle iowait irq softirq steal [guest guest_nice]: guest is counted in user already
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = f[3]! + (f[4] ?? 0);
  const cpus = (text.match(/^cpu\d+\s/gm) ?? []).length;
  return { total, idle, cpus: Math.max(1, cpus) };
}

/** The share of CPU time spent working between two readings (0..1); null when no time passed. */
export function cpuUtilisation(before: CpuTimes, after: CpuTimes): number | null {
  const total = after.total - before.total;
  const idle = after.idle - before.idle;
  if (total <= 0 || idle < 0) return null;
  return Math.min(1, Math.max(0, (total - idle) / total));
}

/** /proc/loadavg: the 1, 5 and 15 minute load averages. */
export function parseLoadavg(raw: string): { one: number; five: number; fifteen: number } | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s+(\d+(?:\.\d+)?)\s+(\d+(?:\.\d+)?)(\s|$)/.exec(cleanOutput(raw));
  return m ? { one: Number(m[1]), five: Number(m[2]), fifteen: Number(m[3]) } : null;
}

/**
 * /sys/class/thermal/thermal_zone<N>/temp: millidegrees C, as °C. Null for text that is no
 * number, and for readings no sensor gives (Jetson's -256 C "no sensor", a negative or absurd value).
 */
export function parseThermalTemp(raw: string): number | null {
  const m = /^\s*(-?\d+)\s*$/.exec(cleanOutput(raw));
  if (!m) return null;
  const c = Number(m[1]) / 1000;
  return c > -40 && c < 150 ? c : null;
}

/** NVML clock throttle reasons (`clocks_throttle_reasons.active`, `nvmlClocksThrottleReasons`), named as `nvidia-smi -q -x` names them. */
export const THROTTLE_REASONS = {
  gpu_idle: 0x1,
  applications_clocks_setting: 0x2,
  sw_power_cap: 0x4,
  hw_slowdown: 0x8,
  sync_boost: 0x10,
  sw_thermal_slowdown: 0x20,
  hw_thermal_slowdown: 0x40,
  hw_power_brake_slowdown: 0x80,
  display_clocks_setting: 0x100,
} as const;

/** The reasons that mean the GPU slows down for power or heat (idle, application clocks, sync boost and the display do not). */
export const THROTTLING_MASK =
  THROTTLE_REASONS.sw_power_cap |
  THROTTLE_REASONS.hw_slowdown |
  THROTTLE_REASONS.sw_thermal_slowdown |
  THROTTLE_REASONS.hw_thermal_slowdown |
  THROTTLE_REASONS.hw_power_brake_slowdown;

/** A throttle-reason bit mask as nvidia-smi prints it (`0x0000000000000004`); null for N/A and the like. */
export function parseThrottleMask(text: string | undefined): number | null {
  const m = /^\s*0x([0-9a-fA-F]{1,16})\s*$/.exec(text ?? '');
  // the mask's defined bits fit in the low 32 bits; the rest of the 64-bit value is cut off
  return m ? Number.parseInt(m[1]!.slice(-8), 16) : null;
}

export interface GpuLoad {
  temperatureC: number | null;
  /** 0..1 */
  utilisation: number | null;
  /** The active throttle reasons (null: not asked for, or N/A). */
  throttleMask: number | null;
}

/** The query the governor asks of nvidia-smi, with the throttle field named as this driver names it (or none). */
export const gpuLoadFields = (throttleField: string | undefined): string[] =>
  throttleField ? ['temperature.gpu', 'utilization.gpu', throttleField] : ['temperature.gpu', 'utilization.gpu'];

/**
 * `nvidia-smi --query-gpu=<fields> --format=csv,noheader,nounits` (the governor asks temperature.gpu,
 * utilization.gpu and a throttle-reason field): one entry per GPU, or the error nvidia-smi printed
 * instead (invalid-field: this driver does not know a field).
 */
export function parseGpuLoad(raw: string, fields: readonly string[]): { gpus: GpuLoad[]; error?: NvidiaError } {
  const text = cleanOutput(raw);
  const failure = classifyNvidiaError(text);
  if (failure) return { gpus: [], error: failure.error };
  const facts = parseNvidiaSmiCsv(text, fields);
  if (facts.format !== 'nvidia-smi-csv') return { gpus: [] };
  const at = fields.findIndex((f) => /^clocks_(throttle|event)_reasons\.active$/.test(f));
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return {
    gpus: facts.gpus.map((g, i) => ({
      temperatureC: g.temperatureC,
      utilisation: g.utilizationPercent === null ? null : g.utilizationPercent / 100,
      throttleMask: at < 0 ? null : parseThrottleMask(lines[i]?.split(/,\s*/)[at]),
    })),
  };
}

/** Raspberry Pi `vcgencmd get_throttled`: `throttled=0x50005`. Bits 0..3 are now, 16..19 since boot. */
export function parseGetThrottled(raw: string): { now: number; sinceBoot: number } | null {
  const m = /throttled=0x([0-9a-fA-F]+)/.exec(cleanOutput(raw));
  if (!m) return null;
  const v = Number.parseInt(m[1]!, 16);
  // bit 0 under-voltage, 1 arm frequency capped, 2 throttled, 3 soft temperature limit
  return { now: v & 0xf, sinceBoot: (v >>> 16) & 0xf };
}

/** A share (0..1) from two counts, e.g. MemAvailable / MemTotal; null when either is missing or the total is 0. */
export function ratio(part: number | null, whole: number | null): number | null {
  return part === null || whole === null || whole <= 0 ? null : Math.min(1, Math.max(0, part / whole));
}
