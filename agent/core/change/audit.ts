// The audit trail, built from commits: per commit, the rendered configuration paths and secrets it
// changed on the selected environments and devices; the names a selection asks for checked
// against every tree read; the entries as text. Reading git, verifying signatures and asking
// GitHub for a commit's pull request are the caller's (scripts/audit.ts).

import { GitopsError } from '../errors.js';
import { closest } from '../format/suggest.js';
import { parseDotted } from '../json/pointer.js';
import { isObject } from '../json/value.js';
import { listDevices, listEnvironments } from '../repo/layout.js';
import type { RepoFiles } from '../repo/layout.js';
import type { Repository } from '../repo/repository.js';
import type { CompiledSchemaCache } from '../schema/schema-set.js';
import { diffRepositories } from './diff.js';
import type { PathChange } from './diff.js';

export interface AuditChanges {
  changes: Array<{ target: string } & PathChange>;
  secrets: Array<{ environment: string; path: string; change: string }>;
}

export interface AuditEntry extends AuditChanges {
  commit: string;
  date: string;
  subject: string;
  author: string;
  committer: string;
  pr: number | null;
  signature: { verdict: string; signer: string | null };
}

export interface AuditSelectionOptions {
  environments: readonly string[];
  devices: readonly string[];
  /** A dotted configuration path: that path and everything under it. */
  path?: string;
  schemaCache?: CompiledSchemaCache;
}

/**
 * What an audit selects (environments, devices, a path), and which of the names it asks for the
 * trees read so far hold: a selection that names nothing the history ever held is a mistake.
 */
export class AuditSelection {
  private readonly seen = { environments: new Set<string>(), devices: new Set<string>(), path: false };

  constructor(private readonly options: AuditSelectionOptions) {}

  /** Records the environments and devices (of the selected environments) that a tree holds. */
  note(files: RepoFiles): void {
    const { environments } = this.options;
    for (const env of listEnvironments(files)) {
      this.seen.environments.add(env);
      if (environments.length === 0 || environments.includes(env))
        for (const d of listDevices(files, env)) this.seen.devices.add(d);
    }
  }

  /** True for the selected path and the paths under it (every path when none is selected). */
  wanted(p: string): boolean {
    const { path } = this.options;
    return !path || p === path || p.startsWith(`${path}.`) || p.startsWith(`${path}[`);
  }

  /** What a commit changed on the selection, from the trees before and after it; undefined when nothing. */
  changesOf(before: RepoFiles, after: RepoFiles): AuditChanges | undefined {
    for (const files of [before, after]) this.note(files);
    const { environments, devices, schemaCache } = this.options;
    const report = diffRepositories(before, after, { environments, devices, schemaCache });
    if (!this.seen.path && report.targets.some((t) => t.changes.some((c) => this.wanted(c.path))))
      this.seen.path = true;
    const changes = report.targets.flatMap((t) =>
      t.changes
        .filter((c) => this.wanted(c.path))
        .map((c) => ({ target: `${t.environment}/${t.device ?? '(environment)'}`, ...c })),
    );
    const secrets = report.environments.flatMap((e) =>
      e.secrets
        .filter((s) => this.wanted(s.path))
        .map((s) => ({ environment: e.environment, path: s.path, change: s.change })),
    );
    return changes.length === 0 && secrets.length === 0 ? undefined : { changes, secrets };
  }

  /**
   * Throws for a selection that names nothing the trees read ever held (a typo, most often),
   * with the nearest name, rather than an empty audit. A path counts when a commit changed it or
   * the working tree's schemas define it.
   */
  check(schemas: Repository['schemas']): void {
    const { environments, devices, path } = this.options;
    const seen = this.seen;
    for (const env of environments) {
      if (seen.environments.has(env)) continue;
      const guess = closest(env, seen.environments);
      throw new GitopsError(
        'unknown-environment',
        `there is no environment "${env}" in the working tree or the history read${guess ? `. Did you mean "${guess}"?` : ''}`,
        `environments: ${[...seen.environments].sort().join(', ') || '(none)'}`,
      );
    }
    for (const device of devices) {
      if (seen.devices.has(device)) continue;
      const guess = closest(device, seen.devices);
      const where = environments.length > 0 ? ` in ${environments.join(', ')}` : '';
      throw new GitopsError(
        'unknown-device',
        `there is no device "${device}"${where} in the working tree or the history read${guess ? `. Did you mean "${guess}"?` : ''}`,
        `devices${where}: ${[...seen.devices].sort().join(', ') || '(none)'}`,
      );
    }
    if (path === undefined || seen.path) return;
    const segments = parseDotted(path)!;
    if (!schemas || schemas.nodeAt(segments)) return;
    const parent = segments.length > 1 ? schemas.nodeAt(segments.slice(0, -1)) : undefined;
    const names =
      segments.length === 1
        ? schemas.sections()
        : parent && isObject(parent.properties)
          ? Object.keys(parent.properties)
          : [];
    const guess = closest(String(segments[segments.length - 1]), names);
    throw new GitopsError(
      'unknown-path',
      `${path} is not a configuration path${guess ? `. Did you mean "${[...segments.slice(0, -1), guess].join('.')}"?` : ''}`,
      names.length > 0 ? `keys here: ${names.join(', ')}` : 'gitops explain PATH shows the schema of a path',
    );
  }
}

/** The pull request a squash or merge commit's subject names, if it names one. */
export function pullRequestOfSubject(subject: string): number | undefined {
  const number = /^Merge pull request #(\d+)/.exec(subject)?.[1] ?? /\(#(\d+)\)\s*$/.exec(subject)?.[1];
  return number === undefined ? undefined : Number(number);
}

/** The audit as text lines: a commit line, who and which signature, then each change. */
export function formatAuditText(entries: readonly AuditEntry[]): string[] {
  if (entries.length === 0) return ['no commit changed what the selected devices run'];
  const show = (v: unknown): string => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));
  const lines: string[] = [];
  for (const e of entries) {
    lines.push(
      `${e.commit.slice(0, 12)} ${e.date.slice(0, 19).replace('T', ' ')}  ${e.subject}${e.pr ? `  (PR #${e.pr})` : ''}`,
      `    author ${e.author}; committer ${e.committer}; signature ${e.signature.verdict}${e.signature.signer ? ` by ${e.signature.signer}` : ''}`,
    );
    for (const c of e.changes)
      lines.push(
        `    ${c.target}: ${c.path} ${c.change === 'changed' ? `${show(c.old)} -> ${show(c.new)}` : c.change === 'added' ? `+ ${show(c.new)}` : `- ${show(c.old)}`}${c.file ? `  (${c.file}${c.line !== undefined ? `:${c.line}` : ''})` : ''}`,
      );
    for (const s of e.secrets) lines.push(`    ${s.environment}: secret ${s.path} ${s.change}`);
  }
  return lines;
}
