// gitops migrate [--check]: rewrites documents in an old format version to the current one,
// keeping comments and layout. --check changes nothing and exits 1 when something would change.

import { join } from 'node:path';
import { loadDocument } from '../agent/core/repo/documents.js';
import { formatText } from '../agent/core/format/diagnostics.js';
import { CURRENT_VERSION } from '../agent/core/schema/migrate.js';
import { isYamlFile } from '../agent/core/repo/layout.js';
import { compareText } from '../agent/core/json/value.js';
import { writeFileAtomic } from '../agent/io/repo-files.js';
import {
  EXIT_INVALID,
  EXIT_OK,
  err,
  loadTree,
  out,
  outputOf,
  outputOptions,
  parse,
  printData,
  rootOption,
  useColor,
} from './cli.js';

const USAGE = 'gitops migrate [--check] [--output text|json|yaml] [--root DIR]';

export function migrateCommand(args: string[]): number {
  const { values } = parse('migrate', args, { ...rootOption, ...outputOptions, check: { type: 'boolean' } }, USAGE);
  if (values.help) return (out(USAGE), EXIT_OK);
  const format = outputOf('migrate', values, ['text', 'json', 'yaml'] as const, 'text');
  const { root, files } = loadTree(values.root);
  const behind: Array<{ file: string; from: number | null; to: number }> = [];
  let failed = false;
  for (const [file, text] of [...files].sort(([a], [b]) => compareText(a, b))) {
    if (
      !isYamlFile(file) ||
      !(file.startsWith('config/') || file.startsWith('environments/')) ||
      file.endsWith('.sops.yaml')
    )
      continue;
    const d = loadDocument(file, text);
    const blocking = d.diagnostics.filter((x) => x.severity === 'error');
    if (blocking.length > 0) {
      // A document that does not parse, or that a step cannot convert, is reported and left alone.
      err(formatText(blocking, useColor()));
      failed = true;
      continue;
    }
    if (!d.migrated) continue;
    behind.push({ file, from: d.version ?? null, to: CURRENT_VERSION });
    if (!values.check) writeFileAtomic(join(root, file), d.migrated.toString({ lineWidth: 0 }));
  }
  printData(format, { check: values.check === true, migrated: values.check ? [] : behind, behind, failed }, () =>
    behind.length === 0 && !failed
      ? 'every document is at the current format version'
      : behind
          .map((b) => `${values.check ? 'would migrate' : 'migrated'} ${b.file} (version ${b.from} -> ${b.to})`)
          .join('\n'),
  );
  if (failed) return EXIT_INVALID;
  return values.check && behind.length > 0 ? EXIT_INVALID : EXIT_OK;
}
