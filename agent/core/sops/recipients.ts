// Who a SOPS file is encrypted to, against who its creation rule says: what `gitops secrets
// verify` reports, what `rotate` wraps a new data key to, and what `updatekeys` would change.

import { GitopsError } from '../errors.js';
import { plaintextLeaves } from './edit.js';
import type { SopsMetadata } from './metadata.js';
import type { MapNode } from './tree.js';

/** Every age recipient of the file, across its key groups. */
export const ageRecipients = (metadata: Pick<SopsMetadata, 'keyGroups'>): Set<string> =>
  new Set(metadata.keyGroups.flatMap((g) => g.age.map((a) => a.recipient)));

/**
 * What is wrong with an encrypted file, without any key: leaves its rule says are encrypted but
 * are plaintext, and, when a creation rule picks it, recipients the rule names that the file is
 * not encrypted to and recipients it is encrypted to that the rule no longer names.
 */
export function verifyProblems(
  file: string,
  encrypted: { branches: readonly MapNode[]; metadata: SopsMetadata },
  rule?: { configFile: string; groups: readonly (readonly string[])[] },
): string[] {
  const problems = plaintextLeaves(encrypted.branches, encrypted.metadata.rule).map(
    (p) => `${p} should be encrypted but is plaintext`,
  );
  if (!rule) return problems;
  const want = new Set(rule.groups.flat());
  const have = ageRecipients(encrypted.metadata);
  for (const r of want)
    if (!have.has(r))
      problems.push(
        `recipient ${r} (from ${rule.configFile}) cannot decrypt it: run gitops secrets updatekeys ${file}`,
      );
  for (const r of have)
    if (!want.has(r))
      problems.push(`recipient ${r} is not in ${rule.configFile} any more: run gitops secrets updatekeys ${file}`);
  return problems;
}

/**
 * The key groups a rotated file is wrapped to: each group's age recipients, `add` joining the
 * first group, `remove` leaving every group. A file also encrypted to PGP or cloud KMS keys
 * cannot be rotated here (no new data key can be wrapped for them).
 */
export function rotationGroups(
  file: string,
  metadata: Pick<SopsMetadata, 'keyGroups'>,
  change: { add: readonly string[]; remove: readonly string[] },
): string[][] {
  const rm = new Set(change.remove);
  const groups = metadata.keyGroups.map((g, i) =>
    [...g.age.map((a) => a.recipient), ...(i === 0 ? change.add : [])].filter((r) => !rm.has(r)),
  );
  if (metadata.keyGroups.some((g) => g.pgp.length + g.other.length > 0))
    throw new GitopsError(
      'sops-cannot-rewrap',
      `${file} is also encrypted to PGP or cloud KMS keys, which this tool cannot wrap a new data key for`,
      'rotate it with sops, or remove those keys from its creation rule',
    );
  return groups;
}

/** The recipients `updatekeys` adds and removes to match `groups`; `same` when nothing changes. */
export function recipientChange(
  metadata: Pick<SopsMetadata, 'keyGroups'>,
  groups: readonly (readonly string[])[],
): { added: string[]; removed: string[]; same: boolean } {
  const before = ageRecipients(metadata);
  const after = new Set(groups.flat());
  const added = [...after].filter((r) => !before.has(r));
  const removed = [...before].filter((r) => !after.has(r));
  return {
    added,
    removed,
    same: added.length === 0 && removed.length === 0 && metadata.keyGroups.length === groups.length,
  };
}
