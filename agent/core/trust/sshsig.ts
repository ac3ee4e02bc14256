// SSH signatures (OpenSSH PROTOCOL.sshsig) verified with node:crypto only: ed25519,
// ecdsa-sha2-nistp256/384/521, rsa-sha2-256/512; hash sha512 or sha256. Certificates and
// FIDO (sk-*) keys are recognised and refused.

import { createHash, createPublicKey, verify as cryptoVerify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { sshString, WireError, WireReader } from './ssh-wire.js';

export interface SshSignature {
  /** The signer's public key blob, as in an authorized_keys / allowed_signers line. */
  publicKey: Buffer;
  keyType: string;
  namespace: string;
  reserved: Buffer;
  hashAlgorithm: string;
  signatureAlgorithm: string;
  signature: Buffer;
  /** Why the inner signature cannot be read, when it cannot (it then does not verify). */
  signatureProblem?: string;
}

export type ParsedSshSignature = { ok: true; sig: SshSignature } | { ok: false; problem: string };

const BEGIN = '-----BEGIN SSH SIGNATURE-----';
const END = '-----END SSH SIGNATURE-----';

export function parseSshSignature(armored: string): ParsedSshSignature {
  const text = armored.replace(/\r\n/g, '\n').trim();
  if (!text.startsWith(BEGIN + '\n'))
    return { ok: false, problem: 'the signature does not start with the SSH armor line' };
  // the footer is a line of its own, as ssh-keygen reads it ("missing footer" otherwise)
  const end = text.indexOf('\n' + END);
  if (end < 0) return { ok: false, problem: 'the SSH signature has no END line' };
  const body = text.slice(BEGIN.length, end).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length === 0)
    return { ok: false, problem: 'the SSH signature is not valid base64' };
  const blob = Buffer.from(body, 'base64');
  try {
    const r = new WireReader(blob);
    if (r.bytes(6).toString('latin1') !== 'SSHSIG')
      return { ok: false, problem: 'the SSH signature lacks the SSHSIG magic' };
    const version = r.uint32();
    if (version !== 1) return { ok: false, problem: `the SSH signature has version ${version}; only version 1 exists` };
    const publicKey = r.string();
    const namespace = r.text();
    const reserved = r.string();
    const hashAlgorithm = r.text();
    const inner = r.string();
    if (!r.done) return { ok: false, problem: 'the SSH signature blob has trailing bytes' };
    const keyType = new WireReader(publicKey).text();
    const keyProblem = keyBlobProblem(publicKey, keyType);
    if (keyProblem) return { ok: false, problem: `the SSH signature's public key does not decode: ${keyProblem}` };
    // The inner signature is read when verifying (as ssh-keygen does): a broken one does not verify.
    let signatureAlgorithm = '';
    let signature: Buffer = Buffer.alloc(0);
    let signatureProblem: string | undefined;
    try {
      const ir = new WireReader(inner);
      signatureAlgorithm = ir.text();
      signature = ir.string();
      if (!ir.done && !signatureAlgorithm.startsWith('sk-'))
        signatureProblem = 'the inner SSH signature has trailing bytes';
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      signatureProblem = `the inner SSH signature is truncated (${e.message})`;
    }
    return {
      ok: true,
      sig: {
        publicKey,
        keyType,
        namespace,
        reserved,
        hashAlgorithm,
        signatureAlgorithm,
        signature,
        ...(signatureProblem ? { signatureProblem } : {}),
      },
    };
  } catch (e) {
    if (e instanceof WireError) return { ok: false, problem: `the SSH signature blob is truncated (${e.message})` };
    throw e;
  }
}

// The fields of each public key type after its name, as OpenSSH encodes them ('s' string, 'm' mpint).
const KEY_FIELDS: Record<string, string> = {
  'ssh-ed25519': 's',
  'ssh-rsa': 'mm',
  'ssh-dss': 'mmmm',
  'ecdsa-sha2-nistp256': 'ss',
  'ecdsa-sha2-nistp384': 'ss',
  'ecdsa-sha2-nistp521': 'ss',
  'sk-ssh-ed25519@openssh.com': 'ss',
  'sk-ecdsa-sha2-nistp256@openssh.com': 'sss',
};

/** Why a public key blob does not decode as OpenSSH reads it (unknown type, short or trailing fields); certificates pass unread. */
function keyBlobProblem(blob: Buffer, keyType: string): string | undefined {
  if (keyType.endsWith('-cert-v01@openssh.com')) return undefined;
  const fields = KEY_FIELDS[keyType];
  if (fields === undefined) return `unknown key type "${keyType.slice(0, 40)}"`;
  const r = new WireReader(blob);
  r.text();
  for (const _ of fields) r.string();
  return r.done ? undefined : 'trailing bytes after the key';
}

export function sshFingerprint(publicKey: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(publicKey).digest('base64').replace(/=+$/, '');
}

const CURVES: Record<string, { crv: string; size: number; hash: string }> = {
  nistp256: { crv: 'P-256', size: 32, hash: 'sha256' },
  nistp384: { crv: 'P-384', size: 48, hash: 'sha384' },
  nistp521: { crv: 'P-521', size: 66, hash: 'sha512' },
};

const b64u = (b: Buffer): string => b.toString('base64url');
const pad = (b: Buffer, size: number): Buffer =>
  b.length >= size ? b.subarray(b.length - size) : Buffer.concat([Buffer.alloc(size - b.length), b]);

/** A node:crypto key from an SSH public key blob; throws a readable Error for unsupported types. */
export function keyFromBlob(blob: Buffer): { key: KeyObject; type: string } {
  const r = new WireReader(blob);
  const type = r.text();
  if (type === 'ssh-ed25519') {
    const x = r.string();
    if (x.length !== 32) throw new Error('an ed25519 key must be 32 bytes');
    return { type, key: createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64u(x) }, format: 'jwk' }) };
  }
  if (type === 'ssh-rsa') {
    const e = r.mpint();
    const n = r.mpint();
    return { type, key: createPublicKey({ key: { kty: 'RSA', n: b64u(n), e: b64u(e) }, format: 'jwk' }) };
  }
  const ec = /^ecdsa-sha2-(nistp256|nistp384|nistp521)$/.exec(type);
  if (ec) {
    const curve = CURVES[ec[1]!]!;
    if (r.text() !== ec[1]) throw new Error('the ECDSA key names another curve than its type');
    const point = r.string();
    if (point[0] !== 4 || point.length !== 1 + 2 * curve.size)
      throw new Error('the ECDSA point is not an uncompressed point on its curve');
    return {
      type,
      key: createPublicKey({
        key: {
          kty: 'EC',
          crv: curve.crv,
          x: b64u(point.subarray(1, 1 + curve.size)),
          y: b64u(point.subarray(1 + curve.size)),
        },
        format: 'jwk',
      }),
    };
  }
  if (type.endsWith('-cert-v01@openssh.com'))
    throw new Error("SSH certificates are not accepted; list the signer's plain key in allowed_signers");
  if (type.startsWith('sk-')) throw new Error(`security-key (${type}) signatures are not supported`);
  throw new Error(`unknown SSH key type ${type}`);
}

/** Checks the signature over `payload`; namespace and hash must already be acceptable. */
/** `unsupported`: the key cannot be used here at all (an unsupported type), so nothing was checked. */
export function verifySshSignature(
  sig: SshSignature,
  payload: Buffer,
): { ok: boolean; problem?: string; unsupported?: boolean } {
  let key: ReturnType<typeof keyFromBlob>;
  try {
    key = keyFromBlob(sig.publicKey);
  } catch (e) {
    return { ok: false, problem: (e as Error).message, unsupported: true };
  }
  if (sig.signatureProblem) return { ok: false, problem: sig.signatureProblem };
  const digest = createHash(sig.hashAlgorithm).update(payload).digest();
  const signed = Buffer.concat([
    Buffer.from('SSHSIG', 'latin1'),
    sshString(sig.namespace),
    sshString(sig.reserved),
    sshString(sig.hashAlgorithm),
    sshString(digest),
  ]);
  try {
    if (key.type === 'ssh-ed25519') {
      if (sig.signatureAlgorithm !== 'ssh-ed25519')
        return { ok: false, problem: `an ed25519 key cannot make a ${sig.signatureAlgorithm} signature` };
      return { ok: cryptoVerify(null, signed, key.key, sig.signature) };
    }
    if (key.type === 'ssh-rsa') {
      const hash =
        sig.signatureAlgorithm === 'rsa-sha2-512'
          ? 'sha512'
          : sig.signatureAlgorithm === 'rsa-sha2-256'
            ? 'sha256'
            : undefined;
      if (!hash)
        return {
          ok: false,
          problem: `RSA signature algorithm ${sig.signatureAlgorithm} is not accepted (only rsa-sha2-256/512; SHA-1 ssh-rsa is forbidden)`,
        };
      return { ok: cryptoVerify(hash, signed, key.key, sig.signature) };
    }
    const curve = CURVES[key.type.replace('ecdsa-sha2-', '')]!;
    if (sig.signatureAlgorithm !== key.type)
      return { ok: false, problem: `an ${key.type} key cannot make a ${sig.signatureAlgorithm} signature` };
    const rs = new WireReader(sig.signature);
    const r = rs.mpint();
    const s = rs.mpint();
    if (!rs.done || r.length > curve.size || s.length > curve.size) return { ok: false };
    return {
      ok: cryptoVerify(
        curve.hash,
        signed,
        { key: key.key, dsaEncoding: 'ieee-p1363' },
        Buffer.concat([pad(r, curve.size), pad(s, curve.size)]),
      ),
    };
  } catch (e) {
    if (e instanceof WireError) return { ok: false, problem: 'the signature bytes are truncated' };
    return { ok: false, problem: (e as Error).message };
  }
}
