// Configuration files' bytes as text: strict UTF-8 (every kind of ill-formed sequence is refused at its line
// and column), a byte-order mark dropped, files past the size limit, and what the user is told of each.

import { describe, expect, it } from 'vitest';
import { decodeFile, describeProblem, fileProblem, problemText } from '../../agent/core/repo/file.js';

const bytes = (...parts: Array<string | number[]>): Uint8Array =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));
const problemOf = (b: Uint8Array) => fileProblem(decodeFile(b));

describe('decodeFile', () => {
  it('well-formed UTF-8 of every length reads as it is; a byte-order mark is dropped', () => {
    const text = 'a: é ✓ 𝄞\n';
    expect(decodeFile(bytes(text))).toBe(text);
    expect(decodeFile(bytes([0xef, 0xbb, 0xbf], text))).toBe(text);
    expect(problemOf(bytes(text))).toBeUndefined();
  });

  it('refuses each ill-formed sequence at the line and column (in characters) where it starts', () => {
    const at = (...bad: number[]) => problemOf(bytes('a: ✓\nb: é', bad, 'x\n'));
    const where = { code: 'not-utf8', line: 2, column: 5 };
    expect(at(0x80)).toEqual({ ...where, byte: 0x80 }); // a continuation byte first
    expect(at(0xc0, 0xaf)).toEqual({ ...where, byte: 0xc0 }); // an overlong lead byte
    expect(at(0xe0, 0x80, 0xaf)).toEqual({ ...where, byte: 0xe0 }); // an overlong three-byte form
    expect(at(0xed, 0xa0, 0x80)).toEqual({ ...where, byte: 0xed }); // a surrogate
    expect(at(0xf4, 0x90, 0x80, 0x80)).toEqual({ ...where, byte: 0xf4 }); // past U+10FFFF
    expect(at(0xf5, 0x80, 0x80, 0x80)).toEqual({ ...where, byte: 0xf5 }); // no such lead byte
    expect(at(0xe2, 0x9c)).toEqual({ ...where, byte: 0xe2 }); // cut short by the next character
    expect(problemOf(bytes('ab', [0xe2, 0x9c]))).toEqual({ code: 'not-utf8', byte: 0xe2, line: 1, column: 3 }); // cut by the end
  });

  it('a file past the limit is not decoded at all', () => {
    expect(problemOf(new Uint8Array(11))).toBeUndefined();
    expect(fileProblem(decodeFile(new Uint8Array(11), 10))).toEqual({ code: 'file-too-large', size: 11 });
  });
});

describe('describeProblem', () => {
  it('says what is wrong with the file and how to fix it', () => {
    expect(describeProblem('config/a.yaml', { code: 'not-utf8', byte: 0xe9 }).message).toBe(
      'config/a.yaml is not UTF-8 text (byte 0xe9)',
    );
    expect(describeProblem('config/a.yaml', { code: 'not-utf8' }).message).toBe(
      'config/a.yaml is not UTF-8 text (byte 0x00)',
    );
    expect(describeProblem('config/a.yaml', { code: 'symlink' }).hint).toContain('replace the link with a copy');
    expect(describeProblem('config/a.yaml', { code: 'not-a-file' })).toEqual({
      message: 'config/a.yaml is not a regular file',
      hint: 'configuration files must be regular files tracked in the repository',
    });
    expect(describeProblem('config/a.yaml', { code: 'file-too-large' }, 2048).message).toBe(
      'config/a.yaml is 0 bytes; configuration files are limited to 2.0 KiB',
    );
    expect(fileProblem(problemText({ code: 'symlink' }))).toEqual({ code: 'symlink' });
  });
});
