// Durations as people write and read them: `90s`, `30m`, `2h`, `1h30m`, `1d` (core/tunables/ttl.ts
// reads them), and the remaining time of a lease shown the same way.

import { GitopsError } from '../errors.js';
import { parseTtl } from '../tunables/ttl.js';

/** Seconds of a duration given on the command line (`--ttl 30m`); a bad one is a usage error saying how to write it. */
export function parseDuration(text: string, flag = '--ttl'): number {
  const seconds = parseTtl(text);
  if (seconds === undefined || !Number.isSafeInteger(seconds))
    throw new GitopsError(
      'usage',
      `${flag} ${JSON.stringify(text.slice(0, 40))} is not a duration`,
      'write a positive number of seconds or of s, m, h and d, e.g. 90s, 30m, 2h, 1h30m, 1d',
    );
  return seconds;
}

/** Seconds as a duration, largest units first, at most two of them: `45s`, `29m59s`, `1h30m`, `2d3h`; 0 is `0s`. */
export function formatDuration(seconds: number): string {
  let s = Math.max(0, Math.round(seconds));
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(s / size);
    s -= n * size;
    if (n > 0 || (parts.length > 0 && parts.length < 2)) parts.push(`${n}${unit}`);
    if (parts.length === 2) break;
  }
  // `1h0m` reads better as `1h`
  const shown = parts.filter((p, i) => i === 0 || !p.startsWith('0'));
  return shown.length > 0 ? shown.join('') : '0s';
}

/** How long from `now` (ms since the epoch) until an ISO time: `29m59s left`, or `expired` when it has passed. */
export function remaining(until: string, now: number): string {
  const ms = Date.parse(until) - now;
  if (Number.isNaN(ms)) return '?';
  return ms <= 0 ? 'expired' : `${formatDuration(Math.ceil(ms / 1000))} left`;
}
