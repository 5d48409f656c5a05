import { useState } from "react";
import { api, ok, type Schemas } from "../api/client";
import { DataTable, type Column } from "../components/DataTable";
import { PageHeader } from "../components/Page";
import { ErrorState } from "../components/States";
import { formatDateTime } from "../lib/format";
import { useApi } from "../lib/useApi";

type Letter = Schemas["DeadLetterOut"];
type Outcome = { kind: "busy" } | { kind: "done"; events: number } | { kind: "error"; error: unknown };
const PAGE_SIZE = 50;
const sizeFmt = new Intl.NumberFormat("da-DK");

/** DataHub messages that could not be parsed or validated; each can be parsed again. */
export function DeadLetters() {
  const [page, setPage] = useState(1);
  const [outcomes, setOutcomes] = useState<Record<string, Outcome>>({});
  const list = useApi(
    () => ok(api.GET("/api/datahub/dead-letters", { params: { query: { limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE } } })),
    [page],
  );
  const retry = async (id: string) => {
    setOutcomes((o) => ({ ...o, [id]: { kind: "busy" } }));
    try {
      const result = await ok(api.POST("/api/datahub/dead-letters/{message_id}/retry", { params: { path: { message_id: id } } }));
      setOutcomes((o) => ({ ...o, [id]: { kind: "done", events: result.events } }));
    } catch (error) {
      setOutcomes((o) => ({ ...o, [id]: { kind: "error", error } }));
    }
  };
  const columns: Column<Letter>[] = [
    { key: "id", header: "Besked-id", cell: (l) => <span className="font-mono text-sm">{l.id}</span>, sortValue: (l) => l.id },
    { key: "category", header: "Kø", cell: (l) => l.category, sortValue: (l) => l.category },
    { key: "reason", header: "Årsag", cell: (l) => l.reason ?? "–", sortValue: (l) => l.reason },
    { key: "received_at", header: "Modtaget", cell: (l) => formatDateTime(l.received_at), sortValue: (l) => l.received_at },
    { key: "size", header: "Størrelse", cell: (l) => `${sizeFmt.format(l.size_bytes)} byte`, sortValue: (l) => l.size_bytes, align: "right" },
    {
      key: "retry",
      header: "Handling",
      cell: (l) => {
        const outcome = outcomes[l.id];
        return (
          <div className="flex flex-col gap-2">
            <button
              type="button"
              className="btn-secondary"
              disabled={outcome?.kind === "busy" || outcome?.kind === "done"}
              aria-label={`Prøv igen: besked ${l.id}`}
              onClick={() => retry(l.id)}
            >
              Prøv igen
            </button>
            <div aria-live="polite">
              {outcome?.kind === "busy" && <span>Behandler…</span>}
              {outcome?.kind === "done" && (
                <span role="status" className="text-green-800">
                  Behandlet igen: {outcome.events} {outcome.events === 1 ? "hændelse" : "hændelser"} sendt
                </span>
              )}
              {outcome?.kind === "error" && <ErrorState error={outcome.error} />}
            </div>
          </div>
        );
      },
    },
  ];
  return (
    <>
      <PageHeader title="DataHub: afviste beskeder">Beskeder fra DataHub der ikke kunne læses eller valideres.</PageHeader>
      {list.error !== undefined ? (
        <ErrorState error={list.error} onRetry={list.reload} />
      ) : (
        <DataTable
          caption="Afviste beskeder"
          columns={columns}
          rows={list.data?.items ?? []}
          rowKey={(l) => l.id}
          busy={list.loading}
          empty={list.loading ? "Henter…" : "Ingen afviste beskeder."}
          paging={list.data && { page, pageSize: PAGE_SIZE, total: list.data.total, onPage: setPage }}
        />
      )}
    </>
  );
}
