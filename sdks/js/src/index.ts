/**
 * Eventide's JavaScript SDK: track events from a page or from Node, and they reach the
 * server once each.
 *
 *     import { init, identify, track } from "@eventide/sdk";
 *     init({ endpoint: "https://eventide.example.com/graphql", token: "evt_...", project: "1" });
 *     identify("user-42");
 *     track("signup", { plan: "pro" });
 */

import { EventideClient, type Options } from "./client.js";
import type { Properties } from "./wire.js";

export { EventideClient, type Options } from "./client.js";
export type { BackoffOptions, Stats } from "./delivery.js";
export { uuid7 } from "./uuid7.js";
export type { Properties } from "./wire.js";

let client: EventideClient | null = null;

/** Start the page's (or process's) client; a second call replaces the first. */
export function init(options: Options): EventideClient {
  client?.shutdown();
  client = new EventideClient(options);
  return client;
}

function current(): EventideClient {
  if (client === null) throw new Error("eventide: call init() first");
  return client;
}

export function identify(userId: string): void {
  current().identify(userId);
}

/** Queue one event; returns its eventId. */
export function track(eventType: string, properties?: Properties | null): string {
  return current().track(eventType, properties);
}

/** Resolves once every event tracked so far is sent. */
export function flush(): Promise<void> {
  return client === null ? Promise.resolve() : client.flush();
}
