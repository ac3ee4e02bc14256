// The load sampler (agent/io/load-signals.ts) on directories laid out like /proc and /sys (some of their
// files real captures from ../shared/fixtures/hardware, read in place), on this machine's own /proc, and
// with nvidia-smi and vcgencmd replaced by small scripts: the real process port runs them. Times are the
// test's own (epoch ms passed in); a test waits for the sampler's tool runs with idle(), never a sleep.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LoadSignals } from '../../agent/io/load-signals.js';
import { readPseudoFile, readRegularFile } from '../../agent/io/safe-read.js';
import { fakeRoot, fakeTools, section, shellQuote } from '../helpers/fake-tools.js';
import { tempDir } from '../helpers/project.js';
import { fixture, HARDWARE_FIXTURES, hasShared } from '../helpers/shared.js';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const PATH_TAIL = '/usr/bin:/bin';
const STAT_1 = 'cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\ncpu1 50 0 25 400 25 0 0 0 0 0\n';
const STAT_2 = 'cpu  250 0 100 900 50 0 0 0 0 0\ncpu0 125 0 50 450 25 0 0 0 0 0\ncpu1 125 0 50 450 25 0 0 0 0 0\n';
const MEMINFO = 'MemTotal:        3880000 kB\nMemFree:          200000 kB\nMemAvailable:     388000 kB\n';

/** A directory of tools where none is installed but those given; `log` collects each call's arguments. */
function tools(scripts: Record<string, string>): { path: string; log: string; calls: () => string[] } {
  const log = join(tempDir('tool-log-'), 'calls');
  writeFileSync(log, '');
  const dir = fakeTools(
    Object.fromEntries(
      Object.entries(scripts).map(([name, body]) => [name, `echo "${name} $*" >> ${shellQuote(log)}\n${body}`]),
    ),
  );
  return {
    path: `${dir}:${PATH_TAIL}`,
    log,
    calls: () => readFileSync(log, 'utf8').split('\n').filter(Boolean),
  };
}
/** A PATH with no nvidia-smi and no vcgencmd. */
const noTools = (): string => `${fakeTools({})}:${PATH_TAIL}`;

describe('files: /proc and /sys under a root', () => {
  it('CPU utilisation as the change between two samples, load per core, memory, the hottest thermal zone', () => {
    const root = fakeRoot({
      'proc/stat': STAT_1,
      'proc/loadavg': '3.00 2.50 2.00 4/321 999\n',
      'proc/meminfo': MEMINFO,
      'sys/class/thermal/thermal_zone0/temp': '44343\n',
      'sys/class/thermal/thermal_zone1/temp': '-256000\n',
      'sys/class/thermal/thermal_zone2/temp': '51250\n',
      'sys/class/thermal/cooling_device0/cur_state': '1\n',
    });
    const sampler = new LoadSignals({ root, path: noTools() });
    const first = sampler.sample(T0);
    // meminfo is read in whole MB: 378 of 3789
    expect(first.values).toEqual({ load_per_core: 1.5, mem_available_ratio: 378 / 3789, soc_temp_c: 51.25 });
    expect(first.unavailable.cpu_utilisation).toBe('cpu_utilisation needs two samples of /proc/stat');
    writeFileSync(join(root, 'proc/stat'), STAT_2);
    const second = sampler.sample(T0 + 1000);
    expect(second.values.cpu_utilisation).toBeCloseTo(200 / 300, 10);
    // no time passed on the CPU counters: the last figure stands
    expect(sampler.sample(T0 + 1001).values.cpu_utilisation).toBeCloseTo(200 / 300, 10);
    expect(second.at).toBe(T0 + 1000);
  });

  it.skipIf(!hasShared)('the meminfo section of the H100 capture as /proc/meminfo', () => {
    const root = fakeRoot({ 'proc/stat': STAT_1, 'proc/loadavg': '0.5 0.5 0.5 1/1 1\n' });
    // the capture bundle holds several sections: its meminfo part is what /proc/meminfo would be
    writeFileSync(join(root, 'proc/meminfo'), section(fixture('h100-ubuntu2404/system.txt'), 'meminfo'));
    const s = new LoadSignals({ root, path: noTools() }).sample(T0);
    expect(s.values.mem_available_ratio).toBeCloseTo(128412 / 128887, 6);
  });

  it('what is missing or not a plain small file is no value, with the reason, and never blocks', () => {
    const root = fakeRoot({ 'proc/meminfo': 'x'.repeat(300 * 1024), 'elsewhere/stat': STAT_1 });
    symlinkSync(join(root, 'elsewhere/stat'), join(root, 'proc/stat'));
    execFileSync('mkfifo', [join(root, 'proc/loadavg')]);
    const s = new LoadSignals({ root, path: noTools() }).sample(T0);
    expect(s.values).toEqual({});
    expect(s.unavailable).toMatchObject({
      cpu_utilisation: '/proc/stat: symlink',
      load_per_core: '/proc/loadavg: not-a-file',
      mem_available_ratio: '/proc/meminfo: file-too-large',
      soc_temp_c: '/sys/class/thermal is absent',
    });
  });

  it.skipIf(!existsSync('/proc/stat'))("this machine's own /proc: pseudo-files fstat calls empty", () => {
    expect(readRegularFile('/proc/stat', 1 << 20)).toMatchObject({ ok: false });
    const r = readPseudoFile('/proc/stat', 1 << 20);
    expect(r.ok && r.bytes.toString('utf8').startsWith('cpu ')).toBe(true);
    expect(readPseudoFile('/proc/stat', 8)).toMatchObject({ ok: false, code: 'file-too-large' });
    const s = new LoadSignals({ path: noTools() }).sample(Date.now());
    expect(s.values.mem_available_ratio).toBeGreaterThan(0);
    expect(s.values.mem_available_ratio).toBeLessThanOrEqual(1);
    expect(s.values.load_per_core).toBeGreaterThanOrEqual(0);
  });
});

describe('nvidia-smi', () => {
  // the idle H100 of the captures: 37 C (nvidia-smi -q), 0 % busy, only the Idle reason active (0x1)
  const idleH100 = `printf '37, 0, 0x0000000000000001\\n'`;

  it('runs in the background at most every interval; its values come with the next sample', async () => {
    const t = tools({ 'nvidia-smi': idleH100 });
    const sampler = new LoadSignals({ root: fakeRoot({}), path: t.path });
    expect(sampler.sample(T0).unavailable.gpu_temp_c).toBe('nvidia-smi has not answered yet');
    await sampler.idle();
    expect(sampler.sample(T0 + 1000).values).toMatchObject({ gpu_temp_c: 37, gpu_utilisation: 0, gpu_throttled: 0 });
    for (let ms = 2000; ms < 5000; ms += 1000) {
      sampler.sample(T0 + ms);
      await sampler.idle();
    }
    expect(t.calls()).toEqual([
      'nvidia-smi --query-gpu=temperature.gpu,utilization.gpu,clocks_throttle_reasons.active --format=csv,noheader,nounits',
    ]);
    sampler.sample(T0 + 5000);
    await sampler.idle();
    expect(t.calls()).toHaveLength(2);
  });

  it('several GPUs: the hottest, the busiest, throttled when one slows down for heat', async () => {
    const t = tools({ 'nvidia-smi': `printf '40, 10, 0x0000000000000000\\n83, 97, 0x0000000000000040\\n'` });
    const sampler = new LoadSignals({ root: fakeRoot({}), path: t.path });
    sampler.sample(T0);
    await sampler.idle();
    expect(sampler.sample(T0 + 1).values).toMatchObject({ gpu_temp_c: 83, gpu_utilisation: 0.97, gpu_throttled: 1 });
  });

  it.skipIf(!hasShared)('a driver that does not know the field by that name: the newer name, then none', async () => {
    const badField = section(fixture('h100-ubuntu2404/nvidia-smi-query.txt'), 'bad field');
    const t = tools({
      'nvidia-smi': `case "$1" in *clocks_*) printf '%s' ${shellQuote(badField)}; exit 2;; esac\nprintf '52, 31\\n'`,
    });
    const sampler = new LoadSignals({ root: fakeRoot({}), path: t.path });
    sampler.sample(T0);
    await sampler.idle();
    const s = sampler.sample(T0 + 1);
    expect(s.values).toMatchObject({ gpu_temp_c: 52, gpu_utilisation: 0.31 });
    expect(s.unavailable.gpu_throttled).toBe('nvidia-smi gave no fresh value');
    expect(t.calls().map((c) => c.split(' ')[1])).toEqual([
      '--query-gpu=temperature.gpu,utilization.gpu,clocks_throttle_reasons.active',
      '--query-gpu=temperature.gpu,utilization.gpu,clocks_event_reasons.active',
      '--query-gpu=temperature.gpu,utilization.gpu',
    ]);
    // it remembers: the next run asks the field set that worked
    sampler.sample(T0 + 5000);
    await sampler.idle();
    expect(t.calls().at(-1)).toContain('--query-gpu=temperature.gpu,utilization.gpu --format');
  });

  it('not installed: asked once, then never again', async () => {
    const dir = fakeTools({});
    const sampler = new LoadSignals({ root: fakeRoot({}), path: `${dir}:${PATH_TAIL}` });
    sampler.sample(T0);
    await sampler.idle();
    expect(sampler.sample(T0 + 1).unavailable).toMatchObject({
      gpu_temp_c: 'nvidia-smi is not installed',
      pi_throttled: 'vcgencmd is not installed',
    });
    // installed later: still not asked (the agent's next start will)
    const log = join(dir, 'log');
    writeFileSync(join(dir, 'nvidia-smi'), `#!/bin/sh\necho called >> ${shellQuote(log)}\n`, { mode: 0o755 });
    sampler.sample(T0 + 60_000);
    await sampler.idle();
    expect(existsSync(log)).toBe(false);
  });

  it.skipIf(!hasShared)('a driver that is not loaded: no value, the reason, and asked less often', async () => {
    const t = tools({
      'nvidia-smi': `cat ${shellQuote(join(HARDWARE_FIXTURES, 'nvidia/nvidia-smi_error_no-driver.txt'))}; exit 9`,
    });
    const sampler = new LoadSignals({ root: fakeRoot({}), path: t.path });
    sampler.sample(T0);
    await sampler.idle();
    expect(sampler.sample(T0 + 1).unavailable.gpu_temp_c).toMatch(
      /^nvidia-smi exited 9: NVIDIA-SMI has failed because it couldn't communicate/,
    );
    // after one failure the interval doubles: not at 5 s, at 10 s
    sampler.sample(T0 + 5000);
    await sampler.idle();
    expect(t.calls()).toHaveLength(1);
    sampler.sample(T0 + 10_000);
    await sampler.idle();
    expect(t.calls()).toHaveLength(2);
  });

  it('a hung nvidia-smi is killed after its timeout, and a sample never waits for it', async () => {
    const flag = join(tempDir('hang-'), 'hang');
    const t = tools({ 'nvidia-smi': `if [ -e ${shellQuote(flag)} ]; then exec sleep 30; fi\n${idleH100}` });
    const sampler = new LoadSignals({ root: fakeRoot({}), path: t.path, toolTimeoutMs: 300 });
    sampler.sample(T0);
    await sampler.idle();
    expect(sampler.sample(T0 + 1).values.gpu_temp_c).toBe(37);
    writeFileSync(flag, '');
    // sample() is synchronous: it returns while the run it started hangs, with the values of the last run
    const during = sampler.sample(T0 + 5000);
    expect(during.values.gpu_temp_c).toBe(37);
    await sampler.idle();
    const after = sampler.sample(T0 + 5001);
    expect(after.values.gpu_temp_c).toBeUndefined();
    expect(after.unavailable.gpu_temp_c).toBe('nvidia-smi did not answer in time');
  });

  it('values go stale 15 s after the run that gave them while no newer run answers', async () => {
    const gate = join(tempDir('gate-'), 'gate');
    const t = tools({ 'nvidia-smi': `while [ -e ${shellQuote(gate)} ]; do sleep 0.05; done\n${idleH100}` });
    const sampler = new LoadSignals({ root: fakeRoot({}), path: t.path, toolTimeoutMs: 60_000 });
    sampler.sample(T0);
    await sampler.idle();
    writeFileSync(gate, '');
    // a run starts at 5 s and hangs at the gate
    expect(sampler.sample(T0 + 5000).values.gpu_temp_c).toBe(37);
    expect(sampler.sample(T0 + 15_000).values.gpu_temp_c).toBe(37);
    const stale = sampler.sample(T0 + 15_001);
    expect(stale.values.gpu_temp_c).toBeUndefined();
    expect(stale.unavailable.gpu_temp_c).toBe('nvidia-smi gave no fresh value');
    rmSync(gate);
    await sampler.idle();
    expect(sampler.sample(T0 + 15_002).values.gpu_temp_c).toBe(37);
  });
});

describe('vcgencmd get_throttled', () => {
  it('1 while the Pi is throttled now, 0 when only the since-boot bits are set', async () => {
    const state = join(tempDir('pi-'), 'throttled');
    writeFileSync(state, 'throttled=0x50005\n');
    const t = tools({ vcgencmd: `cat ${shellQuote(state)}` });
    const sampler = new LoadSignals({ root: fakeRoot({}), path: t.path });
    sampler.sample(T0);
    await sampler.idle();
    expect(sampler.sample(T0 + 1).values.pi_throttled).toBe(1);
    expect(t.calls()).toEqual(['vcgencmd get_throttled']);
    writeFileSync(state, 'throttled=0x50000\n');
    sampler.sample(T0 + 5000);
    await sampler.idle();
    expect(sampler.sample(T0 + 5001).values.pi_throttled).toBe(0);
    writeFileSync(state, 'VCHI initialization failed\n');
    sampler.sample(T0 + 10_000);
    await sampler.idle();
    expect(sampler.sample(T0 + 10_001).unavailable.pi_throttled).toBe(
      'vcgencmd get_throttled gave no throttled=0x... line',
    );
  });
});
