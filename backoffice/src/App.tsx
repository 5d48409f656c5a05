import { BrowserRouter, Navigate, Route, Routes, useLocation } from "react-router";
import { SessionProvider, useSession } from "./api/session";
import { Layout } from "./components/Layout";
import { Loading } from "./components/States";
import { Login } from "./pages/Login";
import { NotFound } from "./pages/NotFound";
import { ROUTES } from "./routes";

/** The pages need a user: without one, the login page (which returns here afterwards). */
function RequireSession() {
  const { state } = useSession();
  const location = useLocation();
  if (state.kind === "checking") return <Loading label="Kontrollerer login…" />;
  if (state.kind === "anonymous") {
    const next = location.pathname + location.search;
    return <Navigate to={`/login?next=${encodeURIComponent(next)}${state.expired ? "&expired=1" : ""}`} replace />;
  }
  return <Layout />;
}

export function App() {
  return (
    <BrowserRouter basename="/backoffice">
      <SessionProvider>
        <Routes>
          <Route path="/login" element={<Login />} />
          <Route element={<RequireSession />}>
            <Route index element={<Navigate to="/signups" replace />} />
            {ROUTES.map((r) => (
              <Route key={r.path} path={r.path} element={r.element} />
            ))}
            <Route path="*" element={<NotFound />} />
          </Route>
        </Routes>
      </SessionProvider>
    </BrowserRouter>
  );
}
