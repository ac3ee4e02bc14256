// The one pull-request comment: a hidden marker to find it again, the summary first (with a line
// per environment whose rollout is halted), then the per-environment sections, cut to GitHub's
// 65,536-character limit with a note when needed.

import type { ChangeReport } from '../change/diff.js';
import { formatDiffMarkdown } from './diff.js';
import type { RangeResult } from '../trust/history.js';
import type { Halt } from '../rollout/state.js';
import { haltedCommentLine } from './rollout.js';

export const MARKER = '<!-- doorbell-gitops:pr-report -->';
export const COMMENT_LIMIT = 65_536;

export function prComment(
  report: ChangeReport,
  signatures: RangeResult | { skipped: string },
  base: string,
  head: string,
  limit = COMMENT_LIMIT,
  halted: ReadonlyArray<{ environment: string; halt: Halt }> = [],
): string {
  const sig =
    'skipped' in signatures
      ? `Signatures: not checked (${signatures.skipped})`
      : signatures.verdict === 'trusted'
        ? `Signatures: ✅ ${signatures.reason}`
        : `Signatures: ❌ ${signatures.verdict}: ${signatures.reason}`;
  const halts = halted.map((h) => haltedCommentLine(h.environment, h.halt) + '\n\n').join('');
  const head1 =
    `${MARKER}\n### doorbell-gitops: what this pull request changes on the doorbells\n\n` +
    `\`${base.slice(0, 12)}\` → \`${head.slice(0, 12)}\` · ${sig}\n\n${halts}`;
  const body = formatDiffMarkdown(report);
  const full = head1 + body + '\n';
  if (full.length <= limit) return full;
  const note =
    `\n\n> ⚠️ The report was cut to GitHub's comment limit of ${limit.toLocaleString('en')} characters.` +
    ` Run \`npx gitops diff --base ${base.slice(0, 12)} --head ${head.slice(0, 12)}\` for all of it.\n`;
  const room = limit - head1.length - note.length;
  // cut at a section boundary when possible, so that no table is left half-open
  let cut = body.slice(0, room);
  const lastSection = cut.lastIndexOf('\n<details>');
  if (lastSection > 0) cut = cut.slice(0, lastSection);
  return head1 + cut + note;
}
