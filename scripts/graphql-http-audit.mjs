#!/usr/bin/env node
// Audits a running server against the GraphQL-over-HTTP specification with the
// graphql-http package's server audits, one line per audit.
//
//   node scripts/graphql-http-audit.mjs http://127.0.0.1:8000/graphql
//
// Exits 1 when any audit of a MUST requirement fails (status "error"), 2 on bad usage.
// Warnings (SHOULD, MAY) and notices are printed with their reason but pass; the
// README lists the ones Eventide keeps on purpose.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: graphql-http-audit.mjs URL');
  process.exit(2);
}

const audits = serverAudits({ url });
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const audit of audits) {
  let result;
  try {
    result = await audit.fn();
  } catch (error) {
    // An audit throws only when it cannot run at all (the server is unreachable).
    result = { status: 'error', reason: `the audit could not run: ${error}` };
  }
  counts[result.status] += 1;
  const line = `${result.status.toUpperCase().padEnd(6)} ${audit.id} ${audit.name}`;
  if (result.status === 'ok') {
    console.log(line);
  } else {
    let body = '';
    if (result.response) {
      try {
        body = ` [HTTP ${result.response.status} ${await result.response.text()}]`;
      } catch {
        body = ` [HTTP ${result.response.status}]`;
      }
    }
    console.log(`${line}\n       ${result.reason}${body}`);
  }
}
console.log(
  `\n${audits.length} audits: ${counts.ok} ok, ${counts.error} failed, ` +
    `${counts.warn} warnings, ${counts.notice} notices`,
);
process.exit(counts.error > 0 ? 1 : 0);
