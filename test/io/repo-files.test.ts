import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GitopsError } from '../../agent/core/errors.js';
import { readUserFile, readWorkingTree, treeSignature, writeFileAtomic } from '../../agent/io/repo-files.js';
import { WatchSource } from '../../agent/daemon/watch-source.js';
import { QUIET_TRIGGER } from '../../agent/daemon/source.js';
import { fileSchemaCache } from '../../agent/io/schema-cache.js';
import { loadSchemas } from '../../agent/core/schema/schema-set.js';
import { edit, exampleFiles, readText, tempDir } from '../helpers/project.js';

describe('readWorkingTree', () => {
  it('reads config, environments and schemas with / paths, and nothing else', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'config/hardware'), { recursive: true });
    mkdirSync(join(dir, 'notes'));
    writeFileSync(join(dir, 'config/hardware/m.yaml'), 'version: 2\n');
    writeFileSync(join(dir, 'config/readme.txt'), 'not config');
    writeFileSync(join(dir, 'notes/x.yaml'), 'a: 1\n');
    writeFileSync(join(dir, '.sops.yaml'), 'creation_rules: []\n');
    expect([...readWorkingTree(dir).keys()].sort()).toEqual(['.sops.yaml', 'config/hardware/m.yaml']);
  });

  it('read lazily: a file is read when asked for, and walking the texts gives what the whole read gives', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'config'));
    writeFileSync(join(dir, 'config/a.yaml'), 'version: 2\n');
    writeFileSync(join(dir, 'config/b.yaml'), 'version: 1\n');
    writeFileSync(join(dir, 'config/gone.yaml'), 'version: 2\n');
    writeFileSync(join(dir, '.sops.yaml'), 'creation_rules: []\n');
    const lazy = readWorkingTree(dir, { lazy: true });
    expect([...lazy.keys()]).toEqual([...readWorkingTree(dir).keys()]);
    // not read until asked for: an edit after the listing is what it gives
    writeFileSync(join(dir, 'config/a.yaml'), 'version: 2\nlogging: {}\n');
    expect(lazy.get('config/a.yaml')).toBe('version: 2\nlogging: {}\n');
    // removed after the listing: as if it had not been listed once asked for
    rmSync(join(dir, 'config/gone.yaml'));
    expect(lazy.get('config/gone.yaml')).toBeUndefined();
    expect(lazy.has('config/gone.yaml')).toBe(false);
    expect([...lazy]).toEqual([...readWorkingTree(dir)]);
    expect(new Map(lazy)).toEqual(readWorkingTree(dir));
  });

  it('refuses a directory that is not a configuration repository', () => {
    expect(() => readWorkingTree(tempDir())).toThrow(GitopsError);
  });
});

describe('treeSignature', () => {
  it('stays while nothing changes, and moves on an edit of the same size, a replacement, an added or a removed file', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'config'));
    const file = join(dir, 'config/a.yaml');
    writeFileSync(file, 'a: 1\n');
    writeFileSync(join(dir, 'config/notes.txt'), 'not read');
    const first = treeSignature(dir);
    expect(treeSignature(dir)).toBe(first);
    // a file readWorkingTree does not read is not part of it
    writeFileSync(join(dir, 'config/notes.txt'), 'still not read');
    expect(treeSignature(dir)).toBe(first);
    const seen = new Set([first]);
    const moved = (): void => {
      const s = treeSignature(dir);
      expect(seen.has(s)).toBe(false);
      seen.add(s);
    };
    writeFileSync(file, 'a: 2\n'); // same size: the modification time and ctime move
    utimesSync(file, new Date(2030, 0, 1), new Date(2030, 0, 1)); // even with an old-looking time
    moved();
    writeFileSync(join(dir, 'config/b.yaml.tmp'), 'a: 3\n');
    renameSync(join(dir, 'config/b.yaml.tmp'), file); // an editor's rename: another inode
    moved();
    const replaced = treeSignature(dir);
    writeFileSync(join(dir, 'config/c.yaml'), 'c: 1\n');
    moved();
    // removed again: the tree's metadata is what it was before the file came
    rmSync(join(dir, 'config/c.yaml'));
    expect(treeSignature(dir)).toBe(replaced);
  });
});

describe('WatchSource', () => {
  it('reads the tree on every notification, and on a quiet rescan only when its signature moved', async () => {
    let reads = 0;
    let signature = 's1';
    let text = 'a: 1\n';
    const source = new WatchSource({
      readTree: () => (reads++, new Map([['config/a.yaml', text]])),
      signature: () => signature,
      watch: () => ({ stop: () => undefined }),
    });
    const first = await source.next('start');
    expect(reads).toBe(1);
    expect((await source.next(QUIET_TRIGGER)).id).toBe(first.id);
    expect(reads).toBe(1);
    // a notification reads even when the metadata looks the same (an edit within the clock's resolution)
    text = 'a: 2\n';
    const edited = await source.next('watch');
    expect(reads).toBe(2);
    expect(edited.id).not.toBe(first.id);
    expect((await source.next(QUIET_TRIGGER)).id).toBe(edited.id);
    expect(reads).toBe(2);
    signature = 's2';
    text = 'a: 3\n';
    const rescanned = await source.next(QUIET_TRIGGER);
    expect(reads).toBe(3);
    expect(await rescanned.open()).toMatchObject({ files: new Map([['config/a.yaml', 'a: 3\n']]) });
    // without a signature every rescan reads
    const plain = new WatchSource({ readTree: () => (reads++, new Map()), watch: () => ({ stop: () => undefined }) });
    await plain.next(QUIET_TRIGGER);
    await plain.next(QUIET_TRIGGER);
    expect(reads).toBe(5);
  });
});

describe('writeFileAtomic', () => {
  it('replaces the file whole and leaves no temp file', () => {
    const dir = tempDir();
    const file = join(dir, 'a.yaml');
    writeFileSync(file, 'old\n');
    writeFileAtomic(file, 'new\n');
    expect(readText(file)).toBe('new\n');
    expect(readdirSync(dir)).toEqual(['a.yaml']);
  });

  it('fails cleanly when the directory does not exist', () => {
    expect(() => writeFileAtomic(join(tempDir(), 'missing/a.yaml'), 'x')).toThrow(
      expect.objectContaining({ code: 'write-failed' }),
    );
  });
});

describe('readUserFile', () => {
  it('names the file and the reason', () => {
    expect(() => readUserFile('/nonexistent/profile.json', 'hardware profile')).toThrow(
      'cannot read hardware profile /nonexistent/profile.json: ENOENT',
    );
  });
});

describe('fileSchemaCache', () => {
  it('writes compiled validators once and loads them back as working functions', () => {
    const dir = tempDir();
    const files = edit(
      exampleFiles(),
      'schemas/logging.schema.json',
      '"title": "logging"',
      '"title": "logging (io cache test)"',
    );
    const first = loadSchemas(files, fileSchemaCache(dir));
    expect(first.diagnostics).toEqual([]);
    expect(readdirSync(dir)).toHaveLength(1);
    // a different text with the same digest is impossible; read the entry back directly
    const key = readdirSync(dir)[0]!.replace(/^validators-|\.cjs$/g, '');
    const loaded = fileSchemaCache(dir).load(key)!;
    const validate = loaded.config!;
    expect(validate({ frame_capture: { fps: 500 } })).toBe(false);
    expect(validate.errors?.[0]).toMatchObject({ keyword: 'maximum', instancePath: '/frame_capture/fps' });
    expect(validate({ frame_capture: { fps: 5 } })).toBe(true);
  });

  it('creates the cache folder and its parent, never a missing home above them', () => {
    const home = tempDir();
    const files = exampleFiles();
    loadSchemas(files, fileSchemaCache(join(home, '.cache', 'doorbell-gitops')));
    expect(readdirSync(join(home, '.cache', 'doorbell-gitops'))).toHaveLength(1);
    const missing = join(home, 'gone', '.cache', 'doorbell-gitops');
    expect(loadSchemas(files, fileSchemaCache(missing)).diagnostics).toEqual([]);
    expect(existsSync(join(home, 'gone'))).toBe(false);
  });

  it('ignores a corrupt entry', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'validators-abc.cjs'), 'this is not javascript(');
    expect(fileSchemaCache(dir).load('abc')).toBeUndefined();
  });
});
