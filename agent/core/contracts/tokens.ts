// API access: bearer tokens with roles. The tokens file holds only SHA-256 hashes of the
// tokens (a token is 32 random bytes, so a fast hash is enough); a presented token is hashed
// and compared in constant time. Roles are ordered: an operator may do what a viewer may.

import { createHash, timingSafeEqual } from 'node:crypto';
import { parse } from 'yaml';
import { GitopsError } from '../errors.js';

export type Role = 'viewer' | 'operator';
export const ROLES: readonly Role[] = ['viewer', 'operator'];

export interface TokenEntry {
  name: string;
  role: Role;
  sha256: string;
  created?: string;
}

/** Tokens look like `dbt_<43 base64url characters>`: the prefix lets secret scanners find a leaked one. */
export const TOKEN_PATTERN = /^dbt_[A-Za-z0-9_-]{43}$/;

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function allows(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** The tokens file: a YAML list of {name, role, sha256}; anything else is refused with its place. */
export function parseTokens(text: string, file: string): TokenEntry[] {
  let value: unknown;
  try {
    value = parse(text) ?? [];
  } catch (e) {
    throw new GitopsError(
      'tokens-invalid',
      `${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`,
      'gitops agent token add writes this file; fix or recreate it',
      { cause: e },
    );
  }
  if (!Array.isArray(value))
    throw new GitopsError(
      'tokens-invalid',
      `${file} must be a YAML list of tokens`,
      'each item: {name, role: viewer|operator, sha256}',
    );
  const names = new Set<string>();
  return value.map((item: unknown, i) => {
    const e = item as Partial<TokenEntry> | null;
    const where = `${file}: token ${i + 1}`;
    if (!e || typeof e !== 'object')
      throw new GitopsError(
        'tokens-invalid',
        `${where} is not a mapping`,
        'each item: {name, role: viewer|operator, sha256}',
      );
    if (typeof e.name !== 'string' || !/^[A-Za-z0-9._@-]{1,64}$/.test(e.name))
      throw new GitopsError(
        'tokens-invalid',
        `${where} needs a name (letters, digits, . _ @ -)`,
        'e.g. name: oncall-laptop',
      );
    if (names.has(e.name))
      throw new GitopsError(
        'tokens-invalid',
        `${where}: the name "${e.name}" is used twice`,
        'token names must be unique',
      );
    names.add(e.name);
    if (!ROLES.includes(e.role as Role))
      throw new GitopsError(
        'tokens-invalid',
        `${where} (${e.name}): role must be viewer or operator, not ${JSON.stringify(e.role)}`,
        'viewer reads; operator may also sync and roll back',
      );
    if (typeof e.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.sha256))
      throw new GitopsError(
        'tokens-invalid',
        `${where} (${e.name}): sha256 must be 64 hex digits, the hash of the token`,
        'the file never holds a token itself; gitops agent token add writes the hash',
      );
    return {
      name: e.name,
      role: e.role as Role,
      sha256: e.sha256,
      ...(typeof e.created === 'string' ? { created: e.created } : {}),
    };
  });
}

/** The entry whose hash matches the presented token, compared in constant time. */
export function findToken(tokens: readonly TokenEntry[], presented: string): TokenEntry | undefined {
  const h = Buffer.from(hashToken(presented), 'hex');
  let found: TokenEntry | undefined;
  for (const t of tokens) if (timingSafeEqual(h, Buffer.from(t.sha256, 'hex'))) found = t;
  return found;
}
