// The releases on this device, as operators name and read them: `current`, `last_good`,
// `previous` or a commit id; their manifests (cached: the status endpoint asks for two on every
// request), their configuration and its redacted view.

import { GitopsError } from '../core/errors.js';
import { compareText } from '../core/json/value.js';
import type { JsonObject } from '../core/json/value.js';
import type { ReleaseDescription, ReleaseInfo } from '../core/contracts/api.js';
import type { ReleaseStore } from '../io/release-store.js';
import type { RuntimeContext } from '../core/validate/effective.js';
import type { StateView } from './state.js';

/** The release's configuration with every secret replaced by <redacted>: what the API shows. */
export const REDACTED_VIEW = 'config.redacted.json';
/** What a release keeps to check and explain its runtime layers: RuntimeContext and the schema texts. */
export const RUNTIME_VIEW = 'runtime.json';
/** What an operator may call a release; nothing else reaches the release store. */
const RELEASE_NAME = /^(current|last_good|previous|[0-9a-f]{7,40}|tree-[0-9a-f]{7,16})$/;

export interface ReleaseManifest {
  commit: string;
  subject?: string | null;
  signer?: string | null;
  committed_at?: string | null;
  written_at?: string;
  /** The leases in force when it was applied (owner, path, value, actor, expiry). */
  leases?: readonly object[];
}

export type { ReleaseDescription, ReleaseInfo } from '../core/contracts/api.js';

export type ReleaseView = 'config.json' | typeof REDACTED_VIEW;

/** A release's runtime.json: how to check its leases (written since leases exist; absent in older releases). */
export interface ReleaseRuntime {
  context: RuntimeContext;
  /** The schema files the release was validated with, by path. */
  schemas: Record<string, string>;
}

export class Releases {
  private readonly manifests = new Map<string, ReleaseManifest>();

  constructor(
    private readonly store: ReleaseStore,
    private readonly state: () => StateView,
    private readonly redact: (text: string) => string,
  ) {}

  current(): string | undefined {
    return this.store.current();
  }

  has(id: string): boolean {
    return this.store.hasRelease(id);
  }

  /** Writes a release (its views and manifest); it runs once `current` is switched to it. */
  write(
    manifest: ReleaseManifest & { plan: object },
    views: Record<ReleaseView, string> & { [RUNTIME_VIEW]?: string },
  ): void {
    this.manifests.delete(manifest.commit);
    this.store.writeRelease(manifest.commit, views, manifest);
  }

  /** Removes the releases no longer worth keeping (neither good nor recent). */
  prune(keep: ReadonlySet<string>): void {
    for (const id of this.store.prune(keep)) this.manifests.delete(id);
  }

  config(id: string, view: ReleaseView = 'config.json'): JsonObject {
    try {
      return JSON.parse(this.store.readRelease(id, view)) as JsonObject;
    } catch (e) {
      // releases written before the redacted view existed: the registered secrets are masked
      if (view === REDACTED_VIEW)
        return JSON.parse(this.redact(this.store.readRelease(id, 'config.json'))) as JsonObject;
      throw e;
    }
  }

  /** The release's runtime.json, or undefined for a release written before leases existed. */
  runtime(id: string): ReleaseRuntime | undefined {
    try {
      return JSON.parse(this.store.readRelease(id, RUNTIME_VIEW)) as ReleaseRuntime;
    } catch {
      return undefined;
    }
  }

  manifest(id: string): ReleaseManifest {
    let m = this.manifests.get(id);
    if (!m) this.manifests.set(id, (m = JSON.parse(this.store.readRelease(id, 'release.json')) as ReleaseManifest));
    return m;
  }

  /** What a release on disk is: its commit, subject, signer and times. */
  describe(id: string): ReleaseDescription {
    const m = this.manifest(id);
    return {
      commit: id,
      subject: m.subject ?? null,
      signer: m.signer ?? null,
      committed_at: m.committed_at ?? null,
      written_at: m.written_at ?? null,
    };
  }

  /** Every release on disk, newest first, with what became of it. */
  list(): ReleaseInfo[] {
    const current = this.store.current();
    const state = this.state();
    return this.store
      .list()
      .map((id) => ({
        ...this.describe(id),
        current: id === current,
        last_good: id === state.last_good,
        good: state.good.includes(id),
        bad: state.bad.includes(id),
      }))
      .sort((a, b) => compareText(String(b.written_at), String(a.written_at)));
  }

  /**
   * A release named by an operator: `current` (what runs), `last_good` (the release last found
   * good: what runs, unless a rollback failed or nothing has been found good since), `previous`
   * (the newest good release other than the running one: what a rollback returns to), or a
   * commit id or prefix of a release on disk.
   */
  find(name: string): string {
    if (!RELEASE_NAME.test(name))
      throw new GitopsError(
        'bad-release',
        `"${name.slice(0, 80)}" is not a release name`,
        'current, last_good, previous, or a commit id (7 to 40 hex digits) from GET /api/v1/releases',
      );
    const current = this.store.current();
    const state = this.state();
    const listed = 'GET /api/v1/releases lists the releases on this device';
    if (name === 'current') {
      if (!current)
        throw new GitopsError(
          'release-unknown',
          'nothing has been applied yet',
          'wait for the first sync, or POST /api/v1/sync',
        );
      return current;
    }
    if (name === 'last_good') {
      const good = state.last_good;
      if (!good || !this.store.hasRelease(good))
        throw new GitopsError('no-release', 'no release has been found good on this device yet', listed);
      return good;
    }
    if (name === 'previous') {
      const back = [...state.good].reverse().find((c) => c !== current && this.store.hasRelease(c));
      if (!back) throw new GitopsError('no-release', 'there is no earlier good release to return to', listed);
      return back;
    }
    const known = this.store.list().filter((id) => id.startsWith(name));
    if (known.length > 1)
      throw new GitopsError(
        'bad-release',
        `"${name}" names ${known.length} releases`,
        'give more digits of the commit id',
      );
    if (!known[0]) throw new GitopsError('release-unknown', `no release ${name} on this device`, listed);
    return known[0];
  }
}
