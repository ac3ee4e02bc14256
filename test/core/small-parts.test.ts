import { describe, expect, it } from 'vitest';
import { coerce } from '../../agent/core/config/env-overrides.js';
import { formatGithub, formatText } from '../../agent/core/format/diagnostics.js';
import { interpolate, MAX_INTERPOLATED_TOTAL } from '../../agent/core/config/interpolate.js';
import { fromPointer, parseDotted, toDotted, toPointer } from '../../agent/core/json/pointer.js';
import { compareText } from '../../agent/core/json/value.js';
import { closest, editDistance } from '../../agent/core/format/suggest.js';
import { dedupeDiagnostics } from '../../agent/core/validate/diagnostics.js';

describe('text order', () => {
  it('is the order of git ls-files (code units), whatever the locale', () => {
    const paths = [
      'config/motion.yaml',
      'Config/a.yaml',
      'config-b/x.yaml',
      'config/Motion.yaml',
      'config_c/y.yaml',
      'config/motion.yml',
    ];
    expect([...paths].sort(compareText)).toEqual([
      'Config/a.yaml',
      'config-b/x.yaml',
      'config/Motion.yaml',
      'config/motion.yaml',
      'config/motion.yml',
      'config_c/y.yaml',
    ]);
    expect(compareText('a', 'a')).toBe(0);
  });
});

describe('suggestions', () => {
  it('counts a swap of two letters as one edit', () => {
    expect(editDistance('fsp', 'fps')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
  it('suggests only close candidates, and unambiguous abbreviations', () => {
    expect(closest('fsp', ['fps', 'width'])).toBe('fps');
    expect(closest('zzzzzz', ['fps', 'width'])).toBeUndefined();
    expect(closest('prod', ['development', 'production', 'staging'])).toBe('production');
  });
});

describe('paths', () => {
  it('round-trips pointers with escaped characters', () => {
    const segs = ['a/b', 'c~d', '0'];
    expect(fromPointer(toPointer(segs))).toEqual(segs);
    expect(toPointer(segs)).toBe('/a~1b/c~0d/0');
  });
  it('prints and parses dotted paths', () => {
    expect(toDotted(['motion', 'zones', 'a', 'polygon', '0'])).toBe('motion.zones.a.polygon[0]');
    expect(parseDotted('motion.zones.a.polygon[0]')).toEqual(['motion', 'zones', 'a', 'polygon', '0']);
    expect(parseDotted('not a path')).toBeUndefined();
  });
});

describe('interpolation', () => {
  it('replaces the known variables only, and $${ is a literal', () => {
    const { value, problems } = interpolate(
      { a: { t: 'door-${environment}-${device.id}-${device.site}', l: ['${device.id}'], k: '$${environment}', n: 5 } },
      { environment: 'production', device: { id: 'd1', labels: { site: 'berlin' } } },
    );
    expect(value).toEqual({ a: { t: 'door-production-d1-berlin', l: ['d1'], k: '${environment}', n: 5 } });
    expect(problems).toEqual([]);
  });
  it('reports an unknown variable with its pointer and leaves it as written', () => {
    const { value, problems } = interpolate(
      { a: '${device.floor}' },
      { environment: 'e', device: { id: 'd', labels: {} } },
    );
    expect(value.a).toBe('${device.floor}');
    expect(problems).toEqual([{ pointer: '/a', variable: 'device.floor', known: ['environment', 'device.id'] }]);
  });
  it('shares what holds no variable with its input, which it never changes, for every device', () => {
    const shared = { plain: { list: [1, { s: 'x' }], n: null }, other: ['y'] };
    const input = { a: shared, b: { topic: 'door/${device.id}', keep: { z: 1 } } };
    const copy = structuredClone(input);
    for (const id of ['d1', 'd2']) {
      const { value } = interpolate(input, { environment: 'e', device: { id, labels: {} } });
      expect(value.a).toBe(shared);
      expect(value.b).not.toBe(input.b);
      expect((value.b as Record<string, unknown>).keep).toBe(input.b.keep);
      expect((value.b as Record<string, unknown>).topic).toBe(`door/${id}`);
    }
    expect(input).toEqual(copy);
  });
  it('never builds a string longer than the cap, nor more than the total budget (a big label used many times)', () => {
    const label = 'x'.repeat(4000);
    const ctx = { environment: 'e', device: { id: 'd', labels: { big: label } } };
    const one = interpolate({ a: '${device.big}'.repeat(4), b: '${device.big}'.repeat(5) }, ctx);
    expect((one.value.a as string).length).toBe(16_000);
    expect(one.value.b).toBe('${device.big}'.repeat(5)); // left as written, reported
    expect(one.problems).toEqual([
      { pointer: '/b', variable: 'device.big', known: ['environment', 'device.id', 'device.big'], tooLong: true },
    ]);
    const many = interpolate(
      Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, '${device.big}'])),
      ctx,
    );
    const expanded = Object.values(many.value).filter((v) => v === label).length;
    expect(expanded).toBe(Math.floor(MAX_INTERPOLATED_TOTAL / label.length));
    expect(many.problems.filter((p) => p.tooLong)).toHaveLength(300 - expanded);
  });
});

describe('environment variable coercion', () => {
  it('follows the schema type', () => {
    expect(coerce('25', { type: 'number' })).toBe(25);
    expect(coerce('2.5', { type: 'integer' })).toBeUndefined();
    expect(coerce('yes', { type: 'boolean' })).toBe(true);
    expect(coerce('debug', { enum: ['debug', 'info'] })).toBe('debug');
    expect(coerce('loud', { enum: ['debug', 'info'] })).toBeUndefined();
    expect(coerce('1e3', { type: 'number' })).toBe(1000);
  });
});

describe('diagnostic output', () => {
  const d = {
    severity: 'error' as const,
    code: 'unknown-key',
    message: 'a, b: 100% "x"\nnext',
    file: 'config/a,b.yaml',
    line: 3,
    column: 5,
    hint: 'h',
  };
  it('escapes GitHub workflow command data and properties', () => {
    expect(formatGithub([d])).toBe(
      '::error file=config/a%2Cb.yaml,line=3,col=5,title=unknown-key::a, b: 100%25 "x"%0Anext%0Ahint: h',
    );
  });
  it('prints text like a compiler, colour only when asked', () => {
    expect(formatText([d])).toBe('config/a,b.yaml:3:5 error unknown-key a, b: 100% "x"\nnext\n  hint: h');
    expect(formatText([d], true)).toContain('\x1b[1;31merror\x1b[0m');
  });
  it('merges the same finding from several devices', () => {
    const merged = dedupeDiagnostics([
      { ...d, environment: 'p', device: 'a' },
      { ...d, environment: 'p', device: 'b' },
    ]);
    expect(merged).toHaveLength(1);
    expect(merged[0]!.targets).toEqual(['p/a', 'p/b']);
    expect(formatText(merged)).toContain('  in: p/a, p/b');
  });
});
