// Printing a semantic diff for a terminal (text) or a pull request comment (markdown).

import type { ChangeReport, PathChange } from '../change/diff.js';
import { location } from './diagnostics.js';
import type { Json } from '../json/value.js';

const show = (v: Json | undefined): string => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));
const where = (c: PathChange): string => (c.file ? `${c.file}${c.line !== undefined ? `:${c.line}` : ''}` : '');

function line(c: PathChange): string {
  if (c.change === 'added') return `+ ${c.path}: ${show(c.new)}`;
  if (c.change === 'removed') return `- ${c.path}: ${show(c.old)}`;
  return `~ ${c.path}: ${show(c.old)} -> ${show(c.new)}`;
}

export function riskLine(r: ChangeReport): string {
  return `risk ${r.risk.level}: ${r.risk.production ? 'production touched' : 'production not touched'}; ${r.risk.devicesAffected} device(s) affected${r.risk.sensitive.length ? `; sensitive: ${r.risk.sensitive.join(', ')}` : ''}`;
}

export function formatDiffText(r: ChangeReport): string {
  const out: string[] = [];
  if (r.targets.length === 0 && r.environments.length === 0) out.push('no rendered configuration changes');
  for (const t of r.targets) {
    out.push(`${t.environment}/${t.device ?? '(environment)'}${t.status !== 'changed' ? ` (${t.status})` : ''}:`);
    for (const c of t.changes) out.push(`  ${line(c)}${where(c) ? `    (${where(c)})` : ''}`);
  }
  for (const e of r.environments) {
    out.push(`${e.environment} environment:`);
    for (const c of e.policy) out.push(`  ${line(c)}    (${c.file})`);
    for (const s of e.secrets) out.push(`  secret ${s.path} ${s.change}`);
  }
  out.push('', `head ${r.valid ? 'is valid' : `is INVALID (${r.diagnostics.length} error(s))`}${checkedNote(r)}`);
  for (const d of r.diagnostics.slice(0, 20)) out.push(`  ${location(d)} ${d.code} ${d.message}`);
  out.push(riskLine(r));
  return out.join('\n');
}

/** Where only the changed device files were validated, what was: the verdict is about them. */
const checkedNote = (r: ChangeReport): string =>
  r.checked
    ? ` (the ${r.checked.devices.length} changed device(s) checked; gitops validate checks the whole repository)`
    : '';

const md = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function formatDiffMarkdown(r: ChangeReport): string {
  const out: string[] = [];
  out.push(
    `**${r.valid ? '✅ valid' : '❌ invalid'}**${checkedNote(r)} · risk **${r.risk.level}** · ${r.risk.production ? 'production touched' : 'production not touched'} · ${r.risk.devicesAffected} device(s) affected`,
  );
  if (r.risk.sensitive.length) out.push('', `Sensitive: ${r.risk.sensitive.map((s) => `\`${s}\``).join(', ')}`);
  if (!r.valid) {
    out.push('', '| file | code | message |', '| --- | --- | --- |');
    for (const d of r.diagnostics.slice(0, 50)) out.push(`| \`${md(location(d))}\` | ${d.code} | ${md(d.message)} |`);
  }
  for (const t of r.targets) {
    out.push(
      '',
      `<details><summary><b>${t.environment}/${t.device ?? '(environment)'}</b> (${t.tier}${t.status !== 'changed' ? `, ${t.status}` : ''}): ${t.changes.length} change(s)</summary>`,
      '',
      '| path | before | after | from |',
      '| --- | --- | --- | --- |',
    );
    for (const c of t.changes)
      out.push(
        `| \`${md(c.path)}\` | ${c.change === 'added' ? '' : `\`${md(show(c.old))}\``} | ${c.change === 'removed' ? '*(removed)*' : `\`${md(show(c.new))}\``} | ${md(where(c))} |`,
      );
    out.push('', '</details>');
  }
  for (const e of r.environments) {
    out.push('', `**${e.environment}** (${e.tier})`);
    for (const c of e.policy)
      out.push(
        `- policy \`${c.path}\`: ${c.change === 'added' ? '' : `\`${md(show(c.old))}\` → `}\`${md(show(c.new))}\``,
      );
    for (const s of e.secrets) out.push(`- secret \`${s.path}\` ${s.change}`);
  }
  if (r.targets.length === 0 && r.environments.length === 0)
    out.push('', 'No device runs a different configuration after this change.');
  return out.join('\n');
}
