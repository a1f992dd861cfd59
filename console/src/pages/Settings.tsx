// Project settings: name and time zone, members and roles, invitations, API tokens.
import { useState } from "preact/hooks";
import { Secret } from "../components/Secret";
import { useProject } from "../context";
import { Answer, ErrorBox, useMutation, useQuery } from "../query";
import {
  ADD_MEMBER,
  API_TOKENS,
  CREATE_API_TOKEN,
  CREATE_INVITATION,
  DELETE_PROJECT,
  MEMBERS,
  REMOVE_MEMBER,
  REVOKE_API_TOKEN,
  SET_MEMBER_ROLE,
  UPDATE_PROJECT,
  type ApiToken,
  type Member,
  type ProjectRole,
} from "../queries";
import { navigate } from "../router";
import { allTimeZones, formatInstant } from "../time";

const ROLES: ProjectRole[] = ["VIEWER", "EDITOR", "OWNER"];
const RANK: Record<ProjectRole, number> = { VIEWER: 0, EDITOR: 1, OWNER: 2 };

/** May the caller act with `role` here? A server admin (myRole null) may do everything. */
function allows(mine: ProjectRole | null, role: ProjectRole): boolean {
  return mine === null || RANK[mine] >= RANK[role];
}

export function Settings() {
  const { project } = useProject();
  return (
    <section>
      <h1>Settings of {project.name}</h1>
      <General />
      <Members />
      {allows(project.myRole, "OWNER") && <Invitations />}
      {allows(project.myRole, "EDITOR") && <ApiTokens />}
    </section>
  );
}

function General() {
  const { project, reloadProjects } = useProject();
  const [name, setName] = useState(project.name);
  const [timezone, setTimezone] = useState(project.timezone);
  const [saved, setSaved] = useState(false);
  const update = useMutation(UPDATE_PROJECT);
  const remove = useMutation(DELETE_PROJECT);
  const owner = allows(project.myRole, "OWNER");
  return (
    <div class="card">
      <h2>General</h2>
      <form
        class="toolbar"
        onSubmit={async (event) => {
          event.preventDefault();
          setSaved(false);
          if (await update.run({ id: project.id, input: { name, timezone } })) {
            setSaved(true);
            reloadProjects();
          }
        }}
      >
        <label>
          Project name
          <input required disabled={!owner} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Time zone
          <select disabled={!owner} value={timezone} onChange={(e) => setTimezone(e.currentTarget.value)}>
            {allTimeZones().map((zone) => (
              <option key={zone} value={zone}>
                {zone}
              </option>
            ))}
          </select>
        </label>
        {owner && (
          <div class="actions">
            <button type="submit" disabled={update.running}>
              Save
            </button>
            {saved && <span role="status">Saved.</span>}
          </div>
        )}
      </form>
      <p class="hint">Project id {project.id}; your role: {project.myRole ?? "server admin"}.</p>
      <ErrorBox error={update.error} />
      {owner && (
        <details class="danger">
          <summary>Delete this project</summary>
          <p>Its events, tokens, members and invitations are removed for good.</p>
          <button
            type="button"
            class="danger"
            onClick={async () => {
              if (!window.confirm(`Delete ${project.name} and all its events?`)) return;
              if (await remove.run({ id: project.id })) {
                reloadProjects();
                navigate("/");
              }
            }}
          >
            Delete {project.name}
          </button>
          <ErrorBox error={remove.error} />
        </details>
      )}
    </div>
  );
}

function Members() {
  const { project } = useProject();
  const state = useQuery<{ project: { members: Member[] } }>(MEMBERS, { id: project.id });
  const [username, setUsername] = useState("");
  const [role, setRole] = useState<ProjectRole>("VIEWER");
  const add = useMutation(ADD_MEMBER);
  const setMemberRole = useMutation(SET_MEMBER_ROLE);
  const remove = useMutation(REMOVE_MEMBER);
  const owner = allows(project.myRole, "OWNER");
  return (
    <div class="card">
      <h2>Members</h2>
      <Answer state={state} what="members">
        {(data) => (
          <table id="members">
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Role</th>
                <th scope="col">Since</th>
                {owner && <th scope="col"><span class="sr-only">Actions</span></th>}
              </tr>
            </thead>
            <tbody>
              {data.project.members.map((member) => (
                <tr key={member.user.id}>
                  <th scope="row">{member.user.username}</th>
                  <td>
                    {owner ? (
                      <select
                        aria-label={`Role of ${member.user.username}`}
                        value={member.role}
                        onChange={async (e) => {
                          await setMemberRole.run({ projectId: project.id, userId: member.user.id, role: e.currentTarget.value });
                          state.reload();
                        }}
                      >
                        {ROLES.map((one) => (
                          <option key={one} value={one}>
                            {one.toLowerCase()}
                          </option>
                        ))}
                      </select>
                    ) : (
                      member.role.toLowerCase()
                    )}
                  </td>
                  <td>{formatInstant(member.addedAt, project.timezone)}</td>
                  {owner && (
                    <td>
                      <button
                        type="button"
                        class="link"
                        onClick={async () => {
                          await remove.run({ projectId: project.id, userId: member.user.id });
                          state.reload();
                        }}
                      >
                        Remove<span class="sr-only"> {member.user.username}</span>
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Answer>
      <ErrorBox error={setMemberRole.error || remove.error} />
      {owner && (
        <form
          class="toolbar"
          onSubmit={async (event) => {
            event.preventDefault();
            if (await add.run({ projectId: project.id, username, role })) {
              setUsername("");
              state.reload();
            }
          }}
        >
          <label>
            Add by username
            <input required value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
          </label>
          <RoleSelect value={role} onChange={setRole} />
          <div class="actions">
            <button type="submit" disabled={add.running}>
              Add member
            </button>
          </div>
          <ErrorBox error={add.error} />
        </form>
      )}
    </div>
  );
}

function RoleSelect({ value, onChange }: { value: ProjectRole; onChange: (role: ProjectRole) => void }) {
  return (
    <label>
      Role
      <select value={value} onChange={(e) => onChange(e.currentTarget.value as ProjectRole)}>
        <option value="VIEWER">viewer: reads analytics</option>
        <option value="EDITOR">editor: also ingests, manages API tokens</option>
        <option value="OWNER">owner: also manages the project</option>
      </select>
    </label>
  );
}

const TTLS: [number, string][] = [
  [3600, "1 hour"],
  [86400, "1 day"],
  [604800, "7 days"],
  [2592000, "30 days"],
];

function Invitations() {
  const { project } = useProject();
  const [role, setRole] = useState<ProjectRole>("VIEWER");
  const [ttl, setTtl] = useState(604800);
  const create = useMutation<{ createInvitation: { code: string; role: ProjectRole; expiresAt: string } }, Record<string, unknown>>(
    CREATE_INVITATION,
  );
  const [created, setCreated] = useState<{ code: string; role: ProjectRole; expiresAt: string } | null>(null);
  return (
    <div class="card">
      <h2>Invitations</h2>
      <p class="hint">An invitation code lets one person sign up into this project with a role.</p>
      <form
        class="toolbar"
        onSubmit={async (event) => {
          event.preventDefault();
          const data = await create.run({ projectId: project.id, role, ttlSeconds: ttl });
          if (data) setCreated(data.createInvitation);
        }}
      >
        <RoleSelect value={role} onChange={setRole} />
        <label>
          Valid for
          <select value={ttl} onChange={(e) => setTtl(Number(e.currentTarget.value))}>
            {TTLS.map(([seconds, name]) => (
              <option key={seconds} value={seconds}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <div class="actions">
          <button type="submit" disabled={create.running}>
            Create invitation
          </button>
        </div>
      </form>
      <ErrorBox error={create.error} />
      {created && (
        <Secret
          label="Invitation link"
          value={`${location.origin}/signup?invitation=${encodeURIComponent(created.code)}`}
          note={`For a ${created.role.toLowerCase()}, until ${formatInstant(created.expiresAt, project.timezone)}. Shown once; it works for one sign-up.`}
        />
      )}
    </div>
  );
}

function ApiTokens() {
  const { project } = useProject();
  const state = useQuery<{ apiTokens: ApiToken[] }>(API_TOKENS, {});
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<string[]>(["INGEST"]);
  const [ttl, setTtl] = useState(0);
  const [secret, setSecret] = useState<string | null>(null);
  const create = useMutation<{ createApiToken: { token: string } }, Record<string, unknown>>(CREATE_API_TOKEN);
  const revoke = useMutation(REVOKE_API_TOKEN);
  const toggle = (scope: string) => setScopes(scopes.includes(scope) ? scopes.filter((one) => one !== scope) : [...scopes, scope]);
  return (
    <div class="card">
      <h2>API tokens</h2>
      <p class="hint">For SDKs and scripts: INGEST sends events, READ asks the analytics.</p>
      <form
        class="toolbar"
        onSubmit={async (event) => {
          event.preventDefault();
          const data = await create.run({
            input: { name, scopes, ttlSeconds: ttl || null, projectId: project.id },
          });
          if (data) {
            setSecret(data.createApiToken.token);
            setName("");
            state.reload();
          }
        }}
      >
        <label>
          Token name
          <input required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <fieldset class="checks">
          <legend>Scopes</legend>
          {["INGEST", "READ"].map((scope) => (
            <label key={scope} class="check">
              <input type="checkbox" checked={scopes.includes(scope)} onChange={() => toggle(scope)} /> {scope}
            </label>
          ))}
        </fieldset>
        <label>
          Expires
          <select value={ttl} onChange={(e) => setTtl(Number(e.currentTarget.value))}>
            <option value={0}>never</option>
            {TTLS.map(([seconds, text]) => (
              <option key={seconds} value={seconds}>
                after {text}
              </option>
            ))}
          </select>
        </label>
        <div class="actions">
          <button type="submit" disabled={create.running || scopes.length === 0}>
            Create token
          </button>
        </div>
      </form>
      <ErrorBox error={create.error} />
      {secret && <Secret label="New API token" value={secret} />}
      <Answer state={state} what="API tokens">
        {(data) => {
          const tokens = data.apiTokens.filter((token) => token.project.id === project.id);
          if (tokens.length === 0) return <p class="empty">No API tokens yet.</p>;
          return (
            <div class="scroll">
              <table id="api-tokens">
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Prefix</th>
                    <th scope="col">Scopes</th>
                    <th scope="col">Owner</th>
                    <th scope="col">Last used</th>
                    <th scope="col">State</th>
                    <th scope="col"><span class="sr-only">Actions</span></th>
                  </tr>
                </thead>
                <tbody>
                  {tokens.map((token) => {
                    const expired = token.expiresAt !== null && Date.parse(token.expiresAt) < Date.now();
                    return (
                      <tr key={token.id}>
                        <th scope="row">{token.name}</th>
                        <td class="mono">{token.prefix}…</td>
                        <td>{token.scopes.join(", ")}</td>
                        <td>{token.owner.username}</td>
                        <td>{token.lastUsedAt ? formatInstant(token.lastUsedAt, project.timezone) : "never"}</td>
                        <td>{token.revokedAt ? "revoked" : expired ? "expired" : token.expiresAt ? `until ${formatInstant(token.expiresAt, project.timezone)}` : "active"}</td>
                        <td>
                          {!token.revokedAt && (
                            <button
                              type="button"
                              class="link"
                              onClick={async () => {
                                await revoke.run({ id: token.id });
                                state.reload();
                              }}
                            >
                              Revoke<span class="sr-only"> {token.name}</span>
                            </button>
                          )}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          );
        }}
      </Answer>
      <ErrorBox error={revoke.error} />
    </div>
  );
}
