// The history policy the agent calls before applying a candidate commit: it must descend from
// the last applied commit (or the pinned anchor on a first sync) — no rollback, no force-push,
// no jump onto a merged side branch — committer times must not go backwards or into the
// future, and every new commit (mode all) or the first-parent chain (mode first-parent) must
// carry a trusted signature.

import { commitHeaders, splitCommit } from './git-object.js';
import { verdictOf } from './verdict.js';
import type { ObjectVerdict, Verdict } from './verdict.js';
import { verifyCommitObject } from './verify-object.js';
import type { TrustStore, VerifyOptions } from './verify-object.js';

export interface ObjectReader {
  /** Raw object bytes, or undefined when the object is not in the repository. */
  read(oid: string): Promise<{ type: string; bytes: Uint8Array } | undefined>;
}

export type HistoryMode = 'all' | 'first-parent';

export interface RangeResult {
  verdict: Verdict;
  reason: string;
  commits: ObjectVerdict[];
}

export interface RangeOptions extends VerifyOptions {
  mode: HistoryMode;
  /** At most this many new commits are examined (a hostile remote could offer millions). */
  maxCommits?: number;
}

const short = (oid: string): string => oid.slice(0, 12);

async function parentsOf(reader: ObjectReader, oid: string): Promise<{ parents: string[]; time: number } | undefined> {
  const obj = await reader.read(oid);
  if (!obj || obj.type !== 'commit') return undefined;
  const { headers } = commitHeaders(splitCommit(obj.bytes).payload);
  return headers ? { parents: headers.parents, time: headers.committer.time } : undefined;
}

/** Verifies `base..candidate`; `base` is the last applied commit or the pinned anchor. */
export async function verifyRange(source: ObjectReader, base: string, candidate: string, trust: TrustStore, opts: RangeOptions): Promise<RangeResult> {
  // Every object is read once, however often the walk and the verification need it.
  const seenObjects = new Map<string, Promise<{ type: string; bytes: Uint8Array } | undefined>>();
  const reader: ObjectReader = {
    read(oid) {
      let hit = seenObjects.get(oid);
      if (!hit) seenObjects.set(oid, (hit = source.read(oid)));
      return hit;
    },
  };
  const max = opts.maxCommits ?? 10_000;
  const fail = (verdict: Verdict, reason: string, commits: ObjectVerdict[] = []): RangeResult => ({ verdict, reason, commits });
  if (!(await reader.read(base))) return fail('malformed', `the applied commit ${short(base)} is not in the repository (a shallow clone, or a rewritten history)`);
  if (!(await reader.read(candidate))) return fail('malformed', `the candidate ${short(candidate)} is not in the repository`);
  if (base === candidate) return { verdict: 'trusted', reason: 'the candidate is the commit already applied', commits: [] };

  // The new commits, candidate first, as `git rev-list base..candidate` (or --first-parent).
  const newCommits: string[] = [];
  if (opts.mode === 'first-parent') {
    let cur: string | undefined = candidate;
    while (cur !== base) {
      if (cur === undefined) return fail('policy', `the applied commit ${short(base)} is not on the first-parent history of ${short(candidate)}: a rollback, a force-push or a jump onto a merged side branch`);
      if (newCommits.length >= max) return fail('policy', `more than ${max} new commits; refusing to examine an unbounded history`);
      newCommits.push(cur);
      const info = await parentsOf(reader, cur);
      if (!info) return fail('malformed', `commit ${short(cur)} is missing or unreadable (shallow clone?)`);
      cur = info.parents[0];
    }
  } else {
    // Everything reachable from base is old; everything else reachable from candidate is new.
    const old = new Set<string>();
    const stack = [base];
    while (stack.length > 0) {
      const oid = stack.pop()!;
      if (old.has(oid)) continue;
      old.add(oid);
      const info = await parentsOf(reader, oid);
      if (info) stack.push(...info.parents);
    }
    if (old.has(candidate)) return fail('policy', `the candidate ${short(candidate)} is an ancestor of the applied commit ${short(base)}: a rollback`);
    const seen = new Set<string>();
    const queue = [candidate];
    let reachesBase = false;
    while (queue.length > 0) {
      const oid = queue.shift()!;
      if (seen.has(oid)) continue;
      seen.add(oid);
      if (oid === base) {
        reachesBase = true;
        continue;
      }
      if (old.has(oid)) continue;
      if (newCommits.length >= max) return fail('policy', `more than ${max} new commits; refusing to examine an unbounded history`);
      newCommits.push(oid);
      const info = await parentsOf(reader, oid);
      if (!info) return fail('malformed', `commit ${short(oid)} is missing or unreadable (shallow clone?)`);
      queue.push(...info.parents);
    }
    if (!reachesBase) return fail('policy', `the candidate ${short(candidate)} does not descend from the applied commit ${short(base)}: a force-push or a rewritten history`);
  }

  const commits: ObjectVerdict[] = [];
  const times = new Map<string, number>();
  const baseInfo = await parentsOf(reader, base);
  if (baseInfo) times.set(base, baseInfo.time);
  for (const oid of [...newCommits].reverse()) {
    const obj = (await reader.read(oid))!;
    const v = await verifyCommitObject(oid, oid, obj.bytes, trust, opts);
    if (v.verdict === 'trusted' && v.headers) {
      const parents = opts.mode === 'first-parent' ? v.headers.parents.slice(0, 1) : v.headers.parents;
      const later = parents.filter((p) => (times.get(p) ?? -Infinity) > v.headers!.committer.time + opts.skewSeconds);
      if (later.length > 0) {
        const { headers: _h, ...rest } = v;
        commits.push({ ...rest, verdict: 'policy', reason: `committed at ${new Date(v.headers.committer.time * 1000).toISOString()}, before its parent ${short(later[0]!)}: committer times go backwards (a backdated commit)`, signer: null });
        times.set(oid, v.headers.committer.time);
        continue;
      }
    }
    if (v.headers) times.set(oid, v.headers.committer.time);
    const { headers: _h, ...rest } = v;
    commits.push(rest);
  }
  commits.reverse();
  const bad = [...commits].reverse().find((c) => c.verdict !== 'trusted');
  if (bad) return { verdict: bad.verdict, reason: `commit ${short(bad.oid!)}: ${bad.reason}`, commits };
  return { verdict: 'trusted', reason: `${commits.length} new commit${commits.length === 1 ? '' : 's'}, every one signed by a trusted key`, commits };
}

export { verdictOf };
