// The rollout's refs in git, through the operator's (or the workflow's) git command line and its
// credentials: read the environment's branch, its waves' refs (refs/heads/rollout/<env>/<wave>)
// and its state branch (refs/heads/rollout-state/<env>) from the remote, answer which commit
// descends from which, write a state commit without touching the work tree or the index, and push
// refs with a plain `git push` (never forced: the remote refuses anything but a fast-forward,
// which is what devices accept), all of them in one atomic push where the remote supports it.

import { GitopsError } from '../core/errors.js';
import { STATE_FILE, stateRef } from '../core/rollout/state.js';
import { waveRef } from '../core/rollout/waves.js';
import { failure, nodeProcessRunner, succeeded } from './process.js';
import type { ProcessResult, ProcessRunner } from './process.js';

export interface RemoteRefs {
  /** The head of the environment's branch. */
  branch: string | undefined;
  /** Each wave's ref, by wave name (absent: not created yet). */
  waves: Record<string, string | undefined>;
  /** The state branch's commit (absent: no state written yet). */
  state: string | undefined;
}

export interface RolloutGit {
  /** The remote named or given (a remote's name or a URL). */
  remote: string;
  /** The refs as the remote has them now; their objects are fetched into the local repository. */
  fetch(environment: string, branch: string, waves: readonly string[]): Promise<RemoteRefs>;
  /** For each pair, whether the first commit is an ancestor of (or equal to) the second. */
  ancestry(pairs: ReadonlyArray<[string, string]>): Promise<Map<string, boolean>>;
  /** state.json of a state commit. */
  readState(commit: string): Promise<string>;
  /** A commit's subject line. */
  subject(commit: string): Promise<string>;
  /** A commit of state.json alone on top of `parent` (none: the branch's first), with the message; its id. */
  commitState(parent: string | undefined, text: string, message: string): Promise<string>;
  /** One push of every update (atomic where the remote supports it); a refusal is rollout-push-refused. */
  push(updates: ReadonlyArray<{ commit: string; ref: string }>): Promise<void>;
  /** The full id of a revision of the local repository. */
  resolve(rev: string): Promise<string>;
  /** Who this git is (user.name <user.email>), or undefined when it has no identity configured. */
  whoami(): Promise<string | undefined>;
}

const MAX_STATE_BYTES = 2 * 1024 * 1024;
const TIMEOUT_MS = 120_000;

/** Who writes the state commits when git has no identity configured (a fresh CI runner). */
const FALLBACK_IDENTITY = { name: 'gitops rollout', email: 'gitops-rollout@users.noreply.github.com' };

export function rolloutGit(cwd: string, remote = 'origin', processes: ProcessRunner = nodeProcessRunner): RolloutGit {
  if (remote === '' || remote.startsWith('-'))
    throw new GitopsError(
      'usage',
      `"${remote}" is not a remote`,
      'give a remote of the repository (origin) or its URL',
    );
  const run = (
    args: readonly string[],
    o: { input?: string; env?: NodeJS.ProcessEnv; max?: number } = {},
  ): Promise<ProcessResult> =>
    processes.run('git', args, {
      cwd,
      // never a credential prompt: the workflow's token or the operator's credential helper, or a failure
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', ...o.env },
      timeoutMs: TIMEOUT_MS,
      maxOutputBytes: o.max ?? 1024 * 1024,
      ...(o.input !== undefined ? { input: o.input } : {}),
    });
  const text = async (
    args: readonly string[],
    code: 'git-failed' | 'rollout-remote-failed' = 'git-failed',
    o: Parameters<typeof run>[1] = {},
  ): Promise<string> => {
    const r = await run(args, o);
    if (!succeeded(r))
      throw new GitopsError(
        code,
        `git ${args[0]} failed in ${cwd}: ${failure('git', r)}`,
        code === 'rollout-remote-failed'
          ? `check that ${remote} is reachable and that these credentials may read it (git ls-remote ${remote})`
          : 'run the same git command by hand to see what git needs',
      );
    return r.stdout.toString('utf8');
  };
  const configValue = async (key: string): Promise<string> => {
    const r = await run(['config', '--get', key]);
    return succeeded(r) ? r.stdout.toString('utf8').trim() : '';
  };
  const configured = async (key: string): Promise<boolean> => (await configValue(key)) !== '';
  let identity: NodeJS.ProcessEnv | undefined;
  const identityEnv = async (): Promise<NodeJS.ProcessEnv> => {
    if (identity) return identity;
    const env: NodeJS.ProcessEnv = {};
    if (!process.env.GIT_AUTHOR_NAME && !(await configured('user.name')))
      Object.assign(env, { GIT_AUTHOR_NAME: FALLBACK_IDENTITY.name, GIT_COMMITTER_NAME: FALLBACK_IDENTITY.name });
    if (!process.env.GIT_AUTHOR_EMAIL && !(await configured('user.email')))
      Object.assign(env, { GIT_AUTHOR_EMAIL: FALLBACK_IDENTITY.email, GIT_COMMITTER_EMAIL: FALLBACK_IDENTITY.email });
    return (identity = env);
  };

  return {
    remote,
    async fetch(environment, branch, waves) {
      const branchRef = `refs/heads/${branch}`;
      const wanted = new Map<string, string>([
        [branchRef, 'branch'],
        [stateRef(environment), 'state'],
      ]);
      for (const w of waves) wanted.set(waveRef(environment, w), w);
      const listed = await text(
        ['ls-remote', remote, branchRef, stateRef(environment), `refs/heads/rollout/${environment}/*`],
        'rollout-remote-failed',
      );
      const refs: RemoteRefs = { branch: undefined, waves: {}, state: undefined };
      const found: string[] = [];
      for (const line of listed.split('\n')) {
        const [oid, ref] = line.split('\t');
        const what = ref === undefined ? undefined : wanted.get(ref);
        if (!oid || what === undefined || !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(oid)) continue;
        found.push(ref!);
        if (what === 'branch') refs.branch = oid;
        else if (what === 'state') refs.state = oid;
        else refs.waves[what] = oid;
      }
      if (found.length > 0) await text(['fetch', '--no-tags', '--quiet', remote, ...found], 'rollout-remote-failed');
      return refs;
    },
    async ancestry(pairs) {
      const answers = new Map<string, boolean>();
      for (const [a, b] of pairs) {
        const r = await run(['merge-base', '--is-ancestor', a, b]);
        if (r.code !== 0 && r.code !== 1) await text(['merge-base', '--is-ancestor', a, b]); // throws with git's words
        answers.set(`${a}..${b}`, r.code === 0);
      }
      return answers;
    },
    async readState(commit) {
      const r = await run(['cat-file', 'blob', `${commit}:${STATE_FILE}`], { max: MAX_STATE_BYTES });
      if (r.truncated)
        throw new GitopsError(
          'rollout-state-invalid',
          `${STATE_FILE} of ${commit} is larger than ${MAX_STATE_BYTES} bytes`,
        );
      if (!succeeded(r))
        throw new GitopsError(
          'rollout-state-invalid',
          `the state commit ${commit.slice(0, 12)} has no ${STATE_FILE}: ${failure('git', r)}`,
          'the state branch holds only state.json, written by gitops rollout: restore it from an earlier commit of the branch',
        );
      return r.stdout.toString('utf8');
    },
    async subject(commit) {
      return (await text(['log', '-1', '--format=%s', commit, '--'])).trim();
    },
    async commitState(parent, content, message) {
      const blob = (await text(['hash-object', '-w', '--stdin'], 'git-failed', { input: content })).trim();
      const tree = (await text(['mktree'], 'git-failed', { input: `100644 blob ${blob}\t${STATE_FILE}\n` })).trim();
      const args = ['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-F', '-'];
      return (await text(args, 'git-failed', { input: message, env: await identityEnv() })).trim();
    },
    async push(updates) {
      if (updates.length === 0) return;
      const specs = updates.map((u) => `${u.commit}:${u.ref}`);
      let r = await run(['push', '--atomic', '--porcelain', remote, ...specs]);
      if (!succeeded(r) && /does not support --atomic/i.test(r.stderr.toString('utf8')))
        r = await run(['push', '--porcelain', remote, ...specs]);
      if (succeeded(r)) return;
      const said = `${r.stdout.toString('utf8')}\n${r.stderr.toString('utf8')}`
        .split('\n')
        .filter((l) => /^[!]|rejected|error|denied|fatal|remote:/i.test(l.trim()))
        .slice(0, 8)
        .join('\n  ');
      throw new GitopsError(
        'rollout-push-refused',
        `${remote} refused the push of ${updates.map((u) => u.ref).join(', ')}:\n  ${said || failure('git', r)}`,
        'someone else moved these refs (or these credentials may not push them): run gitops rollout advance again; ' +
          'it reads the refs afresh, and never forces',
      );
    },
    async resolve(rev) {
      const r = await run(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]);
      if (!succeeded(r))
        throw new GitopsError(
          'unknown-revision',
          `"${rev}" is not a commit in ${cwd}`,
          'name a branch, a tag or a commit id',
        );
      return r.stdout.toString('utf8').trim();
    },
    async whoami() {
      const [name, email] = [await configValue('user.name'), await configValue('user.email')];
      return name || email ? `${name}${email ? ` <${email}>` : ''}`.trim() : undefined;
    },
  };
}

/**
 * state.json of an environment's rollout as this checkout has it (the local state branch, else
 * origin's remote-tracking one), or undefined when it has neither: what the PR comment reads.
 */
export async function checkoutState(
  cwd: string,
  environment: string,
  processes: ProcessRunner = nodeProcessRunner,
): Promise<string | undefined> {
  for (const ref of [stateRef(environment), `refs/remotes/origin/rollout-state/${environment}`]) {
    const r = await processes.run('git', ['cat-file', 'blob', `${ref}:${STATE_FILE}`], {
      cwd,
      maxOutputBytes: MAX_STATE_BYTES,
      timeoutMs: TIMEOUT_MS,
    });
    if (succeeded(r) && !r.truncated) return r.stdout.toString('utf8');
  }
  return undefined;
}
