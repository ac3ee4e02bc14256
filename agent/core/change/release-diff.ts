// The difference between two releases a device ran, path by path, for the local API and the
// status page. Values come from the redacted views only; a secret that changed is reported as
// changed, with neither value.

import { leafChanges, leaves } from '../json/value.js';
import type { Json, JsonObject } from '../json/value.js';
import { REDACTED } from '../config/render.js';

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
  const ra = new Map(leaves(from.redacted));
  const rb = new Map(leaves(to.redacted));
  return leafChanges(from.config, to.config).map(({ pointer, path, change, ...values }) => {
    const secret =
      ra.get(pointer) === REDACTED ||
      rb.get(pointer) === REDACTED ||
      (values.old !== undefined && !ra.has(pointer)) ||
      (values.new !== undefined && !rb.has(pointer));
    return secret ? { path, change, secret: true } : { path, change, ...values };
  });
}
