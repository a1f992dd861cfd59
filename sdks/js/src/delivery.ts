/** How one batch gets delivered: retries with backoff, waits the server asks for, and
 * splitting when a request is too large. Transport-free: the client performs the sends
 * and the waits. */

import type { Answer, StoredEvent } from "./wire.js";

/** Counters of a client's life; `client.stats()` returns a copy. */
export interface Stats {
  accepted: number; // events the server stored
  duplicates: number; // events it had already stored (a retry after a lost answer)
  rejected: number; // events it refused one by one (invalid fields, too old, ...)
  dropped: number; // the oldest queued events, pushed out of a full queue
  tooLarge: number; // single events above the server's request size limit
  refused: number; // events of batches refused whole (bad token, unknown project)
  retries: number; // sends repeated after a failure
  rateLimited: number; // RATE_LIMITED answers waited out
}

export function emptyStats(): Stats {
  return { accepted: 0, duplicates: 0, rejected: 0, dropped: 0, tooLarge: 0, refused: 0, retries: 0, rateLimited: 0 };
}

export interface BackoffOptions {
  /** The first retry's wait, in milliseconds (default 500). */
  baseMs?: number;
  /** The longest wait (default 30,000). */
  capMs?: number;
}

/** Exponential backoff with jitter: the n-th consecutive failure waits between half and
 * all of `base * 2**(n-1)`, capped, so clients that failed together (a server restart)
 * do not all come back at the same instant. */
export function backoffDelay(failures: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.capMs ?? 30_000, (options.baseMs ?? 500) * 2 ** Math.min(failures - 1, 30));
  return ceiling * (0.5 + Math.random() / 2);
}

export interface Settlement {
  /** Milliseconds to wait before the next send. */
  waitMs: number;
  /** Events whose fate is now known (stored, counted or dropped): off the queue. */
  finished: StoredEvent[];
}

/** One batch on its way. `nextChunk` is what to send now (null: done), and `settle`
 * takes the server's answer to it. A chunk is only ever re-sent unchanged, same
 * eventIds, so an answer lost after the server stored it costs nothing: the repeat
 * counts as duplicates. */
export class Delivery {
  private readonly chunks: StoredEvent[][];
  private failures = 0;

  constructor(
    events: StoredEvent[],
    private readonly backoff: BackoffOptions,
    private readonly stats: Stats,
  ) {
    this.chunks = events.length > 0 ? [events] : [];
  }

  nextChunk(): StoredEvent[] | null {
    return this.chunks[0] ?? null;
  }

  settle(answer: Answer): Settlement {
    const chunk = this.chunks[0] as StoredEvent[];
    switch (answer.verdict) {
      case "delivered":
        this.chunks.shift();
        this.failures = 0;
        this.stats.accepted += answer.accepted ?? 0;
        this.stats.duplicates += answer.duplicates ?? 0;
        this.stats.rejected += answer.rejected ?? 0;
        return { waitMs: 0, finished: chunk };
      case "tooLarge":
        this.chunks.shift();
        if (chunk.length === 1) {
          this.stats.tooLarge += 1;
          return { waitMs: 0, finished: chunk };
        }
        this.chunks.unshift(chunk.slice(0, chunk.length >> 1), chunk.slice(chunk.length >> 1));
        return { waitMs: 0, finished: [] };
      case "refused":
        this.chunks.shift();
        this.stats.refused += chunk.length;
        console.error(`eventide: the server refused ${chunk.length} events: ${answer.message}`);
        return { waitMs: 0, finished: chunk };
      case "rateLimited":
        // The server said when; a little jitter keeps many clients from returning in
        // the same instant, and waiting longer is always allowed.
        this.stats.retries += 1;
        this.stats.rateLimited += 1;
        return { waitMs: (answer.retryAfterSeconds ?? 1) * 1000 * (1 + Math.random() / 10), finished: [] };
      case "retry":
        this.stats.retries += 1;
        this.failures += 1;
        return { waitMs: backoffDelay(this.failures, this.backoff), finished: [] };
    }
  }
}
