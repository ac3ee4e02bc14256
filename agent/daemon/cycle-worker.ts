// The cycle worker: the second composition root of the agent, run in a worker thread with a
// memory limit (io/isolate.ts). It does what a cycle needs the heavy libraries for (fetching and
// verifying a commit with isomorphic-git and the signature verifiers, rendering, decrypting and
// validating a candidate) and answers plain data; the long-lived process keeps the state, the
// API and the components. Every error it answers has passed its redactor, which knows the
// secrets it decrypted; the secrets it answers are registered with the agent's own.

import { parentPort, workerData } from 'node:worker_threads';
import type { HardwareProfile } from '../core/config/types.js';
import { GitopsError } from '../core/errors.js';
import type { JsonObject } from '../core/json/value.js';
import type { RepoFiles } from '../core/repo/layout.js';
import { identitiesOf } from '../core/sops/identities.js';
import type { PlainIdentities } from '../core/sops/identities.js';
import type { Identities } from '../core/sops/keys.js';
import { systemClock } from '../io/clock.js';
import { errorAnswer } from '../io/isolate.js';
import { Redactor } from '../io/redactor.js';
import { fileSchemaCache } from '../io/schema-cache.js';
import type { Prepared } from './prepare.js';
import type { RemoteSource } from './remote-source.js';
import type { AgentSettings } from './settings.js';
import type { Opened } from './source.js';
import type { StateView } from './state.js';

/** What the agent tells its worker once, when it starts it. */
export interface CycleWorkerData {
  environment: string;
  device: string;
  identities: PlainIdentities;
  env: Readonly<Record<string, string | undefined>>;
  watchMode: boolean;
  /** The directory of the compiled validators (the state directory's cache). */
  schemaCacheDir: string;
  /** Remote mode: the settings (the remote, the trust directory). */
  settings?: AgentSettings;
}

export interface PrepareInput {
  files: RepoFiles;
  profile: HardwareProfile;
}

export interface PrepareAnswer {
  prepared: Prepared;
  /** The decrypted values, for the agent's redactor. */
  secrets: JsonObject | undefined;
  steps: Record<string, number>;
}

export interface OpenRemoteInput {
  state: StateView;
  trigger: string;
  /** The branch's commit the agent saw: a remote that moved since is tried again at the next poll. */
  expected: string;
}

const data = workerData as CycleWorkerData;
const redactor = new Redactor();
let remote: Promise<RemoteSource> | undefined;
let state: StateView | undefined;
let settle: (() => void) | undefined;
/** Read once per worker: a warm worker (watch mode) does not parse the keys again at each edit. */
let identities: Promise<Identities> | undefined;
const schemaCache = fileSchemaCache(data.schemaCacheDir);
const log = (line: string): void => parentPort!.postMessage({ log: redactor.redact(line) });

function remoteSource(): Promise<RemoteSource> {
  remote ??= (async () => {
    const settings = data.settings!;
    const [{ RemoteSource }, { loadTrustStore }, { readRemoteToken }] = await Promise.all([
      import('./remote-source.js'),
      import('../io/trust-store.js'),
      import('./remote-token.js'),
    ]);
    const trust = await loadTrustStore(settings.trust.dir);
    return new RemoteSource(() => state!, settings, trust, { readToken: readRemoteToken, clock: systemClock, log });
  })();
  return remote;
}

const methods: Record<string, (input: never) => Promise<unknown>> = {
  async prepare(input: PrepareInput): Promise<PrepareAnswer> {
    const { prepareRelease } = await import('./prepare.js');
    const steps: Record<string, number> = {};
    let secrets: JsonObject | undefined;
    const prepared = await prepareRelease(
      input.files,
      {
        environment: data.environment,
        device: data.device,
        identities: await (identities ??= identitiesOf(data.identities)),
        // registered with this thread's redactor (for what it answers) and answered, for the agent's
        redactor,
        hardwareProfile: async () => input.profile,
        watchMode: data.watchMode,
        env: data.env,
        schemaCache,
      },
      async (name, fn) => {
        const t0 = systemClock.monotonic();
        try {
          const value = await fn();
          if (name === 'decrypt') secrets = value as JsonObject | undefined;
          return value;
        } finally {
          // the probe is the agent's (it answered the profile): timed there
          if (name !== 'probe') steps[name] = Math.round((systemClock.monotonic() - t0) * 10) / 10;
        }
      },
    );
    return { prepared, secrets, steps };
  },

  /** The ref the device follows, derived from the release at `applied` (or the branch's head). */
  async following(input: { state: StateView }) {
    state = input.state;
    return (await remoteSource()).following(input.state.applied);
  },

  /** Fetches and verifies the candidate, and reads its files (or says why it is refused). */
  async openRemote(input: OpenRemoteInput): Promise<Opened> {
    state = input.state;
    const source = await remoteSource();
    const candidate = await source.next(input.trigger);
    settle = candidate.settle?.bind(candidate);
    if (candidate.id !== input.expected)
      throw new GitopsError(
        'sync-failed',
        `the remote's branch moved from ${input.expected.slice(0, 12)} to ${candidate.id.slice(0, 12) || 'nothing'} during the sync`,
        'it is tried again at the next poll',
        { retryable: true },
      );
    return candidate.open();
  },

  /** The object store pruned and compacted after the cycle (the worker ends after it). */
  async settle(input: { state: StateView }) {
    state = input.state;
    settle?.();
    settle = undefined;
    await (await remoteSource()).store.settled();
  },

  async verifyCommit(input: { commit: string }) {
    return (await remoteSource()).verifyCommit(input.commit);
  },
};

parentPort!.on('message', (m: { id: number; method: string; input: never }) => {
  void (async () => {
    try {
      const value = await methods[m.method]!(m.input);
      parentPort!.postMessage({ id: m.id, value });
    } catch (e) {
      // an error's message and findings may quote a decrypted value: they pass the redactor first
      const answer = errorAnswer(m.id, e);
      parentPort!.postMessage(JSON.parse(redactor.redact(JSON.stringify(answer))));
    }
  })();
});
