// The one error class of the project: a stable kebab-case code, a message that says what and
// where, and a hint that says how to fix it. Findings about a user's configuration are not
// errors: they are returned as diagnostics (see diagnostics.ts).

export class GitopsError extends Error {
  readonly code: string;
  readonly hint: string | undefined;

  constructor(code: string, message: string, hint?: string) {
    super(message);
    this.name = 'GitopsError';
    this.code = code;
    this.hint = hint;
  }
}
