// The redactor: a registered secret of any length never leaves the process, and ordinary text
// that merely contains a short secret's letters is left alone.

import { beforeEach, describe, expect, it } from 'vitest';
import { Redactor } from '../../agent/io/redactor.js';

describe('the redactor', () => {
  let r: Redactor;
  beforeEach(() => {
    r = new Redactor();
  });

  it('replaces registered values and their base64 form, and leaves other text alone', () => {
    r.register('hunter2-token');
    expect(r.redact('login failed for hunter2-token at 10:00')).toBe('login failed for <redacted> at 10:00');
    expect(r.redact(`header: ${Buffer.from('hunter2-token').toString('base64')}`)).toBe('header: <redacted>');
    expect(r.redact('nothing secret here')).toBe('nothing secret here');
  });

  it('replaces a secret with JSON-special characters in JSON answers and in JSON inside JSON', () => {
    const secret = 'pa"ss\\word\n2';
    r.register(secret);
    const body = JSON.stringify({ message: `bad password ${secret}` });
    expect(r.redact(body)).not.toContain(JSON.stringify(secret).slice(1, -1));
    expect(JSON.parse(r.redact(body))).toEqual({ message: 'bad password <redacted>' });
    const event = JSON.stringify({ data: body });
    expect(JSON.parse(JSON.parse(r.redact(event)).data)).toEqual({ message: 'bad password <redacted>' });
  });

  it('a secret shorter than 4 characters is redacted as a quoted token, in text and in JSON at any depth', () => {
    r.register('ab');
    r.register('7');
    expect(r.redact('frame_capture.password is "ab", which is not allowed')).toBe(
      'frame_capture.password is "<redacted>", which is not allowed',
    );
    expect(r.redact("password: 'ab'")).toBe("password: '<redacted>'");
    const body = JSON.stringify({ password: 'ab', pin: '7', reason: 'x is "ab" and `7`' });
    expect(JSON.parse(r.redact(body))).toEqual({
      password: '<redacted>',
      pin: '<redacted>',
      reason: 'x is "<redacted>" and `<redacted>`',
    });
    const nested = JSON.stringify({ data: body });
    expect(r.redact(nested)).not.toMatch(/\\"ab\\"|"7"/);
    expect(JSON.parse(JSON.parse(r.redact(nested)).data)).toMatchObject({ password: '<redacted>' });
  });

  it('a short secret does not destroy ordinary text: unquoted words, longer quoted words and JSON keys stay', () => {
    r.register('ab');
    r.register('on');
    expect(r.redact('a b ab abc about on online')).toBe('a b ab abc about on online');
    expect(r.redact('"abc" "xab" "on-call"')).toBe('"abc" "xab" "on-call"');
    expect(r.redact(JSON.stringify({ on: true, ab: 1, mode: 'on' }))).toBe('{"on":true,"ab":1,"mode":"<redacted>"}');
  });

  it('the empty string is not a secret', () => {
    r.register('');
    expect(r.redact('""')).toBe('""');
  });

  it('counts the forms registered, and instances do not share secrets', () => {
    r.register('hunter2-token');
    expect(r.count()).toBe(2); // as is and base64: JSON-escaping changes nothing here
    r.register('hunter2-token');
    expect(r.count()).toBe(2);
    expect(new Redactor().redact('hunter2-token')).toBe('hunter2-token');
  });
});
