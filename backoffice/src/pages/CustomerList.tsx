import { Link } from "react-router";
import { api, ok, type Schemas } from "../api/client";
import { DataTable, SearchBox, type Column, serverPaging } from "../components/DataTable";
import { PageHeader } from "../components/Page";
import { ErrorState } from "../components/States";
import { StatusBadge } from "../components/StatusBadge";
import { formatDateTime } from "../lib/format";
import { CONTACT_TYPE, lookup } from "../lib/labels";
import { useListParams } from "../lib/params";
import { useApi } from "../lib/useApi";

type Row = Schemas["PortfolioCustomerRow"];
const PAGE_SIZE = 25;

const columns: Column<Row>[] = [
  {
    key: "name",
    header: "Navn",
    cell: (r) => (
      <Link to={`/customers/${r.customer_id}`} className="link">
        {r.name}
      </Link>
    ),
    sortValue: (r) => r.name,
  },
  { key: "cpr_cvr", header: "CPR/CVR", cell: (r) => <span className="font-mono">{r.cpr_cvr}</span> },
  { key: "contact_type", header: "Kundetype", cell: (r) => lookup(CONTACT_TYPE, r.contact_type), sortValue: (r) => r.contact_type },
  { key: "status", header: "Status", cell: (r) => <StatusBadge kind="customer" status={r.status} />, sortValue: (r) => r.status },
  { key: "created_at", header: "Oprettet", cell: (r) => formatDateTime(r.created_at), sortValue: (r) => r.created_at },
];

export function CustomerList() {
  const { values, page, set } = useListParams(["search"] as const);
  const list = useApi(
    () => ok(api.GET("/api/customers", { params: { query: { search: values.search || undefined, page, page_size: PAGE_SIZE } } })),
    [values.search, page],
  );
  return (
    <>
      <PageHeader title="Kunder" />
      <div className="mb-4">
        <SearchBox
          key={values.search}
          label="Søg (navn, e-mail eller hele CPR/CVR)"
          value={values.search}
          onSearch={(text) => set("search", text)}
        />
      </div>
      {list.error !== undefined ? (
        <ErrorState error={list.error} onRetry={list.reload} />
      ) : (
        <DataTable
          caption="Kunder"
          columns={columns}
          rows={list.data?.items ?? []}
          rowKey={(r) => r.customer_id}
          rowHref={(r) => `/customers/${r.customer_id}`}
          busy={list.loading}
          empty={list.loading ? "Henter…" : "Ingen kunder matcher."}
          paging={serverPaging(list.data, (p) => set("page", p))}
        />
      )}
    </>
  );
}
