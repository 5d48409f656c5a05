import { api, ok, type Schemas } from "../api/client";
import { DataTable, type Column } from "../components/DataTable";
import { PageHeader, Section } from "../components/Page";
import { ErrorState } from "../components/States";
import { formatDate, formatDkk } from "../lib/format";
import { useApi } from "../lib/useApi";
import { invoiceColumns } from "./InvoiceList";
import { FilterBar, useFilters } from "./opsShared";

type Claim = Schemas["ClaimOut"];
type Invoice = Schemas["InvoiceSummary"];

const claimColumns: Column<Claim>[] = [
  { key: "number", header: "Faktura", cell: (c) => <span className="font-mono">{c.number}</span>, sortValue: (c) => c.number },
  { key: "account_number", header: "Kontonummer", cell: (c) => c.account_number, sortValue: (c) => c.account_number },
  { key: "due_date", header: "Forfald", cell: (c) => formatDate(c.due_date), sortValue: (c) => c.due_date },
  { key: "reminders", header: "Rykkere", cell: (c) => c.reminders, sortValue: (c) => c.reminders, align: "right" },
  { key: "amount_due", header: "Fakturabeløb", cell: (c) => formatDkk(c.amount_due), align: "right" },
  { key: "fees", header: "Gebyrer", cell: (c) => formatDkk(c.fees), sortValue: (c) => Number(c.fees), align: "right" },
  { key: "interest", header: "Renter", cell: (c) => formatDkk(c.interest), sortValue: (c) => Number(c.interest), align: "right" },
  { key: "outstanding", header: "Udestående", cell: (c) => formatDkk(c.outstanding), sortValue: (c) => Number(c.outstanding), align: "right" },
  { key: "handed_off_on", header: "Overdraget", cell: (c) => formatDate(c.handed_off_on), sortValue: (c) => c.handed_off_on },
];

// Today in Denmark (the browser's clock, not a simulated market's), as YYYY-MM-DD.
const today = () => new Date().toLocaleDateString("sv-SE", { timeZone: "Europe/Copenhagen" });

/** Open invoices due before *cutoff*, every page of them (bounded). */
async function overdueInvoices(cutoff: string): Promise<Invoice[]> {
  const found: Invoice[] = [];
  for (const status of ["issued", "partly_paid"] as const) {
    let after: string | undefined;
    for (let guard = 0; guard < 20; guard++) {
      const page = await ok(api.GET("/api/invoices", { params: { query: { status, after, limit: 500 } } }));
      found.push(...page.items.filter((i) => i.kind === "invoice" && i.due_date < cutoff && Number(i.amount_due) > 0));
      if (!page.next) break;
      after = page.next;
    }
  }
  return found.sort((a, b) => a.due_date.localeCompare(b.due_date));
}

export function Dunning() {
  const { values, apply, key } = useFilters(["since", "due_before"]);
  const cutoff = /^\d{4}-\d{2}-\d{2}$/.test(values.due_before) ? values.due_before : today();
  const claims = useApi(() => ok(api.GET("/api/dunning/collection", { params: { query: { since: values.since || undefined } } })), [key]);
  const overdue = useApi(() => overdueInvoices(cutoff), [cutoff]);
  return (
    <>
      <PageHeader
        title="Rykkere og inkasso"
        actions={
          <a href={`/api/dunning/collection.csv${values.since ? `?since=${values.since}` : ""}`} className="btn-secondary" download>
            Hent inkassofil (CSV)
          </a>
        }
      />
      <FilterBar
        key={key}
        values={values}
        onApply={apply}
        fields={[
          { name: "due_before", label: "Forfaldne før", type: "date" },
          { name: "since", label: "Overdraget siden", type: "date" },
        ]}
      />
      <Section title="Forfaldne fakturaer">
        <p className="mb-2 text-sm text-slate-700">Åbne fakturaer med forfald før {formatDate(cutoff)}.</p>
        {overdue.error !== undefined ? (
          <ErrorState error={overdue.error} onRetry={overdue.reload} />
        ) : (
          <DataTable
            caption="Forfaldne fakturaer"
            columns={invoiceColumns}
            rows={overdue.data ?? []}
            rowKey={(i) => i.invoice_id}
            rowHref={(i) => `/invoices/${i.invoice_id}`}
            busy={overdue.loading}
            empty={overdue.loading ? "Henter…" : "Ingen forfaldne fakturaer."}
          />
        )}
      </Section>
      <Section title="Overdraget til inkasso">
        {claims.error !== undefined ? (
          <ErrorState error={claims.error} onRetry={claims.reload} />
        ) : (
          <DataTable
            caption="Overdraget til inkasso"
            columns={claimColumns}
            rows={claims.data ?? []}
            rowKey={(c) => c.number}
            busy={claims.loading}
            empty={claims.loading ? "Henter…" : "Ingen krav er overdraget til inkasso."}
          />
        )}
      </Section>
    </>
  );
}
