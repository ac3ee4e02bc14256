// The agent's own settings (agent.yaml, schemas/agent.schema.json): checked at start; an
// unknown or invalid setting stops the agent with a clear message.

import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { GitopsError } from '../core/errors.js';
import type { FollowSettings } from '../core/rollout/follow.js';
import { formatText } from '../core/format/diagnostics.js';
import { schemaDiagnostics } from '../core/schema/diagnostics.js';
import { loadSchemas } from '../core/schema/schema-set.js';
import { indexPositions, locate, parseSource } from '../core/repo/yaml-source.js';
import { readWorkingTree } from '../io/repo-files.js';
import { readRegularFile } from '../io/safe-read.js';

/** agent.yaml is a few hundred bytes; a file named by mistake is not read whole. */
const MAX_SETTINGS_BYTES = 1024 * 1024;

export interface AgentSettings {
  version: number;
  remote: {
    url: string;
    branch: string;
    token_file?: string;
    max_fetch_mb: number;
    fetch_timeout_seconds: number;
    /** auto: the wave's ref when the environment declares a rollout (or `wave` is set); branch: never. */
    follow: 'auto' | 'branch';
    /** An explicit wave, instead of the one derived from the rollout, cohort and id. */
    wave?: string;
  };
  environment: string;
  device_id: string;
  age_identity_file?: string;
  trust: { dir: string; mode: 'all' | 'first-parent'; anchor_commit?: string };
  state_dir: string;
  poll_interval_seconds: number;
  api: { listen: string; tokens_file?: string; allow_loopback_reads: boolean; mutations_per_minute: number };
  hardware_profile_file?: string;
  telemetry?: { remote_write?: RemoteWriteSettings };
}

export interface RemoteWriteSettings {
  url: string;
  token_file?: string;
  interval_seconds: number;
  timeout_seconds: number;
  max_queue: number;
  labels: Record<string, string>;
}

const HERE = dirname(fileURLToPath(import.meta.url));
/**
 * The product's own files (its schemas, the status page, the example pipeline), not the
 * configuration repository's: two levels above this file, three when it runs built from dist/.
 */
export const PACKAGE_ROOT = resolve(HERE, basename(resolve(HERE, '../..')) === 'dist' ? '../../..' : '../..');

export function loadSettings(file: string): AgentSettings {
  const read = readRegularFile(file, MAX_SETTINGS_BYTES, { followLinks: true });
  if (!read.ok)
    throw new GitopsError(
      'settings-unreadable',
      `cannot read the agent settings ${file}: ${read.errno ?? read.code}`,
      'pass --config with the path of agent.yaml',
    );
  const text = read.bytes.toString('utf8');
  const source = parseSource(file, text);
  if (!source.doc || source.diagnostics.some((d) => d.severity === 'error'))
    throw new GitopsError(
      'settings-invalid',
      `the agent settings are not valid YAML:\n${formatText(source.diagnostics)}`,
      'fix agent.yaml',
    );
  const value = parse(text) as Record<string, unknown>;
  const { set } = loadSchemas(readWorkingTree(PACKAGE_ROOT));
  const errors = set?.validate('agent', value) ?? [];
  if (errors.length > 0) {
    const positions = indexPositions(source.doc, source.lineCounter);
    const diags = schemaDiagnostics(
      errors,
      (pointer, preferKey) => ({ file, ...(locate(positions, pointer, preferKey) ?? {}) }),
      { scope: 'agent settings' },
    );
    throw new GitopsError(
      'settings-invalid',
      `the agent settings are invalid; the agent does not start:\n${formatText(diags)}`,
      'fix agent.yaml (schemas/agent.schema.json describes every setting)',
    );
  }
  const base = dirname(resolve(file));
  const abs = (p: string): string => (isAbsolute(p) ? p : join(base, p));
  const v = value as unknown as AgentSettings;
  return {
    ...v,
    remote: {
      ...v.remote,
      branch: v.remote.branch ?? 'main',
      max_fetch_mb: v.remote.max_fetch_mb ?? 64,
      fetch_timeout_seconds: v.remote.fetch_timeout_seconds ?? 60,
      follow: v.remote.follow ?? 'auto',
    },
    trust: { ...v.trust, mode: v.trust.mode ?? 'all', dir: abs(v.trust.dir) },
    state_dir: abs(v.state_dir),
    poll_interval_seconds: v.poll_interval_seconds ?? 60,
    api: {
      ...v.api,
      listen: v.api?.listen ?? '127.0.0.1:8420',
      allow_loopback_reads: v.api?.allow_loopback_reads ?? true,
      mutations_per_minute: v.api?.mutations_per_minute ?? 30,
      ...(v.api?.tokens_file ? { tokens_file: abs(v.api.tokens_file) } : {}),
    },
    ...(v.age_identity_file ? { age_identity_file: abs(v.age_identity_file) } : {}),
    ...(v.hardware_profile_file ? { hardware_profile_file: abs(v.hardware_profile_file) } : {}),
    ...(v.telemetry?.remote_write ? { telemetry: { remote_write: remoteWrite(v.telemetry.remote_write) } } : {}),
  };
}

function remoteWrite(w: Partial<RemoteWriteSettings> & { url: string }): RemoteWriteSettings {
  return {
    ...w,
    interval_seconds: w.interval_seconds ?? 30,
    timeout_seconds: w.timeout_seconds ?? 10,
    max_queue: w.max_queue ?? 120,
    labels: w.labels ?? {},
  };
}

/** What the device's settings say about the ref it follows (core/rollout/follow.ts). */
export const followSettings = (s: AgentSettings): FollowSettings => ({
  environment: s.environment,
  device: s.device_id,
  branch: s.remote.branch,
  follow: s.remote.follow,
  wave: s.remote.wave,
});
