// Who is logged in. The session itself is an HttpOnly cookie the gateway sets: JavaScript never
// sees it, only the user and scopes GET /api/session answers.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { ApiError, api, ok, setUnauthorizedHandler, type Schemas } from "./client";

export type SessionUser = Schemas["SessionOut"];

type State = { kind: "checking" } | { kind: "anonymous"; expired: boolean } | { kind: "user"; user: SessionUser };

interface SessionApi {
  state: State;
  login: (username: string, password: string) => Promise<void>;
  logout: () => Promise<void>;
}

const SessionContext = createContext<SessionApi | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<State>({ kind: "checking" });

  useEffect(() => {
    let current = true;
    ok(api.GET("/api/session")).then(
      (user) => current && setState({ kind: "user", user }),
      () => current && setState({ kind: "anonymous", expired: false }),
    );
    setUnauthorizedHandler(() => setState({ kind: "anonymous", expired: true }));
    return () => {
      current = false;
    };
  }, []);

  const login = useCallback(async (username: string, password: string) => {
    const user = await ok(api.POST("/api/session", { body: { username, password } }));
    setState({ kind: "user", user });
  }, []);

  const logout = useCallback(async () => {
    try {
      await api.DELETE("/api/session");
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) throw err; // already logged out
    }
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

