// The agent settings of the bench doorbell (development/dev-bench-01, a recorded C920 profile)
// following a loopback remote: shared by the benchmarks, the demo and the tests.

import { join } from 'node:path';

/**
 * The environment the systemd unit gives the agent (agent/doorbell-agent.service): the bench
 * measures the agent as installed. A small young generation and a bounded old one; one malloc
 * arena, and blocks from 32 KiB up mapped on their own so that they go back to the system when
 * freed (compiler zones and zlib buffers otherwise stay resident after the first apply).
 */
export const AGENT_ENV = {
  NODE_OPTIONS: '--max-semi-space-size=1 --max-old-space-size=64',
  MALLOC_ARENA_MAX: '1',
  MALLOC_MMAP_THRESHOLD_: '32768',
} as const;

export interface BenchDevice {
  /** The project root (keys and hardware profiles come from its example repository). */
  root: string;
  url: string;
  trustDir: string;
  anchor: string;
  stateDir: string;
  tokensFile: string;
  device?: string;
  pollSeconds?: number;
  listen?: string;
  mutationsPerMinute?: number;
  /** Extra settings of `remote:` as YAML flow entries, e.g. `wave: canary` or `follow: branch`. */
  remote?: Record<string, string>;
  /** telemetry.remote_write: where and how often the agent pushes its metrics. */
  telemetry?: { url: string; interval_seconds?: number; token_file?: string; labels?: Record<string, string> };
}

/** telemetry.remote_write as one YAML flow mapping (JSON is YAML). */
const telemetryLine = (t: BenchDevice['telemetry']): string[] =>
  t ? [`telemetry: { remote_write: ${JSON.stringify(t)} }`] : [];

export function benchDeviceSettings(o: BenchDevice): string {
  return [
    'version: 2',
    `remote: { url: "${o.url}", branch: main${Object.entries(o.remote ?? {})
      .map(([k, v]) => `, ${k}: ${v}`)
      .join('')} }`,
    'environment: development',
    `device_id: ${o.device ?? 'dev-bench-01'}`,
    `age_identity_file: ${join(o.root, 'environments/development/keys/dev-bench-01.agekey')}`,
    `trust: { dir: "${o.trustDir}", mode: all, anchor_commit: ${o.anchor} }`,
    `state_dir: ${o.stateDir}`,
    `poll_interval_seconds: ${o.pollSeconds ?? 3600}`,
    `api: { listen: "${o.listen ?? '127.0.0.1:0'}", tokens_file: "${o.tokensFile}", mutations_per_minute: ${o.mutationsPerMinute ?? 600} }`,
    `hardware_profile_file: ${join(o.root, 'config/hardware/edge-p4-c920.yaml')}`,
    ...telemetryLine(o.telemetry),
    '',
  ].join('\n');
}

/** The arguments of `gitops agent` in watch mode on `repo` as the bench doorbell, its API on a free loopback port. */
export function benchWatchArgs(root: string, repo: string, stateDir: string, extra: readonly string[] = []): string[] {
  return [
    ...['--watch', repo, '--env', 'development', '--device', 'dev-bench-01'],
    ...['--identity', join(root, 'environments/development/keys/dev-bench-01.agekey')],
    ...['--hardware-profile', 'recorded', '--state', stateDir, '--listen', '127.0.0.1:0'],
    ...extra,
  ];
}
