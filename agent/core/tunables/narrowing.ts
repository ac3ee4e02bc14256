// `tunables:` in the signed configuration (environments/<env>/overrides.yaml, then a device file):
// each entry narrows a tunable field's runtime bounds for that environment or device. Validation
// refuses an entry that widens what the layer below allows, names a path that does not exist or
// is not tunable, or whose bounds exclude the value the same configuration gives the field.

import type { Finding } from '../config/types.js';
import type { RenderTarget } from '../config/render.js';
import { closest } from '../format/suggest.js';
import { isAtOrBelow, toPointer } from '../json/pointer.js';
import { getAt, isObject } from '../json/value.js';
import type { JsonObject } from '../json/value.js';
import { deviceFile, overridesFile } from '../repo/layout.js';
import type { Repository } from '../repo/repository.js';
import { locate } from '../repo/yaml-source.js';
import type { Diagnostic } from '../validate/diagnostics.js';
import { describeBounds, keySegments, narrowSpec, tunableTable, withinBounds } from './spec.js';
import type { NarrowingLayer, TunableTable } from './spec.js';

/** The `tunables:` of one document, or undefined when it has none (or the file is missing). */
function layerOf(repo: Repository, file: string): NarrowingLayer | undefined {
  const t = repo.document(file)?.value?.tunables;
  return isObject(t) ? { file, tunables: t } : undefined;
}

/** The signed layers that narrow a target's tunables, lowest first. */
export function narrowingLayers(repo: Repository, target: RenderTarget): NarrowingLayer[] {
  const files = [overridesFile(target.environment)];
  if (target.device !== undefined) files.push(deviceFile(target.environment, target.device));
  return files.map((f) => layerOf(repo, f)).filter((l): l is NarrowingLayer => l !== undefined);
}

/** The tunable specs of one environment or device, after every signed narrowing. */
export function targetTunables(repo: Repository, target: RenderTarget): TunableTable | undefined {
  if (!repo.schemas) return undefined;
  const layers = narrowingLayers(repo, target);
  // targets narrowed by the same files (most devices: their environment's alone) share one table
  const key = layers.map((l) => l.file).join('\0');
  let byLayers = tables.get(repo);
  if (!byLayers) tables.set(repo, (byLayers = new Map()));
  let table = byLayers.get(key);
  if (!table) byLayers.set(key, (table = tunableTable(repo.schemas, layers)));
  return table;
}

const tables = new WeakMap<Repository, Map<string, TunableTable>>();

/**
 * Checks the `tunables:` of an environment's overrides (against the schema, unless `devicesOnly`)
 * and of the device files of `devices` (against the schema narrowed by the environment; all of
 * the environment's by default). Located diagnostics.
 */
export function checkNarrowings(
  repo: Repository,
  env: string,
  devices: readonly string[] = repo.devices(env),
  devicesOnly = false,
): Diagnostic[] {
  const schemas = repo.schemas;
  if (!schemas) return [];
  const envLayer = layerOf(repo, overridesFile(env));
  const out: Diagnostic[] = [];
  const check = (layer: NarrowingLayer, below: NarrowingLayer[], schema: 'config' | 'device'): void => {
    const doc = repo.document(layer.file)!;
    const positions = doc.positions;
    // an entry the schema refuses is reported by the document check alone
    const refused = schemas.validate(schema, doc.value).map((e) => e.instancePath);
    const table = tunableTable(schemas, below);
    const tunablePaths = table.patterns().map((s) => s.path);
    const at = (pointer: string): { file: string; line?: number; column?: number } => ({
      file: layer.file,
      ...(locate(positions, pointer, true) ?? {}),
    });
    for (const [key, narrowing] of Object.entries(layer.tunables)) {
      if (!isObject(narrowing)) continue; // the schema reports it
      const base = toPointer(['tunables', key]);
      if (refused.some((p) => isAtOrBelow(p, base))) continue;
      const segments = keySegments(key);
      const spec = table.at(segments);
      if (!spec) {
        const exists = schemas.nodeAt(segments) !== undefined;
        const guess = closest(key, tunablePaths);
        out.push({
          severity: 'error',
          code: exists ? 'not-tunable' : 'unknown-path',
          message: exists
            ? `${key} is not tunable at runtime, so it cannot be narrowed`
            : `${key} is not a configuration path${guess ? `. Did you mean "${guess}"?` : ''}`,
          ...at(base),
          path: key,
          hint: `tunable fields (x-tunable in schemas/): ${tunablePaths.join(', ')}`,
          ...(guess ? { suggestion: guess } : {}),
        });
        continue;
      }
      for (const p of narrowSpec(spec, narrowing, layer.file).problems)
        out.push({
          severity: 'error',
          code: p.code,
          message: p.message,
          ...at(base + p.pointer),
          path: key,
          hint: p.hint,
        });
    }
  };
  if (envLayer && !devicesOnly) check(envLayer, [], 'config');
  for (const device of devices) {
    const layer = layerOf(repo, deviceFile(env, device));
    if (layer) check(layer, envLayer ? [envLayer] : [], 'device');
  }
  return out;
}

/**
 * The rendered value of every narrowed tunable must lie within its narrowed bounds: bounds that
 * exclude the value the same commit gives the field are a contradiction, refused rather than clamped.
 */
export function checkSignedValues(repo: Repository, target: RenderTarget, config: JsonObject): Finding[] {
  const table = targetTunables(repo, target);
  if (!table) return [];
  const out: Finding[] = [];
  for (const spec of table.concrete(config)) {
    if (spec.narrowed_by.length === 0) continue;
    const segments = keySegments(spec.path);
    const value = getAt(config, segments);
    if (withinBounds(spec, value)) continue;
    out.push({
      severity: 'error',
      code: 'tunable-value-out-of-bounds',
      message: `${spec.path} is ${JSON.stringify(value)}, outside its tunable bounds ${describeBounds(spec)} (narrowed by ${spec.narrowed_by.join(', ')})`,
      pointer: toPointer(segments),
      hint: `give ${spec.path} a value within ${describeBounds(spec)}, or narrow its bounds so that they hold it`,
    });
  }
  return out;
}
