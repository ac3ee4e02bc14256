// Reading identities from text: age key files (AGE-SECRET-KEY-1..., AGE-SECRET-KEY-PQ-1...,
// comment and blank lines ignored) and armored OpenPGP private keys.

import type { PrivateKey } from 'openpgp';
import { GitopsError } from '../errors.js';
import type { Identities } from './keys.js';

export const emptyIdentities = (): Identities => ({ age: [], pgp: [], sources: [] });

export async function addIdentityText(ids: Identities, text: string, source: string): Promise<void> {
  if (text.includes('-----BEGIN PGP PRIVATE KEY BLOCK-----')) {
    let keys: PrivateKey[];
    try {
      const { readPrivateKeys } = await import('openpgp');
      keys = await readPrivateKeys({ armoredKeys: text });
    } catch (e) {
      throw new GitopsError(
        'sops-bad-identity',
        `${source} is not a readable OpenPGP private key: ${(e as Error).message}`,
        'export it with gpg --armor --export-secret-keys',
        { cause: e },
      );
    }
    if (keys.some((k) => !k.isDecrypted()))
      throw new GitopsError(
        'sops-bad-identity',
        `${source} is protected by a passphrase`,
        'export a key without a passphrase for this machine, or use an age identity',
      );
    ids.pgp.push(...keys);
    ids.sources.push(source);
    return;
  }
  const found = text
    .split(/\s+/)
    .map((w) => w.trim())
    .filter((w) => /^AGE-SECRET-KEY-(PQ-)?1[0-9A-Z]+$/.test(w));
  if (found.length === 0)
    throw new GitopsError(
      'sops-bad-identity',
      `${source} holds no age identity (AGE-SECRET-KEY-1...) and no OpenPGP private key`,
      'point at an age keys file made by age-keygen, or an armored OpenPGP private key',
    );
  ids.age.push(...found);
  ids.sources.push(source);
}

/** Identities as plain data (age lines, armored OpenPGP keys), to hand them to another thread. */
export interface PlainIdentities {
  age: string[];
  pgp: string[];
  sources: string[];
}

export const plainIdentities = (ids: Identities): PlainIdentities => ({
  age: [...ids.age],
  pgp: ids.pgp.map((k) => k.armor()),
  sources: [...ids.sources],
});

/** The identities `plainIdentities` described, read again. */
export async function identitiesOf(plain: PlainIdentities): Promise<Identities> {
  const ids = emptyIdentities();
  ids.age.push(...plain.age);
  ids.sources.push(...plain.sources);
  if (plain.pgp.length > 0) {
    const { readPrivateKey } = await import('openpgp');
    for (const armoredKey of plain.pgp) ids.pgp.push(await readPrivateKey({ armoredKey }));
  }
  return ids;
}
