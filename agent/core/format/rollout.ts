// A rollout plan (agent/core/rollout) for people and for programs: `gitops rollout plan` prints it
// as JSON or as a table, and `gitops validate --summary` gives one line per environment with a rollout;
// what `gitops rollout status | advance | halt | resume` report, and the PR comment's line of a halt.

import { countByWave } from '../rollout/waves.js';
import type { RolloutPlan } from '../rollout/waves.js';
import { formatDuration } from './duration.js';
import { short } from '../rollout/gate.js';
import type { Decision } from '../rollout/gate.js';
import type { Halt, RolloutState } from '../rollout/state.js';

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

/** What advance and status report (agent/io/rollout.ts's RolloutResult). */
export interface RolloutReport {
  decision: Decision;
  state: Pick<RolloutState, 'halted'>;
  subjects: Readonly<Record<string, string>>;
  stateCommit?: string;
  dryRun: boolean;
  exit: 0 | 1;
}

/** What `gitops rollout advance|status --output json` print. */
export function rolloutReportJson(r: RolloutReport): Record<string, unknown> {
  const d = r.decision;
  return {
    environment: d.environment,
    branch: { name: d.branch.name, commit: d.branch.commit, subject: r.subjects[d.branch.commit] ?? null },
    halted: r.state.halted,
    ...(d.halt ? { halt: d.halt } : {}),
    ...(d.emergency ? { emergency: d.emergency } : {}),
    waves: d.waves.map((w) => ({
      name: w.wave,
      ref: w.ref,
      commit: w.commit ?? null,
      subject: w.commit ? (r.subjects[w.commit] ?? null) : null,
      bake: w.bakeSeconds,
      bakedSince: w.bakedSince ?? null,
      bakeLeft: w.bakeLeftSeconds ?? null,
      expected: w.expected,
      devices: w.devices ?? null,
      gate: w.gate ?? null,
    })),
    promotions: d.promotions.map((p) => ({
      wave: p.wave,
      ref: p.ref,
      from: p.from,
      commit: p.commit,
      moves: p.moves,
      emergency: p.emergency,
      ...(p.reason !== undefined ? { reason: p.reason } : {}),
    })),
    notes: d.notes,
    dryRun: r.dryRun,
    stateCommit: r.stateCommit ?? null,
    exit: r.exit,
  };
}

const cut = (text: string, n: number): string => (text.length > n ? `${text.slice(0, n - 1)}…` : text);

function haltLine(env: string, h: Halt): string {
  return `${env}: the rollout is HALTED (by ${h.by} at ${h.at}): ${h.reason}`;
}

function wavesTable(r: RolloutReport): string[] {
  const rows = [['WAVE', 'COMMIT', 'SUBJECT', 'BAKE', 'DEVICES (TELEMETRY)', 'PLANNED', 'GATE']];
  for (const w of r.decision.waves) {
    const bake =
      w.commit === undefined
        ? '-'
        : w.bakeLeftSeconds === undefined
          ? 'not recorded'
          : w.bakeLeftSeconds > 0
            ? `${formatDuration(w.bakeLeftSeconds)} left`
            : 'baked';
    const devices =
      w.devices === undefined
        ? 'no telemetry'
        : Object.keys(w.devices).length === 0
          ? 'none reporting'
          : Object.entries(w.devices)
              .map(([c, n]) => `${short(c)}:${n}`)
              .join(' ');
    rows.push([
      w.wave,
      w.commit ? short(w.commit) : '-',
      w.commit ? cut(r.subjects[w.commit] ?? '', 40) : '(no ref yet)',
      bake,
      devices,
      String(w.expected),
      w.gate?.verdict ?? '-',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
}

function decisionLines(r: RolloutReport): string[] {
  const d = r.decision;
  const lines: string[] = [];
  for (const p of d.promotions)
    lines.push(
      p.moves
        ? `  ${p.wave}: ${p.from === null ? 'created at' : `${short(p.from)} ->`} ${short(p.commit)}` +
            `${p.emergency ? ' (EMERGENCY)' : ''}  ${r.subjects[p.commit] ?? ''}`
        : `  ${p.wave}: ${p.reason ?? 'recorded'}`,
    );
  for (const n of d.notes) lines.push(`  ${n.wave}: ${n.kind === 'current' ? 'up to date' : n.kind}: ${n.reason}`);
  return lines;
}

/** `gitops rollout status`: the waves, the commit each follows, devices per commit, bake left, gates, halted or not, and what advance would do. */
export function formatRolloutStatus(r: RolloutReport): string {
  const d = r.decision;
  const lines = [
    r.state.halted ? haltLine(d.environment, r.state.halted) : `${d.environment}: the rollout runs (not halted)`,
    `source: ${d.branch.name} at ${short(d.branch.commit)}  ${r.subjects[d.branch.commit] ?? ''}`,
    '',
    ...wavesTable(r),
    '',
    'gates:',
    ...d.waves.map((w) => `  ${w.wave}: ${w.gate ? `${w.gate.verdict}: ${w.gate.reason}` : 'follows nothing yet'}`),
  ];
  if (!r.state.halted) lines.push('', 'gitops rollout advance would now:', ...decisionLines(r));
  if (d.halt) lines.push('', `advance would HALT the rollout: ${d.halt.reason}`);
  return lines.join('\n');
}

/** `gitops rollout advance`: what it promoted, held, refused or halted, and why. */
export function formatRolloutAdvance(r: RolloutReport): string {
  const d = r.decision;
  const dry = r.dryRun ? ' (dry run: nothing written)' : '';
  if (d.halted && !d.emergency)
    return `${haltLine(d.environment, d.halted)}\nnothing promoted; gitops rollout resume --env ${d.environment} lifts it`;
  if (d.halt)
    return (
      `${d.environment}: gate failed, the rollout is HALTED${dry}: ${d.halt.reason}\n` +
      `nothing promoted; fix the cause (a revert on ${d.branch.name}), then gitops rollout resume --env ${d.environment}`
    );
  const moved = d.promotions.filter((p) => p.moves).length;
  const head = d.emergency
    ? `${d.environment}: EMERGENCY promotion of ${short(d.emergency.commit)} to every wave${dry}: ${d.emergency.reason}`
    : moved > 0
      ? `${d.environment}: promoted ${moved} wave${moved === 1 ? '' : 's'}${dry}`
      : `${d.environment}: nothing to promote now${dry}`;
  const lines = [head, ...decisionLines(r)];
  if (d.emergency && d.halted) lines.push(`the rollout stays halted (by ${d.halted.by}): ${d.halted.reason}`);
  if (r.stateCommit) lines.push(`state: ${short(r.stateCommit)} on rollout-state/${d.environment}`);
  return lines.join('\n');
}

/** `gitops rollout halt|resume`. */
export function formatHaltChange(r: {
  environment: string;
  change: 'halted' | 'resumed' | 'none';
  halted: Halt | null;
  was?: Halt;
}): string {
  if (r.change === 'halted')
    return `${haltLine(r.environment, r.halted!)}\nnothing is promoted until gitops rollout resume --env ${r.environment}`;
  if (r.change === 'resumed')
    return `${r.environment}: the rollout runs again (it was halted by ${r.was!.by}: ${r.was!.reason})`;
  return r.halted
    ? `${haltLine(r.environment, r.halted)}\n(already halted: nothing written)`
    : `${r.environment}: the rollout is not halted (nothing written)`;
}

/** The PR comment's line for a halted environment. */
export function haltedCommentLine(environment: string, h: Halt): string {
  return (
    `> ⛔ **The rollout of ${environment} is halted** (by ${h.by}, ${h.at}): ${h.reason}. ` +
    `Once merged, this change waits before ${environment}'s waves until \`gitops rollout resume --env ${environment}\`.`
  );
}
