// The device's validation with decrypted secrets (the real example secrets file, opened with
// the example operator identity): a secret of the wrong type or shape is reported at its path
// without its value, however short, so nothing the journal, the status API, the event stream
// or the log carries can hold it.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../agent/core/json/value.js';
import { addIdentityText, emptyIdentities } from '../../agent/core/sops/identities.js';
import { validateRepository } from '../../agent/core/validate/validate.js';
import { decryptEnvironmentSecrets } from '../../agent/io/environment-secrets.js';
import { Redactor } from '../../agent/io/redactor.js';
import { exampleFiles, PROJECT } from '../helpers/project.js';

describe('validation with decrypted secrets', () => {
  it('a short secret of the wrong type is reported at its path, never quoted', async () => {
    const files = exampleFiles();
    const ids = emptyIdentities();
    await addIdentityText(
      ids,
      readFileSync(join(PROJECT, 'environments/development/keys/dev-operator.agekey'), 'utf8'),
      'dev-operator',
    );
    const secrets = (await decryptEnvironmentSecrets(files, 'development', ids, new Redactor()))!;
    expect(
      validateRepository(files, { environments: ['development'], secrets }).diagnostics.filter(
        (d) => d.severity === 'error',
      ),
    ).toEqual([]);
    const bad = structuredClone(secrets) as { frame_capture: JsonObject; notifications: { telegram: JsonObject } };
    bad.frame_capture.password = 42;
    bad.frame_capture.username = ['zq'];
    bad.notifications.telegram.bot_token = false;
    const errors = validateRepository(files, {
      environments: ['development'],
      secrets: bad as unknown as JsonObject,
    }).diagnostics.filter((d) => d.severity === 'error');
    const at = (path: string): string[] =>
      errors.filter((d) => d.path === path).map((d) => `${d.message} ${d.hint ?? ''}`);
    expect(at('frame_capture.password').length).toBeGreaterThan(0);
    expect(at('frame_capture.username').length).toBeGreaterThan(0);
    expect(at('notifications.telegram.bot_token').length).toBeGreaterThan(0);
    expect(errors.map((d) => d.code)).toContain('schema-type');
    for (const d of errors) expect(`${d.message} ${d.hint ?? ''}`).not.toMatch(/42|zq|false/);
  });
});
