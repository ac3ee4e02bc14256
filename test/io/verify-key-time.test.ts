// Key validity is judged at times the signer does not control (issue 12, section 4): keys made
// for this run, commits signed by real git with chosen dates, the range policy read through the
// real object reader, the command line for the JSON fields.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyRange } from '../../agent/core/trust/history.js';
import type { RangeOptions } from '../../agent/core/trust/history.js';
import { verifyCommitObject } from '../../agent/core/trust/verify-object.js';
import { objectReader } from '../../agent/io/git-objects.js';
import { loadTrustStore } from '../../agent/io/trust-store.js';
import { gitops } from '../helpers/cli.js';
import { gpgKey, makeRepo, signerLine, sshKey, trustDir } from '../helpers/git.js';
import type { Repo } from '../helpers/git.js';
import { fakedGpgEnv } from '../helpers/trust.js';

const at = (iso: string): number => Date.parse(iso) / 1000;
const opts = (now: string, mode: RangeOptions['mode'] = 'all'): RangeOptions => ({
  now: at(now),
  skewSeconds: 300,
  mode,
});
const range = async (repo: Repo, trust: string, base: string, candidate: string, o: RangeOptions) =>
  verifyRange(objectReader(join(repo.dir, '.git')), base, candidate, await loadTrustStore(trust), o);
const single = async (repo: Repo, trust: string, oid: string, now: string, keyTime: 'now' | 'committed' = 'now') =>
  verifyCommitObject(
    oid,
    oid,
    repo.catFile(oid),
    await loadTrustStore(trust),
    { now: at(now), skewSeconds: 300 },
    keyTime,
  );

describe('key validity against the device clock', () => {
  // alice's key was retired on 1 April; bob's key took over then
  const alice = sshKey('ed25519', 'alice');
  const bob = sshKey('ed25519', 'bob');
  const mallory = sshKey('ed25519', 'mallory');
  const trust = trustDir({
    signers: [
      signerLine('alice@example.test', alice, 'namespaces="git",valid-before="20260401Z"'),
      signerLine('bob@example.test', bob, 'namespaces="git",valid-after="20260401Z"'),
    ],
  });

  it("the candidate must be signed by a key valid now: a retired key's commit is key-not-valid, even dated inside its window", async () => {
    const r = makeRepo();
    const base = r.commit('base', { sign: alice, date: '2026-03-10T10:00:00Z' });
    const inWindow = r.commit('by alice, in her window', { sign: alice, date: '2026-03-15T10:00:00Z' });
    expect((await single(r, trust, inWindow, '2026-03-20T00:00:00Z')).verdict).toBe('trusted');
    expect((await single(r, trust, inWindow, '2026-06-01T00:00:00Z')).verdict).toBe('key-not-valid');
    const result = await range(r, trust, base, inWindow, opts('2026-06-01T00:00:00Z'));
    expect(result).toMatchObject({ verdict: 'key-not-valid', code: null, retryable: false });
  });

  it("older commits of a range whose committer times go forward are judged at their committer time: a retired key's history stays acceptable", async () => {
    for (const mode of ['all', 'first-parent'] as const) {
      const r = makeRepo();
      const base = r.commit('base', { sign: alice, date: '2026-03-10T10:00:00Z' });
      const old = r.commit('by alice before her key was retired', { sign: alice, date: '2026-03-15T10:00:00Z' });
      const top = r.commit('by bob, after the hand-over', { sign: bob, date: '2026-05-01T10:00:00Z' });
      const result = await range(r, trust, base, top, opts('2026-06-01T00:00:00Z', mode));
      expect(result.verdict, result.reason).toBe('trusted');
      expect(result.commits.map((c) => [c.oid, c.verdict, c.signer])).toEqual([
        [top, 'trusted', 'bob@example.test'],
        [old, 'trusted', 'alice@example.test'],
      ]);
    }
  });

  it("a commit backdated into a retired key's window is not trusted, even within the clock skew and under a good candidate", async () => {
    const r = makeRepo();
    // the applied commit is bob's, two minutes after alice's key was retired
    const base = r.commit('base by bob', { sign: bob, date: '2026-04-01T00:02:00Z' });
    // mallory holds alice's old key: she backdates one minute into its window (less than the skew)
    const backdated = r.commit('backdated with the retired key', { sign: alice, date: '2026-03-31T23:59:00Z' });
    const top = r.commit('by bob on top', { sign: bob, date: '2026-04-02T10:00:00Z' });
    expect((await single(r, trust, backdated, '2026-06-01T00:00:00Z', 'committed')).verdict).toBe('trusted'); // what judging at the committer time alone would say
    const result = await range(r, trust, base, top, opts('2026-06-01T00:00:00Z'));
    expect(result.verdict).toBe('key-not-valid');
    expect(result.commits.find((c) => c.oid === backdated)!.verdict).toBe('key-not-valid');
    expect(result.commits.find((c) => c.oid === top)!.verdict).toBe('trusted');
    // as the candidate itself it is refused too
    expect((await range(r, trust, base, backdated, opts('2026-06-01T00:00:00Z'))).verdict).toBe('key-not-valid');
  });

  it('a backdated commit on a side branch that forked before the applied commit is judged now too', async () => {
    const r = makeRepo();
    const fork = r.commit('fork point', { sign: alice, date: '2026-03-01T10:00:00Z' });
    const base = r.commit('applied, by bob', { sign: bob, date: '2026-04-10T10:00:00Z' });
    r.git(['checkout', '-q', '-b', 'side', fork]);
    const side = r.commit('side branch by the retired key, dated in its window', {
      sign: alice,
      date: '2026-03-20T10:00:00Z',
      file: 'side.yaml',
    });
    r.git(['checkout', '-q', 'main']);
    r.git(
      [
        '-c',
        'gpg.format=ssh',
        '-c',
        `user.signingkey=${bob.key}`,
        'merge',
        '-q',
        '-S',
        '--no-ff',
        '-m',
        'merge side',
        'side',
      ],
      { env: { GIT_COMMITTER_DATE: '2026-04-11T10:00:00Z', GIT_AUTHOR_DATE: '2026-04-11T10:00:00Z' } },
    );
    const merge = r.git(['rev-parse', 'HEAD']);
    const result = await range(r, trust, base, merge, opts('2026-06-01T00:00:00Z'));
    expect(result.commits.map((c) => [c.oid, c.verdict])).toEqual(
      expect.arrayContaining([
        [merge, 'trusted'],
        [side, 'key-not-valid'],
      ]),
    );
    expect(result.verdict).toBe('key-not-valid');
  });

  it('an untrusted signer stays untrusted whatever the dates', async () => {
    const r = makeRepo();
    const base = r.commit('base', { sign: bob, date: '2026-04-05T10:00:00Z' });
    const bad = r.commit('by mallory', { sign: mallory, date: '2026-04-06T10:00:00Z' });
    expect((await range(r, trust, base, bad, opts('2026-06-01T00:00:00Z'))).verdict).toBe('untrusted-key');
  });
});

describe('OpenPGP key expiry', () => {
  it('a key expired since is refused for the candidate, accepted for older commits of a forward-moving range', async () => {
    const r = makeRepo();
    const olga = gpgKey('Olga <olga@example.test>', { fakedTime: '20260101T000000', expire: '2026-02-01' });
    const alice = sshKey('ed25519', 'alice');
    const trust = trustDir({ signers: [signerLine('alice@example.test', alice)], asc: { 'olga.asc': olga.publicKey } });
    const base = r.commit('base', { sign: alice, date: '2026-01-10T10:00:00Z' });
    const byOlga = r.commit('by olga while her key was valid', {
      sign: olga,
      date: '2026-01-15T10:00:00Z',
      env: fakedGpgEnv('20260115T100000'),
    });
    const top = r.commit('by alice later', { sign: alice, date: '2026-03-01T10:00:00Z' });
    const now = new Date().toISOString();
    expect((await single(r, trust, byOlga, now)).verdict).toBe('key-not-valid');
    const result = await range(r, trust, base, top, opts(now));
    expect(result.verdict, result.reason).toBe('trusted');
    expect(result.commits.find((c) => c.oid === byOlga)).toMatchObject({
      verdict: 'trusted',
      signer: 'Olga <olga@example.test>',
    });
    expect((await range(r, trust, base, byOlga, opts(now))).verdict).toBe('key-not-valid');
  });
});

describe('commits from the future', () => {
  const alice = sshKey('ed25519', 'alice');
  const mallory = sshKey('ed25519', 'mallory');
  const trust = trustDir({ signers: [signerLine('alice@example.test', alice)] });

  it('beyond the skew: policy with code future-dated, retryable; within the skew: trusted', async () => {
    const r = makeRepo();
    const base = r.commit('base', { sign: alice, date: '2026-03-01T10:00:00Z' });
    const soon = r.commit('four minutes ahead', { sign: alice, date: '2026-06-01T00:04:00Z' });
    const later = r.commit('a day ahead', { sign: alice, date: '2026-06-02T00:00:00Z' });
    expect(await single(r, trust, soon, '2026-06-01T00:00:00Z')).toMatchObject({
      verdict: 'trusted',
      code: null,
      retryable: false,
    });
    expect(await single(r, trust, later, '2026-06-01T00:00:00Z')).toMatchObject({
      verdict: 'policy',
      code: 'future-dated',
      retryable: true,
    });
    expect(await range(r, trust, base, later, opts('2026-06-01T00:00:00Z'))).toMatchObject({
      verdict: 'policy',
      code: 'future-dated',
      retryable: true,
    });
    // once the clock has caught up, the same range is trusted
    expect((await range(r, trust, base, later, opts('2026-06-02T00:00:00Z'))).verdict).toBe('trusted');
  });

  it('a future commit that is bad anyway is refused for good, not retried', async () => {
    const r = makeRepo();
    const base = r.commit('base', { sign: alice, date: '2026-03-01T10:00:00Z' });
    const byMallory = r.commit('from the future, untrusted', { sign: mallory, date: '2027-01-01T00:00:00Z' });
    expect(await single(r, trust, byMallory, '2026-06-01T00:00:00Z')).toMatchObject({
      verdict: 'untrusted-key',
      retryable: false,
    });
    const edited = r.writeObject(
      'commit',
      Buffer.from(r.catFile(byMallory).toString('latin1').replace('untrusted', 'trusted!'), 'latin1'),
    );
    expect(await single(r, trust, edited, '2026-06-01T00:00:00Z')).toMatchObject({
      verdict: 'bad-signature',
      retryable: false,
    });
    expect(await range(r, trust, base, byMallory, opts('2026-06-01T00:00:00Z'))).toMatchObject({
      verdict: 'untrusted-key',
      retryable: false,
    });
    // a future commit on top of an unsigned one: the range is refused for the unsigned one, not retryable
    const r2 = makeRepo();
    const b2 = r2.commit('base', { sign: alice, date: '2026-03-01T10:00:00Z' });
    r2.commit('unsigned', { date: '2026-03-02T10:00:00Z' });
    const future = r2.commit('future', { sign: alice, date: '2027-01-01T00:00:00Z' });
    expect(await range(r2, trust, b2, future, opts('2026-06-01T00:00:00Z'))).toMatchObject({
      verdict: 'unsigned',
      retryable: false,
    });
    // a key whose window ends before the commit's future date will never be valid for it
    const windowed = trustDir({ signers: [signerLine('alice@example.test', alice, 'valid-before="20261001Z"')] });
    expect(await single(r2, windowed, future, '2026-06-01T00:00:00Z')).toMatchObject({
      verdict: 'key-not-valid',
      retryable: false,
    });
  });

  it('gitops verify --format json reports code and retryable, for objects and ranges', () => {
    const r = makeRepo();
    const base = r.commit('base', { sign: alice, date: '2026-03-01T10:00:00Z' });
    const later = r.commit('a day ahead', { sign: alice, date: '2026-06-02T00:00:00Z' });
    const one = gitops([
      'verify',
      '--repo',
      r.dir,
      '--trust',
      trust,
      '--now',
      '2026-06-01T00:00:00Z',
      '--format',
      'json',
      later,
    ]);
    expect(one.status).toBe(1);
    expect(JSON.parse(one.stdout)[0]).toMatchObject({ verdict: 'policy', code: 'future-dated', retryable: true });
    const ok = gitops([
      'verify',
      '--repo',
      r.dir,
      '--trust',
      trust,
      '--now',
      '2026-06-01T00:00:00Z',
      '--format',
      'json',
      base,
    ]);
    expect(JSON.parse(ok.stdout)[0]).toMatchObject({ verdict: 'trusted', code: null, retryable: false });
    const rng = gitops([
      'verify',
      '--repo',
      r.dir,
      '--trust',
      trust,
      '--now',
      '2026-06-01T00:00:00Z',
      '--format',
      'json',
      '--range',
      `${base}..${later}`,
    ]);
    expect(rng.status).toBe(1);
    expect(JSON.parse(rng.stdout)).toMatchObject({ verdict: 'policy', code: 'future-dated', retryable: true });
  });
});
