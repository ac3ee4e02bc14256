// What the in-process daemon tests share: a fake clock, the example repository with components
// reloaded by real commands, and a source that offers whatever the test sets.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { hashToken } from '../../agent/core/contracts/tokens.js';
import { buildApi } from '../../agent/daemon/api.js';
import type { ApiOptions } from '../../agent/daemon/api.js';
import { buildDaemon } from '../../agent/daemon/main.js';
import type { Daemon } from '../../agent/daemon/main.js';
import type { HardwareProfile } from '../../agent/core/config/types.js';
import type { Identities } from '../../agent/core/sops/keys.js';
import { Redactor } from '../../agent/io/redactor.js';
import { loadIdentities } from '../../agent/io/sops-keys.js';
import { Runner } from '../../agent/daemon/runner.js';
import { newToken } from '../../agent/io/token-file.js';
import type { RepoFiles } from '../../agent/core/repo/layout.js';
import type { Source } from '../../agent/daemon/source.js';
import type { Clock } from '../../agent/io/clock.js';
import { exampleFiles, PROJECT, tempDir } from './project.js';

export const START = Date.parse('2030-06-01T12:00:00.000Z');

/** Wall time that starts at START and moves only when the daemon sleeps; sleeping costs no real time. */
export function fakeClock(): Clock & { slept: number } {
  const c = {
    slept: 0,
    now: () => new Date(START + c.slept),
    monotonic: () => c.slept,
    sleep: async (ms: number) => {
      c.slept += ms;
      await new Promise((r) => setImmediate(r));
    },
    random: () => 0.5,
  };
  return c;
}

/**
 * The example repository (development) with every component reloaded by the command `reload`
 * gives it; with `health`, capture is judged by that URL for a bake of two minutes, and no other
 * component has a health check (without it, none has).
 */
export function commandRepository(
  reload: (name: string) => string[] = () => ['true'],
  health?: string,
): Map<string, string> {
  const files = exampleFiles();
  const doc = parseDocument(files.get('config/components.yaml')!);
  for (const { key } of (doc.get('components') as { items: Array<{ key: { value: string } }> }).items) {
    doc.setIn(['components', key.value, 'reload'], { method: 'command', command: reload(key.value), timeout_ms: 5000 });
    if (health && key.value === 'capture')
      doc.setIn(['components', key.value, 'health'], { url: health, bake_seconds: 120 });
    else doc.deleteIn(['components', key.value, 'health']);
  }
  // the bench's overrides (the file protocol of the example pipeline) are not what these tests run
  const overrides = parseDocument(files.get('environments/development/overrides.yaml')!);
  overrides.delete('components');
  return new Map(files)
    .set('config/components.yaml', doc.toString())
    .set('environments/development/overrides.yaml', overrides.toString());
}

export type Offer = { id: string; files?: RepoFiles; refused?: { code: 'unsigned'; markBad: boolean } };

/** A source that offers whatever tree (or refusal) the test sets, under the id the test gives it. */
export function testSource(): Source & { offer(o: Offer): void } {
  let current: Offer | undefined;
  return {
    retriesBadAtStart: false,
    offer(o) {
      current = o;
    },
    async next(trigger) {
      const c = current!;
      const info = { commit: c.id, subject: c.id, trigger };
      return {
        id: c.id,
        open: async () =>
          c.refused
            ? { refused: { info, code: c.refused.code, reason: 'no signature', markBad: c.refused.markBad } }
            : { files: c.files!, info },
      };
    },
  };
}

/** The journal of a daemon, oldest first. */
export const journalOf = (d: Daemon): Array<Record<string, unknown>> =>
  readFileSync(join(d.stateDir, 'journal.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** A runner of the daemon's cycles over `source`, polling never. */
export const runnerOf = (d: Daemon, source: Source): Runner =>
  new Runner(
    { state: d.state, events: d.events, clock: d.clock, redact: d.redact, log: () => undefined },
    (trigger) => d.agent.sync(source, trigger),
    undefined,
  );

/**
 * The daemon's API in process (app.request), with an operator token (`ops`) and a viewer token
 * (`look`); `call` sends a request as if over a loopback socket and parses the JSON answer.
 */
export function inProcessApi(d: Daemon, runner: Runner, extra: Partial<ApiOptions> = {}) {
  const operator = newToken();
  const viewer = newToken();
  const { app } = buildApi({
    daemon: d,
    runner,
    identity: { environment: 'development', device: 'dev-bench-01', mode: 'test' },
    tokens: () => [
      { name: 'ops', role: 'operator', sha256: hashToken(operator) },
      { name: 'look', role: 'viewer', sha256: hashToken(viewer) },
    ],
    allowLoopbackReads: false,
    limits: { total: 8, perClient: 8, refusing: 2, streams: 2, streamsPerClient: 1 },
    ...extra,
  });
  // what @hono/node-server's getConnInfo reads of a request that came over a socket
  const socket = { incoming: { socket: { remoteAddress: '127.0.0.1', remotePort: 40000, remoteFamily: 'IPv4' } } };
  /** `token`: the operator's when not given, none when null. */
  const call = async (method: string, path: string, body?: unknown, token: string | null = operator) => {
    const r = await app.request(
      `http://127.0.0.1:8420${path}`,
      {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          host: '127.0.0.1:8420',
          'content-type': 'application/json',
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      },
      socket,
    );
    const text = await r.text();
    const json = r.headers.get('content-type')?.startsWith('application/json') ?? false;
    return { status: r.status, text, body: (json ? JSON.parse(text) : {}) as Record<string, unknown> };
  };
  return { app, call, operator, viewer };
}

/** Daemons of development/dev-bench-01 (its age key, the edge-p4-c920 profile); await `ready()` first (in beforeAll). */
export function devDaemons() {
  let identities: Identities | undefined;
  let profile: HardwareProfile | undefined;
  return {
    async ready(): Promise<void> {
      identities = await loadIdentities([join(PROJECT, 'environments/development/keys/dev-bench-01.agekey')]);
      const text = readFileSync(join(PROJECT, 'config/hardware/edge-p4-c920.yaml'), 'utf8');
      profile = parseDocument(text).toJSON() as HardwareProfile;
    },
    build(o: { clock?: Clock; stateDir?: string; redactor?: Redactor; log?: (line: string) => void } = {}): Daemon {
      return buildDaemon({
        environment: 'development',
        device: 'dev-bench-01',
        stateDir: o.stateDir ?? tempDir('daemon-'),
        identities: identities!,
        hardwareProfile: async () => profile!,
        env: {},
        redactor: o.redactor ?? new Redactor(),
        clock: o.clock ?? fakeClock(),
        ...(o.log ? { log: o.log } : {}),
      });
    },
  };
}

/**
 * The example repository (development) with every component reloaded through `${base}/c/NAME`
 * (POST .../validate and .../apply) and judged by GET .../healthz for `bakeSeconds`; with
 * `metrics`, each reports its own figures at .../metrics.
 */
export function httpComponentsRepository(
  base: string,
  o: { bakeSeconds: number; metrics?: boolean },
): Map<string, string> {
  const files = exampleFiles();
  const doc = parseDocument(files.get('config/components.yaml')!);
  for (const { key } of (doc.get('components') as { items: Array<{ key: { value: string } }> }).items) {
    const url = `${base}/c/${key.value}`;
    doc.setIn(['components', key.value, 'reload'], { method: 'http', url, timeout_ms: 5000 });
    doc.setIn(['components', key.value, 'health'], { url: `${url}/healthz`, bake_seconds: o.bakeSeconds });
    if (o.metrics) doc.setIn(['components', key.value, 'metrics'], { url: `${url}/metrics` });
  }
  const overrides = parseDocument(files.get('environments/development/overrides.yaml')!);
  overrides.delete('components');
  return new Map(files)
    .set('config/components.yaml', doc.toString())
    .set('environments/development/overrides.yaml', overrides.toString());
}
