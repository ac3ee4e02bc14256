// The history policy the agent calls before applying a candidate commit: it must descend from
// the last applied commit (or the pinned anchor on a first sync) — no rollback, no force-push,
// no jump onto a merged side branch — committer times must not go backwards or into the
// future, and every new commit (mode all) or the first-parent chain (mode first-parent) must
// carry a trusted signature.
//
// Key validity is judged at times the signer does not control: the candidate's key must be
// valid at the device's clock (opts.now, passed in); an older commit of the range is judged at
// its committer time only when committer times from the applied commit up to it never go
// backwards (each commit no earlier than the applied commit and every parent, and they no
// earlier than theirs), else at the device's clock too. Walks read parents exactly as git does
// (commitLinks).

import { commitHeaders, commitLinks } from './git-object.js';
import { verdictOf } from './verdict.js';
import type { ObjectVerdict, Verdict, VerdictCode } from './verdict.js';
import { verifyCommitObject } from './verify-object.js';
import type { TrustStore, VerifyOptions } from './verify-object.js';

export interface ObjectReader {
  /** Raw object bytes, or undefined when the object is not in the repository. */
  read(oid: string): Promise<{ type: string; bytes: Uint8Array } | undefined>;
}

export type HistoryMode = 'all' | 'first-parent';

export interface RangeResult {
  verdict: Verdict;
  /** The code of the refusing commit (future-dated), or null. */
  code: VerdictCode | null;
  /** True when every refusal in the range is retryable (future-dated): refuse for now, retry later, never mark bad. */
  retryable: boolean;
  reason: string;
  commits: ObjectVerdict[];
}

export interface RangeOptions extends VerifyOptions {
  mode: HistoryMode;
  /** At most this many new commits are examined (a hostile remote could offer millions). */
  maxCommits?: number;
}

const short = (oid: string): string => oid.slice(0, 12);

type Links = (oid: string) => Promise<{ parents: string[]; time: number | undefined } | undefined>;

/** Parents as git reads them; the committer time when the headers are well-formed. */
async function parentsOf(
  reader: ObjectReader,
  oid: string,
): Promise<{ parents: string[]; time: number | undefined } | undefined> {
  const obj = await reader.read(oid);
  if (!obj || obj.type !== 'commit') return undefined;
  const links = commitLinks(obj.bytes);
  if ('problem' in links) return undefined;
  return { parents: links.parents, time: commitHeaders(obj.bytes).headers?.committer.time };
}

/** The commits in an order where each comes after its parents among them (git rev-list --topo-order, reversed). */
async function parentsFirst(links: Links, oids: string[], mode: HistoryMode): Promise<string[]> {
  const inRange = new Set(oids);
  const order: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  for (const start of [...oids].reverse()) {
    const stack: Array<{ oid: string; parents: string[] | null }> = [{ oid: start, parents: null }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.parents === null) {
        if (state.has(top.oid)) {
          stack.pop();
          continue;
        }
        state.set(top.oid, 'open');
        const all = (await links(top.oid))?.parents ?? [];
        top.parents = (mode === 'first-parent' ? all.slice(0, 1) : all).filter((p) => inRange.has(p) && !state.has(p));
      }
      const next = top.parents.pop();
      if (next !== undefined) {
        if (!state.has(next)) stack.push({ oid: next, parents: null });
        continue;
      }
      state.set(top.oid, 'done');
      order.push(top.oid);
      stack.pop();
    }
  }
  return order;
}

/** Verifies `base..candidate`; `base` is the last applied commit or the pinned anchor. */
export async function verifyRange(
  source: ObjectReader,
  base: string,
  candidate: string,
  trust: TrustStore,
  opts: RangeOptions,
): Promise<RangeResult> {
  // Every object is read once, however often the walk and the verification need it.
  const seenObjects = new Map<string, Promise<{ type: string; bytes: Uint8Array } | undefined>>();
  const reader: ObjectReader = {
    read(oid) {
      let hit = seenObjects.get(oid);
      if (!hit) seenObjects.set(oid, (hit = source.read(oid)));
      return hit;
    },
  };
  // ... and parsed once.
  const parsed = new Map<string, ReturnType<Links>>();
  const links: Links = (oid) => {
    let hit = parsed.get(oid);
    if (!hit) parsed.set(oid, (hit = parentsOf(reader, oid)));
    return hit;
  };
  const max = opts.maxCommits ?? 10_000;
  const fail = (verdict: Verdict, reason: string, commits: ObjectVerdict[] = []): RangeResult => ({
    verdict,
    code: null,
    retryable: false,
    reason,
    commits,
  });
  if (!(await reader.read(base)))
    return fail(
      'malformed',
      `the applied commit ${short(base)} is not in the repository (a shallow clone, or a rewritten history)`,
    );
  if (!(await reader.read(candidate)))
    return fail('malformed', `the candidate ${short(candidate)} is not in the repository`);
  if (base === candidate)
    return {
      verdict: 'trusted',
      code: null,
      retryable: false,
      reason: 'the candidate is the commit already applied',
      commits: [],
    };

  // The new commits, candidate first, as `git rev-list base..candidate` (or --first-parent).
  const newCommits: string[] = [];
  if (opts.mode === 'first-parent') {
    let cur: string | undefined = candidate;
    while (cur !== base) {
      if (cur === undefined)
        return fail(
          'policy',
          `the applied commit ${short(base)} is not on the first-parent history of ${short(candidate)}: a rollback, a force-push or a jump onto a merged side branch`,
        );
      if (newCommits.length >= max)
        return fail('policy', `more than ${max} new commits; refusing to examine an unbounded history`);
      newCommits.push(cur);
      const info = await links(cur);
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
      const info = await links(oid);
      if (info) stack.push(...info.parents);
    }
    if (old.has(candidate))
      return fail(
        'policy',
        `the candidate ${short(candidate)} is an ancestor of the applied commit ${short(base)}: a rollback`,
      );
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
      if (newCommits.length >= max)
        return fail('policy', `more than ${max} new commits; refusing to examine an unbounded history`);
      newCommits.push(oid);
      const info = await links(oid);
      if (!info) return fail('malformed', `commit ${short(oid)} is missing or unreadable (shallow clone?)`);
      queue.push(...info.parents);
    }
    if (!reachesBase)
      return fail(
        'policy',
        `the candidate ${short(candidate)} does not descend from the applied commit ${short(base)}: a force-push or a rewritten history`,
      );
  }

  const verdicts = new Map<string, ObjectVerdict>();
  // floor: the latest committer time on the way from the applied commit to each commit.
  const floors = new Map<string, number>();
  const timeOf = async (oid: string): Promise<number | undefined> => (await links(oid))?.time;
  const baseTime = await timeOf(base);
  for (const oid of await parentsFirst(links, newCommits, opts.mode)) {
    const obj = (await reader.read(oid))!;
    const info = (await links(oid))!;
    const parents = opts.mode === 'first-parent' ? info.parents.slice(0, 1) : info.parents;
    let floor = baseTime ?? Infinity;
    for (const p of parents) floor = Math.max(floor, floors.get(p) ?? -Infinity, (await timeOf(p)) ?? Infinity);
    const own = info.time ?? -Infinity;
    floors.set(oid, Math.max(floor, own));
    const keyTime = oid !== candidate && own >= floor ? 'committed' : 'now';
    const v = await verifyCommitObject(oid, oid, obj.bytes, trust, opts, keyTime);
    const { headers, ...rest } = v;
    if (v.verdict === 'trusted' && headers) {
      const later: string[] = [];
      for (const p of parents)
        if (((await timeOf(p)) ?? -Infinity) > headers.committer.time + opts.skewSeconds) later.push(p);
      if (later.length > 0) {
        verdicts.set(oid, {
          ...rest,
          verdict: 'policy',
          reason: `committed at ${new Date(headers.committer.time * 1000).toISOString()}, before its parent ${short(later[0]!)}: committer times go backwards (a backdated commit)`,
          signer: null,
        });
        continue;
      }
    }
    verdicts.set(oid, rest);
  }
  // Candidate first, as `git rev-list` lists them.
  const commits = newCommits.map((oid) => verdicts.get(oid)!);
  // The oldest refusal that will not go away by waiting, else the oldest retryable one.
  const refused = [...commits].reverse().filter((c) => c.verdict !== 'trusted');
  const bad = refused.find((c) => !c.retryable) ?? refused[0];
  if (bad)
    return {
      verdict: bad.verdict,
      code: bad.code,
      retryable: refused.every((c) => c.retryable),
      reason: `commit ${short(bad.oid!)}: ${bad.reason}`,
      commits,
    };
  return {
    verdict: 'trusted',
    code: null,
    retryable: false,
    reason: `${commits.length} new commit${commits.length === 1 ? '' : 's'}, every one signed by a trusted key`,
    commits,
  };
}

export { verdictOf };
