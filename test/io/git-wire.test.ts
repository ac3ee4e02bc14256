// What a remote sends, bounded before it is held: packs checked from their object headers
// (real packs written by git pack-objects, and hand-made hostile ones), advertisements read
// as a stream with a cap on refs and bytes.

import { deflateSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkPack,
  DEFAULT_WIRE_LIMITS,
  packOfResponse,
  readAdvertisement,
  readLsRefs,
} from '../../agent/io/git-wire.js';
import { makeRepo, run } from '../helpers/git.js';

const limits = { ...DEFAULT_WIRE_LIMITS, maxObjectBytes: 1 << 20, maxPackInflatedBytes: 4 << 20 };

/** A pack object header: type and size as git writes them. */
function header(type: number, size: number): Buffer {
  const bytes: number[] = [];
  let c = (type << 4) | (size & 15);
  size = Math.floor(size / 16);
  while (size > 0) {
    bytes.push(c | 0x80);
    c = size & 0x7f;
    size = Math.floor(size / 128);
  }
  bytes.push(c);
  return Buffer.from(bytes);
}

const varint = (n: number): Buffer => {
  const out: number[] = [];
  do {
    let c = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) c |= 0x80;
    out.push(c);
  } while (n > 0);
  return Buffer.from(out);
};

function pack(objects: Buffer[]): Buffer {
  const head = Buffer.alloc(12);
  head.write('PACK', 0, 'latin1');
  head.writeUInt32BE(2, 4);
  head.writeUInt32BE(objects.length, 8);
  const body = Buffer.concat([head, ...objects]);
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
}

const blob = (content: Buffer, declared = content.length): Buffer =>
  Buffer.concat([header(3, declared), deflateSync(content)]);

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
};

describe('checkPack', () => {
  it('accepts a real pack written by git, with deltas, and counts its objects', () => {
    const repo = makeRepo();
    for (let i = 0; i < 5; i++)
      repo.commit(`c${i}`, { file: 'config/big.yaml', content: `${'line of configuration\n'.repeat(400)}n: ${i}\n` });
    const objects = repo
      .git(['rev-list', '--objects', 'HEAD'])
      .split('\n')
      .map((l) => l.split(' ')[0])
      .join('\n');
    const bytes = run('git', ['pack-objects', '--stdout'], { cwd: repo.dir, input: `${objects}\n` });
    expect(checkPack(bytes, limits)).toBe(objects.split('\n').length);
  });

  it('an object larger than the limit is refused from its header, before it is inflated', () => {
    // 64 MiB of zeros is 64 KiB deflated: the header says 64 MiB, nothing is inflated
    const zeros = Buffer.alloc(64 * 1024 * 1024);
    const evil = pack([Buffer.concat([header(3, zeros.length), deflateSync(zeros)])]);
    expect(evil.length).toBeLessThan(128 * 1024);
    expect(codeOf(() => checkPack(evil, limits))).toBe('sync-object-too-large');
  });

  it('a header that lies about the size is caught while inflating, no further than the size it claims', () => {
    expect(codeOf(() => checkPack(pack([blob(Buffer.alloc(8 << 20), 10)]), limits))).toBe('sync-pack-invalid');
    expect(codeOf(() => checkPack(pack([blob(Buffer.from('abc'), 10)]), limits))).toBe('sync-pack-invalid');
  });

  it('a small delta that makes a huge object is refused from its target size', () => {
    const base = blob(Buffer.from('base'));
    // OFS_DELTA against the object 12 bytes back: source 4 bytes, target 1 GiB
    const delta = Buffer.concat([varint(4), varint(1 << 30), Buffer.from([0x90, 0x00])]);
    const ofs = Buffer.concat([header(6, delta.length), Buffer.from([base.length]), deflateSync(delta)]);
    expect(codeOf(() => checkPack(pack([base, ofs]), limits))).toBe('sync-object-too-large');
  });

  it('objects under the limit one by one but too many bytes together are refused', () => {
    const part = Buffer.alloc(900 * 1024, 1);
    expect(
      codeOf(() => checkPack(pack([0, 1, 2, 3, 4].map((i) => blob(Buffer.concat([part, Buffer.from([i])])))), limits)),
    ).toBe('sync-pack-too-large');
    expect(codeOf(() => checkPack(pack([blob(Buffer.from('x'))]), { ...limits, maxPackObjects: 0 }))).toBe(
      'sync-pack-too-large',
    );
  });

  it('the pack is found on side band 1 of an upload-pack answer', () => {
    const p = pack([blob(Buffer.from('hello'))]);
    const line = (b: Buffer): Buffer => Buffer.concat([Buffer.from((b.length + 4).toString(16).padStart(4, '0')), b]);
    const answer = Buffer.concat([
      line(Buffer.from('NAK\n')),
      line(Buffer.concat([Buffer.from([2]), Buffer.from('counting\n')])),
      line(Buffer.concat([Buffer.from([1]), p.subarray(0, 10)])),
      line(Buffer.concat([Buffer.from([1]), p.subarray(10)])),
      Buffer.from('0000'),
    ]);
    expect(packOfResponse(answer).equals(p)).toBe(true);
  });
});

describe('readAdvertisement', () => {
  const oid = 'a'.repeat(40);
  const line = (s: string): Buffer =>
    Buffer.concat([Buffer.from((Buffer.byteLength(s) + 4).toString(16).padStart(4, '0')), Buffer.from(s)]);
  async function* stream(refs: number, chunk = 64 * 1024): AsyncGenerator<Uint8Array> {
    let buf = Buffer.concat([
      line('# service=git-upload-pack\n'),
      Buffer.from('0000'),
      line(`${oid} HEAD\0multi_ack side-band-64k symref=HEAD:refs/heads/main\n`),
      line(`${oid} refs/heads/main\n`),
    ]);
    for (let i = 0; i < refs; i++) {
      buf = Buffer.concat([buf, line(`${oid} refs/heads/device/${i}\n`)]);
      if (buf.length > chunk) {
        yield buf;
        buf = Buffer.alloc(0);
      }
    }
    yield Buffer.concat([buf, Buffer.from('0000')]);
  }

  it('a protocol v2 answer is recognised; its ls-refs answer is read for the branch, bounded', async () => {
    async function* of(...parts: Buffer[]): AsyncGenerator<Uint8Array> {
      for (const p of parts) yield p;
    }
    expect(
      await readAdvertisement(
        of(line('version 2\n'), line('ls-refs=unborn\n'), line('fetch=shallow\n'), Buffer.from('0000')),
        'main',
        DEFAULT_WIRE_LIMITS,
      ),
    ).toMatchObject({ version: 2 });
    expect(
      await readLsRefs(
        of(line(`${'b'.repeat(40)} refs/heads/main-old\n`), line(`${oid} refs/heads/main\n`), Buffer.from('0000')),
        'main',
        DEFAULT_WIRE_LIMITS,
      ),
    ).toBe(oid);
    await expect(
      readLsRefs(
        of(...Array.from({ length: 11 }, () => line(`${oid} refs/heads/main\n`)), Buffer.from('0000')),
        'main',
        { maxRefs: 10, maxRefBytes: 1 << 20 },
      ),
    ).rejects.toMatchObject({ code: 'sync-too-many-refs' });
    // an answer cut short, or a v1 server's empty answer to a v2 request, says nothing about the branch
    await expect(readLsRefs(of(line(`${oid} refs/heads/main\n`)), 'main', DEFAULT_WIRE_LIMITS)).rejects.toThrow(
      /flush/,
    );
    await expect(readLsRefs(of(Buffer.from('0000')), 'main', DEFAULT_WIRE_LIMITS)).resolves.toBeUndefined();
  });

  it('keeps HEAD and the branch only', async () => {
    const ad = await readAdvertisement(stream(3), 'main', DEFAULT_WIRE_LIMITS);
    expect(ad).toMatchObject({ commit: oid, refs: 5 });
    expect(ad.filtered.toString('latin1')).not.toContain('refs/heads/device/');
    expect(ad.filtered.toString('latin1')).toContain('symref=HEAD:refs/heads/main');
  });

  it('500,000 refs are refused after the first 100,000, without reading the rest', async () => {
    let produced = 0;
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const c of stream(500_000)) {
        produced += c.length;
        yield c;
      }
    }
    await expect(readAdvertisement(counted(), 'main', DEFAULT_WIRE_LIMITS)).rejects.toMatchObject({
      code: 'sync-too-many-refs',
    });
    expect(produced).toBeLessThan(8 << 20);
    await expect(
      readAdvertisement(stream(20_000), 'main', { maxRefs: 100_000, maxRefBytes: 64 * 1024 }),
    ).rejects.toMatchObject({ code: 'sync-refs-too-large' });
  });
});
