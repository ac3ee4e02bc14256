// Editing a decrypted SOPS tree by path, and what changed between two files from their
// ciphertexts alone.

import { describe, expect, it } from 'vitest';
import { parseSecretPath, plaintextLeaves, secretChanges, setPath, unsetPath } from '../../../agent/core/sops/edit.js';
import { fromPlain, toPlain } from '../../../agent/core/sops/tree.js';
import { DEFAULT_RULE } from '../../../agent/core/sops/walk.js';
import type { MapNode } from '../../../agent/core/sops/tree.js';

const tree = (v: unknown): MapNode => fromPlain(v) as MapNode;

describe('parseSecretPath', () => {
  it('reads dotted paths and sops index paths', () => {
    expect(parseSecretPath('notifications.telegram.bot_token')).toEqual(['notifications', 'telegram', 'bot_token']);
    expect(parseSecretPath('["a.b"]["c\\"d"][0]')).toEqual(['a.b', 'c"d', '0']);
  });
  it('refuses empty segments and malformed index paths with the form to use', () => {
    expect(() => parseSecretPath('a..b')).toThrow('"a..b" is not a path');
    expect(() => parseSecretPath('["a"]b')).toThrow('is not a path like ["a"]["b"]');
  });
});

describe('setPath and unsetPath', () => {
  it('set replaces in place, adds at the end, and creates the maps on the way, keeping order', () => {
    const t = tree({ a: 1, b: { c: 2 }, z: 3 });
    expect(Object.keys(toPlain(setPath(t, ['a'], fromPlain(9))) as object)).toEqual(['a', 'b', 'z']);
    expect(toPlain(setPath(t, ['b', 'd'], fromPlain('x')))).toEqual({ a: 1, b: { c: 2, d: 'x' }, z: 3 });
    expect(toPlain(setPath(t, ['n', 'm'], fromPlain(true)))).toEqual({ a: 1, b: { c: 2 }, z: 3, n: { m: true } });
    expect(toPlain(t)).toEqual({ a: 1, b: { c: 2 }, z: 3 });
    expect(() => setPath(t, [], fromPlain(1))).toThrow('an empty path');
  });
  it('unset removes a nested key and says whether anything was removed', () => {
    const t = tree({ a: 1, b: { c: 2, d: 3 } });
    const r = unsetPath(t, ['b', 'c']);
    expect(r.removed).toBe(true);
    expect(toPlain(r.tree)).toEqual({ a: 1, b: { d: 3 } });
    expect(unsetPath(t, ['x']).removed).toBe(false);
    expect(unsetPath(t, ['a', 'deeper']).removed).toBe(false);
  });
});

describe('secretChanges and plaintextLeaves', () => {
  it('compares ciphertexts by path: added, changed, removed, sorted', () => {
    const before = [tree({ a: 'ENC[AES256_GCM,data:1]', b: 'ENC[AES256_GCM,data:2]', l: ['ENC[x]'] })];
    const after = [tree({ a: 'ENC[AES256_GCM,data:1]', b: 'ENC[AES256_GCM,data:3]', c: 'ENC[AES256_GCM,data:4]' })];
    expect(secretChanges(before, after)).toEqual([
      { path: 'b', change: 'changed' },
      { path: 'c', change: 'added' },
      { path: 'l[0]', change: 'removed' },
    ]);
    expect(secretChanges(undefined, after).map((c) => c.change)).toEqual(['added', 'added', 'added']);
  });
  it('finds leaves the rule wants encrypted that are still plaintext', () => {
    const t = tree({
      token: 'ENC[AES256_GCM,data:abc,iv:x,tag:y,type:str]',
      password: 'hunter2',
      port: 8443,
      empty: '',
    });
    expect(plaintextLeaves([t], DEFAULT_RULE)).toEqual(['password', 'port']);
  });
});
