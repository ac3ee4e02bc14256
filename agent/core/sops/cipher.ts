// ENC[AES256_GCM,data:...,iv:...,tag:...,type:...]: AES-256-GCM with a 32-byte IV, standard
// padded base64, AAD = the map keys on the path joined with ":" plus a trailing ":".

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { GitopsError } from '../errors.js';
import type { ScalarType } from './tree.js';

export type LeafType = ScalarType | 'comment';

const ENC = /^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]/;
const TYPES: readonly string[] = ['str', 'int', 'float', 'bool', 'time', 'comment', 'bytes'];

export const isEncrypted = (text: string): boolean => text.startsWith('ENC[AES256_GCM,');

export interface EncryptedValue {
  data: Buffer;
  iv: Buffer;
  tag: Buffer;
  type: LeafType;
}

export function parseEnc(text: string): EncryptedValue | undefined {
  const m = ENC.exec(text);
  if (!m || !TYPES.includes(m[4]!)) return undefined;
  // Canonical padded base64 only (what Go's encoder writes): Node ignores the unused bits of the
  // last character, so a changed character there would decode to the same bytes.
  const b64 = (s: string): Buffer | undefined => {
    const bytes = Buffer.from(s, 'base64');
    return bytes.toString('base64') === s ? bytes : undefined;
  };
  const [data, iv, tag] = [b64(m[1]!), b64(m[2]!), b64(m[3]!)];
  if (!data || !iv || !tag || tag.length !== 16 || iv.length === 0) return undefined;
  return { data, iv, tag, type: m[4] as LeafType };
}

export function encryptValue(
  plaintext: Uint8Array,
  type: LeafType,
  key: Buffer,
  aad: string,
  iv: Buffer = randomBytes(32),
): string {
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return `ENC[AES256_GCM,data:${data.toString('base64')},iv:${iv.toString('base64')},tag:${cipher.getAuthTag().toString('base64')},type:${type}]`;
}

/** Decrypts one value; throws a GitopsError naming the path when the value is tampered or the key wrong. */
export function decryptValue(
  text: string,
  key: Buffer,
  aad: string,
  where: string,
): { type: LeafType; plaintext: Buffer; iv: Buffer } {
  const v = parseEnc(text);
  if (!v)
    throw new GitopsError(
      'sops-bad-value',
      `${where} is not a valid sops encrypted value`,
      'the file was edited by hand or truncated; restore it from git',
    );
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, v.iv);
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(v.tag);
    return { type: v.type, plaintext: Buffer.concat([decipher.update(v.data), decipher.final()]), iv: v.iv };
  } catch {
    throw new GitopsError(
      'sops-decrypt-failed',
      `${where} cannot be decrypted: its ciphertext, its key path or the data key does not match`,
      'the file was changed outside sops (a value moved to another key, or edited by hand); restore it from git',
    );
  }
}
