// API tokens (hashing, roles, the tokens file and its errors) and the diff between releases.

import { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { releaseDiff } from '../../agent/core/change/release-diff.js';
import { allows, findToken, hashToken, parseTokens, TOKEN_PATTERN } from '../../agent/core/contracts/tokens.js';
import { addToken, listTokens, revokeToken, tokenSource } from '../../agent/io/token-file.js';
import { gitops } from '../helpers/cli.js';
import { tempDir } from '../helpers/project.js';
import { withCode } from '../helpers/codes.js';

describe('API tokens', () => {
  it('are random, shown once, stored as SHA-256 only (0600), and found by their hash', () => {
    const file = join(tempDir('tokens-'), 'tokens.yaml');
    const a = addToken(file, 'oncall', 'operator');
    const b = addToken(file, 'grafana', 'viewer');
    expect(a).toMatch(TOKEN_PATTERN);
    expect(a).not.toBe(b);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(a);
    expect(text).toContain(hashToken(a));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const tokens = listTokens(file);
    expect(findToken(tokens, a)).toMatchObject({ name: 'oncall', role: 'operator' });
    expect(findToken(tokens, b)).toMatchObject({ name: 'grafana', role: 'viewer' });
    expect(findToken(tokens, a + 'x')).toBeUndefined();
    expect(findToken(tokens, '')).toBeUndefined();
    expect(() => addToken(file, 'oncall', 'viewer')).toThrow(withCode('token-exists'));
    revokeToken(file, 'oncall');
    expect(findToken(listTokens(file), a)).toBeUndefined();
    expect(() => revokeToken(file, 'oncall')).toThrow(withCode('token-unknown', 'oncall'));
  });

  it('roles are ordered: an operator may do what a viewer may, not the reverse', () => {
    expect(allows('operator', 'viewer')).toBe(true);
    expect(allows('operator', 'operator')).toBe(true);
    expect(allows('viewer', 'viewer')).toBe(true);
    expect(allows('viewer', 'operator')).toBe(false);
  });

  it.each([
    ['not YAML', '- name: [', /not valid YAML/],
    ['not a list', 'name: x\n', /must be a YAML list/],
    ['no name', '- role: viewer\n  sha256: ' + 'a'.repeat(64), /token 1 needs a name/],
    [
      'a bad role',
      '- name: x\n  role: admin\n  sha256: ' + 'a'.repeat(64),
      /\(x\): role must be viewer or operator, not "admin"/,
    ],
    ['a token instead of its hash', '- name: x\n  role: viewer\n  sha256: dbt_abc', /sha256 must be 64 hex digits/],
    [
      'a name twice',
      `- {name: x, role: viewer, sha256: ${'a'.repeat(64)}}\n- {name: x, role: viewer, sha256: ${'b'.repeat(64)}}`,
      /"x" is used twice/,
    ],
    ['an item that is not a mapping', '- 42', /token 1 is not a mapping/],
  ])('a tokens file with %s is refused with its place', (_name, text, message) => {
    expect(() => parseTokens(text, 'tokens.yaml')).toThrow(message);
  });

  it('a running agent picks up an edited file; a broken edit keeps the last good list', () => {
    const file = join(tempDir('tokens-'), 'tokens.yaml');
    const a = addToken(file, 'one', 'viewer');
    const logged: string[] = [];
    const current = tokenSource(file, (l) => logged.push(l));
    expect(current()).toHaveLength(1);
    const b = addToken(file, 'two', 'operator');
    const later = new Date(Date.now() + 5000);
    touch(file, later);
    expect(findToken(current(), b)?.name).toBe('two');
    writeFileSync(file, '- name: [');
    touch(file, new Date(Date.now() + 10_000));
    expect(findToken(current(), a)?.name).toBe('one');
    expect(logged.at(-1)).toMatch(/not reloaded, the previous list stays/);
    expect(() => tokenSource(join(tempDir('tokens-'), 'absent.yaml'))).toThrow(withCode('tokens-unreadable', 'ENOENT'));
  });

  it('gitops agent token add | list | revoke', () => {
    const file = join(tempDir('tokens-'), 'tokens.yaml');
    const added = gitops(['agent', 'token', 'add', '--tokens-file', file, '--name', 'laptop', '--role', 'operator']);
    expect(added.status).toBe(0);
    expect(added.stdout.trim()).toMatch(TOKEN_PATTERN);
    expect(added.stderr).toContain('this is the only time it is shown');
    expect(gitops(['agent', 'token', 'list', '--tokens-file', file]).stdout).toMatch(
      /^laptop +operator +\d{4}-.* sha256:[0-9a-f]{12}$/m,
    );
    expect(gitops(['agent', 'token', 'add', '--tokens-file', file, '--name', 'x', '--role', 'root'])).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('--role must be one of viewer, operator'),
    });
    expect(gitops(['agent', 'token', 'revoke', '--tokens-file', file, '--name', 'laptop'])).toMatchObject({
      status: 0,
    });
    expect(gitops(['agent', 'token', 'list', '--tokens-file', file]).stdout).toContain('no tokens');
  });
});

/** A rewrite within the same clock tick keeps the modification time: move it on explicitly. */
function touch(file: string, when: Date): void {
  utimesSync(file, when, when);
}

describe('the diff between two releases', () => {
  const view = (config: Record<string, unknown>, secrets: string[] = []) => ({
    config: config as never,
    redacted: JSON.parse(JSON.stringify(config, (k, v) => (secrets.includes(k) ? '<redacted>' : v))) as never,
  });

  it('lists changed, added and removed paths with their values, sorted', () => {
    const a = view({ frame_capture: { fps: 15, width: 1280 }, motion: { zones: ['door'] } });
    const b = view({
      frame_capture: { fps: 12, width: 1280 },
      motion: { zones: ['door', 'path'] },
      web: { port: 8080 },
    });
    expect(releaseDiff(a, b)).toEqual([
      { path: 'frame_capture.fps', change: 'changed', old: 15, new: 12 },
      { path: 'motion.zones', change: 'changed', old: ['door'], new: ['door', 'path'] },
      { path: 'web.port', change: 'added', new: 8080 },
    ]);
    expect(releaseDiff(b, a).find((c) => c.path === 'web.port')).toEqual({
      path: 'web.port',
      change: 'removed',
      old: 8080,
    });
    expect(releaseDiff(a, a)).toEqual([]);
  });

  it('says a secret changed without either value', () => {
    const a = view({ notifications: { telegram: { bot_token: 'old-secret-value' } } }, ['bot_token']);
    const b = view({ notifications: { telegram: { bot_token: 'new-secret-value' } } }, ['bot_token']);
    const d = releaseDiff(a, b);
    expect(d).toEqual([{ path: 'notifications.telegram.bot_token', change: 'changed', secret: true }]);
    expect(JSON.stringify(d)).not.toMatch(/secret-value/);
  });
});
