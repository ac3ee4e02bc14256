// What go-yaml v3 (sops' YAML library) makes of a plain scalar, and how to write a string so
// that it reads back as a string. The npm yaml package's core schema differs (0777, 1_000,
// timestamps, yes/no), and a different type would change a file's MAC.

import { formatGoFloat } from './tree.js';
import type { Scalar } from './tree.js';

const FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const TIMESTAMP =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:[Tt]|[ \t]+)(\d{1,2}):(\d{2}):(\d{2})(\.\d+)?(?:[ \t]*(Z|[-+]\d{1,2}(?::?\d{2})?))?)?$/;

/** The scalar a plain (unquoted) YAML scalar resolves to under yaml.v3, or null for null. */
export function resolvePlain(text: string): Scalar | null {
  if (text === '' || text === '~' || text === 'null' || text === 'Null' || text === 'NULL') return null;
  if (/^(true|True|TRUE)$/.test(text)) return { kind: 'scalar', type: 'bool', text: 'True' };
  if (/^(false|False|FALSE)$/.test(text)) return { kind: 'scalar', type: 'bool', text: 'False' };
  const plain = text.replace(/_/g, '');
  const int = /^([-+]?)(0x[0-9a-fA-F]+|0o[0-7]+|0b[01]+|0[0-7]*|[1-9][0-9]*)$/.exec(plain);
  if (int) {
    const digits = int[2]!;
    const value =
      digits.startsWith('0x') || digits.startsWith('0o') || digits.startsWith('0b')
        ? BigInt(digits)
        : digits.length > 1 && digits.startsWith('0')
          ? BigInt('0o' + digits.slice(1))
          : BigInt(digits);
    return { kind: 'scalar', type: 'int', text: (int[1] === '-' ? -value : value).toString() };
  }
  if (FLOAT.test(plain)) return { kind: 'scalar', type: 'float', text: formatGoFloat(Number(plain)) };
  if (/^[-+]?\.(inf|Inf|INF)$/.test(text))
    return { kind: 'scalar', type: 'float', text: text.startsWith('-') ? '-Inf' : '+Inf' };
  if (/^\.(nan|NaN|NAN)$/.test(text)) return { kind: 'scalar', type: 'float', text: 'NaN' };
  const ts = TIMESTAMP.exec(text);
  if (ts && /^\d{4}-/.test(text)) {
    const [, y, mo, d, h, mi, s, frac, zone] = ts;
    const pad = (v: string | undefined, n = 2): string => (v ?? '0').padStart(n, '0');
    let z = zone ?? 'Z';
    if (z !== 'Z') {
      const zm = /^([-+])(\d{1,2}):?(\d{2})?$/.exec(z)!;
      z = zm[2] === '00' && (zm[3] ?? '00') === '00' ? 'Z' : `${zm[1]}${pad(zm[2])}:${zm[3] ?? '00'}`;
    }
    const fraction = frac ? frac.replace(/0+$/, '') : '';
    const iso = `${y}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}${fraction === '.' ? '' : fraction}${z}`;
    if (!Number.isNaN(Date.parse(iso))) return { kind: 'scalar', type: 'time', text: iso };
  }
  return { kind: 'scalar', type: 'str', text };
}

const YAML11_BOOLS = /^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/;

/** True when a string can be written unquoted and will read back as the same string. */
export function plainSafe(text: string): boolean {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must be detected
  if (text === '' || text !== text.trim() || /[\n\r\t\0-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029\ufeff]/.test(text))
    return false;
  if (/^[-?:,[\]{}#&*!|>'"%@`]/.test(text) || /: |:$| #/.test(text)) return false;
  if (YAML11_BOOLS.test(text)) return false;
  const r = resolvePlain(text);
  return r !== null && r.type === 'str';
}

/** A YAML double-quoted string. */
export const doubleQuoted = (text: string): string =>
  JSON.stringify(text)
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
