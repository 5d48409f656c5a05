// The one client of the gateway's public API, typed from its OpenAPI document (schema.d.ts is
// generated: `npm run generate`). Same origin: the session cookie authenticates every call.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];

/** What an error answer said: the problem+json `title`/`detail` staff are shown. */
export class ApiError extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string | null;
  readonly type: string;

  constructor(status: number, title: string, detail: string | null, type: string) {
    super(detail ? `${title}: ${detail}` : title);
    this.name = "ApiError";
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.type = type;
  }
}

/** The ApiError an error response carries (problem+json, or a bare status when it is not). */
export async function problemOf(response: Response): Promise<ApiError> {
  const fallback = `${response.status} ${response.statusText || "Fejl"}`.trim();
  try {
    const body: unknown = await response.clone().json();
    if (body && typeof body === "object") {
      const p = body as Record<string, unknown>;
      return new ApiError(
        response.status,
        typeof p.title === "string" ? p.title : fallback,
        typeof p.detail === "string" ? p.detail : null,
        typeof p.type === "string" ? p.type : "about:blank",
      );
    }
  } catch {
    // not JSON: the status line is all there is
  }
  return new ApiError(response.status, fallback, null, "about:blank");
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
// The gateway refuses a cookie-authenticated write without it (a cross-site form cannot set it).
export const CSRF_HEADER = { name: "X-Requested-By", value: "wattline-backoffice" } as const;

let onUnauthorized: () => void = () => {};
/** Who hears that the session ended (the session provider: it shows the login page). */
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

export const backOfficeMiddleware: Middleware = {
  onRequest({ request }) {
    if (!SAFE_METHODS.has(request.method.toUpperCase())) {
      request.headers.set(CSRF_HEADER.name, CSRF_HEADER.value);
    }
    return request;
  },
  async onResponse({ request, response }) {
    if (response.ok) return response;
    if (response.status === 401 && !new URL(request.url).pathname.startsWith("/api/session")) {
      onUnauthorized();
    }
    throw await problemOf(response);
  },
};

export const api = createClient<paths>({ baseUrl: "", credentials: "same-origin" });
api.use(backOfficeMiddleware);

/** The body of a successful call (the middleware has already thrown for an error answer). */
export async function ok<T>(call: Promise<{ data?: T }>): Promise<T> {
  const { data } = await call;
  return data as T;
}
