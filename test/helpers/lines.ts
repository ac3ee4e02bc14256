// Where a piece of text sits in a file, so that tests compute the line and column a diagnostic should name
// from the file's content instead of pinning the line numbers of the live example files.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT } from './project.js';

export interface Position {
  line: number;
  column: number;
}

/** The 1-based line and column of the first `text` in `content`, `skip` characters into it. */
export function positionIn(content: string, text: string, skip = 0): Position {
  const at = content.indexOf(text);
  if (at < 0) throw new Error(`test setup: ${JSON.stringify(text)} is not in the file`);
  const before = content.slice(0, at + skip);
  return { line: before.split('\n').length, column: before.length - before.lastIndexOf('\n') };
}

/** The same in one of the example repository's files (a path relative to the checkout). */
export function examplePosition(file: string, text: string, skip = 0): Position {
  return positionIn(readFileSync(join(PROJECT, file), 'utf8'), text, skip);
}
