import { describe, expect, it } from 'vitest';
import { redact, registerSecret } from '../../agent/io/redactor.js';

describe('the redactor', () => {
  it('replaces registered values and their base64 form, and leaves other text alone', () => {
    registerSecret('hunter2-token');
    expect(redact('login failed for hunter2-token at 10:00')).toBe('login failed for <redacted> at 10:00');
    expect(redact(`header: ${Buffer.from('hunter2-token').toString('base64')}`)).toBe('header: <redacted>');
    expect(redact('nothing secret here')).toBe('nothing secret here');
  });
  it('ignores values too short to redact safely', () => {
    registerSecret('ab');
    expect(redact('a b ab abc')).toBe('a b ab abc');
  });
});
