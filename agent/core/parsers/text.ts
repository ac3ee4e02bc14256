// Shared clean-up for captured command output: CRLF, ANSI colour codes, NUL bytes.

export function cleanOutput(raw: string): string {
  // eslint-disable-next-line no-control-regex
  return raw.replace(/\r\n?/g, '\n').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\0/g, '');
}

