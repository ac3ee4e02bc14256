// Backup and offline restore of a device. The backup holds the applied history (a git bundle up
// to the last good commit), the journal and the state; never a release (releases hold decrypted
// secrets) and never a key. Restoring verifies the history again against this device's trust
// root from its pinned anchor, then renders and validates the commit for this device and its
// hardware, and stages it as the current release; the agent delivers it when it starts.

import { join } from 'node:path';
import { GitopsError, verdictErrorCode } from '../core/errors.js';
import { verifyRange } from '../core/trust/history.js';
import { DEFAULT_SKEW_SECONDS } from '../core/trust/verify-object.js';
import type { TrustStore } from '../core/trust/verify-object.js';
import { readArchive, writeArchive } from '../io/backup-archive.js';
import { systemClock } from '../io/clock.js';
import { discardRepository, hasRepository, readBundle, setRef, writeBundle } from '../io/git-bundle.js';
import { objectReader } from '../io/git-objects.js';
import { readCommitFiles } from '../io/git-tree.js';
import { countJournalEntries, ReleaseStore } from '../io/release-store.js';
import type { AgentState } from '../core/contracts/agent-state.js';
import type { Daemon } from './main.js';
import type { AgentSettings } from './settings.js';

export interface BackupManifest {
  format: 1;
  environment: string;
  device: string;
  branch: string;
  commit: string;
  subject: string | null;
  exported_at: string;
}

const FILES = ['backup.json', 'history.bundle', 'journal.jsonl', 'state.json'] as const;

export async function exportBackup(
  settings: AgentSettings,
  out: string,
  now = systemClock.now(),
): Promise<BackupManifest & { bytes: number; journal: number }> {
  const dir = settings.state_dir;
  const store = ReleaseStore.existing(dir);
  const state = store?.readState<Partial<AgentState>>({});
  if (!store || !state?.last_good)
    throw new GitopsError(
      'nothing-to-export',
      `${dir} has no applied release (no agent state, or nothing applied yet)`,
      "is state_dir the agent's state directory? export runs on a device that has applied a commit",
    );
  const bundle = await writeBundle(join(dir, 'repo.git'), `refs/heads/${settings.remote.branch}`, state.last_good);
  let subject: string | null = null;
  try {
    subject =
      (JSON.parse(store.readRelease(state.last_good, 'release.json')) as { subject?: string | null }).subject ?? null;
  } catch {
    // the subject is a courtesy
  }
  const journal = store.journalBytes();
  const manifest: BackupManifest = {
    format: 1,
    environment: settings.environment,
    device: settings.device_id,
    branch: settings.remote.branch,
    commit: state.last_good,
    subject,
    exported_at: now.toISOString(),
  };
  await writeArchive(out, {
    'backup.json': JSON.stringify(manifest, null, 2) + '\n',
    'history.bundle': bundle,
    'journal.jsonl': journal,
    'state.json': JSON.stringify(state, null, 2) + '\n',
  });
  return { ...manifest, bytes: bundle.length, journal: countJournalEntries(journal) };
}

export async function importBackup(
  settings: AgentSettings,
  daemon: Pick<Daemon, 'agent' | 'store' | 'clock'>,
  trust: TrustStore,
  file: string,
): Promise<BackupManifest & { signer: string | null }> {
  const { agent, store, clock } = daemon;
  const running = store.current();
  if (running)
    throw new GitopsError(
      'state-not-empty',
      `${settings.state_dir} already runs release ${running.slice(0, 12)}`,
      'import restores a fresh device: stop the agent and move its state directory away first',
    );
  const parts = await readArchive(file, FILES);
  for (const name of FILES)
    if (!parts.has(name))
      throw new GitopsError('backup-invalid', `${file} has no ${name}`, 'give a file written by gitops agent export');
  let manifest: BackupManifest;
  let exported: Partial<AgentState>;
  try {
    manifest = JSON.parse(parts.get('backup.json')!.toString('utf8')) as BackupManifest;
    exported = JSON.parse(parts.get('state.json')!.toString('utf8')) as Partial<AgentState>;
  } catch (e) {
    throw new GitopsError('backup-invalid', `${file}: ${(e as Error).message}`, 'the file is damaged');
  }
  if (manifest.format !== 1 || !/^[0-9a-f]{40}$/.test(String(manifest.commit)))
    throw new GitopsError(
      'backup-invalid',
      `${file} is not a backup this agent understands (format ${String(manifest.format)})`,
      'export it again with this version',
    );
  if (manifest.environment !== settings.environment || manifest.device !== settings.device_id)
    throw new GitopsError(
      'backup-other-device',
      `${file} is the backup of ${manifest.environment}/${manifest.device}; this device is ${settings.environment}/${settings.device_id}`,
      'restore a device from its own backup',
    );
  const anchor = settings.trust.anchor_commit;
  if (!anchor)
    throw new GitopsError(
      'policy',
      'no trust.anchor_commit is pinned in the agent settings: the restored history cannot be verified from it',
      'pin the anchor commit of the fleet in agent.yaml',
    );

  const gitdir = join(settings.state_dir, 'repo.git');
  const fresh = !hasRepository(gitdir);
  try {
    const refs = await readBundle(gitdir, parts.get('history.bundle')!, `${file}: history.bundle`, manifest.branch);
    if (![...refs.values()].includes(manifest.commit))
      throw new GitopsError(
        'backup-invalid',
        `${file}: the history does not hold ${manifest.commit.slice(0, 12)}`,
        'the file is damaged',
      );
    const verdict = await verifyRange(objectReader(gitdir), anchor, manifest.commit, trust, {
      now: Math.floor(clock.now().getTime() / 1000),
      skewSeconds: DEFAULT_SKEW_SECONDS,
      mode: settings.trust.mode,
    });
    if (verdict.verdict !== 'trusted')
      throw new GitopsError(
        verdictErrorCode(verdict.verdict, verdict.code),
        `the restored history does not verify against ${settings.trust.dir}: ${verdict.reason}`,
        'nothing was restored; a backup is trusted no more than the commits in it',
      );
    const head = verdict.commits.find((c) => c.oid === manifest.commit);
    const signer = head?.signer ?? null;
    const files = await readCommitFiles(gitdir, manifest.commit);
    const adopted = {
      bad: Array.isArray(exported.bad) ? exported.bad.filter((c) => typeof c === 'string') : [],
      generation: typeof exported.generation === 'number' ? exported.generation : 0,
    };
    await agent.stage(
      files,
      {
        commit: manifest.commit,
        subject: manifest.subject ?? undefined,
        signer,
        trigger: 'import',
        ...(head?.time ? { committed_at: new Date(head.time * 1000).toISOString() } : {}),
      },
      (id) => store.switchCurrent(id),
      adopted,
      { from: file, exported_at: manifest.exported_at },
    );
    await setRef(gitdir, `refs/remotes/origin/${manifest.branch}`, manifest.commit);
    store.prependJournal(parts.get('journal.jsonl')!); // the device's earlier journal, then this restore
    return { ...manifest, signer };
  } catch (e) {
    if (fresh) discardRepository(gitdir);
    throw e;
  }
}
