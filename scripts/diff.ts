// gitops diff [--base REV] [--head REV] [--env E]... [--device D]... [--output text|markdown|json|yaml] [--exit-code]
// With no revision, HEAD against the work tree (staged and unstaged edits, as git diff); --base REV
// alone: REV against the work tree; --head REV alone: REV against its parent. A revision is anything
// git accepts (HEAD~1, a tag, a short id), read straight from git objects: no checkout.

import { diffRepositories, diffValidation, validatedDevices } from '../agent/core/change/diff.js';
import { pooledValidation } from '../agent/io/validate-pool.js';
import type { RepoFiles } from '../agent/core/repo/layout.js';
import { formatDiffMarkdown, formatDiffText } from '../agent/core/format/diff.js';
import { fileSchemaCache } from '../agent/io/schema-cache.js';
import { readCommitFilesWithGit, resolveRevision } from '../agent/io/git-revisions.js';
import { addBlobTexts } from '../agent/io/git-tree.js';
import { readWorkingTree } from '../agent/io/repo-files.js';
import {
  EXIT_INVALID,
  EXIT_OK,
  list,
  out,
  outputOf,
  outputOptions,
  parse,
  printData,
  repoRoot,
  rootOption,
} from './cli.js';

const USAGE =
  'gitops diff [--base REV] [--head REV] [--env E]... [--device D]... [--output text|markdown|json|yaml] [--exit-code] [--root DIR]';

/** One side of the comparison: a commit, or the work tree (commit null). */
interface State {
  revision: string;
  commit: string | null;
  files: RepoFiles;
}

const describe = (s: State): string =>
  s.commit === null
    ? 'the work tree'
    : s.revision === s.commit
      ? s.commit.slice(0, 12)
      : `${s.revision} (${s.commit.slice(0, 12)})`;

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
      ...outputOptions,
      'exit-code': { type: 'boolean' },
    },
    USAGE,
  );
  if (values.help) return (out(USAGE), EXIT_OK);
  const format = outputOf('diff', values, ['text', 'markdown', 'json', 'yaml'] as const, 'text');
  const root = repoRoot(values.root);
  const baseRev = values.base ?? (values.head !== undefined ? `${values.head}~1` : 'HEAD');
  const shared = { blobs: new Map<string, string>() }; // what both trees share is read once
  const commitState = async (revision: string): Promise<State> => {
    const commit = await resolveRevision(root, revision);
    return { revision, commit, files: await readCommitFilesWithGit(root, commit, shared) };
  };
  // the work tree first: the base reads only the blobs it changed
  const tree = values.head === undefined ? readWorkingTree(root) : undefined;
  if (tree) addBlobTexts(tree, shared.blobs);
  const base = await commitState(baseRev);
  const head: State = tree ? { revision: 'work tree', commit: null, files: tree } : await commitState(values.head!);
  const scope = { environments: list(values.env), devices: list(values.device) };
  const checks = diffValidation(base.files, head.files, scope);
  // a large head is validated and diffed by a pool of workers, target by target
  const pooled = await pooledValidation(head.files, checks, undefined, { base: base.files, scope });
  const report = diffRepositories(base.files, head.files, {
    ...scope,
    schemaCache: fileSchemaCache(),
    ...(pooled ? { validation: { ...pooled, ...validatedDevices(checks) }, targets: pooled.diffs! } : {}),
  });
  const compared = `comparing ${describe(base)} with ${describe(head)}`;
  if (format === 'json' || format === 'yaml')
    printData(
      format,
      {
        base: base.commit,
        head: head.commit,
        compared: {
          base: { revision: base.revision, commit: base.commit },
          head: { revision: head.revision, commit: head.commit, work_tree: head.commit === null },
        },
        ...report,
      },
      () => '',
    );
  else
    out(
      format === 'markdown'
        ? `_${compared}_\n\n${formatDiffMarkdown(report)}`
        : `${compared}\n${formatDiffText(report)}`,
    );
  const differs = report.targets.length > 0 || report.environments.length > 0;
  return values['exit-code'] && differs ? EXIT_INVALID : EXIT_OK;
}
