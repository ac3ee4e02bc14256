// gitops verify's command line: what it refuses before reading anything, and the objects that are not signed
// commits or tags (a lightweight tag, a tree, a name that resolves to nothing) in text and JSON.

import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitops } from '../helpers/cli.js';
import { makeRepo, signerLine, sshKey, trustDir } from '../helpers/git.js';
import { tempDir } from '../helpers/project.js';

const alice = sshKey('ed25519', 'alice');
const repo = makeRepo();
const head = repo.commit('signed', { sign: alice });
repo.git(['tag', 'light']);
const trust = trustDir({ signers: [signerLine('alice@example.test', alice)] });
const outside = tempDir('not-a-checkout-');
const verify = (...args: string[]) => gitops(['verify', '--repo', repo.dir, '--trust', trust, ...args]);

describe('gitops verify: the command line', () => {
  it('--help prints both forms', () => {
    const r = gitops(['verify', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--range APPLIED..CANDIDATE');
  });

  it('refuses, with exit 2 and the usage, what cannot be run', () => {
    const cases: Array<[string[], string]> = [
      [['verify', '--repo', repo.dir, 'main'], `--trust DIR is required: ${repo.dir} has no .github/trust/`],
      [['verify', '--repo', join(repo.dir, '.git'), 'main'], '--trust DIR is required: a bare repository has no'],
      [['verify', '--trust', trust, 'main'], 'is not inside a git work tree, and --repo is not given'],
      [['verify', '--repo', repo.dir, '--trust', trust], 'name at least one OBJECT, or --range APPLIED..CANDIDATE'],
      [['verify', '--repo', repo.dir, '--trust', trust, '--range', 'main..main', 'main'], 'cannot be combined'],
      [
        ['verify', '--repo', repo.dir, '--trust', trust, '--now', 'yesterday', 'main'],
        '--now "yesterday" is not a date',
      ],
      [['verify', '--repo', repo.dir, '--trust', trust, '--skew', '1.5', 'main'], '--skew must be a whole number'],
      [['verify', '--repo', repo.dir, '--trust', trust, '--format', 'xml', 'main'], '--format must be one of'],
      [['verify', '--repo', repo.dir, '--trust', trust, '--mode', 'some', '--range', 'main..main'], '--mode must be'],
      [['verify', '--repo', repo.dir, '--trust', trust, '--range', 'main'], '--range "main" is not APPLIED..CANDIDATE'],
    ];
    for (const [args, message] of cases) {
      const r = gitops(args, { cwd: outside });
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stdout).toBe('');
    }
  });

  it('a range between a tree and a commit is refused: a range runs between two commits', () => {
    const tree = repo.git(['rev-parse', 'HEAD^{tree}']);
    const r = verify('--range', `${tree}..main`);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`is a tree, not a commit`);
  });

  it('a signed commit, a lightweight tag, a tree and an unknown name, each with its verdict', () => {
    const tree = repo.git(['rev-parse', 'HEAD^{tree}']);
    const r = verify('--format', 'json', '--now', '2026-03-02T00:00:00Z', 'main', 'light', tree, 'no-such-ref');
    expect(r.status).toBe(1);
    const verdicts = JSON.parse(r.stdout) as Array<{
      object: string;
      oid: string | null;
      verdict: string;
      reason: string;
    }>;
    expect(verdicts.map((v) => [v.object, v.verdict])).toEqual([
      ['main', 'trusted'],
      ['light', 'unsigned'],
      [tree, 'malformed'],
      ['no-such-ref', 'malformed'],
    ]);
    expect(verdicts[0]!.oid).toBe(head);
    expect(verdicts[1]!.reason).toContain('a lightweight tag');
    expect(verdicts[2]!.reason).toContain('is a tree, not a commit or a tag');
    const text = verify('--output', 'text', '--now', '2026-03-02T00:00:00Z', 'main', 'light');
    expect(text.status).toBe(1);
    expect(text.stdout.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^main +trusted +alice@example\.test/),
      expect.stringMatching(/^light +unsigned +- +a lightweight tag/),
    ]);
    expect(verify('--now', '2026-03-02T00:00:00Z', 'main').status).toBe(0);
  });

  it('inside a checkout, --repo defaults to its git directory and --trust to its .github/trust/, from any subdirectory', () => {
    const checkout = makeRepo();
    for (const sub of ['environments', 'schemas']) mkdirSync(join(checkout.dir, sub));
    cpSync(trust, join(checkout.dir, '.github/trust'), { recursive: true });
    const signed = checkout.commit('signed', { sign: alice });
    checkout.commit('unsigned');
    const deep = join(checkout.dir, 'config/sub');
    mkdirSync(deep, { recursive: true });
    const r = gitops(['verify', '--now', '2030-01-01T00:00:00Z', 'HEAD~1', 'HEAD'], { cwd: deep });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(1);
    const verdicts = JSON.parse(r.stdout) as Array<{ oid: string; verdict: string; signer: string | null }>;
    expect(verdicts.map((v) => [v.oid, v.verdict, v.signer])).toEqual([
      [signed, 'trusted', 'alice@example.test'],
      [checkout.git(['rev-parse', 'HEAD']), 'unsigned', null],
    ]);
    // --trust and --repo still win
    const other = trustDir({ signers: [signerLine('bob@example.test', sshKey('ed25519', 'bob'))] });
    const untrusted = gitops(['verify', '--trust', other, 'HEAD~1'], { cwd: deep });
    expect((JSON.parse(untrusted.stdout) as Array<{ verdict: string }>)[0]!.verdict).toBe('untrusted-key');
    const elsewhere = gitops(
      ['verify', '--repo', repo.dir, '--trust', trust, '--now', '2026-03-02T00:00:00Z', 'main'],
      {
        cwd: deep,
      },
    );
    expect((JSON.parse(elsewhere.stdout) as Array<{ oid: string }>)[0]!.oid).toBe(head);
    // a checkout without .github/trust/: --trust is required
    const plain = makeRepo();
    for (const sub of ['environments', 'schemas']) mkdirSync(join(plain.dir, sub));
    const missing = gitops(['verify', 'HEAD'], { cwd: join(plain.dir, 'environments') });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain(`--trust DIR is required: ${plain.dir} has no .github/trust/`);
  });
});
