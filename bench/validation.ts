// Validation figures (issue: configuration repository): each environment and device in process
// (warm, median of many runs), the whole repository in process, and `gitops validate` as a cold
// process with and without the compiled-schema cache.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clearDocumentMemo } from '../agent/core/repo/documents.js';
import { listDevices, listEnvironments } from '../agent/core/repo/layout.js';
import { validateRepository } from '../agent/core/validate/validate.js';
import { readWorkingTree } from '../agent/io/repo-files.js';
import { timeInProcess, timeProcess } from './measure.js';
import type { Row } from './measure.js';

export function benchValidation(root: string, cli: string): Row[] {
  const rows: Row[] = [];
  const files = readWorkingTree(root);
  const group = 'validate';
  for (const env of listEnvironments(files)) {
    for (const device of listDevices(files, env)) {
      const ms = timeInProcess(() => validateRepository(files, { environments: [env], devices: [device] }), 200);
      rows.push({ group, name: `in process, warm: ${env}/${device}`, value: ms, unit: 'ms' });
    }
  }
  const whole = timeInProcess(() => validateRepository(files), 200);
  rows.push({
    group,
    name: 'in process, warm: whole repository',
    value: whole,
    unit: 'ms',
    target: '< 20 ms',
    pass: whole < 20,
  });
  const reparsed = timeInProcess(() => {
    clearDocumentMemo();
    validateRepository(files);
  }, 100);
  rows.push({
    group,
    name: 'in process, warm, every file re-parsed',
    value: reparsed,
    unit: 'ms',
    target: '< 20 ms',
    pass: reparsed < 20,
  });

  const cache = mkdtempSync(join(tmpdir(), 'bench-cache-'));
  try {
    const env = { ...process.env, DOORBELL_GITOPS_CACHE: cache, NO_COLOR: '1' };
    timeProcess([process.execPath, cli, 'validate'], 1, { cwd: root, env }); // fills the cache
    const cold = timeProcess([process.execPath, cli, 'validate'], 15, { cwd: root, env });
    rows.push({
      group,
      name: '`gitops validate` cold process (schema cache warm)',
      value: cold,
      unit: 'ms',
      target: '< 400 ms',
      pass: cold < 400,
    });
    const coldest = timeProcess([process.execPath, cli, 'validate'], 8, {
      cwd: root,
      env,
      before: () => rmSync(cache, { recursive: true, force: true }),
    });
    rows.push({
      group,
      name: '`gitops validate` cold process, no schema cache',
      value: coldest,
      unit: 'ms',
      target: '< 400 ms',
      pass: coldest < 400,
    });
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
  return rows;
}
