// Property: on random mutations of real signed commits, the object parser and the payload cut
// agree with real git. Keys are made for this run (SSH ed25519 and OpenPGP); every mutated
// object is stored with `git hash-object -w --literally` and read back by git and by us:
// - `git cat-file commit` and our object reader return the same bytes;
// - where `git show` parses the commit, our tree and parents are git's (a `parent` line that
//   does not directly follow `tree` or another parent is not a parent); where git refuses to
//   parse it, we call it malformed;
// - where `git verify-commit -v` prints a payload, ours is byte for byte the same;
// - our verdict is git's class (%G?): G trusted, B bad-signature, U untrusted-key, N unsigned,
//   except where we are deliberately stricter (malformed: an ambiguous object, or a signature
//   that does not even decode, which git also calls B).

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { commitHeaders, commitLinks, splitCommit } from '../../agent/core/trust/git-object.js';
import { armorProblem } from '../../agent/core/trust/openpgp-verify.js';
import { verifyCommitObject } from '../../agent/core/trust/verify-object.js';
import { objectReader } from '../../agent/io/git-objects.js';
import { loadTrustStore } from '../../agent/io/trust-store.js';
import { gpgKey, makeRepo, signArgs, signerLine, sshKey, trustDir } from '../helpers/git.js';

const RUNS = 25;

const alice = sshKey('ed25519', 'alice');
const dave = gpgKey('Dave <dave@example.test>');
const repo = makeRepo();
const gitdir = join(repo.dir, '.git');
const trust = trustDir({ signers: [signerLine('alice@example.test', alice)], asc: { 'dave.asc': dave.publicKey } });
const root = repo.commit('root', { sign: alice, date: '2026-03-01T10:00:00Z' });
const second = repo.commit('second\n\nwith a body', { sign: alice, date: '2026-03-02T10:00:00Z' });
repo.git(['checkout', '-q', '-b', 'side', root]);
repo.commit('side', { file: 'side.yaml', date: '2026-03-03T10:00:00Z' });
repo.git(['checkout', '-q', 'main']);
repo.git([...signArgs(alice), 'merge', '-q', '-S', '--no-ff', '-m', 'merge side', 'side'], {
  env: { GIT_COMMITTER_DATE: '2026-03-04T10:00:00Z', GIT_AUTHOR_DATE: '2026-03-04T10:00:00Z' },
});
const merge = repo.git(['rev-parse', 'HEAD']);
const byDave = repo.commit('by dave', { sign: dave, date: '2026-03-05T10:00:00Z' });
const tree = repo.git(['rev-parse', `${root}^{tree}`]);
const BASES = [second, merge, byDave].map((oid) => repo.catFile(oid).toString('latin1'));

const gitEnv = {
  GNUPGHOME: dave.gnupgHome!,
  GIT_CONFIG_COUNT: '1',
  GIT_CONFIG_KEY_0: 'gpg.ssh.allowedSignersFile',
  GIT_CONFIG_VALUE_0: join(trust, 'allowed_signers'),
};
function git(args: string[], input?: Buffer): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync('git', args, {
    cwd: repo.dir,
    input,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', ...gitEnv },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}

// Lines a mutation may insert: headers that confuse naive parsers, and plain noise.
const POOL = [
  `parent ${root}\n`,
  `parent ${'0'.repeat(40)}\n`,
  `tree ${tree}\n`,
  'author Eve <eve@example.test> 1772359200 +0000\n',
  'committer Eve <eve@example.test> 1772359200 +0000\n',
  'gpgsig-sha256 -----BEGIN SSH SIGNATURE-----\n',
  'gpgsigx not a signature\n',
  ' a continuation line\n',
  '\n',
  'encoding ISO-8859-1\n',
  `mergetag object ${root}\n`,
];

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'delete' | 'cr' | 'upper'; line: number }
  | { kind: 'duplicate' | 'move'; line: number; to: number }
  | { kind: 'insert'; text: number; to: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'append'; text: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constantFrom('delete' as const, 'cr' as const, 'upper' as const), line: fc.nat() }),
  fc.record({ kind: fc.constantFrom('duplicate' as const, 'move' as const), line: fc.nat(), to: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), text: fc.nat({ max: POOL.length - 1 }), to: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), text: fc.nat({ max: POOL.length - 1 }) }),
);

/** Lines keeping their "\n" (the last may lack it). */
const split = (text: string): string[] => text.match(/[^\n]*\n|[^\n]+$/g) ?? [];

function apply(text: string, m: Mutation): string {
  const lines = split(text);
  const n = Math.max(lines.length, 1);
  switch (m.kind) {
    case 'flip': {
      if (text.length === 0) return text;
      const i = m.at % text.length;
      return text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ (1 << m.bit)) + text.slice(i + 1);
    }
    case 'delete':
      lines.splice(m.line % n, 1);
      break;
    case 'cr':
      lines[m.line % n] = (lines[m.line % n] ?? '').replace(/\n$/, '\r\n');
      break;
    case 'upper': {
      const l = lines[m.line % n] ?? '';
      const sp = l.indexOf(' ') + 1;
      lines[m.line % n] = l.slice(0, sp) + l.slice(sp).toUpperCase();
      break;
    }
    case 'duplicate':
      lines.splice(m.to % (n + 1), 0, lines[m.line % n] ?? '');
      break;
    case 'move': {
      const [l] = lines.splice(m.line % n, 1);
      lines.splice(m.to % n, 0, l ?? '');
      break;
    }
    case 'insert':
      lines.splice(m.to % (n + 1), 0, POOL[m.text]!);
      break;
    case 'truncate':
      return text.slice(0, m.at % (text.length + 1));
    case 'append':
      return text + POOL[m.text]!;
  }
  return lines.join('');
}

/**
 * What git makes of a stored object: its parse (null when it refuses to parse it), its
 * signature class (%G?, or 'die' when git dies on a signature it cannot even classify), the
 * payload `verify-commit -v` prints.
 */
function gitView(oid: string): {
  links: { tree: string; parents: string[] } | null;
  letter: string | null;
  exit: number | null;
  payload: Buffer;
  stderr: string;
} {
  const verify = git(['verify-commit', '-v', '--raw', oid]);
  const out = { exit: verify.status, payload: verify.stdout, stderr: verify.stderr };
  // git log --no-walk reads the commit without its parents (a mutated parent id names no object)
  const show = git(['log', '-1', '--no-walk', '--format=%T%n%P%n%G?', oid]);
  const parsed = show.status === 0 ? show : git(['log', '-1', '--no-walk', '--format=%T%n%P%n', oid]);
  if (parsed.status !== 0) return { links: null, letter: null, ...out };
  const [t, p, letter] = parsed.stdout.toString('latin1').split('\n');
  return { links: { tree: t!, parents: p ? p.split(' ') : [] }, letter: show.status === 0 ? letter! : 'die', ...out };
}

const store = await loadTrustStore(trust);
const reader = objectReader(gitdir);
const storeObject = (bytes: Buffer): string =>
  git(['hash-object', '-w', '--literally', '-t', 'commit', '--stdin'], bytes).stdout.toString('utf8').trim();

/** Stores the object, asks git and us about it, asserts that we agree; returns both classes. */
async function compare(bytes: Buffer): Promise<{ git: string; ours: string }> {
  const oid = storeObject(bytes);
  // the same bytes through git cat-file and through our reader
  expect(git(['cat-file', 'commit', oid]).stdout.equals(bytes)).toBe(true);
  expect(Buffer.from((await reader.read(oid))!.bytes).equals(bytes)).toBe(true);

  const view = gitView(oid);
  const ours = await verifyCommitObject(oid, oid, bytes, store, {
    now: Math.floor(Date.now() / 1000),
    skewSeconds: 300,
  });
  const links = commitLinks(bytes);
  const cut = splitCommit(bytes);
  const result = {
    git: view.letter === null ? 'unparsed' : view.letter === 'G' && view.exit !== 0 ? 'G-refused' : view.letter,
    ours: ours.verdict,
  };
  const why = `git ${result.git} (exit ${view.exit}: ${view.stderr}), ours ${ours.verdict}: ${ours.reason}\n${bytes.toString('latin1')}`;

  if (view.links === null) {
    expect('problem' in links, why).toBe(true);
    expect(ours.verdict, why).toBe('malformed');
    return result;
  }
  expect(links, why).toMatchObject({ tree: view.links.tree, parents: view.links.parents });
  if (view.payload.length > 0) expect(cut.payload.equals(view.payload), why).toBe(true);
  // where we are stricter than git: an ambiguous object, or OpenPGP armor of another than the canonical shape
  const strict =
    cut.problem !== undefined ||
    commitHeaders(bytes).problem !== undefined ||
    (cut.signatureKind === 'openpgp' && armorProblem(cut.signature!) !== undefined);
  // git got as far as checking the signature's cryptography (else it failed to decode it)
  const decodes = /Signature verification failed|incorrect signature|\[GNUPG:\] BADSIG/.test(view.stderr);
  switch (result.git) {
    case 'G':
      if (ours.verdict !== 'trusted') {
        expect(ours.verdict, why).toBe('malformed');
        expect(strict, why).toBe(true);
      }
      break;
    case 'G-refused':
      // a good signature that gpg still reports trouble with (its exit status): git refuses it
      expect(['malformed', 'bad-signature'], why).toContain(ours.verdict);
      break;
    case 'B':
      if (decodes && !strict) expect(ours.verdict, why).toBe('bad-signature');
      else expect(['bad-signature', 'malformed'], why).toContain(ours.verdict);
      break;
    case 'U':
      expect(ours.verdict, why).toBe('untrusted-key');
      break;
    case 'N':
      if (cut.signature === null) expect(ours.verdict, why).toBe('unsigned');
      else {
        // git also says N when it never checks a signature it found: it cannot read the
        // committer, or gpg finds no signature data in the armor
        expect(commitHeaders(bytes).problem !== undefined || /NODATA/.test(view.stderr), why).toBe(true);
        expect(['bad-signature', 'malformed'], why).toContain(ours.verdict);
      }
      break;
    case 'die':
      // "bad/incompatible signature": an armor git does not know
      expect(ours.verdict, why).toBe('malformed');
      break;
    default:
      // E: the signature could not be checked at all
      expect(['untrusted-key', 'malformed', 'bad-signature'], why).toContain(ours.verdict);
  }
  return result;
}

describe('the object parser and the payload cut agree with real git on mutated signed commits', () => {
  it(`${RUNS} random mutations of signed commits (SSH and OpenPGP, a merge among them)`, async () => {
    const classes = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: BASES.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        async (b, muts) => {
          classes.add((await compare(Buffer.from(muts.reduce(apply, BASES[b]!), 'latin1'))).git);
        },
      ),
      { numRuns: RUNS },
    );
    // the sample reached several of git's classes, not only one
    expect(classes.size).toBeGreaterThanOrEqual(3);
  }, 60_000); // a passing run takes a few seconds; the time is for shrinking a counterexample

  it('examples: the signed commits themselves, and changes outside the signed payload, are trusted by git and by us', async () => {
    for (const text of BASES) expect(await compare(Buffer.from(text, 'latin1'))).toEqual({ git: 'G', ours: 'trusted' });
    const lines = split(BASES[0]!);
    const afterSig = lines.findIndex((l) => l.startsWith(' -----END')) + 1;
    for (const extra of ['gpgsig-sha256 -----BEGIN SSH SIGNATURE-----\n AAAA\n', 'gpgsigx not a signature\n']) {
      const bytes = Buffer.from([...lines.slice(0, afterSig), extra, ...lines.slice(afterSig)].join(''), 'latin1');
      expect(await compare(bytes)).toEqual({ git: 'G', ours: 'trusted' });
    }
  });

  it('examples: git trusts a signature block moved between tree and parent, though it then sees no parent; we call it malformed', async () => {
    const lines = split(BASES[0]!);
    const sigStart = lines.findIndex((l) => l.startsWith('gpgsig '));
    const sigEnd = lines.findIndex((l) => l.startsWith(' -----END')) + 1;
    const moved = [lines[0]!, ...lines.slice(sigStart, sigEnd), ...lines.slice(1, sigStart), ...lines.slice(sigEnd)];
    const bytes = Buffer.from(moved.join(''), 'latin1');
    expect(await compare(bytes)).toEqual({ git: 'G', ours: 'malformed' });
    expect(commitLinks(bytes)).toMatchObject({ parents: [] });
  });

  it('examples: a parent line after the author, or after the signature, is not a parent (for git and for us)', async () => {
    const [treeLine, parentLine, ...rest] = split(BASES[0]!);
    const afterSig = rest.findIndex((l) => l.startsWith(' -----END')) + 1;
    for (const moved of [
      [treeLine, rest[0], parentLine, ...rest.slice(1)],
      [treeLine, ...rest.slice(0, afterSig), parentLine, ...rest.slice(afterSig)],
    ]) {
      const bytes = Buffer.from(moved.join(''), 'latin1');
      expect(gitView(storeObject(bytes)).links?.parents).toEqual([]);
      expect(commitLinks(bytes)).toMatchObject({ parents: [] });
      expect((await compare(bytes)).ours).toBe('bad-signature');
    }
  });
});
