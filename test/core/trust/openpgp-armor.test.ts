// The strict armor check of OpenPGP signatures (what gpg reads), on a real gpg signature changed one line at a
// time; and key files that are no armored public key.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { armorProblem, readTrustedKeys, verifyOpenPgp } from '../../../agent/core/trust/openpgp-verify.js';
import { gpgKey } from '../../helpers/git.js';
import { tempDir } from '../../helpers/project.js';

const key = gpgKey('Ana <ana@example.test>');
const payload = Buffer.from('tree 0000\n\nsigned\n');
const file = join(tempDir(), 'payload');
writeFileSync(file, payload);
const armored = execFileSync(
  'gpg',
  ['--batch', '--homedir', key.gnupgHome!, '--armor', '--detach-sign', '-o', '-', file],
  {
    encoding: 'utf8',
  },
);
const lines = armored.replace(/\n+$/, '').split('\n');
const dataAt = lines.indexOf('') + 1;
const withLines = (change: (l: string[]) => void): string => {
  const l = [...lines];
  change(l);
  return l.join('\n') + '\n';
};

describe('armorProblem', () => {
  it('a signature gpg wrote has none, with or without its checksum line and with armor headers', () => {
    expect(armorProblem(armored)).toBeUndefined();
    expect(armorProblem(withLines((l) => l.splice(1, 0, 'Comment: made by a test')))).toBeUndefined();
    const checksum = lines.findIndex((l) => l.startsWith('='));
    if (checksum > 0) expect(armorProblem(withLines((l) => l.splice(checksum, 1)))).toBeUndefined();
  });

  it('names what is wrong: the BEGIN or END line, a header, the empty line, the base64, the checksum', () => {
    expect(armorProblem(withLines((l) => (l[0] = '-----BEGIN PGP MESSAGE-----')))).toBe(
      'the OpenPGP armor does not start with -----BEGIN PGP SIGNATURE-----',
    );
    expect(armorProblem(withLines((l) => l.pop()))).toBe(
      'the OpenPGP armor does not end with -----END PGP SIGNATURE-----',
    );
    expect(armorProblem(withLines((l) => l.splice(1, 0, 'not a header')))).toBe(
      'the OpenPGP armor has a malformed header line "not a header"',
    );
    expect(armorProblem('-----BEGIN PGP SIGNATURE-----\nVersion: x\n-----END PGP SIGNATURE-----\n')).toBe(
      'the OpenPGP armor has no empty line before its data',
    );
    expect(armorProblem(withLines((l) => (l[dataAt] = l[dataAt]!.slice(0, -1) + '*')))).toBe(
      'the OpenPGP armor data is not base64',
    );
    expect(armorProblem('-----BEGIN PGP SIGNATURE-----\n\n-----END PGP SIGNATURE-----')).toBe(
      'the OpenPGP armor data is not base64',
    );
    const wrongChecksum = withLines((l) => {
      const at = l.findIndex((x) => x.startsWith('='));
      if (at > 0) l[at] = '=AAAA';
      else l.splice(l.length - 1, 0, '=AAAA');
    });
    expect(armorProblem(wrongChecksum)).toBe('the OpenPGP armor checksum does not match its data');
  });
});

describe('reading keys and signatures that are not OpenPGP', () => {
  it('a key file that is no armored key says which file', async () => {
    const r = await readTrustedKeys('hello', 'trust/ana.asc');
    expect(r.keys).toEqual([]);
    expect(r.problem).toMatch(/^trust\/ana\.asc: not an armored OpenPGP public key/);
    expect((await readTrustedKeys(key.publicKey, 'trust/ana.asc')).keys).toHaveLength(1);
  });

  it('a well-shaped armor whose packets are no signature is malformed', async () => {
    const data = Buffer.from('this is not a packet!').toString('base64'); // 21 bytes: base64 without padding
    const bogus = `-----BEGIN PGP SIGNATURE-----\n\n${data}\n-----END PGP SIGNATURE-----\n`;
    expect(armorProblem(bogus)).toBeUndefined();
    const r = await verifyOpenPgp(payload, bogus, [], new Date());
    expect(r.verdict).toBe('malformed');
  });
});
