// Verifying one commit or tag from its raw bytes against the device's trust store.
//
// The order follows git's verdict classes: an object git cannot parse is malformed; no signature
// is unsigned; a signature that does not decode is malformed; one that decodes but does not
// verify is bad-signature (an unknown key's signature too, as git says); a good signature by a
// key the trust store does not hold is untrusted-key. Then, stricter than git: an object that is
// ambiguous to its readers is malformed, and the key must be valid at times the signer does not
// control (key-not-valid); an object dated after the device's clock is refused for now
// (policy, code future-dated, retryable).

import type { PublicKey } from 'openpgp';
import { commitHeaders, commitLinks, splitCommit, splitTag, tagHeaders } from './git-object.js';
import type { CommitHeaders, SplitObject, TagHeaders } from './git-object.js';
import { matchPatternList } from './allowed-signers.js';
import type { AllowedSigner, SignersProblem } from './allowed-signers.js';
import { verifyOpenPgp } from './openpgp-verify.js';
import { parseSshSignature, sshFingerprint, verifySshSignature } from './sshsig.js';
import { verdictOf } from './verdict.js';
import type { ObjectVerdict, Verdict, VerdictCode } from './verdict.js';

export interface TrustStore {
  signers: AllowedSigner[];
  pgpKeys: PublicKey[];
  problems: SignersProblem[];
}

export interface VerifyOptions {
  /** The device's clock, seconds since the epoch: passed in, never read here. */
  now: number;
  /** Allowed clock skew in seconds for "in the future" and "backwards in time". */
  skewSeconds: number;
}

/**
 * When a key must have been valid (allowed_signers valid-after/valid-before, OpenPGP expiry):
 * `now` — at the device's clock `now` and at the object's own (committer or tagger) time; for
 * the candidate of a sync and any single object. `committed` — at the committer time only; for
 * an older commit of a range whose committer times do not go backwards from the applied commit
 * (verifyRange decides), so that history signed by a since-retired key stays acceptable while a
 * commit backdated into a retired key's window is not.
 */
export type KeyTime = 'now' | 'committed';

export const DEFAULT_SKEW_SECONDS = 300;

const iso = (t: number): string => new Date(t * 1000).toISOString().replace('.000', '');

interface SignatureCheck {
  verdict: Verdict;
  reason: string;
  signer: string | null;
  key: string | null;
  /** On a good signature: the signer valid at every time given, or why not. */
  validAt?: (times: number[]) => { signer: string } | { problem: string };
  /** The signature's own creation time, where the format carries one (OpenPGP). */
  signedAt?: number;
  format?: 'SSH' | 'OpenPGP';
}

function sshWindow(s: AllowedSigner): string {
  return [
    s.validAfter !== null ? `after ${iso(s.validAfter)}` : '',
    s.validBefore !== null ? `before ${iso(s.validBefore)}` : '',
  ]
    .filter(Boolean)
    .join(' and ');
}

async function checkSignature(split: SplitObject, trust: TrustStore, now: number): Promise<SignatureCheck> {
  const sigText = split.signature!;
  if (split.signatureKind === 'openpgp') {
    const r = await verifyOpenPgp(split.payload, sigText, trust.pgpKeys, new Date(now * 1000));
    const { validAt: pgpValid, ...rest } = r;
    if (r.verdict !== 'trusted' || !pgpValid) return rest;
    return {
      ...rest,
      format: 'OpenPGP',
      validAt: (times) => {
        for (const t of times) {
          const problem = pgpValid(t);
          if (problem)
            return {
              problem: `${problem}; ${t === now ? 'signatures by it are no longer accepted' : `the object is dated ${iso(t)}`}`,
            };
        }
        return { signer: r.signer! };
      },
    };
  }
  if (split.signatureKind === 'x509')
    return {
      verdict: 'untrusted-key',
      reason: 'X.509 / gitsign signatures are not supported; sign with SSH or OpenPGP',
      signer: null,
      key: null,
    };
  if (split.signatureKind !== 'ssh')
    return { verdict: 'malformed', reason: 'the signature has an unknown armor', signer: null, key: null };
  const parsed = parseSshSignature(sigText);
  if (!parsed.ok) return { verdict: 'malformed', reason: parsed.problem, signer: null, key: null };
  const sig = parsed.sig;
  const key = sshFingerprint(sig.publicKey);
  const bad = (reason: string): SignatureCheck => ({ verdict: 'bad-signature', reason, signer: null, key });
  if (sig.namespace !== 'git') return bad(`the SSH signature was made for namespace "${sig.namespace}", not "git"`);
  if (sig.hashAlgorithm !== 'sha512' && sig.hashAlgorithm !== 'sha256')
    return bad(`the SSH signature uses hash "${sig.hashAlgorithm}"; only sha512 and sha256 are allowed`);
  if (sig.keyType.endsWith('-cert-v01@openssh.com'))
    return {
      verdict: 'untrusted-key',
      reason: 'signed with an SSH certificate; certificates are not accepted, list the plain key in allowed_signers',
      signer: null,
      key,
    };
  const entries = trust.signers.filter((s) => !s.certAuthority && s.publicKey.equals(sig.publicKey));
  const check = verifySshSignature(sig, split.payload);
  if (entries.length === 0) {
    // As git: a signature by an unknown key that does not even verify is a bad signature.
    if (!check.ok && !check.unsupported)
      return bad(`the SSH signature by unknown key ${key} does not verify${check.problem ? `: ${check.problem}` : ''}`);
    return {
      verdict: 'untrusted-key',
      reason: `signed by SSH key ${key} (${sig.keyType}), which is not in allowed_signers`,
      signer: null,
      key,
    };
  }
  if (!check.ok)
    return bad(
      check.problem
        ? `the SSH signature is not valid: ${check.problem}`
        : `the SSH signature by ${entries[0]!.principals} does not match the object (it was changed after signing)`,
    );
  const forGit = entries.filter((s) => s.namespaces === null || matchPatternList('git', s.namespaces));
  if (forGit.length === 0)
    return {
      verdict: 'key-not-valid',
      reason: `allowed_signers:${entries[0]!.line} does not allow this key to sign namespace "git" (namespaces="${entries[0]!.namespaces}")`,
      signer: null,
      key,
    };
  const validAt = (times: number[]): { signer: string } | { problem: string } => {
    let signer = forGit[0]!.principals;
    for (const t of times) {
      const ok = forGit.find(
        (s) => (s.validAfter === null || t >= s.validAfter) && (s.validBefore === null || t < s.validBefore),
      );
      if (!ok)
        return {
          problem: `SSH key ${key} of ${forGit[0]!.principals} is valid only ${sshWindow(forGit[0]!)}; ${t === now ? `it is not valid now (${iso(now)}, the device's clock)` : `the object is dated ${iso(t)}`}`,
        };
      signer = ok.principals;
    }
    return { signer };
  };
  return {
    verdict: 'trusted',
    reason: `good SSH signature by ${forGit[0]!.principals} (${key})`,
    signer: forGit[0]!.principals,
    key,
    validAt,
    format: 'SSH',
  };
}

type Done<T> = (
  verdict: Verdict,
  reason: string,
  extra?: { signer?: string | null; key?: string | null; code?: VerdictCode },
) => T;

/** After a good signature: the key's validity at the judged times, then the clock. */
function judgeTime<T>(
  sig: SignatureCheck,
  time: number,
  keyTime: KeyTime,
  opts: VerifyOptions,
  what: string,
  done: Done<T>,
): T {
  const key = { key: sig.key };
  const valid = sig.validAt!(keyTime === 'now' ? [time, opts.now] : [time]);
  if ('problem' in valid) return done('key-not-valid', valid.problem, key);
  const latest = Math.max(time, sig.signedAt ?? time);
  if (latest > opts.now + opts.skewSeconds) {
    return done(
      'policy',
      `the ${what} is ${sig.signedAt !== undefined && sig.signedAt > time ? 'signed' : 'dated'} ${iso(latest)}, in the future of this device's clock (${iso(opts.now)}): refused for now, retried later`,
      { ...key, code: 'future-dated' },
    );
  }
  return done('trusted', `good ${sig.format} signature by ${valid.signer} (${sig.key})`, {
    signer: valid.signer,
    ...key,
  });
}

export interface CommitVerdict extends ObjectVerdict {
  headers: CommitHeaders | null;
}

export async function verifyCommitObject(
  label: string,
  oid: string,
  raw: Uint8Array,
  trust: TrustStore,
  opts: VerifyOptions,
  keyTime: KeyTime = 'now',
): Promise<CommitVerdict> {
  const split = splitCommit(raw);
  const { headers, problem } = commitHeaders(raw);
  const done: Done<CommitVerdict> = (verdict, reason, extra = {}) => ({
    ...verdictOf(label, oid, 'commit', verdict, reason, { ...extra, time: headers?.committer.time ?? null }),
    headers: headers ?? null,
  });
  const links = commitLinks(raw);
  if ('problem' in links) return done('malformed', links.problem);
  if (split.signature === null) return done('unsigned', 'the commit has no signature');
  const sig = await checkSignature(split, trust, opts.now);
  if (sig.verdict !== 'trusted') return done(sig.verdict, sig.reason, { signer: null, key: sig.key });
  if (split.problem) return done('malformed', split.problem, { key: sig.key });
  if (!headers) return done('malformed', problem ?? 'the commit cannot be parsed', { key: sig.key });
  return judgeTime(sig, headers.committer.time, keyTime, opts, 'commit', done);
}

export interface TagExpectation {
  /** The tag name the object was fetched by (refs/tags/NAME): its `tag` header must say the same. */
  name?: string;
}

export interface TagVerdict extends ObjectVerdict {
  headers: TagHeaders | null;
}

/** A tag is always judged as a candidate: its key must be valid at the device's clock and at the tagger time. */
export async function verifyTagObject(
  label: string,
  oid: string,
  raw: Uint8Array,
  trust: TrustStore,
  opts: VerifyOptions,
  expect: TagExpectation = {},
): Promise<TagVerdict> {
  const split = splitTag(raw);
  const { headers, problem } = tagHeaders(split.payload);
  const done: Done<TagVerdict> = (verdict, reason, extra = {}) => ({
    ...verdictOf(label, oid, 'tag', verdict, reason, { ...extra, time: headers?.tagger?.time ?? null }),
    headers: headers ?? null,
  });
  if (!headers) return done('malformed', problem ?? 'the tag cannot be parsed');
  if (split.signature === null) return done('unsigned', 'the annotated tag has no signature');
  if (split.problem) return done('malformed', split.problem);
  if (expect.name !== undefined && headers.tag !== expect.name)
    return done(
      'policy',
      `the tag object is named "${headers.tag}" but was fetched as "${expect.name}" (a signed tag republished under another name)`,
    );
  if (!headers.tagger) return done('malformed', 'the signed tag has no tagger');
  const sig = await checkSignature(split, trust, opts.now);
  if (sig.verdict !== 'trusted') return done(sig.verdict, sig.reason, { signer: null, key: sig.key });
  return judgeTime(sig, headers.tagger.time, 'now', opts, 'tag', done);
}
