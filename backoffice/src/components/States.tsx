import type { ReactNode } from "react";
import { ApiError } from "../api/client";

export function Loading({ label = "Henter…" }: { label?: string }) {
  return (
    <p role="status" aria-live="polite" className="flex items-center gap-2 py-6 text-slate-600">
      <span aria-hidden="true" className="size-4 animate-spin rounded-full border-2 border-slate-300 border-t-blue-700" />
      {label}
    </p>
  );
}

/** What went wrong, in the API's own words: the problem's title and detail. */
export function ErrorState({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  let title = "Noget gik galt";
  let detail: string | null = null;
  if (error instanceof ApiError) {
    title = error.title;
    detail = error.detail;
  } else if (error instanceof TypeError) {
    title = "Ingen forbindelse til Wattline";
    detail = "Serveren svarede ikke. Prøv igen om lidt.";
  } else if (error instanceof Error) {
    detail = error.message;
  }
  return (
    <div role="alert" className="my-4 rounded-md border border-red-300 bg-red-50 p-4 text-red-900">
      <p className="font-semibold" data-testid="problem-title">
        {title}
      </p>
      {detail && (
        <p className="mt-1" data-testid="problem-detail">
          {detail}
        </p>
      )}
      {onRetry && (
        <button type="button" onClick={onRetry} className="btn-secondary mt-3">
          Prøv igen
        </button>
      )}
    </div>
  );
}

export function EmptyState({ children }: { children: ReactNode }) {
  return <p className="rounded-md border border-dashed border-slate-300 p-6 text-center text-slate-600">{children}</p>;
}

/** Loading, error or the content: the one way a page shows what it is waiting for. */
export function Loaded<T>({
  state,
  children,
}: {
  state: { data: T | undefined; error: unknown; loading: boolean; reload: () => void };
  children: (data: T) => ReactNode;
}) {
  if (state.error !== undefined) return <ErrorState error={state.error} onRetry={state.reload} />;
  if (state.loading && state.data === undefined) return <Loading />;
  if (state.data === undefined) return <Loading />;
  return <>{children(state.data)}</>;
}
