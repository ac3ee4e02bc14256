// age identities generated per test run.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateHybridIdentity, generateIdentity, identityToRecipient } from 'age-encryption';
import { tempDir } from './project.js';

export interface AgeKey {
  identity: string;
  recipient: string;
  /** A keys.txt file holding the identity. */
  file: string;
}

export async function ageKey(kind: 'x25519' | 'hybrid' = 'x25519'): Promise<AgeKey> {
  const identity = kind === 'hybrid' ? await generateHybridIdentity() : await generateIdentity();
  const recipient = await identityToRecipient(identity);
  const file = join(tempDir('age-'), 'keys.txt');
  writeFileSync(file, `# created for a test\n# public key: ${recipient}\n${identity}\n`, { mode: 0o600 });
  return { identity, recipient, file };
}
