// `npm run bench`: measures what the issues name, prints a table, writes bench/results.json.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Row } from './measure.js';
import { benchAgent } from './agent.js';
import { benchDiff } from './diff.js';
import { benchHardware } from './hardware.js';
import { benchLeases } from './leases.js';
import { benchSecrets } from './secrets.js';
import { benchStore } from './store.js';
import { benchTrust } from './trust.js';
import { benchValidation } from './validation.js';
import { benchExperiments } from './experiments.js';
import { benchFleetScale } from './fleet-scale.js';
import { benchExperimentReport } from './experiment-report.js';
import { benchTuning } from './tuning.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const cli = join(root, 'dist/scripts/gitops.js');

function table(rows: Row[]): string {
  const lines = [['group', 'measure', 'value', 'target', ''].join(' | ')];
  lines.push('--- | --- | ---: | --- | ---');
  for (const r of rows) {
    const v =
      r.unit === 'req/s' || r.unit === 'bytes' || r.unit === 'count'
        ? r.value.toFixed(0)
        : r.value < 10 || r.unit === 'ratio'
          ? r.value.toFixed(2)
          : r.value.toFixed(1);
    lines.push(
      [
        r.group,
        r.name,
        r.unit === 'ratio' ? v : `${v} ${r.unit}`,
        r.target ?? r.note ?? '',
        r.pass === undefined ? '' : r.pass ? 'ok' : 'MISSED',
      ].join(' | '),
    );
  }
  return lines.join('\n');
}

// every part, by name; `npm run bench -- --only tuning,experiments` runs some (results.json keeps the others' last rows)
const parts: Record<string, () => Row[] | Promise<Row[]>> = {
  validation: () => benchValidation(root, cli),
  hardware: () => benchHardware(root, cli),
  diff: () => benchDiff(root, cli),
  'fleet-size': () => benchFleetScale(root, cli),
  secrets: () => benchSecrets(cli),
  trust: () => benchTrust(cli),
  agent: () => benchAgent(root, cli),
  leases: () => benchLeases(root, cli),
  store: () => benchStore(root, cli),
  experiments: () => benchExperiments(root),
  'experiment-report': () => benchExperimentReport(),
  tuning: () => benchTuning(),
};
const { values } = parseArgs({ options: { only: { type: 'string' } } });
const only = values.only?.split(',').filter(Boolean) ?? Object.keys(parts);
const unknown = only.filter((p) => !(p in parts));
if (unknown.length > 0) {
  process.stderr.write(`bench: no part ${unknown.join(', ')}; parts: ${Object.keys(parts).join(', ')}\n`);
  process.exit(2);
}
const rows: Row[] = [];
for (const name of only) rows.push(...(await parts[name]!()));
const machine = {
  node: process.version,
  cpus: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  memoryGiB: Math.round(totalmem() / 2 ** 30),
};
process.stdout.write(
  `doorbell-gitops benchmark (${machine.cpus} x ${machine.cpu}, Node ${machine.node})\n\n${table(rows)}\n`,
);
// the fleet simulation's figures (npm run fleet-sim) are kept: it runs apart, for minutes
const file = join(root, 'bench/results.json');
const before = existsSync(file)
  ? (JSON.parse(readFileSync(file, 'utf8')) as { fleet_sim?: unknown; rows?: Row[] })
  : {};
const kept = before.fleet_sim;
// with --only, the rows of the parts not run are kept from the last run
const groups = new Set(rows.map((r) => r.group));
const all = values.only ? [...(before.rows ?? []).filter((r) => !groups.has(r.group)), ...rows] : rows;
writeFileSync(
  file,
  JSON.stringify(
    { date: new Date().toISOString(), machine, rows: all, ...(kept ? { fleet_sim: kept } : {}) },
    null,
    2,
  ) + '\n',
);
process.stdout.write('\nwritten: bench/results.json\n');
