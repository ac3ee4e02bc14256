// Shared clean-up for captured command output: CRLF, ANSI colour codes, NUL bytes.

export function cleanOutput(raw: string): string {
  // eslint-disable-next-line no-control-regex
  return raw.replace(/\r\n?/g, '\n').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\0/g, '');
}

/** A number from text that may use a decimal comma; null for N/A, [Not Supported] and the like. */
export function parseNumber(text: string | undefined): number | null {
  if (text === undefined) return null;
  const t = text.trim().replace(/^\[?N\/A\]?$/i, '').replace(',', '.');
  const m = /^[-+]?\d+(\.\d+)?/.exec(t);
  return m ? Number(m[0]) : null;
}
