// The journal (journal.jsonl in the state directory, `git log` of the device): every entry is
// also an event on the stream the API serves and the metrics count.

import type { JournalEntry } from '../io/release-store.js';
import type { AgentEvents } from './events.js';

export interface JournalWriter {
  appendJournal(entry: JournalEntry): void;
}

export class Journal {
  constructor(
    private readonly store: JournalWriter,
    private readonly events: AgentEvents,
    private readonly now: () => Date,
  ) {}

  record(entry: { event: string; [key: string]: unknown }): void {
    const line = { time: this.now().toISOString(), ...entry } as JournalEntry;
    this.store.appendJournal(line);
    const { event, ...data } = line;
    this.events.emit(event, data);
  }
}
