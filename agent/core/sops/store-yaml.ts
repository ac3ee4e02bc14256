// The YAML store: documents read with go-yaml v3 semantics (order, comments, scalar types),
// written the way sops writes them (4-space indent, sequences indented under their key,
// `#ENC[...]` comments, `sops:` last).

import { isAlias, isMap, isScalar, isSeq, parseAllDocuments } from 'yaml';
import type { Node as YamlNode, Pair } from 'yaml';
import { GitopsError } from '../errors.js';
import { doubleQuoted, plainSafe, resolvePlain } from './yaml-v3.js';
import { NULL } from './tree.js';
import type { Comment, ListNode, MapEntry, MapNode, Node, Scalar } from './tree.js';

const commentLines = (text: string | null | undefined): Comment[] => (text ? text.split('\n').map((t) => ({ kind: 'comment' as const, text: t })) : []);

function fromYaml(node: YamlNode | null | undefined, file: string, depth = 0): Node {
  if (depth > 200) throw new GitopsError('sops-bad-file', `${file} nests too deeply`, 'flatten the document');
  if (!node) return NULL;
  if (isAlias(node)) throw new GitopsError('sops-bad-file', `${file} uses YAML aliases, which secrets files may not`, 'write the values out');
  if (isScalar(node)) {
    const value = node.value === null || node.value === undefined ? '' : String(node.value);
    if (node.type === 'PLAIN') {
      const r = resolvePlain(value);
      return r ?? NULL;
    }
    return { kind: 'scalar', type: 'str', text: value };
  }
  if (isMap(node)) {
    const items: Array<MapEntry | Comment> = [];
    for (const pair of node.items as Pair[]) {
      const key = pair.key as YamlNode | null;
      items.push(...commentLines((key as { commentBefore?: string } | null)?.commentBefore));
      if (!isScalar(key)) throw new GitopsError('sops-bad-file', `${file} has a map key that is not a string`, 'use plain string keys');
      const value = pair.value as YamlNode | null;
      items.push(...commentLines((value as { commentBefore?: string } | null)?.commentBefore), ...commentLines((value as { comment?: string } | null)?.comment ?? (key as { comment?: string }).comment));
      items.push({ kind: 'entry', key: String(key.value), value: fromYaml(value, file, depth + 1) });
    }
    items.push(...commentLines(node.comment));
    return { kind: 'map', items };
  }
  if (isSeq(node)) {
    const items: ListNode['items'] = [];
    for (const item of node.items as YamlNode[]) {
      items.push(...commentLines((item as { commentBefore?: string } | null)?.commentBefore), ...commentLines((item as { comment?: string } | null)?.comment));
      items.push(fromYaml(item, file, depth + 1));
    }
    items.push(...commentLines(node.comment));
    return { kind: 'list', items };
  }
  throw new GitopsError('sops-bad-file', `${file} holds a YAML node sops cannot store`, 'use maps, lists and scalars');
}

export function readYaml(text: string, file: string): { branches: MapNode[]; metadata: Node | undefined } {
  const docs = parseAllDocuments(text, { schema: 'failsafe', uniqueKeys: true, prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const branches: MapNode[] = [];
  let metadata: Node | undefined;
  for (const doc of list) {
    const err = doc.errors[0];
    if (err) throw new GitopsError('sops-bad-file', `${file}:${err.linePos?.[0]?.line ?? 1}: ${err.message.split('\n')[0]}`, 'fix the YAML syntax');
    const body = fromYaml(doc.contents as YamlNode | null, file);
    if (body.kind !== 'map') throw new GitopsError('sops-bad-file', `${file} is not a YAML mapping`, 'a secrets file is a map of keys to values');
    body.items.unshift(...commentLines(doc.commentBefore));
    body.items.push(...commentLines(doc.comment));
    const sops = body.items.find((i): i is MapEntry => i.kind === 'entry' && i.key === 'sops');
    if (sops && metadata === undefined) metadata = sops.value;
    branches.push({ kind: 'map', items: body.items.filter((i) => !(i.kind === 'entry' && i.key === 'sops')) });
  }
  if (branches.length === 0) throw new GitopsError('sops-bad-file', `${file} is empty`, 'a secrets file is a map of keys to values');
  return { branches, metadata };
}

function scalarText(s: Scalar, indent: number): string {
  switch (s.type) {
    case 'str':
    case 'bytes': {
      // eslint-disable-next-line no-control-regex -- control characters are exactly what must be detected
      if (s.text.includes('\n') && !/[\r\0-\x08\x0b\x0c\x0e-\x1f]/.test(s.text) && !/^\s/.test(s.text)) {
        const trailing = /\n+$/.exec(s.text)?.[0].length ?? 0;
        const chomp = trailing === 0 ? '-' : trailing === 1 ? '' : '+';
        const body = trailing === 1 ? s.text.slice(0, -1) : trailing > 1 ? s.text.slice(0, -1) : s.text;
        const pad = ' '.repeat(indent);
        return `|${chomp}\n` + body.split('\n').map((l) => (l === '' ? '' : pad + l)).join('\n');
      }
      return plainSafe(s.text) ? s.text : doubleQuoted(s.text);
    }
    case 'int':
    case 'time':
      return s.text;
    case 'bool':
      return s.text === 'True' ? 'true' : 'false';
    case 'float':
      if (s.text === '+Inf') return '.inf';
      if (s.text === '-Inf') return '-.inf';
      if (s.text === 'NaN') return '.nan';
      if (/^-?\d+$/.test(s.text)) return s.text.length > 18 ? Number(s.text).toExponential().replace('e+', 'e+') : `${s.text}.0`;
      return s.text;
  }
}

const keyText = (k: string): string => (plainSafe(k) ? k : doubleQuoted(k));

function emit(node: Node, indent: number, out: string[]): void {
  const pad = ' '.repeat(indent);
  if (node.kind === 'map') {
    for (const item of node.items) {
      if (item.kind === 'comment') {
        out.push(`${pad}#${item.text}`);
        continue;
      }
      const v = item.value;
      const k = `${pad}${keyText(item.key)}:`;
      if (v.kind === 'null') out.push(`${k} null`);
      else if (v.kind === 'scalar') out.push(`${k} ${scalarText(v, indent + 4)}`);
      else if (v.kind === 'map' && !v.items.some((i) => i.kind === 'entry')) out.push(`${k} {}`, ...v.items.map((c) => `${pad}    #${(c as Comment).text}`));
      else if (v.kind === 'list' && !v.items.some((i) => i.kind !== 'comment')) out.push(`${k} []`, ...v.items.map((c) => `${pad}    #${(c as Comment).text}`));
      else {
        out.push(k);
        emit(v, indent + 4, out);
      }
    }
    return;
  }
  if (node.kind === 'list') {
    for (const item of node.items) {
      if (item.kind === 'comment') {
        out.push(`${pad}#${item.text}`);
        continue;
      }
      if (item.kind === 'null') out.push(`${pad}- null`);
      else if (item.kind === 'scalar') out.push(`${pad}- ${scalarText(item, indent + 4)}`);
      else if (item.kind === 'map' && item.items.some((i) => i.kind === 'entry')) {
        const inner: string[] = [];
        emit(item, indent + 2, inner);
        const first = inner.findIndex((l) => !l.trimStart().startsWith('#'));
        inner[first] = `${pad}- ${inner[first]!.slice(indent + 2)}`;
        out.push(...inner);
      } else if (item.kind === 'map') out.push(`${pad}- {}`);
      else if (item.items.some((i) => i.kind !== 'comment')) {
        out.push(`${pad}-`);
        emit(item, indent + 4, out);
      } else out.push(`${pad}- []`);
    }
  }
}

export function writeYaml(branches: readonly MapNode[], metadata: MapNode | undefined): string {
  return branches
    .map((b) => {
      const out: string[] = [];
      emit(metadata ? { kind: 'map', items: [...b.items, { kind: 'entry', key: 'sops', value: metadata }] } : b, 0, out);
      return out.join('\n') + '\n';
    })
    .join('---\n');
}
