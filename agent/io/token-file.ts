// The API tokens file on disk: read again whenever it changes (a token added or revoked takes
// effect without a restart), and written atomically with mode 0600 by `gitops agent token`.

import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { stringify } from 'yaml';
import { GitopsError } from '../core/errors.js';
import { hashToken, parseTokens } from '../core/contracts/tokens.js';
import type { Role, TokenEntry } from '../core/contracts/tokens.js';
import { writeFileAtomic } from './repo-files.js';

export function newToken(): string {
  return 'dbt_' + randomBytes(32).toString('base64url');
}

function read(file: string, missingOk: boolean): TokenEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (missingOk && (e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new GitopsError(
      'tokens-unreadable',
      `cannot read the API tokens file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      'create it with: gitops agent token add --tokens-file FILE --name NAME --role viewer|operator',
      { cause: e },
    );
  }
  return parseTokens(text, file);
}

/** The tokens in `file`, re-read when its modification time changes; a broken edit keeps the last good list. */
export function tokenSource(file: string, log: (line: string) => void = () => undefined): () => TokenEntry[] {
  let tokens = read(file, false);
  let seen = statSync(file).mtimeMs;
  return () => {
    try {
      const m = statSync(file).mtimeMs;
      if (m !== seen) {
        seen = m;
        tokens = read(file, false);
        log(`API tokens reloaded from ${file}: ${tokens.length} token(s)`);
      }
    } catch (e) {
      log(`warning: API tokens file not reloaded, the previous list stays: ${(e as Error).message}`);
    }
    return tokens;
  };
}

function write(file: string, tokens: readonly TokenEntry[]): void {
  writeFileAtomic(
    file,
    '# API tokens of the doorbell agent: SHA-256 hashes only (gitops agent token add|list|revoke)\n' +
      stringify(tokens),
    0o600,
  );
}

/** Adds a token; returns it (the only time it is ever shown). */
export function addToken(file: string, name: string, role: Role, now = new Date()): string {
  const tokens = read(file, true);
  if (tokens.some((t) => t.name === name))
    throw new GitopsError(
      'token-exists',
      `a token named "${name}" is already in ${file}`,
      `revoke it first (gitops agent token revoke --name ${name}) or choose another name`,
    );
  const token = newToken();
  const entry: TokenEntry = { name, role, sha256: hashToken(token), created: now.toISOString() };
  parseTokens(stringify([...tokens, entry]), file); // the same checks as on reading
  write(file, [...tokens, entry]);
  return token;
}

export function listTokens(file: string): TokenEntry[] {
  return read(file, false);
}

export function revokeToken(file: string, name: string): void {
  const tokens = read(file, false);
  if (!tokens.some((t) => t.name === name))
    throw new GitopsError(
      'token-unknown',
      `no token named "${name}" in ${file}`,
      'gitops agent token list shows the names',
    );
  write(
    file,
    tokens.filter((t) => t.name !== name),
  );
}
