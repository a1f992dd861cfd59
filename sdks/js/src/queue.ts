/** The bounded queue of events not yet known to be stored, kept in localStorage when
 * there is one, so that events survive a reload, a closed tab or a crash. */

import type { Stats } from "./delivery.js";
import type { StoredEvent } from "./wire.js";

/** Events are first waiting, then in flight (being sent) until their fate is known;
 * both are persisted, so a page that goes away mid-send sends them again next time. */
export class EventQueue {
  private waiting: StoredEvent[] = [];
  private inFlight: StoredEvent[] = [];
  private persistScheduled = false;
  private readonly key: string;

  constructor(
    private readonly maxSize: number,
    private readonly stats: Stats,
    private readonly storage: Storage | null,
    keyPrefix: string,
  ) {
    // Each client writes a key of its own, and adopts (reads, then removes) the keys
    // other pages of the same project left. Adopting the queue of a page that is
    // still open means both may send the same events: the server counts the repeat
    // as duplicates, so the events are still stored once.
    this.key = `${keyPrefix}${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    for (const other of this.keysStartingWith(keyPrefix)) {
      for (const event of this.read(other)) this.put(event);
      this.storage?.removeItem(other);
    }
    this.persistNow();
  }

  get size(): number {
    return this.waiting.length;
  }

  /** Queue the event; when full, the oldest waiting event makes room (`stats.dropped`). */
  put(event: StoredEvent): number {
    if (this.waiting.length + this.inFlight.length >= this.maxSize && this.waiting.length > 0) {
      this.waiting.shift();
      this.stats.dropped += 1;
    }
    this.waiting.push(event);
    this.schedulePersist();
    return this.waiting.length;
  }

  /** Up to `count` waiting events, now in flight. */
  take(count: number): StoredEvent[] {
    const batch = this.waiting.splice(0, count);
    this.inFlight.push(...batch);
    return batch;
  }

  /** Events whose fate is known leave the queue (and storage). */
  finish(events: readonly StoredEvent[]): void {
    if (events.length === 0) return;
    const done = new Set(events);
    this.inFlight = this.inFlight.filter((event) => !done.has(event));
    this.schedulePersist();
  }

  /** Everything not known to be stored, oldest first. */
  unsettled(): StoredEvent[] {
    return [...this.inFlight, ...this.waiting];
  }

  persistNow(): void {
    this.persistScheduled = false;
    if (this.storage === null) return;
    try {
      const events = this.unsettled();
      if (events.length === 0) this.storage.removeItem(this.key);
      else this.storage.setItem(this.key, JSON.stringify(events));
    } catch {
      // Storage full or forbidden: the events are still sent from memory.
    }
  }

  // Many track() calls in one task write storage once.
  private schedulePersist(): void {
    if (this.storage === null || this.persistScheduled) return;
    this.persistScheduled = true;
    queueMicrotask(() => this.persistNow());
  }

  private keysStartingWith(prefix: string): string[] {
    const keys: string[] = [];
    if (this.storage === null) return keys;
    for (let i = 0; i < this.storage.length; i += 1) {
      const key = this.storage.key(i);
      if (key !== null && key.startsWith(prefix)) keys.push(key);
    }
    return keys;
  }

  private read(key: string): StoredEvent[] {
    try {
      const parsed: unknown = JSON.parse(this.storage?.getItem(key) ?? "[]");
      return Array.isArray(parsed)
        ? parsed.filter((e): e is StoredEvent => typeof e?.id === "string" && typeof e?.json === "string")
        : [];
    } catch {
      return [];
    }
  }
}
