// SSH signatures made by the real ssh-keygen, then broken one field at a time: armor, base64, magic, version,
// trailing and truncated bytes, key types the verifier refuses, and algorithms a key cannot have made.

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sshString } from '../../../agent/core/trust/ssh-wire.js';
import { keyFromBlob, parseSshSignature, verifySshSignature } from '../../../agent/core/trust/sshsig.js';
import type { SshSignature } from '../../../agent/core/trust/sshsig.js';
import { sshKey } from '../../helpers/git.js';
import { tempDir } from '../../helpers/project.js';

const payload = Buffer.from('tree 0000\n\nthe signed text\n');
function sign(type: Parameters<typeof sshKey>[0]): { armored: string; sig: SshSignature } {
  const key = sshKey(type);
  const dir = tempDir();
  writeFileSync(join(dir, 'payload'), payload);
  execFileSync('ssh-keygen', ['-Y', 'sign', '-n', 'git', '-f', key.key, join(dir, 'payload')], { stdio: 'pipe' });
  const armored = readFileSync(join(dir, 'payload.sig'), 'latin1');
  const parsed = parseSshSignature(armored);
  if (!parsed.ok) throw new Error(parsed.problem);
  return { armored, sig: parsed.sig };
}
const ed = sign('ed25519');
const rsa = sign('rsa');
const ecdsa = sign('ecdsa-256');

/** The armored signature around `blob`. */
const armor = (blob: Buffer): string =>
  `-----BEGIN SSH SIGNATURE-----\n${blob.toString('base64')}\n-----END SSH SIGNATURE-----\n`;
const blobOf = (armored: string): Buffer =>
  Buffer.from(armored.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
const problem = (armored: string): string => {
  const r = parseSshSignature(armored);
  return r.ok ? 'parsed' : r.problem;
};
const u32 = (n: number): Buffer => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
/** An SSHSIG blob from its fields. */
const sshsig = (s: Partial<SshSignature> & { version?: number; inner?: Buffer }): Buffer =>
  Buffer.concat([
    Buffer.from('SSHSIG'),
    u32(s.version ?? 1),
    sshString(s.publicKey ?? ed.sig.publicKey),
    sshString('git'),
    sshString(Buffer.alloc(0)),
    sshString('sha512'),
    sshString(s.inner ?? Buffer.concat([sshString(ed.sig.signatureAlgorithm), sshString(ed.sig.signature)])),
  ]);

describe('parseSshSignature refuses', () => {
  it('what is not armored, not base64, not SSHSIG or another version', () => {
    expect(problem('hello')).toBe('the signature does not start with the SSH armor line');
    expect(problem('-----BEGIN SSH SIGNATURE-----\nAAAA\n')).toBe('the SSH signature has no END line');
    expect(problem(armor(Buffer.alloc(0)))).toBe('the SSH signature is not valid base64');
    expect(problem('-----BEGIN SSH SIGNATURE-----\n!!!!\n-----END SSH SIGNATURE-----')).toBe(
      'the SSH signature is not valid base64',
    );
    const blob = blobOf(ed.armored);
    expect(problem(armor(Buffer.concat([Buffer.from('SSHSIX'), blob.subarray(6)])))).toBe(
      'the SSH signature lacks the SSHSIG magic',
    );
    expect(problem(armor(sshsig({ version: 2 })))).toBe('the SSH signature has version 2; only version 1 exists');
    expect(problem(ed.armored.replace(/\r?\n/g, '\r\n'))).toBe('parsed');
  });

  it('a footer or header that is not a line of its own (ssh-keygen: "missing footer"), as a flipped bit makes it', () => {
    // found by the git agreement property: "\n" flipped to "\v" before the footer; git calls it bad, we trusted it
    for (const joint of ['\v', ' ', ''])
      expect(problem(ed.armored.replace('\n-----END', `${joint}-----END`))).toBe('the SSH signature has no END line');
    expect(problem(ed.armored.replace('SIGNATURE-----\n', 'SIGNATURE-----\v'))).toBe(
      'the signature does not start with the SSH armor line',
    );
  });

  it('trailing or missing bytes, and a public key that does not decode', () => {
    const blob = blobOf(ed.armored);
    expect(problem(armor(Buffer.concat([blob, Buffer.from([0])])))).toBe('the SSH signature blob has trailing bytes');
    expect(problem(armor(blob.subarray(0, blob.length - 10)))).toMatch(/^the SSH signature blob is truncated/);
    const unknownKey = Buffer.concat([sshString('ssh-foo'), sshString(Buffer.alloc(4))]);
    expect(problem(armor(sshsig({ publicKey: unknownKey })))).toBe(
      `the SSH signature's public key does not decode: unknown key type "ssh-foo"`,
    );
    const longKey = Buffer.concat([ed.sig.publicKey, Buffer.from([1])]);
    expect(problem(armor(sshsig({ publicKey: longKey })))).toBe(
      "the SSH signature's public key does not decode: trailing bytes after the key",
    );
  });

  it('an inner signature with trailing or missing bytes parses, and then does not verify', () => {
    const inner = Buffer.concat([sshString('ssh-ed25519'), sshString(ed.sig.signature)]);
    const trailing = parseSshSignature(armor(sshsig({ inner: Buffer.concat([inner, Buffer.from([9])]) })));
    expect(trailing.ok && trailing.sig.signatureProblem).toBe('the inner SSH signature has trailing bytes');
    const short = parseSshSignature(armor(sshsig({ inner: inner.subarray(0, 20) })));
    expect(short.ok && short.sig.signatureProblem).toMatch(/^the inner SSH signature is truncated/);
    if (short.ok) expect(verifySshSignature(short.sig, payload)).toMatchObject({ ok: false });
  });
});

describe('verifySshSignature', () => {
  it('verifies what ssh-keygen signed with ed25519, RSA and ECDSA, and nothing else', () => {
    for (const { sig } of [ed, rsa, ecdsa]) {
      expect(verifySshSignature(sig, payload), sig.keyType).toEqual({ ok: true });
      expect(verifySshSignature(sig, Buffer.from('other text')).ok).toBe(false);
    }
  });

  it('refuses an algorithm the key cannot have made, and SHA-1 RSA', () => {
    expect(verifySshSignature({ ...ed.sig, signatureAlgorithm: 'rsa-sha2-512' }, payload).problem).toBe(
      'an ed25519 key cannot make a rsa-sha2-512 signature',
    );
    expect(verifySshSignature({ ...rsa.sig, signatureAlgorithm: 'ssh-rsa' }, payload).problem).toContain(
      'SHA-1 ssh-rsa is forbidden',
    );
    expect(verifySshSignature({ ...ecdsa.sig, signatureAlgorithm: 'ecdsa-sha2-nistp384' }, payload).problem).toBe(
      'an ecdsa-sha2-nistp256 key cannot make a ecdsa-sha2-nistp384 signature',
    );
    const extra = Buffer.concat([ecdsa.sig.signature, Buffer.from([0, 0, 0, 1, 1])]);
    expect(verifySshSignature({ ...ecdsa.sig, signature: extra }, payload)).toEqual({ ok: false });
    expect(verifySshSignature({ ...ecdsa.sig, signature: Buffer.from([0, 0, 0, 9]) }, payload).problem).toBe(
      'the signature bytes are truncated',
    );
  });

  it('keys it does not accept say why, and nothing is checked', () => {
    const key = (...fields: Array<string | Buffer>): Buffer => Buffer.concat(fields.map((f) => sshString(f)));
    const refuse = (blob: Buffer): string => {
      expect(() => keyFromBlob(blob)).toThrow();
      const r = verifySshSignature({ ...ed.sig, publicKey: blob }, payload);
      expect(r.unsupported).toBe(true);
      return r.problem!;
    };
    expect(refuse(key('ssh-ed25519', Buffer.alloc(31)))).toBe('an ed25519 key must be 32 bytes');
    expect(refuse(key('ecdsa-sha2-nistp256', 'nistp384', Buffer.alloc(65, 4)))).toBe(
      'the ECDSA key names another curve than its type',
    );
    expect(refuse(key('ecdsa-sha2-nistp256', 'nistp256', Buffer.alloc(33, 2)))).toBe(
      'the ECDSA point is not an uncompressed point on its curve',
    );
    expect(refuse(key('ssh-ed25519-cert-v01@openssh.com'))).toContain('SSH certificates are not accepted');
    expect(refuse(key('sk-ssh-ed25519@openssh.com'))).toBe(
      'security-key (sk-ssh-ed25519@openssh.com) signatures are not supported',
    );
    expect(refuse(key('ssh-dss'))).toBe('unknown SSH key type ssh-dss');
  });
});
