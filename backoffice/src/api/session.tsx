// Who is logged in. The session itself is an HttpOnly cookie the gateway sets: JavaScript never
// sees it, only the user and scopes GET /api/session answers.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { CSRF_HEADER, problemOf, setUnauthorizedHandler } from "./client";

export interface SessionUser {
  username: string;
  scopes: string[];
  expires_at: string;
}

type State = { kind: "checking" } | { kind: "anonymous"; expired: boolean } | { kind: "user"; user: SessionUser };

interface SessionApi {
  state: State;
  login: (username: string, password: string) => Promise<void>;
  logout: () => Promise<void>;
}

const SessionContext = createContext<SessionApi | null>(null);

async function sessionCall(method: "GET" | "POST" | "DELETE", body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  if (method !== "GET") headers[CSRF_HEADER.name] = CSRF_HEADER.value;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return fetch("/api/session", {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<State>({ kind: "checking" });

  useEffect(() => {
    let current = true;
    sessionCall("GET").then(
      async (response) => {
        if (!current) return;
        if (response.ok) setState({ kind: "user", user: (await response.json()) as SessionUser });
        else setState({ kind: "anonymous", expired: false });
      },
      () => current && setState({ kind: "anonymous", expired: false }),
    );
    setUnauthorizedHandler(() => setState({ kind: "anonymous", expired: true }));
    return () => {
      current = false;
    };
  }, []);

  const login = useCallback(async (username: string, password: string) => {
    const response = await sessionCall("POST", { username, password });
    if (!response.ok) throw await problemOf(response);
    setState({ kind: "user", user: (await response.json()) as SessionUser });
  }, []);

  const logout = useCallback(async () => {
    const response = await sessionCall("DELETE");
    if (!response.ok && response.status !== 401) throw await problemOf(response);
    setState({ kind: "anonymous", expired: false });
  }, []);

  const value = useMemo(() => ({ state, login, logout }), [state, login, logout]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionApi {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}

