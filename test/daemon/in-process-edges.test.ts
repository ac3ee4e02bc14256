// The daemon's edges in process (real files in temp directories, real commands as components, a
// fake clock): release names an operator may get wrong, rollbacks that cannot or do not work,
// the runner's failures and backoff, refusals before a candidate is read, and what a restart
// finds on disk.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HardwareProfile } from '../../agent/core/config/types.js';
import { GitopsError } from '../../agent/core/errors.js';
import type { Identities } from '../../agent/core/sops/keys.js';
import { CRASH_ATTEMPTS } from '../../agent/daemon/agent.js';
import { buildDaemon } from '../../agent/daemon/main.js';
import type { Daemon } from '../../agent/daemon/main.js';
import { AgentMetrics } from '../../agent/daemon/metrics.js';
import { Runner } from '../../agent/daemon/runner.js';
import { Redactor } from '../../agent/io/redactor.js';
import { loadIdentities } from '../../agent/io/sops-keys.js';
import { until } from '../helpers/fleet.js';
import { commandRepository, fakeClock, START, testSource } from '../helpers/in-process.js';
import { edit, PROJECT, tempDir } from '../helpers/project.js';

const repository = (reload?: (name: string) => string[]): Map<string, string> => commandRepository(reload);

const sensitivity = (files: Map<string, string>, value: string): Map<string, string> =>
  edit(files, 'config/motion.yaml', 'sensitivity: 0.6', `sensitivity: ${value}`);

describe('the daemon at its edges', () => {
  let identities: Identities;
  let profile: HardwareProfile;
  beforeAll(async () => {
    identities = await loadIdentities([join(PROJECT, 'environments/development/keys/dev-bench-01.agekey')]);
    profile = parseDocument(
      readFileSync(join(PROJECT, 'config/hardware/edge-p4-c920.yaml'), 'utf8'),
    ).toJSON() as HardwareProfile;
  });

  const daemon = (stateDir = tempDir('edges-'), log: (line: string) => void = () => undefined): Daemon =>
    buildDaemon({
      environment: 'development',
      device: 'dev-bench-01',
      stateDir,
      identities,
      hardwareProfile: async () => profile,
      env: {},
      redactor: new Redactor(),
      clock: fakeClock(),
      log,
    });

  const codeOf = (fn: () => unknown): string | undefined => {
    try {
      fn();
    } catch (e) {
      return e instanceof GitopsError ? e.code : 'not a GitopsError';
    }
    return undefined;
  };

  it('release names: what is wrong with each one an operator may give', async () => {
    const d = daemon();
    expect(codeOf(() => d.releases.find('current'))).toBe('release-unknown');
    expect(codeOf(() => d.releases.find('last_good'))).toBe('no-release');
    expect(codeOf(() => d.releases.find('../../etc/passwd'))).toBe('bad-release');
    const s = testSource();
    const older = 'abcdef01' + '0'.repeat(32);
    const newer = 'abcdef01' + '1'.repeat(32);
    s.offer({ id: older, files: repository() });
    await d.agent.sync(s, 'test');
    s.offer({ id: newer, files: sensitivity(repository(), '0.65') });
    await d.agent.sync(s, 'test');
    expect(d.releases.find('current')).toBe(newer);
    expect(d.releases.find('last_good')).toBe(newer);
    expect(d.releases.find('previous')).toBe(older);
    expect(d.releases.find('abcdef010')).toBe(older);
    expect(codeOf(() => d.releases.find('abc'))).toBe('bad-release'); // too short to be a commit id
    expect(codeOf(() => d.releases.find('abcdef01'))).toBe('bad-release'); // names both
    expect(codeOf(() => d.releases.find('abcdef012'))).toBe('release-unknown');
    expect(d.releases.list().map((r) => [r.commit, r.current, r.good])).toEqual([
      [newer, true, true],
      [older, false, true],
    ]);
    // a release written before the redacted view existed is shown through the redactor
    rmSync(join(d.stateDir, 'releases', older, 'config.redacted.json'));
    const plain = JSON.stringify(d.releases.config(older));
    const shown = JSON.stringify(d.releases.config(older, 'config.redacted.json'));
    expect(shown).not.toBe(plain);
    expect(shown).toBe(JSON.stringify(JSON.parse(d.redact(JSON.stringify(d.releases.config(older), null, 2)))));
  });

  it('an operator rollback: to a release never found good, to what runs, unverified, and one that fails', async () => {
    const d = daemon();
    const s = testSource();
    const good = '1a'.repeat(20);
    const later = '2b'.repeat(20);
    const refused = '3c'.repeat(20);
    s.offer({ id: good, files: repository() });
    await d.agent.sync(s, 'test');
    s.offer({ id: later, files: sensitivity(repository(), '0.65') });
    await d.agent.sync(s, 'test');
    // a commit refused for its configuration is on disk as nothing: not a release to return to
    s.offer({ id: refused, files: edit(repository(), 'config/motion.yaml', 'sensitivity: 0.6', 'sensitivity: 7') });
    expect((await d.agent.sync(s, 'test'))?.outcome).toBe('refused');
    expect(codeOf(() => d.rollback.target(refused.slice(0, 12)))).toBe('release-unknown');
    expect(codeOf(() => d.rollback.target('current'))).toBe('already-running');
    await expect(
      d.rollback.run('previous', { by: 'ops', verify: async () => 'signed by a revoked key' }),
    ).rejects.toMatchObject({
      code: 'release-unverified',
    });
    // the release to return to cannot be delivered any more (its command is gone): the running one stays
    const target = join(d.stateDir, 'releases', good, 'config.json');
    const config = JSON.parse(readFileSync(target, 'utf8')) as { components: Record<string, { reload: object }> };
    config.components.capture!.reload = { method: 'command', command: ['/nonexistent/reload'] };
    writeFileSync(target, JSON.stringify(config));
    await expect(d.rollback.run('previous', { by: 'ops', reason: 'try' })).rejects.toMatchObject({
      code: 'rollback-failed',
    });
    expect(d.releases.current()).toBe(later);
    const last = readFileSync(join(d.stateDir, 'journal.jsonl'), 'utf8').trim().split('\n').at(-1)!;
    expect(JSON.parse(last)).toMatchObject({ event: 'rollback-failed', code: 'reload-failed', to: good, by: 'ops' });
  });

  it('a candidate refused before it is read: marked bad unless retryable; the same refusal is journaled once', async () => {
    const d = daemon();
    const s = testSource();
    s.offer({ id: '4d'.repeat(20), refused: { code: 'unsigned', markBad: false } });
    expect(await d.agent.sync(s, 'poll')).toMatchObject({ outcome: 'refused' });
    expect(await d.agent.sync(s, 'poll')).toMatchObject({ outcome: 'refused' });
    expect(d.state.state.bad).toEqual([]);
    const refusals = () =>
      readFileSync(join(d.stateDir, 'journal.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .filter((l) => l.includes('"refused"')).length;
    expect(refusals()).toBe(1);
    s.offer({ id: '5e'.repeat(20), refused: { code: 'unsigned', markBad: true } });
    await d.agent.sync(s, 'poll');
    expect(d.state.state.bad).toEqual(['5e'.repeat(20)]);
    expect(d.state.state.last_error).toMatchObject({ code: 'unsigned', commit: '5e'.repeat(20) });
    expect(refusals()).toBe(2);
  });

  it('the runner: a trigger during a cycle joins the next one; a failing source backs off and is recorded', async () => {
    const d = daemon();
    const lines: string[] = [];
    const seen: string[] = [];
    let release: () => void = () => undefined;
    const runner = new Runner(
      { state: d.state, events: d.events, clock: d.clock, redact: d.redact, log: (l) => lines.push(l) },
      async (trigger) => {
        seen.push(trigger);
        if (trigger === 'fail') throw new GitopsError('sync-failed', 'the remote answered 500');
        if (trigger === 'crash') throw new Error('boom');
        await new Promise<void>((r) => (release = r));
        return undefined;
      },
      600,
    );
    const events: string[] = [];
    d.events.subscribe((e) => events.push(`${e.type}:${String(e.code ?? '')}`));
    // one cycle runs; two triggers meanwhile become one more cycle
    const first = runner.trigger('slow');
    await until(
      'the slow cycle to start',
      async () => seen.length,
      (n) => n === 1,
    );
    const second = runner.trigger('a');
    const third = runner.trigger('b');
    expect(second).toBe(third);
    release();
    await first;
    await until(
      'the queued cycle to start',
      async () => seen.length,
      (n) => n === 2,
    );
    release();
    await second;
    expect(seen).toEqual(['slow', 'a']);
    expect(runner.nextPollAt).not.toBeNull();
    // failures: recorded with their code, retried sooner each time than the poll interval
    await runner.trigger('fail');
    expect(d.state.state.last_sync).toMatchObject({ result: 'failed', trigger: 'fail' });
    expect(d.state.state.last_error).toMatchObject({ code: 'sync-failed', commit: null });
    expect(lines.at(-1)).toMatch(/sync failed \(1 in a row\): the remote answered 500; retrying in 2 s/);
    await runner.trigger('crash');
    expect(d.state.state.last_error).toMatchObject({ code: 'internal', reason: 'internal error: boom' });
    expect(lines.at(-1)).toMatch(/\(2 in a row\).*retrying in 4 s/);
    expect(events).toContain('sync-failed:sync-failed');
    await runner.stop();
    expect(await runner.trigger('after stop')).toBeUndefined();
    expect(seen).toEqual(['slow', 'a', 'fail', 'crash']);
  });

  it('a restart: half-written releases removed, a missing current link repaired, a crash loop refused', async () => {
    const stateDir = tempDir('edges-restart-');
    const first = daemon(stateDir);
    const s = testSource();
    const good = '6f'.repeat(20);
    s.offer({ id: good, files: repository() });
    await first.agent.sync(s, 'test');
    // what a crash leaves: a half-written release, a missing current link, a candidate in progress
    mkdirSync(join(stateDir, 'releases', '.tmp-123'), { recursive: true });
    rmSync(join(stateDir, 'current'));
    const state = JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')) as Record<string, unknown>;
    state.in_progress = { commit: '7a'.repeat(20), attempts: CRASH_ATTEMPTS };
    writeFileSync(join(stateDir, 'state.json'), JSON.stringify(state));
    const lines: string[] = [];
    const again = daemon(stateDir, (l) => lines.push(l));
    await again.agent.recover(again.store);
    expect(again.releases.current()).toBe(good);
    expect(again.state.state.bad).toContain('7a'.repeat(20));
    expect(again.state.state.last_error).toMatchObject({ code: 'crash-loop' });
    const journal = readFileSync(join(stateDir, 'journal.jsonl'), 'utf8');
    expect(journal).toContain('removed 1 half-written release(s)');
    expect(journal).toContain('the current link was missing; repaired to last good');
    expect(lines.some((l) => l.startsWith('refused'))).toBe(true);
  });

  it('the metrics count what the events say: applies by outcome, refusals by code, sync failures, operator rollbacks', async () => {
    const d = daemon();
    const metrics = new AgentMetrics(d, { environment: 'development', device: 'dev-bench-01' }, () => 3);
    const value = async (series: string): Promise<number> => {
      const line = (await metrics.text()).split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? NaN : Number(line.split(' ').at(-1));
    };
    expect(await value('doorbell_agent_applies_total{outcome="applied"}')).toBe(0);
    expect(await value('doorbell_agent_last_successful_apply_timestamp_seconds')).toBe(0);
    const s = testSource();
    const first = '8a'.repeat(20);
    const second = '9b'.repeat(20);
    s.offer({ id: first, files: repository() });
    await d.agent.sync(s, 'test');
    s.offer({ id: second, files: sensitivity(repository(), '0.65') });
    await d.agent.sync(s, 'test');
    s.offer({ id: 'ac'.repeat(20), files: sensitivity(repository(), '7') });
    await d.agent.sync(s, 'test');
    const runner = new Runner(
      { state: d.state, events: d.events, clock: d.clock, redact: d.redact, log: () => undefined },
      async () => {
        throw new GitopsError('sync-failed', 'the remote is down');
      },
      600,
    );
    await runner.trigger('poll');
    await runner.stop();
    // the refused commit stays the candidate after a failed sync (its outcome read from the journal)
    const candidate = 'doorbell_agent_candidate_info{environment="development",device="dev-bench-01",wave="all"';
    expect(await value(`${candidate},commit="${'ac'.repeat(20)}",outcome="refused",code="invalid"}`)).toBe(1);
    await d.rollback.run('previous', { by: 'ops' });
    expect(await value(`${candidate},commit="${second}",outcome="rolled-back",code="operator"}`)).toBe(1);
    await d.health.check();
    expect(await value('doorbell_agent_applies_total{outcome="applied"}')).toBe(2);
    expect(await value('doorbell_agent_applies_total{outcome="refused"}')).toBe(1);
    expect(await value('doorbell_agent_refusals_total{reason="invalid"}')).toBe(1);
    expect(await value('doorbell_agent_sync_failures_total{code="sync-failed"}')).toBe(1);
    expect(await value('doorbell_agent_operator_rollbacks_total{result="ok"}')).toBe(1);
    expect(await value('doorbell_agent_operator_rollbacks_total{result="failed"}')).toBe(0);
    expect(
      await value(
        `doorbell_agent_release_info{environment="development",device="dev-bench-01",wave="all",commit="${first}",last_good="${first}"}`,
      ),
    ).toBe(1);
    expect(await value('doorbell_agent_component_healthy{component="capture"}')).toBe(1);
    expect(await value('doorbell_agent_event_streams')).toBe(3);
    // the fake clock's wall time, not the machine's
    expect(await value('doorbell_agent_last_successful_apply_timestamp_seconds')).toBeGreaterThanOrEqual(START / 1000);
    expect(await value('doorbell_agent_step_duration_seconds_count{step="validate"}')).toBe(3);
  });
});
