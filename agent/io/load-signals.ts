// The machine's load, sampled cheaply for the load governor (agent/core/governor): every tick a
// few small reads of /proc and /sys (bounded, agent/io/safe-read.ts), and at most every few
// seconds the vendor tools nvidia-smi and vcgencmd through the process port (no shell, a short
// timeout, output capped), run in the background so that a tick never waits for them. A tool
// that is not installed is not asked again; one that fails is asked again later, less often.
//
//   soc_temp_c           the hottest /sys/class/thermal/thermal_zone*/temp
//   cpu_utilisation      0..1, working share of CPU time since the previous sample (/proc/stat)
//   load_per_core        1-minute load average (/proc/loadavg) per CPU
//   mem_available_ratio  MemAvailable / MemTotal (/proc/meminfo)
//   gpu_temp_c           the hottest GPU (nvidia-smi temperature.gpu)
//   gpu_utilisation      0..1, the busiest GPU (nvidia-smi utilization.gpu)
//   gpu_throttled        1 when a GPU slows its clocks for power or heat (clocks_throttle_reasons.active), else 0
//   pi_throttled         1 when vcgencmd get_throttled reports under-voltage, capping, throttling or the
//                        soft temperature limit now (bits 0..3), else 0
//
// A source this machine cannot give (no GPU, not a Pi, a file missing) is left out of the
// sample, with the reason in `unavailable`; the governor holds such a signal where it is.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineSource } from '../core/governor/rules.js';
import { parseMeminfo } from '../core/parsers/meminfo.js';
import {
  cpuUtilisation,
  gpuLoadFields,
  parseGetThrottled,
  parseGpuLoad,
  parseLoadavg,
  parseProcStat,
  parseThermalTemp,
  ratio,
  THROTTLING_MASK,
} from '../core/parsers/load.js';
import type { CpuTimes } from '../core/parsers/load.js';
import { nodeProcessRunner } from './process.js';
import type { ProcessRunner } from './process.js';
import { readPseudoFile } from './safe-read.js';
import { toolRunner } from './tool-runner.js';
import type { RunResult, ToolRunner } from './tool-runner.js';

export interface LoadSignalsOptions {
  /** The file-system root /proc and /sys are read under (tests use a directory laid out like them). */
  root?: string;
  /** The process port the tools run through. */
  processes?: ProcessRunner;
  /** PATH the tools are looked up in. */
  path?: string;
  /** The least time between two runs of one tool (default 5000 ms). */
  toolIntervalMs?: number;
  /** A tool run is killed after this long (default 2000 ms). */
  toolTimeoutMs?: number;
}

export interface LoadSample {
  /** When it was taken (the caller's clock, epoch ms). */
  at: number;
  /** Source -> value; a source with no value now is absent. */
  values: Partial<Record<MachineSource, number>>;
  /** Why a source has no value, for the status page and the log. */
  unavailable: Partial<Record<MachineSource, string>>;
}

/** The most bytes read of one pseudo-file: /proc/stat of a 256-core machine is about 40 KiB. */
const MAX_FILE_BYTES = 256 * 1024;
const MAX_TOOL_OUTPUT = 64 * 1024;
const MAX_THERMAL_ZONES = 64;
/** A tool's values count for three of its intervals, and at least this long; older ones are no data. */
const MIN_STALE_MS = 15_000;
/** Consecutive failures double a tool's interval, up to this. */
const MAX_BACKOFF_MS = 60_000;
/** NVIDIA renamed the throttle reasons to event reasons (R535); older drivers know only the first name. */
const THROTTLE_FIELDS = ['clocks_throttle_reasons.active', 'clocks_event_reasons.active', undefined] as const;

interface ToolState {
  /** Not installed (or not runnable): never asked again. */
  gone?: string;
  running?: Promise<void>;
  lastRunAt?: number;
  failures: number;
  /** The last good values, and when the run that gave them started. */
  values?: Partial<Record<MachineSource, number>>;
  valuesAt?: number;
  /** Why the last run gave nothing. */
  problem?: string;
}

const GPU_SOURCES = ['gpu_temp_c', 'gpu_utilisation', 'gpu_throttled'] as const;

export class LoadSignals {
  private readonly root: string;
  private readonly run: ToolRunner;
  private readonly path: string | undefined;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private previousCpu: CpuTimes | undefined;
  private lastUtilisation: number | undefined;
  private throttleField = 0;
  private readonly tools: Record<'nvidia-smi' | 'vcgencmd', ToolState> = {
    'nvidia-smi': { failures: 0 },
    vcgencmd: { failures: 0 },
  };

  constructor(options: LoadSignalsOptions = {}) {
    this.root = options.root ?? '/';
    this.run = toolRunner(options.processes ?? nodeProcessRunner).runTool;
    this.path = options.path;
    this.intervalMs = options.toolIntervalMs ?? 5000;
    this.timeoutMs = options.toolTimeoutMs ?? 2000;
  }

  /** One sample at `now` (epoch ms): the files now, the tools as their last run left them (a run is started when one is due). */
  sample(now: number): LoadSample {
    const values: LoadSample['values'] = {};
    const unavailable: LoadSample['unavailable'] = {};
    const put = (source: MachineSource, value: number | null | undefined, why: string): void => {
      if (value === null || value === undefined || !Number.isFinite(value)) unavailable[source] = why;
      else values[source] = value;
    };

    const stat = this.read('proc/stat');
    const cpu = stat.text === undefined ? null : parseProcStat(stat.text);
    if (cpu && this.previousCpu) {
      const u = cpuUtilisation(this.previousCpu, cpu);
      if (u !== null) this.lastUtilisation = u;
    }
    put(
      'cpu_utilisation',
      cpu ? this.lastUtilisation : null,
      cpu
        ? 'cpu_utilisation needs two samples of /proc/stat'
        : `/proc/stat: ${stat.problem ?? 'not in the expected format'}`,
    );
    if (cpu) this.previousCpu = cpu;

    const loadavg = this.read('proc/loadavg');
    const load = loadavg.text === undefined ? null : parseLoadavg(loadavg.text);
    put(
      'load_per_core',
      load && cpu ? load.one / cpu.cpus : null,
      load ? '/proc/stat gave no CPU count' : `/proc/loadavg: ${loadavg.problem ?? 'not in the expected format'}`,
    );

    const meminfo = this.read('proc/meminfo');
    const mem = meminfo.text === undefined ? undefined : parseMeminfo(meminfo.text);
    put(
      'mem_available_ratio',
      mem ? ratio(mem.availableMb, mem.totalMb) : null,
      `/proc/meminfo: ${meminfo.problem ?? 'no MemTotal and MemAvailable'}`,
    );

    const thermal = this.thermal();
    put('soc_temp_c', thermal.celsius, thermal.problem);

    this.due('nvidia-smi', now);
    this.due('vcgencmd', now);
    for (const [tool, sources] of [
      ['nvidia-smi', GPU_SOURCES],
      ['vcgencmd', ['pi_throttled']],
    ] as const) {
      const t = this.tools[tool];
      const fresh = t.valuesAt !== undefined && now - t.valuesAt <= Math.max(3 * this.intervalMs, MIN_STALE_MS);
      for (const source of sources)
        put(
          source,
          fresh ? t.values?.[source] : undefined,
          t.gone ??
            t.problem ??
            (t.valuesAt === undefined ? `${tool} has not answered yet` : `${tool} gave no fresh value`),
        );
    }
    return { at: now, values, unavailable };
  }

  /** Resolves once no tool run is under way (tests, and the agent as it stops). */
  async idle(): Promise<void> {
    for (;;) {
      const running = Object.values(this.tools)
        .map((t) => t.running)
        .filter((r): r is Promise<void> => r !== undefined);
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  private read(relative: string): { text?: string; problem?: string } {
    const r = readPseudoFile(join(this.root, relative), MAX_FILE_BYTES);
    return r.ok ? { text: r.bytes.toString('utf8') } : { problem: r.errno ? `${r.code} (${r.errno})` : r.code };
  }

  private thermal(): { celsius: number | null; problem: string } {
    const dir = join(this.root, 'sys/class/thermal');
    let zones: string[];
    try {
      zones = readdirSync(dir)
        .filter((z) => /^thermal_zone\d+$/.test(z))
        .slice(0, MAX_THERMAL_ZONES);
    } catch {
      return { celsius: null, problem: '/sys/class/thermal is absent' };
    }
    let max: number | null = null;
    for (const zone of zones) {
      const r = this.read(`sys/class/thermal/${zone}/temp`);
      const c = r.text === undefined ? null : parseThermalTemp(r.text);
      if (c !== null && (max === null || c > max)) max = c;
    }
    return { celsius: max, problem: zones.length === 0 ? 'no thermal zone' : 'no thermal zone gave a temperature' };
  }

  /** Starts the tool's run when one is due and none is under way. */
  private due(tool: 'nvidia-smi' | 'vcgencmd', now: number): void {
    const t = this.tools[tool];
    if (t.gone || t.running) return;
    const wait = Math.min(MAX_BACKOFF_MS, this.intervalMs * 2 ** Math.min(t.failures, 8));
    if (t.lastRunAt !== undefined && now - t.lastRunAt < wait) return;
    t.lastRunAt = now;
    const started = now;
    t.running = (tool === 'nvidia-smi' ? this.queryGpus() : this.queryPi()).then(
      (r) => {
        if ('gone' in r) t.gone = r.gone;
        else if ('values' in r) {
          t.values = r.values;
          t.valuesAt = started;
          t.failures = 0;
          delete t.problem;
        } else {
          // what the last good run said is not what holds now
          delete t.values;
          t.problem = r.problem;
          t.failures++;
        }
        delete t.running;
      },
      () => {
        t.failures++;
        delete t.running;
      },
    );
  }

  private async tool(cmd: string, args: string[]): Promise<RunResult> {
    return this.run(cmd, args, {
      timeoutMs: this.timeoutMs,
      maxBytes: MAX_TOOL_OUTPUT,
      ...(this.path !== undefined ? { path: this.path } : {}),
    });
  }

  private async queryGpus(): Promise<ToolOutcome> {
    for (;;) {
      const field = THROTTLE_FIELDS[this.throttleField];
      const fields = gpuLoadFields(field);
      const r = await this.tool('nvidia-smi', [`--query-gpu=${fields.join(',')}`, '--format=csv,noheader,nounits']);
      const failed = outcomeOfFailure('nvidia-smi', r);
      const out = r.kind === 'ok' || r.kind === 'exit' ? `${r.stdout}\n${r.stderr}` : '';
      const parsed = parseGpuLoad(out, fields);
      // this driver does not know the throttle field by that name: the next name, or none
      if (parsed.error === 'invalid-field' && field !== undefined) {
        this.throttleField++;
        continue;
      }
      if (r.kind !== 'ok') return failed!;
      if (parsed.error) return { problem: `nvidia-smi: ${parsed.error}` };
      if (parsed.gpus.length === 0) return { problem: 'nvidia-smi listed no GPU' };
      const max = (xs: Array<number | null>): number | undefined => {
        const known = xs.filter((x): x is number => x !== null);
        return known.length > 0 ? Math.max(...known) : undefined;
      };
      const masks = parsed.gpus.map((g) => g.throttleMask).filter((m): m is number => m !== null);
      const values: Partial<Record<MachineSource, number>> = {};
      const temp = max(parsed.gpus.map((g) => g.temperatureC));
      const util = max(parsed.gpus.map((g) => g.utilisation));
      if (temp !== undefined) values.gpu_temp_c = temp;
      if (util !== undefined) values.gpu_utilisation = util;
      if (masks.length > 0) values.gpu_throttled = masks.some((m) => (m & THROTTLING_MASK) !== 0) ? 1 : 0;
      return { values };
    }
  }

  private async queryPi(): Promise<ToolOutcome> {
    const r = await this.tool('vcgencmd', ['get_throttled']);
    if (r.kind !== 'ok') return outcomeOfFailure('vcgencmd', r)!;
    const t = parseGetThrottled(r.stdout);
    return t
      ? { values: { pi_throttled: t.now !== 0 ? 1 : 0 } }
      : { problem: 'vcgencmd get_throttled gave no throttled=0x... line' };
  }
}

type ToolOutcome = { gone: string } | { values: Partial<Record<MachineSource, number>> } | { problem: string };

/** What a run that did not succeed means for its tool; undefined when it succeeded. */
function outcomeOfFailure(cmd: string, r: RunResult): ToolOutcome | undefined {
  switch (r.kind) {
    case 'ok':
      return undefined;
    case 'missing':
      return { gone: `${cmd} is not installed` };
    case 'denied':
      return { gone: `${cmd} may not be run by this user` };
    case 'timeout':
      return { problem: `${cmd} did not answer in time` };
    case 'too-much-output':
      return { problem: `${cmd} printed more than ${MAX_TOOL_OUTPUT} bytes` };
    case 'exit':
      return {
        problem: `${cmd} exited ${r.code}: ${(r.stderr || r.stdout).trim().split('\n')[0]?.slice(0, 200) ?? ''}`,
      };
  }
}
