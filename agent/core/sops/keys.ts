// The data key: unwrapped from the age or OpenPGP master keys of each key group (Shamir when
// there are several groups), and wrapped again to age recipients when writing.

import type { PrivateKey } from 'openpgp';
import type * as AgeModule from 'age-encryption';
import { GitopsError } from '../errors.js';
import type { AgeEntry, KeyGroup, SopsMetadata } from './metadata.js';
import { combineShares, splitSecret } from './shamir.js';

export interface Identities {
  /** AGE-SECRET-KEY-1... and AGE-SECRET-KEY-PQ-1... lines. */
  age: string[];
  /** Decrypted OpenPGP private keys. */
  pgp: PrivateKey[];
  /** Where they came from, for messages. */
  sources: string[];
}

/** age-encryption (and its curve libraries) are loaded only when a key is wrapped or unwrapped. */
const age = (): Promise<typeof AgeModule> => import('age-encryption');

/** The recipients of identities, computed once per identity. */
const recipientOf = new Map<string, Promise<string | undefined>>();

async function recipientsOf(ids: Identities): Promise<Set<string>> {
  const { identityToRecipient } = await age();
  const out = await Promise.all(
    ids.age.map((id) => {
      let r = recipientOf.get(id);
      if (!r) recipientOf.set(id, (r = identityToRecipient(id).catch(() => undefined)));
      return r;
    }),
  );
  return new Set(out.filter((r): r is string => r !== undefined));
}

async function openGroup(g: KeyGroup, ids: Identities): Promise<Buffer | undefined> {
  if (ids.age.length > 0 && g.age.length > 0) {
    const { armor, Decrypter } = await age();
    // the entry sops says is for one of our identities first: a file encrypted to a thousand
    // devices costs a device one unwrap, not a thousand (the others are tried after, in case the
    // recorded recipient is wrong)
    const ours = await recipientsOf(ids);
    const entries = [...g.age].sort((a, b) => Number(ours.has(b.recipient)) - Number(ours.has(a.recipient)));
    for (const a of entries) {
      try {
        const d = new Decrypter();
        for (const id of ids.age) d.addIdentity(id);
        return Buffer.from(await d.decrypt(armor.decode(a.enc.trim())));
      } catch {
        // not for one of our identities: try the next entry
      }
    }
  }
  if (ids.pgp.length > 0 && g.pgp.length > 0) {
    // openpgp.js is large; it is loaded only for files that need it
    const { decrypt: pgpDecrypt, readMessage } = await import('openpgp');
    for (const p of g.pgp) {
      try {
        const message = await readMessage({ armoredMessage: p.enc });
        const { data } = await pgpDecrypt({ message, decryptionKeys: ids.pgp, format: 'binary' });
        return Buffer.from(data as Uint8Array);
      } catch {
        // next
      }
    }
  }
  return undefined;
}

export async function unwrapDataKey(meta: SopsMetadata, ids: Identities, file: string): Promise<Buffer> {
  const recipients = meta.keyGroups.flatMap((g) => [
    ...g.age.map((a) => a.recipient),
    ...g.pgp.map((p) => `PGP ${p.fp}`),
    ...g.other.map((o) => o.type),
  ]);
  const none = (): GitopsError =>
    new GitopsError(
      'sops-no-key',
      `${file}: none of the available keys (${ids.sources.length > 0 ? ids.sources.join(', ') : 'none found'}) can decrypt its data key; it is encrypted to ${recipients.join(', ')}`,
      ids.sources.length > 0
        ? 'use the identity of one of those recipients (--identity FILE), or ask an operator to add your key (gitops secrets updatekeys)'
        : 'give an identity with --identity FILE, SOPS_AGE_KEY_FILE or SOPS_AGE_KEY, or put it in ~/.config/sops/age/keys.txt',
    );
  if (meta.keyGroups.length === 1) {
    const key = await openGroup(meta.keyGroups[0]!, ids);
    if (!key) throw none();
    if (key.length !== 32)
      throw new GitopsError(
        'sops-bad-metadata',
        `${file}: the data key is ${key.length} bytes, not 32`,
        'restore the file from git',
      );
    return key;
  }
  const shares: Buffer[] = [];
  for (const g of meta.keyGroups) {
    const share = await openGroup(g, ids);
    if (share) shares.push(share);
  }
  const threshold = meta.shamirThreshold || meta.keyGroups.length;
  if (shares.length < threshold) {
    if (shares.length === 0) throw none();
    throw new GitopsError(
      'sops-no-key',
      `${file}: the available keys open ${shares.length} of its ${meta.keyGroups.length} key groups; ${threshold} are needed`,
      'add identities from more key groups (--identity can be repeated)',
    );
  }
  return combineShares(shares);
}

async function wrapAge(secret: Uint8Array, recipient: string): Promise<AgeEntry> {
  const { armor, Encrypter } = await age();
  const e = new Encrypter();
  try {
    e.addRecipient(recipient);
  } catch (err) {
    throw new GitopsError(
      'sops-bad-recipient',
      `"${recipient}" is not an age recipient: ${(err as Error).message}`,
      'age recipients start with age1 (X25519) or age1pq1 (post-quantum hybrid)',
      { cause: err },
    );
  }
  return { recipient, enc: armor.encode(await e.encrypt(secret)) };
}

/** New key groups for `recipients` (one list per group), each wrapping the key or its share. */
export async function wrapDataKey(
  key: Buffer,
  groups: ReadonlyArray<readonly string[]>,
  threshold: number,
): Promise<{ keyGroups: KeyGroup[]; shamirThreshold: number }> {
  if (groups.length === 0 || groups.some((g) => g.length === 0))
    throw new GitopsError(
      'sops-no-recipients',
      'a key group has no recipient: nobody could decrypt the file',
      'name at least one age recipient per key group in .sops.yaml',
    );
  const t = groups.length > 1 ? threshold || groups.length : 0;
  if (groups.length > 1 && (t < 2 || t > groups.length))
    throw new GitopsError(
      'sops-bad-threshold',
      `shamir_threshold ${t} does not fit ${groups.length} key groups`,
      `use a threshold from 2 to ${groups.length}`,
    );
  const secrets = groups.length > 1 ? splitSecret(key, groups.length, t) : [key];
  const keyGroups = await Promise.all(
    groups.map(async (g, i) => ({
      age: await Promise.all(g.map((r) => wrapAge(secrets[i]!, r.trim()))),
      pgp: [],
      other: [],
    })),
  );
  return { keyGroups, shamirThreshold: t };
}
