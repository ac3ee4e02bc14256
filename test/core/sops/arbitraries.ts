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
    fc.constantFrom('true', 'null', '~', '0777', '1_000', '2024-01-01', 'yes', '- x', 'a: b', 'a #b', ' lead', 'trail ', '#x', '"q"', "'s'", 'ENC[x]', '|', '>', '@at', '%p', '*s', '&a', '!t', '? q', 'multi\nline', 'end\n', '\n\nlead', 'tab\tin'),
  );

const commentText = text(16).map((t) => t.replace(/[\r\n]/g, ' '));
export const comment: fc.Arbitrary<Comment> = commentText.map((t) => ({ kind: 'comment', text: t }));

export const scalar: fc.Arbitrary<Scalar> = fc.oneof(
  { arbitrary: text().map((t): Scalar => ({ kind: 'scalar', type: 'str', text: t })), weight: 4 },
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((i): Scalar => ({ kind: 'scalar', type: 'int', text: i.toString() })),
  fc.double().map((f): Scalar => ({ kind: 'scalar', type: 'float', text: formatGoFloat(f) })),
  fc.boolean().map((b): Scalar => ({ kind: 'scalar', type: 'bool', text: b ? 'True' : 'False' })),
);

const key = fc.oneof({ arbitrary: fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/), weight: 4 }, text(8).filter((k) => k !== '' && k !== 'sops' && !k.startsWith('sops_')));

/** A map or list with comments anywhere, nested `depth` levels at most. */
export function yamlTree(depth = 3): fc.Arbitrary<MapNode> {
  const { tree } = fc.letrec<{ node: Node; map: MapNode; list: ListNode; tree: MapNode }>((tie) => ({
    node: fc.oneof({ depthSize: 'small', maxDepth: depth }, { arbitrary: scalar, weight: 5 }, fc.constant<Node>({ kind: 'null' }), tie('map'), tie('list')),
    map: fc
      .tuple(fc.uniqueArray(fc.tuple(key, tie('node')), { selector: ([k]) => k, maxLength: 4 }), fc.array(fc.tuple(fc.nat(), comment), { maxLength: 3 }))
      .map(([entries, comments]): MapNode => ({ kind: 'map', items: interleave(entries.map(([k, v]): MapEntry => ({ kind: 'entry', key: k, value: v })), comments) })),
    list: fc.tuple(fc.array(tie('node'), { maxLength: 4 }), fc.array(fc.tuple(fc.nat(), comment), { maxLength: 3 })).map(([items, comments]): ListNode => ({ kind: 'list', items: interleave(items, comments) })),
    tree: tie('map') as fc.Arbitrary<MapNode>,
  }));
  return tree;
}

/** `items` with each comment inserted at position (n mod length+1), in turn. */
function interleave<T>(items: T[], comments: Array<[number, Comment]>): Array<T | Comment> {
  const out: Array<T | Comment> = [...items];
  for (const [n, c] of comments) out.splice(n % (out.length + 1), 0, c);
  return out;
}
