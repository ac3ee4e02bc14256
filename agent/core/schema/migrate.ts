// Document format versions and migrations: small, ordered, pure steps. A step receives a copy
// of the YAML document (comments and layout included) and edits that copy; the input is never
// touched. The validator migrates in memory; `gitops migrate` writes the result back.

import { isScalar } from 'yaml';
import type { Document } from 'yaml';
import { v1ToV2 } from './migrations/v1-to-v2.js';

export const CURRENT_VERSION = 2;

export interface MigrationStep {
  from: number;
  to: number;
  description: string;
  /** Edits `doc` in place (it is already a copy); returns notes for what it could not convert. */
  apply(doc: Document, file: string): Array<{ message: string; path: string }>;
}

export const MIGRATIONS: readonly MigrationStep[] = [v1ToV2];

export interface MigrationResult {
  /** A new document at `to`, or the input itself when nothing was to be done. */
  doc: Document;
  from: number;
  to: number;
  applied: MigrationStep[];
  notes: Array<{ message: string; path: string }>;
}

/** The `version` of a document: a number, `undefined` when absent, `NaN` when not an integer. */
export function documentVersion(doc: Document): number | undefined {
  const node = doc.get('version', true);
  if (node === undefined) return undefined;
  const v = isScalar(node) ? node.value : node;
  return typeof v === 'number' && Number.isInteger(v) ? v : NaN;
}

export function migrateDocument(
  doc: Document,
  from: number,
  file: string,
  steps: readonly MigrationStep[] = MIGRATIONS,
): MigrationResult {
  if (from >= CURRENT_VERSION) return { doc, from, to: from, applied: [], notes: [] };
  const copy = doc.clone();
  const applied: MigrationStep[] = [];
  const notes: Array<{ message: string; path: string }> = [];
  let version = from;
  for (const step of steps) {
    if (step.from !== version) continue;
    notes.push(...step.apply(copy, file));
    applied.push(step);
    version = step.to;
  }
  const versionNode = copy.get('version', true);
  if (isScalar(versionNode)) versionNode.value = version;
  else copy.set('version', version);
  return { doc: copy, from, to: version, applied, notes };
}
