// JSON Merge Patch (RFC 7386) with provenance: maps merge key by key, arrays and scalars
// replace, null deletes. Every leaf remembers the file, line and layer it came from and the
// entry it overrode.

import { isAtOrBelow, toPointer } from '../json/pointer.js';
import { isObject } from '../json/value.js';
import type { Json, JsonObject } from '../json/value.js';

export type Layer = 'default' | 'base' | 'environment' | 'device' | 'secrets' | 'env' | 'runtime';

export interface Origin {
  layer: Layer;
  file: string;
  line?: number;
  column?: number;
}

export interface ProvenanceEntry extends Origin {
  /** The value this layer set (never kept for the secrets layer). */
  value?: Json;
  /** The entry this value replaced, if any (a chain down to the schema default). */
  overrode?: ProvenanceEntry;
}

/** pointer -> provenance of the leaf (scalar, array or empty object) at that pointer. */
export type Provenance = Map<string, ProvenanceEntry>;

export interface Rendered {
  value: JsonObject;
  provenance: Provenance;
}

/**
 * Applies `patch` over `target` without mutating either; `origin` says where each pointer came
 * from. `owned`: the caller owns `target`'s provenance (made by an earlier merge of its own and
 * shared with nobody), which is then updated in place instead of copied.
 */
export function mergeLayer(
  target: Rendered,
  patch: JsonObject,
  origin: (pointer: string) => Origin,
  owned = false,
): Rendered {
  const provenance: Provenance = owned ? target.provenance : new Map(target.provenance);
  const value = mergeObject(target.value, patch, '', provenance, origin);
  return { value, provenance };
}

/** Forgets the provenance at and below `pointer`; `hadSubtree` says whether a mapping was there. */
function dropBelow(provenance: Provenance, pointer: string, hadSubtree: boolean): ProvenanceEntry | undefined {
  const own = provenance.get(pointer);
  provenance.delete(pointer);
  if (hadSubtree) for (const key of [...provenance.keys()]) if (isAtOrBelow(key, pointer)) provenance.delete(key);
  return own;
}

function mergeObject(
  target: JsonObject,
  patch: JsonObject,
  base: string,
  provenance: Provenance,
  origin: (pointer: string) => Origin,
): JsonObject {
  const out: JsonObject = { ...target };
  for (const [key, patchValue] of Object.entries(patch)) {
    const pointer = base + toPointer([key]);
    const hadSubtree = isObject(out[key]);
    if (patchValue === null) {
      delete out[key];
      dropBelow(provenance, pointer, hadSubtree);
      continue;
    }
    if (isObject(patchValue)) {
      const current = out[key];
      let start: JsonObject;
      if (isObject(current)) {
        start = current;
        provenance.delete(pointer); // an empty-object leaf stops being a leaf once filled
      } else {
        dropBelow(provenance, pointer, false);
        start = {};
      }
      const merged = mergeObject(start, patchValue, pointer, provenance, origin);
      out[key] = merged;
      if (Object.keys(merged).length === 0) provenance.set(pointer, { ...origin(pointer) });
      continue;
    }
    const overrode = dropBelow(provenance, pointer, hadSubtree);
    out[key] = clone(patchValue);
    const o = origin(pointer);
    const entry: ProvenanceEntry = o.layer === 'secrets' ? { ...o } : { ...o, value: out[key] };
    if (overrode) entry.overrode = overrode;
    provenance.set(pointer, entry);
  }
  return out;
}

function clone(value: Json): Json {
  return Array.isArray(value)
    ? value.map(clone)
    : isObject(value)
      ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clone(v)]))
      : value;
}

/** The provenance of the leaf at or above `pointer` (values inside arrays belong to the array). */
export function provenanceFor(
  provenance: Provenance,
  pointer: string,
): { pointer: string; entry: ProvenanceEntry } | undefined {
  let p = pointer;
  for (;;) {
    const entry = provenance.get(p);
    if (entry) return { pointer: p, entry };
    if (p === '') return undefined;
    p = p.slice(0, p.lastIndexOf('/'));
  }
}

/** The provenance chain from the winning value down to the first value it replaced. */
export function provenanceChain(entry: ProvenanceEntry): Array<Omit<ProvenanceEntry, 'overrode'>> {
  const chain: Array<Omit<ProvenanceEntry, 'overrode'>> = [];
  for (let e: ProvenanceEntry | undefined = entry; e; e = e.overrode) {
    const { overrode: _next, ...rest } = e;
    chain.push(rest);
  }
  return chain;
}
