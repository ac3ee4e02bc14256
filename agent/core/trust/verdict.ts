// The verdicts of signature verification (DESIGN.md section 8), each with a reason a person
// understands and the signer where one is known.

export type Verdict = 'trusted' | 'unsigned' | 'untrusted-key' | 'bad-signature' | 'key-not-valid' | 'malformed' | 'policy';

export interface ObjectVerdict {
  /** What the caller asked about (id, branch or tag), or the commit id within a range. */
  object: string;
  oid: string | null;
  kind: 'commit' | 'tag' | null;
  verdict: Verdict;
  /** Principal (SSH) or user id (OpenPGP) of the key that made a good signature, else null. */
  signer: string | null;
  /** SSH key fingerprint (SHA256:...) or OpenPGP key fingerprint, when a signature names one. */
  key: string | null;
  reason: string;
  /** Committer (commits) or tagger (tags) time, seconds since the epoch. */
  time: number | null;
}

export const verdictOf = (object: string, oid: string | null, kind: ObjectVerdict['kind'], verdict: Verdict, reason: string, extra: Partial<Pick<ObjectVerdict, 'signer' | 'key' | 'time'>> = {}): ObjectVerdict => ({
  object,
  oid,
  kind,
  verdict,
  signer: extra.signer ?? null,
  key: extra.key ?? null,
  reason,
  time: extra.time ?? null,
});
