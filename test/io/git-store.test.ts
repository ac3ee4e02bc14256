// The device's object store over a long life, against a real git http-backend on 127.0.0.1:
// a no-change poll asks for no pack, a change fetches only what is new, refused packs are
// removed, the store stays one bounded set of packs over 500 commits, and a remote that
// advertises 500,000 refs or sends a huge object is refused before it is held.

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitStore, MAX_PACKS } from '../../agent/io/git-store.js';
import type { FetchResult } from '../../agent/io/git-sync.js';
import { readCommitFiles } from '../../agent/io/git-tree.js';
import { run } from '../helpers/git.js';
import { startGitServer } from '../helpers/git-server.js';
import type { GitServer } from '../helpers/git-server.js';
import { PROJECT, tempDir } from '../helpers/project.js';

const COMMITS = 500;
/** The device sees a few commits at each poll (125 syncs over the 500 commits). */
const EVERY = 4;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/** A fast-import stream: the example configuration, then `n` commits that each change the capture fps. */
function history(n: number): Buffer {
  const parts: Buffer[] = [];
  const data = (b: Buffer | string): void => {
    const buf = Buffer.from(b);
    parts.push(Buffer.from(`data ${buf.length}\n`), buf, Buffer.from('\n'));
  };
  const capture = readFileSync(join(PROJECT, 'config/frame_capture.yaml'), 'utf8');
  for (let i = 1; i <= n; i++) {
    parts.push(
      Buffer.from(
        `commit refs/heads/main\nmark :${i}\ncommitter Ana Operator <ana@example.test> ${1_772_000_000 + i * 60} +0000\n`,
      ),
    );
    data(`change ${i}\n`);
    if (i === 1) {
      for (const sub of ['config', 'environments', 'schemas']) {
        for (const f of filesUnder(join(PROJECT, sub))) {
          parts.push(Buffer.from(`M 100644 inline ${relative(PROJECT, f)}\n`));
          data(readFileSync(f));
        }
      }
    }
    parts.push(Buffer.from('M 100644 inline config/frame_capture.yaml\n'));
    data(capture.replace(/ fps: \d+/, ` fps: ${i}`) + `# change ${i}\n`);
  }
  return Buffer.concat(parts);
}

describe('the device object store', () => {
  let server: GitServer;
  const root = tempDir('store-root-');
  const bare = join(root, 'fleet.git');
  const commits: string[] = [];
  const opts = (): { url: string; branch: string; maxBytes: number; timeoutMs: number } => ({
    url: `${server.url}/fleet.git`,
    branch: 'main',
    maxBytes: 64 << 20,
    timeoutMs: 60_000,
  });
  const point = (c: string): void => void run('git', ['update-ref', 'refs/heads/main', c], { cwd: bare });

  beforeAll(async () => {
    run('git', ['init', '-q', '--bare', '-b', 'main', bare]);
    const marks = join(root, 'marks');
    run('git', ['fast-import', '--quiet', `--export-marks=${marks}`], { cwd: bare, input: history(COMMITS) });
    const byMark = new Map(
      readFileSync(marks, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.slice(1).split(' ') as [string, string]),
    );
    for (let i = 1; i <= COMMITS; i++) commits.push(byMark.get(String(i))!);
    server = await startGitServer(root);
  });
  afterAll(async () => server?.close());

  it(`over ${COMMITS} commits: a no-change poll asks for no pack and costs the same bytes, each change fetches only what is new, the store stays a few packs of the history`, async () => {
    const store = new GitStore(join(tempDir('device-'), 'repo.git'));
    let applied: string | null = null;
    const noChange: number[] = [];
    const changes: number[] = [];
    for (let i = EVERY - 1; i < COMMITS; i += EVERY) {
      point(commits[i]!);
      const f = await store.fetch({ ...opts(), have: applied });
      expect(f).toMatchObject({
        commit: commits[i],
        pack: expect.stringMatching(/^objects\/pack\/pack-[0-9a-f]{40}\.pack$/),
      });
      changes.push(f.bytes);
      applied = f.commit;
      await store.settle(f, [applied]);
      expect(store.usage().packs).toBeLessThanOrEqual(MAX_PACKS);
      if (i % 40 === EVERY - 1 || i === COMMITS - 1) {
        const asked = server.packRequests;
        const requests = server.requests;
        const before = store.usage();
        const again = await store.fetch({ ...opts(), have: applied });
        expect(again).toMatchObject({ commit: applied, pack: null });
        await store.settle(again, [applied]);
        expect(server.packRequests).toBe(asked);
        // one request: the remote spoke protocol v2 before, so ls-refs is posted without the advertisement
        expect(server.requests - requests).toBe(1);
        expect(store.usage()).toEqual(before);
        noChange.push(again.bytes);
      }
    }
    // the same small advertisement every time, whatever the length of the history
    expect(noChange).toEqual(noChange.map(() => noChange[0]));
    expect(noChange[0]).toBeLessThan(1024);
    // a change costs what changed, not the history: the last fetches about as much as the second
    expect(Math.max(...changes.slice(-20))).toBeLessThan(1.25 * changes[1]!);
    expect(changes[0]).toBeGreaterThan(5 * changes[1]!);
    // the store holds the history once: no larger than git's own pack of it without deltas
    const objects = run('git', ['rev-list', '--objects', 'main'], { cwd: bare }).toString();
    const gitPack = run('git', ['pack-objects', '--stdout', '--no-reuse-delta', '--window=0'], {
      cwd: bare,
      input: objects
        .split('\n')
        .map((l) => l.split(' ')[0])
        .join('\n'),
    }).length;
    expect(store.usage().bytes).toBeLessThan(1.5 * gitPack);
    // what the device keeps reads back
    expect(
      (await readCommitFiles(store.gitdir, applied!, { cache: store.cache })).get('config/frame_capture.yaml'),
    ).toContain(`fps: ${COMMITS}\n`);
  }, 180_000);

  it('a remote that speaks protocol v1 only: the same, from its advertisement', async () => {
    const store = new GitStore(join(tempDir('device-'), 'repo.git'));
    server.v1Only = true;
    try {
      point(commits[0]!);
      const first = await store.fetch(opts());
      await store.settle(first, [first.commit]);
      const asked = server.packRequests;
      const again = await store.fetch({ ...opts(), have: first.commit });
      expect(again).toMatchObject({ commit: first.commit, pack: null });
      expect(server.packRequests).toBe(asked);
      point(commits[1]!);
      const next = await store.fetch({ ...opts(), have: first.commit });
      expect(next).toMatchObject({ commit: commits[1], pack: expect.any(String) });
      expect(next.bytes).toBeLessThan(first.bytes / 10);
    } finally {
      server.v1Only = false;
      point(commits.at(-1)!);
    }
  });

  it('a server that runs git upload-pack itself (as forges do, no CGI): the same fetches and one-request polls, v2 and v1', async () => {
    server.direct = true;
    try {
      for (const v1Only of [false, true]) {
        server.v1Only = v1Only;
        const store = new GitStore(join(tempDir('device-'), 'repo.git'));
        point(commits[0]!);
        const first = await store.fetch(opts());
        expect(first).toMatchObject({ commit: commits[0], pack: expect.any(String) });
        await store.settle(first, [first.commit]);
        const [asked, requests] = [server.packRequests, server.requests];
        const again = await store.fetch({ ...opts(), have: first.commit });
        expect(again).toMatchObject({ commit: first.commit, pack: null });
        expect(server.packRequests).toBe(asked);
        expect(server.requests - requests).toBe(1);
        point(commits[1]!);
        const next = await store.fetch({ ...opts(), have: first.commit });
        expect(next).toMatchObject({ commit: commits[1], pack: expect.any(String) });
        expect(next.bytes).toBeLessThan(first.bytes / 10);
        expect((await readCommitFiles(store.gitdir, next.commit, { cache: store.cache })).size).toBeGreaterThan(10);
      }
    } finally {
      server.direct = false;
      server.v1Only = false;
      point(commits.at(-1)!);
    }
  });

  it('a remote that spoke protocol v2 and then no longer does: the next poll falls back to its advertisement', async () => {
    const store = new GitStore(join(tempDir('device-'), 'repo.git'));
    point(commits[0]!);
    const first = await store.fetch(opts());
    await store.settle(first, [first.commit]);
    server.v1Only = true;
    try {
      point(commits[1]!);
      const next = await store.fetch({ ...opts(), have: first.commit });
      expect(next).toMatchObject({ commit: commits[1], pack: expect.any(String) });
      await store.settle(next, [next.commit]);
      const requests = server.requests;
      expect(await store.fetch({ ...opts(), have: next.commit })).toMatchObject({ commit: commits[1], pack: null });
      expect(server.requests - requests).toBe(1); // the v1 advertisement alone
    } finally {
      server.v1Only = false;
      point(commits.at(-1)!);
    }
  });

  it('a refused commit leaves nothing behind, three times over; a later commit on top of it is fetched whole', async () => {
    const store = new GitStore(join(tempDir('device-'), 'repo.git'));
    point(commits[9]!);
    const good = (await store.fetch(opts())).commit;
    await store.settle(undefined, [good]);
    const before = store.usage();
    const work = tempDir('work-');
    run('git', ['clone', '-q', bare, work]);
    run('git', ['checkout', '-q', good], { cwd: work });
    let fetched: FetchResult | undefined;
    for (let i = 0; i < 3; i++) {
      // 1 MB of noise that does not compress, in a commit the device refuses
      writeFileSync(join(work, `noise-${i}.bin`), execFileSync('head', ['-c', String(1 << 20), '/dev/urandom']));
      run('git', ['add', '-A'], { cwd: work });
      run('git', ['commit', '-q', '-m', `noise ${i}`], { cwd: work });
      run('git', ['push', '-q', '-f', bare, 'HEAD:main'], { cwd: work });
      fetched = await store.fetch({ ...opts(), have: good });
      expect(fetched.bytes).toBeGreaterThan((i + 1) << 20);
      expect(await store.reader().read(fetched.commit)).toMatchObject({ type: 'commit' }); // read, as the history check does
      await store.settle(fetched, [good]);
      expect(store.usage()).toEqual(before);
      expect(await store.reader().read(fetched.commit)).toBeUndefined();
    }
    // the refused commit is known: no pack is asked for it again
    const asked = server.packRequests;
    expect(await store.fetch({ ...opts(), have: good, known: [fetched!.commit] })).toMatchObject({
      commit: fetched!.commit,
      pack: null,
    });
    expect(server.packRequests).toBe(asked);
    // a fix on top of it is fetched with everything it needs
    writeFileSync(
      join(work, 'config/frame_capture.yaml'),
      readFileSync(join(work, 'config/frame_capture.yaml'), 'utf8').replace(/ fps: \d+/, ' fps: 7'),
    );
    run('git', ['rm', '-q', 'noise-0.bin', 'noise-1.bin', 'noise-2.bin'], { cwd: work });
    run('git', ['commit', '-q', '-am', 'fix'], { cwd: work });
    run('git', ['push', '-q', '-f', bare, 'HEAD:main'], { cwd: work });
    const fix = await store.fetch({ ...opts(), have: good, known: [fetched!.commit] });
    await store.settle(fix, [fix.commit]);
    expect(
      (await readCommitFiles(store.gitdir, fix.commit, { cache: store.cache })).get('config/frame_capture.yaml'),
    ).toContain('fps: 7');
    expect((await store.reachable([fix.commit])).size).toBeGreaterThan(100);
    point(commits.at(-1)!);
  }, 120_000);

  it('compaction keeps what the kept commits reach, in one pack, and nothing else', async () => {
    const store = new GitStore(join(tempDir('device-'), 'repo.git'));
    point(commits[0]!);
    const kept = await store.fetch(opts());
    const work = tempDir('work-');
    run('git', ['clone', '-q', bare, work]);
    run('git', ['checkout', '-q', kept.commit], { cwd: work });
    writeFileSync(join(work, 'noise.bin'), execFileSync('head', ['-c', String(256 << 10), '/dev/urandom']));
    run('git', ['add', '-A'], { cwd: work });
    run('git', ['commit', '-q', '-m', 'noise'], { cwd: work });
    run('git', ['push', '-q', '-f', bare, 'HEAD:main'], { cwd: work });
    const other = await store.fetch({ ...opts(), have: kept.commit });
    expect(store.usage().packs).toBe(2);
    expect(store.usage().bytes).toBeGreaterThan(256 << 10);
    await store.compact([kept.commit]);
    expect(store.usage().packs).toBe(1);
    expect(store.usage().bytes).toBeLessThan(256 << 10);
    expect(await store.reader().read(other.commit)).toBeUndefined();
    expect(
      (await readCommitFiles(store.gitdir, kept.commit, { cache: store.cache })).get('config/frame_capture.yaml'),
    ).toContain('fps: 1\n');
    point(commits.at(-1)!);
  });

  it('a pack left without its index (a fetch or compaction cut short) is removed when the store settles', async () => {
    const store = new GitStore(join(tempDir('device-'), 'repo.git'));
    point(commits[0]!);
    const first = await store.fetch(opts());
    await store.settle(first, [first.commit]);
    const before = store.usage();
    const cut = join(store.gitdir, 'objects/pack', `pack-${'0'.repeat(40)}.pack`);
    writeFileSync(cut, 'PACK');
    expect(store.packs()).toHaveLength(1);
    await store.settle(undefined, [first.commit]);
    expect(existsSync(cut)).toBe(false);
    expect(store.usage()).toEqual(before);
    point(commits.at(-1)!);
  });

  it('a huge object (64 MiB of zeros, 64 KiB on the wire) is refused before it is inflated, and nothing is kept', async () => {
    const store = new GitStore(join(tempDir('device-'), 'repo.git'));
    point(commits[0]!);
    const first = await store.fetch(opts());
    await store.settle(first, [first.commit]);
    const before = store.usage();
    const work = tempDir('work-');
    run('git', ['clone', '-q', bare, work]);
    writeFileSync(join(work, 'zeros.bin'), Buffer.alloc(64 << 20));
    run('git', ['add', '-A'], { cwd: work });
    run('git', ['commit', '-q', '-m', 'zeros'], { cwd: work });
    run('git', ['push', '-q', '-f', bare, 'HEAD:main'], { cwd: work });
    await expect(store.fetch({ ...opts(), have: first.commit })).rejects.toMatchObject({
      code: 'sync-object-too-large',
    });
    expect(store.usage()).toEqual(before);
    point(commits.at(-1)!);
  }, 60_000);

  it('a remote advertising 500,000 refs is refused after the first 100,000', async () => {
    const many = join(root, 'many.git');
    run('git', ['init', '-q', '--bare', '-b', 'main', many]);
    run('git', ['fetch', '-q', bare, `${commits[0]}:refs/heads/main`], { cwd: many });
    const lines = ['# pack-refs with: peeled fully-peeled sorted '];
    for (let i = 0; i < 500_000; i++) lines.push(`${commits[0]} refs/heads/device/${String(i).padStart(6, '0')}`);
    writeFileSync(join(many, 'packed-refs'), `${lines.join('\n')}\n`);
    expect(statSync(join(many, 'packed-refs')).size).toBeGreaterThan(30 << 20);
    const store = new GitStore(join(tempDir('device-'), 'repo.git'));
    const sent = server.bytesSent;
    await expect(store.fetch({ ...opts(), url: `${server.url}/many.git` })).rejects.toMatchObject({
      code: 'sync-too-many-refs',
    });
    expect(store.usage().packs).toBe(0);
    expect(server.bytesSent - sent).toBeLessThan(30 << 20);
  }, 60_000);
});
