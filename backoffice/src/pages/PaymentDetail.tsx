import { Link, useParams } from "react-router";
import { api, ok, type Schemas } from "../api/client";
import { DataTable, type Column } from "../components/DataTable";
import { Facts, PageHeader, Section } from "../components/Page";
import { Loaded } from "../components/States";
import { formatDate, formatDkk } from "../lib/format";
import { lookup } from "../lib/labels";
import { useApi } from "../lib/useApi";
import { OpsBadge, PAYMENT_SOURCE } from "./opsShared";

type Allocation = Schemas["AllocationOut"];

const allocationColumns: Column<Allocation>[] = [
  {
    key: "number",
    header: "Faktura",
    cell: (a) => (
      <Link to={`/invoices/${a.invoice_id}`} className="link font-mono">
        {a.number}
      </Link>
    ),
    sortValue: (a) => a.number,
  },
  { key: "amount", header: "Beløb", cell: (a) => formatDkk(a.amount), sortValue: (a) => Number(a.amount), align: "right" },
];

export function PaymentDetail() {
  const { id = "" } = useParams();
  const payment = useApi(() => ok(api.GET("/api/payments/{payment_id}", { params: { path: { payment_id: id } } })), [id]);
  return (
    <Loaded state={payment}>
      {(p) => (
        <>
          <PageHeader title={`Betaling ${formatDkk(p.amount)}`}>
            <OpsBadge kind="payment" status={p.status} />
          </PageHeader>
          <Section title="Oplysninger">
            <Facts
              items={[
                ["Betalings-id", <span className="font-mono text-sm">{p.payment_id}</span>],
                ["Modtaget", formatDate(p.received_on)],
                ["Beløb", formatDkk(p.amount)],
                ["Kilde", lookup(PAYMENT_SOURCE, p.source)],
                ["Reference", p.reference || "–"],
                [
                  "Betalerkonto",
                  p.account_id ? (
                    <Link to={`/invoices?account=${encodeURIComponent(p.account_id)}`} className="link font-mono text-sm" title="Kontoens fakturaer">
                      {p.account_id}
                    </Link>
                  ) : (
                    "Ukendt"
                  ),
                ],
                ["Status", <OpsBadge kind="payment" status={p.status} />],
                ["Ufordelt beløb", formatDkk(p.unallocated)],
              ]}
            />
          </Section>
          <Section title="Fordelt på fakturaer">
            <DataTable caption="Fordelinger" columns={allocationColumns} rows={p.allocations} rowKey={(a) => a.invoice_id} empty="Betalingen er ikke fordelt på nogen faktura." />
          </Section>
        </>
      )}
    </Loaded>
  );
}
