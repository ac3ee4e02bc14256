// Our own history: keys generated for this run, commits and tags signed by real git, then
// tampered with. Each verdict is checked through the real command line and the real reader.

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitops } from '../helpers/cli.js';
import { gpgKey, makeRepo, run, signArgs, signerLine, sshKey, trustDir } from '../helpers/git.js';
import type { Repo } from '../helpers/git.js';
import { tempDir } from '../helpers/project.js';
import { fakedGpgEnv, sshSignCommit } from '../helpers/trust.js';

const NOW = '2026-06-01T00:00:00Z';
type V = { object: string; oid: string; verdict: string; signer: string | null; reason: string };
const verify = (repo: Repo, trust: string, ...objects: string[]): V[] =>
  JSON.parse(
    gitops(['verify', '--repo', repo.dir, '--trust', trust, '--now', NOW, '--format', 'json', ...objects]).stdout,
  ) as V[];
/** With the real clock: OpenPGP keys made by this run did not exist at NOW. */
const verifyNow = (repo: Repo, trust: string, ...objects: string[]): V[] =>
  JSON.parse(gitops(['verify', '--repo', repo.dir, '--trust', trust, '--format', 'json', ...objects]).stdout) as V[];
const range = (
  repo: Repo,
  trust: string,
  spec: string,
  mode = 'all',
): { verdict: string; reason: string; commits: V[] } =>
  JSON.parse(
    gitops([
      'verify',
      '--repo',
      repo.dir,
      '--trust',
      trust,
      '--now',
      NOW,
      '--format',
      'json',
      '--range',
      spec,
      '--mode',
      mode,
    ]).stdout,
  );

/** Rewrites a commit's raw bytes and stores the result as a new object. */
const rewrite = (repo: Repo, oid: string, edit: (text: string) => string): string =>
  repo.writeObject('commit', Buffer.from(edit(repo.catFile(oid).toString('latin1')), 'latin1'));

describe('SSH keys of every supported type, with real git', () => {
  const keys = {
    ed25519: sshKey('ed25519'),
    'ecdsa-256': sshKey('ecdsa-256'),
    'ecdsa-384': sshKey('ecdsa-384'),
    'ecdsa-521': sshKey('ecdsa-521'),
    rsa: sshKey('rsa'),
  };
  const repo = makeRepo();
  const trust = trustDir({ signers: Object.entries(keys).map(([k, key]) => signerLine(`${k}@example.test`, key)) });
  const commits = Object.entries(keys).map(([k, key]) => [k, repo.commit(`signed with ${k}`, { sign: key })] as const);

  it.each(commits)('%s: trusted, signer is the principal', (k, oid) => {
    expect(verify(repo, trust, oid)[0]).toMatchObject({ verdict: 'trusted', signer: `${k}@example.test` });
  });

  it('sha256 as the SSHSIG hash is accepted too', () => {
    const wrapper = join(tempDir(), 'ssh-keygen-sha256');
    writeFileSync(wrapper, '#!/bin/sh\nexec ssh-keygen -O hashalg=sha256 "$@"\n', { mode: 0o755 });
    const oid = repo.commit('sha256 hash', {
      sign: keys.ed25519,
      env: { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'gpg.ssh.program', GIT_CONFIG_VALUE_0: wrapper },
    });
    expect(repo.catFile(oid).toString('latin1')).toContain('gpgsig -----BEGIN SSH SIGNATURE-----');
    expect(verify(repo, trust, oid)[0]!.verdict).toBe('trusted');
  });
});

describe('tampering and policy, SSH', () => {
  const alice = sshKey('ed25519');
  const mallory = sshKey('ed25519');
  const repo = makeRepo();
  const trust = trustDir({ signers: [signerLine('alice@example.test', alice)] });
  const root = repo.commit('root', { sign: alice, date: '2026-03-01T10:00:00Z' });
  const signed = repo.commit('change fps', { sign: alice, date: '2026-03-02T10:00:00Z' });

  it('an edited message, a swapped tree, a transplanted signature: bad-signature', () => {
    const edited = rewrite(repo, signed, (t) => t.replace('change fps', 'change fps to 500'));
    const otherTree = repo.git(['rev-parse', `${root}^{tree}`]);
    const swapped = rewrite(repo, signed, (t) => t.replace(/^tree [0-9a-f]{40}/m, `tree ${otherTree}`));
    const unsigned = repo.commit('unsigned', { date: '2026-03-03T10:00:00Z' });
    const sig = /^gpgsig [\s\S]*?-----END SSH SIGNATURE-----\n/m.exec(repo.catFile(signed).toString('latin1'))![0];
    const transplanted = rewrite(repo, unsigned, (t) => t.replace('\n\n', `\n${sig}\n`));
    const got = verify(repo, trust, edited, swapped, transplanted);
    expect(got.map((g) => g.verdict)).toEqual(['bad-signature', 'bad-signature', 'bad-signature']);
    expect(got[0]!.reason).toMatch(/changed after signing/);
  });

  it('an untrusted signer is untrusted-key; an unsigned commit is unsigned', () => {
    const bad = repo.commit('by mallory', { sign: mallory, date: '2026-03-04T10:00:00Z' });
    const none = repo.commit('not signed', { date: '2026-03-05T10:00:00Z' });
    expect(verify(repo, trust, bad, none).map((g) => g.verdict)).toEqual(['untrusted-key', 'unsigned']);
  });

  it('stricter than git: a duplicated gpgsig header is malformed', () => {
    const doubled = rewrite(repo, signed, (t) => {
      const sig = /^gpgsig [\s\S]*?-----END SSH SIGNATURE-----\n/m.exec(t)![0];
      return t.replace(sig, sig + sig);
    });
    expect(verify(repo, trust, doubled)[0]).toMatchObject({
      verdict: 'malformed',
      reason: 'the commit carries 2 gpgsig headers; a signed commit has exactly one',
    });
  });

  it('a signed commit on an unsigned parent: the range is refused for the parent', () => {
    const r = makeRepo();
    const t = trustDir({ signers: [signerLine('alice@example.test', alice)] });
    const base = r.commit('base', { sign: alice });
    const gap = r.commit('unsigned in between', { date: '2026-03-01T11:00:00Z' });
    const top = r.commit('signed on top', { sign: alice, date: '2026-03-01T12:00:00Z' });
    const result = range(r, t, `${base}..${top}`);
    expect(result.verdict).toBe('unsigned');
    expect(result.reason).toContain(gap.slice(0, 12));
    expect(result.commits.map((c) => c.verdict)).toEqual(['trusted', 'unsigned']);
  });

  /** base <- applied, then the branch reset to base: what a force-push leaves. */
  const forcePushed = (): { r: Repo; t: string; base: string; applied: string } => {
    const r = makeRepo();
    const t = trustDir({ signers: [signerLine('alice@example.test', alice)] });
    const base = r.commit('base', { sign: alice });
    const applied = r.commit('applied', { sign: alice, date: '2026-03-01T11:00:00Z' });
    r.git(['reset', '-q', '--hard', base]);
    return { r, t, base, applied };
  };

  it('a force-pushed branch does not descend from what was applied: policy', () => {
    const { r, t, base, applied } = forcePushed();
    const rewritten = r.commit('rewritten', { sign: alice, date: '2026-03-01T12:00:00Z' });
    expect(range(r, t, `${applied}..${rewritten}`)).toMatchObject({
      verdict: 'policy',
      reason: expect.stringContaining('does not descend from the applied commit'),
    });
    expect(range(r, t, `${applied}..${base}`)).toMatchObject({
      verdict: 'policy',
      reason: expect.stringContaining('a rollback'),
    });
  });

  it('a parent line that does not directly follow the tree or another parent is not a parent: a rewritten history cannot claim the applied commit through one', () => {
    const { r, t, base, applied } = forcePushed();
    const draft = r.commit('rewritten, claiming the applied commit', { date: '2026-03-01T12:00:00Z' });
    const withStray = Buffer.from(
      r
        .catFile(draft)
        .toString('latin1')
        .replace(/^(committer .*\n)/m, `$1parent ${applied}\n`),
      'latin1',
    );
    const forged = r.writeObject('commit', sshSignCommit(withStray, alice.key));
    // git: not a descendant, the stray line is no parent
    expect(r.git(['log', '-1', '--format=%P', forged])).toBe(base);
    expect(() => run('git', ['merge-base', '--is-ancestor', applied, forged], { cwd: r.dir })).toThrow();
    expect(verify(r, t, forged)[0]!.verdict).toBe('trusted');
    expect(range(r, t, `${applied}..${forged}`).verdict).toBe('policy');
    expect(range(r, t, `${base}..${forged}`).commits.map((c) => c.oid)).toEqual([forged]);
  });

  it('committer times going backwards, or in the future, are refused', () => {
    const r = makeRepo();
    const t = trustDir({ signers: [signerLine('alice@example.test', alice)] });
    const base = r.commit('base', { sign: alice, date: '2026-03-10T10:00:00Z' });
    const back = r.commit('backdated', { sign: alice, date: '2026-03-01T10:00:00Z' });
    expect(range(r, t, `${base}..${back}`)).toMatchObject({
      verdict: 'policy',
      reason: expect.stringContaining('committer times go backwards'),
    });
    const future = r.commit('from the future', { sign: alice, date: '2026-07-01T10:00:00Z' });
    expect(verify(r, t, future)[0]).toMatchObject({
      verdict: 'policy',
      reason: expect.stringContaining('in the future'),
    });
  });

  it('a key outside its validity window at the commit time, or not allowed the git namespace: key-not-valid', () => {
    const r = makeRepo();
    const oid = r.commit('dated March', { sign: alice, date: '2026-03-15T10:00:00Z' });
    const expired = trustDir({
      signers: [signerLine('alice@example.test', alice, 'namespaces="git",valid-before="20260301Z"')],
    });
    const early = trustDir({ signers: [signerLine('alice@example.test', alice, 'valid-after="20260401Z"')] });
    const fileOnly = trustDir({ signers: [signerLine('alice@example.test', alice, 'namespaces="file"')] });
    const inside = trustDir({
      signers: [
        signerLine('alice@example.test', alice, 'namespaces="git",valid-after="20260301Z",valid-before="20260401Z"'),
      ],
    });
    expect(verify(r, expired, oid)[0]).toMatchObject({
      verdict: 'key-not-valid',
      reason: expect.stringContaining(
        'valid only before 2026-03-01T00:00:00Z; the object is dated 2026-03-15T10:00:00Z',
      ),
    });
    expect(verify(r, early, oid)[0]!.verdict).toBe('key-not-valid');
    expect(verify(r, fileOnly, oid)[0]!.reason).toContain('does not allow this key to sign namespace "git"');
    // the window holds the commit time, but a single object is judged at the device's clock too
    expect(verify(r, inside, oid)[0]!.verdict).toBe('key-not-valid');
    const atMarch = JSON.parse(
      gitops(['verify', '--repo', r.dir, '--trust', inside, '--now', '2026-03-20T00:00:00Z', '--format', 'json', oid])
        .stdout,
    ) as V[];
    expect(atMarch[0]!.verdict).toBe('trusted');
  });

  it('a signature made for another namespace is bad', () => {
    const r = makeRepo();
    const unsigned = r.commit('payload');
    const forged = r.writeObject('commit', sshSignCommit(r.catFile(unsigned), alice.key, 'file'));
    expect(verify(r, trustDir({ signers: [signerLine('alice@example.test', alice, '')] }), forged)[0]).toMatchObject({
      verdict: 'bad-signature',
      reason: 'the SSH signature was made for namespace "file", not "git"',
    });
  });
});

describe('tags', () => {
  const alice = sshKey('ed25519');
  const repo = makeRepo();
  const trust = trustDir({ signers: [signerLine('alice@example.test', alice)] });
  const head = repo.commit('release', { sign: alice });
  repo.git([...signArgs(alice), 'tag', '-s', '-m', 'release 1.0', 'v1.0', head]);
  const tagOid = repo.git(['rev-parse', 'refs/tags/v1.0']);

  it('a signed tag is trusted by its name; republished under another name it is policy', () => {
    repo.git(['update-ref', 'refs/tags/v9.9', tagOid]);
    expect(verify(repo, trust, 'v1.0', 'v9.9').map((v) => v.verdict)).toEqual(['trusted', 'policy']);
    expect(verify(repo, trust, 'v9.9')[0]!.reason).toBe(
      'the tag object is named "v1.0" but was fetched as "v9.9" (a signed tag republished under another name)',
    );
  });

  it('bytes after the signature END line are malformed (git accepts them)', () => {
    const raw = repo.catFile(tagOid);
    const padded = repo.writeObject('tag', Buffer.concat([raw, Buffer.from('extra text after the signature\n')]));
    repo.git(['update-ref', 'refs/tags/v1.0-padded', padded]);
    // plain git verify-tag exits 0 on it (run throws on a non-zero exit)
    expect(() =>
      run('git', ['-c', `gpg.ssh.allowedSignersFile=${join(trust, 'allowed_signers')}`, 'verify-tag', padded], {
        cwd: repo.dir,
      }),
    ).not.toThrow();
    expect(verify(repo, trust, padded)[0]).toMatchObject({
      verdict: 'malformed',
      reason: "the tag has bytes after its signature's END line",
    });
  });
});

describe('OpenPGP keys made by gpg', () => {
  it('a primary key, and a signing subkey, are trusted; the signer is the user id', () => {
    const dave = gpgKey('Dave <dave@example.test>');
    const repo = makeRepo();
    const oid = repo.commit('openpgp', { sign: dave });
    run('gpg', [
      '--batch',
      '--homedir',
      dave.gnupgHome!,
      '--passphrase',
      '',
      '--quick-add-key',
      dave.key,
      'ed25519',
      'sign',
      'never',
    ]);
    const sub = /^fpr:+([0-9A-F]{40}):/gm;
    const listing = run('gpg', [
      '--batch',
      '--homedir',
      dave.gnupgHome!,
      '--with-colons',
      '--list-keys',
      dave.key,
    ]).toString('utf8');
    const subFpr = [...listing.matchAll(sub)].map((m) => m[1]!).find((f) => f !== dave.key)!;
    const bySub = repo.commit('openpgp subkey', { sign: { ...dave, key: `${subFpr}!` }, date: '2026-03-02T10:00:00Z' });
    const trust = trustDir({
      asc: {
        'dave.asc': run('gpg', ['--batch', '--homedir', dave.gnupgHome!, '--armor', '--export', dave.key]).toString(
          'utf8',
        ),
      },
    });
    const got = verifyNow(repo, trust, oid, bySub);
    expect(got.map((g) => [g.verdict, g.signer])).toEqual([
      ['trusted', 'Dave <dave@example.test>'],
      ['trusted', 'Dave <dave@example.test>'],
    ]);
  });

  it('a key that has expired since, or has been revoked, is key-not-valid', () => {
    const repo = makeRepo();
    // made "in the past" with an expiry that has passed by now
    const old = gpgKey('Olga <olga@example.test>', { fakedTime: '20260101T000000', expire: '2026-02-01' });
    const oid = repo.commit('by an expired key', {
      sign: old,
      date: '2026-01-15T10:00:00Z',
      env: fakedGpgEnv('20260115T100000'),
    });
    const leo = gpgKey('Leo <leo@example.test>');
    const signed = repo.commit('by a later revoked key', { sign: leo, date: '2026-03-02T10:00:00Z' });
    const revs = join(leo.gnupgHome!, 'openpgp-revocs.d');
    const cert = readFileSync(join(revs, readdirSync(revs)[0]!), 'utf8').replace(/^:-----BEGIN/m, '-----BEGIN');
    run('gpg', ['--batch', '--homedir', leo.gnupgHome!, '--import'], { input: cert });
    const trust = trustDir({
      asc: {
        'olga.asc': old.publicKey,
        'leo.asc': run('gpg', ['--batch', '--homedir', leo.gnupgHome!, '--armor', '--export', leo.key]).toString(
          'utf8',
        ),
      },
    });
    const got = verifyNow(repo, trust, oid, signed);
    expect(got[0]).toMatchObject({
      verdict: 'key-not-valid',
      reason: expect.stringContaining('expired on 2026-02-01'),
    });
    expect(got[1]).toMatchObject({ verdict: 'key-not-valid', reason: expect.stringMatching(/revoked/i) });
  });
});
