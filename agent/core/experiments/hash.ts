// GrowthBook's hashes (growthbook/growthbook packages/sdk-js/src/util.ts, MIT), written out so that
// a device needs no SDK and every runtime that follows GrowthBook's code splits devices alike:
//
//   v2: fnv1a32(String(fnv1a32(seed + value))) % 10000 / 10000     (10,000 buckets)
//   v1: fnv1a32(value + seed) % 1000 / 1000                          (1,000 buckets; biased, kept for namespaces)
//
// FNV-1a over UTF-16 code units (JavaScript's charCodeAt), as GrowthBook does; this differs from
// UTF-8 bytes (agent/core/rollout/bucket.ts) outside ASCII, which is one reason seeds and device
// ids must be ASCII (check.ts refuses others). test/core/experiments-hash.test.ts compares both
// versions with @growthbook/growthbook itself.

export type HashVersion = 1 | 2;

/** FNV-1a, 32 bits, over the UTF-16 code units of `text` (GrowthBook's hashFnv32a), unsigned. */
export function fnv1a32Utf16(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** GrowthBook's hash(seed, value, version): a number in [0, 1). */
export function gbHash(seed: string, value: string, version: HashVersion): number {
  if (version === 2) return (fnv1a32Utf16(String(fnv1a32Utf16(seed + value))) % 10000) / 10000;
  return (fnv1a32Utf16(value + seed) % 1000) / 1000;
}

/** Whether every character of `text` is ASCII (U+0000..U+007F). */
export function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}
