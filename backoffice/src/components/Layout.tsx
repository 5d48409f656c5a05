import { useState } from "react";
import { NavLink, Outlet } from "react-router";
import { useSession } from "../api/session";
import { NAV_GROUPS, ROUTES } from "../routes";
import { ErrorState } from "./States";

export function Layout() {
  const { state, logout } = useSession();
  const [logoutError, setLogoutError] = useState<unknown>();
  const username = state.kind === "user" ? state.user.username : "";
  return (
    <div className="min-h-screen">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:px-4 focus:py-2"
      >
        Spring til indhold
      </a>
      <header className="flex items-center justify-between bg-blue-900 px-6 py-3 text-white">
        <p className="text-lg font-bold">Wattline back office</p>
        <div className="flex items-center gap-4">
          <span data-testid="current-user">
            Logget ind som <strong>{username}</strong>
          </span>
          <button
            type="button"
            className="rounded-md border border-white/60 px-3 py-1 hover:bg-white/10"
            onClick={() => logout().catch(setLogoutError)}
          >
            Log ud
          </button>
        </div>
      </header>
      <div className="flex">
        <nav aria-label="Hovedmenu" className="w-56 shrink-0 border-r border-slate-200 bg-white px-3 py-4 min-h-[calc(100vh-56px)]">
          {NAV_GROUPS.map((group) => {
            const entries = ROUTES.filter((r) => r.nav?.group === group);
            if (entries.length === 0) return null;
            return (
              <div key={group} className="mb-4">
                {/* Not a heading: a page's h1 ("Kunder") must be the only heading of that name. */}
                <p id={`nav-${group}`} className="px-2 text-xs font-semibold uppercase tracking-wide text-slate-600">
                  {group}
                </p>
                <ul className="mt-1" aria-labelledby={`nav-${group}`}>
                  {entries.map((r) => (
                    <li key={r.path}>
                      <NavLink
                        to={r.path}
                        end
                        className={({ isActive }) =>
                          `block rounded px-2 py-1.5 ${isActive ? "bg-blue-100 font-semibold text-blue-900" : "text-slate-800 hover:bg-slate-100"}`
                        }
                      >
                        {r.nav?.label}
                      </NavLink>
                    </li>
                  ))}
                </ul>
              </div>
            );
          })}
        </nav>
        <main id="main" tabIndex={-1} className="min-w-0 flex-1 px-8 py-6 focus:outline-none">
          {logoutError !== undefined && <ErrorState error={logoutError} />}
          <Outlet />
        </main>
      </div>
    </div>
  );
}
