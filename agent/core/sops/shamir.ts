// Shamir secret sharing over GF(2^8) with the AES polynomial, as sops does for key groups:
// byte-wise, shares evaluated at x = group index + 1, each share = 32 y-bytes then the x byte.

import { randomBytes } from 'node:crypto';

const EXP = new Uint8Array(510);
const LOG = new Uint8Array(256);
{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    x ^= (x << 1) ^ (x & 0x80 ? 0x11b : 0); // multiply by the generator 3 (x+1), reduce by 0x11B
    x &= 0xff;
  }
  for (let i = 255; i < 510; i++) EXP[i] = EXP[i - 255]!;
}

const mul = (a: number, b: number): number => (a === 0 || b === 0 ? 0 : EXP[LOG[a]! + LOG[b]!]!);
const div = (a: number, b: number): number => (a === 0 ? 0 : EXP[(LOG[a]! - LOG[b]! + 255) % 255]!);

export function splitSecret(secret: Uint8Array, parts: number, threshold: number): Buffer[] {
  if (threshold < 2 || threshold > parts || parts > 255)
    throw new RangeError('shamir: need 2 <= threshold <= parts <= 255');
  const shares = Array.from({ length: parts }, (_, i) => {
    const s = Buffer.alloc(secret.length + 1);
    s[secret.length] = i + 1;
    return s;
  });
  for (let b = 0; b < secret.length; b++) {
    const coeffs = [secret[b]!, ...randomBytes(threshold - 1)];
    for (const share of shares) {
      const x = share[secret.length]!;
      let y = 0;
      for (let c = coeffs.length - 1; c >= 0; c--) y = mul(y, x) ^ coeffs[c]!;
      share[b] = y;
    }
  }
  return shares;
}

export function combineShares(shares: readonly Uint8Array[]): Buffer {
  const len = shares[0]!.length - 1;
  const xs = shares.map((s) => s[len]!);
  if (new Set(xs).size !== xs.length) throw new RangeError('shamir: duplicate shares');
  const out = Buffer.alloc(len);
  for (let b = 0; b < len; b++) {
    let acc = 0;
    shares.forEach((s, i) => {
      let basis = 1;
      xs.forEach((xj, j) => {
        if (j !== i) basis = mul(basis, div(xj, xj ^ xs[i]!));
      });
      acc ^= mul(s[b]!, basis);
    });
    out[b] = acc;
  }
  return out;
}
