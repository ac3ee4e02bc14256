// One age key made for this test run, with the identities that open what it encrypts.

import { addIdentityText, emptyIdentities } from '../../../agent/core/sops/identities.js';
import type { Identities } from '../../../agent/core/sops/keys.js';
import type { AgeKey } from '../../helpers/age.js';
import { ageKey } from '../../helpers/age.js';

export async function runKey(): Promise<{ key: AgeKey; ids: Identities }> {
  const key = await ageKey();
  const ids = emptyIdentities();
  await addIdentityText(ids, key.identity, key.recipient);
  return { key, ids };
}
