// Stand-ins for hardware that is not on this machine: small executables that print real
// captured outputs (from ../shared/fixtures/hardware), and a fake file-system root with the
// /proc, /sys, /dev and /etc entries a probe reads. The probe under test is the real one.

import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from './project.js';

/** A directory of executables; each body is a POSIX shell script. */
export function fakeTools(tools: Record<string, string>): string {
  const dir = tempDir('fake-tools-');
  for (const [name, body] of Object.entries(tools)) {
    const file = join(dir, name);
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
  }
  return dir;
}

/** A fake root: relative path -> file content ('' makes an empty file, as for device nodes). */
export function fakeRoot(files: Record<string, string>): string {
  const root = tempDir('fake-root-');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

/** One `## title` section of a capture bundle (the part before the first title is ''), without exit= lines. */
export function section(bundle: string, title: string): string {
  const parts = bundle.split(/^## /m);
  const hit = title === '' ? parts[0] : parts.find((p) => p.startsWith(title + '\n'))?.slice(title.length + 1);
  if (hit === undefined) throw new Error(`no section ${title}`);
  return hit.replace(/^exit=\d+.*\n?/gm, '');
}

export const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
