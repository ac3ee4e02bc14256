// YAML documents with source positions: parse once, keep the AST (for comment-preserving
// rewrites), index where every key and value sits, and turn every YAML problem into a
// diagnostic with a location and a hint.

import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Node as YamlNode , Document} from 'yaml';
import type { Diagnostic } from './diagnostics.js';
import { formatSize } from './format-size.js';
import { isObject, toPointer } from './paths.js';
import type { Json } from './paths.js';

export const MAX_DOCUMENT_BYTES = 1024 * 1024;
const MAX_ALIAS_COUNT = 100;

export interface Position {
  line: number;
  column: number;
}

export interface PositionIndex {
  /** pointer -> where the value starts */
  values: Map<string, Position>;
  /** pointer -> where the key of that value starts */
  keys: Map<string, Position>;
}

export interface SourceDocument {
  file: string;
  text: string;
  doc: Document | undefined;
  lineCounter: LineCounter;
  diagnostics: Diagnostic[];
}

const yamlHints: Record<string, string> = {
  DUPLICATE_KEY: 'a key may appear once per mapping; delete or rename one of them',
  TAB_AS_INDENT: 'YAML indentation must use spaces; replace the tab with spaces',
  BAD_INDENT: 'align this line with its siblings using spaces',
  MISSING_CHAR: 'a quote or bracket is not closed',
  BLOCK_AS_IMPLICIT_KEY: 'a mapping key must fit on one line; check the indentation above',
  MULTILINE_IMPLICIT_KEY: 'a mapping key must fit on one line; check the indentation above',
  UNEXPECTED_TOKEN: 'check the indentation and the punctuation on this line',
};

/** Parses one YAML file. Never throws: problems become diagnostics. */
export function parseSource(file: string, text: string): SourceDocument {
  const lineCounter = new LineCounter();
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_DOCUMENT_BYTES) {
    return {
      file,
      text: '',
      doc: undefined,
      lineCounter,
      diagnostics: [
        {
          severity: 'error',
          code: 'file-too-large',
          message: `${file} is ${formatSize(bytes)}; configuration files are limited to ${formatSize(MAX_DOCUMENT_BYTES)}`,
          file,
          line: 1,
          column: 1,
          hint: 'split the file or move bulk data out of the configuration repository',
        },
      ],
    };
  }
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true, keepSourceTokens: false });
  const diagnostics: Diagnostic[] = [];
  for (const err of doc.errors) {
    const pos = err.linePos?.[0];
    diagnostics.push({
      severity: 'error',
      code: err.code === 'DUPLICATE_KEY' ? 'duplicate-key' : 'yaml-syntax',
      message: firstLine(err.message),
      file,
      line: pos?.line ?? 1,
      column: pos?.col ?? 1,
      hint: yamlHints[err.code] ?? 'fix the YAML syntax at this position',
    });
  }
  for (const warn of doc.warnings) {
    const pos = warn.linePos?.[0];
    diagnostics.push({
      severity: 'warning',
      code: 'yaml-warning',
      message: firstLine(warn.message),
      file,
      line: pos?.line ?? 1,
      column: pos?.col ?? 1,
    });
  }
  return { file, text, doc: diagnostics.some((d) => d.severity === 'error') ? undefined : doc, lineCounter, diagnostics };
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

/** The document as plain JSON, or a diagnostic (alias bombs, non-mapping roots). */
export function toJson(source: SourceDocument, doc: Document | undefined = source.doc): { value: Json | undefined; diagnostics: Diagnostic[] } {
  if (!doc) return { value: undefined, diagnostics: [] };
  try {
    const value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as Json;
    return { value: normalise(value), diagnostics: [] };
  } catch (err) {
    return {
      value: undefined,
      diagnostics: [
        {
          severity: 'error',
          code: 'yaml-alias-limit',
          message: `${source.file} expands YAML aliases too many times (${(err as Error).message})`,
          file: source.file,
          line: 1,
          column: 1,
          hint: `write the values out instead of nesting aliases; at most ${MAX_ALIAS_COUNT} alias expansions are allowed per document`,
        },
      ],
    };
  }
}

/** Dates and other non-JSON scalars YAML may produce become strings. */
function normalise(value: unknown): Json {
  if (value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(normalise);
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), normalise(v)]));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalise(v)]));
  return value as Json;
}

/** Where each key and value of the document starts (1-based lines and columns). */
export function indexPositions(doc: Document | undefined, lineCounter: LineCounter): PositionIndex {
  const index: PositionIndex = { values: new Map(), keys: new Map() };
  if (!doc) return index;
  const at = (offset: number | undefined): Position | undefined => {
    if (offset === undefined) return undefined;
    const p = lineCounter.linePos(offset);
    return { line: p.line, column: p.col };
  };
  const walk = (node: YamlNode | null | undefined, segments: string[]): void => {
    if (!node) return;
    const pointer = toPointer(segments);
    const pos = at(node.range?.[0]);
    if (pos) index.values.set(pointer, pos);
    if (isAlias(node)) return;
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const child = [...segments, key];
        const keyPos = at((pair.key as YamlNode | null)?.range?.[0]);
        if (keyPos) index.keys.set(toPointer(child), keyPos);
        const value = pair.value as YamlNode | null;
        if (value) walk(value, child);
        else if (keyPos) index.values.set(toPointer(child), keyPos);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item as YamlNode, [...segments, String(i)]));
    }
  };
  walk(doc.contents as YamlNode | null, []);
  return index;
}

/** The position for a pointer, falling back to its closest indexed ancestor. */
export function locate(index: PositionIndex, pointer: string, preferKey = false): Position | undefined {
  let p = pointer;
  for (;;) {
    const hit = preferKey ? (index.keys.get(p) ?? index.values.get(p)) : (index.values.get(p) ?? index.keys.get(p));
    if (hit) return hit;
    if (p === '') return undefined;
    p = p.slice(0, p.lastIndexOf('/'));
    preferKey = true;
  }
}
