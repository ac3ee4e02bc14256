// A secrets file encrypted to a whole fleet (hundreds of device recipients): a device unwraps the
// data key from the entry sops records for its own recipient, one age decryption, not one per
// recipient before it; an entry recorded under the wrong recipient is still found by trying the rest.

import { describe, expect, it, vi } from 'vitest';
import { Decrypter } from 'age-encryption';
import { parseDocument } from 'yaml';
import { addIdentityText, emptyIdentities } from '../../../agent/core/sops/identities.js';
import { decryptFile, encryptFile } from '../../../agent/core/sops/sops-file.js';
import { ageKey } from '../../helpers/age.js';

const NOW = new Date('2026-12-01T10:00:00Z');

describe('a secrets file encrypted to a fleet', () => {
  it('costs a device one unwrap, whatever its place among 300 recipients; a misrecorded recipient still decrypts', async () => {
    const keys = await Promise.all(Array.from({ length: 300 }, () => ageKey()));
    const enc = await encryptFile(
      Buffer.from('token: s3cret\n'),
      's.yaml',
      { groups: [keys.map((k) => k.recipient)] },
      NOW,
    );
    const last = keys.at(-1)!;
    const ids = emptyIdentities();
    await addIdentityText(ids, last.identity, 'the last device');
    const unwraps = vi.spyOn(Decrypter.prototype, 'decrypt');
    try {
      const d = await decryptFile(enc, 's.yaml', ids);
      expect(d.branches[0]!.items.some((i) => i.kind === 'entry' && i.key === 'token')).toBe(true);
      expect(unwraps).toHaveBeenCalledTimes(1);
      // the recorded recipients moved by one: the entry for our key is recorded under another's
      const doc = parseDocument(enc.toString('utf8'));
      const entries = doc.getIn(['sops', 'age']) as {
        items: Array<{ get(k: string): string; set(k: string, v: string): void }>;
      };
      const recorded = entries.items.map((e) => e.get('recipient'));
      entries.items.forEach((e, i) => e.set('recipient', recorded[(i + 1) % recorded.length]!));
      unwraps.mockClear();
      await expect(decryptFile(Buffer.from(doc.toString()), 's.yaml', ids, { ignoreMac: true })).resolves.toBeDefined();
      expect(unwraps.mock.calls.length).toBeGreaterThan(1);
    } finally {
      unwraps.mockRestore();
    }
  }, 120_000);
});
