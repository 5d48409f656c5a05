import { Link, useParams } from "react-router";
import { api, ok, type Schemas } from "../api/client";
import { DataTable, type Column } from "../components/DataTable";
import { Facts, PageHeader, Section } from "../components/Page";
import { ErrorState, Loaded } from "../components/States";
import { formatDate, formatDkk, formatDkkPerKwh, formatKwh } from "../lib/format";
import { lookup } from "../lib/labels";
import { useApi } from "../lib/useApi";
import { invoiceColumns } from "./InvoiceList";
import { INVOICE_KIND, LINE_CODE, OpsBadge, formatPeriod } from "./opsShared";

type Detail = Schemas["InvoiceDetail"];
type Line = Schemas["InvoiceLineOut"];
type Summary = Schemas["InvoiceSummary"];

const lineColumns: Column<Line>[] = [
  {
    key: "gsrn",
    header: "GSRN",
    cell: (l) => (
      <Link to={`/metering-points/${l.gsrn}`} className="link font-mono">
        {l.gsrn}
      </Link>
    ),
    sortValue: (l) => l.gsrn,
  },
  { key: "period", header: "Periode", cell: (l) => formatPeriod(l.period_start, l.period_end), sortValue: (l) => l.period_start },
  { key: "code", header: "Linje", cell: (l) => lookup(LINE_CODE, l.code), sortValue: (l) => lookup(LINE_CODE, l.code) },
  {
    key: "quantity",
    header: "Mængde",
    cell: (l) => (l.quantity_kwh !== null ? formatKwh(l.quantity_kwh) : l.days !== null ? `${l.days} dage` : "–"),
    align: "right",
  },
  { key: "unit_price", header: "Enhedspris", cell: (l) => (l.unit_price === null ? "–" : formatDkkPerKwh(l.unit_price)), align: "right" },
  { key: "amount", header: "Beløb ekskl. moms", cell: (l) => formatDkk(l.amount), sortValue: (l) => Number(l.amount), align: "right" },
  { key: "vat", header: "Moms", cell: (l) => formatDkk(l.vat), align: "right" },
];

/** Every credit note correcting *invoice*: the account's documents, page by page. */
async function creditNotesOf(invoice: Detail): Promise<Summary[]> {
  const found: Summary[] = [];
  let after: string | undefined;
  for (let guard = 0; guard < 20; guard++) {
    const page = await ok(api.GET("/api/invoices", { params: { query: { account: invoice.account_id, after, limit: 500 } } }));
    found.push(...page.items.filter((i) => i.corrects_invoice_id === invoice.invoice_id));
    if (!page.next) break;
    after = page.next;
  }
  return found;
}

export function InvoiceDetail() {
  const { id = "" } = useParams();
  const invoice = useApi(
    async () => (await ok(api.GET("/api/invoices/{invoice_id}", { params: { path: { invoice_id: id } } }))) as Detail,
    [id],
  );
  return (
    <Loaded state={invoice}>
      {(inv) => (
        <>
          <PageHeader
            title={`${lookup(INVOICE_KIND, inv.kind)} ${inv.number}`}
            actions={
              <a href={`/api/invoices/${inv.invoice_id}.pdf`} target="_blank" rel="noopener" className="btn-primary">
                Åbn PDF
              </a>
            }
          >
            <OpsBadge kind="invoice" status={inv.status} />
          </PageHeader>
          <Section title="Oplysninger">
            <Facts
              items={[
                ["Nummer", inv.number],
                ["Type", lookup(INVOICE_KIND, inv.kind)],
                ["Status", <OpsBadge kind="invoice" status={inv.status} />],
                ["Kontonummer", String(inv.account_number)],
                [
                  "Betalerkonto",
                  <Link to={`/invoices?account=${encodeURIComponent(inv.account_id)}`} className="link font-mono text-sm" title="Kontoens fakturaer">
                    {inv.account_id}
                  </Link>,
                ],
                ["Afregningsperiode", inv.cycle ?? "–"],
                ["Periode", formatPeriod(inv.period_start, inv.period_end)],
                ["Udstedt", formatDate(inv.issue_date)],
                ["Forfald", formatDate(inv.due_date)],
                ["FI-kortlinje", inv.fi_code_line ? <span className="font-mono">{inv.fi_code_line}</span> : "–"],
                [
                  "Retter",
                  inv.corrects_invoice_id ? (
                    <Link to={`/invoices/${inv.corrects_invoice_id}`} className="link">
                      {inv.corrects_number ?? inv.corrects_invoice_id}
                    </Link>
                  ) : (
                    "–"
                  ),
                ],
              ]}
            />
          </Section>
          <Section title="Beløb">
            <Facts
              items={[
                ["Beløb ekskl. moms", formatDkk(inv.subtotal)],
                ["Moms", formatDkk(inv.vat)],
                ["Total", <strong>{formatDkk(inv.total)}</strong>],
                ["Betalt a conto", formatDkk(inv.aconto_paid)],
                ["Difference", formatDkk(inv.difference)],
                ["Næste a conto", formatDkk(inv.next_prepayment)],
                ["Til betaling", <strong>{formatDkk(inv.amount_due)}</strong>],
              ]}
            />
          </Section>
          <Section title="Linjer">
            <DataTable caption="Fakturalinjer" columns={lineColumns} rows={inv.lines} rowKey={(l) => `${l.source_id}:${l.code}`} pageSize={100} empty="Ingen linjer." />
          </Section>
          {inv.kind === "invoice" && <CreditNotes invoice={inv} />}
        </>
      )}
    </Loaded>
  );
}

function CreditNotes({ invoice }: { invoice: Detail }) {
  const notes = useApi(() => creditNotesOf(invoice), [invoice.invoice_id]);
  return (
    <Section title="Kreditnotaer">
      {notes.error !== undefined ? (
        <ErrorState error={notes.error} onRetry={notes.reload} />
      ) : (
        <DataTable
          caption="Kreditnotaer"
          columns={invoiceColumns}
          rows={notes.data ?? []}
          rowKey={(i) => i.invoice_id}
          rowHref={(i) => `/invoices/${i.invoice_id}`}
          busy={notes.loading}
          empty={notes.loading ? "Henter…" : "Ingen kreditnotaer til fakturaen."}
        />
      )}
    </Section>
  );
}
