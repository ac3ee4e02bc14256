// The YAML store: documents read with go-yaml v3 semantics (order, comments, scalar types),
// written the way sops writes them (4-space indent, sequences indented under their key,
// `#ENC[...]` comments, `sops:` last).

import { isAlias, isMap, isScalar, isSeq, parseAllDocuments, Parser } from 'yaml';
import type { Node as YamlNode, Pair, YAMLSeq } from 'yaml';
import { GitopsError } from '../errors.js';
import { doubleQuoted, plainSafe, resolvePlain } from './yaml-v3.js';
import { NULL } from './tree.js';
import type { Comment, ListNode, MapEntry, MapNode, Node, Scalar } from './tree.js';

// Comments. The yaml package attaches comments to nodes without regard to their indentation (a
// comment before the first key of a nested map goes to the map node, one after a nested map's
// last key at the parent's indentation goes to the nested map), so they are placed here from
// their source positions instead, as yaml.v3 (and so sops) places them:
// - a comment on the same line as content belongs before the item that line is part of;
// - one between `key:` and the first item of its block collection belongs to that collection;
// - one inside a flow collection belongs to it;
// - any other goes to the innermost open block collection indented no deeper than the comment,
//   before that collection's next item (or at its end).
// A comment is encrypted with the path of the collection it belongs to, so where it is read
// back must be exactly where it was written.

interface Collection {
  node: MapNode | ListNode;
  parent: Collection | undefined;
  flow: boolean;
  /** Column of the items (block collections). */
  col: number;
  /** Offset of the first item (block) or of the opening bracket (flow). */
  start: number;
  /** End of a flow collection. */
  end: number;
  /** Offsets of the items (map keys, sequence dashes) in order. */
  offsets: number[];
  /** The item whose value this collection is (none for a document). */
  owner: Item | undefined;
  comments: Array<{ before: number; offset: number; text: string }>;
}

interface Item {
  offset: number;
  coll: Collection;
  index: number;
  child: Collection | undefined;
}

interface ReadContext {
  file: string;
  colOf: (offset: number) => number;
  colls: Collection[];
  items: Item[];
}

const rangeOf = (node: YamlNode | null | undefined): [number, number] => {
  const r = (node as { range?: [number, number, number] } | null)?.range;
  return r ? [r[0], r[1]] : [0, 0];
};

/** The offsets of a block sequence's dashes (from the CST kept with keepSourceTokens). */
function dashOffsets(node: YAMLSeq): Array<number | undefined> {
  const token = (
    node as { srcToken?: { type?: string; items?: Array<{ start: Array<{ type: string; offset: number }> }> } }
  ).srcToken;
  if (token?.type !== 'block-seq' || !token.items) return [];
  return token.items.map((i) => i.start.find((t) => t.type === 'seq-item-ind')?.offset);
}

function fromYaml(
  node: YamlNode | null | undefined,
  ctx: ReadContext,
  parent: Collection | undefined,
  depth = 0,
): { value: Node; coll: Collection | undefined } {
  const { file } = ctx;
  if (depth > 200) throw new GitopsError('sops-bad-file', `${file} nests too deeply`, 'flatten the document');
  if (!node) return { value: NULL, coll: undefined };
  if (isAlias(node))
    throw new GitopsError(
      'sops-bad-file',
      `${file} uses YAML aliases, which secrets files may not`,
      'write the values out',
    );
  if (isScalar(node)) {
    const value = node.value === null || node.value === undefined ? '' : String(node.value);
    if (node.type === 'PLAIN') return { value: resolvePlain(value) ?? NULL, coll: undefined };
    return { value: { kind: 'scalar', type: 'str', text: value }, coll: undefined };
  }
  if (!isMap(node) && !isSeq(node))
    throw new GitopsError(
      'sops-bad-file',
      `${file} holds a YAML node sops cannot store`,
      'use maps, lists and scalars',
    );
  const [start, end] = rangeOf(node);
  const flow = Boolean((node as { flow?: boolean }).flow);
  const result: MapNode | ListNode = isMap(node) ? { kind: 'map', items: [] } : { kind: 'list', items: [] };
  const coll: Collection = {
    node: result,
    parent,
    flow,
    col: 0,
    start,
    end,
    offsets: [],
    owner: undefined,
    comments: [],
  };
  ctx.colls.push(coll);
  const add = (offset: number, child: YamlNode | null | undefined): Node => {
    const index = coll.offsets.length;
    coll.offsets.push(offset);
    const item: Item = { offset, coll, index, child: undefined };
    ctx.items.push(item);
    const r = fromYaml(child, ctx, coll, depth + 1);
    item.child = r.coll;
    if (r.coll) r.coll.owner = item;
    return r.value;
  };
  if (isMap(node)) {
    for (const pair of node.items as Pair[]) {
      const key = pair.key as YamlNode | null;
      if (!isScalar(key))
        throw new GitopsError('sops-bad-file', `${file} has a map key that is not a string`, 'use plain string keys');
      const value = add(rangeOf(key)[0], pair.value as YamlNode | null);
      (result as MapNode).items.push({ kind: 'entry', key: String(key.value), value });
    }
  } else {
    const dashes = flow ? [] : dashOffsets(node);
    (node.items as Array<YamlNode | null>).forEach((child, i) => {
      (result as ListNode).items.push(add(dashes[i] ?? rangeOf(child)[0], child));
    });
  }
  if (!flow && coll.offsets.length > 0) {
    coll.start = coll.offsets[0]!;
    coll.col = ctx.colOf(coll.start);
  }
  return { value: result, coll };
}

/** How many of the sorted `offsets` are below `offset`. */
function countBelow(offsets: readonly number[], offset: number): number {
  let lo = 0;
  let hi = offsets.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (offsets[mid]! < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function placeComment(
  ctx: ReadContext,
  itemOffsets: readonly number[],
  top: Collection,
  offset: number,
  text: string,
  inline: boolean,
): void {
  const put = (coll: Collection, before = countBelow(coll.offsets, offset)): void => {
    coll.comments.push({ before, offset, text });
  };
  const prev = ctx.items[countBelow(itemOffsets, offset) - 1];
  if (!prev) return put(top);
  const chain: Collection[] = [];
  if (prev.child) chain.push(prev.child);
  for (let c: Collection | undefined = prev.coll; c; c = c.parent) chain.push(c);
  // Inside a flow collection spanning lines: the innermost one.
  const flow = chain.find((c) => c.flow && c.start < offset && offset < c.end);
  if (flow) return put(flow);
  if (inline) {
    // Before the item the line belongs to: the last one started before the comment, or the one
    // holding the (closed) flow collection that item is in.
    let owner: Item = prev;
    for (let c: Collection | undefined = prev.coll; c; c = c.parent)
      if (c.flow && c.end <= offset && c.owner) owner = c.owner;
    return put(owner.coll, owner.index);
  }
  if (prev.child && !prev.child.flow && prev.child.start > offset) return put(prev.child);
  const column = ctx.colOf(offset);
  let coll: Collection = prev.coll;
  for (let c: Collection | undefined = prev.coll; c; c = c.parent) {
    coll = c;
    if (!c.flow && c.col <= column) break;
  }
  put(coll);
}

function withComments(coll: Collection): void {
  if (coll.comments.length === 0) return;
  const items = coll.node.items as Array<MapEntry | Node | Comment>;
  const comments = [...coll.comments].sort((a, b) => a.before - b.before || a.offset - b.offset);
  const merged: Array<MapEntry | Node | Comment> = [];
  let next = 0;
  items.forEach((item, i) => {
    for (; next < comments.length && comments[next]!.before <= i; next++)
      merged.push({ kind: 'comment', text: comments[next]!.text });
    merged.push(item);
  });
  for (; next < comments.length; next++) merged.push({ kind: 'comment', text: comments[next]!.text });
  items.splice(0, items.length, ...merged);
}

/** Every comment of the stream with its offset, grouped by the document it belongs to. */
function commentsByDocument(text: string): Array<Array<{ offset: number; source: string }>> {
  const out: Array<Array<{ offset: number; source: string }>> = [];
  let pending: Array<{ offset: number; source: string }> = [];
  const collect = (token: unknown, into: Array<{ offset: number; source: string }>): void => {
    if (!token || typeof token !== 'object') return;
    if (Array.isArray(token)) {
      for (const t of token) collect(t, into);
      return;
    }
    const t = token as { type?: string; offset?: number; source?: string };
    if (t.type === 'comment' && typeof t.offset === 'number' && typeof t.source === 'string')
      into.push({ offset: t.offset, source: t.source });
    for (const v of Object.values(token)) if (v && typeof v === 'object') collect(v, into);
  };
  for (const token of new Parser().parse(text)) {
    if (token.type === 'document') {
      collect(token, pending);
      out.push(pending);
      pending = [];
    } else collect(token, pending);
  }
  if (out.length > 0) out[out.length - 1]!.push(...pending);
  return out;
}

export function readYaml(text: string, file: string): { branches: MapNode[]; metadata: Node | undefined } {
  const docs = parseAllDocuments(text, {
    schema: 'failsafe',
    uniqueKeys: true,
    prettyErrors: true,
    keepSourceTokens: true,
  });
  const list = Array.isArray(docs) ? docs : [docs];
  const lineStarts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const lineStartOf = (offset: number): number => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lineStarts[lo]!;
  };
  const colOf = (offset: number): number => offset - lineStartOf(offset);
  const comments = commentsByDocument(text);
  const branches: MapNode[] = [];
  let metadata: Node | undefined;
  list.forEach((doc, d) => {
    const err = doc.errors[0];
    if (err)
      throw new GitopsError(
        'sops-bad-file',
        `${file}:${err.linePos?.[0]?.line ?? 1}: ${err.message.split('\n')[0]}`,
        'fix the YAML syntax',
      );
    const ctx: ReadContext = { file, colOf, colls: [], items: [] };
    const { value: body, coll: top } = fromYaml(doc.contents as YamlNode | null, ctx, undefined);
    if (body.kind !== 'map' || !top)
      throw new GitopsError(
        'sops-bad-file',
        `${file} is not a YAML mapping`,
        'a secrets file is a map of keys to values',
      );
    ctx.items.sort((a, b) => a.offset - b.offset);
    const itemOffsets = ctx.items.map((i) => i.offset);
    for (const c of comments[d] ?? [])
      placeComment(
        ctx,
        itemOffsets,
        top,
        c.offset,
        c.source.slice(1),
        text.slice(lineStartOf(c.offset), c.offset).trim() !== '',
      );
    for (const coll of ctx.colls) withComments(coll);
    const sops = body.items.find((i): i is MapEntry => i.kind === 'entry' && i.key === 'sops');
    if (sops && metadata === undefined) metadata = sops.value;
    branches.push({ kind: 'map', items: body.items.filter((i) => !(i.kind === 'entry' && i.key === 'sops')) });
  });
  if (branches.length === 0)
    throw new GitopsError('sops-bad-file', `${file} is empty`, 'a secrets file is a map of keys to values');
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
        return (
          `|${chomp}\n` +
          body
            .split('\n')
            .map((l) => (l === '' ? '' : pad + l))
            .join('\n')
        );
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
      if (/^-?\d+$/.test(s.text))
        return s.text.length > 18 ? Number(s.text).toExponential().replace('e+', 'e+') : `${s.text}.0`;
      return s.text;
  }
}

const keyText = (k: string): string => (plainSafe(k) ? k : doubleQuoted(k));

/** An empty map or list: `{}` / `[]`, or, holding comments, a flow collection with them inside. */
function emptyCollection(
  head: string,
  kind: 'map' | 'list',
  comments: readonly Comment[],
  indent: number,
  out: string[],
): void {
  const [open, close] = kind === 'map' ? ['{', '}'] : ['[', ']'];
  if (comments.length === 0) {
    out.push(`${head}${open}${close}`);
    return;
  }
  const pad = ' '.repeat(indent + 4);
  out.push(`${head}${open}`, ...comments.map((c) => `${pad}#${c.text}`), `${pad}${close}`);
}

const hasValues = (node: MapNode | ListNode): boolean => node.items.some((i) => i.kind !== 'comment');

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
      else if (!hasValues(v)) emptyCollection(`${k} `, v.kind, v.items as Comment[], indent, out);
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
      else if (!hasValues(item)) emptyCollection(`${pad}- `, item.kind, item.items as Comment[], indent, out);
      else if (item.kind === 'map' && item.items[0]!.kind === 'entry') {
        const inner: string[] = [];
        emit(item, indent + 2, inner);
        inner[0] = `${pad}- ${inner[0]!.slice(indent + 2)}`;
        out.push(...inner);
      } else {
        // A map that starts with a comment, or a list: on the lines after the dash.
        out.push(`${pad}-`);
        emit(item, indent + (item.kind === 'map' ? 2 : 4), out);
      }
    }
  }
}

export function writeYaml(branches: readonly MapNode[], metadata: MapNode | undefined): string {
  return branches
    .map((b) => {
      const out: string[] = [];
      emit(
        metadata ? { kind: 'map', items: [...b.items, { kind: 'entry', key: 'sops', value: metadata }] } : b,
        0,
        out,
      );
      return out.join('\n') + '\n';
    })
    .join('---\n');
}
