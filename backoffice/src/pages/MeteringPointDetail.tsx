import { useParams } from "react-router";
import { ApiError, api, ok, type Schemas } from "../api/client";
import { DataTable, type Column } from "../components/DataTable";
import { Facts, PageHeader, Section } from "../components/Page";
import { Loaded } from "../components/States";
import { formatDate, formatDkk, formatKwh } from "../lib/format";
import { SETTLEMENT_LINE, lookup } from "../lib/labels";
import { useApi } from "../lib/useApi";
import { Consumption } from "./Consumption";

type Settlement = Schemas["SettlementWithCorrections"];

const settlementColumns: Column<Settlement>[] = [
  { key: "billing_period", header: "Periode", cell: (s) => s.billing_period, sortValue: (s) => s.billing_period },
  { key: "from", header: "Fra", cell: (s) => formatDate(s.period.start) },
  { key: "to", header: "Til (ekskl.)", cell: (s) => formatDate(s.period.end) },
  { key: "kwh", header: "Forbrug", cell: (s) => formatKwh(s.consumption_kwh), sortValue: (s) => Number(s.consumption_kwh), align: "right" },
  { key: "total", header: "I alt inkl. moms", cell: (s) => formatDkk(s.total), sortValue: (s) => Number(s.total), align: "right" },
  { key: "current_total", header: "I alt med rettelser", cell: (s) => formatDkk(s.current_total), align: "right" },
  { key: "invoiced", header: "Faktureret", cell: (s) => (s.invoice_id ? "Ja" : "Nej") },
];

/** A metering point's settled lines, one table per settlement. */
export function SettlementLines({ settlements }: { settlements: Settlement[] }) {
  if (settlements.length === 0) return <p className="text-slate-600">Ingen afregninger endnu.</p>;
  return (
    <>
      <DataTable caption="Afregninger" columns={settlementColumns} rows={settlements} rowKey={(s) => s.settlement_id} />
      {settlements.map((s) => (
        <details key={s.settlement_id} className="mt-3 rounded-md border border-slate-200 bg-white p-3">
          <summary className="cursor-pointer font-medium">Linjer for {s.billing_period}</summary>
          <table className="mt-2 w-full text-left">
            <caption className="sr-only">Afregningslinjer {s.billing_period}</caption>
            <thead>
              <tr className="text-sm text-slate-700">
                <th scope="col" className="py-1">Linje</th>
                <th scope="col" className="py-1 text-right">Mængde</th>
                <th scope="col" className="py-1 text-right">Beløb</th>
              </tr>
            </thead>
            <tbody>
              {s.lines.map((l) => (
                <tr key={l.code} className="border-t border-slate-200">
                  <td className="py-1">{lookup(SETTLEMENT_LINE, l.code)}</td>
                  <td className="py-1 text-right tabular-nums">
                    {l.quantity_kwh != null ? formatKwh(l.quantity_kwh) : l.days != null ? `${l.days} dage` : "–"}
                  </td>
                  <td className="py-1 text-right tabular-nums">{formatDkk(l.amount)}</td>
                </tr>
              ))}
              <tr className="border-t border-slate-300 font-medium">
                <td className="py-1">Moms</td>
                <td />
                <td className="py-1 text-right tabular-nums">{formatDkk(s.vat)}</td>
              </tr>
              <tr className="font-semibold">
                <td className="py-1">I alt</td>
                <td />
                <td className="py-1 text-right tabular-nums">{formatDkk(s.total)}</td>
              </tr>
            </tbody>
          </table>
        </details>
      ))}
    </>
  );
}

/** A point's settlements; settlement not knowing the point (404) means none yet. */
export async function settlementsOf(gsrn: string): Promise<Schemas["MeteringPointSettlements"]> {
  try {
    return await ok(api.GET("/api/settlement/metering-points/{gsrn}/settlements", { params: { path: { gsrn } } }));
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return { gsrn, settlements: [] };
    throw err;
  }
}

function latestPeriod(settlements: Settlement[]): string | undefined {
  return settlements.map((s) => s.billing_period).sort().at(-1);
}

export function MeteringPointDetail() {
  const { gsrn = "" } = useParams();
  const point = useApi(() => ok(api.GET("/api/portfolio/metering-points/{gsrn}", { params: { path: { gsrn } } })), [gsrn]);
  const settlements = useApi(() => settlementsOf(gsrn), [gsrn]);
  return (
    <>
      <PageHeader title={`Målepunkt ${gsrn}`} />
      <Section title="Stamdata">
        <Loaded state={point}>
          {(p) => (
            <Facts
              items={[
                ["GSRN", <span className="font-mono">{p.gsrn}</span>],
                ["Netområde", p.grid_area],
                ["Prisområde", p.price_area],
                ["Type", p.metering_point_type],
                ["Afregningsmetode", p.settlement_method ?? "–"],
                ["Opløsning", p.resolution === "PT15M" ? "15 minutter" : "1 time"],
              ]}
            />
          )}
        </Loaded>
      </Section>
      <Section title="Afregninger">
        <Loaded state={settlements}>{(s) => <SettlementLines settlements={s.settlements} />}</Loaded>
      </Section>
      <Section title="Forbrug">
        <Loaded state={settlements}>
          {(s) => <Consumption gsrn={gsrn} initialMonth={latestPeriod(s.settlements) ?? ""} />}
        </Loaded>
      </Section>
    </>
  );
}
