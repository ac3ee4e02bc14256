// The JSON store: an order-, duplicate- and number-lexeme-preserving reader (JSON.parse loses
// all three, and with them the MAC), and the writer sops uses (tab indent, Go escaping).

import { GitopsError } from '../errors.js';
import { formatGoFloat, NULL } from './tree.js';
import type { MapEntry, MapNode, Node, Scalar } from './tree.js';

const INT64_MAX = 9223372036854775807n;

export function parseJsonTree(text: string, file: string): Node {
  let i = 0;
  const fail = (what: string): never => {
    const line = text.slice(0, i).split('\n').length;
    throw new GitopsError('sops-bad-file', `${file}:${line}: ${what}`, 'fix the JSON syntax');
  };
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const string = (): string => {
    if (text[i] !== '"') fail('expected a string');
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) fail('unterminated string');
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return fail('invalid string escape');
    }
  };
  const value = (depth: number): Node => {
    if (depth > 200) fail('nested too deeply');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const items: MapEntry[] = [];
      ws();
      if (text[i] === '}') return (i++, { kind: 'map', items });
      for (;;) {
        ws();
        const key = string();
        ws();
        if (text[i] !== ':') fail('expected ":"');
        i++;
        items.push({ kind: 'entry', key, value: value(depth + 1) });
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return (i++, { kind: 'map', items });
        else fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const items: Node[] = [];
      ws();
      if (text[i] === ']') return (i++, { kind: 'list', items });
      for (;;) {
        items.push(value(depth + 1));
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return (i++, { kind: 'list', items });
        else fail('expected "," or "]"');
      }
    }
    if (c === '"') return { kind: 'scalar', type: 'str', text: string() };
    for (const [word, node] of [
      ['true', { kind: 'scalar', type: 'bool', text: 'True' }],
      ['false', { kind: 'scalar', type: 'bool', text: 'False' }],
      ['null', NULL],
    ] as const) {
      if (text.startsWith(word, i)) return ((i += word.length), node as Node);
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) return fail(`unexpected ${c === undefined ? 'end of file' : JSON.stringify(c)}`);
    i += m[0].length;
    if (!m[2] && !m[3]) {
      const big = BigInt(m[0]);
      if (big <= INT64_MAX && big >= -INT64_MAX - 1n) return { kind: 'scalar', type: 'int', text: big.toString() };
    }
    return { kind: 'scalar', type: 'float', text: formatGoFloat(Number(m[0])) };
  };
  const root = value(0);
  ws();
  if (i < text.length) fail('trailing characters after the JSON value');
  return root;
}

export function readJson(text: string, file: string): { branches: MapNode[]; metadata: Node | undefined } {
  const root = parseJsonTree(text, file);
  if (root.kind !== 'map')
    throw new GitopsError(
      'sops-bad-file',
      `${file} is not a JSON object`,
      'a secrets file is an object of keys to values',
    );
  const sops = root.items.find((i): i is MapEntry => i.kind === 'entry' && i.key === 'sops');
  return {
    branches: [{ kind: 'map', items: root.items.filter((i) => !(i.kind === 'entry' && i.key === 'sops')) }],
    metadata: sops?.value,
  };
}

/** Go json.Marshal string escaping (<, >, & and U+2028/2029 escaped). */
const goString = (s: string): string =>
  JSON.stringify(s)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

function scalarJson(s: Scalar): string {
  switch (s.type) {
    case 'int':
      return s.text;
    case 'float':
      return /^[-+]?(Inf|NaN)$/.test(s.text) ? goString(s.text) : s.text.replace(/^\+/, '');
    case 'bool':
      return s.text === 'True' ? 'true' : 'false';
    default:
      return goString(s.text);
  }
}

export function writeJsonTree(node: Node, indent = '\t', level = 0): string {
  const pad = indent.repeat(level + 1);
  const end = indent.repeat(level);
  switch (node.kind) {
    case 'null':
      return 'null';
    case 'scalar':
      return scalarJson(node);
    case 'map': {
      const entries = node.items.filter((x): x is MapEntry => x.kind === 'entry');
      if (entries.length === 0) return '{}';
      return `{\n${entries.map((e) => `${pad}${goString(e.key)}: ${writeJsonTree(e.value, indent, level + 1)}`).join(',\n')}\n${end}}`;
    }
    case 'list': {
      const items = node.items.filter((x): x is Node => x.kind !== 'comment');
      if (items.length === 0) return '[]';
      return `[\n${items.map((v) => `${pad}${writeJsonTree(v, indent, level + 1)}`).join(',\n')}\n${end}]`;
    }
  }
}

export function writeJson(branches: readonly MapNode[], metadata: MapNode | undefined): string {
  const b = branches[0]!;
  return (
    writeJsonTree(
      metadata ? { kind: 'map', items: [...b.items, { kind: 'entry', key: 'sops', value: metadata }] } : b,
    ) + '\n'
  );
}
