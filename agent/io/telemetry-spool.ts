// The telemetry batches that wait for the endpoint, kept in a file of the state directory so that
// a restart (an update, a power cut after a graceful stop, a crash while offline) does not lose
// what the device measured while it could not reach the endpoint. One file, written whole
// (writeFileAtomic): a 4-byte magic, then per batch its sample count and its length (unsigned
// 32-bit, big-endian) and its bytes (an encoded, snappy-compressed remote-write request).
// Reading is bounded: at most `maxBatches` batches of at most MAX_BATCH_BYTES each; a file that
// is too large, truncated or not ours is set aside as unreadable, never trusted in part.

import { readFileSync, rmSync, statSync } from 'node:fs';
import { writeFileAtomic } from './repo-files.js';

export interface SpooledBatch {
  body: Uint8Array;
  samples: number;
}

export interface TelemetrySpool {
  /** The batches kept, oldest first; [] when there are none; `problem` when the file could not be used. */
  load(): { batches: SpooledBatch[]; problem?: string };
  /** Keeps exactly these batches (none: the file is removed). */
  save(batches: readonly SpooledBatch[]): void;
}

const MAGIC = Buffer.from('DBT1');
/** One batch's most bytes: a device's metrics are a few KB compressed. */
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;

export function fileSpool(path: string, maxBatches: number): TelemetrySpool {
  return {
    load() {
      let size: number;
      try {
        size = statSync(path).size;
      } catch {
        return { batches: [] };
      }
      const unusable = (why: string): { batches: SpooledBatch[]; problem: string } => {
        rmSync(path, { force: true });
        return { batches: [], problem: `${path}: ${why}; its batches are dropped` };
      };
      if (size > MAGIC.length + maxBatches * (8 + MAX_BATCH_BYTES))
        return unusable(`${size} bytes, more than ${maxBatches} batches`);
      const bytes = readFileSync(path);
      if (bytes.length < MAGIC.length || !bytes.subarray(0, MAGIC.length).equals(MAGIC))
        return unusable('not a telemetry spool');
      const batches: SpooledBatch[] = [];
      let at = MAGIC.length;
      while (at < bytes.length) {
        if (at + 8 > bytes.length) return unusable('truncated');
        const samples = bytes.readUInt32BE(at);
        const length = bytes.readUInt32BE(at + 4);
        at += 8;
        if (length > MAX_BATCH_BYTES || at + length > bytes.length) return unusable('truncated or oversized batch');
        batches.push({ samples, body: new Uint8Array(bytes.subarray(at, at + length)) });
        at += length;
      }
      return { batches: batches.slice(-maxBatches) };
    },
    save(batches) {
      if (batches.length === 0) return void rmSync(path, { force: true });
      const parts: Buffer[] = [MAGIC];
      for (const b of batches) {
        const head = Buffer.alloc(8);
        head.writeUInt32BE(b.samples, 0);
        head.writeUInt32BE(b.body.length, 4);
        parts.push(head, Buffer.from(b.body));
      }
      writeFileAtomic(path, Buffer.concat(parts), 0o600);
    },
  };
}
