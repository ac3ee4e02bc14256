// The file protocol between the agent and a component that embeds agent/client. Per component
// a directory holds, each file written atomically:
//   proposed.json  agent -> component: a configuration to judge   {generation, commit, sections}
//   verdict.json   component -> agent: accept or veto with reason  {generation, accept, reason}
//   config.json    agent -> component: the configuration to run     {generation, commit, sections}
//   health.json    component -> agent: how it runs                  {generation, healthy, reason, time}
// Both ends read and write them with agent/io/protocol-files.ts.

export interface Proposal {
  generation: number;
  commit: string;
  sections: Record<string, unknown>;
}

export interface Verdict {
  generation: number;
  accept: boolean;
  reason?: string;
}

export interface Health {
  generation: number;
  healthy: boolean;
  reason?: string;
  time: string;
}

export const FILES = {
  proposed: 'proposed.json',
  verdict: 'verdict.json',
  config: 'config.json',
  health: 'health.json',
} as const;

/** A protocol file larger than this is not read (a component gone wrong cannot fill the agent's memory). */
export const MAX_PROTOCOL_FILE = 4 * 1024 * 1024;
