// Printing diagnostics: like a compiler for people (optionally coloured), JSON for programs,
// and GitHub workflow commands for annotations on a pull request.

import type { Diagnostic } from '../validate/diagnostics.js';

export type DiagnosticFormat = 'text' | 'json' | 'github';

const paint = (on: boolean, code: string, text: string): string => (on ? `\x1b[${code}m${text}\x1b[0m` : text);

export function location(d: Diagnostic): string {
  if (!d.file) return '';
  return [d.file, d.line, d.line !== undefined ? d.column : undefined].filter((x) => x !== undefined).join(':');
}

export function formatText(diagnostics: readonly Diagnostic[], color = false): string {
  const lines: string[] = [];
  for (const d of diagnostics) {
    const sev = paint(color, d.severity === 'error' ? '1;31' : d.severity === 'warning' ? '1;33' : '1;36', d.severity);
    const loc = location(d);
    lines.push(`${loc ? paint(color, '1', loc) + ' ' : ''}${sev} ${paint(color, '2', d.code)} ${d.message}`);
    if (d.hint) lines.push(`  ${paint(color, '36', 'hint:')} ${d.hint}`);
    if (d.targets && d.targets.length > 0) {
      const shown = d.targets.slice(0, 3).join(', ');
      lines.push(
        `  ${paint(color, '2', 'in:')} ${shown}${d.targets.length > 3 ? ` (+${d.targets.length - 3} more)` : ''}`,
      );
    }
  }
  return lines.join('\n');
}

export function countSeverities(diagnostics: readonly Diagnostic[]): { errors: number; warnings: number } {
  return {
    errors: diagnostics.filter((d) => d.severity === 'error').length,
    warnings: diagnostics.filter((d) => d.severity === 'warning').length,
  };
}

const escapeData = (s: string): string => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s: string): string => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

/** GitHub Actions workflow commands: `::error file=F,line=L,col=C,title=T::message`. */
export function formatGithub(diagnostics: readonly Diagnostic[]): string {
  return diagnostics
    .map((d) => {
      const kind = d.severity === 'error' ? 'error' : d.severity === 'warning' ? 'warning' : 'notice';
      const props = [
        d.file ? `file=${escapeProperty(d.file)}` : undefined,
        d.line !== undefined ? `line=${d.line}` : undefined,
        d.column !== undefined ? `col=${d.column}` : undefined,
        `title=${escapeProperty(d.code)}`,
      ].filter(Boolean);
      const body = d.hint ? `${d.message}\nhint: ${d.hint}` : d.message;
      return `::${kind} ${props.join(',')}::${escapeData(body)}`;
    })
    .join('\n');
}
