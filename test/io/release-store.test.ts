// The state directory under real crashes: a process that writes releases and switches
// `current` in a loop is killed with SIGKILL at many different instants; every time, recovery
// finds `current` on a complete release whose files all belong to it.

import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, lstatSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countJournalEntries, linesFromEnd, ReleaseStore } from '../../agent/io/release-store.js';
import { PROJECT, tempDir } from '../helpers/project.js';
import { withCode } from '../helpers/codes.js';

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
    expect(() => store.switchCurrent('nope')).toThrow(withCode('release-missing', 'nope'));
    expect(() => store.writeRelease('../escape', {}, {})).toThrow(withCode('bad-release-id'));
  });

  it('after SIGKILL at many instants, current is always a whole release and the journal in order', async () => {
    const dir = tempDir('crash-');
    // small journal files: rotations are killed too
    const worker = `
      const { ReleaseStore } = await import(${JSON.stringify(join(PROJECT, 'dist/agent/io/release-store.js'))});
      const s = new ReleaseStore(${JSON.stringify(dir)}, { maxBytes: 300, keep: 2 });
      const start = Number(s.journal(1)[0]?.time ?? -1) + 1;
      for (let i = start; ; i++) {
        const id = 'r' + (i % 50);
        const body = JSON.stringify({ id, payload: 'x'.repeat(20000 + i) });
        s.writeRelease(id, { 'config.json': body, 'sections.json': JSON.stringify({ id }) }, { id });
        s.switchCurrent(id);
        s.writeState({ applied: id, i });
        s.appendJournal({ time: String(i), event: 'applied', commit: id });
        process.stdout.write(i + '\\n');
      }`;
    let sawCurrent = 0;
    for (let round = 0; round < 25; round++) {
      const child = spawn(process.execPath, ['--input-type=module', '-e', worker], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      // killed after a few whole iterations, wherever the next one has got to by then
      const iterations = 1 + (round % 4);
      await new Promise<void>((resolve) => {
        let seen = 0;
        child.stdout!.on('data', (chunk: Buffer) => {
          seen += chunk.toString().split('\n').length - 1;
          if (seen >= iterations) resolve();
        });
        child.on('exit', () => resolve());
      });
      child.kill('SIGKILL');
      if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.on('exit', r));
      const store = new ReleaseStore(dir);
      const { current } = store.recover();
      expect(readdirSync(store.releases).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
      if (current === undefined) continue;
      sawCurrent++;
      expect(JSON.parse(store.readRelease(current, 'config.json')).id).toBe(current);
      expect(JSON.parse(store.readRelease(current, 'sections.json')).id).toBe(current);
      expect(JSON.parse(store.readRelease(current, 'release.json')).id).toBe(current);
      const times = store.journal(10_000).map((e) => Number(e.time));
      expect(times.length).toBeGreaterThan(0);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect(new Set(times).size).toBe(times.length);
      // state.json is whole, or not there yet (killed before its first write)
      if (existsSync(join(dir, 'state.json')))
        expect(
          typeof (JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { applied?: unknown }).applied,
        ).toBe('string');
    }
    expect(sawCurrent).toBeGreaterThan(15);
  }, 60_000);

  it('journal lines that are JSON but not objects, or cut, are skipped; a cut last line does not swallow the next entry', () => {
    const store = new ReleaseStore(tempDir('journal-'));
    writeFileSync(
      join(store.dir, 'journal.jsonl'),
      [
        '{"time":"1","event":"applied"}',
        '42',
        'null',
        '"text"',
        '[1]',
        'true',
        '{"time":"2","event":"refused"}',
        '{"time":"3","ev',
      ].join('\n'),
    );
    expect(store.journal()).toEqual([
      { time: '1', event: 'applied' },
      { time: '2', event: 'refused' },
    ]);
    store.appendJournal({ time: '4', event: 'applied' });
    expect(store.journal()).toEqual([
      { time: '1', event: 'applied' },
      { time: '2', event: 'refused' },
      { time: '4', event: 'applied' },
    ]);
    expect(store.journal(1)).toEqual([{ time: '4', event: 'applied' }]);
    expect(store.journal(5, (e) => e.event === 'refused')).toEqual([{ time: '2', event: 'refused' }]);
    expect(countJournalEntries(store.journalBytes())).toBe(3);
  });

  it('the journal is rotated by size; a bounded history is kept and read across the files, newest last', () => {
    const store = new ReleaseStore(tempDir('journal-'), { maxBytes: 1000, keep: 3 });
    for (let i = 0; i < 200; i++)
      store.appendJournal({ time: String(i), event: i % 10 === 0 ? 'refused' : 'applied', pad: 'x'.repeat(60) });
    const files = readdirSync(store.dir)
      .filter((f) => f.startsWith('journal'))
      .sort();
    expect(files).toEqual(['journal.1.jsonl', 'journal.2.jsonl', 'journal.3.jsonl', 'journal.jsonl']);
    for (const f of files) expect(statSync(join(store.dir, f)).size).toBeLessThanOrEqual(1000);
    const all = store.journal(10_000);
    // only what the four files hold is left, in order, ending with the last entry written
    // entries of 102 bytes: 9 in each of the three full rotated files, and the newest file's
    expect(all.length).toBeGreaterThanOrEqual(3 * 9 + 1);
    expect(all.length).toBeLessThanOrEqual(4 * 9);
    expect(all.map((e) => Number(e.time))).toEqual(Array.from({ length: all.length }, (_, k) => 200 - all.length + k));
    expect(store.journal(3).map((e) => e.time)).toEqual(['197', '198', '199']);
    expect(store.journal(2, (e) => e.event === 'refused').map((e) => e.time)).toEqual(['180', '190']);
    // export sees the same history, oldest file first
    const exported = store
      .journalBytes()
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { time: string });
    expect(exported.map((e) => e.time)).toEqual(all.map((e) => e.time));
  });

  it('a rotation cut short by a crash (a missing generation) loses no order, and the next one closes the gap', () => {
    const store = new ReleaseStore(tempDir('journal-'), { maxBytes: 200, keep: 4 });
    writeFileSync(join(store.dir, 'journal.3.jsonl'), '{"time":"a","event":"x"}\n');
    writeFileSync(join(store.dir, 'journal.1.jsonl'), '{"time":"b","event":"x"}\n');
    writeFileSync(join(store.dir, 'journal.jsonl'), '{"time":"c","event":"x"}\n');
    expect(store.journal().map((e) => e.time)).toEqual(['a', 'b', 'c']);
    store.appendJournal({ time: 'd', event: 'x', pad: 'y'.repeat(200) });
    expect(
      readdirSync(store.dir)
        .filter((f) => f.startsWith('journal'))
        .sort(),
    ).toEqual(['journal.1.jsonl', 'journal.2.jsonl', 'journal.3.jsonl', 'journal.jsonl']);
    expect(store.journal().map((e) => e.time)).toEqual(['a', 'b', 'c', 'd']);
    store.appendJournal({ time: 'e', event: 'x', pad: 'y'.repeat(200) });
    expect(
      readdirSync(store.dir)
        .filter((f) => f.startsWith('journal'))
        .sort(),
    ).toEqual(['journal.1.jsonl', 'journal.2.jsonl', 'journal.3.jsonl', 'journal.4.jsonl', 'journal.jsonl']);
    expect(store.journal().map((e) => e.time)).toEqual(['a', 'b', 'c', 'd', 'e']);
    // four rotated files at most: the oldest goes
    store.appendJournal({ time: 'f', event: 'x', pad: 'y'.repeat(200) });
    expect(store.journal().map((e) => e.time)).toEqual(['b', 'c', 'd', 'e', 'f']);
  });

  it("a restored journal goes before the oldest file of the device's own", () => {
    const store = new ReleaseStore(tempDir('journal-'), { maxBytes: 100, keep: 2 });
    for (let i = 0; i < 3; i++) store.appendJournal({ time: String(i), event: 'x', pad: 'z'.repeat(40) });
    store.prependJournal(Buffer.from('{"time":"earlier","event":"applied"}'));
    expect(store.journal(100).map((e) => e.time)).toEqual(['earlier', '0', '1', '2']);
    expect(readFileSync(store.journalFiles()[0]!, 'utf8').split('\n')[0]).toBe('{"time":"earlier","event":"applied"}');
  });

  it('reading lines from the end gives every line, at any chunk size; an overlong line is skipped', () => {
    const dir = tempDir('lines-');
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ unit: 'grapheme', maxLength: 40 }).map((t) => t.replace(/\n/g, ' ')),
          { maxLength: 30 },
        ),
        fc.integer({ min: 1, max: 17 }),
        fc.boolean(),
        (lines, chunk, trailing) => {
          const file = join(dir, 'f');
          writeFileSync(file, lines.join('\n') + (trailing && lines.length > 0 ? '\n' : ''));
          expect([...linesFromEnd(file, chunk)]).toEqual(lines.filter((l) => l !== '').reverse());
        },
      ),
      { numRuns: 300 },
    );
    const file = join(dir, 'long');
    writeFileSync(file, `first\n${'q'.repeat(5000)}\nlast\n`);
    expect([...linesFromEnd(file, 64, 1000)]).toEqual(['last', 'first']);
    appendFileSync(file, 'x'.repeat(3000));
    expect([...linesFromEnd(file, 64, 1000)]).toEqual(['last', 'first']);
    expect([...linesFromEnd(join(dir, 'none'))]).toEqual([]);
  });
});
