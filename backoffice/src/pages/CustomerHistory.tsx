import { useState } from "react";
import { api, ok, type Schemas } from "../api/client";
import { DataTable, type Column } from "../components/DataTable";
import { Section } from "../components/Page";
import { Loaded } from "../components/States";
import { formatDateTime } from "../lib/format";
import { useApi } from "../lib/useApi";

type Entry = Schemas["PortfolioHistoryEntry"];

const KIND: Record<Entry["kind"], string> = {
  profile_updated: "Kundeoplysninger",
  signup_registered: "Tilmelding",
  signup_rejected: "Afvist tilmelding",
  signup_cancelled: "Annulleret tilmelding",
  supply_activated: "Levering startet",
  supply_ended: "Levering ophørt",
  product_changed: "Produktskift",
  invoice_issued: "Faktura",
  credit_note_issued: "Kreditnota",
  payment_received: "Betaling",
  payment_overdue: "Overskredet forfald",
  gdpr: "GDPR",
};

const columns: Column<Entry>[] = [
  { key: "when", header: "Tidspunkt", cell: (e) => formatDateTime(e.occurred_at) },
  { key: "kind", header: "Hændelse", cell: (e) => KIND[e.kind] },
  { key: "what", header: "Beskrivelse", cell: (e) => e.description_da },
  { key: "who", header: "Udført af", cell: (e) => (e.performed_by === "system" ? "System" : e.performed_by) },
  { key: "correlation", header: "Korrelations-id", cell: (e) => <span className="font-mono text-xs">{e.correlation_id ?? "–"}</span> },
];

/** The customer's history, oldest first, a page at a time (keyset: the API's next_cursor). */
export function CustomerHistory({ customerId }: { customerId: string }) {
  const [after, setAfter] = useState<string[]>([]);
  const cursor = after[after.length - 1];
  const page = useApi(
    () =>
      ok(
        api.GET("/api/customers/{customer_id}/history", {
          params: { path: { customer_id: customerId }, query: { after: cursor, limit: 50 } },
        }),
      ),
    [customerId, cursor],
  );
  return (
    <Section title="Historik">
      <Loaded state={page}>
        {(h) => (
          <>
            <DataTable caption="Kundens historik" columns={columns} rows={h.items} rowKey={(e) => String(e.entry_id)} empty="Ingen hændelser endnu." />
            <div className="mt-2 flex gap-2">
              {after.length > 0 && (
                <button type="button" className="btn-secondary" onClick={() => setAfter(after.slice(0, -1))}>
                  Forrige
                </button>
              )}
              {h.next_cursor && (
                <button type="button" className="btn-secondary" onClick={() => setAfter([...after, h.next_cursor as string])}>
                  Næste
                </button>
              )}
            </div>
          </>
        )}
      </Loaded>
    </Section>
  );
}
