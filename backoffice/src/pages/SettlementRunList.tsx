import { Link } from "react-router";
import { api, ok, type Schemas } from "../api/client";
import { DataTable, type Column, serverPaging } from "../components/DataTable";
import { PageHeader } from "../components/Page";
import { ErrorState } from "../components/States";
import { formatDateTime } from "../lib/format";
import { lookup } from "../lib/labels";
import { useApi } from "../lib/useApi";
import { FilterBar, OpsBadge, RUN_TRIGGER, opsStatusText, opsStatuses, shortId, useFilters } from "./opsShared";

type Run = Schemas["SettlementRun"];
type RunStatus = "waiting" | "queued" | "running" | "completed" | "blocked" | "failed";
const PAGE_SIZE = 25;

const columns: Column<Run>[] = [
  {
    key: "run_id",
    header: "Kørsel",
    cell: (r) => (
      <Link to={`/settlement/runs/${r.run_id}`} className="link font-mono text-sm" title={r.run_id}>
        {shortId(r.run_id)}
      </Link>
    ),
  },
  { key: "billing_period", header: "Periode", cell: (r) => r.billing_period, sortValue: (r) => r.billing_period },
  { key: "grid_area", header: "Netområde", cell: (r) => r.grid_area ?? "Alle", sortValue: (r) => r.grid_area },
  { key: "status", header: "Status", cell: (r) => <OpsBadge kind="run" status={r.status} />, sortValue: (r) => r.status },
  { key: "trigger", header: "Startet af", cell: (r) => lookup(RUN_TRIGGER, r.trigger) },
  {
    key: "progress",
    header: "Fremdrift",
    cell: (r) => `${r.progress.done} af ${r.progress.total}`,
    align: "right",
  },
  { key: "settled", header: "Afregnet", cell: (r) => r.progress.settled, sortValue: (r) => r.progress.settled, align: "right" },
  { key: "blocked", header: "Blokeret", cell: (r) => r.progress.blocked, sortValue: (r) => r.progress.blocked, align: "right" },
  { key: "requested_at", header: "Anmodet", cell: (r) => formatDateTime(r.requested_at), sortValue: (r) => r.requested_at },
  { key: "finished_at", header: "Færdig", cell: (r) => formatDateTime(r.finished_at), sortValue: (r) => r.finished_at },
];

export function SettlementRunList() {
  const { values, apply, key } = useFilters(["period", "grid_area", "status", "page"]);
  const page = Math.max(1, Number(values.page) || 1);
  const status = opsStatuses("run").includes(values.status) ? (values.status as RunStatus) : undefined;
  const list = useApi(
    () =>
      ok(
        api.GET("/api/settlement/runs", {
          params: {
            query: {
              period: values.period || undefined,
              grid_area: values.grid_area || undefined,
              status,
              page,
              page_size: PAGE_SIZE,
            },
          },
        }),
      ),
    [key],
  );
  return (
    <>
      <PageHeader title="Afregningskørsler" />
      <FilterBar
        key={key}
        values={values}
        onApply={(v) => apply({ ...v, page: "" })}
        fields={[
          { name: "period", label: "Periode", placeholder: "ÅÅÅÅ-MM", pattern: "\\d{4}-\\d{2}", title: "ÅÅÅÅ-MM, fx 2025-01" },
          { name: "grid_area", label: "Netområde", placeholder: "fx 344", pattern: "\\d{3}", title: "3 cifre" },
          { name: "status", label: "Status", options: opsStatuses("run").map((s) => ({ value: s, label: opsStatusText("run", s) })) },
        ]}
      />
      {list.error !== undefined ? (
        <ErrorState error={list.error} onRetry={list.reload} />
      ) : (
        <DataTable
          caption="Afregningskørsler"
          columns={columns}
          rows={list.data?.items ?? []}
          rowKey={(r) => r.run_id}
          rowHref={(r) => `/settlement/runs/${r.run_id}`}
          busy={list.loading}
          empty={list.loading ? "Henter…" : "Ingen afregningskørsler matcher."}
          paging={serverPaging(list.data, (p) => apply({ ...values, page: String(p) }))}
        />
      )}
    </>
  );
}
