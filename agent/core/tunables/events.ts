// The lease events a journal records, and the reducer that replays them into the set of leases in
// force: replaying the same events gives the same leases, hence the same effective configuration.

import { OWNERS } from './annotation.js';
import type { Owner } from './annotation.js';
import { afterRestart, checkLease, revalidate, toMs } from './lease.js';
import type { ChangeRecord, DroppedLease, Lease, LeaseFinding, LeasePolicy } from './lease.js';
import type { TunableSpec } from './spec.js';
import { compareText } from '../json/value.js';

export type LeaseEvent =
  /** a lease set (or replaced: one lease per path and owner) */
  | { type: 'set'; at: string; lease: Lease }
  /** a lease removed before its expiry */
  | { type: 'clear'; at: string; path: string; owner: Owner; actor: string }
  /** the leases expired by `at` are gone */
  | { type: 'expire'; at: string }
  /** a new signed commit: every lease is checked against its specs */
  | { type: 'commit'; at: string; commit: string }
  /** the agent restarted: only operator leases remain, until they expire */
  | { type: 'restart'; at: string };

export interface LeaseState {
  /** The signed commit in force (undefined before the first commit event). */
  commit: string | undefined;
  /** The leases, sorted by path and owner. */
  leases: Lease[];
}

export const NO_LEASES: LeaseState = { commit: undefined, leases: [] };

export interface ReplayContext {
  /** The tunable specs of a commit (undefined before any commit: the lease's own). */
  specs(commit: string): (path: string) => TunableSpec | undefined;
  policy?: LeasePolicy;
}

export interface EventOutcome {
  state: LeaseState;
  /** Leases the event removed, with why (a clear, an expiry, a commit they no longer fit, a restart). */
  dropped: DroppedLease[];
  /** Why a set was refused (then the state is unchanged). */
  refused: LeaseFinding[];
}

const order = (a: Lease, b: Lease): number =>
  compareText(a.path, b.path) || OWNERS.indexOf(a.owner) - OWNERS.indexOf(b.owner);
const sorted = (leases: Lease[]): Lease[] => [...leases].sort(order);
const same = (l: Lease, path: string, owner: Owner): boolean => l.path === path && l.owner === owner;

/** Applies one event. Never throws; a set that does not fit is refused with its findings. */
export function applyLeaseEvent(state: LeaseState, event: LeaseEvent, ctx: ReplayContext): EventOutcome {
  const none = { dropped: [], refused: [] };
  switch (event.type) {
    case 'set': {
      const { lease } = event;
      const specs = ctx.specs(state.commit ?? lease.commit);
      const refused = checkLease(lease, specs(lease.path), ctx.policy);
      if (refused.length > 0) return { state, dropped: [], refused };
      const others = state.leases.filter((l) => !same(l, lease.path, lease.owner));
      return { ...none, state: { ...state, leases: sorted([...others, lease]) } };
    }
    case 'clear': {
      const gone = state.leases.filter((l) => same(l, event.path, event.owner));
      const why: LeaseFinding = { code: 'lease-cleared', message: `cleared by ${event.actor}`, hint: '' };
      return {
        state: { ...state, leases: state.leases.filter((l) => !same(l, event.path, event.owner)) },
        dropped: gone.map((lease) => ({ lease, why: [why] })),
        refused: [],
      };
    }
    case 'expire': {
      const at = toMs(event.at);
      const gone = state.leases.filter((l) => toMs(l.expires) <= at);
      return {
        state: { ...state, leases: state.leases.filter((l) => toMs(l.expires) > at) },
        dropped: gone.map((lease) => ({
          lease,
          why: [{ code: 'lease-expired', message: `expired at ${lease.expires}`, hint: '' }],
        })),
        refused: [],
      };
    }
    case 'commit': {
      const { kept, dropped } = revalidate(state.leases, ctx.specs(event.commit), ctx.policy);
      return { state: { commit: event.commit, leases: kept }, dropped, refused: [] };
    }
    case 'restart': {
      const { kept, dropped } = afterRestart(state.leases, event.at);
      return { state: { ...state, leases: kept }, dropped, refused: [] };
    }
  }
}

/**
 * Whether an applied event changed a field's runtime value on purpose, for the change budget
 * (`withinBudget`): a set that is not a renewal of the same value by the same owner, or a clear
 * that removed a lease. Expiries, commits and restarts are not spent from the budget.
 */
export function changeOf(before: LeaseState, event: LeaseEvent, outcome: EventOutcome): ChangeRecord | undefined {
  if (event.type === 'set' && outcome.refused.length === 0) {
    const prior = before.leases.find((l) => same(l, event.lease.path, event.lease.owner));
    return prior?.value === event.lease.value ? undefined : { path: event.lease.path, at: event.at };
  }
  if (event.type === 'clear' && outcome.dropped.length > 0) return { path: event.path, at: event.at };
  return undefined;
}

/** Replays events in order from `initial`; the state after the last, and what was dropped, refused or changed on the way. */
export function replayLeases(
  events: readonly LeaseEvent[],
  ctx: ReplayContext,
  initial: LeaseState = NO_LEASES,
): {
  state: LeaseState;
  dropped: DroppedLease[];
  refused: Array<{ event: LeaseEvent; why: LeaseFinding[] }>;
  changes: ChangeRecord[];
} {
  let state = initial;
  const dropped: DroppedLease[] = [];
  const refused: Array<{ event: LeaseEvent; why: LeaseFinding[] }> = [];
  const changes: ChangeRecord[] = [];
  for (const event of events) {
    const out = applyLeaseEvent(state, event, ctx);
    const change = changeOf(state, event, out);
    if (change) changes.push(change);
    state = out.state;
    dropped.push(...out.dropped);
    if (out.refused.length > 0) refused.push({ event, why: out.refused });
  }
  return { state, dropped, refused, changes };
}

/** A journal entry of the agent, as far as leases go (event lease-set, lease-cleared, lease-expired, lease-dropped). */
export interface LeaseJournalEntry {
  event?: unknown;
  path?: unknown;
  owner?: unknown;
  actor?: unknown;
  reason?: unknown;
  value?: unknown;
  start?: unknown;
  expires?: unknown;
  commit?: unknown;
}

/**
 * The leases in force after the journal's lease events, replayed in order: a set adds (or
 * replaces) the lease of its path and owner; a clear, an expiry or a drop removes it. The agent
 * keeps leases.json the same way, so the two agree (the journal is the audit trail of both).
 */
export function leasesOfJournal(entries: readonly LeaseJournalEntry[]): Lease[] {
  const byKey = new Map<string, Lease>();
  for (const e of entries) {
    if (typeof e.path !== 'string' || !OWNERS.includes(e.owner as Owner)) continue;
    const key = `${e.path}\0${String(e.owner)}`;
    if (e.event === 'lease-set')
      byKey.set(key, {
        path: e.path,
        owner: e.owner as Owner,
        actor: String(e.actor),
        reason: String(e.reason),
        value: e.value as Lease['value'],
        start: String(e.start),
        expires: String(e.expires),
        commit: String(e.commit),
      });
    else if (e.event === 'lease-cleared' || e.event === 'lease-expired' || e.event === 'lease-dropped')
      byKey.delete(key);
  }
  return sorted([...byKey.values()]);
}
