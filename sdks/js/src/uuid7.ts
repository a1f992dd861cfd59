/**
 * UUIDv7 event ids (RFC 9562, section 5.7), monotonic within the page or process.
 *
 * The 48-bit Unix timestamp in milliseconds is followed by a 12-bit counter in `rand_a`
 * (the RFC's "fixed bit-length dedicated counter", section 6.2, method 1) and 62 random
 * bits: ids made in the same millisecond still sort in the order they were made, and a
 * counter that runs out moves the timestamp on by a millisecond, as the RFC allows.
 */

let lastMillis = -1;
let counter = 0;

/** A fresh millisecond starts its counter below half the range: room to count up. */
function counterSeed(): number {
  const seed = new Uint16Array(1);
  crypto.getRandomValues(seed);
  return (seed[0] as number) & 0x7ff;
}

export function uuid7(): string {
  const now = Date.now();
  if (now > lastMillis) {
    lastMillis = now;
    counter = counterSeed();
  } else {
    // The same millisecond, or the clock stepped back: keep counting.
    counter += 1;
    if (counter > 0xfff) {
      lastMillis += 1;
      counter = counterSeed();
    }
  }
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  let millis = lastMillis;
  for (let i = 5; i >= 0; i -= 1) {
    bytes[i] = millis % 256;
    millis = Math.floor(millis / 256);
  }
  bytes[6] = 0x70 | (counter >> 8); // version 7
  bytes[7] = counter & 0xff;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80; // the RFC variant
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
