// One parsed document of the repository: YAML with positions, version checked, migrated in
// memory to the current format. Every problem is a diagnostic on the document.

import type { Document } from 'yaml';
import type { Diagnostic } from '../validate/diagnostics.js';
import { CURRENT_VERSION, documentVersion, migrateDocument } from '../schema/migrate.js';
import { isObject } from '../json/value.js';
import type { JsonObject } from '../json/value.js';
import { indexPositions, parseSource, toJson } from './yaml-source.js';
import type { PositionIndex } from './yaml-source.js';

export interface ParsedDocument {
  file: string;
  /**
   * The document migrated in memory to the current version, when the file is at an older one
   * (`gitops migrate` writes it). The syntax tree of a current document is not kept: a fleet's
   * thousands of device files are held as values and positions alone.
   */
  migrated?: Document;
  /** Plain value of the migrated document; undefined when it could not be read. */
  value: JsonObject | undefined;
  positions: PositionIndex;
  /** The version written in the file. */
  version: number | undefined;
  diagnostics: Diagnostic[];
}

let memoLimit = 512;
const memo = new Map<string, ParsedDocument>();

/**
 * How many parses are kept (512: a device's environment and the base, many times over). A
 * process that validates a larger environment over and over (the fleet simulation, which hosts
 * many agents of one environment) raises it.
 */
export function setDocumentMemoLimit(limit: number): void {
  memoLimit = limit;
  while (memo.size > memoLimit) memo.delete(memo.keys().next().value!);
}

/**
 * Parses a document, reusing the result for the same file and text (documents are never
 * mutated after loading; migrations work on copies). The agent and `gitops diff` validate the
 * same texts again and again.
 */
export function loadDocument(file: string, text: string): ParsedDocument {
  const key = file + '\0' + text;
  const hit = memo.get(key);
  if (hit) return hit;
  const parsed = parseDocumentFresh(file, text);
  if (memo.size >= memoLimit) memo.delete(memo.keys().next().value!);
  memo.set(key, parsed);
  return parsed;
}

/** Forgets every memoised parse (benchmarks use it to measure parsing too). */
export function clearDocumentMemo(): void {
  memo.clear();
}

function parseDocumentFresh(file: string, text: string): ParsedDocument {
  const source = parseSource(file, text);
  const diagnostics = [...source.diagnostics];
  const empty: ParsedDocument = {
    file,
    value: undefined,
    positions: indexPositions(undefined, source.lineCounter),
    version: undefined,
    diagnostics,
  };
  if (!source.doc) return empty;
  const raw = toJson(source);
  diagnostics.push(...raw.diagnostics);
  if (raw.value === undefined) return empty;
  if (raw.value === null) {
    diagnostics.push({
      severity: 'error',
      code: 'empty-document',
      message: `${file} is empty`,
      file,
      line: 1,
      column: 1,
      hint: `start it with "version: ${CURRENT_VERSION}" and its settings, or delete the file`,
    });
    return empty;
  }
  if (!isObject(raw.value)) {
    diagnostics.push({
      severity: 'error',
      code: 'not-a-mapping',
      message: `${file} must be a YAML mapping (key: value), not a ${Array.isArray(raw.value) ? 'list' : typeof raw.value}`,
      file,
      line: 1,
      column: 1,
      hint: 'write the document as "key: value" lines',
    });
    return empty;
  }
  const at = indexPositions(source.doc, source.lineCounter);
  // SOPS files carry their version inside the sops block and are never migrated.
  if (file.endsWith('.sops.yaml')) return { file, value: raw.value, positions: at, version: undefined, diagnostics };
  const version = documentVersion(source.doc);
  const versionPos = at.values.get('/version') ?? { line: 1, column: 1 };
  if (version === undefined) {
    diagnostics.push({
      severity: 'error',
      code: 'missing-version',
      message: `${file} has no format version`,
      file,
      line: 1,
      column: 1,
      hint: `add "version: ${CURRENT_VERSION}" as its first key`,
    });
    return { ...empty, value: raw.value, positions: at };
  }
  if (Number.isNaN(version) || version < 1) {
    diagnostics.push({
      severity: 'error',
      code: 'bad-version',
      message: `${file}: version must be a whole number from 1 to ${CURRENT_VERSION}`,
      file,
      ...versionPos,
      hint: `write "version: ${CURRENT_VERSION}"`,
    });
    return { ...empty, value: raw.value, positions: at };
  }
  if (version > CURRENT_VERSION) {
    diagnostics.push({
      severity: 'error',
      code: 'version-too-new',
      message: `${file} is format version ${version}; this gitops understands up to ${CURRENT_VERSION}`,
      file,
      ...versionPos,
      hint: 'upgrade doorbell-gitops on this machine',
    });
    return { ...empty, value: raw.value, positions: at, version };
  }
  if (version === CURRENT_VERSION) return { file, value: raw.value, positions: at, version, diagnostics };
  const migrated = migrateDocument(source.doc, version, file);
  diagnostics.push({
    severity: 'warning',
    code: 'migration-pending',
    message: `${file} is format version ${version}; current is ${CURRENT_VERSION} (${migrated.applied.map((s) => s.description).join('; ')})`,
    file,
    ...versionPos,
    hint: 'run "gitops migrate" to rewrite it; it is migrated in memory until then',
  });
  for (const note of migrated.notes)
    diagnostics.push({
      severity: 'error',
      code: 'migration-failed',
      message: note.message,
      file,
      path: note.path,
      ...versionPos,
      hint: 'edit the value by hand, then run gitops migrate',
    });
  const value = toJson(source, migrated.doc).value;
  return {
    file,
    ...(migrated.doc !== source.doc ? { migrated: migrated.doc } : {}),
    value: isObject(value) ? value : raw.value,
    positions: indexPositions(migrated.doc, source.lineCounter),
    version,
    diagnostics,
  };
}
