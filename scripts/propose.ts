// gitops propose --env E [--device D] --set PATH=VALUE... [--title T] [--draft] [--dry-run] [--allow-unsigned]
// Remote configuration management as a change request: validate, edit the right file keeping
// comments, commit on a new branch with the user's own git (and so its signing), push, and open
// the pull request with the diff as its body. It never writes to a device. --dry-run prints the
// change, its diff and its validation and touches nothing. An environment whose devices require
// signed commits gets no unsigned proposal (they would refuse it) unless --allow-unsigned.

import { simpleGit } from 'simple-git';
import { GitopsError } from '../agent/core/errors.js';
import { formatDiffMarkdown } from '../agent/core/format/diff.js';
import { applySettings, parseSetting } from '../agent/core/change/propose.js';
import type { RepoFiles } from '../agent/core/repo/layout.js';
import { environmentsRequiringSignedCommits } from '../agent/core/validate/signing.js';
import { err, list, openTree, out, parse, rootOption, EXIT_OK } from './cli.js';
import { pickTarget } from './target.js';
import { proposeFiles } from './pull-request.js';

const USAGE =
  'gitops propose --env E [--device D] --set PATH=VALUE... [--title T] [--draft] [--dry-run] [--allow-unsigned] ' +
  '[--base BRANCH] [--repo OWNER/NAME] [--root DIR]';

/** Whether the user's git would sign a commit made in ROOT (commit.gpgsign, and a key where the format needs one). */
async function commitsAreSigned(root: string): Promise<boolean> {
  const git = simpleGit(root);
  const value = async (key: string): Promise<string | null> => (await git.getConfig(key)).value;
  if ((await value('commit.gpgsign'))?.toLowerCase() !== 'true') return false;
  const format = (await value('gpg.format')) ?? 'openpgp';
  // gpg picks a default key from user.email; ssh and x509 need one named
  return format === 'openpgp' || Boolean(await value('user.signingkey'));
}

/** An environment that requires signed commits gets no unsigned one, unless the user allows it (and is warned). */
async function refuseUnsigned(root: string, files: RepoFiles, environment: string, allow: boolean): Promise<void> {
  if (!environmentsRequiringSignedCommits(files).includes(environment) || (await commitsAreSigned(root))) return;
  if (!allow)
    throw new GitopsError(
      'unsigned-proposal',
      `${environment} requires signed commits, and your git would not sign this one: its devices would refuse it`,
      'set git config commit.gpgsign true and user.signingkey (with gpg.format ssh for an SSH key), ' +
        'or pass --allow-unsigned to propose it anyway (someone must sign it before it reaches a device)',
    );
  err(`gitops propose: warning: the commit will not be signed; ${environment}'s devices refuse unsigned commits`);
}

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
      'dry-run': { type: 'boolean' },
      'allow-unsigned': { type: 'boolean' },
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
  const dryRun = values['dry-run'] === true;
  const { files, file } = applySettings(repo, target.environment, target.device, settings);
  const summary = settings.map((s) => `${s.path.join('.')}=${s.text}`).join(', ');
  return proposeFiles({
    root,
    before: repo.files,
    after: files,
    written: [file],
    environments: [target.environment],
    what: 'the change',
    title: values.title ?? `${target.device ?? target.environment}: set ${summary}`,
    body: (diff) => `${formatDiffMarkdown(diff)}\n\n_Proposed with \`gitops propose\`._\n`,
    branchPrefix: `propose/${(target.device ?? target.environment).replace(/[^a-z0-9-]/g, '-')}`,
    dryRun,
    remote: 'origin',
    base: values.base,
    repo: values.repo,
    draft: values.draft === true,
    beforeCommit: () => refuseUnsigned(root, repo.files, target.environment, values['allow-unsigned'] === true),
  });
}
