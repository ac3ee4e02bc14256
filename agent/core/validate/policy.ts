// Environment policies: declared in environments/<env>/environment.yaml, enforced on every
// rendered configuration of that environment. A production-tier environment must keep at
// least the production baseline.

import type { Config, Finding, LogLevel } from '../config/types.js';
import { LOG_LEVELS } from '../config/types.js';
import { toPointer } from '../json/pointer.js';
import type { EnvironmentInfo } from '../config/render.js';

export interface Policy {
  max_log_level: LogLevel;
  require_web_auth: boolean;
  require_tls: boolean;
  require_signed_commits: boolean;
  verification_mode: 'all' | 'first-parent';
  allow_watch_mode: boolean;
  allowed_env_overrides: string[];
  /** Operator leases on tunable fields: allowed, and for how long at most (DESIGN.md section 9). */
  operator_leases: { allowed?: boolean; max_ttl_seconds?: number };
}

export const DEFAULT_POLICY: Policy = {
  max_log_level: 'trace',
  require_web_auth: false,
  require_tls: false,
  require_signed_commits: true,
  verification_mode: 'all',
  allow_watch_mode: false,
  allowed_env_overrides: [],
  operator_leases: { allowed: true },
};

/** What a production-tier environment may not weaken. */
export const PRODUCTION_BASELINE: Partial<Policy> = {
  max_log_level: 'info',
  require_web_auth: true,
  require_tls: true,
  require_signed_commits: true,
  allow_watch_mode: false,
};

export function policyOf(env: EnvironmentInfo | undefined): Policy {
  return { ...DEFAULT_POLICY, ...((env?.policy ?? {}) as Partial<Policy>) };
}

const rank = (level: LogLevel): number => LOG_LEVELS.indexOf(level);

/** Findings about the policy itself (pointers into environment.yaml). */
export function checkBaseline(env: EnvironmentInfo, file: string): Finding[] {
  if (env.tier !== 'production') return [];
  const policy = policyOf(env);
  const out: Finding[] = [];
  for (const [key, want] of Object.entries(PRODUCTION_BASELINE) as Array<[keyof Policy, Policy[keyof Policy]]>) {
    const have = policy[key];
    const weaker = key === 'max_log_level' ? rank(have as LogLevel) < rank(want as LogLevel) : have !== want;
    if (!weaker) continue;
    out.push({
      severity: 'error',
      code: 'policy-baseline',
      file,
      pointer: toPointer(['policy', key]),
      message:
        `production-tier environment "${env.name}" sets policy.${key} to ${JSON.stringify(have)}; ` +
        `the production baseline requires ${JSON.stringify(want)}`,
      hint: `set policy.${key}: ${JSON.stringify(want)} in ${file}`,
    });
  }
  return out;
}

/** Findings about a rendered configuration under its environment's policy. */
export function checkPolicy(config: Config, env: EnvironmentInfo): Finding[] {
  const policy = policyOf(env);
  const out: Finding[] = [];
  const where = `the ${env.name} policy (environments/${env.name}/environment.yaml)`;
  if (rank(config.logging.level) < rank(policy.max_log_level)) {
    out.push({
      severity: 'error',
      code: 'policy-log-level',
      pointer: toPointer(['logging', 'level']),
      message: `logging.level ${config.logging.level} is more verbose than ${where} allows (${policy.max_log_level} or stricter)`,
      hint: `set logging.level to ${policy.max_log_level} or stricter for ${env.name}`,
    });
  }
  const web = config.web_interface;
  if (web.enabled && policy.require_web_auth && (web.auth?.mode ?? 'none') === 'none') {
    out.push({
      severity: 'error',
      code: 'policy-web-auth',
      pointer: toPointer(['web_interface', 'auth', 'mode']),
      message: `the web interface is open without authentication, which ${where} forbids`,
      hint: 'set web_interface.auth.mode to basic or client_certificate, or disable the web interface',
    });
  }
  if (web.enabled && policy.require_tls && !web.tls?.enabled) {
    out.push({
      severity: 'error',
      code: 'policy-tls',
      pointer: toPointer(['web_interface', 'tls', 'enabled']),
      message: `the web interface serves plain HTTP, which ${where} forbids`,
      hint: 'set web_interface.tls.enabled: true with cert_file and key_file',
    });
  }
  return out;
}
