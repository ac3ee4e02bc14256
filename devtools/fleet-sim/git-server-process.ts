// The simulated fleet's git server in a process of its own (devtools/git-server.ts: node's HTTP
// server in front of `git http-backend`, or of `git upload-pack` itself as forges run it), so that its CPU time (its own, and that of every git
// process it ran and reaped) is measured apart from the agents': /proc/<pid>/stat.
// Run as a child: it reports its URL, then its counters whenever asked.

import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT } from '../../agent/daemon/settings.js';
import { startGitServer } from '../git-server.js';

interface Counters {
  requests: number;
  packRequests: number;
  bytesSent: number;
}

export interface GitServerProcess {
  url: string;
  child: ChildProcess;
  counters(): Promise<Counters>;
  /** Serves fetches with `git upload-pack` itself (as forges do) or through `git http-backend`. */
  setDirect(direct: boolean): Promise<void>;
  /** CPU seconds of the server and of the git processes it ran (those reaped so far). */
  cpuSeconds(): number;
  close(): Promise<void>;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** utime + stime + cutime + cstime of a process, in seconds. */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is the state (field 3): utime is field 14, so index 11
  return fields.slice(11, 15).reduce((sum, f) => sum + Number(f), 0) / TICKS_PER_SECOND;
}

export async function startGitServerProcess(root: string): Promise<GitServerProcess> {
  // the built module (under vitest this one is the TypeScript source, which node does not run)
  const built = join(PACKAGE_ROOT, 'dist/devtools/fleet-sim/git-server-process.js');
  const child = fork(built, [root], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`the git server exited (${code}) before it listened`)));
  });
  return {
    url,
    child,
    counters: () =>
      new Promise((resolve) => {
        child.once('message', (m) => resolve(m as Counters));
        child.send('counters');
      }),
    setDirect: (direct) =>
      new Promise((resolve) => {
        child.once('message', () => resolve());
        child.send({ direct });
      }),
    cpuSeconds: () => processCpuSeconds(child.pid!),
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

// the child: serve, report, answer
if (process.argv[1] === fileURLToPath(import.meta.url) && process.send) {
  const server = await startGitServer(process.argv[2]!);
  process.on('message', (m) => {
    if (typeof m === 'object' && m !== null && 'direct' in m) server.direct = Boolean(m.direct);
    const { requests, packRequests, bytesSent } = server;
    process.send!({ requests, packRequests, bytesSent });
  });
  process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
  // a parent that dies (killed, crashed) closes the channel: the server goes with it
  process.on('disconnect', () => process.exit(0));
  process.send({ url: server.url });
}
