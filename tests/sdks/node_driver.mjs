// Runs the JavaScript SDK in Node for tests/sdks/test_js_sdk.py. The one argument is a
// JSON object: endpoint, token, project, count (events to track), spreadMs (pause
// between tracks), pad (characters of a property), and client options. Prints a JSON
// line with the stats every 20 ms, and at the end one with the tracked ids.
import { init, track, flush } from "../../sdks/js/dist/index.js";

const config = JSON.parse(process.argv[2]);
const client = init({
  endpoint: config.endpoint,
  token: config.token,
  project: config.project,
  ...config.options,
});
const progress = setInterval(() => console.log(JSON.stringify({ stats: client.stats() })), 20);
const ids = [];
for (let i = 0; i < config.count; i += 1) {
  ids.push(track(config.eventType ?? "node", { i, pad: "x".repeat(config.pad ?? 0) }));
  if (config.spreadMs) await new Promise((resolve) => setTimeout(resolve, config.spreadMs));
}
await flush();
clearInterval(progress);
client.shutdown();
console.log(JSON.stringify({ ids, stats: client.stats() }));
