// leafChanges walks two configurations together and skips what they share; what it reports is
// the difference of their leaf maps (each leaf: a scalar, an array or an empty mapping), sorted.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareText, leafChanges, leaves } from '../../agent/core/json/value.js';
import type { Json, JsonObject } from '../../agent/core/json/value.js';
import { pointerToDotted } from '../../agent/core/json/pointer.js';

/** The reference: both sides flattened to their leaves, then compared pointer by pointer. */
function byLeaves(before: JsonObject, after: JsonObject): ReturnType<typeof leafChanges> {
  const a = new Map(leaves(before));
  const b = new Map(leaves(after));
  const out: ReturnType<typeof leafChanges> = [];
  for (const [p, v] of b) {
    if (!a.has(p)) out.push({ pointer: p, path: pointerToDotted(p), change: 'added', new: v });
    else if (JSON.stringify(a.get(p)) !== JSON.stringify(v))
      out.push({ pointer: p, path: pointerToDotted(p), change: 'changed', old: a.get(p)!, new: v });
  }
  for (const [p, v] of a) if (!b.has(p)) out.push({ pointer: p, path: pointerToDotted(p), change: 'removed', old: v });
  return out.sort((x, y) => compareText(x.path, y.path));
}

const key = fc.constantFrom('a', 'b', 'c', 'fps', 'zones');
const { tree } = fc.letrec<{ tree: JsonObject; value: Json }>((tie) => ({
  tree: fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  value: fc.oneof({ depthSize: 'small' }, fc.constantFrom<Json>(1, 2, 'x', true, null, [], [1], {}), tie('tree')),
}));

describe('leafChanges', () => {
  it('equals the difference of the two leaf maps, for any two configurations', () => {
    fc.assert(
      fc.property(tree, tree, (before, after) => {
        expect(leafChanges(before, after)).toEqual(byLeaves(before, after));
      }),
      { numRuns: 500 },
    );
  });

  it('a configuration against an edit of itself that shares the untouched parts', () => {
    fc.assert(
      fc.property(tree, tree, (before, extra) => {
        const after = { ...before, extra };
        expect(leafChanges(before, after)).toEqual(byLeaves(before, after));
      }),
    );
  });
});
