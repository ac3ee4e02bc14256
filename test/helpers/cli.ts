// Running the built `gitops` command as a real process.

import { spawnSync } from 'node:child_process';
import { CLI } from './project.js';

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function gitops(args: string[], options: { cwd?: string; env?: Record<string, string>; input?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NO_COLOR: '1', ...options.env },
    input: options.input ?? '',
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
