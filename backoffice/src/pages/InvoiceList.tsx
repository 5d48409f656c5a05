import { Link } from "react-router";
import { api, ok, type Schemas } from "../api/client";
import { DataTable, type Column } from "../components/DataTable";
import { PageHeader } from "../components/Page";
import { ErrorState } from "../components/States";
import { formatDate, formatDkk } from "../lib/format";
import { lookup } from "../lib/labels";
import { useApi } from "../lib/useApi";
import {
  CursorPager,
  FilterBar,
  INVOICE_KIND,
  OpsBadge,
  formatPeriod,
  opsStatusText,
  opsStatuses,
  shortId,
  useCursor,
  useFilters,
} from "./opsShared";

type Invoice = Schemas["InvoiceSummary"];
type InvoiceStatus = "issued" | "partly_paid" | "paid" | "credited";
const LIMIT = 50;

export const invoiceColumns: Column<Invoice>[] = [
  {
    key: "number",
    header: "Nummer",
    cell: (i) => (
      <Link to={`/invoices/${i.invoice_id}`} className="link font-mono">
        {i.number}
      </Link>
    ),
    sortValue: (i) => i.number,
  },
  { key: "kind", header: "Type", cell: (i) => lookup(INVOICE_KIND, i.kind), sortValue: (i) => i.kind },
  {
    key: "account",
    header: "Betalerkonto",
    cell: (i) => (
      <span className="font-mono text-sm" title={i.account_id}>
        {shortId(i.account_id)}
      </span>
    ),
    sortValue: (i) => i.account_id,
  },
  { key: "period", header: "Periode", cell: (i) => formatPeriod(i.period_start, i.period_end), sortValue: (i) => i.period_start },
  { key: "issue_date", header: "Udstedt", cell: (i) => formatDate(i.issue_date), sortValue: (i) => i.issue_date },
  { key: "due_date", header: "Forfald", cell: (i) => formatDate(i.due_date), sortValue: (i) => i.due_date },
  { key: "total", header: "Total", cell: (i) => formatDkk(i.total), sortValue: (i) => Number(i.total), align: "right" },
  { key: "amount_due", header: "Til betaling", cell: (i) => formatDkk(i.amount_due), sortValue: (i) => Number(i.amount_due), align: "right" },
  { key: "status", header: "Status", cell: (i) => <OpsBadge kind="invoice" status={i.status} />, sortValue: (i) => i.status },
];

export function InvoiceList() {
  const { values, apply, key } = useFilters(["status", "account", "customer", "cycle"]);
  const cursor = useCursor<string>(key);
  const status = opsStatuses("invoice").includes(values.status) ? (values.status as InvoiceStatus) : undefined;
  const list = useApi(
    () =>
      ok(
        api.GET("/api/invoices", {
          params: {
            query: {
              status,
              account: values.account || undefined,
              customer: values.customer || undefined,
              cycle: values.cycle || undefined,
              after: cursor.after,
              limit: LIMIT,
            },
          },
        }),
      ),
    [key, cursor.after],
  );
  const next = list.data?.next;
  return (
    <>
      <PageHeader title="Fakturaer" />
      <FilterBar
        key={key}
        values={values}
        onApply={apply}
        fields={[
          { name: "status", label: "Status", options: opsStatuses("invoice").map((s) => ({ value: s, label: opsStatusText("invoice", s) })) },
          { name: "account", label: "Betalerkonto", placeholder: "konto-id" },
          { name: "customer", label: "Kunde", placeholder: "kunde-id" },
          { name: "cycle", label: "Afregningsperiode", placeholder: "ÅÅÅÅ-MM eller ÅÅÅÅ-Qn" },
        ]}
      />
      {list.error !== undefined ? (
        <ErrorState error={list.error} onRetry={list.reload} />
      ) : (
        <>
          <DataTable
            caption="Fakturaer"
            columns={invoiceColumns}
            rows={list.data?.items ?? []}
            rowKey={(i) => i.invoice_id}
            rowHref={(i) => `/invoices/${i.invoice_id}`}
            busy={list.loading}
            pageSize={LIMIT}
            empty={list.loading ? "Henter…" : "Ingen fakturaer matcher."}
          />
          <CursorPager caption="Fakturaer" page={cursor.page} hasNext={Boolean(next)} onNext={() => next && cursor.next(next)} onPrev={cursor.prev} />
        </>
      )}
    </>
  );
}
