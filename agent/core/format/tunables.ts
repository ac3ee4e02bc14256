// The runtime layers as people read them (`gitops agent tune list`, `gitops agent status`,
// `gitops explain PATH --agent URL`): every tunable field with its bounds, signed and effective values
// and the layer that wins, each lease with its owner, actor, reason and remaining time; the load
// governor's step, ladder and signals; and what a lease change came to. Pure: `now` is passed in
// (the agent's, from the answer, unless the caller counts down itself). An answer from another
// version of the agent may lack fields: what is missing is shown as "?" or left out.

import type { GovernorView, LeaseAnswer, TunableEntry, TunablesAnswer } from '../contracts/api.js';
import type { LayerExplanation } from '../tunables/effective.js';
import type { Lease } from '../tunables/lease.js';
import { describeBounds } from '../tunables/spec.js';
import { ago, shortId } from './agent-answers.js';
import { remaining } from './duration.js';

/** A value in a line: JSON, or "(not set)". */
const show = (v: unknown): string => (v === undefined || v === null ? '(not set)' : JSON.stringify(v));

/** A lease without its owner: `10 by oncall "hot afternoon", 29m59s left`. */
const leaseDetail = (lease: Partial<Lease>, now: number): string =>
  `${show(lease.value)} by ${lease.actor || '?'}${lease.reason ? ` ${JSON.stringify(lease.reason)}` : ''}, ` +
  (typeof lease.expires === 'string' ? remaining(lease.expires, now) : '?');

/** One lease: `operator 10 by oncall "hot afternoon", 29m59s left`. */
export const describeLease = (lease: Partial<Lease>, now: number): string =>
  `${lease.owner ?? '?'} ${leaseDetail(lease, now)}`;

const STATUS: Record<string, string> = {
  held: 'held: the layers below are more conservative',
  expired: 'expired',
  'not-started': 'not started yet',
  'owner-not-allowed': 'this owner may not set it here',
  unusable: 'its value does not fit the field',
};

/** What a layer above the signed configuration holds: its lease (or value), how it was fitted, and why it does not apply. */
function layerDetail(l: LayerExplanation, now: number): string {
  const what = l.lease ? leaseDetail(l.lease, now) : show(l.asked);
  const fitted = l.adjusted && l.value !== undefined ? ` (${l.adjusted} to ${show(l.value)})` : '';
  return `${what}${fitted}${l.status === 'applied' ? '' : ` [${STATUS[l.status] ?? l.status}]`}`;
}

/** One field: its effective value and winner, its signed value and bounds, and each layer that holds something. */
export function formatTunable(t: TunableEntry, now: number): string {
  const bounds = t.spec ? `${describeBounds(t.spec)}, applies ${t.spec.applies === 'hot' ? 'hot' : 'by restart'}` : '';
  const source = t.winner === 'signed' ? 'signed' : `${t.winner} lease; signed ${show(t.signed)}`;
  const lines = [`${t.path} = ${show(t.value)}  (${source}${bounds ? `; ${bounds}` : ''})`];
  for (const l of t.layers ?? [])
    if (l.layer !== 'signed' && l.status !== 'unset')
      lines.push(`  ${l.layer === t.winner ? '*' : ' '} ${l.layer} ${layerDetail(l, now)}`);
  return lines.join('\n');
}

/**
 * Every runtime layer of one field on the running agent, lowest first, the winner marked, then
 * what runs (for `gitops explain PATH --agent URL`, after the signed explanation).
 */
export function formatRuntimeLayers(t: TunableEntry, commit: string, now: number): string {
  const lines = [`  runtime layers on the agent (release ${shortId(commit)}), lowest first:`];
  for (const l of t.layers ?? []) {
    const detail = l.layer === 'signed' ? show(t.signed) : l.status === 'unset' ? '-' : layerDetail(l, now);
    lines.push(`  ${l.layer === t.winner ? '*' : ' '} ${l.layer.padEnd(10)} ${detail}`);
  }
  lines.push(`  runs ${show(t.value)} (${t.winner === 'signed' ? 'the signed value' : `the ${t.winner} lease`} wins)`);
  return lines.join('\n');
}

/** GET /api/v1/tunables for people: every field, then leases on paths it does not list, then the governor. */
export function formatTunables(a: TunablesAnswer, now: number = Date.parse(a.now)): string {
  const lines = [`tunables of ${a.commit ? shortId(a.commit) : 'nothing (no release runs yet)'}`];
  const tunables = a.tunables ?? [];
  if (tunables.length === 0) lines.push('  no field of this release is tunable at runtime');
  for (const t of tunables) lines.push(formatTunable(t, now));
  const listed = new Set(tunables.map((t) => t.path));
  const others = (a.leases ?? []).filter((l) => !listed.has(l.path));
  if (others.length > 0) {
    lines.push('leases on fields this release does not list:');
    for (const l of others) lines.push(`  ${l.path}: ${describeLease(l, now)}`);
  }
  if (a.governor) lines.push(formatGovernor(a.governor, now));
  return lines.join('\n');
}

/** The leases in force, one line each (for `gitops agent status`), or a line saying there are none. */
export function formatActiveLeases(leases: readonly Lease[], now: number): string {
  const active = leases.filter((l) => Date.parse(l.start) <= now && now < Date.parse(l.expires));
  if (active.length === 0) return '  leases     none';
  return active
    .map((l, i) => `  ${i === 0 ? 'leases    ' : '          '} ${l.path}: ${describeLease(l, now)}`)
    .join('\n');
}

const SIGNAL_STATE: Record<string, string> = {
  normal: 'normal',
  entering: 'above its enter threshold, dwelling',
  hot: 'HOT',
  leaving: 'below its exit threshold, dwelling',
};

/** The governor's step on its ladder, each step, each signal with its state, and the last move. */
export function formatGovernor(g: GovernorView, now: number): string {
  if (!g.enabled) return 'governor   off';
  const steps = g.steps ?? [];
  const name = g.step > 0 ? steps[g.step - 1]?.name : undefined;
  const lines = [
    `governor   step ${g.step} of ${steps.length}${name ? ` (${name})` : ' (the signed configuration)'}; ` +
      `${g.transitions_last_hour} move${g.transitions_last_hour === 1 ? '' : 's'} in the last hour, at most ${g.max_transitions_per_hour}`,
  ];
  steps.forEach((s, i) => {
    const set = Object.entries(s.set ?? {})
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(', ');
    lines.push(`  ${g.step === i + 1 ? '>' : ' '} ${i + 1} ${s.name}: ${set || 'nothing'}`);
  });
  for (const s of g.signals ?? [])
    lines.push(
      `  signal ${s.name} ${s.value === null ? '(no sample)' : String(s.value)}: ${SIGNAL_STATE[s.state] ?? s.state}` +
        `${s.since ? ` since ${ago(s.since, now)}` : ''} (enter above ${s.enter_above}, exit below ${s.exit_below})`,
    );
  const t = g.last_transition;
  if (t) lines.push(`  last move ${t.from} -> ${t.to} ${ago(t.at, now)}: ${t.reason}`);
  return lines.join('\n');
}

/** What a lease set or clear came to: `applied: frame_capture.fps = 10 (operator lease ...); reconfigured capture in 42 ms`. */
export function formatLeaseAnswer(a: LeaseAnswer, now: number): string {
  const head = `${a.outcome}: ${a.path} = ${show(a.value)} (${a.winner === 'signed' ? 'signed' : `${a.winner} lease`})`;
  const lease = a.lease ? `\n  lease ${describeLease(a.lease, now)}` : '';
  const done = a.components?.length ? `; reconfigured ${a.components.join(', ')}` : '; nothing to reconfigure';
  return `${head}${done}${a.ms !== undefined ? ` in ${Math.round(a.ms)} ms` : ''}${lease}`;
}
