// Configuration paths: JSON Pointers internally (as ajv reports them), dotted paths for people
// (`detectors.person.runtime`, `zones[0].name`).

export type Segment = string;

const escapeSegment = (s: string): string =>
  s.includes('~') || s.includes('/') ? s.replace(/~/g, '~0').replace(/\//g, '~1') : s;

export function toPointer(segments: readonly Segment[]): string {
  let out = '';
  for (const s of segments) out += '/' + escapeSegment(s);
  return out;
}

export function fromPointer(pointer: string): Segment[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function toDotted(segments: readonly Segment[]): string {
  let out = '';
  for (const s of segments) {
    if (/^\d+$/.test(s)) out += `[${s}]`;
    else out += out === '' ? s : `.${s}`;
  }
  return out;
}

export function pointerToDotted(pointer: string): string {
  return toDotted(fromPointer(pointer));
}

/** Parses `a.b[0].c` into segments; returns undefined when the text is not a path. */
export function parseDotted(text: string): Segment[] | undefined {
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+|\[\d+\])*$/.test(text)) return undefined;
  return text.split(/\.|\[|\]/).filter((s) => s !== '');
}

/** True when `pointer` is `prefix` or lies below it. */
export function isAtOrBelow(pointer: string, prefix: string): boolean {
  return pointer === prefix || pointer.startsWith(prefix + '/');
}
