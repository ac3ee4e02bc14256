// gitops diff [--base REV] [--head REV] [--env E]... [--device D]... [--format text|markdown|json] [--exit-code]
// Both revisions are rendered straight from git objects: no checkout, a dirty tree is fine.

import { diffRepositories } from '../agent/core/change/diff.js';
import { formatDiffMarkdown, formatDiffText } from '../agent/core/format/diff.js';
import { fileSchemaCache } from '../agent/io/schema-cache.js';
import { readRevisionPair } from '../agent/io/git-revisions.js';
import { EXIT_INVALID, EXIT_OK, list, oneOf, out, parse, repoRoot, rootOption } from './cli.js';

const USAGE =
  'gitops diff [--base REV] [--head REV] [--env E]... [--device D]... [--format text|markdown|json] [--exit-code] [--root DIR]';

export async function diffCommand(args: string[]): Promise<number> {
  const { values } = parse(
    'diff',
    args,
    {
      ...rootOption,
      base: { type: 'string' },
      head: { type: 'string' },
      env: { type: 'string', multiple: true, short: 'e' },
      device: { type: 'string', multiple: true, short: 'd' },
      format: { type: 'string', short: 'f' },
      'exit-code': { type: 'boolean' },
    },
    USAGE,
  );
  if (values.help) return (out(USAGE), EXIT_OK);
  const format = oneOf('diff', 'format', values.format, ['text', 'markdown', 'json'] as const, 'text');
  const root = repoRoot(values.root);
  const { base, head, baseFiles, headFiles } = await readRevisionPair(
    root,
    values.base ?? 'HEAD~1',
    values.head ?? 'HEAD',
  );
  const report = diffRepositories(baseFiles, headFiles, {
    environments: list(values.env),
    devices: list(values.device),
    schemaCache: fileSchemaCache(),
  });
  if (format === 'json') out(JSON.stringify({ base, head, ...report }, null, 2));
  else
    out(
      format === 'markdown'
        ? formatDiffMarkdown(report)
        : `${base.slice(0, 12)}..${head.slice(0, 12)}\n${formatDiffText(report)}`,
    );
  const differs = report.targets.length > 0 || report.environments.length > 0;
  return values['exit-code'] && differs ? EXIT_INVALID : EXIT_OK;
}
