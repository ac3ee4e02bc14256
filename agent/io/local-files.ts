// Small file operations the command line needs beside reading the working tree: whether a path
// exists, writing a file atomically while keeping the mode of the one it replaces, a bounded
// file named on the command line, and standard input.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { GitopsError } from '../core/errors.js';
import { writeFileAtomic } from './repo-files.js';

export const fileExists = (path: string): boolean => existsSync(path);

/** Writes `text` atomically; a file it replaces keeps its permissions, a new one gets `mode`. */
export function writeFileKeepingMode(path: string, text: string | Uint8Array, mode = 0o644): void {
  writeFileAtomic(path, text, existsSync(path) ? statSync(path).mode & 0o777 : mode);
}

/**
 * The bytes of a file the user named, refused before it is read when larger than `maxBytes`:
 * `tooLarge(size)` is the error then. A missing file is file-not-found.
 */
export function readBoundedFile(path: string, maxBytes: number, tooLarge: (size: number) => GitopsError): Buffer {
  if (!existsSync(path)) throw new GitopsError('file-not-found', `${path} does not exist`, 'check the path');
  const size = statSync(path).size;
  if (size > maxBytes) throw tooLarge(size);
  return readFileSync(path);
}

/** All of standard input, as text. */
export const readStdinText = (): string => readFileSync(0, 'utf8');

/** A file's text, as is (the caller parses it and says what a bad one means). */
export const readText = (path: string): string => readFileSync(path, 'utf8');
