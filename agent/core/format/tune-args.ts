// What `gitops agent tune set PATH=VALUE` asks for: the dotted path of a field and a scalar
// value, read as JSON when it parses as a number, true or false (or a quoted string), else as
// the text itself.

import { GitopsError } from '../errors.js';
import { parseDotted } from '../json/pointer.js';
import type { TunableValue } from '../tunables/annotation.js';

export interface LeaseAssignment {
  path: string;
  value: TunableValue;
}

const EXAMPLE = 'e.g. gitops agent tune set frame_capture.fps=10 --ttl 30m --reason "hot afternoon"';

/** The dotted path of a configuration field, or a usage error. */
export function fieldPath(text: string): string {
  const segments = parseDotted(text);
  if (!segments || segments.length < 2 || text.includes('['))
    throw new GitopsError('usage', `"${text.slice(0, 80)}" is not the dotted path of a field`, EXAMPLE);
  return text;
}

export function parseLeaseAssignment(arg: string): LeaseAssignment {
  const eq = arg.indexOf('=');
  if (eq <= 0) throw new GitopsError('usage', `"${arg.slice(0, 80)}" is not PATH=VALUE`, EXAMPLE);
  const path = fieldPath(arg.slice(0, eq));
  const text = arg.slice(eq + 1);
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    // not JSON: the text itself
  }
  if (typeof value !== 'string' && typeof value !== 'boolean' && !(typeof value === 'number' && Number.isFinite(value)))
    throw new GitopsError(
      'usage',
      `${path} takes a number, true, false or a string, not ${text.slice(0, 80)}`,
      EXAMPLE,
    );
  return { path, value };
}
