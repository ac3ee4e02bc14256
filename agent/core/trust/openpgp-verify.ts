// OpenPGP signatures on git objects with openpgp.js: binary (class 0x00) detached signatures,
// signing subkeys, expiry and revocation. Stricter than openpgp.js alone: a revoked key is not
// valid, and expiry is judged at times the caller chooses (the device's clock for a candidate),
// not only at the signature's own, signer-controlled time.

import type { PublicKey, Subkey } from 'openpgp';
import type * as OpenPgp from 'openpgp';
import type { Verdict } from './verdict.js';

export interface PgpResult {
  verdict: Verdict;
  reason: string;
  signer: string | null;
  key: string | null;
  /** On a good signature: why the key is not valid at `time` (seconds), or undefined when it is. */
  validAt?: (time: number) => string | undefined;
  /** On a good signature: the signature's own creation time (seconds), signer-controlled. */
  signedAt?: number;
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

/**
 * Checks an OpenPGP signature in the order gpg does: the key must be known (else untrusted-key,
 * gpg's "no public key"), then the signature must verify over the payload (else bad-signature),
 * then the key must be valid: as openpgp.js checks it at the signature's own time, not revoked
 * as of `now`, and — through `validAt`, which the caller calls with the times it judges the
 * key at — not expired at any of those times.
 */
/**
 * Why an OpenPGP armor is not the strict shape gpg reads (BEGIN line, "Key: value" armor headers,
 * an empty line, base64, an optional "=" checksum line, the END line, then nothing but empty
 * lines); openpgp.js alone reads some shapes gpg refuses (a stray line among the headers).
 */
export function armorProblem(armored: string): string | undefined {
  const lines = armored.replace(/\n+$/, '').split('\n');
  if (lines[0] !== '-----BEGIN PGP SIGNATURE-----')
    return 'the OpenPGP armor does not start with -----BEGIN PGP SIGNATURE-----';
  if (lines[lines.length - 1] !== '-----END PGP SIGNATURE-----')
    return 'the OpenPGP armor does not end with -----END PGP SIGNATURE-----';
  let i = 1;
  while (i < lines.length - 1 && lines[i] !== '') {
    if (!/^[A-Za-z][A-Za-z0-9-]*: /.test(lines[i]!))
      return `the OpenPGP armor has a malformed header line "${lines[i]!.slice(0, 40)}"`;
    i++;
  }
  if (lines[i] !== '') return 'the OpenPGP armor has no empty line before its data';
  const body = lines.slice(i + 1, -1);
  const checksum = body.length > 0 && body[body.length - 1]!.startsWith('=') ? body.pop()! : undefined;
  const data = body.join('');
  if (
    body.length === 0 ||
    !body.slice(0, -1).every((l) => /^[A-Za-z0-9+/]+$/.test(l)) ||
    !/^[A-Za-z0-9+/]+={0,2}$/.test(body[body.length - 1]!) ||
    data.length % 4 !== 0
  )
    return 'the OpenPGP armor data is not base64';
  if (checksum !== undefined) {
    const crc = crc24(Buffer.from(data, 'base64'));
    if (!/^=[A-Za-z0-9+/]{4}$/.test(checksum) || Buffer.from(checksum.slice(1), 'base64').readUIntBE(0, 3) !== crc)
      return 'the OpenPGP armor checksum does not match its data';
  }
  return undefined;
}

/** The CRC-24 of OpenPGP armor (RFC 4880, 6.1). */
function crc24(bytes: Buffer): number {
  let crc = 0xb704ce;
  for (const b of bytes) {
    crc ^= b << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

export async function verifyOpenPgp(
  payload: Buffer,
  armored: string,
  keys: readonly PublicKey[],
  now: Date,
): Promise<PgpResult> {
  const { createMessage, enums, readSignature, verify } = await openpgp();
  const shape = armorProblem(armored);
  if (shape) return { verdict: 'malformed', reason: shape, signer: null, key: null };
  let signature;
  try {
    signature = await readSignature({ armoredSignature: armored });
  } catch (e) {
    return {
      verdict: 'malformed',
      reason: `the OpenPGP signature cannot be read: ${(e as Error).message}`,
      signer: null,
      key: null,
    };
  }
  const ids = signature.getSigningKeyIDs();
  if (ids.length !== 1 || signature.packets.length !== 1)
    return {
      verdict: 'malformed',
      reason: `the OpenPGP signature block holds ${signature.packets.length} signatures; expected one`,
      signer: null,
      key: null,
    };
  const id = ids[0]!;
  const keyId = id.toHex().toUpperCase();
  const owner = keys.find((k) => k.getKeys(id).length > 0);
  if (!owner)
    return {
      verdict: 'untrusted-key',
      reason: `signed by OpenPGP key ${keyId}, which is not among the trusted keys`,
      signer: null,
      key: keyId,
    };
  const fingerprint = owner.getFingerprint().toUpperCase();
  const signer = owner.getUserIDs()[0] ?? fingerprint;
  const signing = owner.getKeys(id)[0]!;
  const isSub = signing !== (owner as unknown);
  const result = (verdict: Verdict, reason: string): PgpResult => ({ verdict, reason, signer: null, key: fingerprint });
  const message = await createMessage({ binary: payload });
  const packet = signature.packets[0]!;
  const signedAt = packet.created ?? undefined;
  try {
    // The cryptography alone, judged at the signature's own time (time is judged below).
    const literal = message.packets.filterByTag(enums.packet.literalData)[0]!;
    const type = packet.signatureType ?? enums.signature.binary;
    try {
      await packet.verify(signing.keyPacket, type, literal, signedAt ?? now, true);
    } catch (e) {
      // The 16-bit "left bits of the hash" field is a quick check, not part of the signature:
      // gpg ignores it (GitHub's 2017-2021 web-flow signatures carry a bogus one), openpgp.js
      // refuses. Set it from the real digest and let the signature itself decide.
      if ((e as Error).message !== 'Signed digest did not match') throw e;
      const digest = await (
        packet as unknown as { hash(t: number, d: unknown, toHash: undefined, detached: boolean): Promise<Uint8Array> }
      ).hash(type, literal, undefined, true);
      packet.signedHashValue = digest.subarray(0, 2);
      await packet.verify(signing.keyPacket, type, literal, signedAt ?? now, true);
    }
  } catch (e) {
    return result(
      'bad-signature',
      `the OpenPGP signature by ${keyId} does not match the object: ${(e as Error).message}`,
    );
  }
  // Revocation (of the key or of the signing subkey's binding) as of now, whenever it was signed.
  const subkeyRevoked = (sub: Subkey): Promise<boolean> =>
    (sub.isRevoked as (s?: unknown, k?: unknown, d?: Date) => Promise<boolean>).call(sub, undefined, undefined, now);
  if ((await owner.isRevoked(undefined, undefined, now)) || (isSub && (await subkeyRevoked(signing as Subkey)))) {
    return result('key-not-valid', `OpenPGP key ${isSub ? keyId : fingerprint} (${signer}) has been revoked`);
  }
  try {
    // openpgp.js's own checks of the key at the signature's time (expired or not yet valid then).
    const verification = await verify({
      message,
      signature,
      verificationKeys: [owner],
      date: signedAt && signedAt > now ? signedAt : now,
      format: 'binary',
    });
    await verification.signatures[0]!.verified;
  } catch (e) {
    return result(
      'key-not-valid',
      `OpenPGP key ${isSub ? keyId : fingerprint} (${signer}) was not valid for this signature: ${(e as Error).message}`,
    );
  }
  const expiries = [await owner.getExpirationTime(), isSub ? await (signing as Subkey).getExpirationTime() : null];
  const validAt = (time: number): string | undefined => {
    for (const exp of expiries) {
      if (exp instanceof Date && exp.getTime() <= time * 1000)
        return `OpenPGP key ${isSub ? keyId : fingerprint} (${signer}) expired on ${day(exp)}`;
    }
    return undefined;
  };
  return {
    verdict: 'trusted',
    reason: `good OpenPGP signature by ${signer} (${fingerprint})`,
    signer,
    key: fingerprint,
    validAt,
    ...(signedAt ? { signedAt: Math.floor(signedAt.getTime() / 1000) } : {}),
  };
}
