import { useState } from "preact/hooks";
import { ErrorBox, useMutation } from "../query";
import { CREATE_PROJECT, type Project } from "../queries";
import { navigate } from "../router";
import { allTimeZones, browserTimeZone } from "../time";

export function NewProject({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState("");
  const [timezone, setTimezone] = useState(browserTimeZone());
  const create = useMutation<{ createProject: Project }, { input: { name: string; timezone: string } }>(CREATE_PROJECT);
  const submit = async (event: Event) => {
    event.preventDefault();
    const data = await create.run({ input: { name, timezone } });
    if (data) {
      onCreated();
      navigate(`/p/${data.createProject.id}/settings`);
    }
  };
  return (
    <section>
      <h1>New project</h1>
      <form class="card narrow" onSubmit={submit}>
        <label>
          Name
          <input name="name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Time zone <span class="hint">(dashboards show the project in it)</span>
          <select name="timezone" value={timezone} onChange={(e) => setTimezone(e.currentTarget.value)}>
            {allTimeZones().map((zone) => (
              <option key={zone} value={zone}>
                {zone}
              </option>
            ))}
          </select>
        </label>
        <ErrorBox error={create.error} />
        <button type="submit" disabled={create.running}>
          Create project
        </button>
      </form>
    </section>
  );
}
