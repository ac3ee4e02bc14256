// The example environment's secrets file: both example identities open it, every comment
// decrypts to clear text at the level it is written at, and setting a value changes that line
// and the metadata only.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { setPath } from '../../../agent/core/sops/edit.js';
import { addIdentityText, emptyIdentities } from '../../../agent/core/sops/identities.js';
import { decryptFile, reencrypt } from '../../../agent/core/sops/sops-file.js';
import { str } from '../../../agent/core/sops/tree.js';
import type { Comment, Node } from '../../../agent/core/sops/tree.js';
import { PROJECT } from '../../helpers/project.js';

const FILE = 'environments/development/secrets.sops.yaml';
const bytes = readFileSync(join(PROJECT, FILE));

function comments(node: Node, path: string[] = []): string[] {
  if (node.kind !== 'map' && node.kind !== 'list') return [];
  return node.items.flatMap((i) =>
    i.kind === 'comment'
      ? [`${path.join('.')}:${(i as Comment).text}`]
      : i.kind === 'entry'
        ? comments(i.value, [...path, i.key])
        : comments(i as Node, path),
  );
}

describe(FILE, () => {
  it.each(['dev-operator', 'dev-bench-01'])(
    'opens with the %s example identity; its comments are clear text where they are written',
    async (name) => {
      const ids = emptyIdentities();
      await addIdentityText(
        ids,
        readFileSync(join(PROJECT, `environments/development/keys/${name}.agekey`), 'utf8'),
        name,
      );
      const d = await decryptFile(bytes, FILE, ids);
      expect(comments(d.branches[0]!)).toEqual([
        ': Development secrets: bench credentials only.',
        'web_interface.auth: bcrypt of "bench-password"',
      ]);
      const set = await reencrypt(
        d,
        [setPath(d.branches[0]!, ['frame_capture', 'password'], str('other'))],
        new Date('2026-12-01T00:00:00Z'),
      );
      const [a, b] = [bytes.toString().split('\n'), set.toString().split('\n')];
      expect(b.length).toBe(a.length);
      const changed = a.map((l, i) => (l === b[i] ? undefined : l.trim().split(':')[0])).filter(Boolean);
      expect(changed).toEqual(['password', 'lastmodified', 'mac']);
    },
  );
});
