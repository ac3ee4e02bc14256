// A rollout plan (agent/core/rollout) for people and for programs: `gitops rollout plan` prints it
// as JSON or as a table, and `gitops validate --summary` gives one line per environment with a rollout.

import { countByWave } from '../rollout/waves.js';
import type { RolloutPlan } from '../rollout/waves.js';
import { formatDuration } from './duration.js';

/** What `gitops rollout plan --output json` prints: exactly these keys. */
export interface RolloutPlanJson {
  environment: string;
  waves: Array<{ name: string; share: number; bake: number }>;
  devices: Array<{ device: string; wave: string; bucket: number | null; ref: string | null }>;
}

export function rolloutPlanJson(plan: RolloutPlan): RolloutPlanJson {
  return {
    environment: plan.environment,
    waves: plan.waves.map((w) => ({ name: w.name, share: w.share, bake: w.bake })),
    devices: plan.devices.map((d) => ({ device: d.device, wave: d.wave, bucket: d.bucket, ref: d.ref })),
  };
}

const percent = (share: number): string => `${Math.round(share * 100) / 100} %`;

/** The plan as a table: the waves (share, bake, ref, devices), then each device's wave and why. */
export function formatRolloutPlan(plan: RolloutPlan): string {
  const lines: string[] = [];
  const counts = new Map(countByWave(plan).map((c) => [c.wave, c.devices]));
  if (!plan.declared) {
    lines.push(
      `${plan.environment} declares no rollout: every device is in one wave, all, ` +
        "and takes a change as soon as it polls the branch it follows (its agent's remote.branch).",
      `Declare rollout: in environments/${plan.environment}/environment.yaml to stage changes in waves.`,
      '',
    );
  }
  const table = (rows: string[][]): void => {
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const r of rows)
      lines.push(r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
  };
  table([
    ['WAVE', 'SHARE', 'BAKE', 'DEVICES', 'REF'],
    ...plan.waves.map((w, i) => [
      w.name,
      percent(w.share) + (plan.declared && i === plan.waves.length - 1 ? ' (rest)' : ''),
      plan.declared ? formatDuration(w.bake) : '-',
      String(counts.get(w.name) ?? 0),
      plan.declared ? `refs/heads/rollout/${plan.environment}/${w.name}` : "(the environment's branch)",
    ]),
  ]);
  lines.push('');
  if (plan.devices.length === 0) lines.push(`${plan.environment} has no devices.`);
  else
    table([
      ['DEVICE', 'WAVE', 'BUCKET', 'BY'],
      ...plan.devices.map((d) => [
        d.device,
        d.wave,
        d.bucket === null ? '-' : d.bucket.toFixed(6),
        d.by === 'cohort' ? 'cohort' : d.by === 'bucket' ? 'bucket' : '-',
      ]),
    ]);
  return lines.join('\n');
}

/** One line for `gitops validate --summary`: how many devices each wave holds. */
export function rolloutSummaryLine(plan: RolloutPlan): string {
  const counts = countByWave(plan)
    .map((c) => `${c.wave} ${c.devices}`)
    .join(', ');
  return `  ${`${plan.environment} rollout`.padEnd(30)} ${counts} (devices per wave)`;
}
