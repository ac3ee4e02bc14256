// The ordered tree every SOPS store reads into and writes from (sops' own model): maps are
// ordered item lists (duplicate keys possible, comments are items), lists are ordered, scalars
// carry their sops type and their canonical plaintext text (what is encrypted and hashed).

export type ScalarType = 'str' | 'int' | 'float' | 'bool' | 'time' | 'bytes';

export interface Scalar {
  kind: 'scalar';
  type: ScalarType;
  /** The plaintext as sops encrypts and hashes it: ints decimal, floats Go 'f', bools True/False. */
  text: string;
  /** Raw bytes for the binary store (text is latin1 of them). */
  bytes?: Uint8Array;
}

export interface Comment {
  kind: 'comment';
  text: string;
}

export interface MapEntry {
  kind: 'entry';
  key: string;
  value: Node;
}

export interface MapNode {
  kind: 'map';
  items: Array<MapEntry | Comment>;
}

export interface ListNode {
  kind: 'list';
  items: Array<Node | Comment>;
}

export interface NullNode {
  kind: 'null';
}

export type Node = Scalar | MapNode | ListNode | NullNode;

export const str = (text: string): Scalar => ({ kind: 'scalar', type: 'str', text });
export const map = (items: Array<MapEntry | Comment> = []): MapNode => ({ kind: 'map', items });
export const entry = (key: string, value: Node): MapEntry => ({ kind: 'entry', key, value });
export const NULL: NullNode = { kind: 'null' };

export function get(node: MapNode, key: string): Node | undefined {
  for (const item of node.items) if (item.kind === 'entry' && item.key === key) return item.value;
  return undefined;
}

export function without(node: MapNode, key: string): MapNode {
  return map(node.items.filter((i) => !(i.kind === 'entry' && i.key === key)));
}

/** A tree as plain JSON (for output and for rendering): ints and floats become numbers where exact. */
export function toPlain(node: Node): unknown {
  switch (node.kind) {
    case 'null':
      return null;
    case 'map':
      return Object.fromEntries(
        node.items.filter((i): i is MapEntry => i.kind === 'entry').map((i) => [i.key, toPlain(i.value)]),
      );
    case 'list':
      return node.items.filter((i): i is Node => i.kind !== 'comment').map(toPlain);
    case 'scalar':
      if (node.type === 'int') return Number.isSafeInteger(Number(node.text)) ? Number(node.text) : node.text;
      if (node.type === 'float') return Number(node.text.replace(/^\+/, ''));
      if (node.type === 'bool') return node.text === 'True';
      return node.text;
  }
}

/** A plain JSON value as a tree (for set and for secrets written from code). */
export function fromPlain(value: unknown): Node {
  if (value === null || value === undefined) return NULL;
  if (Array.isArray(value)) return { kind: 'list', items: value.map(fromPlain) };
  if (typeof value === 'object')
    return map(Object.entries(value as Record<string, unknown>).map(([k, v]) => entry(k, fromPlain(v))));
  if (typeof value === 'boolean') return { kind: 'scalar', type: 'bool', text: value ? 'True' : 'False' };
  if (typeof value === 'number')
    return Number.isInteger(value) && !Object.is(value, -0)
      ? { kind: 'scalar', type: 'int', text: String(value) }
      : { kind: 'scalar', type: 'float', text: formatGoFloat(value) };
  if (typeof value === 'bigint') return { kind: 'scalar', type: 'int', text: value.toString() };
  return str(String(value));
}

/** Go strconv.FormatFloat(f, 'f', -1, 64): shortest round-trip digits, never an exponent. */
export function formatGoFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const sign = x < 0 ? '-' : '';
  const [mant, expText] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '');
  const exp = Number(expText);
  if (exp >= digits.length - 1) return sign + digits + '0'.repeat(exp - digits.length + 1);
  if (exp >= 0) return sign + digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1);
  return sign + '0.' + '0'.repeat(-exp - 1) + digits;
}
