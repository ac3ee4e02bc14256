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

/**
 * The leaves added, removed or changed from `before` to `after`, in the order of their dotted
 * paths. Both are walked together: a subtree they share (the same object) is not walked.
 */
export function leafChanges(before: JsonObject, after: JsonObject): LeafChange[] {
  const out: LeafChange[] = [];
  const push = (pointer: string, change: LeafChange['change'], values: { old?: Json; new?: Json }): void =>
    void out.push({ pointer, path: pointerToDotted(pointer), change, ...values });
  const filled = (v: Json | undefined): v is JsonObject => isObject(v) && Object.keys(v).length > 0;
  const walk = (a: Json | undefined, b: Json | undefined, pointer: string): void => {
    if (a === b) return;
    if (filled(a) && filled(b)) {
      for (const k of Object.keys(b)) walk(Object.hasOwn(a, k) ? a[k] : undefined, b[k], pointer + toPointer([k]));
      for (const k of Object.keys(a)) if (!Object.hasOwn(b, k)) walk(a[k], undefined, pointer + toPointer([k]));
    } else if (filled(a)) {
      for (const [p, v] of leaves(a, pointer)) push(p, 'removed', { old: v });
      if (b !== undefined) push(pointer, 'added', { new: b });
    } else if (filled(b)) {
      if (a !== undefined) push(pointer, 'removed', { old: a });
      for (const [p, v] of leaves(b, pointer)) push(p, 'added', { new: v });
    } else if (a === undefined) push(pointer, 'added', { new: b! });
    else if (b === undefined) push(pointer, 'removed', { old: a });
    else if (JSON.stringify(a) !== JSON.stringify(b)) push(pointer, 'changed', { old: a, new: b });
  };
  walk(before, after, '');
  return out.sort((x, y) => compareText(x.path, y.path));
}

/**
 * Orders text by UTF-16 code units, as git orders paths: the same on every machine whatever its
 * locale, and without ICU's collation data (localeCompare pages in about 2 MB of it).
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
