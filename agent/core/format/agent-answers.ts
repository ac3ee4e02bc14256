// The answers of the agent's API as `gitops agent ...` prints them: status, journal, releases,
// diff, sync and rollback. Pure: the time ages are counted from is a parameter. An answer from
// an older or newer agent may lack fields: what is missing is shown as "?", "-" or nothing.

import type {
  CycleAnswer,
  DiffAnswer,
  JournalEntry,
  ReleaseRef,
  ReleasesAnswer,
  StatusAnswer,
  SyncAnswer,
} from '../contracts/api.js';

/** A commit id as the client shows it: 12 digits, or "-" for none. */
export const shortId = (c: unknown): string => (typeof c === 'string' ? c.slice(0, 12) : '-');

/** A commit as people name it: its short id and, when it has one, its subject in quotes. */
export const commitLabel = (commit: unknown, subject?: string | null): string =>
  `${shortId(commit)}${subject ? ` "${subject}"` : ''}`;

/** How long before `now` (ms since the epoch) an ISO time was: "42 s ago", "3 min ago", ... */
export function ago(iso: unknown, now: number): string {
  if (typeof iso !== 'string') return 'never';
  const s = Math.round((now - Date.parse(iso)) / 1000);
  return s < 90
    ? `${s} s ago`
    : s < 5400
      ? `${Math.round(s / 60)} min ago`
      : s < 172_800
        ? `${Math.round(s / 3600)} h ago`
        : `${Math.round(s / 86_400)} days ago`;
}

function describeRelease(r: ReleaseRef | null, now: number): string {
  if (!r) return 'nothing';
  return `${commitLabel(r.commit, r.subject)}${r.signer ? `, signed by ${r.signer}` : ''}${r.committed_at ? `, committed ${ago(r.committed_at, now)}` : ''}`;
}

export function formatStatus(s: StatusAnswer, now: number): string {
  const lines = [
    `${s.environment}/${s.device} (${s.mode})`,
    `  runs       ${describeRelease(s.current, now)}${s.current?.applied_at ? `; applied ${ago(s.current.applied_at, now)}` : ''}`,
    `  last good  ${s.last_good?.commit === s.current?.commit ? 'the same' : describeRelease(s.last_good, now)}`,
    `  last sync  ${
      s.last_sync
        ? `${s.last_sync.result} (${s.last_sync.trigger}, ${ago(s.last_sync.time, now)})` +
          (s.last_sync.detail ? `: ${s.last_sync.detail}` : '')
        : 'none yet'
    }${s.next_poll ? `; next poll ${s.next_poll}` : ''}`,
  ];
  const f = s.state?.following; // an older agent sends no state, or one without it
  if (f) lines.splice(1, 0, `  follows    ${f.ref}${f.wave === 'all' ? '' : ` (wave ${f.wave})`}`);
  if (s.last_error)
    lines.push(
      `  last error ${s.last_error.code} on ${shortId(s.last_error.commit)} ${ago(s.last_error.time, now)}: ` +
        s.last_error.reason.split('\n').join('\n             '),
    );
  if (s.experiments?.length)
    lines.push(
      `  experiments ${s.experiments
        .map(
          (e) =>
            `${e.experiment}: ${e.variant === null ? 'not in' : `${e.variant} (${e.state}${e.code ? ` ${e.code}` : ''})`}` +
            (e.switchback
              ? ` [switchback block ${e.switchback.block}, ${e.switchback.phase}` +
                `${e.switchback.next_switch ? `, next switch ${e.switchback.next_switch}` : ''}]`
              : ''),
        )
        .join(', ')}`,
    );
  if (s.tuning?.length)
    lines.push(
      `  tuning ${s.tuning
        .map(
          (t) =>
            `${t.tuning}: ${t.state === 'trial' ? `trial ${t.trials + 1} ${t.trial!.candidate}` : `${t.state}${t.reason ? ` (${t.reason})` : ''}`}` +
            `, ${t.trials} trials${t.best ? `, best ${t.best.candidate} (${t.best.estimate.toPrecision(3)})` : ''}`,
        )
        .join('; ')}`,
    );
  lines.push(
    `  components ${
      s.components.length === 0
        ? 'not checked yet'
        : s.components.map((c) => `${c.name} ${c.healthy ? 'healthy' : `UNHEALTHY (${c.reason ?? '?'})`}`).join(', ')
    }`,
  );
  return lines.join('\n');
}

/** Any JSON value as one piece of a line: strings as they are, nothing as '', the rest as JSON. */
const text = (v: unknown): string =>
  typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v);

/** What a lease or governor entry is about: `operator frame_capture.fps=10 by ops`, `step 0 -> 1`. */
function runtimeDetail(e: Partial<JournalEntry>): string {
  if (e.event === 'governor-step') return ` step ${text(e.from)} -> ${text(e.to)}${e.step ? ` (${text(e.step)})` : ''}`;
  if (!String(e.event ?? '').startsWith('lease-') || e.path === undefined) return '';
  const value = e.value === undefined ? '' : `=${JSON.stringify(e.value)}`;
  return ` ${text(e.owner)} ${text(e.path)}${value}${e.actor ? ` by ${text(e.actor)}` : ''}`;
}

export function formatJournal(entries: readonly Partial<JournalEntry>[]): string {
  const line = (e: Partial<JournalEntry>): string =>
    `${text(e.time) || '?'}  ${(text(e.event) || '?').padEnd(14)} ${shortId(e.commit)}` +
    `${e.to && e.event !== 'governor-step' ? ` -> ${shortId(e.to)}` : ''}${e.component ? ` ${text(e.component)}` : ''}` +
    runtimeDetail(e) +
    `${e.by ? ` by ${text(e.by)}` : ''}${e.subject ? ` "${text(e.subject)}"` : ''}${e.code ? ` [${text(e.code)}]` : ''}` +
    `${e.reason ? `: ${text(e.reason).split('\n')[0]}` : ''}`;
  return entries.map(line).join('\n') || 'the journal is empty';
}

export function formatReleases(list: ReleasesAnswer): string {
  return list
    .map(
      (r) =>
        `${r.current ? '*' : ' '} ${shortId(r.commit)}  ${(r.bad ? 'bad' : r.good ? 'good' : '-').padEnd(4)} ` +
        `${r.written_at ?? ''}  ${r.subject ?? ''}${r.signer ? ` (${r.signer})` : ''}`,
    )
    .join('\n');
}

export function formatDiff(d: DiffAnswer): string {
  return (
    [
      `${shortId(d.from?.commit)} -> ${shortId(d.to?.commit)}`,
      ...d.changes.map(
        (c) =>
          `  ${c.change === 'added' ? '+' : c.change === 'removed' ? '-' : '~'} ${c.path}` +
          (c.secret
            ? ' (secret, value not shown)'
            : `: ${JSON.stringify(c.old ?? null)} -> ${JSON.stringify(c.new ?? null)}`),
      ),
    ].join('\n') + (d.changes.length === 0 ? '\n  no differences' : '')
  );
}

/** A sync's answer: the outcome, the commit, what was reconfigured, the last sync's result, the reason. */
export function formatSync(answer: SyncAnswer): string {
  const r: {
    outcome: string;
    commit?: string;
    reason?: string;
    components?: readonly string[];
    ms?: number;
    state?: { result: string } | null;
  } = answer;
  return (
    `${r.outcome}${r.commit ? ` ${shortId(r.commit)}` : ''}` +
    `${r.components?.length ? `: reconfigured ${r.components.join(', ')}` : ''}${r.state ? `: ${r.state.result}` : ''}` +
    `${r.reason ? `\n  ${r.reason.split('\n').join('\n  ')}` : ''}${r.ms !== undefined ? ` in ${Math.round(r.ms)} ms` : ''}`
  );
}

/** True when a sync's answer says the candidate was not applied (refused, rolled back) or the sync failed. */
export function syncFailed(answer: SyncAnswer): boolean {
  const r: { outcome: string; state?: { result: string } | null } = answer;
  return r.outcome === 'refused' || r.outcome === 'rolled-back' || r.state?.result === 'failed';
}

export function formatRollback(r: CycleAnswer): string {
  return `rolled back to ${shortId(r.commit)}; reconfigured ${r.components?.join(', ') || 'nothing'} in ${Math.round(r.ms)} ms`;
}
