// The `sops` metadata entry: master keys in key groups, the Shamir threshold, lastmodified,
// the encrypted MAC, the encryption rule, mac_only_encrypted and the writer's version.
// Entries for master keys we do not implement (kms, gcp_kms, ...) are kept verbatim.

import { GitopsError } from '../errors.js';
import { DEFAULT_RULE, RULE_KINDS } from './walk.js';
import type { EncryptionRule, RuleKind } from './walk.js';
import { entry, map, str } from './tree.js';
import type { MapNode, Node } from './tree.js';

/** The sops version written into files we produce (a real release, as sops checks it). */
export const SOPS_VERSION = '3.13.2';

export interface AgeEntry {
  recipient: string;
  enc: string;
}

export interface PgpEntry {
  fp: string;
  enc: string;
  created_at: string;
}

export interface KeyGroup {
  age: AgeEntry[];
  pgp: PgpEntry[];
  /** kms, gcp_kms, azure_kv, hc_vault, hckms entries, preserved as they were read. */
  other: Array<{ type: string; node: Node }>;
}

export interface SopsMetadata {
  keyGroups: KeyGroup[];
  shamirThreshold: number;
  lastmodified: string;
  mac: string;
  rule: EncryptionRule;
  macOnlyEncrypted: boolean;
  version: string;
}

const OTHER_TYPES = ['kms', 'gcp_kms', 'azure_kv', 'hc_vault', 'hckms'];

const scalarText = (n: Node | undefined): string | undefined => (n?.kind === 'scalar' ? n.text : undefined);
const items = (n: Node | undefined): Node[] =>
  n?.kind === 'list' ? n.items.filter((i): i is Node => i.kind !== 'comment') : [];

function fieldOf(n: Node | undefined, key: string): Node | undefined {
  if (n?.kind !== 'map') return undefined;
  for (const i of n.items) if (i.kind === 'entry' && i.key === key) return i.value;
  return undefined;
}

function group(n: Node | undefined): KeyGroup {
  const age = items(fieldOf(n, 'age')).map((e) => ({
    recipient: (scalarText(fieldOf(e, 'recipient')) ?? '').trim(),
    enc: scalarText(fieldOf(e, 'enc')) ?? '',
  }));
  const pgp = items(fieldOf(n, 'pgp')).map((e) => ({
    fp: scalarText(fieldOf(e, 'fp')) ?? '',
    enc: scalarText(fieldOf(e, 'enc')) ?? '',
    created_at: scalarText(fieldOf(e, 'created_at')) ?? '',
  }));
  const other = OTHER_TYPES.flatMap((type) => items(fieldOf(n, type)).map((node) => ({ type, node })));
  return { age, pgp, other };
}

/** Go's time.Parse(RFC3339) then Format(RFC3339): the AAD sops uses for the MAC. */
export function macAad(lastmodified: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.exec(lastmodified);
  if (!m)
    throw new GitopsError(
      'sops-bad-metadata',
      `lastmodified "${lastmodified}" is not an RFC 3339 time`,
      'restore the file from git; sops writes e.g. "2026-11-27T10:00:00Z"',
    );
  const zone = m[3]!.toUpperCase() === 'Z' || m[3] === '+00:00' || m[3] === '-00:00' ? 'Z' : m[3]!;
  return `${m[1]}T${m[2]}${zone}`;
}

export function parseMetadata(node: Node | undefined, file: string): SopsMetadata {
  const bad = (
    what: string,
    hint = 'the file is not a sops file, or its metadata was edited by hand; restore it from git',
  ): never => {
    throw new GitopsError('sops-bad-metadata', `${file}: ${what}`, hint);
  };
  if (!node || node.kind !== 'map')
    return bad('has no sops metadata', `encrypt it first: gitops secrets encrypt ${file}`);
  const lastNode = fieldOf(node, 'lastmodified');
  if (lastNode?.kind === 'scalar' && lastNode.type === 'time')
    bad(
      'lastmodified is an unquoted YAML timestamp; sops requires a quoted string',
      'quote it: lastmodified: "2026-11-27T10:00:00Z"',
    );
  const lastmodified = scalarText(lastNode);
  if (!lastmodified) bad('has no lastmodified');
  macAad(lastmodified!);
  const version = scalarText(fieldOf(node, 'version'));
  if (
    !version ||
    (!/^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(version) && !version.startsWith('1.'))
  )
    bad(
      `version "${version ?? ''}" is not a semantic version; sops refuses such files`,
      'set it to the sops release that wrote the file, e.g. 3.13.2',
    );
  const rules = RULE_KINDS.filter(
    (k) => scalarText(fieldOf(node, k)) !== undefined && scalarText(fieldOf(node, k)) !== '',
  );
  if (rules.length > 1) bad(`has ${rules.length} encryption rules (${rules.join(', ')}); sops allows one`);
  const rule: EncryptionRule = rules[0]
    ? { kind: rules[0] as RuleKind, value: scalarText(fieldOf(node, rules[0]))! }
    : DEFAULT_RULE;
  const single = group(node);
  const hasSingle = single.age.length + single.pgp.length + single.other.length > 0;
  const keyGroups = hasSingle ? [single] : items(fieldOf(node, 'key_groups')).map(group);
  if (keyGroups.length === 0 || keyGroups.every((g) => g.age.length + g.pgp.length + g.other.length === 0))
    bad('names no master key: nobody can decrypt it');
  const thresholdText = scalarText(fieldOf(node, 'shamir_threshold'));
  const shamirThreshold = thresholdText ? Number(thresholdText) : 0;
  for (const g of keyGroups)
    for (const a of g.age)
      if (!a.enc.includes('-----BEGIN AGE ENCRYPTED FILE-----'))
        bad(`the age entry for ${a.recipient || '(no recipient)'} has no armored data key`);
  return {
    keyGroups,
    shamirThreshold,
    lastmodified: lastmodified!,
    mac: scalarText(fieldOf(node, 'mac')) ?? '',
    rule,
    macOnlyEncrypted: /^(true|True|1)$/.test(scalarText(fieldOf(node, 'mac_only_encrypted')) ?? ''),
    version: version!,
  };
}

function groupNode(g: KeyGroup): Array<[string, Node]> {
  const out: Array<[string, Node]> = [];
  if (g.age.length > 0)
    out.push([
      'age',
      { kind: 'list', items: g.age.map((a) => map([entry('enc', str(a.enc)), entry('recipient', str(a.recipient))])) },
    ]);
  for (const type of OTHER_TYPES) {
    const list = g.other.filter((o) => o.type === type).map((o) => o.node);
    if (list.length > 0) out.push([type, { kind: 'list', items: list }]);
  }
  if (g.pgp.length > 0)
    out.push([
      'pgp',
      {
        kind: 'list',
        items: g.pgp.map((p) =>
          map([entry('created_at', str(p.created_at)), entry('enc', str(p.enc)), entry('fp', str(p.fp))]),
        ),
      },
    ]);
  return out;
}

/** The metadata as a tree, keys sorted as sops 3.13 writes them. */
export function metadataNode(meta: SopsMetadata): MapNode {
  const fields: Array<[string, Node]> = [];
  if (meta.keyGroups.length === 1) fields.push(...groupNode(meta.keyGroups[0]!));
  else
    fields.push([
      'key_groups',
      { kind: 'list', items: meta.keyGroups.map((g) => map(groupNode(g).map(([k, v]) => entry(k, v)))) },
    ]);
  fields.push(['lastmodified', str(meta.lastmodified)], ['mac', str(meta.mac)]);
  if (meta.macOnlyEncrypted) fields.push(['mac_only_encrypted', { kind: 'scalar', type: 'bool', text: 'True' }]);
  if (meta.keyGroups.length > 1 && meta.shamirThreshold > 0)
    fields.push(['shamir_threshold', { kind: 'scalar', type: 'int', text: String(meta.shamirThreshold) }]);
  fields.push([meta.rule.kind, str(meta.rule.value)], ['version', str(meta.version)]);
  fields.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return map(fields.map(([k, v]) => entry(k, v)));
}
