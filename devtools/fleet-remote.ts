// A fleet repository for the bench and the demo: a working copy of this package's example
// configuration with a bare remote beside it, an ed25519 key made for this run (the only key
// the device's trust directory holds), and commits on a clock a minute apart.

import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface FleetRemote {
  work: string;
  bare: string;
  /** The device's trust directory: allowed_signers with this run's key. */
  trustDir: string;
  /** The environment git runs with: no user or system configuration, the author set. */
  env: NodeJS.ProcessEnv;
  /** Commits everything in the working copy, signed unless told otherwise; returns the commit id. */
  commit(message: string, signed?: boolean): string;
  /** Force-pushes `rev` to the remote's main. */
  push(rev?: string): void;
  /** Replaces `from` with `to` in a file of the working copy; throws when `from` is not there. */
  edit(file: string, from: string | RegExp, to: string): void;
}

const EXAMPLE = ['config', 'environments', 'schemas', '.sops.yaml'];

/**
 * Copies the configuration of the example repository (config, environments, schemas, .sops.yaml)
 * as committed at HEAD when `root` is a git checkout, so that an edit in progress (the README's
 * suggested one, a broken file) never reaches the demo's or the bench's fleet; from the files on
 * disk otherwise (an installed package).
 */
export function copyExample(root: string, into: string): void {
  let archive: Buffer | undefined;
  try {
    archive = execFileSync('git', ['-C', root, 'archive', '--format=tar', 'HEAD', '--', ...EXAMPLE], {
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 256 * 1024 * 1024,
    });
  } catch {
    archive = undefined; // not a git checkout, or nothing committed: the files on disk
  }
  if (archive) return void execFileSync('tar', ['-x', '-C', into], { input: archive });
  // links copied as files: the copy never writes through one
  for (const sub of EXAMPLE) cpSync(join(root, sub), join(into, sub), { recursive: true, dereference: true });
}

export function fleetRemote(
  root: string,
  dir: string,
  who: { name: string; email: string },
  clockStart: number,
): FleetRemote {
  const env = gitEnv(who);
  const work = join(dir, 'work');
  const bare = join(dir, 'srv/fleet.git');
  const key = join(dir, 'signing-key');
  const trustDir = join(dir, 'trust');
  mkdirSync(work, { recursive: true });
  mkdirSync(trustDir);
  execFileSync('git', ['init', '-q', '-b', 'main', work], { env });
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare], { env });
  copyExample(root, work);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', who.email, '-f', key]);
  writeFileSync(
    join(trustDir, 'allowed_signers'),
    `${who.email} ${readFileSync(`${key}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`,
  );
  let clock = clockStart;
  const git = (args: string[], extra: NodeJS.ProcessEnv = {}): string =>
    execFileSync('git', args, { cwd: work, env: { ...env, ...extra } })
      .toString()
      .trim();
  return {
    work,
    bare,
    trustDir,
    env,
    commit(message, signed = true) {
      clock += 60;
      git(['add', '-A']);
      git(
        [
          ...(signed ? ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${key}`] : []),
          'commit',
          '-q',
          ...(signed ? ['-S'] : []),
          '--allow-empty',
          '-m',
          message,
        ],
        { GIT_AUTHOR_DATE: `${clock} +0000`, GIT_COMMITTER_DATE: `${clock} +0000` },
      );
      return git(['rev-parse', 'HEAD']);
    },
    push(rev = 'HEAD') {
      git(['push', '-q', '--force', bare, `${rev}:main`]);
    },
    edit: (file, from, to) => editFile(work, file, from, to),
  };
}

/** The environment git runs with for a generated repository: no user or system configuration, the author set. */
export function gitEnv(who: { name: string; email: string }): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: who.name,
    GIT_AUTHOR_EMAIL: who.email,
    GIT_COMMITTER_NAME: who.name,
    GIT_COMMITTER_EMAIL: who.email,
  };
}

/** Replaces `from` with `to` in a file under `dir`; throws when `from` is not there. */
export function editFile(dir: string, file: string, from: string | RegExp, to: string): void {
  const path = join(dir, file);
  const text = readFileSync(path, 'utf8');
  if (typeof from === 'string' ? !text.includes(from) : !from.test(text))
    throw new Error(`${file} has no ${String(from)}`);
  writeFileSync(path, text.replace(from, to));
}
