// Errors are asserted by their code (GitopsError's `code`), not by a regular expression over their message;
// the message is checked too only where its content is the behaviour (which file, which keys, which recipients).

import { expect } from 'vitest';
import type { ErrorCode } from '../../agent/core/errors.js';

/** Matches an error (for toThrow, rejects.toThrow, toMatchObject) with this code, and a message holding `text`. */
export function withCode(code: ErrorCode, text?: string): unknown {
  return expect.objectContaining({ code, ...(text === undefined ? {} : { message: expect.stringContaining(text) }) });
}
