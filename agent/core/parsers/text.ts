// Shared clean-up for captured command output: CRLF, ANSI colour codes, NUL bytes, and the many
// spellings of "no value" (N/A, [Not Supported], -256C, 0/0).

export function cleanOutput(raw: string): string {
  return (
    raw
      .replace(/\r\n?/g, '\n')
      // eslint-disable-next-line no-control-regex
      .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
      .replace(/\0/g, '')
  );
}

const NO_VALUE = /^\[?(N\/A|Not Supported|Unknown Error|Insufficient Permissions)\]?$/i;

/** A number from text that may carry a unit or a decimal comma; null for N/A and the like. */
export function parseNumber(text: string | undefined): number | null {
  if (text === undefined) return null;
  const t = text.trim();
  if (t === '' || NO_VALUE.test(t)) return null;
  const m = /^[-+]?\d+(?:[.,]\d+)?/.exec(t);
  return m ? Number(m[0].replace(',', '.')) : null;
}

/** A string field; null for N/A and the like. */
export function parseText(text: string | undefined): string | null {
  if (text === undefined) return null;
  const t = text.trim();
  return t === '' || NO_VALUE.test(t) ? null : t;
}
