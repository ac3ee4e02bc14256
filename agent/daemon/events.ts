// What happens on the agent, as events: every journal entry (applied, refused, rolled-back,
// unchanged, recovered, health-changed) plus sync-started and sync-failed. The API streams
// them (server-sent events) and the metrics count them. The last few are kept so that a
// client reconnecting with Last-Event-ID misses nothing.

export interface AgentEvent {
  id: number;
  type: string;
  time: string;
  [key: string]: unknown;
}

type Listener = (event: AgentEvent) => void;

export class AgentEvents {
  private seq = 0;
  private readonly listeners = new Set<Listener>();
  private readonly recent: AgentEvent[] = [];

  constructor(
    private readonly now: () => Date,
    private readonly keep = 200,
  ) {}

  emit(type: string, data: Record<string, unknown> = {}): AgentEvent {
    const event: AgentEvent = { time: this.now().toISOString(), ...data, id: ++this.seq, type };
    this.recent.push(event);
    if (this.recent.length > this.keep) this.recent.shift();
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // a failing listener (a closed stream) never stops the agent or the other listeners
      }
    }
    return event;
  }

  /** Events after `lastId` still kept, oldest first. */
  since(lastId: number): AgentEvent[] {
    return this.recent.filter((e) => e.id > lastId);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }
}
