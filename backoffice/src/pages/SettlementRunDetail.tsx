import { useState } from "react";
import { Link, useParams } from "react-router";
import { api, ok, type Schemas } from "../api/client";
import { DataTable, type Column } from "../components/DataTable";
import { Facts, PageHeader, Section } from "../components/Page";
import { ErrorState, Loaded } from "../components/States";
import { formatDateTime, formatDkk, formatKwh } from "../lib/format";
import { lookup } from "../lib/labels";
import { useApi } from "../lib/useApi";
import { LINE_CODE, OpsBadge, RUN_TRIGGER, formatPeriod, shortId } from "./opsShared";

type Settlement = Schemas["SettlementOut"];
type Blocked = Schemas["BlockedItem"];
const PAGE_SIZE = 50;

const gsrnLink = (gsrn: string) => (
  <Link to={`/metering-points/${gsrn}`} className="link font-mono">
    {gsrn}
  </Link>
);

const settlementColumns: Column<Settlement>[] = [
  { key: "gsrn", header: "GSRN", cell: (s) => gsrnLink(s.gsrn), sortValue: (s) => s.gsrn },
  { key: "period", header: "Periode", cell: (s) => formatPeriod(s.period.start, s.period.end), sortValue: (s) => s.period.start },
  { key: "kwh", header: "Forbrug", cell: (s) => formatKwh(s.consumption_kwh), sortValue: (s) => Number(s.consumption_kwh), align: "right" },
  {
    key: "lines",
    header: "Linjer",
    cell: (s) => (
      <ul className="text-sm">
        {s.lines.map((l) => (
          <li key={l.code} className="flex justify-between gap-4">
            <span>
              {lookup(LINE_CODE, l.code)}
              {l.quantity_kwh !== null && <span className="text-slate-600"> ({formatKwh(l.quantity_kwh)})</span>}
              {l.days !== null && <span className="text-slate-600"> ({l.days} dage)</span>}
            </span>
            <span className="tabular-nums">{formatDkk(l.amount)}</span>
          </li>
        ))}
      </ul>
    ),
  },
  { key: "subtotal", header: "Beløb ekskl. moms", cell: (s) => formatDkk(s.subtotal), sortValue: (s) => Number(s.subtotal), align: "right" },
  { key: "vat", header: "Moms", cell: (s) => formatDkk(s.vat), align: "right" },
  { key: "total", header: "Total", cell: (s) => formatDkk(s.total), sortValue: (s) => Number(s.total), align: "right" },
  {
    key: "invoice",
    header: "Faktura",
    cell: (s) =>
      s.invoice_id ? (
        <Link to={`/invoices/${s.invoice_id}`} className="link">
          Se faktura
        </Link>
      ) : s.credited ? (
        "Krediteret"
      ) : (
        "Ikke faktureret"
      ),
  },
];

const blockedColumns: Column<Blocked>[] = [
  { key: "gsrn", header: "GSRN", cell: (b) => gsrnLink(b.gsrn), sortValue: (b) => b.gsrn },
  { key: "reason", header: "Årsag", cell: (b) => b.reason, sortValue: (b) => b.reason },
];

export function SettlementRunDetail() {
  const { id = "" } = useParams();
  const [page, setPage] = useState(1);
  const run = useApi(() => ok(api.GET("/api/settlement/runs/{run_id}", { params: { path: { run_id: id } } })), [id]);
  const lines = useApi(
    () =>
      ok(api.GET("/api/settlement/runs/{run_id}/lines", { params: { path: { run_id: id }, query: { page, page_size: PAGE_SIZE } } })),
    [id, page],
  );
  return (
    <Loaded state={run}>
      {(r) => (
        <>
          <PageHeader title={`Afregningskørsel ${r.billing_period}`}>
            <span className="font-mono text-sm">{r.run_id}</span>
          </PageHeader>
          <Section title="Kørslen">
            <Facts
              items={[
                ["Status", <OpsBadge kind="run" status={r.status} />],
                ["Periode", r.billing_period],
                ["Netområde", r.grid_area ?? "Alle"],
                ["Startet af", lookup(RUN_TRIGGER, r.trigger)],
                ["Fremdrift", `${r.progress.done} af ${r.progress.total}`],
                ["Afregnet", String(r.progress.settled)],
                ["Allerede afregnet", String(r.progress.already_settled)],
                ["Blokeret", String(r.progress.blocked)],
                ["Forsøg", String(r.attempts)],
                ["Årsag", r.reason ?? "–"],
                ["Anmodet", formatDateTime(r.requested_at)],
                ["Startet", formatDateTime(r.started_at)],
                ["Færdig", formatDateTime(r.finished_at)],
              ]}
            />
          </Section>
          {r.blocked.length > 0 && (
            <Section title="Blokerede målepunkter">
              <DataTable caption="Blokerede målepunkter" columns={blockedColumns} rows={r.blocked} rowKey={(b) => b.gsrn} />
            </Section>
          )}
          <Section title="Afregninger">
            {lines.error !== undefined ? (
              <ErrorState error={lines.error} onRetry={lines.reload} />
            ) : (
              <DataTable
                caption="Afregninger"
                columns={settlementColumns}
                rows={lines.data?.items ?? []}
                rowKey={(s) => s.settlement_id}
                busy={lines.loading}
                empty={lines.loading ? "Henter…" : "Kørslen har ingen afregninger."}
                paging={lines.data && { page: lines.data.page, pageSize: lines.data.page_size, total: lines.data.total, onPage: setPage }}
              />
            )}
          </Section>
          <p className="text-sm text-slate-600">
            Kørsel <span title={r.run_id}>{shortId(r.run_id)}</span> · <Link to="/settlement/runs" className="link">Alle kørsler</Link>
          </p>
        </>
      )}
    </Loaded>
  );
}
