// Sign in, and sign up (with an invitation code when the server asks for one).
import { useState } from "preact/hooks";
import { ErrorBox, useMutation } from "../query";
import { LOGIN, SIGNUP } from "../queries";
import { Link } from "../router";
import { saveSession, sessionFrom, type AuthPayload } from "../session";

export function SignIn() {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const login = useMutation<{ login: AuthPayload }, { username: string; password: string }>(LOGIN);
  const submit = async (event: Event) => {
    event.preventDefault();
    const data = await login.run({ username, password });
    if (data) saveSession(sessionFrom(data.login));
  };
  return (
    <main class="auth" id="main">
      <h1>Sign in to Eventide</h1>
      <form onSubmit={submit}>
        <label>
          Username
          <input name="username" autocomplete="username" required value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        <ErrorBox error={login.error} />
        <button type="submit" disabled={login.running}>
          {login.running ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p>
        No account yet? <Link href={`/signup${location.search}`}>Sign up</Link>
      </p>
    </main>
  );
}

export function SignUp() {
  const [username, setUsername] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  // An invitation link carries its code: /signup?invitation=evi_…
  const [invitation, setInvitation] = useState(new URLSearchParams(location.search).get("invitation") ?? "");
  const signup = useMutation<{ signup: AuthPayload }, { input: Record<string, string | null> }>(SIGNUP);
  const submit = async (event: Event) => {
    event.preventDefault();
    const data = await signup.run({
      input: { username, email, password, invitation: invitation.trim() || null },
    });
    if (data) saveSession(sessionFrom(data.signup));
  };
  return (
    <main class="auth" id="main">
      <h1>Create your Eventide account</h1>
      <form onSubmit={submit}>
        <label>
          Username
          <input
            name="username"
            autocomplete="username"
            required
            minLength={3}
            maxLength={64}
            pattern="[A-Za-z0-9_.\-]+"
            title="3 to 64 letters, digits, _, . or -"
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
          />
        </label>
        <label>
          Email
          <input name="email" type="email" autocomplete="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </label>
        <label>
          Password <span class="hint">(at least 8 characters)</span>
          <input
            name="password"
            type="password"
            autocomplete="new-password"
            required
            minLength={8}
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        <label>
          Invitation code <span class="hint">(to join a project; required when sign-up is by invitation)</span>
          <input name="invitation" autocomplete="off" value={invitation} onInput={(e) => setInvitation(e.currentTarget.value)} />
        </label>
        <ErrorBox error={signup.error} />
        <button type="submit" disabled={signup.running}>
          {signup.running ? "Creating…" : "Sign up"}
        </button>
      </form>
      <p>
        Have an account? <Link href="/signin">Sign in</Link>
      </p>
    </main>
  );
}
