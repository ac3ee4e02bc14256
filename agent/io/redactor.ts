// Every decrypted secret value (and its base64 form) is registered with a Redactor, and every line
// this process prints or logs goes through its `redact`: a secret can never reach a log line, an error
// message or an HTTP answer by accident.
//
// A value of 4 characters or more is replaced wherever it occurs. A shorter one ("ab", a 3-digit
// PIN) would destroy ordinary text if replaced everywhere, so it is replaced only as a whole
// quoted token: "ab", 'ab', `ab`, and the same quoted inside JSON (\"ab\", at any depth of
// escaping) — which is how a value appears in a message, a JSON answer or an event. A quoted
// token directly followed by `:` is a JSON key, not a value, and stays. Every value is also
// registered in its JSON-escaped form, since API answers and events are JSON.
//
// One instance is made at the composition root and passed down (decryption registers into the
// instance it is given; the logger and the CLI's output redact with it).

import { isObject } from '../core/json/value.js';

const MIN_ANYWHERE = 4;

const jsonEscaped = (value: string): string => JSON.stringify(value).slice(1, -1);
const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The forms a value takes in text: as is, JSON-escaped once and twice, and base64. */
function forms(value: string): string[] {
  const once = jsonEscaped(value);
  return [...new Set([value, once, jsonEscaped(once), Buffer.from(value, 'utf8').toString('base64')])];
}

export class Redactor {
  /** Longest first, so that a secret containing another one is replaced whole. */
  private anywhere: string[] = [];
  private readonly quoted = new Map<string, RegExp>();

  register(value: string): void {
    if (value === '') return;
    for (const form of forms(value)) {
      if (value.length >= MIN_ANYWHERE) {
        if (!this.anywhere.includes(form)) this.anywhere = [...this.anywhere, form].sort((a, b) => b.length - a.length);
      } else if (!this.quoted.has(form))
        this.quoted.set(form, new RegExp(`(\\\\*["'\`])${escapeRegExp(form)}\\1(?!\\s*:)`, 'g'));
    }
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.anywhere) if (out.includes(s)) out = out.split(s).join('<redacted>');
    for (const [form, re] of this.quoted) if (out.includes(form)) out = out.replace(re, '$1<redacted>$1');
    return out;
  }

  /** How many forms are registered (each value counts once per form it takes). */
  count(): number {
    return this.anywhere.length + this.quoted.size;
  }
}

/** Registers every string and number in `v` (a decrypted tree) with `redactor`. */
export function registerValues(redactor: Redactor, v: unknown): void {
  if (typeof v === 'string') redactor.register(v);
  else if (typeof v === 'number') redactor.register(String(v));
  else if (Array.isArray(v)) for (const x of v) registerValues(redactor, x);
  else if (isObject(v)) for (const x of Object.values(v)) registerValues(redactor, x);
}
