// A runtime that records lease requests and keeps the leases they make, for the units that drive
// the runtime layers (the experiments' reconciliation, the tuner) without a release behind them.

import type { Lease } from '../../agent/core/tunables/lease.js';
import type { LeaseRequest } from '../../agent/daemon/leases.js';

/** Applies `requests` to `leases` in place as RuntimeLayers would when nothing refuses them. */
export function applyRequests(leases: Lease[], requests: readonly LeaseRequest[], nowMs: number, commit: string): void {
  for (const r of requests) {
    const i = leases.findIndex((l) => l.path === r.path && l.owner === r.owner);
    if (i >= 0) leases.splice(i, 1);
    if (r.kind === 'set')
      leases.push({
        path: r.path,
        owner: r.owner,
        actor: r.actor,
        reason: r.reason,
        value: r.value,
        start: new Date(nowMs).toISOString(),
        expires: new Date(nowMs + (r.ttlSeconds ?? 900) * 1000).toISOString(),
        commit,
      });
  }
}
