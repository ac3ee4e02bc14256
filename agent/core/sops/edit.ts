// Changing a decrypted tree by path (set, unset) without disturbing the order of anything else,
// and summarising what changed between two encrypted files from their ciphertexts alone.

import { GitopsError } from '../errors.js';
import { compareText } from '../json/value.js';
import { isEncrypted } from './cipher.js';
import { entry, map } from './tree.js';
import type { MapNode, Node } from './tree.js';
import { walk } from './walk.js';
import type { EncryptionRule } from './walk.js';

/** `a.b.c`, or sops' own `["a"]["b"][0]`. */
export function parseSecretPath(text: string): string[] {
  if (text.startsWith('[')) {
    const parts = [...text.matchAll(/\[("(?:[^"\\]|\\.)*"|\d+)\]/g)];
    if (parts.map((m) => m[0]).join('') !== text)
      throw new GitopsError('usage', `"${text}" is not a path like ["a"]["b"]`, 'or write it with dots: a.b');
    return parts.map((m) => (m[1]!.startsWith('"') ? (JSON.parse(m[1]!) as string) : m[1]!));
  }
  const parts = text.split('.');
  if (parts.some((p) => p === ''))
    throw new GitopsError(
      'usage',
      `"${text}" is not a path`,
      'write it with dots, e.g. notifications.telegram.bot_token',
    );
  return parts;
}

export function setPath(branch: MapNode, path: readonly string[], value: Node): MapNode {
  const [head, ...rest] = path;
  if (head === undefined) throw new GitopsError('usage', 'an empty path', 'name the key to set');
  const items = [...branch.items];
  const at = items.findIndex((i) => i.kind === 'entry' && i.key === head);
  const current = at >= 0 ? (items[at] as { value: Node }).value : undefined;
  const next = rest.length === 0 ? value : setPath(current?.kind === 'map' ? current : map(), rest, value);
  if (at >= 0) items[at] = entry(head, next);
  else items.push(entry(head, next));
  return map(items);
}

export function unsetPath(branch: MapNode, path: readonly string[]): { tree: MapNode; removed: boolean } {
  const [head, ...rest] = path;
  const at = branch.items.findIndex((i) => i.kind === 'entry' && i.key === head);
  if (at < 0) return { tree: branch, removed: false };
  const items = [...branch.items];
  if (rest.length === 0) {
    items.splice(at, 1);
    return { tree: map(items), removed: true };
  }
  const child = (items[at] as { value: Node }).value;
  if (child.kind !== 'map') return { tree: branch, removed: false };
  const r = unsetPath(child, rest);
  items[at] = entry(head!, r.tree);
  return { tree: map(items), removed: r.removed };
}

export interface SecretChange {
  path: string;
  change: 'added' | 'removed' | 'changed';
}

/** Leaves by dotted path, ENC strings as written: enough to say what changed, without keys. */
function leafTexts(node: Node, prefix: string, out: Map<string, string>): void {
  if (node.kind === 'map')
    for (const i of node.items) if (i.kind === 'entry') leafTexts(i.value, prefix ? `${prefix}.${i.key}` : i.key, out);
  if (node.kind === 'list')
    node.items
      .filter((x): x is Node => x.kind !== 'comment')
      .forEach((x, idx) => leafTexts(x, `${prefix}[${idx}]`, out));
  if (node.kind === 'scalar') out.set(prefix, node.text);
}

export function secretChanges(
  before: readonly MapNode[] | undefined,
  after: readonly MapNode[] | undefined,
): SecretChange[] {
  const a = new Map<string, string>();
  const b = new Map<string, string>();
  for (const br of before ?? []) leafTexts(br, '', a);
  for (const br of after ?? []) leafTexts(br, '', b);
  const out: SecretChange[] = [];
  for (const [p, v] of b) {
    if (!a.has(p)) out.push({ path: p, change: 'added' });
    else if (a.get(p) !== v) out.push({ path: p, change: 'changed' });
  }
  for (const p of a.keys()) if (!b.has(p)) out.push({ path: p, change: 'removed' });
  return out.sort((x, y) => compareText(x.path, y.path));
}

/** Leaves that the rule says must be encrypted but are not: what CI checks without keys. */
export function plaintextLeaves(branches: readonly MapNode[], rule: EncryptionRule): string[] {
  const out: string[] = [];
  for (const b of branches) {
    walk(b, rule, (leaf, path, encrypt) => {
      if (encrypt && leaf.kind === 'scalar' && !(leaf.type === 'str' && (leaf.text === '' || isEncrypted(leaf.text))))
        out.push(path.join('.'));
      return leaf;
    });
  }
  return out;
}
