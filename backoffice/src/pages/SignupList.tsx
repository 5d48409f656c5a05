import { Link } from "react-router";
import { api, ok, type Schemas } from "../api/client";
import { DataTable, SearchBox, type Column, serverPaging } from "../components/DataTable";
import { PageHeader } from "../components/Page";
import { ErrorState } from "../components/States";
import { StatusBadge } from "../components/StatusBadge";
import { formatDate, formatDateTime } from "../lib/format";
import { SIGNUP_STATUSES, SIGNUP_TYPE, lookup, statusLabel } from "../lib/labels";
import { useListParams } from "../lib/params";
import { useApi } from "../lib/useApi";

type Row = Schemas["PortfolioSignupRow"];
type Status = (typeof SIGNUP_STATUSES)[number];
const PAGE_SIZE = 25;

const columns: Column<Row>[] = [
  {
    key: "signup_id",
    header: "Tilmelding",
    cell: (r) => (
      <Link to={`/signups/${r.signup_id}`} className="link font-mono text-sm" title={r.signup_id}>
        {r.signup_id}
      </Link>
    ),
  },
  { key: "customer_name", header: "Kunde", cell: (r) => r.customer_name, sortValue: (r) => r.customer_name },
  { key: "gsrn", header: "GSRN", cell: (r) => <span className="font-mono">{r.gsrn}</span>, sortValue: (r) => r.gsrn },
  { key: "type", header: "Type", cell: (r) => lookup(SIGNUP_TYPE, r.type), sortValue: (r) => r.type },
  {
    key: "effective_date",
    header: "Ikrafttræden",
    cell: (r) => formatDate(r.effective_date),
    sortValue: (r) => r.effective_date,
  },
  { key: "status", header: "Status", cell: (r) => <StatusBadge kind="signup" status={r.status} />, sortValue: (r) => r.status },
  { key: "created_at", header: "Oprettet", cell: (r) => formatDateTime(r.created_at), sortValue: (r) => r.created_at },
];

export function SignupList() {
  const { values, page, set } = useListParams(["status", "search"] as const);
  const status = (SIGNUP_STATUSES as readonly string[]).includes(values.status) ? (values.status as Status) : undefined;
  const list = useApi(
    () =>
      ok(
        api.GET("/api/signups", {
          params: { query: { status, search: values.search || undefined, page, page_size: PAGE_SIZE } },
        }),
      ),
    [status, values.search, page],
  );

  return (
    <>
      <PageHeader
        title="Tilmeldinger"
        actions={
          <Link to="/signups/new" className="btn-primary">
            Ny tilmelding
          </Link>
        }
      />
      <div className="mb-4 flex flex-wrap items-end gap-6">
        <label className="flex flex-col gap-1 text-sm font-medium">
          Status
          <select className="input w-52" value={status ?? ""} onChange={(e) => set("status", e.target.value)}>
            <option value="">Alle</option>
            {SIGNUP_STATUSES.map((s) => (
              <option key={s} value={s}>
                {statusLabel("signup", s).text}
              </option>
            ))}
          </select>
        </label>
        <SearchBox
          key={values.search}
          label="Søg (navn, GSRN, CPR/CVR, e-mail, id)"
          value={values.search}
          onSearch={(text) => set("search", text)}
        />
      </div>
      {list.error !== undefined ? (
        <ErrorState error={list.error} onRetry={list.reload} />
      ) : (
        <DataTable
          caption="Tilmeldinger"
          columns={columns}
          rows={list.data?.items ?? []}
          rowKey={(r) => r.signup_id}
          rowHref={(r) => `/signups/${r.signup_id}`}
          busy={list.loading}
          empty={list.loading ? "Henter…" : "Ingen tilmeldinger matcher."}
          paging={serverPaging(list.data, (p) => set("page", p))}
        />
      )}
    </>
  );
}
