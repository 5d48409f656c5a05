import { api, ok, type Schemas } from "../api/client";
import { DataTable, type Column } from "../components/DataTable";
import { PageHeader } from "../components/Page";
import { ErrorState } from "../components/States";
import { formatDateTime } from "../lib/format";
import { useApi } from "../lib/useApi";
import { CursorPager, FilterBar, useCursor, useFilters } from "./opsShared";

type Entry = Schemas["AuditEntry"];
const LIMIT = 50;

function outcome(status: number | null): string {
  if (status === null) return "Intet svar";
  if (status < 400) return `Udført (${status})`;
  if (status < 500) return `Afvist (${status})`;
  return `Fejl (${status})`;
}

const columns: Column<Entry>[] = [
  { key: "at", header: "Tidspunkt", cell: (e) => formatDateTime(e.at), sortValue: (e) => e.at },
  { key: "who", header: "Hvem", cell: (e) => e.key_name, sortValue: (e) => e.key_name },
  { key: "method", header: "Metode", cell: (e) => <span className="font-mono">{e.method}</span>, sortValue: (e) => e.method },
  { key: "path", header: "Sti", cell: (e) => <span className="break-all font-mono text-sm">{e.path}</span>, sortValue: (e) => e.path },
  { key: "target", header: "Mål", cell: (e) => <span className="font-mono text-sm">{e.target ?? "–"}</span>, sortValue: (e) => e.target },
  { key: "status", header: "Udfald", cell: (e) => outcome(e.status), sortValue: (e) => e.status },
  { key: "correlation", header: "Korrelations-id", cell: (e) => <span className="font-mono text-xs">{e.correlation_id}</span> },
];

/** A local `datetime-local` value as the instant the API filters by (UTC ISO). */
function instant(value: string): string | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function Audit() {
  const { values, apply, key } = useFilters(["target", "key", "from", "to"]);
  const cursor = useCursor<number>(key);
  const list = useApi(
    () =>
      ok(
        api.GET("/api/audit", {
          params: {
            query: {
              target: values.target || undefined,
              key: values.key || undefined,
              from: instant(values.from),
              to: instant(values.to),
              after: cursor.after,
              limit: LIMIT,
            },
          },
        }),
      ),
    [key, cursor.after],
  );
  const next = list.data?.next_after;
  return (
    <>
      <PageHeader title="Revisionsspor">Hvert kald der ændrer noget: hvem, hvornår, hvad og med hvilket udfald.</PageHeader>
      <FilterBar
        key={key}
        values={values}
        onApply={apply}
        fields={[
          { name: "target", label: "Mål (id)", placeholder: "fx et tilmeldings-id" },
          { name: "key", label: "Bruger eller API-nøgle", placeholder: "fx user:admin" },
          { name: "from", label: "Fra", type: "datetime-local" },
          { name: "to", label: "Til", type: "datetime-local" },
        ]}
      />
      {list.error !== undefined ? (
        <ErrorState error={list.error} onRetry={list.reload} />
      ) : (
        <>
          <DataTable
            caption="Revisionsspor"
            columns={columns}
            rows={list.data?.items ?? []}
            rowKey={(e) => String(e.id)}
            busy={list.loading}
            pageSize={LIMIT}
            empty={list.loading ? "Henter…" : "Ingen kald matcher."}
          />
          <CursorPager caption="Revisionsspor" page={cursor.page} hasNext={next != null} onNext={() => next != null && cursor.next(next)} onPrev={cursor.prev} />
        </>
      )}
    </>
  );
}
