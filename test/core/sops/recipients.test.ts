// Recipients of a SOPS file against its creation rule, without any key: verify's problems,
// rotate's key groups and updatekeys' change, on the example production secrets.

import { describe, expect, it } from 'vitest';
import { ageRecipients, recipientChange, rotationGroups, verifyProblems } from '../../../agent/core/sops/recipients.js';
import { readEncrypted } from '../../../agent/core/sops/sops-file.js';
import type { SopsMetadata } from '../../../agent/core/sops/metadata.js';
import { exampleFiles } from '../../helpers/project.js';

const FILE = 'environments/production/secrets.sops.yaml';
const encrypted = readEncrypted(Buffer.from(exampleFiles().get(FILE)!, 'utf8'), FILE);
const have = [...ageRecipients(encrypted.metadata)];

describe('verifyProblems', () => {
  it('none when the file is encrypted to exactly the rule’s recipients, or when no rule is given', () => {
    expect(have.length).toBeGreaterThan(1);
    expect(verifyProblems(FILE, encrypted, { configFile: '.sops.yaml', groups: [have] })).toEqual([]);
    expect(verifyProblems(FILE, encrypted)).toEqual([]);
  });

  it('names a recipient the rule adds and one it dropped, with the command that fixes both', () => {
    const groups = [[...have.slice(1), 'age1new']];
    expect(verifyProblems(FILE, encrypted, { configFile: '.sops.yaml', groups })).toEqual([
      `recipient age1new (from .sops.yaml) cannot decrypt it: run gitops secrets updatekeys ${FILE}`,
      `recipient ${have[0]} is not in .sops.yaml any more: run gitops secrets updatekeys ${FILE}`,
    ]);
  });

  it('names a leaf that should be encrypted but is plaintext', () => {
    const text = exampleFiles()
      .get(FILE)!
      .replace(/^(\s+password: )ENC\[[^\]]*\]/m, '$1hunter2');
    expect(text).toContain('hunter2');
    const problems = verifyProblems(FILE, readEncrypted(Buffer.from(text, 'utf8'), FILE));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/password should be encrypted but is plaintext$/);
  });
});

describe('rotationGroups and recipientChange', () => {
  it('adds to the first group and removes from every group', () => {
    expect(rotationGroups(FILE, encrypted.metadata, { add: ['age1new'], remove: [have[0]!] })).toEqual([
      [...have.slice(1), 'age1new'],
    ]);
  });

  it('refuses a file also encrypted to PGP keys', () => {
    const withPgp: Pick<SopsMetadata, 'keyGroups'> = {
      keyGroups: [{ age: [], pgp: [{ fp: 'AB', enc: 'x', created_at: '' }], other: [] }],
    };
    expect(() => rotationGroups(FILE, withPgp, { add: [], remove: [] })).toThrow(
      expect.objectContaining({ code: 'sops-cannot-rewrap' }),
    );
  });

  it('says what updatekeys adds and removes, and when nothing changes', () => {
    expect(recipientChange(encrypted.metadata, [have])).toEqual({ added: [], removed: [], same: true });
    expect(recipientChange(encrypted.metadata, [[...have.slice(1), 'age1new']])).toEqual({
      added: ['age1new'],
      removed: [have[0]],
      same: false,
    });
    // the same recipients split into another number of groups is a change
    expect(recipientChange(encrypted.metadata, [have.slice(0, 1), have.slice(1)]).same).toBe(false);
  });
});
