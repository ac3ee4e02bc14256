// A refusal of a candidate: the error a cycle ends with when the candidate itself is at fault.

import { GitopsError } from '../core/errors.js';
import type { ErrorCode } from '../core/errors.js';
import type { Diagnostic } from '../core/validate/diagnostics.js';

/** A refusal of the candidate itself: marked bad (never retried) unless `retryable`. */
export const refusal = (code: ErrorCode, message: string, diagnostics?: readonly Diagnostic[], retryable = false) =>
  new GitopsError(code, message, undefined, { retryable, ...(diagnostics ? { diagnostics } : {}) });
