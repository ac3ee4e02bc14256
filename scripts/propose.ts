// gitops propose --env E [--device D] --set PATH=VALUE... [--title T] [--draft] [--base BRANCH] [--repo OWNER/NAME]
// Remote configuration management as a change request: validate, edit the right file keeping
// comments, commit on a new branch with the user's own git (and so its signing), push, and open
// the pull request with the diff as its body. It never writes to a device.

import { join } from 'node:path';
import { simpleGit } from 'simple-git';
import { diffRepositories } from '../agent/core/change/diff.js';
import { GitopsError } from '../agent/core/errors.js';
import { formatText } from '../agent/core/format/diagnostics.js';
import { formatDiffMarkdown } from '../agent/core/format/diff.js';
import { applySettings, parseSetting } from '../agent/core/change/propose.js';
import { validateRepository } from '../agent/core/validate/validate.js';
import { GitHub } from '../agent/io/github.js';
import { writeFileAtomic } from '../agent/io/repo-files.js';
import { fileSchemaCache } from '../agent/io/schema-cache.js';
import { EXIT_INVALID, EXIT_OK, err, list, openTree, out, parse, rootOption } from './cli.js';
import { pickTarget } from './target.js';

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
  const git = simpleGit(root);
  const status = await git.status();
  if (status.files.some((f) => f.path === file))
    throw new GitopsError('dirty-file', `${file} has uncommitted changes`, 'commit or stash them first');
  const baseBranch = values.base ?? status.current ?? 'main';
  const summary = settings.map((s) => `${s.path.join('.')}=${s.text}`).join(', ');
  const title = values.title ?? `${target.device ?? target.environment}: set ${summary}`;
  const branch = `propose/${(target.device ?? target.environment).replace(/[^a-z0-9-]/g, '-')}-${Date.now().toString(36)}`;
  const body = `${formatDiffMarkdown(diffRepositories(repo.files, files, { environments: [target.environment], schemaCache: fileSchemaCache() }))}\n\n_Proposed with \`gitops propose\`._\n`;
  await git.checkoutLocalBranch(branch);
  let committed = false;
  try {
    writeFileAtomic(join(root, file), files.get(file)!);
    await git.add(file);
    await git.commit(title, [file]); // the user's git configuration signs it when it is set to
    committed = true;
    await git.push('origin', branch, ['--set-upstream']);
  } catch (e) {
    const reason = (e instanceof Error ? e.message : String(e)).trim().split('\n')[0];
    if (committed)
      throw new GitopsError(
        'git-failed',
        `committed on branch ${branch} but could not push it: ${reason}`,
        `push it yourself with: git push --set-upstream origin ${branch}`,
        { cause: e },
      );
    await git.raw(['reset', '-q', '--', file]).catch(() => undefined);
    await git.raw(['checkout', '--', file]).catch(() => undefined);
    await git.checkout(baseBranch);
    await git.raw(['branch', '-D', branch]).catch(() => undefined);
    throw new GitopsError(
      'git-failed',
      `git could not commit the change: ${reason}`,
      'fix your git setup (user.name, user.email, signing key) and run the same command again; nothing was changed',
      { cause: e },
    );
  } finally {
    if ((await git.revparse(['--abbrev-ref', 'HEAD'])) !== baseBranch) await git.checkout(baseBranch);
  }
  out(`pushed ${branch} (${file})`);
  const repoName =
    values.repo ??
    process.env.GITHUB_REPOSITORY ??
    /github\.com[:/]([^/]+\/[^/.]+)/.exec((await git.remote(['get-url', 'origin'])) ?? '')?.[1];
  const token = process.env.GITHUB_TOKEN;
  if (!repoName || !token) {
    err(
      `no ${!token ? 'GITHUB_TOKEN' : 'GitHub repository (--repo OWNER/NAME)'}: open the pull request for ${branch} yourself`,
    );
    return EXIT_OK;
  }
  const [owner, name] = repoName.split('/') as [string, string];
  const url = await new GitHub(token, process.env.GITHUB_API_URL ?? 'https://api.github.com').createPull(
    { owner, repo: name },
    { title, head: branch, base: baseBranch, body, draft: values.draft === true },
  );
  out(`opened ${url}`);
  return EXIT_OK;
}
