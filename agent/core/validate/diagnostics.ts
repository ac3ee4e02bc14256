// Diagnostics: what validation returns about a user's configuration. Never thrown.

import { compareText } from '../json/value.js';

export type Severity = 'error' | 'warning' | 'info';

export interface Diagnostic {
  severity: Severity;
  /** Stable kebab-case code, e.g. `unknown-key`, `schema-range`, `camera-mode`. */
  code: string;
  message: string;
  file?: string;
  line?: number;
  column?: number;
  /** Dotted configuration path, e.g. `frame_capture.fps`. */
  path?: string;
  environment?: string;
  device?: string;
  /** Every environment/device whose validation produced this same diagnostic. */
  targets?: string[];
  hint?: string;
  suggestion?: string;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

const severityRank: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Stable order: file, line, column, then severity. Diagnostics without a file come last. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      compareText(a.file ?? '\uffff', b.file ?? '\uffff') ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.column ?? 0) - (b.column ?? 0) ||
      severityRank[a.severity] - severityRank[b.severity] ||
      compareText(a.message, b.message),
  );
}

/** Merges identical diagnostics reported for several targets into one listing every target. */
export function dedupeDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  // the targets of each as a set too: a finding of every device of a fleet is merged in linear time
  const byKey = new Map<string, { merged: Diagnostic; targets: Set<string> }>();
  for (const d of diagnostics) {
    const key = [d.severity, d.code, d.file, d.line, d.column, d.message].join('\0');
    const target = d.environment ? (d.device ? `${d.environment}/${d.device}` : d.environment) : undefined;
    const prior = byKey.get(key);
    if (!prior) {
      const merged: Diagnostic = { ...d, ...(target ? { targets: [target] } : {}) };
      byKey.set(key, { merged, targets: new Set(merged.targets) });
    } else if (target && !prior.targets.has(target)) {
      prior.targets.add(target);
      (prior.merged.targets ??= []).push(target);
    }
  }
  return [...byKey.values()].map((e) => e.merged);
}
