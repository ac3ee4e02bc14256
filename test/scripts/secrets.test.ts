// gitops secrets, end to end as a process: keys generated per run, a real .sops.yaml, a real
// $EDITOR (a shell script), real signals.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitops } from '../helpers/cli.js';
import { ageKey } from '../helpers/age.js';
import { CLI, coverageEnv, tempDir, writeText } from '../helpers/project.js';

async function workspace(): Promise<{
  dir: string;
  key: Awaited<ReturnType<typeof ageKey>>;
  other: Awaited<ReturnType<typeof ageKey>>;
  file: string;
  env: Record<string, string>;
}> {
  const [key, other] = await Promise.all([ageKey(), ageKey()]);
  const dir = tempDir('secrets-');
  writeText(
    join(dir, '.sops.yaml'),
    `creation_rules:\n  - path_regex: ^prod/\n    age: ${other.recipient}\n  - path_regex: ^dev/\n    age: >-\n      ${key.recipient}\n`,
  );
  const file = join(dir, 'dev/app.yaml');
  writeText(file, 'token: s3cr3t-token\nport: 8080\nuser: admin\n');
  const r = gitops(['secrets', 'encrypt', file, '--in-place'], { cwd: dir });
  expect(r.stderr).toBe('');
  return { dir, key, other, file, env: { SOPS_AGE_KEY_FILE: key.file } };
}

/** An $EDITOR that records where it was called and what mode the file had, then runs `sed`. */
function editorScript(sedExpr: string, record: string): string {
  const path = join(tempDir('editor-'), 'edit.sh');
  writeFileSync(
    path,
    `#!/bin/sh\necho "$1" > '${record}'\nstat -c %a "$1" >> '${record}'\nstat -c %a "$(dirname "$1")" >> '${record}'\nsed -i '${sedExpr}' "$1"\n`,
    { mode: 0o755 },
  );
  return path;
}

describe('gitops secrets', () => {
  it("encrypt follows the .sops.yaml rule for the path; decrypt prints the plaintext in the file's format", async () => {
    const w = await workspace();
    const text = readFileSync(w.file, 'utf8');
    expect(text).not.toContain('s3cr3t-token');
    expect(text).toContain(w.key.recipient);
    expect(text).not.toContain(w.other.recipient);
    const d = gitops(['secrets', 'decrypt', w.file], { env: w.env });
    expect(d.status).toBe(0);
    expect(d.stdout).toBe('token: s3cr3t-token\nport: 8080\nuser: admin\n');
  });

  it('key sources: --identity, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY, ~/.config/sops/age/keys.txt', async () => {
    const w = await workspace();
    expect(gitops(['secrets', 'decrypt', w.file, '--identity', w.key.file]).status).toBe(0);
    expect(gitops(['secrets', 'decrypt', w.file], { env: { SOPS_AGE_KEY: w.key.identity } }).status).toBe(0);
    const home = tempDir('home-');
    writeText(join(home, '.config/sops/age/keys.txt'), readFileSync(w.key.file, 'utf8'));
    expect(gitops(['secrets', 'decrypt', w.file], { env: { HOME: home } }).status).toBe(0);
    // --identity wins over the environment
    const wrong = gitops(['secrets', 'decrypt', w.file, '--identity', w.other.file], { env: w.env });
    expect(wrong.status).toBe(1);
    expect(wrong.stdout).toBe('');
    expect(wrong.stderr).toContain('none of the available keys');
  });

  it('set changes one value; every other ciphertext stays byte-identical', async () => {
    const w = await workspace();
    const before = readFileSync(w.file, 'utf8').split('\n');
    const r = gitops(['secrets', 'set', w.file, 'token', '-'], { env: w.env, input: 'n3w-token\n' });
    expect(r.status).toBe(0);
    const after = readFileSync(w.file, 'utf8').split('\n');
    expect(after.find((l) => l.startsWith('port:'))).toBe(before.find((l) => l.startsWith('port:')));
    expect(after.find((l) => l.startsWith('user:'))).toBe(before.find((l) => l.startsWith('user:')));
    expect(after.find((l) => l.startsWith('token:'))).not.toBe(before.find((l) => l.startsWith('token:')));
    expect(gitops(['secrets', 'decrypt', w.file], { env: w.env }).stdout).toContain('token: n3w-token\n');
    expect(gitops(['secrets', 'unset', w.file, 'user'], { env: w.env }).status).toBe(0);
    expect(gitops(['secrets', 'decrypt', w.file], { env: w.env }).stdout).toBe('token: n3w-token\nport: 8080\n');
  });

  it('edit: a 0600 file in a private directory, removed afterwards; only the changed value is re-encrypted', async () => {
    const w = await workspace();
    const record = join(tempDir(), 'record');
    const before = readFileSync(w.file, 'utf8');
    const r = gitops(['secrets', 'edit', w.file], { env: { ...w.env, EDITOR: editorScript('s/8080/9090/', record) } });
    expect(r.stderr).toContain('saved');
    const [path, mode, dirMode] = readFileSync(record, 'utf8').trim().split('\n');
    expect(mode).toBe('600');
    expect(dirMode).toBe('700');
    expect(existsSync(path!)).toBe(false);
    const after = readFileSync(w.file, 'utf8');
    expect(after.split('\n')[0]).toBe(before.split('\n')[0]); // token unchanged
    expect(gitops(['secrets', 'decrypt', w.file], { env: w.env }).stdout).toContain('port: 9090');
  });

  it('edit: a failing editor, or killed by a signal, leaves the original untouched and no plaintext behind', async () => {
    const w = await workspace();
    const original = readFileSync(w.file);
    const failing = join(tempDir(), 'fail.sh');
    writeFileSync(failing, '#!/bin/sh\nexit 3\n', { mode: 0o755 });
    const r = gitops(['secrets', 'edit', w.file], { env: { ...w.env, EDITOR: failing } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('exited with status 3; nothing was written');
    expect(readFileSync(w.file).equals(original)).toBe(true);

    const record = join(tempDir(), 'record');
    const hang = join(tempDir(), 'hang.sh');
    writeFileSync(hang, `#!/bin/sh\necho "$1" > '${record}'\nexec sleep 30\n`, { mode: 0o755 });
    const child = spawn(process.execPath, [CLI, 'secrets', 'edit', w.file], {
      env: { PATH: process.env.PATH ?? '', HOME: '/tmp', ...w.env, EDITOR: hang, ...coverageEnv() },
      stdio: 'ignore',
    });
    for (let i = 0; i < 100 && !existsSync(record); i++) await new Promise((res) => setTimeout(res, 50));
    const plain = readFileSync(record, 'utf8').trim();
    expect(existsSync(plain)).toBe(true);
    child.kill('SIGTERM');
    await new Promise((res) => child.on('exit', res));
    expect(existsSync(plain)).toBe(false);
    expect(readFileSync(w.file).equals(original)).toBe(true);
  });

  it('edit in a configuration repository refuses values that break the schema, and keeps the file', async () => {
    const { exampleCopy } = await import('../helpers/project.js');
    const dir = exampleCopy();
    const file = join(dir, 'environments/development/secrets.sops.yaml');
    const original = readFileSync(file);
    const key = join(dir, 'environments/development/keys/dev-operator.agekey');
    const r = gitops(['secrets', 'set', file, 'frame_capture.password', '5'], { env: { SOPS_AGE_KEY_FILE: key } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('frame_capture.password must be string');
    expect(r.stderr).toContain('was not changed');
    expect(readFileSync(file).equals(original)).toBe(true);
  });

  it("updatekeys re-wraps to the rule's recipients; rotate changes every ciphertext; verify checks structure, rule and MAC", async () => {
    const w = await workspace();
    const added = await ageKey();
    writeText(
      join(w.dir, '.sops.yaml'),
      readFileSync(join(w.dir, '.sops.yaml'), 'utf8') + `      ,${added.recipient}\n`,
    );
    const stale = gitops(['secrets', 'verify', w.file], { cwd: w.dir });
    expect(stale.status).toBe(1);
    expect(stale.stderr).toContain(`recipient ${added.recipient}`);
    expect(stale.stdout).toContain('MAC not checked');
    const valuesBefore = readFileSync(w.file, 'utf8').split('\n').slice(0, 3);
    expect(gitops(['secrets', 'updatekeys', w.file], { cwd: w.dir, env: w.env }).status).toBe(0);
    expect(readFileSync(w.file, 'utf8').split('\n').slice(0, 3)).toEqual(valuesBefore);
    expect(gitops(['secrets', 'decrypt', w.file, '--identity', added.file]).status).toBe(0);
    const ok = gitops(['secrets', 'verify', w.file], { cwd: w.dir, env: w.env });
    expect(ok.stdout).toMatch(/ok; 2 age recipient\(s\); MAC verified/);
    expect(gitops(['secrets', 'rotate', w.file], { env: w.env }).status).toBe(0);
    const rotated = readFileSync(w.file, 'utf8').split('\n').slice(0, 3);
    rotated.forEach((l, i) => expect(l).not.toBe(valuesBefore[i]));
    expect(gitops(['secrets', 'decrypt', w.file], { env: w.env }).stdout).toContain('token: s3cr3t-token');
  });

  it('bad input: a missing file, a 10 MB file, a hand-edited value, no key at all', async () => {
    const w = await workspace();
    expect(gitops(['secrets', 'decrypt', join(w.dir, 'nope.yaml')], { env: w.env }).stderr).toContain('does not exist');
    const big = join(w.dir, 'big.yaml');
    writeFileSync(big, 'a: ' + 'x'.repeat(10 * 1024 * 1024) + '\n');
    expect(gitops(['secrets', 'decrypt', big], { env: w.env }).stderr).toContain(
      'is 10.0 MiB; secrets files are limited to 4 MiB',
    );
    writeFileSync(
      w.file,
      readFileSync(w.file, 'utf8').replace(/^port: ENC\[AES256_GCM,data:[^,]+/m, 'port: ENC[AES256_GCM,data:AAAA'),
    );
    const tampered = gitops(['secrets', 'decrypt', w.file], { env: w.env });
    expect(tampered.status).toBe(1);
    expect(tampered.stdout).toBe('');
    expect(tampered.stderr).toMatch(/port cannot be decrypted/);
    expect(gitops(['secrets', 'decrypt', w.file], { env: { HOME: tempDir() } }).stderr).toContain(
      'give an identity with --identity FILE',
    );
  });

  it('changes: which keys changed since a revision, from the ciphertexts, with no key at all', async () => {
    const w = await workspace();
    const git = (...a: string[]): string =>
      execFileSync('git', a, {
        cwd: w.dir,
        encoding: 'utf8',
        env: {
          ...process.env,
          GIT_CONFIG_GLOBAL: '/dev/null',
          GIT_AUTHOR_NAME: 'a',
          GIT_AUTHOR_EMAIL: 'a@x',
          GIT_COMMITTER_NAME: 'a',
          GIT_COMMITTER_EMAIL: 'a@x',
        },
      });
    git('init', '-q');
    git('add', '-A');
    git('commit', '-q', '-m', 'secrets');
    expect(gitops(['secrets', 'set', w.file, 'token', '"rotated"'], { env: w.env }).status).toBe(0);
    expect(gitops(['secrets', 'set', w.file, 'db.password', '"new"'], { env: w.env }).status).toBe(0);
    expect(gitops(['secrets', 'unset', w.file, 'user'], { env: w.env }).status).toBe(0);
    const r = gitops(['secrets', 'changes', w.file], { env: { HOME: tempDir() } });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('db.password added\ntoken changed\nuser removed\n');
    expect(gitops(['secrets', 'changes', w.file, '--base', 'nope']).stderr).toContain('"nope" is not a commit');
  });
});
