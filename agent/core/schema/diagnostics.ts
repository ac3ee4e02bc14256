// ajv errors -> diagnostics a person can act on: the file, line and column the value came
// from, the allowed range or values, "Did you mean" for unknown keys and enum values.
// A message about a secret (a field whose schema has `x-secret`, or anything under a path the
// caller names as secret) never quotes its value, nor guesses at it.

import type { ErrorObject } from 'ajv';
import type { Diagnostic } from '../validate/diagnostics.js';
import { fromPointer, pointerToDotted, toPointer } from '../json/pointer.js';
import { isObject } from '../json/value.js';
import type { Segment } from '../json/pointer.js';
import type { JsonObject } from '../json/value.js';
import { closest } from '../format/suggest.js';

export type Locator = (
  pointer: string,
  preferKey?: boolean,
) => { file: string; line?: number; column?: number } | undefined;

/** Drops the branch errors of anyOf/oneOf (their summary error stays) and if/then noise. */
function relevant(errors: readonly ErrorObject[]): ErrorObject[] {
  const branches = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.schemaPath + '/');
  return errors.filter((e) => e.keyword !== 'if' && !branches.some((b) => e.schemaPath.startsWith(b)));
}

function describe(value: unknown, secret: boolean): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (isObject(value)) return 'a mapping';
  if (secret) return typeof value === 'string' ? 'a string' : `a ${typeof value}`;
  if (typeof value === 'string')
    return `a string (${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)})`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** Where a secret's value would be quoted. */
const SECRET_VALUE = 'a secret value (not shown)';

/** True when `segments` is a secret path or lies under one (`*` matches any key or index). */
function underSecret(segments: readonly Segment[], secretPaths: ReadonlyArray<readonly Segment[]>): boolean {
  return secretPaths.some((p) => p.length <= segments.length && p.every((s, i) => s === '*' || s === segments[i]));
}

function range(schema: JsonObject): string {
  const lo =
    schema.minimum !== undefined
      ? `at least ${String(schema.minimum)}`
      : schema.exclusiveMinimum !== undefined
        ? `more than ${String(schema.exclusiveMinimum)}`
        : undefined;
  const hi =
    schema.maximum !== undefined
      ? `at most ${String(schema.maximum)}`
      : schema.exclusiveMaximum !== undefined
        ? `less than ${String(schema.exclusiveMaximum)}`
        : undefined;
  return [lo, hi].filter(Boolean).join(' and ');
}

export interface SchemaDiagnosticsContext {
  scope?: string;
  /** Paths whose values are secret, besides every field whose own schema has `x-secret` (e.g. SchemaSet.annotated('x-secret')). */
  secretPaths?: ReadonlyArray<readonly Segment[]>;
}

export function schemaDiagnostics(
  errors: readonly ErrorObject[],
  locateAt: Locator,
  context: SchemaDiagnosticsContext = {},
): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const e of relevant(errors)) {
    const parent = (isObject(e.parentSchema) ? e.parentSchema : {}) as JsonObject;
    const secret = parent['x-secret'] === true || underSecret(fromPointer(e.instancePath), context.secretPaths ?? []);
    const value = secret ? SECRET_VALUE : JSON.stringify(e.data);
    const path = pointerToDotted(e.instancePath);
    const where = path || context.scope || 'the document';
    const doc = typeof parent.description === 'string' ? `${path}: ${parent.description}` : undefined;
    let d: Omit<Diagnostic, 'severity'> & { pointer: string; preferKey?: boolean };
    switch (e.keyword) {
      case 'additionalProperties': {
        const key = String((e.params as { additionalProperty: string }).additionalProperty);
        const allowed = isObject(parent.properties) ? Object.keys(parent.properties) : [];
        const guess = closest(key, allowed);
        d = {
          code: 'unknown-key',
          pointer: e.instancePath + toPointer([key]),
          preferKey: true,
          message: `"${key}" is not allowed in ${path || 'this document'}${guess ? `. Did you mean "${guess}"?` : ''}`,
          hint: allowed.length > 0 ? `allowed keys: ${allowed.join(', ')}` : 'remove the key',
          ...(guess ? { suggestion: guess } : {}),
        };
        break;
      }
      case 'enum': {
        const allowed = ((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map(String);
        const guess = typeof e.data === 'string' && !secret ? closest(e.data, allowed) : undefined;
        d = {
          code: 'schema-enum',
          pointer: e.instancePath,
          message: `${where} is ${value}, which is not one of the allowed values${guess ? `. Did you mean "${guess}"?` : ''}`,
          hint: `allowed values: ${allowed.join(', ')}`,
          ...(guess ? { suggestion: guess } : {}),
        };
        break;
      }
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum': {
        const limit = (e.params as { limit: number }).limit;
        const below = e.keyword.toLowerCase().includes('minimum');
        d = {
          code: 'schema-range',
          pointer: e.instancePath,
          message: `${where} is ${value}, ${below ? 'below the minimum' : 'above the maximum'} ${limit}`,
          hint: `allowed range: ${range(parent)}${doc ? ` (${doc})` : ''}`,
        };
        break;
      }
      case 'type': {
        const t = (e.params as { type: string | string[] }).type;
        d = {
          code: 'schema-type',
          pointer: e.instancePath,
          message: `${where} must be ${Array.isArray(t) ? t.join(' or ') : t}, not ${describe(e.data, secret)}`,
          ...(doc ? { hint: doc } : {}),
        };
        break;
      }
      case 'required': {
        const prop = (e.params as { missingProperty: string }).missingProperty;
        d = {
          code: 'schema-required',
          pointer: e.instancePath,
          preferKey: true,
          message: `${where} is missing the required key "${prop}"`,
          hint: `add "${prop}"${isObject(parent.properties) && isObject(parent.properties[prop]) && typeof parent.properties[prop].description === 'string' ? ` (${String(parent.properties[prop].description)})` : ''}`,
        };
        break;
      }
      case 'pattern':
      case 'format':
      case 'propertyNames': {
        const name =
          e.keyword === 'propertyNames' ? String((e.params as { propertyName?: string }).propertyName ?? '') : '';
        d = {
          code: 'schema-format',
          pointer: e.keyword === 'propertyNames' ? e.instancePath + toPointer([name]) : e.instancePath,
          preferKey: e.keyword === 'propertyNames',
          message:
            e.keyword === 'propertyNames'
              ? `key "${name}" in ${where} is not a valid name`
              : `${where} is ${value}, which ${e.message ?? 'is not valid'}`,
          hint:
            e.keyword === 'propertyNames'
              ? 'names are lower snake_case: a letter, then letters, digits or _'
              : (doc ?? 'check the value against the schema'),
        };
        break;
      }
      case 'anyOf':
      case 'oneOf':
        d = {
          code: 'schema-format',
          pointer: e.instancePath,
          message: `${where} is ${value}, which matches none of the allowed forms`,
          ...(doc ? { hint: doc } : {}),
        };
        break;
      default:
        d = {
          code: 'schema',
          pointer: e.instancePath,
          message: `${where} ${e.message ?? 'is not valid'}`,
          ...(doc ? { hint: doc } : {}),
        };
    }
    const { pointer, preferKey, ...rest } = d;
    const at = locateAt(pointer, preferKey);
    out.push({ severity: 'error', ...rest, ...(at ?? {}), path: pointerToDotted(pointer) });
  }
  return out;
}
