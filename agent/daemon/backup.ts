// Backup and offline restore of a device. The backup holds the applied history (a git bundle up
// to the last good commit), the journal and the state; never a release (releases hold decrypted
// secrets) and never a key. Restoring verifies the history again against this device's trust
// root from its pinned anchor, then renders and validates the commit for this device and its
// hardware, and stages it as the current release; the agent delivers it when it starts.

import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GitopsError } from '../core/errors.js';
import { verifyRange } from '../core/trust/history.js';
import { DEFAULT_SKEW_SECONDS } from '../core/trust/verify-object.js';
import type { TrustStore } from '../core/trust/verify-object.js';
import { readArchive, writeArchive } from '../io/backup-archive.js';
import { readBundle, setRef, writeBundle } from '../io/git-bundle.js';
import { objectReader } from '../io/git-objects.js';
import { readCommitFiles } from '../io/git-tree.js';
import { writeFileAtomic } from '../io/repo-files.js';
import type { Agent, AgentState } from './agent.js';
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

export async function exportBackup(settings: AgentSettings, out: string, now = new Date()): Promise<BackupManifest & { bytes: number; journal: number }> {
  const dir = settings.state_dir;
  let state: AgentState;
  try {
    state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as AgentState;
  } catch {
    throw new GitopsError('nothing-to-export', `${dir} has no agent state`, 'is state_dir the agent\'s state directory? export runs on a device that has applied a commit');
  }
  const gitdir = join(dir, 'repo.git');
  if (!state.last_good || !existsSync(join(gitdir, 'HEAD'))) throw new GitopsError('nothing-to-export', `${dir} has no applied history (last good: ${state.last_good ?? 'none'})`, 'export works in remote mode, after a commit was applied');
  let manifestOfRelease: { subject?: string | null } = {};
  try {
    manifestOfRelease = JSON.parse(readFileSync(join(dir, 'releases', state.last_good, 'release.json'), 'utf8')) as typeof manifestOfRelease;
  } catch {
    // the subject is a courtesy
  }
  const bundle = await writeBundle(gitdir, `refs/heads/${settings.remote.branch}`, state.last_good);
  const journal = existsSync(join(dir, 'journal.jsonl')) ? readFileSync(join(dir, 'journal.jsonl')) : Buffer.alloc(0);
  const manifest: BackupManifest = { format: 1, environment: settings.environment, device: settings.device_id, branch: settings.remote.branch, commit: state.last_good, subject: manifestOfRelease.subject ?? null, exported_at: now.toISOString() };
  await writeArchive(out, { 'backup.json': JSON.stringify(manifest, null, 2) + '\n', 'history.bundle': bundle, 'journal.jsonl': journal, 'state.json': JSON.stringify(state, null, 2) + '\n' });
  return { ...manifest, bytes: bundle.length, journal: journal.toString('utf8').split('\n').filter(Boolean).length };
}

export async function importBackup(settings: AgentSettings, agent: Agent, trust: TrustStore, file: string): Promise<BackupManifest & { signer: string | null }> {
  const running = agent.store.current();
  if (running) throw new GitopsError('state-not-empty', `${settings.state_dir} already runs release ${running.slice(0, 12)}`, 'import restores a fresh device: stop the agent and move its state directory away first');
  const parts = await readArchive(file, FILES);
  for (const name of FILES) if (!parts.has(name)) throw new GitopsError('backup-invalid', `${file} has no ${name}`, 'give a file written by gitops agent export');
  let manifest: BackupManifest;
  let exported: Partial<AgentState>;
  try {
    manifest = JSON.parse(parts.get('backup.json')!.toString('utf8')) as BackupManifest;
    exported = JSON.parse(parts.get('state.json')!.toString('utf8')) as Partial<AgentState>;
  } catch (e) {
    throw new GitopsError('backup-invalid', `${file}: ${(e as Error).message}`, 'the file is damaged');
  }
  if (manifest.format !== 1 || !/^[0-9a-f]{40}$/.test(String(manifest.commit))) throw new GitopsError('backup-invalid', `${file} is not a backup this agent understands (format ${String(manifest.format)})`, 'export it again with this version');
  if (manifest.environment !== settings.environment || manifest.device !== settings.device_id) throw new GitopsError('backup-other-device', `${file} is the backup of ${manifest.environment}/${manifest.device}; this device is ${settings.environment}/${settings.device_id}`, 'restore a device from its own backup');
  const anchor = settings.trust.anchor_commit;
  if (!anchor) throw new GitopsError('policy', 'no trust.anchor_commit is pinned in the agent settings: the restored history cannot be verified from it', 'pin the anchor commit of the fleet in agent.yaml');

  const gitdir = join(settings.state_dir, 'repo.git');
  const fresh = !existsSync(join(gitdir, 'HEAD'));
  try {
    const refs = await readBundle(gitdir, parts.get('history.bundle')!, `${file}: history.bundle`, manifest.branch);
    if (![...refs.values()].includes(manifest.commit)) throw new GitopsError('backup-invalid', `${file}: the history does not hold ${manifest.commit.slice(0, 12)}`, 'the file is damaged');
    const verdict = await verifyRange(objectReader(gitdir), anchor, manifest.commit, trust, { now: Math.floor(Date.now() / 1000), skewSeconds: DEFAULT_SKEW_SECONDS, mode: settings.trust.mode });
    if (verdict.verdict !== 'trusted') throw new GitopsError(verdict.verdict, `the restored history does not verify against ${settings.trust.dir}: ${verdict.reason}`, 'nothing was restored; a backup is trusted no more than the commits in it');
    const signer = verdict.commits.find((c) => c.oid === manifest.commit)?.signer ?? null;
    const files = await readCommitFiles(gitdir, manifest.commit);
    agent.state.bad = Array.isArray(exported.bad) ? exported.bad.filter((c) => typeof c === 'string') : [];
    agent.state.generation = typeof exported.generation === 'number' ? exported.generation : 0;
    const time = verdict.commits.find((c) => c.oid === manifest.commit)?.time;
    await agent.stage(files, { commit: manifest.commit, subject: manifest.subject ?? undefined, signer, trigger: 'import', ...(time ? { committed_at: new Date(time * 1000).toISOString() } : {}) }, { from: file, exported_at: manifest.exported_at });
    await setRef(gitdir, `refs/remotes/origin/${manifest.branch}`, manifest.commit);
    // the device's earlier journal first, then this restore
    const journal = join(settings.state_dir, 'journal.jsonl');
    writeFileAtomic(journal, Buffer.concat([parts.get('journal.jsonl')!, readFileSync(journal)]), 0o600);
    return { ...manifest, signer };
  } catch (e) {
    if (fresh) rmSync(gitdir, { recursive: true, force: true });
    throw e;
  }
}
