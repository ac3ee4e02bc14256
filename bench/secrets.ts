// Secrets figures (issue: secrets): decrypting a 200-value secrets file in process and as a
// `gitops secrets decrypt` process, beside the npm peer decoder sops-age on the same file.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { decryptSops } from 'sops-age';
import { addIdentityText, emptyIdentities } from '../agent/core/sops/identities.js';
import { decryptFile, encryptFile } from '../agent/core/sops/sops-file.js';
import { median, timeProcess } from './measure.js';
import type { Row } from './measure.js';

async function timeAsync(fn: () => Promise<unknown>, runs: number): Promise<number> {
  for (let i = 0; i < 10; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

export async function benchSecrets(cli: string): Promise<Row[]> {
  const group = 'secrets';
  const dir = mkdtempSync(join(tmpdir(), 'bench-secrets-'));
  try {
    const identity = await generateIdentity();
    const recipient = await identityToRecipient(identity);
    const keyFile = join(dir, 'keys.txt');
    writeFileSync(keyFile, identity + '\n');
    // 200 values: 20 devices x 10 credentials, strings and numbers, nested two levels deep
    const lines: string[] = [];
    for (let d = 0; d < 20; d++) {
      lines.push(
        `device_${d}:`,
        '    camera:',
        `        username: cam-user-${d}`,
        `        password: "pw-${d}-${'x'.repeat(24)}"`,
        `        port: ${554 + d}`,
        '    notifications:',
      );
      for (let k = 0; k < 7; k++) lines.push(`        token_${k}: "tok-${d}-${k}-${'y'.repeat(32)}"`);
    }
    const plain = Buffer.from(lines.join('\n') + '\n');
    const file = join(dir, 'secrets.sops.yaml');
    const encrypted = await encryptFile(plain, file, { groups: [[recipient]] }, new Date());
    writeFileSync(file, encrypted);
    const ids = emptyIdentities();
    await addIdentityText(ids, identity, 'bench key');

    const ours = await timeAsync(() => decryptFile(encrypted, file, ids), 100);
    const text = encrypted.toString('utf8');
    const peer = await timeAsync(() => decryptSops(text, { secretKey: identity, fileType: 'yaml' }), 100);
    const env = { ...process.env, SOPS_AGE_KEY_FILE: keyFile };
    const proc = timeProcess([process.execPath, cli, 'secrets', 'decrypt', file], 10, { env });
    return [
      {
        group,
        name: 'decrypt a 200-value file in process (MAC verified)',
        value: ours,
        unit: 'ms',
        target: '< 15 ms',
        pass: ours < 15,
      },
      { group, name: 'same file with the npm peer sops-age 4.0.2 (no MAC check)', value: peer, unit: 'ms' },
      { group, name: '`gitops secrets decrypt` of that file, whole process', value: proc, unit: 'ms' },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
