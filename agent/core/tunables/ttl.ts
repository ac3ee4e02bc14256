// A lease's time to live as people write it: `90s`, `30m`, `2h`, `1h30m`, `1d`, or seconds.

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Seconds of a duration such as `30m` or `1h30m` (a bare number is seconds); undefined when it is none. */
export function parseTtl(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isInteger(text) && text > 0 ? text : undefined;
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(t) > 0 ? Number(t) : undefined;
  if (!/^(\d+[smhd])+$/.test(t)) return undefined;
  let total = 0;
  for (const [, n, unit] of t.matchAll(/(\d+)([smhd])/g)) total += Number(n) * UNIT_SECONDS[unit!]!;
  return total > 0 ? total : undefined;
}
