// Render: the layered merge of DESIGN.md section 2 for one environment and (optionally) one
// device, with provenance for every leaf and a way to map any path back to file:line:col.

import type { Diagnostic } from '../validate/diagnostics.js';
import { collectEnvOverrides, overridePointerMap, overridesPatch } from './env-overrides.js';
import { interpolate, MAX_INTERPOLATED_LENGTH, MAX_INTERPOLATED_TOTAL } from './interpolate.js';
import { mergeLayer, provenanceFor } from './merge.js';
import type { Layer, Origin, Provenance, ProvenanceEntry, Rendered } from './merge.js';
import { fromPointer, pointerToDotted, toPointer } from '../json/pointer.js';
import { isObject } from '../json/value.js';
import type { Json, JsonObject } from '../json/value.js';
import { configSectionFiles, deviceFile, environmentFile, overridesFile, secretsFile } from '../repo/layout.js';
import type { Repository } from '../repo/repository.js';
import { matchesSegments } from '../schema/schema-set.js';
import type { SchemaSet } from '../schema/schema-set.js';
import { closest } from '../format/suggest.js';
import { locate } from '../repo/yaml-source.js';
import type { ParsedDocument } from '../repo/documents.js';

export const REDACTED = '<redacted>';

export interface RenderTarget {
  environment: string;
  device?: string;
}

export interface DeviceInfo {
  id: string;
  model: string;
  labels: Record<string, string>;
  cohort?: string;
  description?: string;
}

export interface EnvironmentInfo {
  name: string;
  tier: string;
  policy: JsonObject;
}

export interface Location {
  file: string;
  line?: number;
  column?: number;
}

export interface RenderOptions {
  /** Process environment for x-env overrides. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Decrypted secrets (on the device); without them the secrets file contributes redacted values. */
  secrets?: JsonObject;
}

export interface RenderResult {
  target: RenderTarget;
  config: JsonObject;
  provenance: Provenance;
  environment: EnvironmentInfo | undefined;
  device: DeviceInfo | undefined;
  diagnostics: Diagnostic[];
  /** Where a configuration pointer was set (preferKey: the key rather than the value). */
  locate(pointer: string, preferKey?: boolean): Location | undefined;
}

const layerRank: Record<Layer, number> = {
  default: 0,
  base: 1,
  environment: 2,
  device: 3,
  secrets: 4,
  env: 5,
  runtime: 6,
};

/**
 * What every target of an environment shares: the schema defaults, the base section files and the
 * environment's overrides, merged once per repository and environment (a repository is never
 * changed once opened). A device then adds its own file, its secrets and its environment variables.
 */
interface SharedLayers {
  state: Rendered;
  docs: ReadonlyMap<string, ParsedDocument>;
  diagnostics: readonly Diagnostic[];
  environment: EnvironmentInfo | undefined;
}

const sharedMemo = new WeakMap<Repository, Map<string, SharedLayers>>();

function sharedLayers(repo: Repository, env: string): SharedLayers {
  let byEnv = sharedMemo.get(repo);
  if (!byEnv) sharedMemo.set(repo, (byEnv = new Map()));
  let hit = byEnv.get(env);
  if (!hit) byEnv.set(env, (hit = mergeShared(repo, env)));
  return hit;
}

/** `owned`: `state` was made by this render alone (mergeLayer may update its provenance in place). */
type LayerMerge = (state: Rendered, file: string, layer: Layer, value: JsonObject, owned?: boolean) => Rendered;

/** Reads documents for one render (each parse problem reported once) and merges their layers with located provenance. */
function layerReader(
  repo: Repository,
  docs: Map<string, ParsedDocument>,
  diagnostics: Diagnostic[],
): { docOf: (file: string) => ParsedDocument | undefined; layerFrom: LayerMerge } {
  return {
    // A document that does not parse is an error for every target that reads it: its layer is
    // never silently left out (a missing policy is never "no policy").
    docOf: (file) => {
      const d = repo.document(file);
      if (d) docs.set(file, d);
      if (d) diagnostics.push(...d.diagnostics);
      return d;
    },
    layerFrom: (state, file, layer, value, owned = false) => {
      const d = docs.get(file);
      const origin = (pointer: string): Origin => {
        const pos = d ? locate(d.positions, pointer) : undefined;
        const o: Origin = { layer, file };
        if (pos) Object.assign(o, pos);
        return o;
      };
      return mergeLayer(state, value, origin, owned);
    },
  };
}

function mergeShared(repo: Repository, env: string): SharedLayers {
  const diagnostics: Diagnostic[] = [];
  const schemas = repo.schemas;
  const docs = new Map<string, ParsedDocument>();
  const { docOf, layerFrom } = layerReader(repo, docs, diagnostics);

  // 1. schema defaults
  let state: Rendered = { value: {}, provenance: new Map() };
  if (schemas) {
    state = mergeLayer(state, schemas.defaults(), (pointer) => ({
      layer: 'default',
      file: schemas.fileOf(fromPointer(pointer)),
    }));
  }

  // 2. base: config/<section>.yaml, each holding the section of its own name
  const sections = schemas?.sections() ?? [];
  for (const file of configSectionFiles(repo.files)) {
    const d = docOf(file);
    if (!d?.value) continue;
    const name = file.slice('config/'.length).replace(/\.ya?ml$/, '');
    const body = withoutKeys(d.value, ['version']);
    if (!sections.includes(name)) {
      const guess = closest(name, sections);
      diagnostics.push({
        severity: 'error',
        code: 'unknown-section-file',
        message: `${file} is not a configuration section${guess ? `. Did you mean config/${guess}.yaml?` : ''}`,
        file,
        line: 1,
        column: 1,
        hint: `files directly under config/ are named for their section: ${sections.join(', ')}`,
        ...(guess ? { suggestion: `config/${guess}.yaml` } : {}),
      });
      continue;
    }
    for (const key of Object.keys(body)) {
      if (key === name) continue;
      const pos = locate(d.positions, toPointer([key]), true);
      diagnostics.push({
        severity: 'error',
        code: 'section-file-mismatch',
        message: `${file} may only hold the "${name}" section, not "${key}"`,
        file,
        ...(pos ?? {}),
        hint: sections.includes(key) ? `move it to config/${key}.yaml` : `remove "${key}" or move it under ${name}`,
      });
    }
    if (isObject(body[name])) state = layerFrom(state, file, 'base', { [name]: body[name] });
  }

  // environment policy document
  let environment: EnvironmentInfo | undefined;
  const envDoc = docOf(environmentFile(env));
  if (!envDoc) diagnostics.push(missingEnvironmentFile(env));
  if (envDoc?.value) {
    const policy = isObject(envDoc.value.policy) ? envDoc.value.policy : {};
    environment = {
      name: env,
      tier: typeof envDoc.value.tier === 'string' ? envDoc.value.tier : 'development',
      policy,
    };
  }

  // 3. environments/<env>/overrides.yaml (its tunables: narrow runtime bounds, agent/core/tunables, and are not rendered)
  const over = docOf(overridesFile(env));
  if (over?.value) state = layerFrom(state, over.file, 'environment', withoutKeys(over.value, ['version', 'tunables']));
  return { state, docs, diagnostics, environment };
}

/**
 * The files a target's render reads (besides the schemas): its environment's shared layers, its
 * device file and its secrets file. A change that touches none of them (nor a schema) leaves the
 * rendered configuration as it was.
 */
export function renderInputs(repo: Repository, target: RenderTarget): string[] {
  const files = [...sharedLayers(repo, target.environment).docs.keys(), secretsFile(target.environment)];
  if (target.device !== undefined) files.push(deviceFile(target.environment, target.device));
  return files;
}

export function render(repo: Repository, target: RenderTarget, options: RenderOptions = {}): RenderResult {
  const schemas = repo.schemas;
  const { environment: env } = target;
  const shared = sharedLayers(repo, env);
  const diagnostics: Diagnostic[] = [...shared.diagnostics];
  const docs = new Map(shared.docs);
  const { docOf, layerFrom } = layerReader(repo, docs, diagnostics);
  let state = shared.state;
  const environment = shared.environment;

  // 4. environments/<env>/devices/<id>.yaml
  let device: DeviceInfo | undefined;
  if (target.device !== undefined) {
    const d = docOf(deviceFile(env, target.device));
    if (!d)
      diagnostics.push({
        severity: 'error',
        code: 'unknown-device',
        message: `there is no device "${target.device}" in ${env}`,
        file: deviceFile(env, target.device),
        hint: `add it with gitops device add ${target.device} --env ${env} --model MODEL`,
      });
    if (d?.value) {
      const meta = isObject(d.value.device) ? d.value.device : {};
      device = {
        id: target.device,
        model: typeof meta.model === 'string' ? meta.model : '',
        labels: isObject(meta.labels)
          ? (Object.fromEntries(Object.entries(meta.labels).map(([k, v]) => [k, String(v)])) as Record<string, string>)
          : {},
        ...(typeof meta.cohort === 'string' ? { cohort: meta.cohort } : {}),
        ...(typeof meta.description === 'string' ? { description: meta.description } : {}),
      };
      if (typeof meta.id === 'string' && meta.id !== target.device) {
        const pos = locate(d.positions, '/device/id');
        diagnostics.push({
          severity: 'error',
          code: 'device-id-mismatch',
          message: `device.id "${meta.id}" does not match the file name ${target.device}.yaml`,
          file: d.file,
          ...(pos ?? {}),
          hint: `set device.id to "${target.device}" or rename the file`,
        });
      }
      state = layerFrom(state, d.file, 'device', withoutKeys(d.value, ['version', 'device', 'tunables']));
    }
  }

  // 5. secrets: decrypted on the device; elsewhere the keys of the SOPS file with redacted values
  const secretsPath = secretsFile(env);
  // the device's layer made a provenance of this render's own: the secrets update it in place
  const owned = state !== shared.state;
  if (options.secrets) {
    docOf(secretsPath);
    state = layerFrom(state, secretsPath, 'secrets', options.secrets, owned);
  } else {
    const s = repo.files.has(secretsPath) ? docOf(secretsPath) : undefined;
    if (s?.value)
      state = layerFrom(state, secretsPath, 'secrets', redactLeaves(withoutKeys(s.value, ['sops', 'version'])), owned);
  }

  // 6. environment variables allowed by x-env and the policy
  if (schemas && options.env) {
    const allowed = Array.isArray(environment?.policy.allowed_env_overrides)
      ? environment.policy.allowed_env_overrides.map(String)
      : [];
    const { overrides, diagnostics: envDiags } = collectEnvOverrides(schemas, options.env, allowed, env);
    diagnostics.push(...envDiags);
    if (overrides.length > 0) {
      const byPointer = overridePointerMap(overrides);
      state = mergeLayer(state, overridesPatch(overrides), (pointer) => ({
        layer: 'env',
        file: `env:${byPointer.get(pointer) ?? '?'}`,
      }));
    }
  }

  // interpolation
  const interpolated = interpolate(state.value, {
    environment: env,
    ...(device ? { device: { id: device.id, labels: device.labels } } : {}),
  });

  const locateFn = (pointer: string, preferKey = false): Location | undefined => {
    const entry = originFor(state.provenance, pointer);
    if (!entry) return undefined;
    const d = docs.get(entry.file);
    const pos = d ? locate(d.positions, pointer, preferKey) : undefined;
    return {
      file: entry.file,
      ...(pos ?? (entry.line !== undefined ? { line: entry.line, column: entry.column } : {})),
    };
  };

  for (const p of interpolated.problems) {
    const at = locateFn(p.pointer);
    if (p.tooLong) {
      diagnostics.push({
        severity: 'error',
        code: 'interpolation-too-long',
        message:
          `\${${p.variable}} makes ${pointerToDotted(p.pointer)} longer than ${MAX_INTERPOLATED_LENGTH} characters ` +
          `(or all interpolated values longer than ${MAX_INTERPOLATED_TOTAL})`,
        ...(at ?? {}),
        path: pointerToDotted(p.pointer),
        hint: 'use shorter labels, or write the value out',
      });
      continue;
    }
    const guess = closest(p.variable.trim(), p.known);
    diagnostics.push({
      severity: target.device === undefined && p.variable.startsWith('device.') ? 'info' : 'error',
      code: 'unknown-variable',
      message: `\${${p.variable}} is not a known variable${guess ? `. Did you mean \${${guess}}?` : ''}`,
      ...(at ?? {}),
      hint: `variables available here: ${p.known.map((k) => `\${${k}}`).join(', ')}; labels come from device.labels in the device file`,
      ...(guess ? { suggestion: `\${${guess}}` } : {}),
    });
  }

  return {
    target,
    config: interpolated.value,
    provenance: state.provenance,
    environment,
    device,
    diagnostics,
    locate: locateFn,
  };
}

export function missingEnvironmentFile(env: string): Diagnostic {
  return {
    severity: 'error',
    code: 'missing-environment-file',
    message: `environment "${env}" has no environment.yaml`,
    file: environmentFile(env),
    hint: "create it with version, name, tier and policy (copy another environment's)",
  };
}

/** The provenance of the leaf at or above `pointer`, else of the most specific leaf below it. */
export function originFor(provenance: Provenance, pointer: string): ProvenanceEntry | undefined {
  const hit = provenanceFor(provenance, pointer);
  if (hit) return hit.entry;
  let best: ProvenanceEntry | undefined;
  const prefix = pointer + '/';
  for (const [p, entry] of provenance) {
    if (p.startsWith(prefix) && (!best || layerRank[entry.layer] > layerRank[best.layer])) best = entry;
  }
  return best;
}

function withoutKeys(value: JsonObject, keys: readonly string[]): JsonObject {
  return Object.fromEntries(Object.entries(value).filter(([k]) => !keys.includes(k)));
}

function redactLeaves(value: JsonObject): JsonObject {
  const walk = (v: Json): Json =>
    isObject(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)])) : REDACTED;
  return walk(value) as JsonObject;
}

/**
 * Replaces every `x-secret` value with `<redacted>`. Only the paths that lead to a secret are
 * walked and copied; the rest is shared with `config` (never mutated).
 */
export function redactSecrets(repo: Repository, config: JsonObject): JsonObject {
  const secrets = repo.schemas?.annotated('x-secret') ?? [];
  if (secrets.length === 0) return config;
  // `patterns`: the secrets' paths whose first `depth` segments match the way to `v`
  const walk = (v: Json, patterns: ReadonlyArray<readonly string[]>, depth: number): Json => {
    if (patterns.some((p) => p.length === depth)) return REDACTED;
    const entries: Array<[string, Json]> | undefined = isObject(v)
      ? Object.entries(v)
      : Array.isArray(v)
        ? v.map((x, i) => [String(i), x])
        : undefined;
    if (!entries) return v;
    let copy: Json[] | JsonObject | undefined;
    for (const [k, x] of entries) {
      const next = patterns.filter((p) => p[depth] === '*' || p[depth] === k);
      if (next.length === 0) continue;
      const redacted = walk(x, next, depth + 1);
      if (redacted === x) continue;
      copy ??= Array.isArray(v) ? [...v] : { ...(v as JsonObject) };
      (copy as Record<string, Json>)[k] = redacted;
    }
    return copy ?? v;
  };
  return walk(
    config,
    secrets.map((s) => s.segments),
    0,
  ) as JsonObject;
}

/** Whether a configuration pointer is an `x-secret` field, per schema set (the pointers repeat for every target). */
const secretPointers = new WeakMap<SchemaSet, Map<string, boolean>>();

/** x-secret values written anywhere but the secrets file, in any layer (even when overridden). */
export function plaintextSecrets(
  repo: Repository,
  result: RenderResult,
): Array<{ pointer: string; entry: ProvenanceEntry }> {
  const schemas = repo.schemas;
  if (!schemas) return [];
  let memo = secretPointers.get(schemas);
  if (!memo) secretPointers.set(schemas, (memo = new Map()));
  const secrets = schemas.annotated('x-secret');
  const isSecret = (pointer: string): boolean => {
    let hit = memo.get(pointer);
    if (hit === undefined)
      memo.set(pointer, (hit = secrets.some((s) => matchesSegments(s.segments, fromPointer(pointer)))));
    return hit;
  };
  const out: Array<{ pointer: string; entry: ProvenanceEntry }> = [];
  for (const [pointer, leaf] of result.provenance) {
    if (!isSecret(pointer)) continue;
    for (let e: ProvenanceEntry | undefined = leaf; e; e = e.overrode)
      if (e.layer !== 'secrets' && e.layer !== 'default') out.push({ pointer, entry: e });
  }
  return out;
}
