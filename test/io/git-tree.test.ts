import { cpSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileProblem } from '../../agent/core/repo/file.js';
import { REPO_ROOTS } from '../../agent/core/repo/layout.js';
import { validateRepository } from '../../agent/core/validate/validate.js';
import { addBlobTexts, readCommitFiles } from '../../agent/io/git-tree.js';
import { readWorkingTree } from '../../agent/io/repo-files.js';
import { readCommitFilesWithGit } from '../../agent/io/git-revisions.js';
import { makeRepo } from '../helpers/git.js';
import { exampleFiles, PROJECT } from '../helpers/project.js';

describe("reading a commit's configuration from git objects", () => {
  it("a work tree's texts stand under the ids git gives them, so a commit read after it reads only what changed", async () => {
    const repo = makeRepo();
    repo.commit('logging', { file: 'config/logging.yaml', content: 'version: 2\n' });
    const oid = repo.commit('one', {
      file: 'config/motion.yaml',
      content: 'version: 2\nmotion:\n  sensitivity: 0.5\n',
    });
    writeFileSync(join(repo.dir, 'config/motion.yaml'), 'version: 2\nmotion:\n  sensitivity: 0.7\n');
    writeFileSync(join(repo.dir, 'config/storage.yaml'), '\ufeffversion: 2\n');
    const tree = readWorkingTree(repo.dir);
    const blobs = new Map<string, string>();
    addBlobTexts(tree, blobs);
    const ids = (file: string): string => repo.git(['hash-object', file]);
    expect(blobs.get(ids('config/motion.yaml'))).toBe(tree.get('config/motion.yaml'));
    expect(blobs.get(ids('config/logging.yaml'))).toBe(tree.get('config/logging.yaml'));
    // a text that its bytes would not give back (the mark is dropped when read) is left out
    expect(blobs.has(ids('config/storage.yaml'))).toBe(false);
    const files = await readCommitFiles(join(repo.dir, '.git'), oid, { blobs });
    expect(files.get('config/motion.yaml')).toBe('version: 2\nmotion:\n  sensitivity: 0.5\n');
    expect(files.get('config/logging.yaml')).toBe('version: 2\n');
  });

  it('gives the same files as the working tree, and validates the same', async () => {
    const repo = makeRepo();
    for (const sub of [...REPO_ROOTS, '.sops.yaml'])
      cpSync(join(PROJECT, sub), join(repo.dir, sub), { recursive: true });
    writeFileSync(join(repo.dir, 'README.md'), 'not configuration');
    const oid = repo.commit('example', { file: 'README.md', content: 'readme' });
    const files = await readCommitFiles(join(repo.dir, '.git'), oid);
    expect([...files.keys()].sort()).toEqual([...exampleFiles().keys()].sort());
    expect(validateRepository(files).valid).toBe(true);
    // a later working-tree edit does not change what the commit holds
    writeFileSync(join(repo.dir, 'config/motion.yaml'), 'garbage: [');
    expect((await readCommitFiles(join(repo.dir, '.git'), oid)).get('config/motion.yaml')).toBe(
      exampleFiles().get('config/motion.yaml'),
    );
  });

  it('keeps an oversized file, a symbolic link or bytes that are not UTF-8 as what core reports; a missing commit is an error', async () => {
    const repo = makeRepo();
    repo.commit('big', { file: 'config/motion.yaml', content: 'x'.repeat(2048) });
    writeFileSync(join(repo.dir, 'config/latin1.yaml'), Buffer.from([0x61, 0x3a, 0x20, 0xe9, 0x0a]));
    symlinkSync('/etc/hostname', join(repo.dir, 'config/link.yaml'));
    const oid = repo.commit('odd files', { file: 'config/storage.yaml', content: 'version: 2\n' });
    const files = await readCommitFiles(join(repo.dir, '.git'), oid, { maxFileBytes: 1024 });
    expect(fileProblem(files.get('config/motion.yaml')!)).toEqual({ code: 'file-too-large', size: 2048 });
    expect(fileProblem(files.get('config/link.yaml')!)).toEqual({ code: 'symlink' });
    expect(fileProblem(files.get('config/latin1.yaml')!)).toEqual({ code: 'not-utf8', byte: 0xe9, line: 1, column: 4 });
    expect(fileProblem(files.get('config/storage.yaml')!)).toBeUndefined();
    await expect(readCommitFiles(join(repo.dir, '.git'), 'f'.repeat(40))).rejects.toMatchObject({
      code: 'commit-unreadable',
    });
  });

  it("the operator's git reads the same files, texts and stand-ins (a submodule and a packed history too)", async () => {
    const repo = makeRepo();
    for (const sub of [...REPO_ROOTS, '.sops.yaml'])
      cpSync(join(PROJECT, sub), join(repo.dir, sub), { recursive: true });
    writeFileSync(join(repo.dir, 'config/big.yaml'), 'x'.repeat(2048));
    writeFileSync(join(repo.dir, 'config/latin1.yaml'), Buffer.from([0x61, 0x3a, 0x20, 0xe9, 0x0a]));
    writeFileSync(join(repo.dir, 'config/notes.txt'), 'not configuration');
    symlinkSync('/etc/hostname', join(repo.dir, 'config/link.txt'));
    repo.commit('example and odd files', { file: 'README.md', content: 'readme' });
    // a submodule: a gitlink in the index, committed without a work tree for it
    repo.git(['update-index', '--add', '--cacheinfo', `160000,${'a'.repeat(40)},environments/vendored`]);
    repo.git(['commit', '-q', '-m', 'a submodule']);
    const first = repo.git(['rev-parse', 'HEAD']);
    repo.git(['rm', '-q', '--cached', 'environments/vendored']);
    const second = repo.commit('one more', { file: 'config/motion.yaml', content: 'version: 2\n' });
    const same = async (oid: string): Promise<void> => {
      const objects = await readCommitFiles(join(repo.dir, '.git'), oid, { maxFileBytes: 1024 });
      const blobs = new Map<string, string>();
      const withGit = await readCommitFilesWithGit(repo.dir, oid, { maxFileBytes: 1024, blobs });
      // (in git's order of tree entries: hardware.yaml before hardware/; isomorphic-git lists the folder first)
      expect(new Map(withGit)).toEqual(new Map(objects));
      // a second read of the same commit finds every text among the blobs already read
      expect(await readCommitFilesWithGit(repo.dir, oid, { maxFileBytes: 1024, blobs })).toEqual(withGit);
    };
    await same(first);
    await same(second);
    expect(fileProblem((await readCommitFilesWithGit(repo.dir, first)).get('environments/vendored')!)).toEqual({
      code: 'not-a-file',
    });
    repo.git(['gc', '-q']);
    await same(second);
    await expect(readCommitFilesWithGit(repo.dir, 'f'.repeat(40))).rejects.toMatchObject({ code: 'commit-unreadable' });
  });
});
