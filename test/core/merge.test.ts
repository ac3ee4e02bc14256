import { describe, expect, it } from 'vitest';
import { mergeLayer, provenanceChain, provenanceFor } from '../../agent/core/config/merge.js';
import type { Rendered } from '../../agent/core/config/merge.js';
import type { JsonObject } from '../../agent/core/json/value.js';

const empty: Rendered = { value: {}, provenance: new Map() };
const at = (file: string) => (_pointer: string) => ({ layer: 'base' as const, file });

describe('mergeLayer follows RFC 7386 (its appendix A, object documents)', () => {
  const cases: Array<[JsonObject, JsonObject, JsonObject]> = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  it.each(cases)('%j + %j = %j', (original, patch, result) => {
    const base: Rendered = { value: structuredClone(original), provenance: new Map() };
    const originalCopy = structuredClone(original);
    const merged = mergeLayer(base, patch, at('b.yaml'));
    expect(merged.value).toEqual(result);
    expect(base.value).toEqual(originalCopy); // inputs are never mutated
  });
});

describe('provenance', () => {
  it('records the file of every leaf and the chain of what each value overrode', () => {
    const l1 = mergeLayer(empty, { fc: { fps: 15, width: 640 } }, () => ({
      layer: 'default',
      file: 'schemas/fc.json',
    }));
    const l2 = mergeLayer(l1, { fc: { fps: 20 } }, () => ({
      layer: 'base',
      file: 'config/fc.yaml',
      line: 3,
      column: 8,
    }));
    const l3 = mergeLayer(l2, { fc: { fps: 30 } }, () => ({ layer: 'device', file: 'dev.yaml', line: 9, column: 8 }));
    const hit = provenanceFor(l3.provenance, '/fc/fps');
    expect(hit?.entry.file).toBe('dev.yaml');
    expect(provenanceChain(hit!.entry).map((e) => [e.file, e.layer, e.value])).toEqual([
      ['dev.yaml', 'device', 30],
      ['config/fc.yaml', 'base', 20],
      ['schemas/fc.json', 'default', 15],
    ]);
    expect(provenanceFor(l3.provenance, '/fc/width')?.entry.file).toBe('schemas/fc.json');
  });

  it('forgets the provenance of a subtree that a scalar or null replaced', () => {
    const l1 = mergeLayer(empty, { zones: { a: { x: 1 }, b: { x: 2 } } }, at('base.yaml'));
    const l2 = mergeLayer(l1, { zones: { a: null } }, at('env.yaml'));
    expect([...l2.provenance.keys()]).toEqual(['/zones/b/x']);
    const l3 = mergeLayer(l2, { zones: 'off' } as unknown as JsonObject, at('dev.yaml'));
    expect([...l3.provenance.keys()]).toEqual(['/zones']);
    expect(l3.provenance.get('/zones')?.overrode).toBeUndefined();
  });

  it('treats arrays as leaves: values inside belong to the array', () => {
    const l1 = mergeLayer(empty, { events: ['ring', 'person'] }, at('base.yaml'));
    expect(provenanceFor(l1.provenance, '/events/1')?.pointer).toBe('/events');
  });

  it('never keeps the values of the secrets layer', () => {
    const l1 = mergeLayer(empty, { t: { token: 'hunter2' } }, () => ({ layer: 'secrets', file: 's.sops.yaml' }));
    expect(JSON.stringify([...l1.provenance])).not.toContain('hunter2');
  });
});
