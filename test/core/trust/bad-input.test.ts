// Corrupt objects, truncated or garbage signatures, unknown key types, broken allowed_signers
// lines: a verdict or a clear problem, never a crash and never trusted.

import { generateKeyPairSync, sign as cryptoSign, createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { matchPatternList, parseAllowedSigners, parseSignerTime } from '../../../agent/core/trust/allowed-signers.js';
import { parseSshSignature, verifySshSignature } from '../../../agent/core/trust/sshsig.js';
import type { SshSignature } from '../../../agent/core/trust/sshsig.js';
import { sshString } from '../../../agent/core/trust/ssh-wire.js';
import { verifyCommitObject, verifyTagObject } from '../../../agent/core/trust/verify-object.js';
import type { TrustStore } from '../../../agent/core/trust/verify-object.js';

const empty: TrustStore = { signers: [], pgpKeys: [], problems: [] };
const opts = { now: 1_800_000_000, skewSeconds: 300 };
const commit = (extraHeader: string): Buffer =>
  Buffer.from(
    `tree ${'a'.repeat(40)}\nauthor A <a@x> 1700000000 +0000\ncommitter A <a@x> 1700000000 +0000\n${extraHeader}\n\nmessage\n`,
    'latin1',
  );
const sshArmor = (b64: string): string => `gpgsig -----BEGIN SSH SIGNATURE-----\n ${b64}\n -----END SSH SIGNATURE-----`;

describe('objects that are not what they claim', () => {
  it('corrupt or truncated commits are malformed', async () => {
    expect((await verifyCommitObject('x', 'x', Buffer.from('tree nothing\n\nmsg'), empty, opts)).verdict).toBe(
      'malformed',
    );
    expect((await verifyCommitObject('x', 'x', Buffer.from([0xff, 0x00, 0x12]), empty, opts)).verdict).toBe(
      'malformed',
    );
    expect((await verifyCommitObject('x', 'x', Buffer.from(''), empty, opts)).verdict).toBe('malformed');
    const crInHeader = Buffer.from(
      `tree ${'a'.repeat(40)}\r\nauthor A <a@x> 1 +0000\ncommitter A <a@x> 1 +0000\n\nm\n`,
    );
    expect((await verifyCommitObject('x', 'x', crInHeader, empty, opts)).verdict).toBe('malformed');
  });

  it('garbage base64, a truncated blob, a wrong magic: malformed with a reason', async () => {
    for (const [b64, reason] of [
      ['!!!not-base64!!!', 'not valid base64'],
      ['U1NIU0lH', 'truncated'],
      [Buffer.from('NOTSIG\0\0\0\x01').toString('base64'), 'lacks the SSHSIG magic'],
      [Buffer.concat([Buffer.from('SSHSIG'), Buffer.from([0, 0, 0, 2])]).toString('base64'), 'version 2'],
    ] as const) {
      const v = await verifyCommitObject('x', 'x', commit(sshArmor(b64)), empty, opts);
      expect(v.verdict).toBe('malformed');
      expect(v.reason).toContain(reason);
    }
  });

  it('an unknown armor is malformed, X.509 is refused, a tag without END is malformed', async () => {
    expect(
      (
        await verifyCommitObject(
          'x',
          'x',
          commit('gpgsig -----BEGIN SOMETHING-----\n x\n -----END SOMETHING-----'),
          empty,
          opts,
        )
      ).verdict,
    ).toBe('malformed');
    expect(
      (
        await verifyCommitObject(
          'x',
          'x',
          commit('gpgsig -----BEGIN SIGNED MESSAGE-----\n x\n -----END SIGNED MESSAGE-----'),
          empty,
          opts,
        )
      ).verdict,
    ).toBe('untrusted-key');
    const tag = Buffer.from(
      `object ${'b'.repeat(40)}\ntype commit\ntag v1\ntagger T <t@x> 1700000000 +0000\n\nmsg\n-----BEGIN SSH SIGNATURE-----\nAAAA\n`,
    );
    expect(await verifyTagObject('t', 't', tag, empty, opts)).toMatchObject({
      verdict: 'malformed',
      reason: 'the tag signature has no END line',
    });
  });

  it('an unsupported key type inside a signature is untrusted; a key that does not decode is malformed; never trusted', async () => {
    const sigOf = (key: Buffer): string =>
      Buffer.concat([
        Buffer.from('SSHSIG'),
        Buffer.from([0, 0, 0, 1]),
        sshString(key),
        sshString('git'),
        sshString(''),
        sshString('sha512'),
        sshString(Buffer.concat([sshString('ssh-dss'), sshString(Buffer.alloc(40))])),
      ]).toString('base64');
    const dsa = Buffer.concat([sshString('ssh-dss'), ...[1, 2, 3, 4].map((n) => sshString(Buffer.from([n])))]);
    expect((await verifyCommitObject('x', 'x', commit(sshArmor(sigOf(dsa))), empty, opts)).verdict).toBe(
      'untrusted-key',
    );
    for (const key of [
      sshString('ssh-dss'),
      Buffer.concat([dsa, Buffer.from([0])]),
      Buffer.concat([sshString('ssh-foo'), sshString('x')]),
    ]) {
      expect((await verifyCommitObject('x', 'x', commit(sshArmor(sigOf(key))), empty, opts)).verdict).toBe('malformed');
    }
  });
});

describe('SSHSIG details', () => {
  it('rsa-sha2-256 verifies; legacy ssh-rsa (SHA-1) is refused', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = publicKey.export({ format: 'jwk' });
    const mp = (b64u: string): Buffer => {
      const b = Buffer.from(b64u, 'base64url');
      return b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b;
    };
    const keyBlob = Buffer.concat([sshString('ssh-rsa'), sshString(mp(jwk.e!)), sshString(mp(jwk.n!))]);
    const payload = Buffer.from('tree x\n\nhello\n');
    const signed = Buffer.concat([
      Buffer.from('SSHSIG'),
      sshString('git'),
      sshString(''),
      sshString('sha256'),
      sshString(createHash('sha256').update(payload).digest()),
    ]);
    const sig = (alg: string, hash: string): SshSignature => ({
      publicKey: keyBlob,
      keyType: 'ssh-rsa',
      namespace: 'git',
      reserved: Buffer.alloc(0),
      hashAlgorithm: 'sha256',
      signatureAlgorithm: alg,
      signature: cryptoSign(hash, signed, privateKey),
    });
    expect(verifySshSignature(sig('rsa-sha2-256', 'sha256'), payload)).toEqual({ ok: true });
    expect(verifySshSignature(sig('rsa-sha2-256', 'sha256'), Buffer.from('tree x\n\nhellO\n'))).toEqual({ ok: false });
    expect(verifySshSignature(sig('ssh-rsa', 'sha1'), payload).problem).toMatch(/SHA-1 ssh-rsa is forbidden/);
  });

  it('an armor with trailing bytes in its blob is refused', () => {
    const blob = Buffer.concat([
      Buffer.from('SSHSIG'),
      Buffer.from([0, 0, 0, 1]),
      sshString(sshString('ssh-ed25519')),
      sshString('git'),
      sshString(''),
      sshString('sha512'),
      sshString(Buffer.concat([sshString('ssh-ed25519'), sshString(Buffer.alloc(64))])),
      Buffer.from([1]),
    ]);
    expect(
      parseSshSignature(`-----BEGIN SSH SIGNATURE-----\n${blob.toString('base64')}\n-----END SSH SIGNATURE-----\n`),
    ).toEqual({ ok: false, problem: 'the SSH signature blob has trailing bytes' });
  });
});

describe('allowed_signers', () => {
  const key = 'AAAAC3NzaC1lZDI1NTE5AAAAIFrbF6dp8TiVghsZkyrhBCOtUupRzYbD/Ii1kF8Zft9U';
  it('reports each bad line with its number and keeps the good ones', () => {
    const text = [
      '# team keys',
      '',
      `alice@example.test namespaces="git" ssh-ed25519 ${key}`,
      'bob@example.test',
      `carol@example.test ssh-foo ${key}`,
      `dave@example.test ssh-ed25519 !!!`,
      `erin@example.test valid-after="2026-01-01" ssh-ed25519 ${key}`,
      `frank@example.test ssh-rsa ${key}`,
      `gina@example.test bogus-option ssh-ed25519 ${key}`,
    ].join('\n');
    const { signers, problems } = parseAllowedSigners(text, 'allowed_signers');
    expect(signers.map((s) => s.principals)).toEqual(['alice@example.test']);
    expect(problems.map((p) => [p.line, p.message])).toEqual([
      [4, 'expected "principals [options] key-type base64-key"'],
      [5, 'unknown key type "ssh-foo"'],
      [6, 'the key is not valid base64'],
      [7, 'valid-after="2026-01-01" is not YYYYMMDD[HHMM[SS]][Z]'],
      [8, 'the key data is not a ssh-rsa key'],
      [9, 'unknown option "bogus-option"'],
    ]);
  });

  it('reads validity times and pattern lists as OpenSSH does', () => {
    expect(parseSignerTime('20260301Z')).toBe(Date.UTC(2026, 2, 1) / 1000);
    expect(parseSignerTime('202603011230Z')).toBe(Date.UTC(2026, 2, 1, 12, 30) / 1000);
    expect(parseSignerTime('2026')).toBeUndefined();
    expect(matchPatternList('git', 'file,git')).toBe(true);
    expect(matchPatternList('git', 'g*')).toBe(true);
    expect(matchPatternList('git', '*,!git')).toBe(false);
    expect(matchPatternList('git', 'file')).toBe(false);
  });
});
