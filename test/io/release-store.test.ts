// The state directory under real crashes: a process that writes releases and switches
// `current` in a loop is killed with SIGKILL at many different instants; every time, recovery
// finds `current` on a complete release whose files all belong to it.

import { spawn } from 'node:child_process';
import { lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReleaseStore } from '../../agent/io/release-store.js';
import { PROJECT, tempDir } from '../helpers/project.js';

describe('ReleaseStore', () => {
  it('writes releases 0700/0600, switches current, keeps state and a journal', () => {
    const store = new ReleaseStore(tempDir('state-'));
    store.writeRelease('aaa', { 'config.json': '{"v":1}' }, { commit: 'aaa' });
    expect(statSync(join(store.releases, 'aaa')).mode & 0o777).toBe(0o700);
    expect(statSync(join(store.releases, 'aaa', 'config.json')).mode & 0o777).toBe(0o600);
    expect(store.current()).toBeUndefined();
    store.switchCurrent('aaa');
    expect(store.current()).toBe('aaa');
    expect(lstatSync(join(store.dir, 'current')).isSymbolicLink()).toBe(true);
    store.writeState({ applied: 'aaa' });
    expect(store.readState({})).toEqual({ applied: 'aaa' });
    store.appendJournal({ time: 't', event: 'applied', commit: 'aaa' });
    expect(store.journal()).toEqual([{ time: 't', event: 'applied', commit: 'aaa' }]);
    expect(() => store.switchCurrent('nope')).toThrow(/release nope is not complete/);
    expect(() => store.writeRelease('../escape', {}, {})).toThrow(/is not a release id/);
  });

  it('after SIGKILL at many instants, current is always a whole release', async () => {
    const dir = tempDir('crash-');
    const worker = `
      const { ReleaseStore } = await import(${JSON.stringify(join(PROJECT, 'dist/agent/io/release-store.js'))});
      const s = new ReleaseStore(${JSON.stringify(dir)});
      for (let i = 0; ; i++) {
        const id = 'r' + (i % 50);
        const body = JSON.stringify({ id, payload: 'x'.repeat(20000 + i) });
        s.writeRelease(id, { 'config.json': body, 'sections.json': JSON.stringify({ id }) }, { id });
        s.switchCurrent(id);
        s.writeState({ applied: id, i });
        s.appendJournal({ time: String(i), event: 'applied', commit: id });
      }`;
    let sawCurrent = 0;
    for (let round = 0; round < 25; round++) {
      const child = spawn(process.execPath, ['--input-type=module', '-e', worker], { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, 30 + ((round * 37) % 120)));
      child.kill('SIGKILL');
      await new Promise((r) => child.on('exit', r));
      const store = new ReleaseStore(dir);
      const { current } = store.recover();
      expect(readdirSync(store.releases).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
      if (current === undefined) continue;
      sawCurrent++;
      expect(JSON.parse(store.readRelease(current, 'config.json')).id).toBe(current);
      expect(JSON.parse(store.readRelease(current, 'sections.json')).id).toBe(current);
      expect(JSON.parse(store.readRelease(current, 'release.json')).id).toBe(current);
      for (const e of store.journal()) expect(e.event).toBe('applied');
      expect(typeof store.readState<{ applied?: string }>({}).applied).toBe('string');
    }
    expect(sawCurrent).toBeGreaterThan(15);
  }, 60_000);
});
