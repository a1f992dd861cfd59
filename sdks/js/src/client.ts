/** The client: track() queues, a pump sends batches in the background. */

import { type BackoffOptions, Delivery, emptyStats, type Stats } from "./delivery.js";
import { EventQueue } from "./queue.js";
import { uuid7 } from "./uuid7.js";
import { type Answer, encodeEvent, judge, type Properties, requestBody, type StoredEvent } from "./wire.js";

export interface Options {
  /** The GraphQL endpoint, e.g. https://eventide.example.com/graphql. */
  endpoint: string;
  /** An API token with the INGEST scope (evt_...). */
  token: string;
  /** The project id; null: the token's own project. */
  project: string | number | null;
  /** Events per request (default 100, at most the server's 1,000). */
  batchSize?: number;
  /** Queued events are sent at least this often (default 1,000 ms). */
  flushIntervalMs?: number;
  /** At most this many events wait; the oldest are dropped (default 1,000). */
  maxQueueSize?: number;
  /** One request's time limit (default 10,000 ms). */
  timeoutMs?: number;
  backoff?: BackoffOptions;
  /** Where the queue survives reloads; default `localStorage` where there is one, null: memory only. */
  storage?: Storage | null;
}

// A browser gives keepalive requests 64 KiB in all: what a page sends as it goes away.
const KEEPALIVE_BYTES = 60_000;
const SERVER_MAX_BATCH = 1000;

export class EventideClient {
  private readonly stats_: Stats = emptyStats();
  private readonly queue: EventQueue;
  private readonly project: string | null;
  private readonly batchSize: number;
  private readonly storage: Storage | null;
  private userId: string;
  // flush() asks for round `requested` and waits until `finished` reaches it: a round
  // sends everything queued when it starts.
  private requested = 0;
  private finished = 0;
  private pumping = false;
  private waiters: { round: number; resolve: () => void }[] = [];
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly onPageHide = (): void => this.sendAsThePageGoes();

  constructor(private readonly options: Options) {
    this.batchSize = options.batchSize ?? 100;
    if (!(this.batchSize >= 1 && this.batchSize <= SERVER_MAX_BATCH)) {
      throw new RangeError(`batchSize must be between 1 and ${SERVER_MAX_BATCH}`);
    }
    this.project = options.project === null ? null : String(options.project);
    this.storage = options.storage !== undefined ? options.storage : defaultStorage();
    const prefix = `eventide:${this.project ?? "default"}:`;
    this.queue = new EventQueue(options.maxQueueSize ?? 1000, this.stats_, this.storage, `${prefix}queue:`);
    // Until identify(), events carry an anonymous id, kept across visits where storage allows.
    this.userId = this.storage?.getItem(`${prefix}anonymousId`) ?? `anonymous-${uuid7()}`;
    try {
      this.storage?.setItem(`${prefix}anonymousId`, this.userId);
    } catch {
      // Storage full or forbidden: the id lasts as long as the page.
    }
    this.timer = setInterval(() => this.requestRound(), options.flushIntervalMs ?? 1000);
    // In Node, the timer alone does not keep the process alive.
    (this.timer as { unref?: () => void }).unref?.();
    globalThis.addEventListener?.("pagehide", this.onPageHide);
    if (this.queue.size > 0) this.requestRound(); // events a previous page left
  }

  identify(userId: string): void {
    if (typeof userId !== "string" || userId === "") throw new TypeError("userId must be a non-empty string");
    this.userId = userId;
  }

  /** Queue one event; returns its eventId. Properties are copied (as JSON) now. */
  track(eventType: string, properties?: Properties | null, userId?: string): string {
    if (typeof eventType !== "string" || eventType === "") throw new TypeError("eventType must be a non-empty string");
    const event = encodeEvent(eventType, userId ?? this.userId, properties);
    if (this.queue.put(event) >= this.batchSize) this.requestRound();
    return event.id;
  }

  /** Resolves once every event tracked so far is sent (or its fate known). */
  flush(): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push({ round: this.requestRound(), resolve });
    });
  }

  stats(): Stats {
    return { ...this.stats_ };
  }

  /** Stop the timer and the pagehide handler; queued events stay in storage. */
  shutdown(): void {
    clearInterval(this.timer);
    globalThis.removeEventListener?.("pagehide", this.onPageHide);
    this.queue.persistNow();
  }

  private requestRound(): number {
    this.requested += 1;
    if (!this.pumping) void this.pump();
    return this.requested;
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.finished < this.requested) {
        const round = this.requested;
        await this.sendQueued();
        this.finished = round;
        const ready = this.waiters.filter((w) => w.round <= round);
        this.waiters = this.waiters.filter((w) => w.round > round);
        for (const waiter of ready) waiter.resolve();
        if (this.queue.size >= this.batchSize) this.requested += 1;
      }
    } finally {
      this.pumping = false;
    }
  }

  private async sendQueued(): Promise<void> {
    // Only what is queued now: under a steady stream of track() calls a round still
    // ends, and flush() resolves once the events tracked before it are sent.
    let left = this.queue.size;
    while (left > 0) {
      const batch = this.queue.take(Math.min(left, this.batchSize));
      if (batch.length === 0) return;
      left -= batch.length;
      const delivery = new Delivery(batch, this.options.backoff ?? {}, this.stats_);
      for (let chunk = delivery.nextChunk(); chunk !== null; chunk = delivery.nextChunk()) {
        const { waitMs, finished } = delivery.settle(await this.post(chunk));
        this.queue.finish(finished);
        if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  }

  private async post(chunk: readonly StoredEvent[], keepalive = false): Promise<Answer> {
    try {
      const response = await fetch(this.options.endpoint, {
        method: "POST",
        headers: { Authorization: `Bearer ${this.options.token}`, "Content-Type": "application/json" },
        body: requestBody(this.project, chunk),
        keepalive,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
      return judge(response.status, response.headers.get("Retry-After"), await response.text());
    } catch (error) {
      // Refused, reset, timed out, offline: the batch may never have arrived.
      return { verdict: "retry", message: String(error) };
    }
  }

  /** The page is going away: send what is unsettled with keepalive, so the browser
   * finishes the requests after the page is gone. Nothing leaves the queue (the
   * answers will never be read): the next page sends the events again, and the
   * server counts what it already has as duplicates. */
  private sendAsThePageGoes(): void {
    this.queue.persistNow();
    let budget = KEEPALIVE_BYTES;
    const events = this.queue.unsettled();
    for (let start = 0; start < events.length; start += this.batchSize) {
      const chunk = events.slice(start, start + this.batchSize);
      const size = new TextEncoder().encode(requestBody(this.project, chunk)).length;
      if (size > budget) break;
      budget -= size;
      void this.post(chunk, true);
    }
  }
}

function defaultStorage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // storage disabled for the page
  }
}
