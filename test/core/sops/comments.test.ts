// YAML comments in SOPS files: each is encrypted with the path of the map or list that holds it,
// wherever it is (before the first key of a nested map included), decrypts in place, and keeps
// its ciphertext when another key is set; comments encrypted twice by earlier versions are
// repaired.

import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { decryptValue, encryptValue } from '../../../agent/core/sops/cipher.js';
import { setPath } from '../../../agent/core/sops/edit.js';
import type { Identities } from '../../../agent/core/sops/keys.js';
import { decryptFile, encryptFile, plaintextBytes, reencrypt } from '../../../agent/core/sops/sops-file.js';
import { readYaml, writeYaml } from '../../../agent/core/sops/store-yaml.js';
import { str } from '../../../agent/core/sops/tree.js';
import type { Comment, MapNode, Node } from '../../../agent/core/sops/tree.js';
import type { AgeKey } from '../../helpers/age.js';
import { comment, yamlTree } from './arbitraries.js';
import { runKey } from './run-key.js';

const NOW = new Date('2026-11-27T10:00:00Z');
const LATER = new Date('2026-11-28T10:00:00Z');

let key: AgeKey;
let ids: Identities;
beforeAll(async () => {
  ({ key, ids } = await runKey());
});

const encrypt = (plain: string): Promise<Buffer> =>
  encryptFile(Buffer.from(plain), 's.yaml', { groups: [[key.recipient]] }, NOW);
const body = (file: Buffer): string => file.toString().slice(0, file.toString().lastIndexOf('sops:\n'));
const encComments = (file: Buffer): string[] =>
  body(file)
    .split('\n')
    .filter((l) => l.trimStart().startsWith('#ENC['));

/** Every comment with the path of the collection holding it. */
function commentsWithPaths(node: Node, path: string[] = []): Array<[string, string]> {
  if (node.kind !== 'map' && node.kind !== 'list') return [];
  return node.items.flatMap((i): Array<[string, string]> =>
    i.kind === 'comment'
      ? [[path.join(':') + ':', (i as Comment).text]]
      : i.kind === 'entry'
        ? commentsWithPaths(i.value, [...path, i.key])
        : commentsWithPaths(i as Node, path),
  );
}

describe('YAML comments in SOPS files', () => {
  it("a comment before the first key of a nested map is encrypted with that map's path and decrypts in place (2- and 4-space files)", async () => {
    for (const plain of [
      'web_interface:\n  auth:\n    # bench login only\n    users:\n      bench:\n        password_hash: x\n',
      'web_interface:\n    auth:\n        # bench login only\n        users:\n            bench:\n                password_hash: x\n',
    ]) {
      const enc = await encrypt(plain);
      const d = await decryptFile(enc, 's.yaml', ids);
      expect(commentsWithPaths(d.branches[0]!)).toEqual([['web_interface:auth:', ' bench login only']]);
      const [line] = encComments(enc);
      expect(line).toMatch(/^ {8}#ENC\[/);
      expect(decryptValue(line!.trim().slice(1), d.dataKey, 'web_interface:auth:', 'test').plaintext.toString()).toBe(
        ' bench login only',
      );
      expect(plaintextBytes(d).toString()).toBe(
        'web_interface:\n    auth:\n        # bench login only\n        users:\n            bench:\n                password_hash: x\n',
      );
    }
  });

  it('trailing comments of a nested map and comments at a shallower indentation go to the level they are indented at', async () => {
    const plain =
      '# top\na:\n    b:\n        x: 1\n        # end of b\n    # end of a\n# before c\nc: 2\nl:\n    # first of l\n    -\n      # first of an item map\n      k: v\n    - [] # inline\n# end\n';
    const d = await decryptFile(await encrypt(plain), 's.yaml', ids);
    expect(commentsWithPaths(d.branches[0]!)).toEqual([
      [':', ' top'],
      ['a:b:', ' end of b'],
      ['a:', ' end of a'],
      [':', ' before c'],
      ['l:', ' first of l'],
      ['l:', ' first of an item map'],
      ['l:', ' inline'],
      [':', ' end'],
    ]);
    const tree = readYaml(plain, 's.yaml').branches[0]!;
    expect(readYaml(writeYaml([tree], undefined), 's.yaml').branches[0]).toEqual(tree);
  });

  it('a comment encrypted twice (and at the wrong level) by an earlier version decrypts to its text, and is encrypted once when written again', async () => {
    const enc = await encrypt('a:\n    # note\n    b: secret\nc: other\n');
    const d = await decryptFile(enc, 's.yaml', ids);
    const inner = encComments(enc)[0]!.trim().slice(1);
    // as earlier versions did: read at the top level, failed to decrypt, encrypted again with ':'
    const twice = encryptValue(Buffer.from(inner), 'comment', d.dataKey, ':');
    const broken = Buffer.from(enc.toString().replace(inner, twice));
    const repaired = await decryptFile(broken, 's.yaml', ids);
    expect(commentsWithPaths(repaired.branches[0]!)).toEqual([['a:', ' note']]);
    const rewritten = await reencrypt(repaired, repaired.branches, LATER);
    const line = encComments(rewritten)[0]!.trim().slice(1);
    expect(line.length).toBe(inner.length);
    expect(decryptValue(line, d.dataKey, 'a:', 'test').plaintext.toString()).toBe(' note');
  });

  it('property: any YAML with comments anywhere round-trips through encrypt and decrypt, and an edit that changes nothing or setting another key changes no comment and no other ciphertext', async () => {
    await fc.assert(
      fc.asyncProperty(
        yamlTree().filter((t) => t.items.some((i) => i.kind === 'entry')),
        async (tree) => {
          const plain = writeYaml([tree], undefined);
          expect(readYaml(plain, 's.yaml').branches).toEqual([tree]);
          const enc = await encrypt(plain);
          const d = await decryptFile(enc, 's.yaml', ids);
          expect(d.branches).toEqual([tree]);
          expect(plaintextBytes(d).toString()).toBe(plain);
          // edit with no change: the plaintext read back and written again is the same file body
          expect(body(await reencrypt(d, readYaml(plaintextBytes(d).toString(), 's.yaml').branches, LATER))).toBe(
            body(enc),
          );
          const set = await reencrypt(d, [setPath(d.branches[0]!, ['set_by_test'], str('new value'))], LATER);
          const [before, after] = [body(enc), body(set)];
          expect(after.startsWith(before)).toBe(true);
          expect(after.slice(before.length)).toMatch(/^set_by_test: ENC\[[^\n]+\]\n$/);
          const again = await decryptFile(set, 's.yaml', ids);
          expect(commentsWithPaths(again.branches[0]!)).toEqual(commentsWithPaths(tree as MapNode));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('property: comment lines added by hand at any line and indentation, and at line ends, are read at one level, and stay there and keep their ciphertext', async () => {
    const edits = fc.array(
      fc.record({ at: fc.nat(), indent: fc.integer({ min: 0, max: 14 }), inline: fc.boolean(), c: comment }),
      { minLength: 1, maxLength: 6 },
    );
    await fc.assert(
      fc.asyncProperty(
        yamlTree().filter((t) => t.items.some((i) => i.kind === 'entry')),
        edits,
        async (tree, changes) => {
          const lines = writeYaml([tree], undefined).slice(0, -1).split('\n');
          for (const { at, indent, inline, c } of changes) {
            const n = at % (lines.length + 1);
            if (inline && n < lines.length) lines[n] = `${lines[n]} #${c.text}`;
            else lines.splice(n, 0, `${' '.repeat(indent)}#${c.text}`);
          }
          const plain = lines.join('\n') + '\n';
          let read: MapNode;
          try {
            read = readYaml(plain, 's.yaml').branches[0]!;
          } catch {
            fc.pre(false);
            return;
          }
          expect(readYaml(writeYaml([read], undefined), 's.yaml').branches).toEqual([read]);
          const enc = await encrypt(plain);
          const d = await decryptFile(enc, 's.yaml', ids);
          expect(d.branches).toEqual([read]);
          const set = await reencrypt(d, [setPath(d.branches[0]!, ['set_by_test'], str('new value'))], LATER);
          expect(body(set).startsWith(body(enc))).toBe(true);
          expect(commentsWithPaths((await decryptFile(set, 's.yaml', ids)).branches[0]!)).toEqual(
            commentsWithPaths(read),
          );
        },
      ),
      { numRuns: 60 },
    );
  });
});
