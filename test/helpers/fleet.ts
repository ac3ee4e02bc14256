// A signed fleet repository for agent tests: the example configuration committed and signed
// with an SSH key made for this run, served by a real smart-HTTP git server on 127.0.0.1, and
// the bench doorbell's agent settings pointing at it.

import { cpSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { benchDeviceSettings } from '../../devtools/bench-device.js';
import type { BenchDevice } from '../../devtools/bench-device.js';
import { makeRepo, run, signerLine, sshKey, trustDir } from './git.js';
import type { Repo } from './git.js';
import { startGitServer } from './git-server.js';
import type { GitServer } from './git-server.js';
import { PROJECT, tempDir } from './project.js';
import { apiTokens } from './tokens.js';
import type { Tokens } from './tokens.js';

export interface SignedFleet {
  work: Repo;
  server: GitServer;
  trust: string;
  anchor: string;
  tokens: Tokens;
  /** Commits everything in the work tree, signed, one minute after the previous commit. */
  commit(message: string): string;
  /** The work repository's HEAD becomes the remote's main (forced). */
  push(): void;
  /** A revision of the work repository becomes a ref of the remote (forced: a test may move it back). */
  pushRef(rev: string, ref: string): void;
  /** Removes a ref of the remote. */
  deleteRef(ref: string): void;
  /** Writes agent.yaml for the bench doorbell into `dir`; returns its path. */
  settings(dir: string, state: string, extra?: Partial<BenchDevice>): string;
}

export async function signedFleet(): Promise<SignedFleet> {
  const alice = sshKey('ed25519');
  const root = tempDir('fleet-');
  const bare = join(root, 'fleet.git');
  const work = makeRepo();
  const tokens = apiTokens();
  for (const sub of ['config', 'environments', 'schemas', '.sops.yaml'])
    cpSync(join(PROJECT, sub), join(work.dir, sub), { recursive: true });
  run('git', ['init', '-q', '--bare', '-b', 'main', bare]);
  let clock = Date.parse('2026-03-01T10:00:00Z') / 1000;
  const commit = (message: string): string => {
    clock += 60;
    work.git(['add', '-A']);
    const env = { GIT_AUTHOR_DATE: `${clock} +0000`, GIT_COMMITTER_DATE: `${clock} +0000` };
    work.git(
      [
        '-c',
        'gpg.format=ssh',
        '-c',
        `user.signingkey=${alice.key}`,
        'commit',
        '-q',
        '-S',
        '--allow-empty',
        '-m',
        message,
      ],
      { env },
    );
    return work.git(['rev-parse', 'HEAD']);
  };
  const push = (): void => void work.git(['push', '-q', '--force', bare, 'HEAD:main']);
  const anchor = commit('the fleet configuration');
  push();
  const server = await startGitServer(root);
  const trust = trustDir({ signers: [signerLine('alice@example.test', alice)] });
  const settings = (dir: string, state: string, extra: Partial<BenchDevice> = {}): string => {
    const file = join(dir, 'agent.yaml');
    writeFileSync(
      file,
      benchDeviceSettings({
        root: PROJECT,
        url: `${server.url}/fleet.git`,
        trustDir: trust,
        anchor,
        stateDir: state,
        tokensFile: tokens.file,
        ...extra,
      }),
    );
    return file;
  };
  const pushRef = (rev: string, ref: string): void => void work.git(['push', '-q', '--force', bare, `${rev}:${ref}`]);
  const deleteRef = (ref: string): void => void work.git(['push', '-q', bare, `:${ref}`]);
  return { work, server, trust, anchor, tokens, commit, push, pushRef, deleteRef, settings };
}

/** Polls what a process reports until `done` holds; the deadline is generous (a busy machine is slow). */
export async function until<T>(
  what: string,
  get: () => Promise<T> | T,
  done: (v: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (done(v)) return v;
    if (performance.now() > deadline)
      throw new Error(`timed out waiting for ${what}; last answer: ${JSON.stringify(v).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A request on a connection of its own (no keep-alive reuse). After the test process has been
 * busy for seconds (a large commit made synchronously), a pooled connection may be one the
 * server has just closed for idleness; a new one cannot be.
 */
export function requestFresh(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: init.method ?? 'GET', headers: init.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}
