// `npm run bench`: measures what the issues name, prints a table, writes bench/results.json.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
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
        : r.value < 10
          ? r.value.toFixed(2)
          : r.value.toFixed(1);
    lines.push(
      [r.group, r.name, `${v} ${r.unit}`, r.target ?? '', r.pass === undefined ? '' : r.pass ? 'ok' : 'MISSED'].join(
        ' | ',
      ),
    );
  }
  return lines.join('\n');
}

const rows: Row[] = [
  ...benchValidation(root, cli),
  ...(await benchHardware(root, cli)),
  ...benchDiff(root, cli),
  ...(await benchSecrets(cli)),
  ...(await benchTrust(cli)),
  ...(await benchAgent(root, cli)),
  ...(await benchLeases(root, cli)),
  ...(await benchStore(root, cli)),
  ...(await benchExperiments(root)),
  ...(await benchExperimentReport()),
  ...benchTuning(),
];
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
const kept = existsSync(file)
  ? (JSON.parse(readFileSync(file, 'utf8')) as { fleet_sim?: unknown }).fleet_sim
  : undefined;
writeFileSync(
  file,
  JSON.stringify({ date: new Date().toISOString(), machine, rows, ...(kept ? { fleet_sim: kept } : {}) }, null, 2) +
    '\n',
);
process.stdout.write('\nwritten: bench/results.json\n');
