// Whole SOPS files: decrypt (MAC checked), encrypt, re-encrypt after an edit with the same data
// key (unchanged values keep their ciphertext), and rotate to a new data key.

import { randomBytes } from 'node:crypto';
import { GitopsError } from '../errors.js';
import { decryptValue, encryptValue } from './cipher.js';
import { unwrapDataKey, wrapDataKey } from './keys.js';
import type { Identities } from './keys.js';
import { macAad, metadataNode, parseMetadata, SOPS_VERSION } from './metadata.js';
import type { SopsMetadata } from './metadata.js';
import { formatForPath, readStore, writeStore } from './stores.js';
import type { StoreFormat } from './stores.js';
import type { ListNode, MapNode } from './tree.js';
import { computeMac, decryptTree, DEFAULT_RULE, encryptTree, mergeIvs } from './walk.js';
import type { EncryptionRule, IvStash } from './walk.js';

export interface DecryptedFile {
  format: StoreFormat;
  branches: MapNode[];
  metadata: SopsMetadata;
  dataKey: Buffer;
  ivs: IvStash;
}

/** Go's RFC 3339 for "now", seconds precision: what sops writes as lastmodified. */
export const sopsTime = (now: Date): string => now.toISOString().replace(/\.\d{3}Z$/, 'Z');

export function readEncrypted(
  bytes: Uint8Array,
  file: string,
  format: StoreFormat = formatForPath(file),
): { format: StoreFormat; branches: MapNode[]; metadata: SopsMetadata } {
  const content = readStore(format, bytes, file, true);
  return { format, branches: content.branches, metadata: parseMetadata(content.metadata, file) };
}

function macOf(branches: readonly MapNode[], meta: SopsMetadata): string {
  return computeMac({ kind: 'list', items: [...branches] }, meta.rule, meta.macOnlyEncrypted);
}

export async function decryptFile(
  bytes: Uint8Array,
  file: string,
  ids: Identities,
  options: { ignoreMac?: boolean; format?: StoreFormat } = {},
): Promise<DecryptedFile> {
  const { format, branches, metadata } = readEncrypted(bytes, file, options.format);
  const dataKey = await unwrapDataKey(metadata, ids, file);
  const ivs: IvStash = new Map();
  const plain = branches.map((b) => {
    const r = decryptTree(b, dataKey, metadata.rule, file);
    mergeIvs(ivs, r.ivs);
    return r.tree as MapNode;
  });
  if (!options.ignoreMac) {
    if (!metadata.mac)
      throw new GitopsError(
        'sops-mac-mismatch',
        `${file}: MAC mismatch. File has no MAC`,
        'a file without a MAC cannot be shown to be unaltered; re-encrypt it from a trusted plaintext',
      );
    const stored = decryptValue(
      metadata.mac,
      dataKey,
      macAad(metadata.lastmodified),
      `${file}: sops.mac`,
    ).plaintext.toString('utf8');
    const computed = macOf(plain, metadata);
    if (stored !== computed)
      throw new GitopsError(
        'sops-mac-mismatch',
        `${file}: MAC mismatch: the file was altered after it was encrypted (values reordered, removed or edited)`,
        'restore the file from git; do not edit sops files by hand',
      );
  }
  return { format, branches: plain, metadata, dataKey, ivs };
}

/** Encrypts plain branches with a data key and writes the file bytes. */
async function seal(
  format: StoreFormat,
  plain: readonly MapNode[],
  meta: SopsMetadata,
  dataKey: Buffer,
  ivs: IvStash,
  now: Date,
): Promise<Buffer> {
  const lastmodified = sopsTime(now);
  const mac = encryptValue(Buffer.from(macOf(plain, meta), 'utf8'), 'str', dataKey, macAad(lastmodified));
  // One walk over every document, so that the IVs of equal values are reused in order.
  const encrypted = (encryptTree({ kind: 'list', items: [...plain] }, dataKey, meta.rule, ivs) as ListNode)
    .items as MapNode[];
  return writeStore(format, encrypted, metadataNode({ ...meta, lastmodified, mac }));
}

export interface EncryptOptions {
  /** age recipients per key group. */
  groups: string[][];
  shamirThreshold?: number;
  rule?: EncryptionRule;
  macOnlyEncrypted?: boolean;
  format?: StoreFormat;
}

export async function encryptFile(
  bytes: Uint8Array,
  file: string,
  options: EncryptOptions,
  now: Date,
): Promise<Buffer> {
  const format = options.format ?? formatForPath(file);
  const { branches, metadata } = readStore(format, bytes, file, false);
  if (
    metadata !== undefined ||
    branches.some((b) =>
      b.items.some(
        (i) => i.kind === 'entry' && (i.key === 'sops' || (format === 'dotenv' && i.key.startsWith('sops_'))),
      ),
    )
  ) {
    throw new GitopsError(
      'sops-already-encrypted',
      `${file} already has sops metadata`,
      'it is encrypted already: use gitops secrets edit or set',
    );
  }
  const dataKey = randomBytes(32);
  const wrapped = await wrapDataKey(dataKey, options.groups, options.shamirThreshold ?? 0);
  const meta: SopsMetadata = {
    ...wrapped,
    lastmodified: '',
    mac: '',
    rule: options.rule ?? DEFAULT_RULE,
    macOnlyEncrypted: options.macOnlyEncrypted ?? false,
    version: SOPS_VERSION,
  };
  return seal(format, branches, meta, dataKey, new Map(), now);
}

/** Writes changed plaintext with the same data key and master keys (edit, set, unset). */
export async function reencrypt(d: DecryptedFile, branches: readonly MapNode[], now: Date): Promise<Buffer> {
  const version =
    compareVersions(d.metadata.version.replace(/^v/, ''), SOPS_VERSION) < 0 ? SOPS_VERSION : d.metadata.version;
  return seal(d.format, branches, { ...d.metadata, version }, d.dataKey, d.ivs, now);
}

/** A new data key wrapped to `groups`, every value encrypted again (rotate). */
export async function rotate(d: DecryptedFile, groups: string[][], threshold: number, now: Date): Promise<Buffer> {
  const dataKey = randomBytes(32);
  const wrapped = await wrapDataKey(dataKey, groups, threshold);
  return seal(d.format, d.branches, { ...d.metadata, ...wrapped, version: SOPS_VERSION }, dataKey, d.ivs, now);
}

/** The same data key wrapped to `groups`; values, MAC and lastmodified untouched (updatekeys). */
export async function updateKeys(
  bytes: Uint8Array,
  file: string,
  ids: Identities,
  groups: string[][],
  threshold: number,
): Promise<Buffer> {
  const { format, branches, metadata } = readEncrypted(bytes, file);
  const dataKey = await unwrapDataKey(metadata, ids, file);
  const wrapped = await wrapDataKey(dataKey, groups, threshold);
  return writeStore(format, branches, metadataNode({ ...metadata, ...wrapped }));
}

/** The plaintext in the file's own format, without the sops block. */
export function plaintextBytes(d: Pick<DecryptedFile, 'format' | 'branches'>): Buffer {
  return writeStore(d.format, d.branches, undefined);
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}
