// Calendar days and instants in a chosen IANA time zone. Dates are "YYYY-MM-DD" strings,
// as the API's Date scalar; arithmetic on them is done in UTC, where every day has 24 hours.

export function today(timeZone: string): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(
    new Date(),
  );
}

export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** The last `days` days up to today, inclusive. */
export function lastDays(timeZone: string, days: number): { from: string; to: string } {
  const to = today(timeZone);
  return { from: addDays(to, -(days - 1)), to };
}

/** Epoch seconds of a date's UTC midnight: how day-valued chart points are placed. */
export function dateSeconds(date: string): number {
  return Date.parse(date + "T00:00:00Z") / 1000;
}

export function formatInstant(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat(undefined, {
    timeZone,
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).format(new Date(iso));
}

export function formatDate(date: string): string {
  return new Intl.DateTimeFormat(undefined, { timeZone: "UTC", year: "numeric", month: "short", day: "numeric" }).format(
    new Date(date + "T00:00:00Z"),
  );
}

/** Milliseconds the zone is ahead of UTC at an instant. */
function offsetAt(instant: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  }).formatToParts(new Date(instant));
  const get = (type: string) => Number(parts.find((part) => part.type === type)?.value);
  const local = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return local - Math.floor(instant / 1000) * 1000;
}

/** The instant of a wall-clock time ("YYYY-MM-DDTHH:MM", as an <input type=datetime-local>
 * gives it) in a zone, as an RFC 3339 UTC string. */
export function zonedToInstant(local: string, timeZone: string): string {
  const wall = Date.parse(local + ":00Z");
  let instant = wall - offsetAt(wall, timeZone);
  // Once more, for a wall time on the other side of an offset change from its guess.
  instant = wall - offsetAt(instant, timeZone);
  return new Date(instant).toISOString();
}

export function allTimeZones(): string[] {
  const zones = Intl.supportedValuesOf?.("timeZone") ?? [];
  return zones.includes("UTC") ? zones : ["UTC", ...zones];
}

export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** The local day of an instant in a zone. */
export function formatDay(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat(undefined, { timeZone, year: "numeric", month: "short", day: "numeric" }).format(new Date(iso));
}
