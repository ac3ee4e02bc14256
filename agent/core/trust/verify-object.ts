// Verifying one commit or tag from its raw bytes against the device's trust store.

import type { PublicKey } from 'openpgp';
import { commitHeaders, splitCommit, splitTag, tagHeaders } from './git-object.js';
import type { CommitHeaders, SplitObject, TagHeaders } from './git-object.js';
import { matchPatternList } from './allowed-signers.js';
import type { AllowedSigner, SignersProblem } from './allowed-signers.js';
import { verifyOpenPgp } from './openpgp-verify.js';
import { parseSshSignature, sshFingerprint, verifySshSignature } from './sshsig.js';
import { verdictOf } from './verdict.js';
import type { ObjectVerdict, Verdict } from './verdict.js';

export interface TrustStore {
  signers: AllowedSigner[];
  pgpKeys: PublicKey[];
  problems: SignersProblem[];
}

export interface VerifyOptions {
  /** Seconds since the epoch (the device clock). */
  now: number;
  /** Allowed clock skew in seconds for "in the future" and "backwards in time". */
  skewSeconds: number;
}

export const DEFAULT_SKEW_SECONDS = 300;

const iso = (t: number): string => new Date(t * 1000).toISOString().replace('.000', '');

async function checkSignature(split: SplitObject, time: number, trust: TrustStore, now: number): Promise<{ verdict: Verdict; reason: string; signer: string | null; key: string | null }> {
  const sigText = split.signature!;
  if (split.signatureKind === 'openpgp') return verifyOpenPgp(split.payload, sigText, trust.pgpKeys, new Date(now * 1000));
  if (split.signatureKind === 'x509') return { verdict: 'untrusted-key', reason: 'X.509 / gitsign signatures are not supported; sign with SSH or OpenPGP', signer: null, key: null };
  if (split.signatureKind !== 'ssh') return { verdict: 'malformed', reason: 'the signature has an unknown armor', signer: null, key: null };
  const parsed = parseSshSignature(sigText);
  if (!parsed.ok) return { verdict: 'malformed', reason: parsed.problem, signer: null, key: null };
  const sig = parsed.sig;
  const key = sshFingerprint(sig.publicKey);
  if (sig.namespace !== 'git') return { verdict: 'bad-signature', reason: `the SSH signature was made for namespace "${sig.namespace}", not "git"`, signer: null, key };
  if (sig.hashAlgorithm !== 'sha512' && sig.hashAlgorithm !== 'sha256') return { verdict: 'malformed', reason: `the SSH signature uses hash "${sig.hashAlgorithm}"; only sha512 and sha256 are allowed`, signer: null, key };
  if (sig.keyType.endsWith('-cert-v01@openssh.com')) return { verdict: 'untrusted-key', reason: 'signed with an SSH certificate; certificates are not accepted, list the plain key in allowed_signers', signer: null, key };
  const entries = trust.signers.filter((s) => !s.certAuthority && s.publicKey.equals(sig.publicKey));
  if (entries.length === 0) return { verdict: 'untrusted-key', reason: `signed by SSH key ${key} (${sig.keyType}), which is not in allowed_signers`, signer: null, key };
  const forGit = entries.filter((s) => s.namespaces === null || matchPatternList('git', s.namespaces));
  if (forGit.length === 0) return { verdict: 'key-not-valid', reason: `allowed_signers:${entries[0]!.line} does not allow this key to sign namespace "git" (namespaces="${entries[0]!.namespaces}")`, signer: null, key };
  const inWindow = forGit.filter((s) => (s.validAfter === null || time >= s.validAfter) && (s.validBefore === null || time < s.validBefore));
  if (inWindow.length === 0) {
    const s = forGit[0]!;
    const window = [s.validAfter !== null ? `after ${iso(s.validAfter)}` : '', s.validBefore !== null ? `before ${iso(s.validBefore)}` : ''].filter(Boolean).join(' and ');
    return { verdict: 'key-not-valid', reason: `SSH key ${key} of ${s.principals} is valid only ${window}; the object is dated ${iso(time)}`, signer: null, key };
  }
  const check = verifySshSignature(sig, split.payload);
  if (!check.ok) return { verdict: 'bad-signature', reason: check.problem ? `the SSH signature is not valid: ${check.problem}` : `the SSH signature by ${inWindow[0]!.principals} does not match the object (it was changed after signing)`, signer: null, key };
  return { verdict: 'trusted', reason: `good SSH signature by ${inWindow[0]!.principals} (${key})`, signer: inWindow[0]!.principals, key };
}

export interface CommitVerdict extends ObjectVerdict {
  headers: CommitHeaders | null;
}

export async function verifyCommitObject(label: string, oid: string, raw: Uint8Array, trust: TrustStore, opts: VerifyOptions): Promise<CommitVerdict> {
  const split = splitCommit(raw);
  const { headers, problem } = commitHeaders(split.payload);
  const done = (verdict: Verdict, reason: string, extra: { signer?: string | null; key?: string | null } = {}): CommitVerdict => ({ ...verdictOf(label, oid, 'commit', verdict, reason, { ...extra, time: headers?.committer.time ?? null }), headers: headers ?? null });
  if (split.problem) return done('malformed', split.problem);
  if (!headers) return done('malformed', problem ?? 'the commit cannot be parsed');
  if (!split.signature) return done('unsigned', 'the commit has no signature');
  if (headers.committer.time > opts.now + opts.skewSeconds) return done('policy', `the commit is dated ${iso(headers.committer.time)}, in the future of this device's clock (${iso(opts.now)})`);
  const r = await checkSignature(split, headers.committer.time, trust, opts.now);
  return done(r.verdict, r.reason, { signer: r.signer, key: r.key });
}

export interface TagExpectation {
  /** The tag name the object was fetched by (refs/tags/NAME): its `tag` header must say the same. */
  name?: string;
}

export interface TagVerdict extends ObjectVerdict {
  headers: TagHeaders | null;
}

export async function verifyTagObject(label: string, oid: string, raw: Uint8Array, trust: TrustStore, opts: VerifyOptions, expect: TagExpectation = {}): Promise<TagVerdict> {
  const split = splitTag(raw);
  const { headers, problem } = tagHeaders(split.payload);
  const done = (verdict: Verdict, reason: string, extra: { signer?: string | null; key?: string | null } = {}): TagVerdict => ({ ...verdictOf(label, oid, 'tag', verdict, reason, { ...extra, time: headers?.tagger?.time ?? null }), headers: headers ?? null });
  if (!headers) return done('malformed', problem ?? 'the tag cannot be parsed');
  if (!split.signature) return done('unsigned', 'the annotated tag has no signature');
  if (split.problem) return done('malformed', split.problem);
  if (expect.name !== undefined && headers.tag !== expect.name) return done('policy', `the tag object is named "${headers.tag}" but was fetched as "${expect.name}" (a signed tag republished under another name)`);
  if (!headers.tagger) return done('malformed', 'the signed tag has no tagger');
  if (headers.tagger.time > opts.now + opts.skewSeconds) return done('policy', `the tag is dated ${iso(headers.tagger.time)}, in the future of this device's clock`);
  const r = await checkSignature(split, headers.tagger.time, trust, opts.now);
  return done(r.verdict, r.reason, { signer: r.signer, key: r.key });
}
