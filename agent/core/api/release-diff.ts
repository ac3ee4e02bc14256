// The difference between two releases a device ran, path by path, for the local API and the
// status page. Values come from the redacted views only; a secret that changed is reported as
// changed, with neither value.

import { deepEqual } from '../agent/plan.js';
import { leaves, pointerToDotted } from '../paths.js';
import type { Json, JsonObject } from '../paths.js';
import { REDACTED } from '../render.js';

export interface ReleaseView {
  /** The configuration as delivered (secrets in the clear): compared, never returned. */
  config: JsonObject;
  /** The same with every x-secret value replaced by <redacted>. */
  redacted: JsonObject;
}

export interface ReleaseChange {
  path: string;
  change: 'added' | 'removed' | 'changed';
  old?: Json;
  new?: Json;
  secret?: true;
}

export function releaseDiff(from: ReleaseView, to: ReleaseView): ReleaseChange[] {
  const a = new Map(leaves(from.config));
  const b = new Map(leaves(to.config));
  const ra = new Map(leaves(from.redacted));
  const rb = new Map(leaves(to.redacted));
  const out: ReleaseChange[] = [];
  for (const pointer of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const old = a.get(pointer);
    const now = b.get(pointer);
    if (old !== undefined && now !== undefined && deepEqual(old, now)) continue;
    const secret = ra.get(pointer) === REDACTED || rb.get(pointer) === REDACTED || (old !== undefined && ra.get(pointer) === undefined) || (now !== undefined && rb.get(pointer) === undefined);
    const change: ReleaseChange = { path: pointerToDotted(pointer), change: old === undefined ? 'added' : now === undefined ? 'removed' : 'changed' };
    if (secret) change.secret = true;
    else {
      if (old !== undefined) change.old = old;
      if (now !== undefined) change.new = now;
    }
    out.push(change);
  }
  return out;
}
