// YAML documents with source positions: parse once, keep the AST (for comment-preserving
// rewrites), index where every key and value sits, and turn every YAML problem into a
// diagnostic with a location and a hint.

import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Node as YamlNode, Document } from 'yaml';
import type { Diagnostic } from '../validate/diagnostics.js';
import { toPointer } from '../json/pointer.js';
import { isObject } from '../json/value.js';
import type { Json } from '../json/value.js';
import { describeProblem, fileProblem, MAX_FILE_BYTES, problemText } from './file.js';

export const MAX_DOCUMENT_BYTES = MAX_FILE_BYTES;
const MAX_ALIAS_COUNT = 100;
/** Mappings and lists nested deeper than this are refused (no configuration needs more). */
export const MAX_NESTING = 64;
/** Keys that would reach an object's prototype when the document becomes JavaScript objects. */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

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
  const unusable = (d: Diagnostic): SourceDocument => ({
    file,
    text: '',
    doc: undefined,
    lineCounter,
    diagnostics: [d],
  });
  const bytes = Buffer.byteLength(text, 'utf8');
  const problem = fileProblem(bytes > MAX_DOCUMENT_BYTES ? problemText({ code: 'file-too-large', size: bytes }) : text);
  if (problem) {
    const { message, hint } = describeProblem(file, problem);
    return unusable({
      severity: 'error',
      code: problem.code,
      message,
      file,
      line: problem.line ?? 1,
      column: problem.column ?? 1,
      hint,
    });
  }
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true, keepSourceTokens: false });
  const diagnostics: Diagnostic[] = [];
  for (const err of doc.errors) {
    const pos = err.linePos?.[0];
    diagnostics.push({
      severity: 'error',
      code: yamlCodes[err.code] ?? 'yaml-syntax',
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
  if (doc.errors.length === 0) diagnostics.push(...shapeProblems(file, doc, lineCounter));
  return {
    file,
    text,
    doc: diagnostics.some((d) => d.severity === 'error') ? undefined : doc,
    lineCounter,
    diagnostics,
  };
}

const yamlCodes: Record<string, string> = { DUPLICATE_KEY: 'duplicate-key', RESOURCE_EXHAUSTION: 'yaml-too-deep' };

/** Nesting deeper than MAX_NESTING, and keys that would reach a prototype: the first of each. */
function shapeProblems(file: string, doc: Document, lineCounter: LineCounter): Diagnostic[] {
  const out: Diagnostic[] = [];
  const at = (node: YamlNode | null | undefined): { line: number; column: number } => {
    const p = lineCounter.linePos(node?.range?.[0] ?? 0);
    return { line: p.line, column: p.col };
  };
  let deep = false;
  const walk = (node: YamlNode | null | undefined, depth: number): void => {
    if (!node || isAlias(node) || deep) return;
    if ((isMap(node) || isSeq(node)) && depth > MAX_NESTING) {
      deep = true;
      out.push({
        severity: 'error',
        code: 'yaml-too-deep',
        message: `${file} nests mappings or lists more than ${MAX_NESTING} levels deep`,
        file,
        ...at(node),
        hint: 'flatten the structure; no configuration setting is nested this deep',
      });
      return;
    }
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = pair.key as YamlNode | null;
        if (isScalar(key) && RESERVED_KEYS.has(String(key.value))) {
          out.push({
            severity: 'error',
            code: 'reserved-key',
            message: `"${String(key.value)}" may not be used as a key`,
            file,
            ...at(key),
            hint: 'rename the key; __proto__, constructor and prototype are reserved',
          });
        }
        walk(pair.value as YamlNode | null, depth + 1);
      }
    } else if (isSeq(node)) for (const item of node.items) walk(item as YamlNode, depth + 1);
  };
  walk(doc.contents as YamlNode | null, 1);
  return out;
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

/** The document as plain JSON, or a diagnostic (alias bombs, non-mapping roots). */
export function toJson(
  source: SourceDocument,
  doc: Document | undefined = source.doc,
): { value: Json | undefined; diagnostics: Diagnostic[] } {
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
