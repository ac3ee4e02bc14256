// Every real sops file in ../shared/vectors/sops decrypts to its expected plaintext with the
// MAC verified; tampering is caught and prints nothing.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { addIdentityText, emptyIdentities } from '../../../agent/core/sops/identities.js';
import type { Identities } from '../../../agent/core/sops/keys.js';
import { decryptFile } from '../../../agent/core/sops/sops-file.js';
import type { Comment, Node } from '../../../agent/core/sops/tree.js';
import { hasSopsVectors, SOPS_VECTORS } from '../../helpers/shared.js';
import { withCode } from '../../helpers/codes.js';

const V = SOPS_VECTORS;
const vectors = hasSopsVectors
  ? ['age', 'pgp'].flatMap((dir) => readdirSync(join(V, dir)).map((f) => ({ dir, f })))
  : [];

/** The expected JSON's typed form: ints {"int": "7"}, floats {"float": "3.14"}. */
function typed(node: Node): unknown {
  switch (node.kind) {
    case 'null':
      return null;
    case 'map':
      return Object.fromEntries(
        node.items
          .filter((i) => i.kind === 'entry')
          .map((i) => [(i as { key: string }).key, typed((i as { value: Node }).value)]),
      );
    case 'list':
      return node.items.filter((i): i is Node => i.kind !== 'comment').map(typed);
    case 'scalar':
      if (node.type === 'int') return { int: node.text };
      if (node.type === 'float') return { float: node.text };
      if (node.type === 'bool') return node.text === 'True';
      return node.text;
  }
}

const comments = (node: Node): string[] =>
  node.kind === 'map' || node.kind === 'list'
    ? node.items.flatMap((i) =>
        i.kind === 'comment' ? [(i as Comment).text] : i.kind === 'entry' ? comments(i.value) : comments(i as Node),
      )
    : [];

describe.skipIf(!hasSopsVectors)('real sops vectors', () => {
  let ids: Identities;
  beforeAll(async () => {
    ids = emptyIdentities();
    for (const k of readdirSync(join(V, 'keys')).filter((k) => k.endsWith('.txt') || k.endsWith('.asc')))
      await addIdentityText(ids, readFileSync(join(V, 'keys', k), 'utf8'), k);
  });

  it.each(vectors.map((v) => [`${v.dir}/${v.f}`, v] as const))('%s', async (_n, { dir, f }) => {
    const expected = JSON.parse(readFileSync(join(V, 'expected', `${f}.expected.json`), 'utf8')) as {
      dataKeyHex: string;
      plaintext: unknown[];
      format: string;
      encryptedComments?: Array<{ text: string }>;
    };
    const bytes = readFileSync(join(V, dir, f));
    if (f.includes('no_mac')) {
      await expect(decryptFile(bytes, f, ids)).rejects.toThrow(`${f}: MAC mismatch. File has no MAC`);
      const d = await decryptFile(bytes, f, ids, { ignoreMac: true });
      expect(d.branches.map(typed)).toEqual(expected.plaintext);
      return;
    }
    const d = await decryptFile(bytes, f, ids);
    expect(d.format).toBe(expected.format);
    expect(d.dataKey.toString('hex')).toBe(expected.dataKeyHex);
    expect(d.branches.map(typed)).toEqual(expected.plaintext);
    for (const c of expected.encryptedComments ?? []) expect(d.branches.flatMap(comments)).toContain(c.text);
  });

  it('swapping two list items, editing one ciphertext character, or changing lastmodified: a MAC error naming the file, no plaintext', async () => {
    const text = readFileSync(join(V, 'age/sopsnix-secrets.yaml'), 'utf8');
    const lines = text.split('\n');
    const [i, j] = [
      lines.findIndex((l) => l.startsWith('    - ENC')),
      lines.findIndex((l, k) => k > lines.findIndex((x) => x.startsWith('    - ENC')) && l.startsWith('    - ENC')),
    ];
    const swapped = [...lines];
    [swapped[i], swapped[j]] = [lines[j]!, lines[i]!];
    await expect(decryptFile(Buffer.from(swapped.join('\n')), 'secrets.yaml', ids)).rejects.toThrow(
      withCode('sops-mac-mismatch', 'secrets.yaml'),
    );

    const valueLine = lines.findIndex((l) => l.startsWith('test_key: ENC'));
    const edited = [...lines];
    const at = edited[valueLine]!.indexOf('data:') + 6;
    edited[valueLine] =
      edited[valueLine]!.slice(0, at) + (edited[valueLine]![at] === 'A' ? 'B' : 'A') + edited[valueLine]!.slice(at + 1);
    await expect(decryptFile(Buffer.from(edited.join('\n')), 'secrets.yaml', ids)).rejects.toThrow(
      withCode('sops-decrypt-failed', 'test_key'),
    );

    const touched = text.replace(/lastmodified: "?([^"\n]+)"?/, 'lastmodified: "2030-01-01T00:00:00Z"');
    const err = await decryptFile(Buffer.from(touched), 'secrets.yaml', ids).catch((e: Error) => e);
    expect(String(err)).toMatch(/secrets\.yaml: sops\.mac cannot be decrypted|MAC mismatch/);
    expect(String(err)).not.toContain('test_value');
  });

  it('the wrong key, or no key, says which recipients could', async () => {
    const other = emptyIdentities();
    await addIdentityText(other, readFileSync(join(V, 'keys/flux-age.txt'), 'utf8'), 'flux-age.txt');
    await expect(decryptFile(readFileSync(join(V, 'age/sopsnix-secrets.yaml')), 'secrets.yaml', other)).rejects.toThrow(
      /none of the available keys \(flux-age\.txt\) can decrypt its data key; it is encrypted to age1yt3tfq/,
    );
    await expect(
      decryptFile(readFileSync(join(V, 'age/sopsnix-secrets.yaml')), 'secrets.yaml', emptyIdentities()),
    ).rejects.toThrow(withCode('sops-no-key', 'none found'));
  });
});
