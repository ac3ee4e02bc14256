// The range scenarios of ../shared/vectors/git-signatures on the real vector repository
// (git clone --mirror of its bundle), read through isomorphic-git, and the command line on it.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyRange } from '../../agent/core/trust/history.js';
import { objectReader, resolveObject } from '../../agent/io/git-objects.js';
import { loadTrustStore } from '../../agent/io/trust-store.js';
import { gitops } from '../helpers/cli.js';
import { run } from '../helpers/git.js';
import { tempDir } from '../helpers/project.js';
import { hasSignatureVectors, SIGNATURE_VECTORS } from '../helpers/shared.js';

interface Range {
  applied: string;
  applied_oid: string;
  candidate: string;
  candidate_oid: string;
  expected: string;
  candidate_descends_from_applied: boolean;
  new_commits: string[];
}
const NOW = '2026-11-27T12:00:00Z';

describe.skipIf(!hasSignatureVectors)('vector ranges and the command line', () => {
  let repo = '';
  /** gitops verify on the vectors' repository and trust, at their time. */
  const verifyVectors = (): string[] => ['verify', '--repo', repo, '--trust', SIGNATURE_VECTORS, '--now', NOW];
  const manifest = hasSignatureVectors
    ? (JSON.parse(readFileSync(join(SIGNATURE_VECTORS, 'manifest.json'), 'utf8')) as {
        ranges: Range[];
        entries: Array<{ kind: string; oid: string; refs: string[]; expected: string }>;
      })
    : { ranges: [], entries: [] };
  beforeAll(() => {
    repo = join(tempDir('vectors-'), 'vectors.git');
    run('git', ['clone', '-q', '--mirror', join(SIGNATURE_VECTORS, 'repo.bundle'), repo]);
  });

  it.each(manifest.ranges.map((r) => [`${r.applied}..${r.candidate}`, r] as const))('%s', async (_n, r) => {
    const trust = await loadTrustStore(SIGNATURE_VECTORS);
    const result = await verifyRange(objectReader(repo), r.applied_oid, r.candidate_oid, trust, {
      now: Date.parse(NOW) / 1000,
      skewSeconds: 300,
      mode: 'all',
    });
    expect(result.verdict === 'trusted' ? 'ACCEPT' : 'REJECT', result.reason).toBe(r.expected);
    expect(result.commits.map((c) => c.oid).sort()).toEqual([...r.new_commits].sort());
  });

  it('every ref by name, through gitops verify --format json, in the order given', () => {
    const refs = manifest.entries.flatMap((e) =>
      e.refs.filter((ref) => ref.startsWith('refs/heads/') || ref.startsWith('refs/tags/')).map((ref) => ({ ref, e })),
    );
    const r = gitops([...verifyVectors(), '--format', 'json', ...refs.map((x) => x.ref)]);
    expect(r.status).toBe(1);
    const got = JSON.parse(r.stdout) as Array<{
      object: string;
      verdict: string;
      signer: string | null;
      reason: string;
    }>;
    expect(got.map((g) => g.object)).toEqual(refs.map((x) => x.ref));
    for (const [i, { ref, e }] of refs.entries()) {
      const want =
        ref === 'refs/tags/v1.0-lightweight'
          ? 'unsigned'
          : e.expected === 'ACCEPT'
            ? 'trusted'
            : e.expected.replace('REJECT:', '');
      expect(got[i]!.verdict, `${ref}: ${got[i]!.reason}`).toBe(want);
    }
  });

  it('exits 0 only when everything is trusted', () => {
    expect(gitops([...verifyVectors(), 'main', 'v1.0-ssh', 'v1.0-gpg']).status).toBe(0);
  });

  it('--range prints the verdict and every new commit', () => {
    const r = gitops([...verifyVectors(), '--range', '7b4a90cd56db..main', '--format', 'json']);
    expect(r.status).toBe(0);
    const parsed = JSON.parse(r.stdout) as { verdict: string; commits: Array<{ signer: string }> };
    expect(parsed.verdict).toBe('trusted');
    expect(new Set(parsed.commits.map((c) => c.signer))).toEqual(
      new Set(['bob@example.test', 'carol@example.test', 'alice@example.test', 'Dave Test <dave@example.test>']),
    );
  });

  it('no jump onto a merged side branch, no rollback', async () => {
    const a05 = manifest.entries.find((e) => e.oid.startsWith('353ef8e6'))!.oid;
    const r = gitops([...verifyVectors(), '--output', 'text', '--range', `main..${a05}`]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(
      /^policy: the candidate 353ef8e6bb68 is an ancestor of the applied commit 4eb7604bc8e9: a rollback/,
    );
    const a06 = manifest.entries.find((e) => e.oid.startsWith('cd982fda'))!.oid;
    const fp = gitops([...verifyVectors(), '--range', `${a05}..main`, '--mode', 'first-parent', '--output', 'text']);
    expect(fp.stdout).toMatch(
      /^policy: the applied commit 353ef8e6bb68 is not on the first-parent history of 4eb7604bc8e9/,
    );
    const ok = gitops([...verifyVectors(), '--range', `${a06}..main`, '--mode', 'first-parent', '--format', 'json']);
    expect(JSON.parse(ok.stdout).commits.map((c: { oid: string }) => c.oid.slice(0, 12))).toEqual(['4eb7604bc8e9']);
  });

  it('a missing repository, ref or trust directory is a clear error, never trusted', async () => {
    const noRepo = gitops(['verify', '--repo', '/nonexistent', '--trust', SIGNATURE_VECTORS, 'main']);
    expect(noRepo.status).toBe(1);
    expect(noRepo.stderr).toContain('/nonexistent is not a git repository');
    const noRef = gitops([
      'verify',
      '--repo',
      repo,
      '--trust',
      SIGNATURE_VECTORS,
      '--format',
      'json',
      'no-such-branch',
    ]);
    expect(JSON.parse(noRef.stdout)[0]).toMatchObject({
      verdict: 'malformed',
      reason: expect.stringContaining('"no-such-branch" is not an object id, branch or tag'),
    });
    const noTrust = gitops(['verify', '--repo', repo, '--trust', '/nonexistent', 'main']);
    expect(noTrust.stderr).toContain('cannot read the trust directory /nonexistent');
    await expect(resolveObject(repo, 'ffffffffffffffffffffffffffffffffffffffff')).rejects.toThrow(
      /not in the repository/,
    );
  });
});
