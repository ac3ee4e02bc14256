import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateRepository } from '../../agent/core/validate.js';
import { readCommitFiles } from '../../agent/io/git-tree.js';
import { makeRepo } from '../helpers/git.js';
import { exampleFiles, PROJECT } from '../helpers/project.js';

describe('reading a commit\'s configuration from git objects', () => {
  it('gives the same files as the working tree, and validates the same', async () => {
    const repo = makeRepo();
    for (const sub of ['config', 'environments', 'schemas', '.sops.yaml']) cpSync(join(PROJECT, sub), join(repo.dir, sub), { recursive: true });
    writeFileSync(join(repo.dir, 'README.md'), 'not configuration');
    const oid = repo.commit('example', { file: 'README.md', content: 'readme' });
    const files = await readCommitFiles(join(repo.dir, '.git'), oid);
    expect([...files.keys()].sort()).toEqual([...exampleFiles().keys()].sort());
    expect(validateRepository(files).valid).toBe(true);
    // a later working-tree edit does not change what the commit holds
    writeFileSync(join(repo.dir, 'config/motion.yaml'), 'garbage: [');
    expect((await readCommitFiles(join(repo.dir, '.git'), oid)).get('config/motion.yaml')).toBe(exampleFiles().get('config/motion.yaml'));
  });

  it('refuses a commit with an oversized configuration file, and a missing commit', async () => {
    const repo = makeRepo();
    const oid = repo.commit('big', { file: 'config/motion.yaml', content: 'x'.repeat(2048) });
    await expect(readCommitFiles(join(repo.dir, '.git'), oid, { maxFileBytes: 1024 })).rejects.toThrow(/config\/motion\.yaml is 2\.0 KiB; configuration files are limited to 1\.0 KiB/);
    await expect(readCommitFiles(join(repo.dir, '.git'), 'f'.repeat(40))).rejects.toThrow(/cannot read the tree/);
  });
});
