// The table of error codes and the one error class: every code is well formed and has its exit
// and HTTP statuses, errors serialise without stacks or foreign messages, and every code the
// sources use with GitopsError (including where TypeScript cannot see it: casts, .js files) is
// in the table.

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ERROR_CODES,
  EXIT_INVALID,
  EXIT_USAGE,
  exitStatusOf,
  GitopsError,
  httpStatusOf,
  isErrorCode,
  verdictErrorCode,
} from '../../agent/core/errors.js';
import type { ErrorCode } from '../../agent/core/errors.js';
import type { Verdict } from '../../agent/core/trust/verdict.js';
import type { Diagnostic } from '../../agent/core/validate/diagnostics.js';
import { PROJECT } from '../helpers/project.js';

const KEBAB = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

describe('ERROR_CODES', () => {
  const entries = Object.entries(ERROR_CODES);

  it('holds every code once, in kebab-case, with an exit status, an HTTP status and a one-line meaning', () => {
    expect(entries.length).toBeGreaterThan(90);
    for (const [code, info] of entries) {
      expect(code, code).toMatch(KEBAB);
      expect([EXIT_INVALID, EXIT_USAGE], code).toContain(info.exit);
      expect(info.http, code).toBeGreaterThanOrEqual(400);
      expect(info.http, code).toBeLessThan(600);
      expect(info.meaning, code).toMatch(/^\S[^\n]{5,}$/);
    }
  });

  it('keeps the command-line contract: 2 for usage, 1 for every other error', () => {
    expect(entries.filter(([, info]) => info.exit === EXIT_USAGE).map(([code]) => code)).toEqual(['usage']);
    expect(exitStatusOf(new GitopsError('usage', 'bad flag'))).toBe(2);
    expect(exitStatusOf(new GitopsError('unknown-environment', 'no such environment'))).toBe(1);
    expect(exitStatusOf(new Error('a bug'))).toBe(1);
  });

  it("keeps the API's statuses (DESIGN.md section 9)", () => {
    const statuses: Partial<Record<ErrorCode, number>> = {
      'bad-request': 400,
      'bad-release': 400,
      'bad-path': 400,
      'no-token': 401,
      'bad-token': 401,
      forbidden: 403,
      'release-unknown': 404,
      'no-such-path': 404,
      'not-found': 404,
      'method-not-allowed': 405,
      'no-release': 409,
      'release-not-good': 409,
      'already-running': 409,
      'release-unverified': 409,
      'body-too-large': 413,
      'bad-host': 421,
      'rate-limited': 429,
      'rollback-failed': 500,
      internal: 500,
      'too-many-connections': 503,
      'too-many-streams': 503,
    };
    for (const [code, status] of Object.entries(statuses)) expect(httpStatusOf(code as ErrorCode), code).toBe(status);
    // a code the API does not raise on purpose is the agent's failure, not the caller's
    expect(httpStatusOf('sops-mac-mismatch')).toBe(500);
  });

  it('tells codes from other strings', () => {
    expect(isErrorCode('release-unknown')).toBe(true);
    expect(isErrorCode('no-such-code')).toBe(false);
    expect(isErrorCode('toString')).toBe(false);
    expect(isErrorCode(undefined)).toBe(false);
  });

  it('has a code for every verdict but trusted, and for the finer codes under them', () => {
    const refused: Exclude<Verdict, 'trusted'>[] = [
      'unsigned',
      'untrusted-key',
      'bad-signature',
      'key-not-valid',
      'malformed',
      'policy',
    ];
    for (const v of refused) expect(verdictErrorCode(v, null)).toBe(v);
    expect(verdictErrorCode('policy', 'future-dated')).toBe('future-dated');
    for (const v of [...refused, 'future-dated']) expect(isErrorCode(v), v).toBe(true);
  });
});

describe('GitopsError', () => {
  const diagnostic: Diagnostic = {
    severity: 'error',
    code: 'schema-range',
    message: 'frame_capture.fps must be at most 60',
    file: 'environments/production/devices/d1.yaml',
    line: 4,
  };

  it('serialises to {code, message, hint?, diagnostics?}, never the stack', () => {
    const plain = new GitopsError('release-unknown', 'no release abc on this device');
    expect(plain.toJSON()).toEqual({ code: 'release-unknown', message: 'no release abc on this device' });
    const full = new GitopsError('invalid', 'the configuration is not valid for d1', 'fix it', {
      diagnostics: [diagnostic],
    });
    expect(JSON.parse(JSON.stringify(full))).toEqual({
      code: 'invalid',
      message: 'the configuration is not valid for d1',
      hint: 'fix it',
      diagnostics: [diagnostic],
    });
    expect(JSON.stringify(full)).not.toContain('errors.test');
    expect(full).toBeInstanceOf(Error);
    expect(full.name).toBe('GitopsError');
  });

  it('keeps its cause, and serialises it only when it is a GitopsError', () => {
    const low = new Error('EACCES: permission denied, open /secret/path');
    const e = new GitopsError('file-not-readable', 'cannot read the file', 'check permissions', { cause: low });
    expect(e.cause).toBe(low);
    expect(JSON.stringify(e)).not.toContain('/secret/path');
    expect(e.toJSON()).not.toHaveProperty('cause');
    const inner = new GitopsError('sync-timeout', 'the remote did not answer in time');
    const outer = new GitopsError('sync-failed', 'fetching main failed', undefined, { cause: inner, retryable: true });
    expect(outer.retryable).toBe(true);
    expect(outer.toJSON()).toEqual({
      code: 'sync-failed',
      message: 'fetching main failed',
      cause: { code: 'sync-timeout', message: 'the remote did not answer in time' },
    });
    expect(new GitopsError('usage', 'x')).not.toHaveProperty('cause');
  });
});

describe('the codes the sources use', () => {
  const sources = (dir: string): string[] =>
    readdirSync(join(PROJECT, dir), { recursive: true, encoding: 'utf8' })
      .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
      .map((f) => join(PROJECT, dir, f));
  // new GitopsError('code', ...), problem(c, 'code', ...) and codes passed to a refusal
  const USE = /new GitopsError\(\s*'([^']+)'|problem\(\s*c,\s*'([^']+)'|refusal\(\s*'([^']+)'/g;
  const uses = ['agent', 'scripts'].flatMap(sources).flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(USE)].map((m) => ({
      code: m[1] ?? m[2] ?? m[3]!,
      where: relative(PROJECT, file),
    })),
  );

  it('are all in the table', () => {
    expect(uses.length).toBeGreaterThan(150);
    expect(uses.filter((u) => !isErrorCode(u.code))).toEqual([]);
  });
});
