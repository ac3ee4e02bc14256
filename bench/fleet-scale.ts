// The fleet-size table (issue 17): `gitops validate` and `gitops diff` as processes on generated
// fleets of 10, 100, 1,000 and 10,000 devices (devtools/fleet-gen.ts: three environments, both
// hardware models), wall time and peak resident memory, for a change of one base value (every
// device) and of one device file; beside the floor measured in the same run: a bare `node`, and
// parsing every file of the fleet with the `yaml` package in one process. The growth exponent is
// the slope of log(time) over log(devices) between the two largest fleets.
// BENCH_FLEET_SIZES=10,100 picks other sizes.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { generateFleet } from '../devtools/fleet-gen.js';
import { median } from './measure.js';
import type { Row } from './measure.js';

/** Wall milliseconds and peak RSS (MB) of a process, by a preload that reports the process's own maximum at exit. */
function measured(argv: string[], cwd: string, preload: string, runs: number): { ms: number; mb: number } {
  const ms: number[] = [];
  const mb: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['--require', preload, ...argv], {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
      maxBuffer: 256 * 1024 * 1024,
    });
    ms.push(performance.now() - t0);
    const peak = /peak-rss-kb (\d+)/.exec(r.stderr);
    if (r.status !== 0 || !peak) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr.slice(-800)}`);
    mb.push(Number(peak[1]) / 1024);
  }
  return { ms: median(ms), mb: median(mb) };
}

export function benchFleetScale(root: string, cli: string): Row[] {
  const sizes = (process.env.BENCH_FLEET_SIZES ?? '10,100,1000,10000').split(',').map(Number);
  const dir = mkdtempSync(join(tmpdir(), 'bench-fleet-'));
  const preload = join(dir, 'peak-rss.cjs');
  writeFileSync(
    preload,
    "process.on('exit', () => process.stderr.write('\\npeak-rss-kb ' + process.resourceUsage().maxRSS + '\\n'));\n",
  );
  const yamlPath = createRequire(join(root, 'package.json')).resolve('yaml');
  const rows: Row[] = [];
  const group = 'fleet size';
  const row = (name: string, value: number, unit: Row['unit'], note?: string): void =>
    void rows.push({ group, name, value, unit, ...(note ? { note } : {}) });
  try {
    const bare = measured(['-e', ''], dir, preload, 5);
    row('bare `node -e ""`: wall', bare.ms, 'ms');
    row('bare `node -e ""`: peak RSS', bare.mb, 'MB');
    const series: Record<string, Array<[number, number]>> = {};
    const add = (key: string, devices: number, ms: number): void => void (series[key] ??= []).push([devices, ms]);
    for (const n of sizes) {
      const fleet = generateFleet(root, join(dir, `fleet-${n}`), n);
      const devices = n + 4; // the example's own four
      const runs = n >= 10_000 ? 1 : n >= 1000 ? 2 : 3;
      const floor = measured(
        [
          '-e',
          `const { parseDocument } = require(${JSON.stringify(yamlPath)}); const fs = require('node:fs');` +
            " const files = require('node:child_process').execFileSync('git', ['ls-files', '*.yaml'], { encoding: 'utf8', maxBuffer: 1 << 28 });" +
            " for (const f of files.split('\\n').filter(Boolean)) parseDocument(fs.readFileSync(f, 'utf8'));",
        ],
        fleet.repo,
        preload,
        runs,
      );
      const validate = measured([cli, 'validate', '--output', 'json'], fleet.repo, preload, runs);
      const first = fleet.devices.production![0]!;
      const oneDevice = measured(
        [cli, 'validate', '--env', 'production', '--device', first, '--output', 'json'],
        fleet.repo,
        preload,
        runs,
      );
      fleet.edit('config/motion.yaml', 'sensitivity: 0.6', 'sensitivity: 0.7');
      fleet.commit('one base value, every device');
      const all = measured([cli, 'diff', '--head', 'HEAD', '--output', 'json'], fleet.repo, preload, runs);
      const one = join('environments/production/devices', `${first}.yaml`);
      fleet.edit(one, /\n$/, '\nstorage:\n  retention_days: 9\n');
      fleet.commit('one device file');
      const single = measured([cli, 'diff', '--head', 'HEAD', '--output', 'json'], fleet.repo, preload, runs);
      const at = `${devices} devices`;
      row(`${at}: parse every YAML file (the floor), wall`, floor.ms, 'ms');
      row(`${at}: gitops validate, wall`, validate.ms, 'ms', `${(validate.ms / floor.ms).toFixed(1)}x the parse floor`);
      row(`${at}: gitops validate, peak RSS`, validate.mb, 'MB');
      row(`${at}: gitops validate --device D (one production device), wall`, oneDevice.ms, 'ms');
      row(`${at}: gitops diff, one base value (every device), wall`, all.ms, 'ms');
      row(`${at}: gitops diff, one base value, peak RSS`, all.mb, 'MB');
      row(
        `${at}: gitops diff, one device file, wall`,
        single.ms,
        'ms',
        `${(single.ms / all.ms).toFixed(2)} of the all-device change`,
      );
      row(`${at}: gitops diff, one device file, peak RSS`, single.mb, 'MB');
      add('parse floor', devices, floor.ms);
      add('validate', devices, validate.ms);
      add('validate --device D', devices, oneDevice.ms);
      add('diff, every device', devices, all.ms);
      add('diff, one device', devices, single.ms);
      rmSync(fleet.repo, { recursive: true, force: true });
    }
    for (const [key, points] of Object.entries(series)) {
      if (points.length < 2) continue;
      // the two largest fleets: at the small ones a process's start-up is most of the time
      const [d0, t0] = points.at(-2)!;
      const [d1, t1] = points.at(-1)!;
      const exponent = Math.log(t1 / t0) / Math.log(d1 / d0);
      rows.push({ group, name: `growth exponent, ${key} (${d0} to ${d1} devices)`, value: exponent, unit: 'ratio' });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
