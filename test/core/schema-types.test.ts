// The configuration's TypeScript types are generated from schemas/ and committed: regenerating them gives the
// committed file, so a schema change without `npm run gen:types` fails here instead of drifting.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SCHEMA_TYPES, generateSchemaTypes } from '../../devtools/gen-types.js';
import type { Component, Config } from '../../agent/core/config/types.js';

describe('agent/core/config/schema-types.ts', () => {
  it('is what npm run gen:types generates from schemas/ now', async () => {
    expect(await generateSchemaTypes()).toBe(readFileSync(SCHEMA_TYPES, 'utf8'));
  }, 60_000);

  it('the rendered configuration has what schema defaults fill in; map entries keep their optional fields', () => {
    const text = readFileSync(SCHEMA_TYPES, 'utf8');
    const config = /^export interface Config \{[^]*?^\}/m.exec(text)![0];
    // every section has defaults, so a rendered configuration has every section
    for (const section of ['frame_capture', 'detectors', 'components', 'logging'])
      expect(config).toMatch(new RegExp(`^ {2}${section}: `, 'm'));
    expect(config).toMatch(/^ {2}version\?: number;/m);
    // the types compile against the shapes the code relies on
    const c: Pick<Component, 'sections' | 'reload'> = { sections: ['motion'], reload: { method: 'file' } };
    const level: Config['logging']['level'] = 'info';
    expect([c.sections, level]).toEqual([['motion'], 'info']);
  });
});
