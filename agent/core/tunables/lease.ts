// Leases: every runtime value above the signed configuration (DESIGN.md layer 7) is held by an
// owner for a while, attributed to an actor with a reason, against the commit it was set for.
// Pure checks of one lease, of a set of leases against a new commit's specs, across a restart,
// and against a field's change budget. Times are ISO 8601 strings; `now` is always passed in.

import type { Owner, TunableValue } from './annotation.js';
import { onGrid } from './annotation.js';
import { describeBounds, withinBounds } from './spec.js';
import type { TunableSpec } from './spec.js';

export interface Lease {
  /** Dotted concrete configuration path, e.g. `frame_capture.fps`. */
  path: string;
  owner: Owner;
  /** Who set it: a user, a governor rule, an experiment, a tuner trial. */
  actor: string;
  reason: string;
  value: TunableValue;
  /** ISO 8601. */
  start: string;
  /** ISO 8601; the lease is gone from this instant on. */
  expires: string;
  /** The commit of the signed configuration it was set against. */
  commit: string;
}

export type LeaseCode =
  | 'not-tunable'
  | 'lease-owner-not-allowed'
  | 'lease-out-of-bounds'
  | 'lease-off-grid'
  | 'lease-wrong-type'
  | 'lease-ttl-too-long'
  | 'lease-bad-time'
  | 'lease-expired'
  | 'lease-cleared'
  | 'lease-dropped-on-restart';

export interface LeaseFinding {
  code: LeaseCode;
  message: string;
  hint: string;
}

/** What an environment allows of runtime leases, above what the specs allow. */
export interface LeasePolicy {
  /** Owners allowed at all (absent: every owner the spec allows). */
  owners?: readonly Owner[];
  /** The longest time to live of any lease (absent: the spec's). */
  maxTtlSeconds?: number;
}

/** Epoch milliseconds of an ISO time or of epoch milliseconds; NaN when it is not a time. */
export const toMs = (t: string | number): number => (typeof t === 'number' ? t : Date.parse(t));

/** Whether the lease is in force at `now` (started, not yet expired). */
export function isActive(lease: Lease, now: string | number): boolean {
  const n = toMs(now);
  return toMs(lease.start) <= n && n < toMs(lease.expires);
}

/** Everything wrong with `lease` under `spec` (undefined: the path is not tunable) and `policy`; empty when it may stand. */
export function checkLease(lease: Lease, spec: TunableSpec | undefined, policy: LeasePolicy = {}): LeaseFinding[] {
  if (!spec)
    return [
      {
        code: 'not-tunable',
        message: `${lease.path} is not tunable at runtime`,
        hint: 'only fields with x-tunable in schemas/ take leases',
      },
    ];
  const out: LeaseFinding[] = [];
  if (!spec.owners.includes(lease.owner) || (policy.owners && !policy.owners.includes(lease.owner)))
    out.push({
      code: 'lease-owner-not-allowed',
      message: `${lease.owner} may not set ${lease.path}`,
      hint: `owners allowed here: ${spec.owners.filter((o) => !policy.owners || policy.owners.includes(o)).join(', ') || '(none)'}`,
    });
  const typeOk = spec.kind === 'enum' ? true : typeof lease.value === 'number' && Number.isFinite(lease.value);
  if (!typeOk)
    out.push({
      code: 'lease-wrong-type',
      message: `${lease.path} takes a number, not ${JSON.stringify(lease.value)}`,
      hint: `give a number within ${describeBounds(spec)}`,
    });
  else if (!withinBounds(spec, lease.value))
    out.push({
      code: 'lease-out-of-bounds',
      message: `${JSON.stringify(lease.value)} is outside the bounds of ${lease.path}: ${describeBounds(spec)}`,
      hint: 'only a signed commit may widen the bounds',
    });
  else if (spec.kind === 'range' && !onGrid(lease.value as number, spec.origin, spec.step))
    out.push({
      code: 'lease-off-grid',
      message: `${String(lease.value)} is not on the grid of ${lease.path}: ${describeBounds(spec)}`,
      hint: `use ${spec.origin} + k * ${spec.step}`,
    });
  const start = toMs(lease.start);
  const expires = toMs(lease.expires);
  if (Number.isNaN(start) || Number.isNaN(expires) || expires <= start)
    out.push({
      code: 'lease-bad-time',
      message: `the lease on ${lease.path} runs from ${JSON.stringify(lease.start)} to ${JSON.stringify(lease.expires)}`,
      hint: 'start and expires are ISO 8601 times, expires after start',
    });
  else {
    const limit = Math.min(spec.max_ttl_seconds, policy.maxTtlSeconds ?? Infinity);
    if ((expires - start) / 1000 > limit)
      out.push({
        code: 'lease-ttl-too-long',
        message: `the lease on ${lease.path} lasts ${Math.round((expires - start) / 1000)} s; at most ${limit} s are allowed`,
        hint: `give a time to live of at most ${limit} s`,
      });
  }
  return out;
}

/** A lease from what a caller asks for: it starts at `now` and runs `ttlSeconds`, or the spec's default TTL. */
export function newLease(
  spec: TunableSpec,
  ask: { owner: Owner; actor: string; reason: string; value: TunableValue; commit: string; ttlSeconds?: number },
  now: string | number,
): Lease {
  const start = toMs(now);
  const ttl = ask.ttlSeconds ?? spec.default_ttl_seconds;
  return {
    path: spec.path,
    owner: ask.owner,
    actor: ask.actor,
    reason: ask.reason,
    value: ask.value,
    start: new Date(start).toISOString(),
    expires: new Date(start + ttl * 1000).toISOString(),
    commit: ask.commit,
  };
}

/**
 * What CI asks of a value a signed rule will write at runtime (a governor's ladder step, an
 * experiment's variant, a tuner's search space bound): the path is tunable, the owner may set it,
 * and the value lies within the bounds and on the grid. Times are not checked: they come later.
 */
export function checkAssignment(
  path: string,
  value: TunableValue,
  owner: Owner,
  specs: (path: string) => TunableSpec | undefined,
): LeaseFinding[] {
  const probe: Lease = {
    path,
    owner,
    value,
    actor: '',
    reason: '',
    start: '1970-01-01T00:00:00.000Z',
    expires: '1970-01-01T00:00:01.000Z',
    commit: '',
  };
  return checkLease(probe, specs(path)).filter((f) => f.code !== 'lease-ttl-too-long' && f.code !== 'lease-bad-time');
}

export interface DroppedLease {
  lease: Lease;
  /** Why: the findings against the new specs, or `restart` / `expired`. */
  why: LeaseFinding[];
}

/** The leases that still fit a new commit's specs; the others, with why. */
export function revalidate(
  leases: readonly Lease[],
  specs: (path: string) => TunableSpec | undefined,
  policy: LeasePolicy = {},
): { kept: Lease[]; dropped: DroppedLease[] } {
  const kept: Lease[] = [];
  const dropped: DroppedLease[] = [];
  for (const lease of leases) {
    const why = checkLease(lease, specs(lease.path), policy);
    if (why.length === 0) kept.push(lease);
    else dropped.push({ lease, why });
  }
  return { kept, dropped };
}

/** Owners whose leases survive a restart (until they expire); the others are recomputed from scratch. */
export const SURVIVES_RESTART: readonly Owner[] = ['operator'];

const restartFinding = (lease: Lease): LeaseFinding => ({
  code: 'lease-dropped-on-restart',
  message: `the ${lease.owner} lease on ${lease.path} ends with the restart`,
  hint: `${lease.owner} leases are recomputed after a restart; only operator leases are kept until they expire`,
});

/** After a restart: operator leases are kept until they expire; governor, tuner and experiment leases are dropped. */
export function afterRestart(
  leases: readonly Lease[],
  now?: string | number,
): { kept: Lease[]; dropped: DroppedLease[] } {
  const kept: Lease[] = [];
  const dropped: DroppedLease[] = [];
  for (const lease of leases) {
    if (!SURVIVES_RESTART.includes(lease.owner)) dropped.push({ lease, why: [restartFinding(lease)] });
    else if (now !== undefined && toMs(lease.expires) <= toMs(now))
      dropped.push({
        lease,
        why: [{ code: 'lease-expired', message: `the lease on ${lease.path} expired at ${lease.expires}`, hint: '' }],
      });
    else kept.push(lease);
  }
  return { kept, dropped };
}

/** One change of a field's runtime value (a lease set or cleared), for the change budget. */
export interface ChangeRecord {
  path: string;
  /** ISO 8601. */
  at: string;
}

export interface Budget {
  allowed: boolean;
  /** Changes of the path in the hour up to `now`. */
  used: number;
  limit: number;
  /** When the next change is allowed, when it is not now (ISO 8601). */
  retryAt?: string;
}

const HOUR_MS = 3_600_000;

/** Whether one more change of `spec.path` fits its budget: at most `max_changes_per_hour` in any hour. */
export function withinBudget(history: readonly ChangeRecord[], spec: TunableSpec, now: string | number): Budget {
  const n = toMs(now);
  const recent = history
    .filter((c) => c.path === spec.path)
    .map((c) => toMs(c.at))
    .filter((t) => t > n - HOUR_MS && t <= n)
    .sort((a, b) => a - b);
  const limit = spec.max_changes_per_hour;
  if (recent.length < limit) return { allowed: true, used: recent.length, limit };
  // the change that must leave the window before another fits
  const blocking = recent[recent.length - limit];
  return {
    allowed: false,
    used: recent.length,
    limit,
    ...(blocking !== undefined ? { retryAt: new Date(blocking + HOUR_MS).toISOString() } : {}),
  };
}
