import { useState, type FormEvent } from "react";
import { Navigate, useSearchParams } from "react-router";
import { useSession } from "../api/session";
import { Field } from "../components/Field";
import { ErrorState } from "../components/States";

/** Only a path inside the back office is followed after login (never another site). */
function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/login") ? next : "/signups";
}

export function Login() {
  const { state, login } = useSession();
  const [params] = useSearchParams();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>();
  const [missing, setMissing] = useState<{ username?: string; password?: string }>({});
  const [busy, setBusy] = useState(false);

  if (state.kind === "user") return <Navigate to={safeNext(params.get("next"))} replace />;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const problems = {
      username: username.trim() ? undefined : "Skriv dit brugernavn.",
      password: password ? undefined : "Skriv din adgangskode.",
    };
    setMissing(problems);
    if (problems.username || problems.password) return;
    setBusy(true);
    setError(undefined);
    try {
      await login(username.trim(), password);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <main id="main" className="flex min-h-screen items-center justify-center bg-slate-100 p-4">
      <div className="w-full max-w-sm rounded-lg border border-slate-200 bg-white p-8 shadow-sm">
        <h1 className="mb-1 text-2xl font-bold">Wattline back office</h1>
        <p className="mb-6 text-slate-700">Log ind for at fortsætte.</p>
        {params.get("expired") && (
          <p role="status" className="mb-4 rounded-md bg-amber-50 p-3 text-amber-900">
            Du er blevet logget ud. Log ind igen.
          </p>
        )}
        {error !== undefined && <ErrorState error={error} />}
        <form onSubmit={submit} noValidate className="flex flex-col gap-4">
          <Field label="Brugernavn" error={missing.username} required>
            {(props) => (
              <input
                {...props}
                className="input"
                name="username"
                autoComplete="username"
                value={username}
                onChange={(e) => setUsername(e.target.value)}
              />
            )}
          </Field>
          <Field label="Adgangskode" error={missing.password} required>
            {(props) => (
              <input
                {...props}
                className="input"
                type="password"
                name="password"
                autoComplete="current-password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            )}
          </Field>
          <button type="submit" className="btn-primary justify-center" disabled={busy}>
            {busy ? "Logger ind…" : "Log ind"}
          </button>
        </form>
      </div>
    </main>
  );
}
