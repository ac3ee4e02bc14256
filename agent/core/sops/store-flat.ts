// dotenv and INI stores, and the flattening of the sops metadata both use
// (`age__list_0__map_enc`), with newlines in values written as the two characters \n.

import { GitopsError } from '../errors.js';
import { str } from './tree.js';
import type { Comment, ListNode, MapEntry, MapNode, Node } from './tree.js';

export function flatten(node: MapNode): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const go = (n: Node, prefix: string): void => {
    if (n.kind === 'map')
      for (const i of n.items) if (i.kind === 'entry') go(i.value, prefix ? `${prefix}__map_${i.key}` : i.key);
    if (n.kind === 'list')
      n.items.filter((x): x is Node => x.kind !== 'comment').forEach((x, idx) => go(x, `${prefix}__list_${idx}`));
    if (n.kind === 'scalar') out.push([prefix, n.type === 'bool' ? (n.text === 'True' ? 'true' : 'false') : n.text]);
  };
  go(node, '');
  return out;
}

export function unflatten(pairs: ReadonlyArray<[string, string]>): MapNode {
  const root: MapNode = { kind: 'map', items: [] };
  for (const [key, value] of pairs) {
    const parts = key.split(/__(?=map_|list_)/);
    let cur: MapNode | ListNode = root;
    parts.forEach((part, idx) => {
      const last = idx === parts.length - 1;
      const name = idx === 0 ? part : part.replace(/^(map|list)_/, '');
      const nextKind = parts[idx + 1]?.startsWith('list_') ? 'list' : 'map';
      const make = (): Node =>
        last ? str(value) : nextKind === 'list' ? { kind: 'list', items: [] } : { kind: 'map', items: [] };
      if (cur.kind === 'map') {
        let e = cur.items.find((i): i is MapEntry => i.kind === 'entry' && i.key === name);
        if (!e) cur.items.push((e = { kind: 'entry', key: name, value: make() }));
        if (!last) cur = e.value as MapNode | ListNode;
      } else {
        const at = Number(name);
        while (cur.items.length <= at) cur.items.push({ kind: 'map', items: [] });
        if (last) cur.items[at] = make();
        else {
          if ((cur.items[at] as Node).kind !== nextKind) cur.items[at] = make();
          cur = cur.items[at] as MapNode | ListNode;
        }
      }
    });
  }
  return root;
}

const escapeNewlines = (s: string): string => s.replace(/\n/g, '\\n');
const unescapeNewlines = (s: string): string => s.replace(/\\n/g, '\n');
const multiLine = (s: string): string => (s.includes('\n') ? `"""${s}"""` : s);

export function readDotenv(text: string, file: string): { branches: MapNode[]; metadata: Node | undefined } {
  const items: Array<MapEntry | Comment> = [];
  const meta: Array<[string, string]> = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    if (line === '') continue;
    if (line.startsWith('#')) {
      items.push({ kind: 'comment', text: line.slice(1) });
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0)
      throw new GitopsError(
        'sops-bad-file',
        `${file}:${n + 1}: the line is not KEY=VALUE`,
        'each line of a .env file is KEY=VALUE or a # comment (the line is not shown: it may hold a secret)',
      );
    const key = line.slice(0, eq);
    const value = unescapeNewlines(line.slice(eq + 1));
    if (key.startsWith('sops_')) meta.push([key.slice(5), value]);
    else items.push({ kind: 'entry', key, value: str(value) });
  }
  return { branches: [{ kind: 'map', items }], metadata: meta.length > 0 ? unflatten(meta) : undefined };
}

export function writeDotenv(branches: readonly MapNode[], metadata: MapNode | undefined): string {
  const lines: string[] = [];
  for (const item of branches[0]!.items) {
    if (item.kind === 'comment') lines.push(`#${item.text}`);
    else {
      const v = item.value;
      if (v.kind === 'map' || v.kind === 'list')
        throw new GitopsError(
          'sops-bad-file',
          `dotenv cannot hold the nested value at ${item.key}`,
          'use YAML or JSON for nested secrets',
        );
      lines.push(
        `${item.key}=${escapeNewlines(v.kind === 'scalar' ? (v.type === 'bool' ? (v.text === 'True' ? 'true' : 'false') : v.text) : '')}`,
      );
    }
  }
  if (metadata) for (const [k, v] of flatten(metadata)) lines.push(`sops_${k}=${escapeNewlines(v)}`);
  return lines.join('\n') + '\n';
}

export function readIni(text: string, file: string): { branches: MapNode[]; metadata: Node | undefined } {
  const sections: Array<{ name: string; items: Array<MapEntry | Comment> }> = [{ name: 'DEFAULT', items: [] }];
  let cur = sections[0]!;
  let pending: Comment[] = [];
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (line === '') continue;
    if (line.startsWith(';') || line.startsWith('#')) {
      pending.push({ kind: 'comment', text: line.replace(/^[;#]\s*/, '') });
      continue;
    }
    const sec = /^\[(.*)\]$/.exec(line);
    if (sec) {
      cur = { name: sec[1]!, items: [...pending] };
      pending = [];
      sections.push(cur);
      continue;
    }
    const eq = line.search(/[=:]/);
    if (eq < 0)
      throw new GitopsError(
        'sops-bad-file',
        `${file}:${n + 1}: the line is not "key = value"`,
        'fix the INI syntax (the line is not shown: it may hold a secret)',
      );
    const key = line.slice(0, eq).trim();
    let value = line.slice(eq + 1).trim();
    if (value.startsWith('"""')) {
      // go-ini multi-line value: its first line as written, trailing blanks included
      const raw = lines[n]!;
      value = raw.slice(raw.indexOf('"""') + 3);
      while (!value.endsWith('"""') && n + 1 < lines.length) value += '\n' + lines[++n]!;
      value = value.replace(/"""$/, '');
    } else if (/^(["'`]).*\1$/.test(value)) value = value.slice(1, -1);
    cur.items.push({ kind: 'entry', key, value: str(value) }, ...pending);
    pending = [];
  }
  const sops = sections.find((s) => s.name === 'sops');
  const data = sections.filter((s) => s.name !== 'sops' && !(s.name === 'DEFAULT' && s.items.length === 0));
  const branch: MapNode = {
    kind: 'map',
    items: data.map((s) => ({ kind: 'entry' as const, key: s.name, value: { kind: 'map' as const, items: s.items } })),
  };
  const metadata = sops
    ? unflatten(
        sops.items
          .filter((i): i is MapEntry => i.kind === 'entry')
          .map((i) => [i.key, unescapeNewlines((i.value as { text: string }).text)]),
      )
    : undefined;
  return { branches: [branch], metadata };
}

export function writeIni(branches: readonly MapNode[], metadata: MapNode | undefined): string {
  const blocks: string[] = [];
  // Metadata values escape newlines as \\n (sops 3.13.2); data values use go-ini's own
  // multi-line form, which readIni reads back (it does not unescape data values).
  const section = (
    name: string,
    items: Array<MapEntry | Comment>,
    valueText: (text: string) => string = multiLine,
  ): string => {
    const entries = items.filter((i): i is MapEntry => i.kind === 'entry');
    const width = Math.max(0, ...entries.map((e) => e.key.length));
    const lines: string[] = [];
    const head = items.findIndex((i) => i.kind === 'entry');
    for (const c of items.slice(0, head < 0 ? items.length : head)) lines.push(`; ${(c as Comment).text}`);
    if (name !== 'DEFAULT') lines.push(`[${name}]`);
    items.slice(head < 0 ? items.length : head).forEach((i) => {
      if (i.kind === 'comment') lines.push(`; ${i.text}`);
      else {
        const v = i.value;
        if (v.kind !== 'scalar' && v.kind !== 'null')
          throw new GitopsError(
            'sops-bad-file',
            `INI cannot hold the nested value at ${name}.${i.key}`,
            'use YAML or JSON for nested secrets',
          );
        lines.push(`${i.key.padEnd(width)} = ${valueText(v.kind === 'scalar' ? v.text : '')}`);
      }
    });
    return lines.join('\n');
  };
  for (const item of branches[0]!.items) {
    if (item.kind !== 'entry') continue;
    if (item.value.kind !== 'map')
      throw new GitopsError(
        'sops-bad-file',
        `INI top-level keys are sections; "${item.key}" is not a section`,
        'put keys inside [sections]',
      );
    blocks.push(section(item.key, item.value.items));
  }
  if (metadata)
    blocks.push(
      section(
        'sops',
        flatten(metadata).map(([k, v]) => ({ kind: 'entry' as const, key: k, value: str(v) })),
        escapeNewlines,
      ),
    );
  return blocks.join('\n\n') + '\n';
}
