// What validation checks of an environment's secrets file without any key, on the real example file changed in
// one place each: plaintext where the rule wants ciphertext, a broken MAC or metadata, recipients that disagree
// with .sops.yaml, and devices that could not decrypt it.

import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../agent/core/validate/diagnostics.js';
import { validateRepository } from '../../agent/core/validate/validate.js';
import { edit, exampleFiles, withFiles } from '../helpers/project.js';

const SECRETS = 'environments/development/secrets.sops.yaml';
const DEVICE = 'environments/development/devices/dev-bench-01.yaml';
const files = exampleFiles();
const secrets = files.get(SECRETS)!;
const deviceRecipient = /age_recipient: (\S+)/.exec(files.get(DEVICE)!)![1]!;
const operatorRecipient = /recipient: (\S+)/.exec(secrets)![1]!;

const errors = (changed: Map<string, string>): Diagnostic[] =>
  validateRepository(changed, { environments: ['development'] }).diagnostics.filter((d) => d.severity === 'error');
const brief = (changed: Map<string, string>) => errors(changed).map((d) => [d.code, d.file]);

describe('the secrets file, checked without a key', () => {
  it('the example passes', () => {
    expect(errors(files)).toEqual([]);
  });

  it('a value its rule says must be encrypted, in plaintext, is reported at its path', () => {
    const changed = withFiles({ [SECRETS]: secrets.replace(/bot_token: ENC\[[^\]]+\]/, 'bot_token: "123:abc"') });
    const [d] = errors(changed);
    expect(d).toMatchObject({ code: 'secrets-plaintext', file: SECRETS, path: 'notifications.telegram.bot_token' });
    expect(d!.line).toBe(secrets.split('\n').findIndex((l) => l.includes('bot_token:')) + 1);
    expect(d!.hint).toBe(
      `remove it and set it again with gitops secrets set ${SECRETS} notifications.telegram.bot_token -`,
    );
  });

  it('a MAC that is no ciphertext, or no sops metadata at all, makes the file invalid', () => {
    expect(brief(withFiles({ [SECRETS]: secrets.replace(/mac: ENC\[[^\]]+\]/, 'mac: not-a-mac') }))).toEqual([
      ['secrets-invalid', SECRETS],
    ]);
    const bare = withFiles({ [SECRETS]: secrets.slice(0, secrets.indexOf('sops:')) });
    expect(errors(bare)).toMatchObject([{ code: 'secrets-invalid', file: SECRETS, line: 1, column: 1 }]);
  });

  it('without .sops.yaml there is no rule to hold the recipients to', () => {
    expect(brief(withFiles({ '.sops.yaml': undefined }))).toEqual([['sops-config-missing', '.sops.yaml']]);
  });

  it('a recipient .sops.yaml adds that the file lacks, and one it dropped that the file keeps', () => {
    const added = edit(files, '.sops.yaml', `${operatorRecipient},`, `${operatorRecipient},\n      age1new,`);
    expect(errors(added).map((d) => d.message)).toEqual([
      `${SECRETS} is not encrypted to age1new, which .sops.yaml (rule 0) names`,
    ]);
    const dropped = edit(files, '.sops.yaml', `${operatorRecipient},\n`, '');
    const messages = errors(dropped).map((d) => [d.code, d.message]);
    expect(messages).toContainEqual([
      'secrets-recipients',
      `${SECRETS} is still encrypted to ${operatorRecipient}, which .sops.yaml no longer names`,
    ]);
  });

  it('a .sops.yaml without a rule for the file is reported against .sops.yaml', () => {
    const none = edit(files, '.sops.yaml', 'path_regex: ^environments/development/', 'path_regex: ^nowhere/');
    const [d] = errors(none);
    expect(d).toMatchObject({ file: '.sops.yaml' });
    expect(d!.code).not.toBe('secrets-recipients');
  });

  it('a device without an age recipient, or with one the file is not encrypted to, cannot decrypt it', () => {
    const without = edit(files, DEVICE, `  age_recipient: ${deviceRecipient}\n`, '');
    expect(brief(without)).toContainEqual(['device-no-recipient', DEVICE]);
    const other = edit(files, DEVICE, deviceRecipient, 'age1otherdevicekeyxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx');
    const d = errors(other).find((x) => x.file === DEVICE && x.code === 'secrets-recipients');
    expect(d?.message).toContain('device dev-bench-01 (age1otherdevicek…) cannot decrypt');
    expect(d?.line).toBe(
      files
        .get(DEVICE)!
        .split('\n')
        .findIndex((l) => l.includes('age_recipient')) + 1,
    );
  });
});
