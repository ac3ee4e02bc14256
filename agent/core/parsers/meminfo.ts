// /proc/meminfo: total and available memory ("available", not "free", is what can be used).

import { cleanOutput } from './text.js';

export interface Meminfo {
  format: 'meminfo' | 'unrecognised';
  totalMb: number | null;
  availableMb: number | null;
  raw: string;
}

export function parseMeminfo(raw: string): Meminfo {
  const text = cleanOutput(raw);
  const kb = (name: string): number | null => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Math.floor(Number(m[1]) / 1024) : null;
  };
  const totalMb = kb('MemTotal');
  return { format: totalMb === null ? 'unrecognised' : 'meminfo', totalMb, availableMb: kb('MemAvailable'), raw };
}
