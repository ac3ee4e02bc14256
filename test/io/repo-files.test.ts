import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GitopsError } from '../../agent/core/errors.js';
import { readUserFile, readWorkingTree, writeFileAtomic } from '../../agent/io/repo-files.js';
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

  it('refuses a directory that is not a configuration repository', () => {
    expect(() => readWorkingTree(tempDir())).toThrow(GitopsError);
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
