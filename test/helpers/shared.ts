// The shared vectors and fixtures live beside the checkout (../shared). A fresh clone without
// them still runs every other suite; the suites that need them skip with a visible note.

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PROJECT } from './project.js';

export const SHARED = resolve(PROJECT, '../shared');
export const HARDWARE_FIXTURES = join(SHARED, 'fixtures/hardware');
export const hasShared = existsSync(join(HARDWARE_FIXTURES, 'MANIFEST.md'));

if (!hasShared) {
  process.stderr.write(
    `\nNOTE: ${SHARED} is absent: the suites that read shared vectors and fixtures are skipped.\n\n`,
  );
}

export function fixture(relative: string): string {
  return readFileSync(join(HARDWARE_FIXTURES, relative), 'utf8');
}

export const SIGNATURE_VECTORS = join(SHARED, 'vectors/git-signatures');
export const hasSignatureVectors = existsSync(join(SIGNATURE_VECTORS, 'manifest.json'));

export const SOPS_VECTORS = join(SHARED, 'vectors/sops');
export const hasSopsVectors = existsSync(join(SOPS_VECTORS, 'MANIFEST.md'));
