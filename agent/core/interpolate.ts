// `${environment}`, `${device.id}` and `${device.<label>}` in string values; nothing else is
// interpolated. `$${` writes a literal `${`.

import { isObject, toPointer } from './paths.js';
import type { Json, JsonObject } from './paths.js';

export interface InterpolationContext {
  environment: string;
  device?: { id: string; labels: Record<string, string> };
}

export interface InterpolationProblem {
  pointer: string;
  variable: string;
  known: string[];
}

export function interpolate(value: JsonObject, ctx: InterpolationContext): { value: JsonObject; problems: InterpolationProblem[] } {
  const problems: InterpolationProblem[] = [];
  const vars = new Map<string, string>([['environment', ctx.environment]]);
  if (ctx.device) {
    vars.set('device.id', ctx.device.id);
    for (const [k, v] of Object.entries(ctx.device.labels)) vars.set(`device.${k}`, v);
  }
  const walk = (v: Json, segments: string[]): Json => {
    if (typeof v === 'string') {
      if (!v.includes('${')) return v;
      return v.replace(/\$?\$\{([^}]*)\}/g, (match, name: string) => {
        if (match.startsWith('$$')) return match.slice(1);
        const hit = vars.get(name.trim());
        if (hit !== undefined) return hit;
        problems.push({ pointer: toPointer(segments), variable: name, known: [...vars.keys()] });
        return match;
      });
    }
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...segments, String(i)]));
    if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item, [...segments, k])]));
    return v;
  };
  return { value: walk(value, []) as JsonObject, problems };
}
