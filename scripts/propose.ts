// gitops propose --env E [--device D] --set PATH=VALUE... [--title T] [--draft] [--base BRANCH] [--repo OWNER/NAME]
// Remote configuration management as a change request: validate, edit the right file keeping
// comments, commit on a new branch with the user's own git (and so its signing), push, and open
// the pull request with the diff as its body. It never writes to a device.

import { diffRepositories } from '../agent/core/change/diff.js';
import { GitopsError } from '../agent/core/errors.js';
import { formatText } from '../agent/core/format/diagnostics.js';
import { formatDiffMarkdown } from '../agent/core/format/diff.js';
import { applySettings, parseSetting } from '../agent/core/change/propose.js';
import { validateRepository } from '../agent/core/validate/validate.js';
import { fileSchemaCache } from '../agent/io/schema-cache.js';
import { EXIT_INVALID, EXIT_OK, err, list, openTree, out, parse, rootOption } from './cli.js';
import { pickTarget } from './target.js';
import { openChangeRequest } from './pull-request.js';

const USAGE =
  'gitops propose --env E [--device D] --set PATH=VALUE... [--title T] [--draft] [--base BRANCH] [--repo OWNER/NAME] [--root DIR]';

export async function proposeCommand(args: string[]): Promise<number> {
  const { values } = parse(
    'propose',
    args,
    {
      ...rootOption,
      env: { type: 'string', short: 'e' },
      device: { type: 'string', short: 'd' },
      set: { type: 'string', multiple: true },
      title: { type: 'string' },
      draft: { type: 'boolean' },
      base: { type: 'string' },
      repo: { type: 'string' },
    },
    USAGE,
  );
  if (values.help) return (out(USAGE), EXIT_OK);
  const settings = list(values.set).map(parseSetting);
  if (settings.length === 0)
    throw new GitopsError('usage', 'name at least one change with --set PATH=VALUE', `usage: ${USAGE}`);
  const { root, repo } = openTree(values.root);
  const target = pickTarget(repo, values.env, values.device, USAGE);
  const { files, file } = applySettings(repo, target.environment, target.device, settings);
  const report = validateRepository(
    files,
    { environments: [target.environment], ...(target.device ? { devices: [target.device] } : {}) },
    fileSchemaCache(),
  );
  if (!report.valid) {
    err(formatText(report.diagnostics.filter((d) => d.severity === 'error')));
    err('the change would not validate; nothing was committed');
    return EXIT_INVALID;
  }
  const summary = settings.map((s) => `${s.path.join('.')}=${s.text}`).join(', ');
  const diff = diffRepositories(repo.files, files, {
    environments: [target.environment],
    schemaCache: fileSchemaCache(),
  });
  await openChangeRequest({
    root,
    changes: new Map([[file, files.get(file)!]]),
    branchPrefix: `propose/${(target.device ?? target.environment).replace(/[^a-z0-9-]/g, '-')}`,
    title: values.title ?? `${target.device ?? target.environment}: set ${summary}`,
    body: `${formatDiffMarkdown(diff)}\n\n_Proposed with \`gitops propose\`._\n`,
    remote: 'origin',
    base: values.base,
    repo: values.repo,
    draft: values.draft === true,
  });
  return EXIT_OK;
}
