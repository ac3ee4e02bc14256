// The JSON Schemas of a repository (schemas/*.schema.json), compiled once with ajv (2020-12,
// strict, all errors), plus what the renderer needs from them: defaults, `x-env`, `x-secret`,
// `x-tunable` (checked here as the schemas load: agent/core/tunables/annotation.ts), descriptions
// and the names allowed at each path.

import type { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Diagnostic } from '../validate/diagnostics.js';
import { compareText, isObject } from '../json/value.js';
import type { Segment } from '../json/pointer.js';
import type { Json, JsonObject } from '../json/value.js';
import type { RepoFiles } from '../repo/layout.js';
import { SCHEMA_DIR } from '../repo/layout.js';
import { indexPositions, locate, parseSource } from '../repo/yaml-source.js';
import { checkAnnotation } from '../tunables/annotation.js';

// ajv is loaded only when schemas must be compiled: with a warm compiled-schema cache a cold
// process never pays for loading the compiler.
const lazyRequire = createRequire(import.meta.url);
export const newAjv = (): Ajv2020 => {
  const { Ajv2020: AjvClass } = lazyRequire('ajv/dist/2020.js') as {
    Ajv2020: new (options: typeof AJV_OPTIONS) => Ajv2020;
  };
  const addFormats = lazyRequire('ajv-formats') as (ajv: Ajv2020) => Ajv2020;
  const ajv = new AjvClass(AJV_OPTIONS);
  addFormats(ajv);
  ajv.addKeyword({ keyword: 'x-env', schemaType: 'string' });
  ajv.addKeyword({ keyword: 'x-secret', schemaType: 'boolean' });
  ajv.addKeyword({ keyword: 'x-tunable', schemaType: 'object' });
  return ajv;
};
const standaloneCode = (ajv: Ajv2020, refs: Record<string, string>): string =>
  (
    lazyRequire('ajv/dist/standalone/index.js') as { default: (a: Ajv2020, r: Record<string, string>) => string }
  ).default(ajv, refs);

/**
 * Compiling the schemas is most of a cold start (about 100 ms). A cache keeps the validators
 * as ajv standalone code keyed by the schemas' digest; `load` turns that code back into
 * functions (it needs `require`, so it is implemented in agent/io).
 */
export interface CompiledSchemaCache {
  load(key: string): Partial<Record<SchemaName, ValidateFunction>> | undefined;
  store(key: string, code: string): void;
}

const AJV_OPTIONS = {
  strict: true,
  allErrors: true,
  verbose: true,
  allowUnionTypes: true,
  code: { source: true, optimize: false },
} as const;

export const SCHEMA_BASE = 'https://doorbell-gitops.local/schemas/';

export const SCHEMA_NAMES = {
  config: 'config.schema.json',
  environment: 'environment.schema.json',
  device: 'device.schema.json',
  hardwareProfile: 'hardware-profile.schema.json',
  agent: 'agent.schema.json',
  experiment: 'experiment.schema.json',
  tuning: 'tuning.schema.json',
} as const;

/** Schemas a repository may lack: the tuning check reports tuning.schema.json missing where a tuning file needs it. */
const OPTIONAL_SCHEMAS: ReadonlySet<string> = new Set(['tuning']);

export type SchemaName = keyof typeof SCHEMA_NAMES;

export type SchemaNode = JsonObject;

export interface Annotated {
  /** Path segments; `*` stands for any map key or array index. */
  segments: Segment[];
  schema: SchemaNode;
}

export interface SchemaSet {
  validate(name: SchemaName, value: unknown): ErrorObject[];
  /** The validator of one schema, or undefined when the repository has no such schema. */
  validator(name: SchemaName): ((value: unknown) => ErrorObject[]) | undefined;
  /** The schema node for a configuration path, following $ref, items and map values. */
  nodeAt(segments: readonly Segment[]): SchemaNode | undefined;
  /** Schema defaults as a configuration document. */
  defaults(): JsonObject;
  /** Every configuration path whose schema carries `keyword`. */
  annotated(keyword: 'x-env' | 'x-secret' | 'x-tunable'): Annotated[];
  sections(): string[];
  /** The schema file a configuration path's schema lives in (for provenance of defaults). */
  fileOf(segments: readonly Segment[]): string;
}

interface LoadedSchemas {
  set: SchemaSet | undefined;
  diagnostics: Diagnostic[];
}

let memo: { key: string; loaded: LoadedSchemas } | undefined;

/** Loads and compiles the repository's schemas; the last compiled set is reused when the texts are unchanged. */
export function loadSchemas(files: RepoFiles, cache?: CompiledSchemaCache): LoadedSchemas {
  const entries = [...files.keys()]
    .filter((f) => f.startsWith(SCHEMA_DIR + '/') && f.endsWith('.schema.json'))
    .sort(compareText)
    .map((f): [string, string] => [f, files.get(f)!]);
  const key = entries.map(([f, t]) => `${f}\0${t}`).join('\0\0');
  if (memo?.key === key) return memo.loaded;
  const loaded = compile(
    entries,
    cache,
    createHash('sha256')
      .update(JSON.stringify(AJV_OPTIONS))
      .update(JSON.stringify(SCHEMA_NAMES))
      .update(key)
      .digest('hex')
      .slice(0, 32),
  );
  memo = { key, loaded };
  return loaded;
}

function compile(
  entries: Array<[string, string]>,
  cache: CompiledSchemaCache | undefined,
  digest: string,
): LoadedSchemas {
  const diagnostics: Diagnostic[] = [];
  const byId = new Map<string, SchemaNode>();
  const fileById = new Map<string, string>();
  const cached = cache?.load(digest);
  const ajv = cached ? undefined : newAjv();
  for (const [file, text] of entries) {
    let schema: unknown;
    try {
      schema = JSON.parse(text);
    } catch (err) {
      diagnostics.push({
        severity: 'error',
        code: 'schema-invalid',
        message: `${file} is not valid JSON: ${(err as Error).message}`,
        file,
        line: 1,
        column: 1,
        hint: 'fix the JSON syntax of the schema',
      });
      continue;
    }
    if (!isObject(schema)) {
      diagnostics.push({
        severity: 'error',
        code: 'schema-invalid',
        message: `${file} must hold a JSON object`,
        file,
        line: 1,
        column: 1,
      });
      continue;
    }
    const id = SCHEMA_BASE + file.slice(SCHEMA_DIR.length + 1);
    if (schema.$id !== undefined && schema.$id !== id) {
      diagnostics.push({
        severity: 'error',
        code: 'schema-invalid',
        message: `${file} has $id "${String(schema.$id)}"; expected "${id}"`,
        file,
        line: 1,
        column: 1,
        hint: 'the $id must match the file name so that references resolve',
      });
      continue;
    }
    const tunable = tunableDiagnostics(file, text, schema);
    if (tunable.length > 0) {
      diagnostics.push(...tunable);
      continue;
    }
    const withId = { ...schema, $id: id };
    byId.set(id, withId);
    fileById.set(id, file);
    if (!ajv) continue;
    try {
      ajv.addSchema(withId);
    } catch (err) {
      diagnostics.push({
        severity: 'error',
        code: 'schema-invalid',
        message: `${file}: ${(err as Error).message}`,
        file,
        line: 1,
        column: 1,
        hint: 'fix the schema so that it is valid JSON Schema 2020-12',
      });
    }
  }
  // Compile what validation needs; only when that fails, compile file by file (those that
  // reference others last) so that the error is reported against the file that holds it.
  const compileAll = (): boolean => {
    try {
      for (const f of Object.values(SCHEMA_NAMES)) if (byId.has(SCHEMA_BASE + f)) ajv!.getSchema(SCHEMA_BASE + f);
      return true;
    } catch {
      return false;
    }
  };
  if (ajv && diagnostics.length === 0 && !compileAll()) {
    const refCount = (id: string): number => (JSON.stringify(byId.get(id)).match(/"\$ref":"[^#"]/g) ?? []).length;
    const fresh = newAjv();
    for (const schema of byId.values()) fresh.addSchema(schema);
    for (const id of [...byId.keys()].sort((a, b) => refCount(a) - refCount(b))) {
      if (diagnostics.some((d) => d.file === fileById.get(id))) continue;
      try {
        fresh.getSchema(id);
      } catch (err) {
        diagnostics.push({
          severity: 'error',
          code: 'schema-invalid',
          message: `${fileById.get(id)!}: ${(err as Error).message}`,
          file: fileById.get(id)!,
          line: 1,
          column: 1,
          hint:
            'fix the schema: every keyword must be JSON Schema 2020-12 or x-env/x-secret/x-tunable, ' +
            'and every $ref must point at an existing schema file or $defs entry',
        });
      }
    }
  }
  const validators = new Map<SchemaName, ValidateFunction>();
  for (const [name, fileName] of Object.entries(SCHEMA_NAMES) as Array<[SchemaName, string]>) {
    const id = SCHEMA_BASE + fileName;
    if (!byId.has(id)) {
      if (OPTIONAL_SCHEMAS.has(name)) continue;
      diagnostics.push({
        severity: 'error',
        code: 'schema-missing',
        message: `schemas/${fileName} is missing`,
        file: `schemas/${fileName}`,
        hint: 'restore the schema file from the upstream repository',
      });
      continue;
    }
    const fn = cached ? cached[name] : diagnostics.length === 0 ? ajv?.getSchema(id) : undefined;
    if (fn) validators.set(name, fn);
  }
  if (diagnostics.some((d) => d.severity === 'error')) return { set: undefined, diagnostics };
  if (cache && ajv) {
    const refs = Object.fromEntries(
      Object.entries(SCHEMA_NAMES)
        .filter(([, f]) => byId.has(SCHEMA_BASE + f))
        .map(([name, f]) => [name, SCHEMA_BASE + f]),
    );
    cache.store(digest, standaloneCode(ajv, refs));
  }
  return { set: makeSet(validators, byId, fileById), diagnostics };
}

function makeSet(
  validators: Map<SchemaName, ValidateFunction>,
  byId: Map<string, SchemaNode>,
  fileById: Map<string, string>,
): SchemaSet {
  const rootId = SCHEMA_BASE + SCHEMA_NAMES.config;
  const root = byId.get(rootId)!;

  /** Follows $ref chains; returns the node and the id of the document it lives in. */
  const deref = (node: SchemaNode, baseId: string): { node: SchemaNode; id: string } => {
    let cur = node;
    let id = baseId;
    for (let hops = 0; typeof cur.$ref === 'string' && hops < 32; hops++) {
      const url = new URL(cur.$ref as string, id);
      const hash = decodeURIComponent(url.hash.slice(1));
      url.hash = '';
      id = url.toString();
      let target: Json | undefined = byId.get(id);
      for (const seg of hash.split('/').filter(Boolean)) target = isObject(target) ? target[seg] : undefined;
      if (!isObject(target)) return { node: cur, id };
      cur = target;
    }
    return { node: cur, id };
  };

  const child = (node: SchemaNode, id: string, seg: Segment): { node: SchemaNode; id: string } | undefined => {
    const { node: n, id: nid } = deref(node, id);
    const props = n.properties;
    if (seg !== '*' && isObject(props) && isObject(props[seg])) return deref(props[seg] as SchemaNode, nid);
    if (isObject(n.items) && (seg === '*' || /^\d+$/.test(seg))) return deref(n.items as SchemaNode, nid);
    if (isObject(n.additionalProperties)) return deref(n.additionalProperties as SchemaNode, nid);
    return undefined;
  };

  const walkTo = (segments: readonly Segment[]): { node: SchemaNode; id: string } | undefined => {
    let cur: { node: SchemaNode; id: string } | undefined = deref(root, rootId);
    for (const seg of segments) {
      if (!cur) return undefined;
      cur = child(cur.node, cur.id, seg);
    }
    return cur;
  };

  const buildDefaults = (node: SchemaNode, id: string, depth: number): Json | undefined => {
    const { node: n, id: nid } = deref(node, id);
    if (n.default !== undefined) return n.default as Json;
    if (depth > 16 || !isObject(n.properties)) return undefined;
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(n.properties)) {
      if (!isObject(v)) continue;
      const d = buildDefaults(v, nid, depth + 1);
      if (d !== undefined) out[k] = d;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  };

  const annotatedCache = new Map<string, Annotated[]>();
  const nodes = new Map<string, SchemaNode | undefined>();
  const collect = (keyword: string): Annotated[] => {
    const out: Annotated[] = [];
    const visit = (node: SchemaNode, id: string, segments: Segment[], depth: number): void => {
      const { node: n, id: nid } = deref(node, id);
      if (n[keyword] !== undefined && n[keyword] !== false) out.push({ segments, schema: n });
      if (depth > 16) return;
      if (isObject(n.properties))
        for (const [k, v] of Object.entries(n.properties)) if (isObject(v)) visit(v, nid, [...segments, k], depth + 1);
      if (isObject(n.items)) visit(n.items as SchemaNode, nid, [...segments, '*'], depth + 1);
      if (isObject(n.additionalProperties))
        visit(n.additionalProperties as SchemaNode, nid, [...segments, '*'], depth + 1);
    };
    visit(root, rootId, [], 0);
    return out;
  };

  return {
    validate(name, value) {
      const fn = validators.get(name);
      if (!fn) return [];
      return fn(value) ? [] : [...(fn.errors ?? [])];
    },
    validator(name) {
      const fn = validators.get(name);
      return fn && ((value) => (fn(value) ? [] : [...(fn.errors ?? [])]));
    },
    nodeAt(segments) {
      // asked again for the same paths by every target (the governor's ladder, tunables, secrets)
      const key = segments.join('\0');
      if (nodes.has(key)) return nodes.get(key);
      const node = walkTo(segments)?.node;
      if (nodes.size >= 10_000) nodes.clear();
      nodes.set(key, node);
      return node;
    },
    defaults() {
      const d = buildDefaults(root, rootId, 0);
      return isObject(d) ? structuredClone(d) : {};
    },
    annotated(keyword) {
      let hit = annotatedCache.get(keyword);
      if (!hit) annotatedCache.set(keyword, (hit = collect(keyword)));
      return hit;
    },
    sections() {
      const props = deref(root, rootId).node.properties;
      return isObject(props) ? Object.keys(props).filter((k) => k !== 'version' && k !== 'tunables') : [];
    },
    fileOf(segments) {
      const hit = segments.length > 0 ? walkTo(segments.slice(0, 1)) : undefined;
      return fileById.get(hit?.id ?? rootId) ?? `schemas/${SCHEMA_NAMES.config}`;
    },
  };
}

/** Every `x-tunable` of one schema file checked against the field it annotates, located in the file. */
function tunableDiagnostics(file: string, text: string, schema: JsonObject): Diagnostic[] {
  const problems: Array<{ pointer: string; message: string; hint: string }> = [];
  const visit = (node: Json, pointer: string): void => {
    if (Array.isArray(node)) node.forEach((n, i) => visit(n, `${pointer}/${i}`));
    else if (isObject(node))
      for (const [k, v] of Object.entries(node)) {
        if (k === 'x-tunable')
          for (const p of checkAnnotation(v, node))
            problems.push({ ...p, pointer: `${pointer}/x-tunable${p.pointer}` });
        else visit(v, `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`);
      }
  };
  visit(schema, '');
  if (problems.length === 0) return [];
  const source = parseSource(file, text);
  const positions = indexPositions(source.doc, source.lineCounter);
  return problems.map((p) => ({
    severity: 'error',
    code: 'tunable-invalid',
    message: `${file}: ${p.message}`,
    file,
    ...(locate(positions, p.pointer, true) ?? { line: 1, column: 1 }),
    hint: p.hint,
  }));
}

/** True when a concrete path matches an annotated path with `*` wildcards. */
export function matchesSegments(pattern: readonly Segment[], segments: readonly Segment[]): boolean {
  return pattern.length === segments.length && pattern.every((p, i) => p === '*' || p === segments[i]);
}
