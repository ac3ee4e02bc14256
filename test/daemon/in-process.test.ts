// The daemon in process, as main.ts wires it, with a fake clock and temp-dir io: the release
// store, the state file and the journal are real files, the components are real commands and a
// real HTTP health endpoint; only time is simulated, so a bake of minutes takes none of them and
// every timestamp is the fake clock's.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HardwareProfile } from '../../agent/core/config/types.js';
import { buildDaemon } from '../../agent/daemon/main.js';
import type { Daemon } from '../../agent/daemon/main.js';
import { Redactor } from '../../agent/io/redactor.js';
import { loadIdentities } from '../../agent/io/sops-keys.js';
import type { Identities } from '../../agent/core/sops/keys.js';
import {
  commandRepository,
  fakeClock,
  inProcessApi,
  journalOf,
  runnerOf,
  START,
  testSource,
} from '../helpers/in-process.js';
import { edit, PROJECT, tempDir } from '../helpers/project.js';

describe('the daemon in process, with a fake clock', () => {
  // /health/sick answers 500, every other name 200
  const server = createServer((req, res) => {
    if (req.url === '/health/sick') res.writeHead(500).end(JSON.stringify({ reason: 'cannot open the camera' }));
    else res.writeHead(200).end('{}');
  });
  let base = '';
  let identities: Identities;
  let profile: HardwareProfile;

  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    identities = await loadIdentities([join(PROJECT, 'environments/development/keys/dev-bench-01.agekey')]);
    const model = 'edge-p4-c920';
    profile = parseDocument(
      readFileSync(join(PROJECT, `config/hardware/${model}.yaml`), 'utf8'),
    ).toJSON() as HardwareProfile;
  });
  afterAll(() => void server.close());

  /** The example repository with command reloads; capture's health is /health/`health` of the test's server. */
  const repository = (reload?: (name: string) => string[], health = 'capture'): Map<string, string> =>
    commandRepository(reload, `${base}/health/${health}`);

  function daemon(clock: ReturnType<typeof fakeClock>, redactor = new Redactor()): Daemon {
    return buildDaemon({
      environment: 'development',
      device: 'dev-bench-01',
      stateDir: tempDir('in-process-'),
      identities,
      hardwareProfile: async () => profile,
      env: {},
      redactor,
      clock,
    });
  }

  const journal = journalOf;

  it('a bake of two minutes passes on the fake clock; every record carries its time', async () => {
    const clock = fakeClock();
    const d = daemon(clock);
    const source = testSource();
    source.offer({ id: 'a'.repeat(40), files: repository() });
    const r = await d.agent.sync(source, 'test');
    expect(r, r?.reason).toMatchObject({ outcome: 'applied', commit: 'a'.repeat(40) });
    expect(clock.slept).toBeGreaterThanOrEqual(120_000);
    const applied = journal(d).find((e) => e.event === 'applied')!;
    expect((applied.steps as Record<string, number>).bake).toBeGreaterThanOrEqual(120_000);
    expect(Date.parse(applied.time as string)).toBeGreaterThanOrEqual(START + 120_000);
    expect(d.state.state).toMatchObject({ applied: 'a'.repeat(40), last_good: 'a'.repeat(40), last_error: null });
    expect(d.state.state.last_sync).toMatchObject({ result: 'applied', trigger: 'test' });
    // offered again: nothing to do, recorded as the sync's result, no journal entry
    const entries = journal(d).length;
    expect(await d.agent.sync(source, 'poll')).toBeUndefined();
    expect(d.state.state.last_sync).toMatchObject({ result: 'up to date', trigger: 'poll' });
    expect(journal(d)).toHaveLength(entries);
  });

  it('a component unhealthy during the bake: rolled back by code, the previous release delivered again, never retried', async () => {
    const d = daemon(fakeClock());
    const source = testSource();
    const good = 'b'.repeat(40);
    const bad = 'c'.repeat(40);
    source.offer({ id: good, files: repository() });
    expect((await d.agent.sync(source, 'test'))?.outcome).toBe('applied');
    // the new release's capture reports itself unhealthy
    source.offer({
      id: bad,
      files: edit(repository(undefined, 'sick'), 'config/motion.yaml', 'sensitivity: 0.6', 'sensitivity: 0.7'),
    });
    expect(await d.agent.sync(source, 'test')).toMatchObject({ outcome: 'rolled-back', commit: bad });
    const rolled = journal(d).find((e) => e.event === 'rolled-back')!;
    expect(rolled).toMatchObject({ code: 'unhealthy', commit: bad });
    expect(rolled.restored).toMatch(/delivered again and healthy$/);
    expect(d.releases.current()).toBe(good);
    expect(d.state.state).toMatchObject({ applied: good, last_good: good, bad: [bad] });
    expect(d.state.state.last_error).toMatchObject({ code: 'health', commit: bad });
    // the same commit offered again is known bad: not applied, and said so
    expect(await d.agent.sync(source, 'poll')).toBeUndefined();
    expect(d.state.state.last_sync).toMatchObject({ result: 'known-bad' });
    expect(d.releases.current()).toBe(good);
  });

  it('a component whose reload fails: rolled back with reload-failed; an operator then returns to the previous release', async () => {
    const d = daemon(fakeClock());
    const source = testSource();
    const first = 'd'.repeat(40);
    const second = 'e'.repeat(40);
    const broken = 'f'.repeat(40);
    source.offer({ id: first, files: repository() });
    expect((await d.agent.sync(source, 'test'))?.outcome).toBe('applied');
    source.offer({
      id: second,
      files: edit(repository(), 'config/motion.yaml', 'sensitivity: 0.6', 'sensitivity: 0.65'),
    });
    expect((await d.agent.sync(source, 'test'))?.outcome).toBe('applied');
    source.offer({
      id: broken,
      files: edit(
        repository((name) => (name === 'capture' ? ['false'] : ['true'])),
        'config/motion.yaml',
        'sensitivity: 0.6',
        'sensitivity: 0.7',
      ),
    });
    expect((await d.agent.sync(source, 'test'))?.outcome).toBe('rolled-back');
    expect(journal(d).at(-1)).toMatchObject({ event: 'rolled-back', code: 'reload-failed', commit: broken });
    expect(d.releases.current()).toBe(second);

    const back = await d.rollback.run('previous', { by: 'on-call' });
    expect(back).toMatchObject({ outcome: 'rolled-back', commit: first });
    expect(d.releases.current()).toBe(first);
    expect(d.state.state).toMatchObject({ applied: first, last_good: first });
    expect(d.state.state.bad).toContain(second);
    expect(d.state.state.good).not.toContain(second);
    expect(journal(d).at(-1)).toMatchObject({ event: 'rolled-back', to: first, by: 'on-call', trigger: 'operator' });
    // nothing earlier to return to that is good and not running
    expect(() => d.rollback.target(first)).toThrow(expect.objectContaining({ code: 'already-running' }));
  });

  it('the API in process (app.request): status, the redacted configuration, an operator rollback, codes for refusals', async () => {
    const redactor = new Redactor();
    const d = daemon(fakeClock(), redactor);
    const source = testSource();
    const first = '1'.repeat(40);
    const second = '2'.repeat(40);
    source.offer({ id: first, files: repository() });
    const runner = runnerOf(d, source);
    const api = inProcessApi(d, runner);
    const { operator, viewer } = api;
    const call = async (path: string, token?: string, init: RequestInit = {}) => {
      const r = await api.call(
        init.method ?? 'GET',
        path,
        init.body ? JSON.parse(init.body as string) : undefined,
        token ?? null,
      );
      return { status: r.status, text: r.text };
    };

    expect(JSON.parse((await call('/api/v1/status')).text)).toMatchObject({ code: 'no-token' });
    const synced = await call('/api/v1/sync', operator, { method: 'POST' });
    expect(synced.status, synced.text).toBe(200);
    expect(JSON.parse(synced.text)).toMatchObject({ outcome: 'applied', commit: first });
    source.offer({
      id: second,
      files: edit(repository(), 'config/motion.yaml', 'sensitivity: 0.6', 'sensitivity: 0.65'),
    });
    expect(JSON.parse((await call('/api/v1/sync', operator, { method: 'POST' })).text)).toMatchObject({
      outcome: 'applied',
      commit: second,
    });
    const status = JSON.parse((await call('/api/v1/status', viewer)).text) as {
      current: { commit: string };
      last_sync: { result: string };
    };
    expect(status.current.commit).toBe(second);
    expect(status.last_sync.result).toBe('applied');

    // every value decrypted for this daemon is registered with its redactor, and no answer shows one
    expect(redactor.count()).toBeGreaterThan(0);
    const secretConfig = d.releases.config(second);
    const plain = JSON.stringify(secretConfig);
    const config = await call('/api/v1/config', viewer);
    expect(config.status).toBe(200);
    expect(redactor.redact(plain)).not.toBe(plain);
    expect(config.text).toBe(redactor.redact(config.text));

    expect(JSON.parse((await call('/api/v1/rollback', viewer, { method: 'POST' })).text)).toMatchObject({
      code: 'forbidden',
    });
    const back = await call('/api/v1/rollback', operator, {
      method: 'POST',
      body: JSON.stringify({ to: 'previous', reason: 'motion too eager' }),
    });
    expect(JSON.parse(back.text)).toMatchObject({ outcome: 'rolled-back', commit: first });
    expect(d.state.state.bad).toContain(second);
    const again = await call('/api/v1/rollback', operator, { method: 'POST', body: JSON.stringify({ to: first }) });
    expect(again.status).toBe(409);
    expect(JSON.parse(again.text)).toMatchObject({ code: 'already-running' });
    await runner.stop();
  });
});
