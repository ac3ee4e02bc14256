// Hardware figures (issue: hardware): parsing every captured fixture, and a full probe of this
// machine, in process (slowest step named) and as a `gitops hardware probe` process.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PARSERS } from '../agent/core/parsers/index.js';
import { probeFacts } from '../agent/io/hardware-probe.js';
import { median, timeInProcess, timeProcess } from './measure.js';
import type { Row } from './measure.js';

/** Which parser reads which fixture folder's files (by name). */
function kindOf(name: string): string | undefined {
  if (name.startsWith('nvidia-smi_query')) return 'nvidia-smi-csv';
  if (name.startsWith('nvidia-smi')) return 'nvidia-smi';
  if (name.startsWith('proc_driver_nvidia_version')) return 'nvidia-proc-version';
  if (name.startsWith('nv_tegra_release')) return 'tegra-release';
  if (name.startsWith('tegrastats')) return 'tegrastats';
  if (name.startsWith('lsusb')) return 'lsusb';
  if (name.startsWith('vainfo')) return 'vainfo';
  if (name.startsWith('dmesg_hailo')) return 'hailo-dmesg';
  if (name.includes('list-formats-ext')) return 'v4l2-formats';
  if (name.includes('list-devices')) return 'v4l2-devices';
  if (name.includes('ffprobe')) return 'ffprobe';
  if (name === 'nvidia-smi-q.txt') return 'nvidia-smi-q';
  if (name === 'nvidia-smi-q.xml') return 'nvidia-smi-xml';
  return undefined;
}

export async function benchHardware(root: string, cli: string): Promise<Row[]> {
  const rows: Row[] = [];
  const group = 'hardware';
  const fixtures = join(root, '../shared/fixtures/hardware');
  if (existsSync(fixtures)) {
    const inputs = readdirSync(fixtures, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => ({ kind: kindOf(e.name), text: readFileSync(join(e.parentPath, e.name), 'utf8') }))
      .filter((x): x is { kind: string; text: string } => x.kind !== undefined);
    const ms = timeInProcess(() => {
      for (const { kind, text } of inputs) PARSERS[kind]!.parse(text, {});
    }, 200);
    rows.push({ group, name: `parse all ${inputs.length} captured fixtures`, value: ms, unit: 'ms' });
  } else {
    rows.push({ group, name: 'parse fixtures: ../shared absent, skipped', value: 0, unit: 'ms' });
  }
  const probes: number[] = [];
  let slowest = { name: '', ms: 0 };
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    const { steps } = await probeFacts({ storagePath: '/var/lib/doorbell' });
    probes.push(performance.now() - t0);
    for (const [name, ms] of Object.entries(steps)) if (ms > slowest.ms) slowest = { name, ms };
  }
  const inProcess = median(probes);
  rows.push({
    group,
    name: 'full probe of this machine, in process',
    value: inProcess,
    unit: 'ms',
    target: '< 1000 ms',
    pass: inProcess < 1000,
  });
  rows.push({
    group,
    name: `slowest probe step seen (${slowest.name})`,
    value: slowest.ms,
    unit: 'ms',
    target: '<= its timeout (5000 ms)',
    pass: slowest.ms <= 5000,
  });
  const proc = timeProcess([process.execPath, cli, 'hardware', 'probe'], 10, { cwd: root });
  rows.push({
    group,
    name: '`gitops hardware probe` process',
    value: proc,
    unit: 'ms',
    target: '< 1000 ms',
    pass: proc < 1000,
  });
  return rows;
}
