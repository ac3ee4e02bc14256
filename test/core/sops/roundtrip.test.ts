// Files we write: every type survives a round trip exactly, in every store; Debian's age opens
// the data key; key groups, rules and mac_only_encrypted work; unchanged values keep their
// ciphertext on re-encryption.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { armor, Decrypter } from 'age-encryption';
import { secretChanges, setPath } from '../../../agent/core/sops/edit.js';
import { addIdentityText, emptyIdentities } from '../../../agent/core/sops/identities.js';
import type { Identities } from '../../../agent/core/sops/keys.js';
import {
  decryptFile,
  encryptFile,
  plaintextBytes,
  readEncrypted,
  reencrypt,
  rotate,
  updateKeys,
} from '../../../agent/core/sops/sops-file.js';
import { formatGoFloat, str, toPlain } from '../../../agent/core/sops/tree.js';
import type { AgeKey } from '../../helpers/age.js';
import { ageKey } from '../../helpers/age.js';
import { tempDir } from '../../helpers/project.js';
import { withCode } from '../../helpers/codes.js';

const NOW = new Date('2026-11-27T10:00:00.123Z');
const idsOf = async (...keys: AgeKey[]): Promise<Identities> => {
  const ids = emptyIdentities();
  for (const k of keys) await addIdentityText(ids, k.identity, k.recipient);
  return ids;
};
const hasAgeCli = (() => {
  try {
    execFileSync('age', ['--version']);
    return true;
  } catch {
    return false;
  }
})();

const YAML_ALL_TYPES = [
  '# a top-level comment',
  'int: 42',
  'big_int: 9007199254740993',
  'float_big: 1e21',
  'float_small: 0.1',
  'neg_zero: -0.0',
  'float_tiny: 1e-7',
  'bool: true',
  'empty: ""',
  'multi: |',
  '    first line',
  '    second line',
  'ünïcödé_kéy: 日本語',
  'when: 2024-01-01',
  'octal: 0777',
  'nested:',
  '    # a nested comment',
  '    list:',
  '        - one',
  '        - 2',
  '        - {a: b}',
  '    clear_unencrypted: stays',
  'nothing: null',
  '',
].join('\n');

describe('round trips', () => {
  it('YAML: every type comes back exactly, in order, comments included', async () => {
    const k = await ageKey();
    const enc = await encryptFile(Buffer.from(YAML_ALL_TYPES), 's.yaml', { groups: [[k.recipient]] }, NOW);
    const text = enc.toString();
    expect(text).toContain('clear_unencrypted: stays');
    expect(text).toContain('lastmodified: "2026-11-27T10:00:00Z"');
    expect(text).not.toContain('second line');
    expect(text).not.toContain('a nested comment');
    const d = await decryptFile(enc, 's.yaml', await idsOf(k));
    expect(toPlain(d.branches[0]!)).toEqual({
      int: 42,
      big_int: '9007199254740993',
      float_big: 1e21,
      float_small: 0.1,
      neg_zero: -0,
      float_tiny: 1e-7,
      bool: true,
      empty: '',
      multi: 'first line\nsecond line\n',
      ünïcödé_kéy: '日本語',
      when: '2024-01-01T00:00:00Z',
      octal: 511,
      nested: { list: ['one', 2, { a: 'b' }], clear_unencrypted: 'stays' },
      nothing: null,
    });
    const out = plaintextBytes(d).toString();
    expect(out).toContain('# a top-level comment');
    expect(out).toContain('# a nested comment');
    expect(Object.is((toPlain(d.branches[0]!) as { neg_zero: number }).neg_zero, -0)).toBe(true);
  });

  it('Go float formatting, never an exponent', () => {
    expect([1e21, 0.1, -0, 1e-7, 3.14, 7, 1234568000, 1e23].map(formatGoFloat)).toEqual([
      '1000000000000000000000',
      '0.1',
      '-0',
      '0.0000001',
      '3.14',
      '7',
      '1234568000',
      '100000000000000000000000',
    ]);
  });

  it.each([
    [
      's.json',
      '{\n\t"b": 1,\n\t"10": "ten",\n\t"f": 1.5,\n\t"big": 12345678901234567890,\n\t"t": true,\n\t"l": [1, "x", null],\n\t"e": ""\n}\n',
      { b: 1, '10': 'ten', f: 1.5, big: 12345678901234567000, t: true, l: [1, 'x', null], e: '' },
    ],
    ['s.env', 'TOKEN=abc\nMULTI=a\\nb\n#a comment\nspace =kept\n', { TOKEN: 'abc', MULTI: 'a\nb', 'space ': 'kept' }],
    [
      's.ini',
      'top = level\n[db]\nuser = admin\npass = s3cr3t\n',
      { DEFAULT: { top: 'level' }, db: { user: 'admin', pass: 's3cr3t' } },
    ],
  ] as const)('%s round-trips, keys in their order', async (file, plain, expected) => {
    const k = await ageKey();
    const enc = await encryptFile(Buffer.from(plain), file, { groups: [[k.recipient]] }, NOW);
    const d = await decryptFile(enc, file, await idsOf(k));
    expect(toPlain(d.branches[0]!)).toEqual(expected);
    // the order as written (a plain JS object would put "10" first)
    const order = plaintextBytes(d).toString();
    if (file === 's.json') expect(order.indexOf('"b"')).toBeLessThan(order.indexOf('"10"'));
  });

  it('binary content comes back byte for byte', async () => {
    const k = await ageKey();
    const bytes = Buffer.from([0, 255, 1, 128, 10, 13, 0xc3, 0x28]);
    const enc = await encryptFile(bytes, 'blob.bin', { groups: [[k.recipient]] }, NOW);
    expect(JSON.parse(enc.toString()).data).toMatch(/^ENC\[AES256_GCM,/);
    const d = await decryptFile(enc, 'blob.bin', await idsOf(k));
    expect(plaintextBytes(d).equals(bytes)).toBe(true);
  });

  it.skipIf(!hasAgeCli)("Debian's age CLI opens the data key we wrapped", async () => {
    const k = await ageKey();
    const enc = await encryptFile(Buffer.from('a: b\n'), 's.yaml', { groups: [[k.recipient]] }, NOW);
    const meta = readEncrypted(enc, 's.yaml').metadata;
    const dir = tempDir();
    writeFileSync(join(dir, 'key.age'), meta.keyGroups[0]!.age[0]!.enc);
    const key = execFileSync('age', ['-d', '-i', k.file, join(dir, 'key.age')]);
    const d = await decryptFile(enc, 's.yaml', await idsOf(k));
    expect(key.length).toBe(32);
    expect(key.equals(d.dataKey)).toBe(true);
  });

  it('post-quantum hybrid recipients', async () => {
    const k = await ageKey('hybrid');
    expect(k.recipient).toMatch(/^age1pq1/);
    const enc = await encryptFile(Buffer.from('a: b\n'), 's.yaml', { groups: [[k.recipient]] }, NOW);
    expect(toPlain((await decryptFile(enc, 's.yaml', await idsOf(k))).branches[0]!)).toEqual({ a: 'b' });
  });

  it('key groups with a Shamir threshold: 2 of 3 groups open it, 1 does not', async () => {
    const [a, b, c] = await Promise.all([ageKey(), ageKey(), ageKey()]);
    const enc = await encryptFile(
      Buffer.from('secret: value\n'),
      's.yaml',
      { groups: [[a!.recipient], [b!.recipient], [c!.recipient]], shamirThreshold: 2 },
      NOW,
    );
    expect(enc.toString()).toContain('key_groups:');
    expect(enc.toString()).toContain('shamir_threshold: 2');
    const share = await new Decrypter();
    share.addIdentity(a!.identity);
    expect(
      (await share.decrypt(armor.decode(readEncrypted(enc, 's.yaml').metadata.keyGroups[0]!.age[0]!.enc))).length,
    ).toBe(33);
    expect(toPlain((await decryptFile(enc, 's.yaml', await idsOf(a!, c!))).branches[0]!)).toEqual({ secret: 'value' });
    await expect(decryptFile(enc, 's.yaml', await idsOf(b!))).rejects.toThrow(
      withCode('sops-no-key', 'open 1 of its 3 key groups; 2 are needed'),
    );
  });

  it('encrypted_regex and mac_only_encrypted', async () => {
    const k = await ageKey();
    const plain = 'apiVersion: v1\nkind: Secret\nstringData:\n    token: abc\n';
    const enc = await encryptFile(
      Buffer.from(plain),
      's.yaml',
      {
        groups: [[k.recipient]],
        rule: { kind: 'encrypted_regex', value: '^(data|stringData)$' },
        macOnlyEncrypted: true,
      },
      NOW,
    );
    const text = enc.toString();
    expect(text).toContain('kind: Secret');
    expect(text).toContain('encrypted_regex: ^(data|stringData)$');
    expect(text).toContain('mac_only_encrypted: true');
    expect(toPlain((await decryptFile(enc, 's.yaml', await idsOf(k))).branches[0]!)).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      stringData: { token: 'abc' },
    });
    // with mac_only_encrypted, clear values are not protected by the MAC (as in sops)
    const edited = Buffer.from(text.replace('kind: Secret', 'kind: ConfigMap'));
    expect(toPlain((await decryptFile(edited, 's.yaml', await idsOf(k))).branches[0]!)).toMatchObject({
      kind: 'ConfigMap',
    });
  });

  it('comment rules: encrypted_comment_regex encrypts what follows a marker comment; the marker stays clear', async () => {
    const k = await ageKey();
    const plain = 'public: one\n# sops:enc\nprivate: two\nafter: three\n';
    const enc = await encryptFile(
      Buffer.from(plain),
      's.yaml',
      { groups: [[k.recipient]], rule: { kind: 'encrypted_comment_regex', value: 'sops:enc' } },
      NOW,
    );
    const text = enc.toString();
    expect(text).toContain('public: one');
    expect(text).toContain('# sops:enc');
    expect(text).toMatch(/^private: ENC\[/m);
    expect(text).toContain('after: three');
    expect(toPlain((await decryptFile(enc, 's.yaml', await idsOf(k))).branches[0]!)).toEqual({
      public: 'one',
      private: 'two',
      after: 'three',
    });
    const unenc = await encryptFile(
      Buffer.from('# keep-clear\nvisible: x\nhidden: y\n'),
      's.yaml',
      { groups: [[k.recipient]], rule: { kind: 'unencrypted_comment_regex', value: 'keep-clear' } },
      NOW,
    );
    expect(unenc.toString()).toContain('visible: x');
    expect(unenc.toString()).toMatch(/^hidden: ENC\[/m);
  });

  it('re-encryption keeps the ciphertext of unchanged values; the change summary needs no key', async () => {
    const k = await ageKey();
    const enc = await encryptFile(
      Buffer.from('a: one\nb: two\nc: three\n'),
      's.yaml',
      { groups: [[k.recipient]] },
      NOW,
    );
    const d = await decryptFile(enc, 's.yaml', await idsOf(k));
    const changed = await reencrypt(d, [setPath(d.branches[0]!, ['b'], str('TWO'))], new Date('2026-11-28T00:00:00Z'));
    const line = (t: Buffer, key: string): string =>
      t
        .toString()
        .split('\n')
        .find((l) => l.startsWith(`${key}:`))!;
    expect(line(changed, 'a')).toBe(line(enc, 'a'));
    expect(line(changed, 'c')).toBe(line(enc, 'c'));
    expect(line(changed, 'b')).not.toBe(line(enc, 'b'));
    expect(secretChanges(readEncrypted(enc, 's.yaml').branches, readEncrypted(changed, 's.yaml').branches)).toEqual([
      { path: 'b', change: 'changed' },
    ]);
  });

  it('rotate makes a new data key; updatekeys re-wraps the same one and leaves values alone', async () => {
    const [k, l] = await Promise.all([ageKey(), ageKey()]);
    const enc = await encryptFile(Buffer.from('a: one\n'), 's.yaml', { groups: [[k.recipient]] }, NOW);
    const d = await decryptFile(enc, 's.yaml', await idsOf(k));
    const rotated = await rotate(d, [[k.recipient, l.recipient]], 0, NOW);
    const r = await decryptFile(rotated, 's.yaml', await idsOf(l));
    expect(r.dataKey.equals(d.dataKey)).toBe(false);
    const updated = await updateKeys(enc, 's.yaml', await idsOf(k), [[l.recipient]], 0);
    const u = await decryptFile(updated, 's.yaml', await idsOf(l));
    expect(u.dataKey.equals(d.dataKey)).toBe(true);
    expect(updated.toString().split('\n')[0]).toBe(enc.toString().split('\n')[0]);
    await expect(decryptFile(updated, 's.yaml', await idsOf(k))).rejects.toThrow(withCode('sops-no-key'));
  });

  it('refuses to encrypt a file twice, and a key group without recipients', async () => {
    const k = await ageKey();
    const enc = await encryptFile(Buffer.from('a: b\n'), 's.yaml', { groups: [[k.recipient]] }, NOW);
    await expect(encryptFile(enc, 's.yaml', { groups: [[k.recipient]] }, NOW)).rejects.toThrow(
      withCode('sops-already-encrypted'),
    );
    await expect(encryptFile(Buffer.from('a: b\n'), 's.yaml', { groups: [[]] }, NOW)).rejects.toThrow(
      withCode('sops-no-recipients'),
    );
    await expect(encryptFile(Buffer.from('a: b\n'), 's.yaml', { groups: [['not-a-recipient']] }, NOW)).rejects.toThrow(
      withCode('sops-bad-recipient'),
    );
  });
});

describe('hand-edited and truncated files', () => {
  it('a non-semver version, an unquoted lastmodified, a truncated file, an unknown master key only', async () => {
    const k = await ageKey();
    const ids = await idsOf(k);
    const enc = (await encryptFile(Buffer.from('a: b\n'), 's.yaml', { groups: [[k.recipient]] }, NOW)).toString();
    await expect(
      decryptFile(Buffer.from(enc.replace('version: 3.13.2', 'version: mytool')), 's.yaml', ids),
    ).rejects.toThrow(withCode('sops-bad-metadata', 'version "mytool"'));
    await expect(
      decryptFile(
        Buffer.from(enc.replace('lastmodified: "2026-11-27T10:00:00Z"', 'lastmodified: 2026-11-27T10:00:00Z')),
        's.yaml',
        ids,
      ),
    ).rejects.toThrow(withCode('sops-bad-metadata', 'lastmodified'));
    await expect(decryptFile(Buffer.from(enc.slice(0, enc.indexOf('sops:'))), 's.yaml', ids)).rejects.toThrow(
      withCode('sops-bad-metadata', 'has no sops metadata'),
    );
    await expect(decryptFile(Buffer.from(enc.slice(0, enc.length - 200)), 's.yaml', ids)).rejects.toThrow(/s\.yaml/);
    const kmsOnly =
      'a: ENC[AES256_GCM,data:AA==,iv:AA==,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]\nsops:\n    kms:\n        - arn: arn:aws:kms:x\n          enc: xyz\n    lastmodified: "2026-11-27T10:00:00Z"\n    mac: x\n    unencrypted_suffix: _unencrypted\n    version: 3.13.2\n';
    await expect(decryptFile(Buffer.from(kmsOnly), 's.yaml', ids)).rejects.toThrow(
      withCode('sops-no-key', 'it is encrypted to kms'),
    );
  });
});
