// The verdicts of signature verification (DESIGN.md section 8), each with a reason a person
// understands and the signer where one is known.

export type Verdict =
  'trusted' | 'unsigned' | 'untrusted-key' | 'bad-signature' | 'key-not-valid' | 'malformed' | 'policy';

/**
 * A finer, stable code under a verdict, where a caller acts on the difference. Only
 * `future-dated` exists: a `policy` refusal of an object dated after the device's clock (plus
 * the allowed skew). It is retryable: the object may be trusted once the clock has caught up,
 * so refuse it for now and never record it as bad for ever.
 */
export type VerdictCode = 'future-dated';

export interface ObjectVerdict {
  /** What the caller asked about (id, branch or tag), or the commit id within a range. */
  object: string;
  oid: string | null;
  kind: 'commit' | 'tag' | null;
  verdict: Verdict;
  /** Finer code, or null. */
  code: VerdictCode | null;
  /** True when the refusal depends on the device's clock and may go away later (code future-dated). */
  retryable: boolean;
  /** Principal (SSH) or user id (OpenPGP) of the key that made a good signature, else null. */
  signer: string | null;
  /** SSH key fingerprint (SHA256:...) or OpenPGP key fingerprint, when a signature names one. */
  key: string | null;
  reason: string;
  /** Committer (commits) or tagger (tags) time, seconds since the epoch. */
  time: number | null;
}

export const RETRYABLE_CODES: ReadonlySet<VerdictCode> = new Set<VerdictCode>(['future-dated']);

export const verdictOf = (
  object: string,
  oid: string | null,
  kind: ObjectVerdict['kind'],
  verdict: Verdict,
  reason: string,
  extra: Partial<Pick<ObjectVerdict, 'signer' | 'key' | 'time' | 'code'>> = {},
): ObjectVerdict => ({
  object,
  oid,
  kind,
  verdict,
  code: extra.code ?? null,
  retryable: extra.code ? RETRYABLE_CODES.has(extra.code) : false,
  signer: extra.signer ?? null,
  key: extra.key ?? null,
  reason,
  time: extra.time ?? null,
});
