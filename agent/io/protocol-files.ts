// Reading and writing the component protocol's files (agent/core/contracts/protocol.ts), for
// both ends: the agent's delivery and the component library.

import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { MAX_PROTOCOL_FILE } from '../core/contracts/protocol.js';

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
