// The gate of a staged rollout (issue 15, item 3): from the waves' refs, the environment's branch,
// the rollout state (state.ts) and the fleet's telemetry, what `gitops rollout advance` promotes,
// holds or halts, and what `gitops rollout status` shows. Pure: git's answers (which commit each
// ref points at, which commit descends from which), the time and the telemetry come in as data.
//
// The rules (DESIGN.md section 10):
// - wave 0 follows the head of the environment's branch: promoted to it whenever it differs,
//   which restarts its bake;
// - wave i > 0 is promoted to the commit wave i-1 follows once wave i-1 has run it for its bake
//   and wave i-1's gate passes on it; all decisions of one run are taken on the refs as they were
//   before it, so a wave never goes past the commit its predecessor followed (and baked);
// - every promotion is a fast-forward (devices refuse anything else): a ref that is not an
//   ancestor of its target is not moved, and the run says so;
// - a wave's gate judges the commit it follows from its devices' telemetry: more devices rolled
//   back or refusing it than the limits allow fails it, at any time during the bake, and a failed
//   gate halts the whole rollout; no data (no telemetry, no device of the wave running the
//   commit) holds, and never passes; nor does it pass while a reporting device of the wave has
//   not taken the commit yet (it may be in its own bake of it, about to roll it back);
// - a halted rollout promotes nothing until resumed; a resume accepts the gate failure that halted
//   it (it halts no more), and that commit still goes no further than its wave.

import { GitopsError } from '../errors.js';
import type { GateLimits, Rollout } from './waves.js';
import { waveRef } from './waves.js';
import type { Halt, Promotion, RolloutState } from './state.js';
import { isResumed, lastPromotion } from './state.js';

/** What the fleet reports for one wave, from the Prometheus series of the agents. */
export interface WaveTelemetry {
  /** Devices running each commit (doorbell_agent_release_info), by the commit label. */
  running: Record<string, number>;
  /** Devices that refused each commit (doorbell_agent_candidate_info, outcome refused). */
  refused: Record<string, number>;
  /** Devices that rolled each commit back (outcome rolled-back). */
  rolledBack: Record<string, number>;
}

/** By wave name; undefined as a whole when no telemetry source was given. */
export type Telemetry = Record<string, WaveTelemetry>;

export type GateVerdict = 'pass' | 'hold' | 'fail';

export interface Gate {
  verdict: GateVerdict;
  reason: string;
  running: number;
  refused: number;
  rolledBack: number;
}

export interface WaveView {
  wave: string;
  ref: string;
  /** The commit the wave's ref points at; undefined when the ref does not exist yet. */
  commit: string | undefined;
  bakeSeconds: number;
  /** When its bake of the commit started (its latest promotion to it), when the state records one. */
  bakedSince: string | undefined;
  /** Seconds of bake left (0 once baked); undefined without a recorded start. */
  bakeLeftSeconds: number | undefined;
  /** Devices the plan puts in the wave. */
  expected: number;
  /** Devices of the wave running each commit, from telemetry; undefined without telemetry. */
  devices: Record<string, number> | undefined;
  /** The gate on the commit it follows; undefined when it follows nothing. */
  gate: Gate | undefined;
}

export interface RolloutInput {
  environment: string;
  rollout: Pick<Rollout, 'waves' | 'gates'>;
  /** Devices per wave, from the plan (`gitops rollout plan`). */
  expected: Readonly<Record<string, number>>;
  branch: { name: string; commit: string };
  /** The commit of each wave's ref, by wave name (absent: no such ref yet). */
  refs: Readonly<Record<string, string | undefined>>;
  /** git's answers to the pairs of ancestryPairs(): `${ancestor}..${descendant}` → whether it is one. */
  ancestry: ReadonlyMap<string, boolean>;
  state: RolloutState;
  /** Wall time, ms since the epoch: bakes span runs of different processes, so only wall time can measure them. */
  now: number;
  telemetry: Telemetry | undefined;
  /** Why there is no telemetry, when a source was given and failed (the gates hold, saying so). */
  telemetryProblem?: string;
  /** Who runs it: recorded in the state. */
  by: string;
}

export interface PlannedPromotion extends Promotion {
  ref: string;
  /** The commit the ref pointed at (null: the ref is created). */
  from: string | null;
  /** False for a ref found at a commit the state has no promotion for: recorded (its bake starts now), not pushed. */
  moves: boolean;
}

export interface Note {
  wave: string;
  kind: 'hold' | 'blocked' | 'current';
  reason: string;
}

export interface Decision {
  environment: string;
  branch: { name: string; commit: string };
  waves: WaveView[];
  /** The rollout was halted before this run: nothing was done. */
  halted?: Halt;
  /** A gate failed in this run: the rollout is halted with this. */
  halt?: Halt;
  promotions: PlannedPromotion[];
  notes: Note[];
  emergency?: { commit: string; reason: string };
}

export const short = (commit: string): string => commit.slice(0, 7);

const key = (ancestor: string, descendant: string): string => `${ancestor}..${descendant}`;

/** The ancestry questions a decision asks: each wave's commit against its target (the branch head, the wave before, an emergency's commit). */
export function ancestryPairs(
  waves: readonly string[],
  refs: Readonly<Record<string, string | undefined>>,
  head: string,
  emergencyCommit?: string,
): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const add = (a: string | undefined, b: string | undefined): void => {
    if (a !== undefined && b !== undefined && a !== b && !pairs.some(([x, y]) => x === a && y === b))
      pairs.push([a, b]);
  };
  if (emergencyCommit !== undefined) {
    add(emergencyCommit, head);
    for (const w of waves) add(refs[w], emergencyCommit);
    return pairs;
  }
  waves.forEach((w, i) => add(refs[w], i === 0 ? head : refs[waves[i - 1]!]));
  return pairs;
}

function isAncestor(input: RolloutInput, ancestor: string, descendant: string): boolean {
  if (ancestor === descendant) return true;
  const answer = input.ancestry.get(key(ancestor, descendant));
  if (answer === undefined)
    throw new GitopsError('internal', `the ancestry of ${short(ancestor)} and ${short(descendant)} was not asked`);
  return answer;
}

/** The devices of a commit in a by-commit count: labels equal to it or a prefix of it (7 or more digits). */
export function countFor(counts: Readonly<Record<string, number>> | undefined, commit: string): number {
  let n = 0;
  for (const [label, count] of Object.entries(counts ?? {}))
    if (label === commit || (label.length >= 7 && commit.startsWith(label))) n += count;
  return n;
}

const devicesWord = (n: number): string => (n === 1 ? '1 device' : `${n} devices`);

/** A wave's gate on the commit it follows. No telemetry, or no device of the wave running the commit, holds. */
export function gateOf(
  wave: string,
  commit: string,
  limits: GateLimits,
  expected: number,
  telemetry: Telemetry | undefined,
  telemetryProblem?: string,
): Gate {
  const none = { running: 0, refused: 0, rolledBack: 0 };
  if (telemetry === undefined)
    return {
      verdict: 'hold',
      reason: `no telemetry: ${telemetryProblem ?? 'no Prometheus to ask (--prometheus URL)'}`,
      ...none,
    };
  const t = telemetry[wave];
  const running = countFor(t?.running, commit);
  const refused = countFor(t?.refused, commit);
  const rolledBack = countFor(t?.rolledBack, commit);
  const counts = { running, refused, rolledBack };
  const failures: string[] = [];
  if (rolledBack > limits.maxRolledBack)
    failures.push(
      `${devicesWord(rolledBack)} of ${wave} rolled back ${short(commit)}, the gate allows ${limits.maxRolledBack}`,
    );
  if (refused > limits.maxRefusing)
    failures.push(`${devicesWord(refused)} of ${wave} refused ${short(commit)}, the gate allows ${limits.maxRefusing}`);
  if (failures.length > 0) return { verdict: 'fail', reason: failures.join('; '), ...counts };
  const reporting = Object.values(t?.running ?? {}).reduce((a, b) => a + b, 0) + refused + rolledBack;
  if (reporting === 0 && expected === 0)
    return { verdict: 'pass', reason: `no device is in ${wave} (none planned, none reporting)`, ...counts };
  if (reporting === 0)
    return { verdict: 'hold', reason: `no data: no device of ${wave} reports (${expected} planned)`, ...counts };
  if (running === 0)
    return {
      verdict: 'hold',
      reason: `no device of ${wave} runs ${short(commit)} yet (${reporting} reporting)`,
      ...counts,
    };
  // every reporting device must have taken it (run it, refused it or rolled it back): a device
  // still on an older commit may be in its own bake of this one, about to roll it back
  const onOthers = Object.values(t?.running ?? {}).reduce((a, b) => a + b, 0) - running;
  const pending = Math.max(0, onOthers - refused - rolledBack);
  if (pending > 0)
    return {
      verdict: 'hold',
      reason: `${devicesWord(pending)} of ${wave} ${pending === 1 ? 'has' : 'have'} not taken ${short(commit)} yet (${running} run it)`,
      ...counts,
    };
  return {
    verdict: 'pass',
    reason:
      `${running} of ${expected} planned devices of ${wave} run ${short(commit)}; ` +
      `${rolledBack} rolled back (at most ${limits.maxRolledBack}), ${refused} refused (at most ${limits.maxRefusing})`,
    ...counts,
  };
}

/** Every wave as `gitops rollout status` shows it: its commit, bake, devices and gate. */
export function viewWaves(input: Omit<RolloutInput, 'ancestry' | 'by'>): WaveView[] {
  return input.rollout.waves.map((w) => {
    const commit = input.refs[w.name];
    const expected = input.expected[w.name] ?? 0;
    const since = commit === undefined ? undefined : lastPromotion(input.state, w.name, commit)?.at;
    const elapsed = since === undefined ? undefined : (input.now - Date.parse(since)) / 1000;
    return {
      wave: w.name,
      ref: waveRef(input.environment, w.name),
      commit,
      bakeSeconds: w.bakeSeconds,
      bakedSince: since,
      bakeLeftSeconds: elapsed === undefined ? undefined : Math.max(0, Math.ceil(w.bakeSeconds - elapsed)),
      expected,
      devices: input.telemetry === undefined ? undefined : { ...(input.telemetry[w.name]?.running ?? {}) },
      gate:
        commit === undefined
          ? undefined
          : gateOf(
              w.name,
              commit,
              input.rollout.gates[w.name] ?? LIMITS_NONE,
              expected,
              input.telemetry,
              input.telemetryProblem,
            ),
    };
  });
}

const LIMITS_NONE: GateLimits = { maxRolledBack: 0, maxRefusing: 0 };

/** What `gitops rollout advance` does now: promotions, holds and blocks with their reasons, or a halt. */
export function decideAdvance(input: RolloutInput): Decision {
  const at = new Date(input.now).toISOString();
  const waves = viewWaves(input);
  const base = { environment: input.environment, branch: input.branch, waves };
  if (input.state.halted) return { ...base, halted: input.state.halted, promotions: [], notes: [] };

  const failing = waves.filter((v) => v.gate?.verdict === 'fail' && !isResumed(input.state, v.wave, v.commit!));
  if (failing.length > 0) {
    const first = failing[0]!;
    const halt: Halt = {
      by: input.by,
      reason: failing.map((v) => `${v.wave}'s gate failed: ${v.gate!.reason}`).join('; '),
      at,
      wave: first.wave,
      commit: first.commit!,
    };
    return { ...base, halt, promotions: [], notes: [] };
  }

  const promotions: PlannedPromotion[] = [];
  const notes: Note[] = [];
  const promote = (v: WaveView, commit: string, moves: boolean, reason?: string): void => {
    promotions.push({
      wave: v.wave,
      commit,
      at,
      by: input.by,
      emergency: false,
      ...(reason !== undefined ? { reason } : {}),
      ref: v.ref,
      from: v.commit ?? null,
      moves,
    });
  };
  const blocked = (v: WaveView, target: string, what: string): void => {
    notes.push({
      wave: v.wave,
      kind: 'blocked',
      reason:
        `${v.ref} is at ${short(v.commit!)}, which ${what} (${short(target)}) does not descend from: ` +
        'moving it there would not be a fast-forward, and devices refuse that',
    });
  };

  // refs found at a commit the state has no promotion for (created or moved by hand): their bake starts now
  for (const v of waves)
    if (v.commit !== undefined && v.bakedSince === undefined)
      promote(v, v.commit, false, `found at ${short(v.commit)} without a recorded promotion: its bake starts now`);
  const since = (v: WaveView): string | undefined =>
    v.bakedSince ?? promotions.find((p) => p.wave === v.wave && !p.moves)?.at;

  waves.forEach((v, i) => {
    if (i === 0) {
      const head = input.branch.commit;
      if (v.commit === head)
        notes.push({
          wave: v.wave,
          kind: 'current',
          reason: `follows the head of ${input.branch.name}, ${short(head)}`,
        });
      else if (v.commit === undefined || isAncestor(input, v.commit, head)) promote(v, head, true);
      else blocked(v, head, `the head of ${input.branch.name}`);
      return;
    }
    const prev = waves[i - 1]!;
    if (prev.commit === undefined) {
      const now = promotions.find((p) => p.wave === prev.wave && p.moves);
      notes.push({
        wave: v.wave,
        kind: 'hold',
        reason: now
          ? `waits for ${prev.wave} (created now at ${short(now.commit)}) to bake it`
          : `waits for ${prev.wave}, which follows nothing yet`,
      });
      return;
    }
    if (v.commit === prev.commit) {
      notes.push({ wave: v.wave, kind: 'current', reason: `follows ${short(prev.commit)}, as ${prev.wave} does` });
      return;
    }
    if (v.commit !== undefined && !isAncestor(input, v.commit, prev.commit)) {
      blocked(v, prev.commit, `${prev.wave}'s commit`);
      return;
    }
    const movedNow = promotions.find((p) => p.wave === prev.wave && p.moves);
    const holdMoved = (): void => {
      notes.push({
        wave: v.wave,
        kind: 'hold',
        reason: `waits for ${prev.wave}, promoted now to ${short(movedNow!.commit)}, to bake it`,
      });
    };
    const started = since(prev);
    const left = started === undefined ? prev.bakeSeconds : prev.bakeSeconds - (input.now - Date.parse(started)) / 1000;
    if (left > 0 && movedNow) return holdMoved();
    if (left > 0) {
      notes.push({
        wave: v.wave,
        kind: 'hold',
        reason: `waits for ${prev.wave} to bake ${short(prev.commit)}: ${Math.ceil(left)} s left of ${prev.bakeSeconds} s`,
      });
      return;
    }
    const gate = prev.gate!;
    if (gate.verdict === 'pass') promote(v, prev.commit, true);
    else if (gate.verdict === 'hold' && movedNow) holdMoved();
    else
      notes.push({
        wave: v.wave,
        kind: 'hold',
        reason:
          gate.verdict === 'fail'
            ? `${short(prev.commit)} failed ${prev.wave}'s gate and the rollout was resumed past it: it goes no further ` +
              `than ${prev.wave} (promote a fix to ${input.branch.name})`
            : `${prev.wave}'s gate holds: ${gate.reason}`,
      });
  });
  // a ref recorded where it was and moved in the same run: only the move is worth recording
  const kept = promotions.filter((p) => p.moves || !promotions.some((q) => q.moves && q.wave === p.wave));
  return { ...base, promotions: kept, notes };
}

/**
 * An emergency: one commit (on the branch) to every wave at once, past bakes and gates, still
 * only as fast-forwards; refused as a whole when one wave cannot take it. It does not resume a halt.
 */
export function decideEmergency(input: RolloutInput, commit: string, reason: string): Decision {
  const at = new Date(input.now).toISOString();
  const waves = viewWaves(input);
  if (!isAncestor(input, commit, input.branch.commit))
    throw new GitopsError(
      'rollout-not-fast-forward',
      `${short(commit)} is not on ${input.branch.name} (its head is ${short(input.branch.commit)}): an emergency promotes only merged commits`,
      `merge the fix into ${input.branch.name} first, then run gitops rollout advance --emergency again`,
    );
  const refused = waves.filter((v) => v.commit !== undefined && !isAncestor(input, v.commit, commit));
  if (refused.length > 0)
    throw new GitopsError(
      'rollout-not-fast-forward',
      `${refused.map((v) => `${v.wave} (at ${short(v.commit!)})`).join(', ')} cannot take ${short(commit)}: ` +
        'it does not descend from what they follow, and devices refuse anything but a fast-forward',
      `promote a commit that descends from every wave's commit (a revert on top of ${input.branch.name}, for example)`,
    );
  const promotions: PlannedPromotion[] = waves
    .filter((v) => v.commit !== commit)
    .map((v) => ({
      wave: v.wave,
      commit,
      at,
      by: input.by,
      emergency: true,
      reason,
      ref: v.ref,
      from: v.commit ?? null,
      moves: true,
    }));
  const notes: Note[] = waves
    .filter((v) => v.commit === commit)
    .map((v) => ({ wave: v.wave, kind: 'current', reason: `follows ${short(commit)} already` }));
  return {
    environment: input.environment,
    branch: input.branch,
    waves,
    ...(input.state.halted ? { halted: input.state.halted } : {}),
    promotions,
    notes,
    emergency: { commit, reason },
  };
}

/** The subject and body of the state branch's commit for a decision, a halt or a resume: the audit trail's entry. */
export function decisionMessage(d: Decision): string {
  const env = d.environment;
  if (d.halt) return `rollout ${env}: halted by ${d.halt.by}\n\n${d.halt.reason}\n`;
  const moved = d.promotions.filter((p) => p.moves);
  const lines = d.promotions.map(
    (p) =>
      `${p.wave}: ${p.from === null ? '(new)' : short(p.from)} -> ${short(p.commit)}${p.moves ? '' : ` (${p.reason})`}`,
  );
  const notes = d.notes.map((n) => `${n.wave}: ${n.kind}: ${n.reason}`);
  if (d.emergency)
    return (
      `rollout ${env}: EMERGENCY ${short(d.emergency.commit)} to every wave (${moved.map((p) => p.wave).join(', ')}) ` +
      `by ${d.promotions[0]?.by ?? 'unknown'}\n\n${d.emergency.reason}\n\n${lines.join('\n')}\n`
    );
  const subject =
    moved.length > 0
      ? `rollout ${env}: ${moved.map((p) => `${p.wave} -> ${short(p.commit)}`).join(', ')}`
      : `rollout ${env}: bakes recorded (${d.promotions.map((p) => p.wave).join(', ')})`;
  return `${subject}\n\n${[...lines, ...notes].join('\n')}\n\nby ${d.promotions[0]?.by ?? 'unknown'}\n`;
}

/** The PromQL the gate asks, for one environment: devices per wave and commit, and refusals and rollbacks. */
export function telemetryQueries(environment: string): { running: string; outcomes: string } {
  const env = JSON.stringify(environment);
  // Only what each device said in its latest report: a pushed series that a device no longer
  // sends (the commit it ran before) stays in instant queries for Prometheus's lookback (5 min;
  // remote write sends no staleness markers), and would count that device twice.
  const latest = `on (device) group_left max by (device) (timestamp(doorbell_agent_release_info{environment=${env}}))`;
  return {
    running: `count by (wave, commit) (timestamp(doorbell_agent_release_info{environment=${env}}) == ${latest})`,
    outcomes:
      `count by (wave, commit, outcome) (timestamp(doorbell_agent_candidate_info{environment=${env},outcome=~"refused|rolled-back"})` +
      ` == ${latest})`,
  };
}

/** Telemetry from the answers to telemetryQueries (Prometheus instant vectors). */
export function telemetryOf(
  running: ReadonlyArray<{ metric: Record<string, string>; value: [number, string] }>,
  outcomes: ReadonlyArray<{ metric: Record<string, string>; value: [number, string] }>,
): Telemetry {
  const t: Telemetry = {};
  const wave = (name: string): WaveTelemetry => (t[name] ??= { running: {}, refused: {}, rolledBack: {} });
  const add = (counts: Record<string, number>, commit: string | undefined, value: string): void => {
    const n = Number(value);
    if (commit && Number.isFinite(n)) counts[commit] = (counts[commit] ?? 0) + n;
  };
  for (const r of running) if (r.metric.wave) add(wave(r.metric.wave).running, r.metric.commit, r.value[1]);
  for (const r of outcomes) {
    if (!r.metric.wave) continue;
    const w = wave(r.metric.wave);
    if (r.metric.outcome === 'refused') add(w.refused, r.metric.commit, r.value[1]);
    else if (r.metric.outcome === 'rolled-back') add(w.rolledBack, r.metric.commit, r.value[1]);
  }
  return t;
}
