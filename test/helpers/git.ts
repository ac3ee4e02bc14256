// Real git repositories and real signing keys, made per test run in temp directories.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './project.js';

export interface Repo {
  dir: string;
  git(args: string[], options?: { env?: Record<string, string>; input?: string | Buffer }): string;
  /** Commits a file change; returns the new commit id. */
  commit(
    message: string,
    options?: {
      file?: string;
      content?: string;
      sign?: SigningKey | null;
      date?: string;
      env?: Record<string, string>;
    },
  ): string;
  /** Writes raw commit/tag bytes as an object; returns its id. */
  writeObject(type: 'commit' | 'tag', bytes: Buffer): string;
  catFile(oid: string): Buffer;
}

export interface SigningKey {
  format: 'ssh' | 'openpgp';
  /** SSH: private key path; OpenPGP: fingerprint. */
  key: string;
  /** SSH: the public key line; OpenPGP: the armored public key. */
  publicKey: string;
  gnupgHome?: string;
}

const baseEnv = (): Record<string, string> => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: process.env.HOME ?? '/tmp',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Ana Operator',
  GIT_AUTHOR_EMAIL: 'ana@example.test',
  GIT_COMMITTER_NAME: 'Ana Operator',
  GIT_COMMITTER_EMAIL: 'ana@example.test',
  GIT_AUTHOR_DATE: '2026-03-01T10:00:00Z',
  GIT_COMMITTER_DATE: '2026-03-01T10:00:00Z',
});

export function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; input?: string | Buffer } = {},
): Buffer {
  return execFileSync(cmd, args, {
    cwd: options.cwd,
    env: { ...baseEnv(), ...options.env },
    input: options.input,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

let counter = 0;

export function makeRepo(options: { bare?: boolean } = {}): Repo {
  const dir = tempDir('git-repo-');
  run('git', ['init', '-q', '-b', 'main', ...(options.bare ? ['--bare'] : []), dir]);
  const git = (args: string[], o: { env?: Record<string, string>; input?: string | Buffer } = {}): string =>
    run('git', args, { cwd: dir, ...o })
      .toString('utf8')
      .trim();
  return {
    dir,
    git,
    commit(message, o = {}) {
      const file = o.file ?? 'config/frame_capture.yaml';
      const full = join(dir, file);
      run('mkdir', ['-p', join(full, '..')]);
      writeFileSync(full, o.content ?? `version: 2\nframe_capture:\n  fps: ${++counter}\n`);
      git(['add', '-A']);
      const env: Record<string, string> = {
        ...(o.date ? { GIT_AUTHOR_DATE: o.date, GIT_COMMITTER_DATE: o.date } : {}),
        ...o.env,
      };
      const sign = o.sign ? signArgs(o.sign) : [];
      if (o.sign?.gnupgHome) env.GNUPGHOME = o.sign.gnupgHome;
      git([...sign, 'commit', '-q', ...(o.sign ? ['-S'] : []), '-m', message], { env });
      return git(['rev-parse', 'HEAD']);
    },
    writeObject(type, bytes) {
      return git(['hash-object', '-w', '-t', type, '--stdin'], { input: bytes });
    },
    catFile(oid) {
      const type = git(['cat-file', '-t', oid]);
      return run('git', ['cat-file', type, oid], { cwd: dir });
    },
  };
}

export function signArgs(key: SigningKey): string[] {
  return key.format === 'ssh'
    ? ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${key.key}`]
    : ['-c', 'gpg.format=openpgp', '-c', `user.signingkey=${key.key}`];
}

export function sshKey(
  type: 'ed25519' | 'ecdsa-256' | 'ecdsa-384' | 'ecdsa-521' | 'rsa',
  comment = 'signer',
): SigningKey {
  const dir = tempDir('ssh-key-');
  const path = join(dir, 'id');
  const [t, bits] = type.startsWith('ecdsa')
    ? ['ecdsa', type.split('-')[1]!]
    : type === 'rsa'
      ? ['rsa', '3072']
      : ['ed25519', undefined];
  run('ssh-keygen', ['-q', '-t', t!, ...(bits ? ['-b', bits] : []), '-N', '', '-C', comment, '-f', path]);
  return {
    format: 'ssh',
    key: path,
    publicKey: run('cat', [`${path}.pub`])
      .toString('utf8')
      .trim(),
  };
}

/** An OpenPGP key in its own GNUPGHOME (gpg --quick-gen-key); `expire` as gpg takes it. */
export function gpgKey(uid: string, options: { algo?: string; expire?: string; fakedTime?: string } = {}): SigningKey {
  const home = tempDir('gnupg-');
  run('chmod', ['700', home]);
  const faked = options.fakedTime ? [`--faked-system-time=${options.fakedTime}`] : [];
  run('gpg', [
    '--batch',
    '--homedir',
    home,
    ...faked,
    '--passphrase',
    '',
    '--quick-gen-key',
    uid,
    options.algo ?? 'ed25519',
    'sign',
    options.expire ?? 'never',
  ]);
  const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(
    run('gpg', ['--batch', '--homedir', home, '--with-colons', '--list-keys', uid]).toString('utf8'),
  )![1]!;
  return {
    format: 'openpgp',
    key: fpr,
    publicKey: run('gpg', ['--batch', '--homedir', home, '--armor', '--export', fpr]).toString('utf8'),
    gnupgHome: home,
  };
}

/** A trust directory with allowed_signers lines and armored keys. */
export function trustDir(options: { signers?: string[]; asc?: Record<string, string> } = {}): string {
  const dir = tempDir('trust-');
  if (options.signers) writeFileSync(join(dir, 'allowed_signers'), options.signers.join('\n') + '\n');
  for (const [name, text] of Object.entries(options.asc ?? {})) writeFileSync(join(dir, name), text);
  return dir;
}

export const signerLine = (principal: string, key: SigningKey, options = 'namespaces="git"'): string =>
  `${principal} ${options} ${key.publicKey.split(' ').slice(0, 2).join(' ')}`;
