// Property tests of the five SOPS stores (yaml, json, dotenv, ini, binary) with a real age key
// made for this run: whatever a store can hold comes back exactly through encrypt and decrypt,
// and a change of any single byte of an encrypted value or of the MAC is refused with a
// GitopsError whose message and hint hold none of the plaintext.

import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { GitopsError } from '../../../agent/core/errors.js';
import type { Identities } from '../../../agent/core/sops/keys.js';
import { decryptFile, encryptFile, plaintextBytes } from '../../../agent/core/sops/sops-file.js';
import { writeStore } from '../../../agent/core/sops/stores.js';
import type { StoreFormat } from '../../../agent/core/sops/stores.js';
import type { MapNode, Node } from '../../../agent/core/sops/tree.js';
import type { AgeKey } from '../../helpers/age.js';
import { dotenvTree, iniTree, tree } from './arbitraries.js';
import { runKey } from './run-key.js';

const NOW = new Date('2026-11-27T10:00:00Z');
const RUNS = 40;
/** What a refused file may say: each a code of the one error class. */
const REFUSALS = [
  'sops-bad-file',
  'sops-bad-value',
  'sops-bad-metadata',
  'sops-decrypt-failed',
  'sops-mac-mismatch',
  'sops-not-encrypted',
];

let key: AgeKey;
let ids: Identities;
beforeAll(async () => {
  ({ key, ids } = await runKey());
});

const FILES: Record<Exclude<StoreFormat, 'binary'>, { file: string; tree: fc.Arbitrary<MapNode> }> = {
  yaml: { file: 'secrets.yaml', tree: tree() },
  json: { file: 'secrets.json', tree: tree({ comments: false, jsonNumbers: true }) },
  dotenv: { file: 'secrets.env', tree: dotenvTree },
  ini: { file: 'secrets.ini', tree: iniTree },
};

/** The plaintexts of a tree's string leaves long enough not to occur in a message by chance. */
function plaintexts(node: Node, out: string[] = []): string[] {
  if (node.kind === 'scalar' && node.type === 'str' && [...node.text].length >= 6) out.push(node.text);
  if (node.kind === 'map') for (const i of node.items) if (i.kind === 'entry') plaintexts(i.value, out);
  if (node.kind === 'list') for (const i of node.items) if (i.kind !== 'comment') plaintexts(i, out);
  return out;
}

/** The byte ranges of every ENC[...] value in an encrypted file (values and the MAC; not comments, which sops leaves out of the MAC). */
function encryptedRanges(bytes: Buffer): Array<[number, number]> {
  const text = bytes.toString('latin1');
  const out: Array<[number, number]> = [];
  for (const m of text.matchAll(/ENC\[AES256_GCM,[^\]]*\]/g))
    if (text[m.index - 1] !== '#') out.push([m.index, m.index + m[0].length]);
  return out;
}

const change = fc.record({ which: fc.nat(), at: fc.nat(), to: fc.integer({ min: 0, max: 255 }) });

function tampered(bytes: Buffer, c: { which: number; at: number; to: number }): Buffer | undefined {
  const ranges = encryptedRanges(bytes);
  const [start, end] = ranges[c.which % ranges.length]!;
  const at = start + (c.at % (end - start));
  if (bytes[at] === c.to) return undefined;
  const out = Buffer.from(bytes);
  out[at] = c.to;
  return out;
}

async function expectRefused(bytes: Buffer, file: string, secrets: readonly string[]): Promise<void> {
  const err = await decryptFile(bytes, file, ids).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GitopsError);
  const g = err as GitopsError;
  expect(REFUSALS).toContain(g.code);
  for (const s of secrets) {
    expect(g.message).not.toContain(s);
    expect(g.hint ?? '').not.toContain(s);
  }
}

describe('every SOPS store', () => {
  describe.each(Object.entries(FILES))('%s', (format, { file, tree: trees }) => {
    it('round-trips anything it can hold: the same tree, in order, and the same plain text', async () => {
      await fc.assert(
        fc.asyncProperty(trees, async (t) => {
          const plain = writeStore(format as StoreFormat, [t], undefined);
          const d = await decryptFile(await encryptFile(plain, file, { groups: [[key.recipient]] }, NOW), file, ids);
          expect(d.branches).toEqual([t]);
          expect(plaintextBytes(d).equals(plain)).toBe(true);
        }),
        { numRuns: RUNS },
      );
    });

    it('refuses a change of any one byte of an encrypted value or of the MAC, without plaintext in the error', async () => {
      await fc.assert(
        fc.asyncProperty(trees, change, async (t, c) => {
          const enc = await encryptFile(
            writeStore(format as StoreFormat, [t], undefined),
            file,
            { groups: [[key.recipient]] },
            NOW,
          );
          const bad = tampered(enc, c);
          fc.pre(bad !== undefined);
          await expectRefused(bad!, file, plaintexts(t));
        }),
        { numRuns: RUNS },
      );
    });
  });

  it('a changed base64 character whose bits a lenient decoder would drop (before the = padding) is refused too', async () => {
    for (const value of ['x', 'xy', 'xyzw', 'xyzwv']) {
      const enc = (
        await encryptFile(Buffer.from(`k: ${value}\n`), 's.yaml', { groups: [[key.recipient]] }, NOW)
      ).toString();
      const data = /^k: ENC\[AES256_GCM,data:([^,]+),/m.exec(enc)![1]!;
      expect(data).toMatch(/=$/);
      const last = data.replace(/=+$/, '');
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
      const ch = last.at(-1)!;
      const sibling = alphabet[alphabet.indexOf(ch) ^ 1]!; // differs only in the lowest bit, which padding leaves unused
      expect(
        Buffer.from(last.slice(0, -1) + sibling + data.slice(last.length), 'base64').equals(
          Buffer.from(data, 'base64'),
        ),
      ).toBe(true);
      const bad = enc.replace(`data:${data},`, `data:${last.slice(0, -1)}${sibling}${data.slice(last.length)},`);
      await expectRefused(Buffer.from(bad), 's.yaml', [value]);
    }
  });

  describe('binary', () => {
    const content = fc.uint8Array({ minLength: 1, maxLength: 64 });
    it('round-trips any bytes', async () => {
      await fc.assert(
        fc.asyncProperty(content, async (bytes) => {
          const d = await decryptFile(
            await encryptFile(bytes, 'blob.bin', { groups: [[key.recipient]] }, NOW),
            'blob.bin',
            ids,
          );
          expect(plaintextBytes(d).equals(Buffer.from(bytes))).toBe(true);
        }),
        { numRuns: RUNS },
      );
    });

    it('refuses a change of any one byte of the data or of the MAC, without the content in the error', async () => {
      await fc.assert(
        fc.asyncProperty(content, change, async (bytes, c) => {
          const enc = await encryptFile(bytes, 'blob.bin', { groups: [[key.recipient]] }, NOW);
          const bad = tampered(enc, c);
          fc.pre(bad !== undefined);
          const text = Buffer.from(bytes).toString('latin1');
          await expectRefused(bad!, 'blob.bin', text.length >= 6 ? [text] : []);
        }),
        { numRuns: RUNS },
      );
    });
  });
});
