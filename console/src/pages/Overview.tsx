// The project at a glance: daily active users over 30 days, today's events, top events.
import { Chart } from "../components/Chart";
import { DataTable, formatNumber } from "../components/DataTable";
import { useProject } from "../context";
import { Answer, useQuery } from "../query";
import { OVERVIEW, type DayCount, type TypeCount } from "../queries";
import { dateSeconds, formatDate, lastDays, today } from "../time";

interface OverviewData {
  dau: DayCount[];
  top: TypeCount[];
  todays: TypeCount[];
}

export function Overview() {
  const { project, timeZone } = useProject();
  const day = today(timeZone);
  const state = useQuery<OverviewData>(OVERVIEW, {
    p: project.id,
    month: lastDays(timeZone, 30),
    today: { from: day, to: day },
    tz: timeZone,
  });
  return (
    <section>
      <h1>{project.name}</h1>
      <Answer state={state} what="the overview">
        {(data) => {
          const eventsToday = data.todays.reduce((sum, row) => sum + Number(row.events), 0);
          const usersToday = data.dau.at(-1)?.users ?? 0;
          return (
            <>
              <div class="stats">
                <div class="stat">
                  <span class="stat-label">Events today</span>
                  <span class="stat-value" id="events-today">
                    {formatNumber(eventsToday)}
                  </span>
                </div>
                <div class="stat">
                  <span class="stat-label">Active users today</span>
                  <span class="stat-value" id="users-today">
                    {formatNumber(usersToday)}
                  </span>
                </div>
                <div class="stat">
                  <span class="stat-label">Event types today</span>
                  <span class="stat-value">{formatNumber(data.todays.length)}</span>
                </div>
              </div>
              <div class="card">
                <h2>Daily active users, last 30 days</h2>
                <p class="hint">Days in {timeZone}.</p>
                <Chart
                  label={`Daily active users from ${data.dau[0]?.date} to ${data.dau.at(-1)?.date}`}
                  x={data.dau.map((row) => dateSeconds(row.date))}
                  series={[{ label: "Active users", values: data.dau.map((row) => row.users) }]}
                  timeZone="UTC"
                  bars
                />
                <DataTable
                  id="dau-table"
                  caption="Daily active users"
                  head={["Day", "Active users"]}
                  rows={data.dau.map((row) => [<time dateTime={row.date}>{formatDate(row.date)}</time>, row.users])}
                />
              </div>
              <div class="card">
                <h2>Top events, last 30 days</h2>
                {data.top.length === 0 ? (
                  <p class="empty">No events in the last 30 days. Create an API token in Settings and send some.</p>
                ) : (
                  <table id="top-events" class="bars">
                    <thead>
                      <tr>
                        <th scope="col">Event type</th>
                        <th scope="col">Events</th>
                        <th scope="col">Users</th>
                      </tr>
                    </thead>
                    <tbody>
                      {data.top.map((row) => (
                        <tr key={row.eventType}>
                          <th scope="row">{row.eventType}</th>
                          <td>
                            <div class="meter">
                              <span class="track">
                                <span class="bar" style={{ width: `${(100 * Number(row.events)) / Number(data.top[0]!.events)}%` }} />
                              </span>
                              <span class="num">{formatNumber(Number(row.events))}</span>
                            </div>
                          </td>
                          <td class="num">{formatNumber(row.users)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </div>
            </>
          );
        }}
      </Answer>
    </section>
  );
}
