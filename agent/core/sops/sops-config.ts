// .sops.yaml creation rules: which recipients (key groups) and which encryption rule a file
// gets, chosen by path_regex against the path relative to the config file's directory.

import { parse } from 'yaml';
import { GitopsError } from '../errors.js';
import { RULE_KINDS } from './walk.js';
import type { EncryptionRule, RuleKind } from './walk.js';

export interface CreationRule {
  pathRegex: string | null;
  /** age recipients per key group. */
  groups: string[][];
  shamirThreshold: number;
  rule: EncryptionRule | null;
  macOnlyEncrypted: boolean;
  /** PGP fingerprints the rule names (we decrypt with PGP but do not encrypt to it). */
  pgp: string[];
  index: number;
}

const list = (v: unknown): string[] =>
  (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? v.split(',') : []).map((s) => s.trim()).filter(Boolean);

export function parseSopsConfig(text: string, file: string): CreationRule[] {
  let doc: unknown;
  try {
    doc = parse(text, { uniqueKeys: true });
  } catch (e) {
    throw new GitopsError(
      'sops-bad-config',
      `${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`,
      'fix the YAML syntax of .sops.yaml',
      { cause: e },
    );
  }
  const rules = (doc as { creation_rules?: unknown } | null)?.creation_rules;
  if (!Array.isArray(rules))
    throw new GitopsError(
      'sops-bad-config',
      `${file} has no creation_rules list`,
      'add creation_rules: with one rule per environment',
    );
  return rules.map((r: Record<string, unknown>, index) => {
    const where = `${file}: creation_rules[${index}]`;
    const kinds = RULE_KINDS.filter((k) => typeof r[k] === 'string' && r[k] !== '');
    if (kinds.length > 1)
      throw new GitopsError(
        'sops-bad-config',
        `${where} sets ${kinds.join(' and ')}; a rule may set one`,
        'keep only one of the *_suffix / *_regex settings',
      );
    const groups = Array.isArray(r.key_groups)
      ? (r.key_groups as Array<Record<string, unknown>>).map((g) => list(g.age))
      : [list(r.age)].filter((g) => g.length > 0);
    const pgp = Array.isArray(r.key_groups)
      ? (r.key_groups as Array<Record<string, unknown>>).flatMap((g) => list(g.pgp))
      : list(r.pgp);
    if (typeof r.path_regex === 'string') {
      try {
        new RegExp(r.path_regex, 'u');
      } catch (e) {
        throw new GitopsError(
          'sops-bad-config',
          `${where}: path_regex is not a valid regular expression (${(e as Error).message})`,
          'fix the path_regex',
          { cause: e },
        );
      }
    }
    return {
      pathRegex: typeof r.path_regex === 'string' ? r.path_regex : null,
      groups,
      shamirThreshold: typeof r.shamir_threshold === 'number' ? r.shamir_threshold : 0,
      rule: kinds[0] ? { kind: kinds[0] as RuleKind, value: String(r[kinds[0]]) } : null,
      macOnlyEncrypted: r.mac_only_encrypted === true,
      pgp,
      index,
    };
  });
}

/** The first rule whose path_regex matches `relativePath` (relative to the config's directory). */
export function pickCreationRule(rules: readonly CreationRule[], relativePath: string, file: string): CreationRule {
  const hit = rules.find((r) => r.pathRegex === null || new RegExp(r.pathRegex, 'u').test(relativePath));
  if (!hit)
    throw new GitopsError(
      'sops-no-rule',
      `no creation rule in ${file} matches ${relativePath}`,
      `add a rule whose path_regex matches it; the rules match: ${rules.map((r) => r.pathRegex ?? '(everything)').join(', ')}`,
    );
  if (hit.groups.length === 0 || hit.groups.some((g) => g.length === 0))
    throw new GitopsError(
      'sops-no-recipients',
      `creation rule ${hit.index} in ${file} names no age recipient${hit.pgp.length > 0 ? ' (only PGP keys, which this tool decrypts with but does not encrypt to)' : ''}`,
      'list age recipients in the rule (age: or key_groups[].age)',
    );
  return hit;
}
