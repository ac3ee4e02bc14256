// Jetson: /etc/nv_tegra_release and one line of tegrastats.

import { cleanOutput, parseNumber } from './text.js';

export interface TegraRelease {
  format: 'tegra-release' | 'unrecognised';
  l4tVersion: string | null;
  board: string | null;
  arch: string | null;
  raw: string;
}

export function parseTegraRelease(raw: string): TegraRelease {
  const text = cleanOutput(raw);
  const m = /^# R(\d+) \(release\), REVISION: ([\d.]+)/m.exec(text);
  if (!m) return { format: 'unrecognised', l4tVersion: null, board: null, arch: null, raw };
  return {
    format: 'tegra-release',
    l4tVersion: `${m[1]}.${m[2]}`,
    board: /BOARD: ([^,\s]+)/.exec(text)?.[1] ?? null,
    arch: /EABI: ([^,\s]+)/.exec(text)?.[1] ?? null,
    raw,
  };
}

/** The CUDA version an L4T release ships (JetPack 4: 10.2, 5: 11.4, 6: 12.2, 6.1+: 12.6). */
export function cudaForL4t(l4t: string): string | null {
  const [major, minor] = l4t.split('.').map(Number);
  if (major === 32) return '10.2';
  if (major === 35) return '11.4';
  if (major === 36) return (minor ?? 0) >= 4 ? '12.6' : '12.2';
  return null;
}

export interface Tegrastats {
  format: 'tegrastats' | 'unrecognised';
  ramUsedMB: number | null;
  ramTotalMB: number | null;
  swapUsedMB: number | null;
  swapTotalMB: number | null;
  gpuUtilPercent: number | null;
  temperaturesC: Record<string, number | null>;
  raw: string;
}

export function parseTegrastats(raw: string): Tegrastats {
  const line =
    cleanOutput(raw)
      .split('\n')
      .find((l) => /\bRAM \d+\/\d+MB/.test(l)) ?? '';
  const out: Tegrastats = {
    format: 'unrecognised',
    ramUsedMB: null,
    ramTotalMB: null,
    swapUsedMB: null,
    swapTotalMB: null,
    gpuUtilPercent: null,
    temperaturesC: {},
    raw,
  };
  if (!line) return out;
  out.format = 'tegrastats';
  const tokens = line.split(/\s+/);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const next = tokens[i + 1] ?? '';
    let m: RegExpExecArray | null;
    if (t === 'RAM' && (m = /^(\d+)\/(\d+)MB$/.exec(next)))
      [out.ramUsedMB, out.ramTotalMB] = [Number(m[1]), Number(m[2])];
    else if (t === 'SWAP' && (m = /^(\d+)\/(\d+)MB$/.exec(next)))
      [out.swapUsedMB, out.swapTotalMB] = [Number(m[1]), Number(m[2])];
    else if (t === 'GR3D_FREQ' && (m = /^(\d+)%/.exec(next))) out.gpuUtilPercent = Number(m[1]);
    else if ((m = /^([A-Za-z][A-Za-z0-9_]*)@(-?\d+(?:\.\d+)?)C$/.exec(t))) {
      const v = parseNumber(m[2]);
      out.temperaturesC[m[1]!] = v === null || v <= -256 ? null : v;
    }
  }
  return out;
}
