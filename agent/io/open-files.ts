// How many files this process may hold open (the soft RLIMIT_NOFILE: systemd's LimitNOFILE,
// the shell's ulimit -n), read from /proc/self/limits; undefined where there is no /proc.

import { readFileSync } from 'node:fs';

export function openFileLimit(): number | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return undefined;
  }
  const soft = /^Max open files\s+(\d+|unlimited)\s/m.exec(text)?.[1];
  return soft === undefined || soft === 'unlimited' ? undefined : Number(soft);
}
