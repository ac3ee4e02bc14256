// `npm run gen:types`: the TypeScript types of the configuration, generated from schemas/ into
// agent/core/config/schema-types.ts (committed; test/core/schema-types.test.ts fails when it is stale).
//
// The schemas reference each other by file name and their own `$defs`; both are inlined here before
// json-schema-to-typescript sees them, so it never resolves a reference itself. The configuration comes out in
// the shape the code reads, `Config`, the rendered configuration of a device: every property that the schema
// defaults (directly, or through defaults below it) is present, as the renderer fills in exactly those
// (schema-set.ts `defaults()`: down `properties` only, not inside map entries). Also the hardware profile and the
// agent's settings file.

import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from 'json-schema-to-typescript';
import type { JSONSchema } from 'json-schema-to-typescript';
import prettier from 'prettier';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The checkout: this file runs from devtools/ (tests) and from dist/devtools/ (npm run gen:types). */
const PROJECT = basename(dirname(HERE)) === 'dist' ? resolve(HERE, '../..') : resolve(HERE, '..');
export const SCHEMA_TYPES = join(PROJECT, 'agent/core/config/schema-types.ts');

type Node = { [key: string]: unknown };
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

const load = (file: string): Node => JSON.parse(readFileSync(join(PROJECT, 'schemas', file), 'utf8')) as Node;

/** The schema with every `$ref` (another schema file, or `#/$defs/...` of the file it is in) replaced by its target. */
function inline(node: unknown, root: Node): unknown {
  if (Array.isArray(node)) return node.map((n) => inline(n, root));
  if (!isNode(node)) return node;
  const { $ref, ...rest } = node;
  const body = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, inline(v, root)]));
  if (typeof $ref !== 'string') return body;
  const local = /^#\/\$defs\/([^/]+)$/.exec($ref);
  let target: Node;
  if (local) {
    const defs = root.$defs;
    if (!isNode(defs) || !isNode(defs[local[1]!])) throw new Error(`schema reference ${$ref} has no target`);
    target = inline(defs[local[1]!], root) as Node;
  } else if ($ref.endsWith('.schema.json')) {
    target = document($ref);
  } else {
    throw new Error(`schema reference ${$ref}: only other schema files and #/$defs/ are supported`);
  }
  return { ...target, ...body };
}

/** One schema file, its references inlined, without the keywords that only identify it. */
function document(file: string): Node {
  const root = load(file);
  const { $schema: _s, $id: _i, $defs: _d, ...rest } = inline(root, root) as Node;
  return rest;
}

/** Whether the renderer's defaults give this property a value (schema-set.ts buildDefaults). */
function defaulted(node: unknown, depth = 0): boolean {
  if (!isNode(node)) return false;
  if (node.default !== undefined) return true;
  if (depth > 16 || !isNode(node.properties)) return false;
  return Object.values(node.properties).some((p) => defaulted(p, depth + 1));
}

/** The rendered shape: properties that defaults fill in become required, down `properties` only (as the renderer). */
function rendered(node: unknown): unknown {
  if (!isNode(node) || !isNode(node.properties)) return node;
  const properties = Object.fromEntries(Object.entries(node.properties).map(([k, v]) => [k, rendered(v)]));
  const required = new Set(Array.isArray(node.required) ? (node.required as string[]) : []);
  for (const [k, v] of Object.entries(node.properties)) if (defaulted(v)) required.add(k);
  return { ...node, properties, ...(required.size > 0 ? { required: [...required] } : {}) };
}

const OPTIONS = { bannerComment: '', additionalProperties: false, format: false } as const;

/** Doc-comment lines (` * text`) longer than `width` broken between words; the formatter leaves comments as they are. */
export function wrapComments(text: string, width = 110): string {
  return text
    .split('\n')
    .flatMap((line) => {
      const m = /^(\s*\* )(.*)$/.exec(line);
      if (!m || line.length <= width) return [line];
      const lead = m[1]!;
      const body = m[2]!;
      const out: string[] = [];
      let cur = '';
      for (const word of body.split(' ')) {
        if (cur && lead.length + cur.length + 1 + word.length > width) {
          out.push(lead + cur);
          cur = word;
        } else cur = cur ? `${cur} ${word}` : word;
      }
      if (cur) out.push(lead + cur);
      return out;
    })
    .join('\n');
}

/** The text of schema-types.ts. */
export async function generateSchemaTypes(): Promise<string> {
  const config = document('config.schema.json');
  const parts = [
    await compile({ ...(rendered(config) as Node), title: 'Config' } as JSONSchema, 'Config', OPTIONS),
    await compile(
      { ...document('hardware-profile.schema.json'), title: 'HardwareProfile' },
      'HardwareProfile',
      OPTIONS,
    ),
    await compile({ ...document('agent.schema.json'), title: 'AgentSettings' }, 'AgentSettings', OPTIONS),
  ];
  const names = new Map<string, number>();
  for (const m of parts.join('\n').matchAll(/^export (?:interface|type) (\w+)/gm))
    names.set(m[1]!, (names.get(m[1]!) ?? 0) + 1);
  const twice = [...names].filter(([, n]) => n > 1).map(([name]) => name);
  if (twice.length > 0) throw new Error(`schema titles give more than one type the name ${twice.join(', ')}`);
  const text = [
    '// Generated from schemas/ by `npm run gen:types` (devtools/gen-types.ts): do not edit by hand.',
    '// `Config` is the rendered configuration of a device: the properties that schema defaults fill in are present.',
    '',
    ...parts,
  ].join('\n');
  return prettier.format(wrapComments(text), {
    ...(await prettier.resolveConfig(SCHEMA_TYPES)),
    filepath: SCHEMA_TYPES,
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(SCHEMA_TYPES, await generateSchemaTypes());
  process.stdout.write(`wrote ${SCHEMA_TYPES}\n`);
}
