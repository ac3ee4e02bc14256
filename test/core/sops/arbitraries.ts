// fast-check generators of SOPS trees (the ordered model every store reads into), for the
// property tests of the stores: values of every type, comments anywhere, and the plain text
// each store holds.

import fc from 'fast-check';
import { formatGoFloat } from '../../../agent/core/sops/tree.js';
import type { Comment, ListNode, MapEntry, MapNode, Node, Scalar } from '../../../agent/core/sops/tree.js';

/** Text without lone surrogates (a file is UTF-8), any code point otherwise. */
export const text = (maxLength = 12): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ unit: 'grapheme-ascii', maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.constantFrom(
      'true',
      'null',
      '~',
      '0777',
      '1_000',
      '2024-01-01',
      'yes',
      '- x',
      'a: b',
      'a #b',
      ' lead',
      'trail ',
      '#x',
      '"q"',
      "'s'",
      'ENC[x]',
      '|',
      '>',
      '@at',
      '%p',
      '*s',
      '&a',
      '!t',
      '? q',
      'multi\nline',
      'end\n',
      '\n\nlead',
      'tab\tin',
    ),
  );

const commentText = text(16).map((t) => t.replace(/[\r\n]/g, ' '));
export const comment: fc.Arbitrary<Comment> = commentText.map((t) => ({ kind: 'comment', text: t }));

export interface TreeOptions {
  /** Comments anywhere (YAML); none for JSON. */
  comments: boolean;
  /** JSON has no NaN or infinities, and an integral float reads back as an int (as in sops). */
  jsonNumbers: boolean;
  depth: number;
}

const scalarOf = (options: TreeOptions): fc.Arbitrary<Scalar> =>
  fc.oneof(
    { arbitrary: text().map((t): Scalar => ({ kind: 'scalar', type: 'str', text: t })), weight: 4 },
    fc
      .bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
      .map((i): Scalar => ({ kind: 'scalar', type: 'int', text: i.toString() })),
    (options.jsonNumbers
      ? fc.double({ noNaN: true, noDefaultInfinity: true }).filter((f) => !Number.isInteger(f))
      : fc.double()
    ).map((f): Scalar => ({ kind: 'scalar', type: 'float', text: formatGoFloat(f) })),
    fc.boolean().map((b): Scalar => ({ kind: 'scalar', type: 'bool', text: b ? 'True' : 'False' })),
  );

const key = fc.oneof(
  { arbitrary: fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/), weight: 4 },
  text(8).filter((k) => k !== '' && k !== 'sops' && !k.startsWith('sops_')),
);

/** A map of maps, lists and scalars (comments anywhere when asked), with at least one key. */
export function tree(options: Partial<TreeOptions> = {}): fc.Arbitrary<MapNode> {
  const o: TreeOptions = { comments: true, jsonNumbers: false, depth: 3, ...options };
  const comments: fc.Arbitrary<Array<[number, Comment]>> = o.comments
    ? fc.array(fc.tuple(fc.nat(), comment), { maxLength: 3 })
    : fc.constant([]);
  const { top } = fc.letrec<{ node: Node; map: MapNode; list: ListNode; top: MapNode }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', maxDepth: o.depth },
      { arbitrary: scalarOf(o), weight: 5 },
      fc.constant<Node>({ kind: 'null' }),
      tie('map'),
      tie('list'),
    ),
    map: fc
      .tuple(fc.uniqueArray(fc.tuple(key, tie('node')), { selector: ([k]) => k, maxLength: 4 }), comments)
      .map(([entries, cs]): MapNode => ({
        kind: 'map',
        items: interleave(
          entries.map(([k, v]): MapEntry => ({ kind: 'entry', key: k, value: v })),
          cs,
        ),
      })),
    list: fc
      .tuple(fc.array(tie('node'), { maxLength: 4 }), comments)
      .map(([items, cs]): ListNode => ({ kind: 'list', items: interleave(items, cs) })),
    top: (tie('map') as fc.Arbitrary<MapNode>).filter((m) => m.items.some((i) => i.kind === 'entry')),
  }));
  return top;
}

/** A YAML document tree: comments anywhere. */
export const yamlTree = (): fc.Arbitrary<MapNode> => tree();

/** What a .env file holds: KEY=value lines (any text but a backslash, newlines escaped) and # comments. */
export const dotenvTree: fc.Arbitrary<MapNode> = fc
  .tuple(
    fc.uniqueArray(
      fc.tuple(
        fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,10}$/).filter((k) => !k.startsWith('sops_')),
        text(16).map((t) => t.replace(/\\/g, '')),
      ),
      { selector: ([k]) => k, minLength: 1, maxLength: 6 },
    ),
    fc.array(fc.tuple(fc.nat(), comment), { maxLength: 3 }),
  )
  .map(([entries, cs]) => ({
    kind: 'map',
    items: interleave(
      entries.map(([k, v]): MapEntry => ({ kind: 'entry', key: k, value: { kind: 'scalar', type: 'str', text: v } })),
      cs,
    ),
  }));

/** What an INI file holds: sections (DEFAULT first when present) of trimmed string values (not quoted, no """). */
const iniValue = text(16)
  .map((t) => t.replace(/[\\\r]/g, '').trim())
  .filter((t) => !/^["'`]/.test(t) && !t.includes('"""'));
const iniSection = fc
  .uniqueArray(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/), iniValue), { selector: ([k]) => k, maxLength: 5 })
  .map((entries): MapNode => ({
    kind: 'map',
    items: entries.map(([k, v]): MapEntry => ({
      kind: 'entry',
      key: k,
      value: { kind: 'scalar', type: 'str', text: v },
    })),
  }));
export const iniTree: fc.Arbitrary<MapNode> = fc
  .tuple(
    fc.option(iniSection.filter((s) => s.items.length > 0)),
    fc.uniqueArray(
      fc.tuple(
        fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/).filter((n) => n !== 'sops'),
        iniSection,
      ),
      { selector: ([n]) => n, maxLength: 4 },
    ),
  )
  .map(([defaults, sections]): MapNode => ({
    kind: 'map',
    items: [...(defaults ? [['DEFAULT', defaults] as const] : []), ...sections].map(([n, s]): MapEntry => ({
      kind: 'entry',
      key: n,
      value: s,
    })),
  }))
  .filter((m) => m.items.length > 0);

/** `items` with each comment inserted at position (n mod length+1), in turn. */
function interleave<T>(items: T[], comments: Array<[number, Comment]>): Array<T | Comment> {
  const out: Array<T | Comment> = [...items];
  for (const [n, c] of comments) out.splice(n % (out.length + 1), 0, c);
  return out;
}
