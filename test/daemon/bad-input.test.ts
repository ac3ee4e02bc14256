// The device refuses everything CI refuses: each bad input is run through `gitops validate`,
// the watch-mode agent, the remote agent with real signed commits over a real git server, and
// `gitops agent import` of a backup holding that commit; all four refuse it with the same code
// at the same file, line and column, and the running configuration stays.

import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent } from '../helpers/agent-process.js';
import type { AgentProcess } from '../helpers/agent-process.js';
import { gitops } from '../helpers/cli.js';
import { requestFresh, signedFleet, until } from '../helpers/fleet.js';
import type { SignedFleet } from '../helpers/fleet.js';
import { run } from '../helpers/git.js';
import { PROJECT, tempDir } from '../helpers/project.js';
import { bearer } from '../helpers/tokens.js';

interface Located {
  code: string;
  file?: string;
  line?: number;
  column?: number;
}
interface Status {
  current: { commit: string } | null;
  last_sync: { time: string; trigger: string; result: string } | null;
  last_error: (Located & { commit: string | null; diagnostics?: Located[] }) | null;
}

/** A change to a working tree: the file it writes (bytes, or a symbolic link to a target). */
interface BadInput {
  name: string;
  file: string;
  code: string;
  content: (original: Buffer | undefined) => Buffer | { symlink: string };
}

const text =
  (f: (s: string) => string) =>
  (original: Buffer | undefined): Buffer =>
    Buffer.from(f(original!.toString('utf8')));
const replace = (from: string, to: string) =>
  text((s) => {
    if (!s.includes(from)) throw new Error(`test setup: no "${from}"`);
    return s.replace(from, to);
  });
const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

const CASES: BadInput[] = [
  {
    name: 'a syntax error',
    file: 'config/motion.yaml',
    code: 'yaml-syntax',
    content: text((s) => `${s}  extra: [1, 2\n`),
  },
  {
    name: 'tab indentation',
    file: 'config/motion.yaml',
    code: 'yaml-syntax',
    content: replace('  sensitivity: 0.6', '\tsensitivity: 0.6'),
  },
  {
    name: 'a duplicate key',
    file: 'config/motion.yaml',
    code: 'duplicate-key',
    content: replace('  sensitivity: 0.6', '  sensitivity: 0.6\n  sensitivity: 0.7'),
  },
  {
    name: 'an alias bomb',
    file: 'config/motion.yaml',
    code: 'yaml-alias-limit',
    content: text(
      (s) =>
        `${s}a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n` +
        'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n',
    ),
  },
  {
    name: 'nesting too deep',
    file: 'config/motion.yaml',
    code: 'yaml-too-deep',
    content: text((s) => `${s}  zones_deep: ${nested(100)}\n`),
  },
  {
    name: 'a file over the size cap',
    file: 'config/motion.yaml',
    code: 'file-too-large',
    content: text((s) => `${s}${'# padding padding padding\n'.repeat(45_000)}`),
  },
  {
    name: 'a wrong type',
    file: 'config/frame_capture.yaml',
    code: 'schema-type',
    content: replace('  fps: 15', '  fps: fast'),
  },
  {
    name: 'an unknown key',
    file: 'config/motion.yaml',
    code: 'unknown-key',
    content: replace('  sensitivity: 0.6', '  sensitivity: 0.6\n  sensitivty: 0.5'),
  },
  {
    name: 'a __proto__ key',
    file: 'config/motion.yaml',
    code: 'reserved-key',
    content: replace('  sensitivity: 0.6', '  sensitivity: 0.6\n  __proto__: { enabled: false }'),
  },
  {
    name: 'a constructor key',
    file: 'environments/development/overrides.yaml',
    code: 'reserved-key',
    content: text((s) => `${s}constructor: 1\n`),
  },
  {
    name: 'bytes that are not UTF-8',
    file: 'config/motion.yaml',
    code: 'not-utf8',
    content: (o) => Buffer.concat([o!.subarray(0, 40), Buffer.from([0xff, 0xfe]), o!.subarray(40)]),
  },
  {
    name: 'a symbolic link in the tree',
    file: 'config/logging.yaml',
    code: 'symlink',
    content: () => ({ symlink: '/etc/hostname' }),
  },
  {
    name: 'a syntax error in the environment policy',
    file: 'environments/development/environment.yaml',
    code: 'yaml-syntax',
    content: text((s) => s.replace(/^policy:/m, 'policy: [')),
  },
];

/** Writes the bad input into a tree at once (a watcher never sees half of it); returns the undo. */
function applyInput(dir: string, c: BadInput): () => void {
  const path = join(dir, c.file);
  const original = existsSync(path) ? readFileSync(path) : undefined;
  const content = c.content(original);
  const tmp = join(dirname(path), '.bad-input.tmp');
  rmSync(tmp, { force: true });
  if (Buffer.isBuffer(content)) writeFileSync(tmp, content);
  else symlinkSync(content.symlink, tmp);
  renameSync(tmp, path);
  return () => {
    if (original === undefined) return rmSync(path, { force: true });
    writeFileSync(tmp, original);
    renameSync(tmp, path);
  };
}

const located = (d: Located): Located => ({
  code: d.code,
  ...(d.file ? { file: d.file } : {}),
  ...(d.line ? { line: d.line } : {}),
  ...(d.column ? { column: d.column } : {}),
});

/** The first error of a compiler-style listing (`file:line:col error code message`). */
function firstPrinted(stderr: string): Located | undefined {
  const m = /^(\S+?)(?::(\d+))?(?::(\d+))? error (\S+) /m.exec(stderr);
  return m
    ? located({
        file: m[1]!,
        ...(m[2] ? { line: Number(m[2]) } : {}),
        ...(m[3] ? { column: Number(m[3]) } : {}),
        code: m[4]!,
      })
    : undefined;
}

describe('every bad input is refused alike by gitops validate, the watch agent, the remote agent and agent import', () => {
  const watchDir = tempDir('bad-input-watch-');
  const remoteState = tempDir('bad-input-state-');
  const key = join(PROJECT, 'environments/development/keys/dev-bench-01.agekey');
  let fleet: SignedFleet;
  let work: SignedFleet['work'];
  let watch: AgentProcess;
  let remote: AgentProcess;
  let watchApi = '';
  let remoteApi = '';
  // a connection of its own each time: the test process blocks for seconds in spawnSync (validate,
  // import), long enough for the agent to close a pooled keep-alive connection under it
  const status = async (api: string): Promise<Status> =>
    JSON.parse((await requestFresh(`${api}/api/v1/status`)).text) as Status;
  const delivered = (state: string): string =>
    readFileSync(join(state, 'components', 'capture', 'config.json'), 'utf8');

  beforeAll(async () => {
    for (const sub of ['config', 'environments', 'schemas', '.sops.yaml'])
      cpSync(join(PROJECT, sub), join(watchDir, sub), { recursive: true });
    fleet = await signedFleet();
    work = fleet.work;
    remote = startAgent([
      '--config',
      fleet.settings(remoteState, remoteState),
      '--bake',
      '0',
      '--with-example-pipeline',
    ]);
    watch = startAgent([
      '--watch',
      watchDir,
      '--env',
      'development',
      '--device',
      'dev-bench-01',
      '--identity',
      key,
      '--hardware-profile',
      'recorded',
      '--state',
      join(watchDir, '.state'),
      '--listen',
      '127.0.0.1:0',
      '--bake',
      '0',
      '--with-example-pipeline',
    ]);
    [remoteApi, watchApi] = await Promise.all([remote.api, watch.api]);
    await Promise.all([
      until(
        'the remote agent to apply the anchor',
        () => status(remoteApi),
        (s) => s.current?.commit === fleet.anchor,
      ),
      until(
        'the watch agent to apply the tree',
        () => status(watchApi),
        (s) => s.current !== null,
      ),
    ]);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([watch?.stop(), remote?.stop()]);
    await fleet?.server.close();
  });

  it.each(CASES)(
    '$name',
    async (c) => {
      const watchBefore = await status(watchApi);
      const undoWatch = applyInput(watchDir, c);
      const undoWork = applyInput(work.dir, c);
      try {
        await refusedByAll(c, watchBefore);
      } finally {
        // back to the good tree and commit for the next case
        undoWatch();
        undoWork();
        work.git(['reset', '-q', '--hard', fleet.anchor]);
        fleet.push();
      }
    },
    90_000,
  );

  async function refusedByAll(c: BadInput, watchBefore: Status): Promise<void> {
    // 1. CI: gitops validate
    const ci = gitops([
      'validate',
      '--root',
      work.dir,
      '--env',
      'development',
      '--device',
      'dev-bench-01',
      '--format',
      'json',
    ]);
    expect(ci.status, ci.stderr).toBe(1);
    const ciFirst = located(
      (JSON.parse(ci.stdout) as { diagnostics: Array<Located & { severity: string }> }).diagnostics.find(
        (d) => d.severity === 'error',
      )!,
    );
    expect(ciFirst).toMatchObject({ code: c.code, file: c.file });

    // 2. the watch-mode agent
    const watchDelivered = delivered(join(watchDir, '.state'));
    const watched = await until(
      `the watch agent to refuse ${c.name}`,
      () => status(watchApi),
      (s) =>
        s.current?.commit !== watchBefore.current?.commit ||
        (s.last_error !== null && s.last_error.commit !== watchBefore.last_error?.commit),
    );
    expect(watched.current?.commit).toBe(watchBefore.current?.commit);
    expect(located(watched.last_error!.diagnostics![0]!)).toEqual(ciFirst);
    expect(delivered(join(watchDir, '.state'))).toBe(watchDelivered);

    // 3. the remote agent, the same change as a signed commit
    const bad = fleet.commit(`bad input: ${c.name}`);
    fleet.push();
    const remoteDelivered = delivered(remoteState);
    const synced = (await (
      await fetch(`${remoteApi}/api/v1/sync`, { method: 'POST', headers: bearer(fleet.tokens.operator) })
    ).json()) as { outcome: string; commit: string };
    expect(synced).toMatchObject({ outcome: 'refused', commit: bad });
    const after = await status(remoteApi);
    expect(after.current?.commit).toBe(fleet.anchor);
    expect(after.last_error).toMatchObject({ commit: bad });
    expect(located(after.last_error!.diagnostics![0]!)).toEqual(ciFirst);
    expect(delivered(remoteState)).toBe(remoteDelivered);

    // 4. agent import of a backup whose history ends at that commit: nothing is staged
    const fresh = tempDir('bad-input-import-');
    const parts = join(fresh, 'parts');
    mkdirSync(parts);
    run('git', ['bundle', 'create', '-q', join(parts, 'history.bundle'), 'main'], { cwd: work.dir });
    writeFileSync(
      join(parts, 'backup.json'),
      JSON.stringify({
        format: 1,
        environment: 'development',
        device: 'dev-bench-01',
        branch: 'main',
        commit: bad,
        subject: null,
        exported_at: '2026-03-01T12:00:00Z',
      }),
    );
    writeFileSync(join(parts, 'state.json'), '{}');
    writeFileSync(join(parts, 'journal.jsonl'), '');
    run('tar', [
      'czf',
      join(fresh, 'backup.tar.gz'),
      '-C',
      parts,
      'backup.json',
      'history.bundle',
      'journal.jsonl',
      'state.json',
    ]);
    const state = join(fresh, 'state');
    const imported = gitops([
      'agent',
      'import',
      join(fresh, 'backup.tar.gz'),
      '--config',
      fleet.settings(fresh, state),
    ]);
    expect(imported.status, imported.stderr).toBe(1);
    expect(firstPrinted(imported.stderr)).toEqual(ciFirst);
    expect(existsSync(join(state, 'current'))).toBe(false);
  }

  it('a refused tree is journaled once, however often it is read again', async () => {
    const before = await status(watchApi);
    const undo = applyInput(watchDir, {
      name: 'a new syntax error',
      file: 'config/storage.yaml',
      code: 'yaml-syntax',
      content: text((t) => `${t}  nowhere: {\n`),
    });
    const refused = await until(
      'the refusal',
      () => status(watchApi),
      (s) => s.last_error !== null && s.last_error.commit !== before.last_error?.commit,
    );
    // two syncs asked for by signal read the same tree again (and the 2 s rescan runs meanwhile)
    for (let i = 0; i < 2; i++) {
      const prior = (await status(watchApi)).last_sync;
      watch.child.kill('SIGHUP');
      await until(
        'the signalled sync',
        () => status(watchApi),
        (s) => s.last_sync?.trigger === 'signal' && s.last_sync.time !== prior?.time,
      );
    }
    const journal = readFileSync(join(watchDir, '.state', 'journal.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; commit: string });
    expect(journal.filter((e) => e.event === 'refused' && e.commit === refused.last_error!.commit)).toHaveLength(1);
    undo();
  }, 60_000);
});
