// Running the built `gitops` command as a real process.

import { spawn, spawnSync } from 'node:child_process';
import { CLI, coverageEnv } from './project.js';

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The command's environment: only what a test gives it, over a minimal base. */
function cliEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NO_COLOR: '1', ...coverageEnv(), ...extra };
}

export function gitops(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; input?: string } = {},
): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    encoding: 'utf8',
    env: cliEnv(options.env),
    input: options.input ?? '',
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same, without blocking this process: for commands that talk to a server the test runs. */
export function gitopsAsync(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd,
      env: cliEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    // 'close', not 'exit': the output pipes may still hold data when the process has exited (seen under load)
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
