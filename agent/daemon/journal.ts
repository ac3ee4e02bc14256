// The journal (journal.jsonl in the state directory, `git log` of the device): every entry is
// also an event on the stream the API serves and the metrics count.

import type { JournalEntry } from '../io/release-store.js';
import type { AgentEvents } from './events.js';

export interface JournalStore {
  appendJournal(entry: JournalEntry): void;
  journal(limit: number, wanted?: (entry: JournalEntry) => boolean): JournalEntry[];
}

export class Journal implements JournalReader {
  constructor(
    private readonly store: JournalStore,
    private readonly events: AgentEvents,
    private readonly now: () => Date,
  ) {}

  entries(limit: number, wanted?: (entry: JournalEntry) => boolean): JournalEntry[] {
    return this.store.journal(limit, wanted);
  }

  record(entry: { event: string; [key: string]: unknown }): void {
    const line = { time: this.now().toISOString(), ...entry } as JournalEntry;
    this.store.appendJournal(line);
    const { event, ...data } = line;
    this.events.emit(event, data);
  }
}

export interface JournalReader {
  /** The last `limit` entries that `wanted` keeps, newest last. */
  entries(limit: number, wanted?: (entry: JournalEntry) => boolean): JournalEntry[];
}
