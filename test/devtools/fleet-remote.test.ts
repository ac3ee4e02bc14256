// The example configuration the demo and the bench build their fleet from (copyExample): as
// committed at HEAD in a git checkout, whatever the working tree holds; the files on disk where
// the package is not a checkout.

import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyExample } from '../../devtools/fleet-remote.js';
import { makeRepo } from '../helpers/git.js';
import { PROJECT, tempDir } from '../helpers/project.js';

const FPS = 'config/frame_capture.yaml';
const parts = ['config', 'environments', 'schemas', '.sops.yaml'];

describe('copyExample', () => {
  it('takes the committed example from a checkout, not an edit in progress; the files on disk elsewhere', () => {
    const repo = makeRepo();
    for (const p of parts) cpSync(join(PROJECT, p), join(repo.dir, p), { recursive: true });
    repo.git(['add', '-A']);
    repo.git(['-c', 'user.name=A', '-c', 'user.email=a@example.test', 'commit', '-q', '-m', 'example']);
    const committed = readFileSync(join(repo.dir, FPS), 'utf8');
    // the README's suggested edit, not committed, and a file that is not
    writeFileSync(join(repo.dir, FPS), committed.replace(/fps: \d+/, 'fps: 500'));
    writeFileSync(join(repo.dir, 'config/scratch.yaml'), 'not: committed\n');
    const fromCheckout = tempDir('example-');
    copyExample(repo.dir, fromCheckout);
    expect(readFileSync(join(fromCheckout, FPS), 'utf8')).toBe(committed);
    expect(() => readFileSync(join(fromCheckout, 'config/scratch.yaml'))).toThrow();
    expect(readFileSync(join(fromCheckout, '.sops.yaml'), 'utf8')).toBe(
      readFileSync(join(repo.dir, '.sops.yaml'), 'utf8'),
    );

    const plain = tempDir('package-');
    for (const p of parts) cpSync(join(repo.dir, p), join(plain, p), { recursive: true });
    const fromDisk = tempDir('example-');
    mkdirSync(fromDisk, { recursive: true });
    copyExample(plain, fromDisk);
    expect(readFileSync(join(fromDisk, FPS), 'utf8')).toMatch(/fps: 500/);
  });
});
