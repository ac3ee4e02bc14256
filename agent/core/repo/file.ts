// How a file of the repository reaches core: its bytes decoded as strict UTF-8 or, for a file
// that cannot be configuration (not UTF-8, a symbolic link, not a regular file, too large), a
// stand-in text that names the problem. The stand-in starts with a NUL character, which no
// YAML or JSON document may contain, so it can never be mistaken for content; every parser
// turns it into a located error. CI (working tree, git objects) and the device (working tree
// in watch mode, git objects in remote mode, a restored backup) all read files through here,
// so they refuse the same files with the same code.

import { formatSize } from '../format/size.js';

export type FileProblemCode = 'not-utf8' | 'symlink' | 'not-a-file' | 'file-too-large';

export interface FileProblem {
  code: FileProblemCode;
  line?: number;
  column?: number;
  /** The file's size in bytes (file-too-large). */
  size?: number;
  /** The offending byte (not-utf8). */
  byte?: number;
}

/** Configuration files above this size are not decoded at all. */
export const MAX_FILE_BYTES = 1024 * 1024;

const MARK = '\u0000gitops-unreadable:';

export function problemText(problem: FileProblem): string {
  return MARK + JSON.stringify(problem);
}

/** The problem a stand-in text describes, or undefined for a real file's text. */
export function fileProblem(text: string): FileProblem | undefined {
  if (!text.startsWith(MARK)) return undefined;
  return JSON.parse(text.slice(MARK.length)) as FileProblem;
}

/** A file's bytes as text: strict UTF-8 (a byte-order mark is dropped), else a stand-in. */
export function decodeFile(bytes: Uint8Array, maxBytes = MAX_FILE_BYTES): string {
  if (bytes.length > maxBytes) return problemText({ code: 'file-too-large', size: bytes.length });
  const bad = firstInvalidUtf8(bytes);
  if (bad !== undefined) return problemText({ code: 'not-utf8', byte: bytes[bad]!, ...lineColumn(bytes, bad) });
  const text = new TextDecoder('utf-8').decode(bytes);
  return text.startsWith('\ufeff') ? text.slice(1) : text;
}

/** What to tell the user about a file problem: message and hint. */
export function describeProblem(
  file: string,
  p: FileProblem,
  maxBytes = MAX_FILE_BYTES,
): { message: string; hint: string } {
  switch (p.code) {
    case 'not-utf8':
      return {
        message: `${file} is not UTF-8 text (byte 0x${(p.byte ?? 0).toString(16).padStart(2, '0')})`,
        hint: "save the file as UTF-8 (iconv -f LATIN1 -t UTF-8, or your editor's encoding setting)",
      };
    case 'symlink':
      return {
        message: `${file} is a symbolic link`,
        hint: 'configuration files must be regular files: replace the link with a copy of the file it points to',
      };
    case 'not-a-file':
      return {
        message: `${file} is not a regular file`,
        hint: 'configuration files must be regular files tracked in the repository',
      };
    case 'file-too-large':
      return {
        message: `${file} is ${formatSize(p.size ?? 0)}; configuration files are limited to ${formatSize(maxBytes)}`,
        hint: 'split the file or move bulk data out of the configuration repository',
      };
  }
}

/** Index of the first byte that is not part of a well-formed UTF-8 sequence. */
function firstInvalidUtf8(b: Uint8Array): number | undefined {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let min: number;
    if (c >= 0xc2 && c <= 0xdf) [n, min] = [1, 0x80];
    else if (c >= 0xe0 && c <= 0xef) [n, min] = [2, 0x800];
    else if (c >= 0xf0 && c <= 0xf4) [n, min] = [3, 0x10000];
    else return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const x = b[i + k];
      if (x === undefined || (x & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (x & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return undefined;
}

/** 1-based line and column (in characters) of byte `offset`. */
function lineColumn(b: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let column = 1;
  for (let i = 0; i < offset; i++) {
    if (b[i] === 0x0a) {
      line++;
      column = 1;
    } else if ((b[i]! & 0xc0) !== 0x80) column++;
  }
  return { line, column };
}
