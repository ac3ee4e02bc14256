// The sops metadata of the real example secrets file, hand-edited one way at a time: what reading it refuses
// (two encryption rules, no master key, an age entry without its data key, a time that is not RFC 3339) and
// what it accepts (other RFC 3339 spellings of the time, mac_only_encrypted, a PGP entry kept as it is).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { macAad, metadataNode } from '../../../agent/core/sops/metadata.js';
import { readEncrypted } from '../../../agent/core/sops/sops-file.js';
import { withCode } from '../../helpers/codes.js';
import { PROJECT } from '../../helpers/project.js';

const FILE = 'environments/development/secrets.sops.yaml';
const text = readFileSync(join(PROJECT, FILE), 'utf8');
const read = (t: string) => readEncrypted(Buffer.from(t, 'utf8'), FILE);
const ageBlock = text.slice(text.indexOf('    age:\n'), text.indexOf('    lastmodified:'));

describe('sops metadata read by hand-edited files', () => {
  it('the example reads: one key group of age recipients, the default rule, no Shamir threshold', () => {
    const meta = read(text).metadata;
    expect(meta.keyGroups).toHaveLength(1);
    expect(meta.rule).toEqual({ kind: 'unencrypted_suffix', value: '_unencrypted' });
    expect(meta.shamirThreshold).toBe(0);
    expect(meta.macOnlyEncrypted).toBe(false);
  });

  it('two encryption rules, no master key, an age entry without an armored data key: refused', () => {
    expect(() =>
      read(text.replace('    unencrypted_suffix:', '    encrypted_regex: ^pass\n    unencrypted_suffix:')),
    ).toThrow(
      withCode('sops-bad-metadata', 'has 2 encryption rules (unencrypted_suffix, encrypted_regex); sops allows one'),
    );
    expect(() => read(text.replace(ageBlock, ''))).toThrow(withCode('sops-bad-metadata', 'names no master key'));
    const noArmor = text.replace(/- enc: \|\n(?: {14}.*\n)+/, '- enc: nothing\n');
    expect(() => read(noArmor)).toThrow(withCode('sops-bad-metadata', 'has no armored data key'));
  });

  it('lastmodified: any RFC 3339 spelling reads, other text does not', () => {
    expect(macAad('2026-12-01T08:30:18.123+00:00')).toBe('2026-12-01T08:30:18Z');
    expect(macAad('2026-12-01t08:30:18-00:00')).toBe('2026-12-01T08:30:18Z');
    expect(macAad('2026-12-01T08:30:18+02:00')).toBe('2026-12-01T08:30:18+02:00');
    expect(() => macAad('yesterday')).toThrow(withCode('sops-bad-metadata', '"yesterday" is not an RFC 3339 time'));
    expect(() => read(text.replace(/lastmodified: "[^"]+"/, 'lastmodified: "soon"'))).toThrow(
      withCode('sops-bad-metadata'),
    );
  });

  it('mac_only_encrypted and a PGP entry are read and written back in sops order', () => {
    const pgp =
      '    pgp:\n        - created_at: "2026-01-01T00:00:00Z"\n          enc: |\n' +
      '              -----BEGIN PGP MESSAGE-----\n              x\n              -----END PGP MESSAGE-----\n' +
      '          fp: 0123456789ABCDEF\n';
    const edited = text.replace(
      '    unencrypted_suffix:',
      `    mac_only_encrypted: true\n${pgp}    unencrypted_suffix:`,
    );
    const meta = read(edited).metadata;
    expect(meta.macOnlyEncrypted).toBe(true);
    expect(meta.keyGroups[0]!.pgp).toEqual([
      {
        fp: '0123456789ABCDEF',
        created_at: '2026-01-01T00:00:00Z',
        enc: '-----BEGIN PGP MESSAGE-----\nx\n-----END PGP MESSAGE-----\n',
      },
    ]);
    const keys = metadataNode(meta).items.flatMap((i) => (i.kind === 'entry' ? [i.key] : []));
    expect(keys).toEqual(['age', 'lastmodified', 'mac', 'mac_only_encrypted', 'pgp', 'unencrypted_suffix', 'version']);
  });

  it('several key groups keep their Shamir threshold', () => {
    // the age list one level down, as the entry of a key group
    const group = (block: string): string =>
      block
        .split('\n')
        .map((l, k) => (k === 0 ? '        - age:' : l && `    ${l}`))
        .join('\n');
    const groups = `    key_groups:\n${group(ageBlock)}${group(ageBlock)}    shamir_threshold: 2\n`;
    const meta = read(text.replace(ageBlock, groups)).metadata;
    expect(meta.keyGroups).toHaveLength(2);
    expect(meta.shamirThreshold).toBe(2);
    const keys = metadataNode(meta).items.flatMap((i) => (i.kind === 'entry' ? [i.key] : []));
    expect(keys).toContain('shamir_threshold');
    expect(keys).toContain('key_groups');
  });
});
