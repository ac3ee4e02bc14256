// Environment-variable overrides (layer 6): only fields whose schema names the variable in
// `x-env`, coerced to the field's type, and only those the environment's policy allows.

import type { Diagnostic } from '../validate/diagnostics.js';
import { toDotted, toPointer } from '../json/pointer.js';
import { isObject } from '../json/value.js';
import type { Json, JsonObject } from '../json/value.js';
import type { SchemaSet } from '../schema/schema-set.js';

export interface EnvOverride {
  variable: string;
  segments: string[];
  value: Json;
}

/** Turns the text of a variable into the type its schema asks for; undefined when it cannot. */
export function coerce(text: string, schema: JsonObject): Json | undefined {
  const types = Array.isArray(schema.type) ? schema.type : schema.type !== undefined ? [schema.type] : [];
  if (Array.isArray(schema.enum)) {
    const hit = schema.enum.find((e) => String(e) === text);
    return hit === undefined ? undefined : (hit as Json);
  }
  const t = text.trim();
  if (types.includes('integer')) return /^[+-]?\d+$/.test(t) ? Number(t) : undefined;
  if (types.includes('number')) return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) ? Number(t) : undefined;
  if (types.includes('boolean'))
    return /^(true|1|yes|on)$/i.test(t) ? true : /^(false|0|no|off)$/i.test(t) ? false : undefined;
  return text;
}

export function collectEnvOverrides(
  schemas: SchemaSet,
  env: Readonly<Record<string, string | undefined>>,
  allowed: readonly string[],
  environment: string,
): { overrides: EnvOverride[]; diagnostics: Diagnostic[] } {
  const overrides: EnvOverride[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const { segments, schema } of schemas.annotated('x-env')) {
    const variable = schema['x-env'] as string;
    const text = env[variable];
    if (text === undefined || segments.includes('*')) continue;
    const path = toDotted(segments);
    if (!allowed.includes(variable)) {
      diagnostics.push({
        severity: 'warning',
        code: 'env-override-forbidden',
        message: `${variable} is set but the ${environment} policy does not allow it to override ${path}; it is ignored`,
        file: `environments/${environment}/environment.yaml`,
        path,
        hint: `unset ${variable}, or add it to policy.allowed_env_overrides in environments/${environment}/environment.yaml`,
      });
      continue;
    }
    const value = coerce(text, schema);
    if (value === undefined) {
      const expected = Array.isArray(schema.enum) ? `one of ${schema.enum.join(', ')}` : `a ${String(schema.type)}`;
      diagnostics.push({
        severity: 'error',
        code: 'env-override-type',
        message: `${variable}=${JSON.stringify(text)} is not ${expected} (it overrides ${path})`,
        file: `env:${variable}`,
        path,
        hint: `set ${variable} to ${expected}, or unset it`,
      });
      continue;
    }
    overrides.push({ variable, segments, value });
  }
  return { overrides, diagnostics };
}

/** The overrides as a merge patch. */
export function overridesPatch(overrides: readonly EnvOverride[]): JsonObject {
  const patch: JsonObject = {};
  for (const o of overrides) {
    let cur = patch;
    o.segments.slice(0, -1).forEach((s) => {
      if (!isObject(cur[s])) cur[s] = {};
      cur = cur[s] as JsonObject;
    });
    cur[o.segments[o.segments.length - 1]!] = o.value;
  }
  return patch;
}

export function overridePointerMap(overrides: readonly EnvOverride[]): Map<string, string> {
  return new Map(overrides.map((o) => [toPointer(o.segments), o.variable]));
}
