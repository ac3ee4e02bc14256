// gitops verify's command line: what it refuses before reading anything, and the objects that are not signed
// commits or tags (a lightweight tag, a tree, a name that resolves to nothing) in text and JSON.

import { describe, expect, it } from 'vitest';
import { gitops } from '../helpers/cli.js';
import { makeRepo, signerLine, sshKey, trustDir } from '../helpers/git.js';

const alice = sshKey('ed25519', 'alice');
const repo = makeRepo();
const head = repo.commit('signed', { sign: alice });
repo.git(['tag', 'light']);
const trust = trustDir({ signers: [signerLine('alice@example.test', alice)] });
const verify = (...args: string[]) => gitops(['verify', '--repo', repo.dir, '--trust', trust, ...args]);

describe('gitops verify: the command line', () => {
  it('--help prints both forms', () => {
    const r = gitops(['verify', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--range APPLIED..CANDIDATE');
  });

  it('refuses, with exit 2 and the usage, what cannot be run', () => {
    const cases: Array<[string[], string]> = [
      [['verify', '--repo', repo.dir, 'main'], '--repo and --trust are required'],
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
      const r = gitops(args);
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
});
