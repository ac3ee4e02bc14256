// Diff figures (issue: pull requests): `gitops diff` of the example repository as a process,
// and of a generated repository with 500 devices.

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { timeProcess } from './measure.js';
import type { Row } from './measure.js';

export function benchDiff(root: string, cli: string): Row[] {
  const dir = mkdtempSync(join(tmpdir(), 'bench-diff-'));
  const env = {
    ...process.env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'b',
    GIT_AUTHOR_EMAIL: 'b@x',
    GIT_COMMITTER_NAME: 'b',
    GIT_COMMITTER_EMAIL: 'b@x',
  };
  const git = (repo: string, ...a: string[]): void => void execFileSync('git', a, { cwd: repo, env, stdio: 'ignore' });
  const make = (name: string, devices: number): string => {
    const repo = join(dir, name);
    execFileSync('git', ['init', '-q', '-b', 'main', repo], { env });
    for (const sub of ['config', 'environments', 'schemas', '.sops.yaml'])
      cpSync(join(root, sub), join(repo, sub), { recursive: true });
    const template = readFileSync(join(root, 'environments/production/devices/prod-hamburg-002.yaml'), 'utf8');
    for (let i = 0; i < devices; i++) {
      const id = `prod-gen-${String(i).padStart(4, '0')}`;
      writeFileSync(
        join(repo, `environments/production/devices/${id}.yaml`),
        template.replace('id: prod-hamburg-002', `id: ${id}`),
      );
    }
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'base');
    const f = join(repo, 'config/motion.yaml');
    writeFileSync(f, readFileSync(f, 'utf8').replace('sensitivity: 0.6', 'sensitivity: 0.7'));
    git(repo, 'commit', '-q', '-am', 'head');
    return repo;
  };
  try {
    const example = make('example', 0);
    const big = make('big', 500);
    const small = timeProcess([process.execPath, cli, 'diff', '--root', example], 5);
    const large = timeProcess([process.execPath, cli, 'diff', '--root', big], 3);
    return [
      {
        group: 'diff',
        name: '`gitops diff` of the example repository (4 devices), process',
        value: small,
        unit: 'ms',
        target: '< 1000 ms',
        pass: small < 1000,
      },
      {
        group: 'diff',
        name: '`gitops diff` of a generated repository with 500 devices, process',
        value: large,
        unit: 'ms',
        target: '< 5000 ms',
        pass: large < 5000,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
