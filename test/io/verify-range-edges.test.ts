// verifyRange on a real repository of signed commits where the range itself is wrong: an applied commit or a
// candidate that is not there, a rollback, unrelated histories, a first-parent chain that misses the applied
// commit, more new commits than allowed, and a commit whose parent object is gone (a shallow clone).

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyRange } from '../../agent/core/trust/history.js';
import type { HistoryMode } from '../../agent/core/trust/history.js';
import { objectReader } from '../../agent/io/git-objects.js';
import { loadTrustStore } from '../../agent/io/trust-store.js';
import type { TrustStore } from '../../agent/core/trust/verify-object.js';
import { makeRepo, signerLine, sshKey, trustDir } from '../helpers/git.js';

const alice = sshKey('ed25519', 'alice');
const repo = makeRepo();
const sign = { sign: alice };
const root = repo.commit('root', { ...sign, date: '2026-03-01T10:00:00Z' });
const a = repo.commit('a', { ...sign, date: '2026-03-01T11:00:00Z' });
repo.git(['checkout', '-q', '-b', 'side', root]);
const side = repo.commit('side', { ...sign, date: '2026-03-01T12:00:00Z', file: 'config/motion.yaml' });
repo.git(['checkout', '-q', 'main']);
repo.git(
  [
    '-c',
    `user.signingkey=${alice.key}`,
    '-c',
    'gpg.format=ssh',
    'merge',
    '-q',
    '-S',
    '--no-ff',
    '-m',
    'merge side',
    'side',
  ],
  {
    env: { GIT_AUTHOR_DATE: '2026-03-01T13:00:00Z', GIT_COMMITTER_DATE: '2026-03-01T13:00:00Z' },
  },
);
const merge = repo.git(['rev-parse', 'HEAD']);
repo.git(['checkout', '-q', '--orphan', 'other']);
const unrelated = repo.commit('unrelated', { ...sign, date: '2026-03-01T14:00:00Z' });
repo.git(['checkout', '-q', 'main']);

let trust: TrustStore;
beforeAll(async () => {
  trust = await loadTrustStore(trustDir({ signers: [signerLine('alice@example.test', alice)] }));
});
const range = (base: string, candidate: string, mode: HistoryMode = 'all', extra = {}) =>
  verifyRange(objectReader(join(repo.dir, '.git')), base, candidate, trust, {
    now: Date.parse('2026-03-02T00:00:00Z') / 1000,
    skewSeconds: 300,
    mode,
    ...extra,
  });

describe('verifyRange: ranges that are wrong in themselves', () => {
  it('a good range is trusted, the same commit twice is nothing to do', async () => {
    expect((await range(root, merge)).verdict).toBe('trusted');
    expect((await range(root, merge)).commits).toHaveLength(3);
    expect(await range(a, a)).toMatchObject({
      verdict: 'trusted',
      reason: 'the candidate is the commit already applied',
    });
  });

  it('an applied commit or a candidate that is not in the repository is malformed', async () => {
    const none = 'f'.repeat(40);
    expect((await range(none, merge)).reason).toMatch(/^the applied commit ffffffffffff is not in the repository/);
    expect((await range(root, none)).reason).toBe('the candidate ffffffffffff is not in the repository');
  });

  it('a rollback and an unrelated history are policy refusals', async () => {
    expect((await range(merge, a)).reason).toContain('is an ancestor of the applied commit');
    expect(await range(a, unrelated)).toMatchObject({ verdict: 'policy' });
    expect((await range(a, unrelated)).reason).toContain('does not descend from the applied commit');
  });

  it('first-parent: the side branch is not on the way, and a commit too many is refused in both modes', async () => {
    expect((await range(side, merge, 'first-parent')).reason).toContain('is not on the first-parent history of');
    expect((await range(root, merge, 'first-parent')).commits.map((c) => c.oid).sort()).toEqual([a, merge].sort());
    for (const mode of ['all', 'first-parent'] as const)
      expect((await range(root, merge, mode, { maxCommits: 1 })).reason).toBe(
        'more than 1 new commits; refusing to examine an unbounded history',
      );
  });

  it('a commit whose parent object is gone is malformed, as in a shallow clone', async () => {
    const broken = makeRepo();
    const r0 = broken.commit('r0', sign);
    const r1 = broken.commit('r1', sign);
    const r2 = broken.commit('r2', sign);
    rmSync(join(broken.dir, '.git/objects', r1.slice(0, 2), r1.slice(2)));
    const result = await verifyRange(objectReader(join(broken.dir, '.git')), r0, r2, trust, {
      now: Date.now() / 1000,
      skewSeconds: 300,
      mode: 'all',
    });
    expect(result).toMatchObject({ verdict: 'malformed' });
    expect(result.reason).toBe(`commit ${r1.slice(0, 12)} is missing or unreadable (shallow clone?)`);
  });
});
