// What a remote says over smart HTTP, bounded before it is held: the ref advertisement read as
// a stream of pkt-lines (only the branch followed and HEAD are kept, the number and the bytes
// of refs are capped; a protocol v2 remote is asked for the branch alone with ls-refs), and a
// pack checked from its object headers (each object's inflated size, a delta's target size,
// their total) before isomorphic-git inflates or indexes anything.

import { inflateSync } from 'node:zlib';
import type { ZlibOptions } from 'node:zlib';
import { GitopsError } from '../core/errors.js';
import { formatSize } from '../core/format/size.js';

export interface WireLimits {
  /** Refs in the advertisement (each peeled tag line counts). */
  maxRefs: number;
  /** Bytes of the whole advertisement. */
  maxRefBytes: number;
  /** Inflated size of one object (a delta: the object it makes). */
  maxObjectBytes: number;
  /** Inflated size of all objects of one pack together. */
  maxPackInflatedBytes: number;
  /** Objects in one pack. */
  maxPackObjects: number;
}

export const DEFAULT_WIRE_LIMITS: WireLimits = {
  maxRefs: 100_000,
  maxRefBytes: 8 * 1024 * 1024,
  maxObjectBytes: 16 * 1024 * 1024,
  maxPackInflatedBytes: 256 * 1024 * 1024,
  maxPackObjects: 1_000_000,
};

const MAX_PKT = 65520;

/** Splits a byte stream into pkt-line payloads (null for a flush, delim or end packet), holding at most one packet. */
export async function* pktLines(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer | null> {
  let buf = Buffer.alloc(0);
  for await (const chunk of chunks) {
    buf = buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([buf, chunk]);
    for (;;) {
      if (buf.length < 4) break;
      const hex = buf.subarray(0, 4).toString('latin1');
      if (!/^[0-9a-f]{4}$/.test(hex)) throw new Error('the answer is not a git pkt-line stream');
      const len = parseInt(hex, 16);
      if (len < 4) {
        buf = buf.subarray(4);
        yield null;
        continue;
      }
      if (len > MAX_PKT) throw new Error(`a pkt-line of ${len} bytes (at most ${MAX_PKT})`);
      if (buf.length < len) break;
      const payload = buf.subarray(4, len);
      buf = buf.subarray(len);
      yield payload;
    }
  }
  if (buf.length > 0) throw new Error('the answer ends inside a pkt-line');
}

const pkt = (s: string | Buffer): Buffer => {
  const b = typeof s === 'string' ? Buffer.from(s) : s;
  return Buffer.concat([Buffer.from((b.length + 4).toString(16).padStart(4, '0')), b]);
};

const REFS_HINT = 'the configuration repository should hold few branches and tags; the agent only follows one branch';
const tooManyRefs = (max: number): GitopsError =>
  new GitopsError('sync-too-many-refs', `the remote advertised more than ${max} refs`, REFS_HINT);

/** The chunks of a ref listing, throwing once they pass `max` bytes. */
async function* refBytesCapped(chunks: AsyncIterable<Uint8Array>, max: number): AsyncGenerator<Uint8Array> {
  let bytes = 0;
  for await (const c of chunks) {
    bytes += c.length;
    if (bytes > max)
      throw new GitopsError(
        'sync-refs-too-large',
        `the remote advertised more than ${formatSize(max)} of refs`,
        REFS_HINT,
      );
    yield c;
  }
}

export interface Advertisement {
  /** 2: the remote speaks protocol v2 (it sent capabilities, no refs: ask with lsRefsRequest). */
  version: 1 | 2;
  /** The commit the branch points at, or undefined when the remote has no such branch. */
  commit: string | undefined;
  /** The advertisement as isomorphic-git reads it, with only HEAD and the branch in it. */
  filtered: Buffer;
  refs: number;
}

/**
 * Reads an upload-pack ref advertisement (protocol v0/v1) from a stream: counts every ref and
 * byte against the limits (throwing as soon as one is passed) and keeps only HEAD and
 * `refs/heads/<branch>`. A protocol v2 capability advertisement is recognised (version 2).
 */
export async function readAdvertisement(
  chunks: AsyncIterable<Uint8Array>,
  branch: string,
  limits: Pick<WireLimits, 'maxRefs' | 'maxRefBytes'>,
): Promise<Advertisement> {
  const want = `refs/heads/${branch}`;
  let refs = 0;
  let caps: string | undefined;
  const kept: Array<[string, string]> = [];
  let service = false;
  let done = false;
  let v2 = false;
  for await (const line of pktLines(refBytesCapped(chunks, limits.maxRefBytes))) {
    if (done) continue;
    if (line === null) {
      if (service) {
        service = false;
        continue;
      }
      done = true;
      continue;
    }
    let text = line.toString('latin1');
    if (refs === 0 && caps === undefined && text.startsWith('# service=')) {
      service = true;
      continue;
    }
    if (text.endsWith('\n')) text = text.slice(0, -1);
    if (v2 || (refs === 0 && caps === undefined && text === 'version 2')) {
      v2 = true; // capabilities follow, up to a flush; read to the end all the same
      continue;
    }
    const nul = text.indexOf('\0');
    if (nul >= 0) {
      caps ??= text.slice(nul + 1);
      text = text.slice(0, nul);
    }
    const m = /^([0-9a-f]{40}) (\S+)$/.exec(text);
    if (!m) throw new Error(`unexpected line in the ref advertisement: ${JSON.stringify(text.slice(0, 60))}`);
    if (m[2] === 'capabilities^{}') continue;
    refs++;
    if (refs > limits.maxRefs) throw tooManyRefs(limits.maxRefs);
    if (m[2] === 'HEAD' || m[2] === want) kept.push([m[1]!, m[2]!]);
  }
  if (v2) return { version: 2, commit: undefined, filtered: Buffer.alloc(0), refs: 0 };
  if (caps === undefined) throw new Error('the ref advertisement has no capabilities line');
  const commit = kept.find(([, r]) => r === want)?.[0];
  const lines = kept.map(([oid, ref], i) => pkt(i === 0 ? `${oid} ${ref}\0${caps}\n` : `${oid} ${ref}\n`));
  if (lines.length === 0) lines.push(pkt(`${'0'.repeat(40)} capabilities^{}\0${caps}\n`));
  const filtered = Buffer.concat([
    pkt('# service=git-upload-pack\n'),
    Buffer.from('0000'),
    ...lines,
    Buffer.from('0000'),
  ]);
  return { version: 1, commit, filtered, refs };
}

/** A protocol v2 ls-refs request for the branch alone: the remote filters, however many refs it has. */
export function lsRefsRequest(branch: string): Buffer {
  return Buffer.concat([
    pkt('command=ls-refs\n'),
    Buffer.from('0001'),
    pkt(`ref-prefix refs/heads/${branch}\n`),
    Buffer.from('0000'),
  ]);
}

/** Reads an ls-refs answer, bounded like an advertisement; returns the branch's commit. */
export async function readLsRefs(
  chunks: AsyncIterable<Uint8Array>,
  branch: string,
  limits: Pick<WireLimits, 'maxRefs' | 'maxRefBytes'>,
): Promise<string | undefined> {
  const want = `refs/heads/${branch}`;
  let refs = 0;
  let commit: string | undefined;
  for await (const line of pktLines(refBytesCapped(chunks, limits.maxRefBytes))) {
    // a v2 answer ends with a flush; one cut short (or a v1 server's empty answer) is no answer
    if (line === null) return commit;
    const m = /^([0-9a-f]{40}) (\S+)/.exec(line.toString('latin1'));
    if (!m)
      throw new Error(`unexpected line in the ls-refs answer: ${JSON.stringify(line.toString('latin1').slice(0, 60))}`);
    if (++refs > limits.maxRefs) throw tooManyRefs(limits.maxRefs);
    if (m[2] === want) commit = m[1];
  }
  throw new Error('the ls-refs answer ended before its flush packet');
}

/** The pack of an upload-pack response: side band 1, or the raw bytes after the ACK/NAK lines without side band (empty when there is none). */
export function packOfResponse(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let banded = false;
  let pos = 0;
  while (pos + 4 <= body.length) {
    const hex = body.subarray(pos, pos + 4).toString('latin1');
    if (hex === 'PACK' && !banded) return body.subarray(pos);
    if (!/^[0-9a-f]{4}$/.test(hex)) throw new Error('the pack response is not a git pkt-line stream');
    const len = parseInt(hex, 16);
    if (len < 4) {
      pos += 4;
      continue;
    }
    if (pos + len > body.length) throw new Error('the pack response ends inside a pkt-line');
    const line = body.subarray(pos + 4, pos + len);
    pos += len;
    if (!banded && /^(ACK |NAK|shallow |unshallow |ERR )/.test(line.subarray(0, 10).toString('latin1'))) continue;
    banded = true;
    if (line[0] === 1) parts.push(line.subarray(1));
    else if (line[0] === 3) break; // the server's error: isomorphic-git reports it
  }
  return Buffer.concat(parts);
}

const invalid = (why: string): GitopsError =>
  new GitopsError(
    'sync-pack-invalid',
    `the remote sent a pack that cannot be read: ${why}`,
    'the agent keeps the running configuration and retries with backoff',
  );

/** Reads a size varint of a delta (little-endian base 128) at `pos`. */
function deltaSize(b: Buffer, pos: number): [number, number] {
  let size = 0;
  let shift = 0;
  for (;;) {
    if (pos >= b.length || shift > 49) throw invalid('a delta header is cut short');
    const c = b[pos++]!;
    size += (c & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(c & 0x80)) return [size, pos];
  }
}

/**
 * Checks a pack against the limits from its headers: each object's declared size is checked
 * before it is inflated, then inflated no further than that size (a header that lies is caught),
 * a delta's target size is read from its first bytes. Returns the number of objects.
 */
export function checkPack(
  pack: Buffer,
  limits: Pick<WireLimits, 'maxObjectBytes' | 'maxPackInflatedBytes' | 'maxPackObjects'>,
): number {
  if (pack.length === 0) return 0;
  if (pack.length < 32 || pack.subarray(0, 4).toString('latin1') !== 'PACK') throw invalid('no PACK header');
  const version = pack.readUInt32BE(4);
  if (version !== 2 && version !== 3) throw invalid(`version ${version}`);
  const count = pack.readUInt32BE(8);
  if (count > limits.maxPackObjects)
    throw new GitopsError(
      'sync-pack-too-large',
      `the remote sent a pack of ${count} objects (at most ${limits.maxPackObjects})`,
      'the configuration repository should be small; the agent keeps the running configuration',
    );
  const tooLarge = (size: number): GitopsError =>
    new GitopsError(
      'sync-object-too-large',
      `the remote sent an object of ${formatSize(size)}; objects are limited to ${formatSize(limits.maxObjectBytes)}`,
      'keep bulk data out of the configuration repository; the agent keeps the running configuration',
    );
  let pos = 12;
  let total = 0;
  const end = pack.length - 20;
  for (let i = 0; i < count; i++) {
    if (pos >= end) throw invalid('it ends before its last object');
    let c = pack[pos++]!;
    const type = (c >> 4) & 7;
    let size = c & 15;
    let shift = 4;
    while (c & 0x80) {
      if (pos >= end || shift > 49) throw invalid('an object header is cut short');
      c = pack[pos++]!;
      size += (c & 0x7f) * 2 ** shift;
      shift += 7;
    }
    if (type === 6) {
      while (pos < end && pack[pos++]! & 0x80);
    } else if (type === 7) {
      pos += 20;
    } else if (type < 1 || type > 4) {
      throw invalid(`object type ${type}`);
    }
    if (size > limits.maxObjectBytes) throw tooLarge(size);
    let out: { buffer: Buffer; engine: { bytesWritten: number } };
    try {
      out = inflateSync(pack.subarray(pos, end), {
        info: true,
        maxOutputLength: Math.max(size, 1),
      } as ZlibOptions) as unknown as typeof out;
    } catch (e) {
      throw invalid(
        (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE'
          ? `an object inflates to more than the ${size} bytes its header says`
          : `an object does not inflate (${(e as Error).message})`,
      );
    }
    if (out.buffer.length !== size)
      throw invalid(`an object inflates to ${out.buffer.length} bytes, its header says ${size}`);
    let made = size;
    if (type >= 6) {
      const [, next] = deltaSize(out.buffer, 0);
      [made] = deltaSize(out.buffer, next);
      if (made > limits.maxObjectBytes) throw tooLarge(made);
    }
    total += made;
    if (total > limits.maxPackInflatedBytes)
      throw new GitopsError(
        'sync-pack-too-large',
        `the remote sent a pack that inflates to more than ${formatSize(limits.maxPackInflatedBytes)}`,
        'the configuration repository should be small; the agent keeps the running configuration',
      );
    pos += out.engine.bytesWritten;
  }
  return count;
}
