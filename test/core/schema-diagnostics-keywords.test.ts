// Each schema keyword's diagnostic, from real ajv errors (the options the schema set compiles with) on a small
// schema: its code, where it points, what it says, the hint; and what a secret or a long value shows.

import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { schemaDiagnostics } from '../../agent/core/schema/diagnostics.js';

const ajv = new Ajv2020({ strict: true, allErrors: true, verbose: true, allowUnionTypes: true });
ajv.addKeyword({ keyword: 'x-secret', schemaType: 'boolean' });
const validate = ajv.compile({
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { description: 'The name.', type: 'string', pattern: '^[a-z]+$' },
    level: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
    count: { type: 'integer', minimum: 1 },
    mode: { enum: ['fast', 'slow'] },
    either: { description: 'A number or a word.', anyOf: [{ type: 'number' }, { type: 'string', maxLength: 3 }] },
    token: { type: 'string', 'x-secret': true, minLength: 8 },
    tags: { type: 'object', propertyNames: { pattern: '^[a-z_]+$' } },
    list: { type: 'array', maxItems: 1 },
    free: { type: 'object' },
  },
});
const located: Array<[string, boolean | undefined]> = [];
const diagnose = (value: unknown, context = {}) => {
  located.length = 0;
  validate(value);
  return schemaDiagnostics(
    validate.errors ?? [],
    (pointer, preferKey) => (located.push([pointer, preferKey]), { file: 'f.yaml', line: 1, column: 1 }),
    context,
  );
};

describe('schema diagnostics per keyword', () => {
  it('exclusive bounds name "more than" and "less than"', () => {
    const [d] = diagnose({ name: 'a', level: 1 });
    expect(d).toMatchObject({ code: 'schema-range', path: 'level', file: 'f.yaml' });
    expect(d!.message).toBe('level is 1, above the maximum 1');
    expect(d!.hint).toBe('allowed range: more than 0 and less than 1');
    expect(diagnose({ name: 'a', count: 0 })[0]!.hint).toBe('allowed range: at least 1');
  });

  it('a missing required key points at the object, by its key, with the key described', () => {
    const [d] = diagnose({});
    expect(d).toMatchObject({ code: 'schema-required', message: 'the document is missing the required key "name"' });
    expect(d!.hint).toBe('add "name" (The name.)');
    expect(located).toEqual([['', true]]);
    expect(diagnose({}, { scope: 'frame_capture' })[0]!.message).toBe(
      'frame_capture is missing the required key "name"',
    );
  });

  it('a pattern says the value and the description; a key that is no valid name points at the key', () => {
    const [pattern] = diagnose({ name: 'A1' });
    expect(pattern).toMatchObject({ code: 'schema-format', path: 'name', hint: 'name: The name.' });
    expect(pattern!.message).toBe('name is "A1", which must match pattern "^[a-z]+$"');
    const names = diagnose({ name: 'a', tags: { 'Bad-Name': 1 } });
    // (ajv also reports the name's own pattern error at the object; both come through)
    expect(names.map((d) => [d.code, d.path, d.message])).toContainEqual([
      'schema-format',
      'tags.Bad-Name',
      'key "Bad-Name" in tags is not a valid name',
    ]);
    expect(located).toContainEqual(['/tags/Bad-Name', true]);
  });

  it('an enum value gets the nearest allowed one; a value in none of anyOf forms gets one diagnostic', () => {
    const [e] = diagnose({ name: 'a', mode: 'fats' });
    expect(e).toMatchObject({ code: 'schema-enum', suggestion: 'fast', hint: 'allowed values: fast, slow' });
    const any = diagnose({ name: 'a', either: 'long' });
    expect(any.map((d) => [d.code, d.message, d.hint])).toEqual([
      ['schema-format', 'either is "long", which matches none of the allowed forms', 'either: A number or a word.'],
    ]);
  });

  it('other keywords say what ajv says; a wrong type describes what it got', () => {
    const [items] = diagnose({ name: 'a', list: [1, 2] });
    expect(items).toMatchObject({ code: 'schema', message: 'list must NOT have more than 1 items' });
    const types = diagnose({ name: 'a', count: null, free: [1], level: 'x'.repeat(50) });
    expect(types.map((d) => d.message)).toEqual([
      `level must be number, not a string ("${'x'.repeat(40)}…")`,
      'count must be integer, not null',
      'free must be object, not a list',
    ]);
    expect(diagnose({ name: 'a', list: {} })[0]!.message).toBe('list must be array, not a mapping');
    expect(diagnose({ name: 'a', count: 1.5 })[0]!.message).toBe('count must be integer, not number 1.5');
  });

  it('a secret is never quoted: by its own x-secret, or under a path the caller names', () => {
    const [short] = diagnose({ name: 'a', token: 'abc' });
    expect(short!.message).not.toContain('abc');
    const [typed] = diagnose({ name: 'a', token: 12345 });
    expect(typed!.message).toBe('token must be string, not a number');
    const [named] = diagnose({ name: 'Secret1' }, { secretPaths: [['name']] });
    expect(named!.message).toBe('name is a secret value (not shown), which must match pattern "^[a-z]+$"');
    const [any] = diagnose({ name: 'a', either: 'hush' }, { secretPaths: [['*']] });
    expect(any!.message).not.toContain('hush');
  });
});
