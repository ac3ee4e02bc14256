// The release store on a real temp directory, beyond the crash tests: a release that cannot be written, a
// state file that is no JSON or not a file, the journal read with a filter or a limit, an earlier history put
// before it, lines cut by a crash, and what recovery removes.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReleaseStore } from '../../agent/io/release-store.js';
import { withCode } from '../helpers/codes.js';
import { tempDir } from '../helpers/project.js';

const entry = (n: number) => ({ time: `2026-12-01T10:00:0${n}.000Z`, event: 'applied', commit: `c${n}` });

describe('the release store', () => {
  it('an agent that never ran in a directory has no store there; one that wrote state has', () => {
    const dir = tempDir('store-');
    expect(ReleaseStore.existing(dir)).toBeUndefined();
    new ReleaseStore(dir).writeState({ applied: null });
    expect(ReleaseStore.existing(dir)?.readState({})).toEqual({ applied: null });
  });

  it('a release that cannot be written leaves nothing behind and says why', () => {
    const store = new ReleaseStore(tempDir('store-'));
    expect(() => store.writeRelease('abc', { 'no/such/dir.json': '{}' }, {})).toThrow(
      withCode('release-write-failed', 'could not write release abc: ENOENT'),
    );
    expect(store.list()).toEqual([]);
    expect(store.recover().removed).toEqual([]);
  });

  it('state.json: absent, not JSON, not a file; set aside for a person to look at', () => {
    const dir = tempDir('store-');
    const store = new ReleaseStore(dir);
    expect(store.readStateFile()).toEqual({ value: undefined });
    writeFileSync(join(dir, 'state.json'), '{"applied": ');
    expect(store.readStateFile()).toEqual({ error: 'not JSON' });
    expect(store.readState('fallback')).toBe('fallback');
    const aside = store.setStateAside(new Date('2026-12-01T10:00:00.000Z'));
    expect(aside).toBe('state.json.bad-2026-12-01T10-00-00-000Z');
    expect(readFileSync(join(dir, aside), 'utf8')).toBe('{"applied": ');
    mkdirSync(join(dir, 'state.json'));
    expect(store.readStateFile()).toEqual({ error: 'EISDIR' });
  });

  it('the journal: a filter and a limit, an earlier history put first, a line cut by a crash skipped', () => {
    const dir = tempDir('store-');
    const store = new ReleaseStore(dir);
    expect(store.journal()).toEqual([]);
    store.prependJournal(Buffer.alloc(0));
    expect(store.journalFiles()).toEqual([]);
    store.prependJournal(Buffer.from(JSON.stringify(entry(1)))); // no journal yet, no newline at its end
    store.appendJournal(entry(2));
    writeFileSync(join(dir, 'journal.jsonl'), readFileSync(join(dir, 'journal.jsonl'), 'utf8') + '{"time": "cut');
    store.appendJournal(entry(3));
    expect(store.journal().map((e) => e.commit)).toEqual(['c1', 'c2', 'c3']);
    expect(store.journal(0)).toEqual([]);
    expect(store.journal(1).map((e) => e.commit)).toEqual(['c3']);
    expect(store.journal(10, (e) => e.commit !== 'c2').map((e) => e.commit)).toEqual(['c1', 'c3']);
    store.prependJournal(Buffer.from(JSON.stringify(entry(0)) + '\n'));
    expect(store.journal().map((e) => e.commit)).toEqual(['c0', 'c1', 'c2', 'c3']);
    expect(store.journalBytes().toString('utf8').split('\n').filter(Boolean)).toHaveLength(5);
  });

  it('recovery removes half-written releases and stray symlinks, and keeps the current one', () => {
    const dir = tempDir('store-');
    const store = new ReleaseStore(dir);
    store.writeRelease('good', { 'config.json': '{}' }, { commit: 'good' });
    store.switchCurrent('good');
    mkdirSync(join(store.releases, 'half'));
    mkdirSync(join(store.releases, '.tmp-next-1'));
    writeFileSync(join(dir, '.current-123'), '');
    const { current, removed } = store.recover();
    expect(current).toBe('good');
    expect(removed.sort()).toEqual(['.tmp-next-1', 'half']);
    expect(store.list()).toEqual(['good']);
    expect(store.readRelease('good', 'config.json')).toBe('{}');
  });
});
