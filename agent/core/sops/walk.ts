// The one depth-first walk sops uses to encrypt, decrypt and MAC a tree: which leaves are
// encrypted (the suffix/regex/comment rules), the AAD of each, and the MAC over all leaves.

import { createHash } from 'node:crypto';
import { GitopsError } from '../errors.js';
import { decryptValue, encryptValue, isEncrypted } from './cipher.js';
import type { LeafType } from './cipher.js';
import { formatGoFloat } from './tree.js';
import type { Comment, ListNode, MapNode, Node, Scalar } from './tree.js';

export type RuleKind =
  | 'unencrypted_suffix'
  | 'encrypted_suffix'
  | 'unencrypted_regex'
  | 'encrypted_regex'
  | 'unencrypted_comment_regex'
  | 'encrypted_comment_regex';
export const RULE_KINDS: readonly RuleKind[] = [
  'unencrypted_suffix',
  'encrypted_suffix',
  'unencrypted_regex',
  'encrypted_regex',
  'unencrypted_comment_regex',
  'encrypted_comment_regex',
];

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
        const encrypt =
          rule.kind === 'encrypted_comment_regex'
            ? !matches && shouldEncrypt(path, [...context, ...local])
            : shouldEncrypt(path, [...context, ...local]);
        items.push(
          visit(item, path, rule.kind === 'unencrypted_comment_regex' && matches ? false : encrypt) as Comment,
        );
        local.push(item.text);
        continue;
      }
      if (item.kind === 'entry') {
        items.push({
          kind: 'entry',
          key: item.key,
          value: go(item.value, [...path, item.key], [...context, ...local]),
        });
      } else {
        items.push(go(item, path, [...context, ...local]));
      }
      local.length = 0;
    }
    return n.kind === 'map'
      ? { kind: 'map', items: items as MapNode['items'] }
      : { kind: 'list', items: items as ListNode['items'] };
  };
  return go(node, [], []);
}

const plaintextBytes = (s: Scalar): Uint8Array => s.bytes ?? Buffer.from(s.text, 'utf8');

/** A decrypted value as the scalar sops would hold (normalised as Go re-encodes it). */
function scalarFrom(type: LeafType, plaintext: Buffer, where: string): Scalar {
  const text = plaintext.toString('utf8');
  const bad = (): never => {
    throw new GitopsError(
      'sops-bad-value',
      `${where} decrypts to a value that is not a valid ${type}`,
      'the file was not written by sops or was altered',
    );
  };
  switch (type) {
    case 'str':
      return {
        kind: 'scalar',
        type: 'str',
        text,
        ...(Buffer.from(text, 'utf8').equals(plaintext) ? {} : { bytes: plaintext }),
      };
    case 'bytes':
      return { kind: 'scalar', type: 'bytes', text: plaintext.toString('latin1'), bytes: plaintext };
    case 'int':
      if (!/^[+-]?\d+$/.test(text)) bad();
      return { kind: 'scalar', type: 'int', text: BigInt(text).toString() };
    case 'float': {
      const f = /^[+-]?(inf|infinity)$/i.test(text)
        ? text.startsWith('-')
          ? -Infinity
          : Infinity
        : /^nan$/i.test(text)
          ? NaN
          : Number(text);
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

/**
 * (type, AAD, plaintext) -> the IVs of the values decrypted with them, in walk order, so that
 * re-encryption keeps unchanged ciphertexts (two equal values under one key keep theirs too).
 */
export type IvStash = Map<string, Buffer[]>;

export interface DecryptResult {
  tree: Node;
  mac: string;
  ivs: IvStash;
  encryptedLeaves: number;
}

const stashKey = (plaintext: Uint8Array, aad: string, type: string): string =>
  `${type}\0${aad}\0${Buffer.from(plaintext).toString('base64')}`;

function stash(ivs: IvStash, key: string, iv: Buffer): void {
  const list = ivs.get(key);
  if (list) list.push(iv);
  else ivs.set(key, [iv]);
}

/** Merges the IVs of several branches, in order. */
export function mergeIvs(into: IvStash, from: IvStash): void {
  for (const [k, list] of from) for (const iv of list) stash(into, k, iv);
}

/** Files written before comments were placed right hold comments encrypted more than once. */
const MAX_COMMENT_LAYERS = 8;

/** The AAD of every map and list of a tree (the levels a comment can belong to). */
function collectionAads(node: Node, path: string[] = [], out: Set<string> = new Set()): Set<string> {
  if (node.kind === 'map' || node.kind === 'list') {
    out.add(aadOf(path));
    for (const item of node.items) {
      if (item.kind === 'entry') collectionAads(item.value, [...path, item.key], out);
      else if (item.kind !== 'comment') collectionAads(item, path, out);
    }
  }
  return out;
}

/**
 * An encrypted comment, decrypted with the path of the map/list that holds it or, as a
 * fallback, of a level above, then of any other level of the document (comment placement
 * varies between writers, and earlier versions of this tool misplaced some). A comment that is
 * itself an encrypted comment once decrypted (encrypted twice by an earlier version) is
 * decrypted again. One that decrypts with no level is kept as it is, as sops keeps clear
 * comments of files from before comments were encrypted. `iv` is set only when the comment was
 * encrypted once, with the path it is at: only then can its ciphertext be kept.
 */
function decryptComment(
  text: string,
  key: Buffer,
  path: readonly string[],
  levels: ReadonlySet<string>,
  where: string,
): { text: string; iv?: Buffer } {
  const own = aadOf(path);
  const aads = [...new Set([...path.map((_, i) => aadOf(path.slice(0, path.length - i))), aadOf([]), ...levels])];
  let current = text;
  let iv: Buffer | undefined;
  for (let layer = 0; layer < MAX_COMMENT_LAYERS && isEncrypted(current); layer++) {
    let opened: { plaintext: Buffer; iv: Buffer; aad: string } | undefined;
    for (const aad of aads) {
      try {
        const d = decryptValue(current, key, aad, where);
        if (d.type === 'comment') opened = { plaintext: d.plaintext, iv: d.iv, aad };
      } catch {
        // not this level
      }
      if (opened) break;
    }
    if (!opened) break;
    iv = layer === 0 && opened.aad === own ? opened.iv : undefined;
    current = opened.plaintext.toString('utf8');
  }
  return iv ? { text: current, iv } : { text: current };
}

export function decryptTree(tree: Node, key: Buffer, rule: EncryptionRule, file: string): DecryptResult {
  const ivs: IvStash = new Map();
  let encryptedLeaves = 0;
  const levels = collectionAads(tree);
  const decrypted = walk(tree, rule, (leaf, path, encrypt) => {
    const where = `${file}: ${path.length > 0 ? path.join('.') : '(top level)'}`;
    if (leaf.kind === 'comment') {
      const d = decryptComment(leaf.text, key, path, levels, where);
      if (d.iv) stash(ivs, stashKey(Buffer.from(d.text, 'utf8'), aadOf(path), 'comment'), d.iv);
      return d.text === leaf.text ? leaf : { kind: 'comment', text: d.text };
    }
    if (!encrypt) return leaf;
    if (leaf.type !== 'str')
      throw new GitopsError(
        'sops-not-encrypted',
        `${where} should be encrypted but holds a clear ${leaf.type}`,
        'encrypt it again (gitops secrets set), or restore the file from git',
      );
    if (leaf.text === '') return leaf;
    if (!isEncrypted(leaf.text))
      throw new GitopsError(
        'sops-not-encrypted',
        `${where} should be encrypted but holds a clear value`,
        'a value was added to the file by hand; set it with gitops secrets set instead',
      );
    const aad = aadOf(path);
    const d = decryptValue(leaf.text, key, aad, where);
    if (d.type === 'comment')
      throw new GitopsError(
        'sops-bad-value',
        `${where} holds an encrypted comment where a value belongs`,
        'restore the file from git',
      );
    encryptedLeaves++;
    const scalar = scalarFrom(d.type, d.plaintext, where);
    stash(ivs, stashKey(plaintextBytes(scalar), aad, scalar.type), d.iv);
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

export function encryptTree(plainTree: Node, key: Buffer, rule: EncryptionRule, ivs: IvStash = new Map()): Node {
  const used = new Map<string, number>();
  const ivFor = (k: string): Buffer | undefined => {
    const n = used.get(k) ?? 0;
    used.set(k, n + 1);
    return ivs.get(k)?.[n];
  };
  return walk(plainTree, rule, (leaf, path, encrypt) => {
    if (!encrypt) return leaf;
    if (leaf.kind === 'comment') {
      if (leaf.text === '') return leaf;
      const aad = aadOf(path);
      const bytes = Buffer.from(leaf.text, 'utf8');
      return {
        kind: 'comment',
        text: encryptValue(bytes, 'comment', key, aad, ivFor(stashKey(bytes, aad, 'comment'))),
      };
    }
    if (leaf.type === 'str' && leaf.text === '' && !leaf.bytes) return leaf;
    const aad = aadOf(path);
    const bytes = plaintextBytes(leaf);
    return {
      kind: 'scalar',
      type: 'str',
      text: encryptValue(bytes, leaf.type, key, aad, ivFor(stashKey(bytes, aad, leaf.type))),
    };
  });
}
