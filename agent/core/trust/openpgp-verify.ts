// OpenPGP signatures on git objects with openpgp.js: binary (class 0x00) detached signatures,
// signing subkeys, expiry and revocation. Stricter than openpgp.js alone: a key that has
// expired or been revoked by now is not valid, even for a signature made before.

import type { PublicKey, Subkey } from 'openpgp';
import type * as OpenPgp from 'openpgp';
import type { Verdict } from './verdict.js';

export interface PgpResult {
  verdict: Verdict;
  reason: string;
  signer: string | null;
  key: string | null;
}

// openpgp.js is large: it is loaded only when OpenPGP keys or signatures are met.
const openpgp = (): Promise<typeof OpenPgp> => import('openpgp');

export async function readTrustedKeys(text: string, file: string): Promise<{ keys: PublicKey[]; problem?: string }> {
  const { readKeys } = await openpgp();
  try {
    return { keys: (await readKeys({ armoredKeys: text })) as PublicKey[] };
  } catch (e) {
    return { keys: [], problem: `${file}: not an armored OpenPGP public key (${(e as Error).message})` };
  }
}

const day = (d: Date): string => d.toISOString().slice(0, 10);

export async function verifyOpenPgp(payload: Buffer, armored: string, keys: readonly PublicKey[], now: Date): Promise<PgpResult> {
  const { createMessage, readSignature, verify } = await openpgp();
  let signature;
  try {
    signature = await readSignature({ armoredSignature: armored });
  } catch (e) {
    return { verdict: 'malformed', reason: `the OpenPGP signature cannot be read: ${(e as Error).message}`, signer: null, key: null };
  }
  const ids = signature.getSigningKeyIDs();
  if (ids.length !== 1) return { verdict: 'malformed', reason: `the OpenPGP signature block holds ${ids.length} signatures; expected one`, signer: null, key: null };
  const id = ids[0]!;
  const keyId = id.toHex().toUpperCase();
  const owner = keys.find((k) => k.getKeys(id).length > 0);
  if (!owner) return { verdict: 'untrusted-key', reason: `signed by OpenPGP key ${keyId}, which is not among the trusted keys`, signer: null, key: keyId };
  const fingerprint = owner.getFingerprint().toUpperCase();
  const signer = owner.getUserIDs()[0] ?? fingerprint;
  const signing = owner.getKeys(id)[0]!;
  const isSub = signing !== (owner as unknown);
  const result = (verdict: Verdict, reason: string): PgpResult => ({ verdict, reason, signer: verdict === 'trusted' ? signer : null, key: fingerprint });

  const expiries = [await owner.getExpirationTime(), isSub ? await (signing as Subkey).getExpirationTime() : null];
  for (const exp of expiries) {
    if (exp instanceof Date && exp.getTime() <= now.getTime()) return result('key-not-valid', `OpenPGP key ${isSub ? keyId : fingerprint} (${signer}) expired on ${day(exp)}; signatures by it are no longer accepted`);
  }
  // Revocation (of the key or of the signing subkey's binding) as of now.
  try {
    await owner.verifyPrimaryKey(now);
    if (isSub) await (signing as Subkey).verify(now);
  } catch (e) {
    return result('key-not-valid', `OpenPGP key ${isSub ? keyId : fingerprint} (${signer}) is not valid now: ${(e as Error).message}`);
  }
  try {
    const message = await createMessage({ binary: payload });
    // Keys are judged as of now (above); openpgp.js checks them again at the signature's own time.
    const verification = await verify({ message, signature, verificationKeys: [owner], date: now, format: 'binary' });
    await verification.signatures[0]!.verified;
  } catch (e) {
    return result('bad-signature', `the OpenPGP signature by ${keyId} does not match the object: ${(e as Error).message}`);
  }
  return { verdict: 'trusted', reason: `good OpenPGP signature by ${signer} (${fingerprint})`, signer, key: fingerprint };
}
