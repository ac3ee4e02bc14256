// Experiment assignment (issue 16): the cost of assigning one device (namespace, coverage gate and
// variant split: three hashes), in process over 100,000 ids; then `assign` and the experiment
// checks of validation over an environment of 1,000 devices (the example's production, grown).

import { assignDevice } from '../agent/core/experiments/assign.js';
import { checkExperiments } from '../agent/core/experiments/check.js';
import { assignFleet } from '../agent/core/experiments/fleet.js';
import { readExperiment } from '../agent/core/experiments/read.js';
import { openRepository } from '../agent/core/repo/repository.js';
import { readWorkingTree } from '../agent/io/repo-files.js';
import { timeInProcess } from './measure.js';
import type { Row } from './measure.js';

const DEVICES = 1000;

export async function benchExperiments(root: string): Promise<Row[]> {
  const group = 'experiments';
  const rows: Row[] = [];
  const ids = Array.from({ length: 100_000 }, (_, i) => `door-${i.toString().padStart(6, '0')}`);
  const plan = {
    seed: 'motion-sensitivity-1',
    hashVersion: 2 as const,
    coverage: 0.5,
    weights: [0.5, 0.5],
    namespace: { name: 'motion', range: [0, 0.5] as const },
    running: true,
  };
  let sink = 0;
  const ms = timeInProcess(
    () => {
      for (const id of ids) sink += assignDevice(plan, id).bucket;
    },
    20,
    3,
  );
  rows.push({
    group,
    name: 'assignment of one device (namespace, gate, split)',
    value: (ms * 1000) / ids.length,
    unit: 'µs',
    target: '< 10 µs',
    pass: (ms * 1000) / ids.length < 10,
    note: `median of 20 runs over ${ids.length} ids (checksum ${sink.toFixed(0)})`,
  });

  // the example repository with its production environment grown to 1,000 devices
  const files = readWorkingTree(root);
  const template = files.get('environments/production/devices/prod-hamburg-002.yaml')!;
  for (let i = 0; i < DEVICES - 2; i++) {
    const id = `prod-extra-${i}`;
    files.set(`environments/production/devices/${id}.yaml`, template.replaceAll('prod-hamburg-002', id));
  }
  const repo = openRepository(files);
  const read = readExperiment(repo, 'motion-sensitivity');
  if (read.kind !== 'read') throw new Error('bench: the example experiment does not read');
  const fleetMs = timeInProcess(() => void assignFleet(repo, read.experiment), 50, 5);
  rows.push({
    group,
    name: `assign: every device of ${DEVICES}`,
    value: fleetMs,
    unit: 'ms',
    target: '< 50 ms',
    pass: fleetMs < 50,
  });
  const checkMs = timeInProcess(() => void checkExperiments(repo, ['production']), 10, 2);
  rows.push({
    group,
    name: `validation's experiment checks, ${DEVICES} devices (bounds per device)`,
    value: checkMs,
    unit: 'ms',
    target: '< 500 ms',
    pass: checkMs < 500,
  });
  return rows;
}
