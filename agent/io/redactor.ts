// Every decrypted secret value (and its base64 form) is registered here, and every line this
// process prints or logs goes through `redact`: a secret can never reach a log line, an error
// message or an HTTP answer by accident.

const secrets = new Set<string>();

export function registerSecret(value: string): void {
  if (value.length < 4) return; // too short to redact without destroying ordinary text
  secrets.add(value);
  secrets.add(Buffer.from(value, 'utf8').toString('base64'));
}

export function redact(text: string): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join('<redacted>');
  return out;
}

export function registeredSecretCount(): number {
  return secrets.size;
}
