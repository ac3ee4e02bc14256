// The one depth-first walk sops uses to encrypt, decrypt and MAC a tree: which leaves are
// encrypted (the suffix/regex/comment rules), the AAD of each, and the MAC over all leaves.

import { createHash } from 'node:crypto';
import { GitopsError } from '../errors.js';
import { decryptValue, encryptValue, isEncrypted } from './cipher.js';
import type { LeafType } from './cipher.js';
import { formatGoFloat } from './tree.js';
import type { Comment, ListNode, MapNode, Node, Scalar } from './tree.js';

export type RuleKind = 'unencrypted_suffix' | 'encrypted_suffix' | 'unencrypted_regex' | 'encrypted_regex' | 'unencrypted_comment_regex' | 'encrypted_comment_regex';
export const RULE_KINDS: readonly RuleKind[] = ['unencrypted_suffix', 'encrypted_suffix', 'unencrypted_regex', 'encrypted_regex', 'unencrypted_comment_regex', 'encrypted_comment_regex'];

export interface EncryptionRule {
  kind: RuleKind;
  value: string;
}

export const DEFAULT_RULE: EncryptionRule = { kind: 'unencrypted_suffix', value: '_unencrypted' };

/** SHA-256("sops"): the seed of the MAC when mac_only_encrypted is set. */
const MAC_ONLY_ENCRYPTED_SEED = Buffer.from('8a3fd2ad54ce66527b1034f3d147be0b0b975b3bf44f72c6fdadec8176f27d69', 'hex');

function compile(rule: EncryptionRule): (path: readonly string[], comments: readonly string[]) => boolean {
  switch (rule.kind) {
    case 'unencrypted_suffix':
      return (path) => !path.some((k) => k.endsWith(rule.value));
    case 'encrypted_suffix':
      return (path) => path.some((k) => k.endsWith(rule.value));
    case 'unencrypted_regex': {
      const re = new RegExp(rule.value, 'u');
      return (path) => !path.some((k) => re.test(k));
    }
    case 'encrypted_regex': {
      const re = new RegExp(rule.value, 'u');
      return (path) => path.some((k) => re.test(k));
    }
    case 'unencrypted_comment_regex': {
      const re = new RegExp(rule.value, 'u');
      return (_p, comments) => !comments.some((c) => re.test(c));
    }
    case 'encrypted_comment_regex': {
      const re = new RegExp(rule.value, 'u');
      return (_p, comments) => comments.some((c) => re.test(c));
    }
  }
}

export const aadOf = (path: readonly string[]): string => path.join(':') + ':';

type Visit = (leaf: Scalar | Comment, path: readonly string[], encrypt: boolean) => Scalar | Comment;

/** Rebuilds the tree, passing every leaf (scalars and comments; nulls skipped) to `visit` in walk order. */
export function walk(node: Node, rule: EncryptionRule, visit: Visit): Node {
  const shouldEncrypt = compile(rule);
  const isCommentRule = rule.kind.endsWith('comment_regex');
  const commentRe = isCommentRule ? new RegExp(rule.value, 'u') : undefined;
  const go = (n: Node, path: string[], context: string[]): Node => {
    if (n.kind === 'null') return n;
    if (n.kind === 'scalar') return visit(n, path, shouldEncrypt(path, context)) as Scalar;
    const local: string[] = [];
    const items: Array<MapNode['items'][number] | ListNode['items'][number]> = [];
    for (const item of n.items) {
      if (item.kind === 'comment') {
        // A comment that matches an encrypted_comment_regex stays clear; it marks what follows.
        const matches = commentRe?.test(item.text) ?? false;
        const encrypt = rule.kind === 'encrypted_comment_regex' ? !matches && shouldEncrypt(path, [...context, ...local]) : shouldEncrypt(path, [...context, ...local]);
        items.push(visit(item, path, rule.kind === 'unencrypted_comment_regex' && matches ? false : encrypt) as Comment);
        local.push(item.text);
        continue;
      }
      if (item.kind === 'entry') {
        items.push({ kind: 'entry', key: item.key, value: go(item.value, [...path, item.key], [...context, ...local]) });
      } else {
        items.push(go(item, path, [...context, ...local]));
      }
      local.length = 0;
    }
    return n.kind === 'map' ? { kind: 'map', items: items as MapNode['items'] } : { kind: 'list', items: items as ListNode['items'] };
  };
  return go(node, [], []);
}

const plaintextBytes = (s: Scalar): Uint8Array => s.bytes ?? Buffer.from(s.text, 'utf8');

/** A decrypted value as the scalar sops would hold (normalised as Go re-encodes it). */
function scalarFrom(type: LeafType, plaintext: Buffer, where: string): Scalar {
  const text = plaintext.toString('utf8');
  const bad = (): never => {
    throw new GitopsError('sops-bad-value', `${where} decrypts to a value that is not a valid ${type}`, 'the file was not written by sops or was altered');
  };
  switch (type) {
    case 'str':
      return { kind: 'scalar', type: 'str', text, ...(Buffer.from(text, 'utf8').equals(plaintext) ? {} : { bytes: plaintext }) };
    case 'bytes':
      return { kind: 'scalar', type: 'bytes', text: plaintext.toString('latin1'), bytes: plaintext };
    case 'int':
      if (!/^[+-]?\d+$/.test(text)) bad();
      return { kind: 'scalar', type: 'int', text: BigInt(text).toString() };
    case 'float': {
      const f = /^[+-]?(inf|infinity)$/i.test(text) ? (text.startsWith('-') ? -Infinity : Infinity) : /^nan$/i.test(text) ? NaN : Number(text);
      if (Number.isNaN(f) && !/^nan$/i.test(text)) bad();
      return { kind: 'scalar', type: 'float', text: formatGoFloat(f) };
    }
    case 'bool':
      if (/^(1|t|T|TRUE|true|True)$/.test(text)) return { kind: 'scalar', type: 'bool', text: 'True' };
      if (/^(0|f|F|FALSE|false|False)$/.test(text)) return { kind: 'scalar', type: 'bool', text: 'False' };
      return bad();
    case 'time':
      if (Number.isNaN(Date.parse(text))) bad();
      return { kind: 'scalar', type: 'time', text };
    case 'comment':
      return bad();
  }
}

export interface DecryptResult {
  tree: Node;
  mac: string;
  /** (plaintext, AAD) -> IV of each decrypted value, so that re-encryption keeps unchanged ciphertexts. */
  ivs: Map<string, Buffer>;
  encryptedLeaves: number;
}

const stashKey = (plaintext: Uint8Array, aad: string, type: string): string => `${type}\0${aad}\0${Buffer.from(plaintext).toString('base64')}`;

export function decryptTree(tree: Node, key: Buffer, rule: EncryptionRule, file: string): DecryptResult {
  const ivs = new Map<string, Buffer>();
  let encryptedLeaves = 0;
  const decrypted = walk(tree, rule, (leaf, path, encrypt) => {
    const where = `${file}: ${path.length > 0 ? path.join('.') : '(top level)'}`;
    if (leaf.kind === 'comment') {
      if (!isEncrypted(leaf.text)) return leaf;
      // The enclosing map/list, then each level above it (YAML comment placement can vary).
      for (let depth = path.length; depth >= 0; depth--) {
        try {
          const aad = aadOf(path.slice(0, depth));
          const d = decryptValue(leaf.text, key, aad, where);
          ivs.set(stashKey(d.plaintext, aad, 'comment'), d.iv);
          return { kind: 'comment', text: d.plaintext.toString('utf8') };
        } catch {
          // try the next level out
        }
      }
      return leaf; // sops keeps a comment it cannot decrypt (files from before comments were encrypted)
    }
    if (!encrypt) return leaf;
    if (leaf.type !== 'str') throw new GitopsError('sops-not-encrypted', `${where} should be encrypted but holds a clear ${leaf.type}`, 'encrypt it again (gitops secrets set), or restore the file from git');
    if (leaf.text === '') return leaf;
    if (!isEncrypted(leaf.text)) throw new GitopsError('sops-not-encrypted', `${where} should be encrypted but holds a clear value`, 'a value was added to the file by hand; set it with gitops secrets set instead');
    const aad = aadOf(path);
    const d = decryptValue(leaf.text, key, aad, where);
    if (d.type === 'comment') throw new GitopsError('sops-bad-value', `${where} holds an encrypted comment where a value belongs`, 'restore the file from git');
    encryptedLeaves++;
    const scalar = scalarFrom(d.type, d.plaintext, where);
    ivs.set(stashKey(plaintextBytes(scalar), aad, scalar.type), d.iv);
    return scalar;
  });
  return { tree: decrypted, mac: computeMac(decrypted, rule, false), ivs, encryptedLeaves };
}

/** SHA-512 over every non-comment leaf's plaintext in walk order, upper-case hex. */
export function computeMac(plainTree: Node, rule: EncryptionRule, onlyEncrypted: boolean): string {
  const hash = createHash('sha512');
  if (onlyEncrypted) hash.update(MAC_ONLY_ENCRYPTED_SEED);
  walk(plainTree, rule, (leaf, _path, encrypt) => {
    if (leaf.kind === 'scalar' && (!onlyEncrypted || encrypt)) hash.update(plaintextBytes(leaf));
    return leaf;
  });
  return hash.digest('hex').toUpperCase();
}

export function encryptTree(plainTree: Node, key: Buffer, rule: EncryptionRule, ivs: Map<string, Buffer> = new Map()): Node {
  return walk(plainTree, rule, (leaf, path, encrypt) => {
    if (!encrypt) return leaf;
    if (leaf.kind === 'comment') {
      if (leaf.text === '') return leaf;
      const aad = aadOf(path);
      const bytes = Buffer.from(leaf.text, 'utf8');
      return { kind: 'comment', text: encryptValue(bytes, 'comment', key, aad, ivs.get(stashKey(bytes, aad, 'comment'))) };
    }
    if (leaf.type === 'str' && leaf.text === '' && !leaf.bytes) return leaf;
    const aad = aadOf(path);
    const bytes = plaintextBytes(leaf);
    return { kind: 'scalar', type: 'str', text: encryptValue(bytes, leaf.type, key, aad, ivs.get(stashKey(bytes, aad, leaf.type))) };
  });
}
