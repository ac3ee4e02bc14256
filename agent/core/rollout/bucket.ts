// A device's bucket: where in [0, 1) it falls for an environment's rollout (DESIGN.md section 10).
//
//   bucket(seed, id) = fmix32(fnv1a32(utf8(seed + ":" + id))) / 2^32
//
// FNV-1a (32 bits: offset basis 0x811c9dc5, prime 0x01000193) over the UTF-8 bytes, then the
// 32-bit finalizer of MurmurHash3 (fmix32), so that ids that differ in their last characters
// (door-001, door-002, ...) spread evenly: plain FNV-1a leaves the bucket of such ids visibly
// uneven. Both are public and a few lines each; test/core/rollout.test.ts pins known values.

const encoder = new TextEncoder();

/** FNV-1a, 32 bits, of the UTF-8 bytes of `text`, as an unsigned integer. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of encoder.encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** MurmurHash3's 32-bit finalizer: every input bit changes each output bit with probability about 1/2. */
export function fmix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The device's bucket in [0, 1): a pure function of the environment's seed and the device id. */
export function bucketOf(seed: string, deviceId: string): number {
  return fmix32(fnv1a32(`${seed}:${deviceId}`)) / 2 ** 32;
}
