// JSON values: the shape of every parsed document, and the walks over it.

import type { Segment } from './pointer.js';
import { pointerToDotted, toPointer } from './pointer.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function getAt(value: Json | undefined, segments: readonly Segment[]): Json | undefined {
  let cur: Json | undefined = value;
  for (const s of segments) {
    if (Array.isArray(cur)) cur = cur[Number(s)];
    else if (isObject(cur)) cur = Object.prototype.hasOwnProperty.call(cur, s) ? cur[s] : undefined;
    else return undefined;
  }
  return cur;
}

/** Every leaf (scalar, array, empty object) with its pointer. */
export function leaves(value: Json, base = ''): Array<[string, Json]> {
  if (isObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 0) return [[base, value]];
    return keys.flatMap((k) => leaves(value[k] as Json, base + toPointer([k])));
  }
  return [[base, value]];
}

export interface LeafChange {
  /** JSON Pointer of the leaf. */
  pointer: string;
  /** The same, dotted, as people read it. */
  path: string;
  change: 'added' | 'removed' | 'changed';
  old?: Json;
  new?: Json;
}

/** The leaves added, removed or changed from `before` to `after`, in the order of their dotted paths. */
export function leafChanges(before: JsonObject, after: JsonObject): LeafChange[] {
  const a = new Map(leaves(before));
  const b = new Map(leaves(after));
  const out: LeafChange[] = [];
  for (const [p, v] of b) {
    if (!a.has(p)) out.push({ pointer: p, path: pointerToDotted(p), change: 'added', new: v });
    else if (JSON.stringify(a.get(p)) !== JSON.stringify(v))
      out.push({ pointer: p, path: pointerToDotted(p), change: 'changed', old: a.get(p)!, new: v });
  }
  for (const [p, v] of a) if (!b.has(p)) out.push({ pointer: p, path: pointerToDotted(p), change: 'removed', old: v });
  return out.sort((x, y) => compareText(x.path, y.path));
}

/**
 * Orders text by UTF-16 code units, as git orders paths: the same on every machine whatever its
 * locale, and without ICU's collation data (localeCompare pages in about 2 MB of it).
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
