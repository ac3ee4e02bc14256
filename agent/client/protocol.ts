// The file protocol between the agent and a component that embeds agent/client. Per component
// a directory holds, each file written atomically:
//   proposed.json  agent -> component: a configuration to judge   {generation, commit, sections}
//   verdict.json   component -> agent: accept or veto with reason  {generation, accept, reason}
//   config.json    agent -> component: the configuration to run     {generation, commit, sections}
//   health.json    component -> agent: how it runs                  {generation, healthy, reason, time}
// Both ends read and write them with the two functions at the end of this file.

import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Proposal {
  generation: number;
  commit: string;
  sections: Record<string, unknown>;
}

export interface Verdict {
  generation: number;
  accept: boolean;
  reason?: string;
}

export interface Health {
  generation: number;
  healthy: boolean;
  reason?: string;
  time: string;
}

export const FILES = {
  proposed: 'proposed.json',
  verdict: 'verdict.json',
  config: 'config.json',
  health: 'health.json',
} as const;

/** A protocol file larger than this is not read (a component gone wrong cannot fill the agent's memory). */
export const MAX_PROTOCOL_FILE = 4 * 1024 * 1024;

/**
 * Writes one protocol file atomically (temp file named for this process, then rename). On a
 * full disk it throws and leaves the previous file as it was, and no temp file behind.
 */
export function writeProtocolFile(dir: string, name: string, value: unknown): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${name}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, JSON.stringify(value) + '\n', { mode: 0o600 });
    renameSync(tmp, join(dir, name));
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** One protocol file, or undefined while it is absent, being replaced, oversized or not JSON. */
export function readProtocolFile<T>(dir: string, name: string): T | undefined {
  try {
    const path = join(dir, name);
    if (statSync(path).size > MAX_PROTOCOL_FILE) return undefined;
    const value = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as T) : undefined;
  } catch {
    return undefined;
  }
}
