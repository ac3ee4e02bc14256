// The parsers of what the load governor samples: on real captured output where there is some
// (../shared/fixtures/hardware, test/fixtures/device-h100, this machine's own /proc), on the formats the
// kernel and the tools document where there is none (vcgencmd, a throttle mask other than idle).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cpuUtilisation,
  gpuLoadFields,
  parseGetThrottled,
  parseGpuLoad,
  parseLoadavg,
  parseProcStat,
  parseThermalTemp,
  parseThrottleMask,
  ratio,
  THROTTLE_REASONS,
  THROTTLING_MASK,
} from '../../../agent/core/parsers/load.js';
import { parseMeminfo } from '../../../agent/core/parsers/meminfo.js';
import { QUERY_FIELDS } from '../../../agent/core/parsers/nvidia-smi.js';
import { parseTegrastats } from '../../../agent/core/parsers/tegra.js';
import { section } from '../../helpers/fake-tools.js';
import { PROJECT } from '../../helpers/project.js';
import { fixture, hasShared } from '../../helpers/shared.js';

describe('/proc/stat and /proc/loadavg', () => {
  // the kernel's layout (proc(5)): user nice system idle iowait irq softirq steal guest guest_nice
  const before =
    'cpu  100 0 50 800 50 0 0 0 10 0\ncpu0 50 0 25 400 25 0 0 0 5 0\ncpu1 50 0 25 400 25 0 0 0 5 0\nintr 1\n';
  const after =
    'cpu  250 0 100 900 50 0 0 0 40 0\ncpu0 125 0 50 450 25 0 0 0 20 0\ncpu1 125 0 50 450 25 0 0 0 20 0\nintr 2\n';

  it('CPU time: busy share between two readings, guest time counted once (inside user)', () => {
    const a = parseProcStat(before)!;
    const b = parseProcStat(after)!;
    expect(a).toEqual({ total: 1000, idle: 850, cpus: 2 });
    expect(b).toEqual({ total: 1300, idle: 950, cpus: 2 });
    expect(cpuUtilisation(a, b)).toBeCloseTo(200 / 300, 10);
    expect(cpuUtilisation(a, a)).toBeNull();
    expect(cpuUtilisation(b, a)).toBeNull();
    // an old kernel's four columns still read
    expect(parseProcStat('cpu 1 2 3 4\n')).toEqual({ total: 10, idle: 4, cpus: 1 });
    expect(parseProcStat('intr 1\n')).toBeNull();
    expect(parseProcStat('')).toBeNull();
  });

  it.skipIf(!existsSync('/proc/stat'))("reads this machine's own /proc/stat and /proc/loadavg", () => {
    const stat = parseProcStat(readFileSync('/proc/stat', 'utf8'))!;
    expect(stat.cpus).toBeGreaterThanOrEqual(1);
    expect(stat.total).toBeGreaterThan(stat.idle);
    const load = parseLoadavg(readFileSync('/proc/loadavg', 'utf8'))!;
    expect(load.one).toBeGreaterThanOrEqual(0);
  });

  it('load averages', () => {
    expect(parseLoadavg('4.78 4.19 3.21 6/135 1307\n')).toEqual({ one: 4.78, five: 4.19, fifteen: 3.21 });
    expect(parseLoadavg('0.00 0.01 0.05')).toEqual({ one: 0, five: 0.01, fifteen: 0.05 });
    expect(parseLoadavg('garbage')).toBeNull();
  });
});

describe('thermal zones', () => {
  it('millidegrees to degrees; the "no sensor" readings are no value', () => {
    expect(parseThermalTemp('44343\n')).toBe(44.343);
    expect(parseThermalTemp('-256000\n')).toBeNull();
    expect(parseThermalTemp('200000')).toBeNull();
    expect(parseThermalTemp('N/A')).toBeNull();
    expect(parseThermalTemp('')).toBeNull();
  });

  it.skipIf(!hasShared)("a zone at the captured Jetson's tj reads as tegrastats printed it", () => {
    const tj = parseTegrastats(fixture('jetson/tegrastats_agx-orin-64gb.txt')).temperaturesC.tj!;
    expect(parseThermalTemp(`${Math.round(tj * 1000)}\n`)).toBe(tj);
  });
});

describe.skipIf(!hasShared)('memory', () => {
  it('available over total, from the H100 capture', () => {
    const m = parseMeminfo(section(fixture('h100-ubuntu2404/system.txt'), 'meminfo'));
    expect(ratio(m.availableMb, m.totalMb)).toBeCloseTo(128412 / 128887, 6);
    expect(ratio(null, 1)).toBeNull();
    expect(ratio(1, 0)).toBeNull();
  });
});

describe('nvidia-smi', () => {
  const h100 = readFileSync(join(PROJECT, 'test/fixtures/device-h100/probe-commands.txt'), 'utf8');

  it('temperature and utilisation of the captured H100 query, by the field order asked', () => {
    expect(parseGpuLoad(section(h100, 'query'), QUERY_FIELDS)).toEqual({
      gpus: [{ temperatureC: 30, utilisation: 0, throttleMask: null }],
    });
  });

  it.skipIf(!hasShared)('the RTX 2080 capture (86 % busy), the bad-field answer and the no-driver answer', () => {
    const rtx = fixture('nvidia/nvidia-smi_query-gpu_rtx-2080_noheader-nounits.csv');
    // the field order of its command (MANIFEST.md)
    const fields = [
      ...[
        'power.limit',
        'power.min_limit',
        'power.max_limit',
        'memory.total',
        'vbios_version',
        'driver_version',
        'name',
      ],
      ...['gpu_uuid', 'power.draw', 'temperature.gpu', 'temperature.memory', 'clocks.current.graphics', 'clocks.sm'],
      ...['clocks.mem', 'utilization.gpu', 'utilization.memory', 'fan.speed', 'pcie.link.width.current', 'pstate'],
    ];
    expect(parseGpuLoad(rtx, fields)).toEqual({ gpus: [{ temperatureC: 45, utilisation: 0.86, throttleMask: null }] });
    const bad = section(fixture('h100-ubuntu2404/nvidia-smi-query.txt'), 'bad field');
    expect(parseGpuLoad(bad, gpuLoadFields('clocks_throttle_reasons.active'))).toEqual({
      gpus: [],
      error: 'invalid-field',
    });
    expect(parseGpuLoad(fixture('nvidia/nvidia-smi_error_no-driver.txt'), gpuLoadFields(undefined))).toEqual({
      gpus: [],
      error: 'driver-not-loaded',
    });
  });

  it('the throttle reasons: a mask per GPU, and which of them mean power or heat', () => {
    const fields = gpuLoadFields('clocks_throttle_reasons.active');
    expect(fields).toEqual(['temperature.gpu', 'utilization.gpu', 'clocks_throttle_reasons.active']);
    expect(parseGpuLoad('37, 0, 0x0000000000000001\n81, 97, 0x0000000000000044\n', fields).gpus).toEqual([
      { temperatureC: 37, utilisation: 0, throttleMask: 0x1 },
      { temperatureC: 81, utilisation: 0.97, throttleMask: 0x44 },
    ]);
    expect(parseGpuLoad('[N/A], [N/A], [N/A]\n', fields).gpus).toEqual([
      { temperatureC: null, utilisation: null, throttleMask: null },
    ]);
    expect(parseThrottleMask('0x0000000000000020')).toBe(THROTTLE_REASONS.sw_thermal_slowdown);
    expect(parseThrottleMask('N/A')).toBeNull();
    expect(0x44 & THROTTLING_MASK).not.toBe(0);
    expect(0x1 & THROTTLING_MASK).toBe(0);
    expect(parseGpuLoad('', fields)).toEqual({ gpus: [] });
  });

  it.skipIf(!hasShared)('the reasons are the nine nvidia-smi -q -x names; the idle H100 is not throttled', () => {
    const xml = fixture('h100-ubuntu2404/nvidia-smi-q.xml');
    const reasons = [...xml.matchAll(/<clocks_event_reason_([a-z_]+)>([^<]*)</g)].map((m) => [m[1]!, m[2]!] as const);
    expect(reasons.map(([name]) => name).sort()).toEqual(Object.keys(THROTTLE_REASONS).sort());
    const mask = reasons
      .filter(([, state]) => state === 'Active')
      .reduce((m, [name]) => m | THROTTLE_REASONS[name as keyof typeof THROTTLE_REASONS], 0);
    expect(mask).toBe(THROTTLE_REASONS.gpu_idle);
    expect(mask & THROTTLING_MASK).toBe(0);
  });
});

describe('vcgencmd get_throttled', () => {
  // the Raspberry Pi documentation's bits: 0 under-voltage, 1 frequency capped, 2 throttled, 3 soft
  // temperature limit; 16..19 the same since boot
  it('splits what holds now from what happened since boot', () => {
    expect(parseGetThrottled('throttled=0x50005\n')).toEqual({ now: 0x5, sinceBoot: 0x5 });
    expect(parseGetThrottled('throttled=0x50000\n')).toEqual({ now: 0, sinceBoot: 0x5 });
    expect(parseGetThrottled('throttled=0x0\n')).toEqual({ now: 0, sinceBoot: 0 });
    expect(parseGetThrottled('VCHI initialization failed\n')).toBeNull();
  });
});
