// Every object in ../shared/vectors/git-signatures yields the verdict real `git verify-commit`
// recorded (ACCEPT = trusted, REJECT:x = x), from the raw object bytes; the payload we cut is
// byte-for-byte the one git printed.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllowedSigners } from '../../../agent/core/trust/allowed-signers.js';
import { splitCommit, splitTag } from '../../../agent/core/trust/git-object.js';
import { readTrustedKeys } from '../../../agent/core/trust/openpgp-verify.js';
import { verifyCommitObject, verifyTagObject } from '../../../agent/core/trust/verify-object.js';
import type { TrustStore } from '../../../agent/core/trust/verify-object.js';
import { hasSignatureVectors, SIGNATURE_VECTORS } from '../../helpers/shared.js';

interface Entry {
  kind: 'commit' | 'tag';
  oid: string;
  refs: string[];
  expected: string;
  why: string;
}
const V = SIGNATURE_VECTORS;
const NOW = Date.parse('2026-11-27T12:00:00Z') / 1000;
const opts = { now: NOW, skewSeconds: 300 };
const expectedVerdict = (e: string): string => (e === 'ACCEPT' ? 'trusted' : e.replace(/^REJECT:/, ''));

async function store(signersFile: string, ascFiles: string[]): Promise<TrustStore> {
  const { signers, problems } = parseAllowedSigners(readFileSync(signersFile, 'utf8'), signersFile);
  const pgpKeys = (await Promise.all(ascFiles.map((f) => readTrustedKeys(readFileSync(f, 'utf8'), f)))).flatMap(
    (r) => r.keys,
  );
  return { signers, pgpKeys, problems };
}

describe.skipIf(!hasSignatureVectors)('vector set A: objects', () => {
  const manifest = hasSignatureVectors
    ? (JSON.parse(readFileSync(join(V, 'manifest.json'), 'utf8')) as { entries: Entry[] })
    : { entries: [] };
  const objects = manifest.entries.filter((e) => !(e.kind === 'tag' && e.refs.includes('refs/tags/v1.0-lightweight')));

  it.each(objects.map((e) => [`${e.kind} ${e.oid.slice(0, 12)} ${e.refs[0] ?? ''}`, e] as const))(
    '%s',
    async (_name, e) => {
      const trust = await store(join(V, 'allowed_signers'), [join(V, 'trusted-openpgp.asc')]);
      const raw = readFileSync(join(V, 'objects', `${e.oid}.${e.kind}`));
      const tagRef = e.refs.find((r) => r.startsWith('refs/tags/'));
      const v =
        e.kind === 'commit'
          ? await verifyCommitObject(e.oid, e.oid, raw, trust, opts)
          : await verifyTagObject(e.oid, e.oid, raw, trust, opts, tagRef ? { name: tagRef.slice(10) } : {});
      expect(v.verdict, `${e.why}: ${v.reason}`).toBe(expectedVerdict(e.expected));
      if (v.verdict === 'trusted') expect(v.signer).toBeTruthy();
    },
  );

  it.each(objects.map((e) => [e.oid.slice(0, 12), e] as const))(
    'payload and signature of %s are cut byte for byte as git does',
    (_n, e) => {
      const raw = readFileSync(join(V, 'objects', `${e.oid}.${e.kind}`));
      const split = e.kind === 'commit' ? splitCommit(raw) : splitTag(raw);
      let payload: Buffer | undefined;
      try {
        payload = readFileSync(join(V, 'payloads', `${e.oid}.payload`));
      } catch {
        payload = undefined; // unsigned objects have none recorded
      }
      if (payload) {
        expect(split.payload.equals(payload)).toBe(true);
        expect(split.signature).toBe(readFileSync(join(V, 'payloads', `${e.oid}.sig`), 'latin1'));
      } else {
        expect(split.signature).toBeNull();
      }
    },
  );
});

describe.skipIf(!hasSignatureVectors)('real-world commits (GitHub web-flow, developer SSH)', () => {
  const R = join(V, 'realworld');
  const manifest = hasSignatureVectors ? (JSON.parse(readFileSync(join(R, 'manifest.json'), 'utf8')) as unknown) : [];
  const entries = (
    Array.isArray(manifest) ? manifest : ((manifest as { entries?: unknown[] }).entries ?? [])
  ) as Array<{ oid: string; expected: string }>;

  it('has its manifest', () => {
    expect(entries.length).toBe(8);
  });

  it.each(entries.map((e) => [e.oid.slice(0, 12), e] as const))('%s with GitHub web-flow trusted', async (_n, e) => {
    const trust = await store(join(R, 'allowed_signers_realworld'), [join(R, 'github-web-flow.asc')]);
    const v = await verifyCommitObject(e.oid, e.oid, readFileSync(join(R, 'objects', `${e.oid}.commit`)), trust, opts);
    const want = /^ACCEPT/.test(e.expected)
      ? 'trusted'
      : /key-not-valid/.test(e.expected)
        ? 'key-not-valid'
        : 'untrusted-key';
    expect(v.verdict, v.reason).toBe(want);
  });

  it.each(entries.map((e) => [e.oid.slice(0, 12), e] as const))(
    '%s without web-flow trusted: forge commits are untrusted or expired',
    async (_n, e) => {
      const trust = await store(join(R, 'allowed_signers_realworld'), []);
      const v = await verifyCommitObject(
        e.oid,
        e.oid,
        readFileSync(join(R, 'objects', `${e.oid}.commit`)),
        trust,
        opts,
      );
      if (e.expected.startsWith('ACCEPT (with allowed_signers')) expect(v.verdict).toBe('trusted');
      else expect(v.verdict, v.reason).toBe('untrusted-key');
    },
  );

  it.each(entries.filter((e) => /key-not-valid/.test(e.expected)).map((e) => [e.oid.slice(0, 12), e] as const))(
    '%s by the expired web-flow key verifies when judged at its committer time (an older commit of a range); a bogus hash prefix is ignored, as gpg does',
    async (_n, e) => {
      const trust = await store(join(R, 'allowed_signers_realworld'), [join(R, 'github-web-flow.asc')]);
      const v = await verifyCommitObject(
        e.oid,
        e.oid,
        readFileSync(join(R, 'objects', `${e.oid}.commit`)),
        trust,
        opts,
        'committed',
      );
      expect(v.verdict, v.reason).toBe('trusted');
    },
  );

  it('web-flow payloads (no trailing newline, empty continuation line) are cut exactly', () => {
    for (const e of entries) {
      const split = splitCommit(readFileSync(join(R, 'objects', `${e.oid}.commit`)));
      expect(split.payload.equals(readFileSync(join(R, 'payloads', `${e.oid}.payload`)))).toBe(true);
    }
  });
});
