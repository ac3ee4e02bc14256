// The agent as a real process: its output collected line by line, waits on what it prints.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { CLI, coverageEnv } from './project.js';

export interface AgentProcess {
  child: ChildProcess;
  lines: string[];
  api: Promise<string>;
  /** The first line matching `pattern`, of those from index `since` on (0: every line so far), or one still to come. */
  waitFor(pattern: RegExp, timeoutMs?: number, since?: number): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** `openFiles`: the agent runs under `ulimit -n` that many (as systemd's LimitNOFILE would set). */
export function startAgent(
  args: string[],
  env: Record<string, string> = {},
  options: { openFiles?: number } = {},
): AgentProcess {
  const command =
    options.openFiles === undefined
      ? [process.execPath, CLI, 'agent', ...args]
      : [
          '/bin/sh',
          '-c',
          `ulimit -n ${Math.floor(options.openFiles)} && exec "$@"`,
          'agent',
          process.execPath,
          CLI,
          'agent',
          ...args,
        ];
  const child = spawn(command[0]!, command.slice(1), {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...coverageEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (l: string) => void; from: number }> = [];
  let buffer = '';
  const onData = (chunk: Buffer): void => {
    buffer += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.pattern.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const waitFor = (pattern: RegExp, timeoutMs = 20_000, since = 0): Promise<string> => {
    const seen = lines.slice(since).find((l) => pattern.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${pattern}; output:\n${lines.slice(-30).join('\n')}`)),
        timeoutMs,
      );
      waiters.push({ pattern, from: lines.length, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  };
  return {
    child,
    lines,
    api: waitFor(/API on (http:\/\/\S+)/).then((l) => /API on (http:\/\/\S+)/.exec(l)![1]!),
    waitFor,
    stop: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}

/** The agent following a remote from its settings file, once it has applied the fleet's first commit. */
export async function startFollowing(
  config: string,
  args: string[] = [],
): Promise<{ agent: AgentProcess; api: string }> {
  const agent = startAgent(['--config', config, ...args, '--with-example-pipeline']);
  const api = await agent.api;
  await agent.waitFor(/applied [0-9a-f]{12} "the fleet configuration"/);
  return { agent, api };
}
