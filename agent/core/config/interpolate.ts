// `${environment}`, `${device.id}` and `${device.<label>}` in string values; nothing else is
// interpolated. `$${` writes a literal `${`.

import { toPointer } from '../json/pointer.js';
import type { Json, JsonObject } from '../json/value.js';

export interface InterpolationContext {
  environment: string;
  device?: { id: string; labels: Record<string, string> };
}

export interface InterpolationProblem {
  pointer: string;
  variable: string;
  known: string[];
  /** The string would grow past MAX_INTERPOLATED_LENGTH (or all of them past the total budget). */
  tooLong?: true;
}

/** The longest string interpolation may produce: a signed commit cannot make the device build huge strings. */
export const MAX_INTERPOLATED_LENGTH = 16 * 1024;
/** What all the interpolated strings of one configuration may add up to. */
export const MAX_INTERPOLATED_TOTAL = 1024 * 1024;

/**
 * Objects and arrays that hold no `${` anywhere below (whatever the context): returned as they
 * are. The layers a device shares with its environment are merged once, so a fleet's devices
 * share those subtrees and each one walks only what its own file changed.
 */
const templateFree = new WeakSet<object>();

/**
 * Interpolates every string of `value`. The input is never changed; what holds no variable is
 * shared with it (the rendered configuration is never mutated).
 */
export function interpolate(
  value: JsonObject,
  ctx: InterpolationContext,
): { value: JsonObject; problems: InterpolationProblem[] } {
  const problems: InterpolationProblem[] = [];
  const vars = new Map<string, string>([['environment', ctx.environment]]);
  if (ctx.device) {
    vars.set('device.id', ctx.device.id);
    for (const [k, v] of Object.entries(ctx.device.labels)) vars.set(`device.${k}`, v);
  }
  let total = 0;
  let templated = 0;
  const text = (v: string, segments: readonly string[]): string => {
    if (!v.includes('${')) return v;
    templated++;
    // the length is counted before any text is built
    let length = v.length;
    let over: string | undefined;
    const out = v.replace(/\$?\$\{([^}]*)\}/g, (match, name: string) => {
      if (match.startsWith('$$')) return match.slice(1);
      const hit = vars.get(name.trim());
      if (hit === undefined) {
        problems.push({ pointer: toPointer(segments), variable: name, known: [...vars.keys()] });
        return match;
      }
      length += hit.length - match.length;
      if (over !== undefined || length > MAX_INTERPOLATED_LENGTH || total + length > MAX_INTERPOLATED_TOTAL) {
        over ??= name;
        return '';
      }
      return hit;
    });
    if (over === undefined) {
      total += out.length;
      return out;
    }
    problems.push({ pointer: toPointer(segments), variable: over, known: [...vars.keys()], tooLong: true });
    return v;
  };
  const walk = (v: Json, segments: string[]): Json => {
    if (typeof v === 'string') return text(v, segments);
    if (v === null || typeof v !== 'object' || templateFree.has(v)) return v;
    const before = templated;
    let out: Json;
    if (Array.isArray(v)) {
      const items = v.map((item, i) => walk(item, [...segments, String(i)]));
      out = items.some((item, i) => item !== v[i]) ? items : v;
    } else {
      let copy: JsonObject | undefined;
      for (const [k, item] of Object.entries(v)) {
        const next = walk(item, [...segments, k]);
        if (next !== item) (copy ??= { ...v })[k] = next;
      }
      out = copy ?? v;
    }
    if (templated === before) templateFree.add(v);
    return out;
  };
  return { value: walk(value, []) as JsonObject, problems };
}
