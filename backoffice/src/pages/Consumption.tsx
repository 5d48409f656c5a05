import { useState } from "react";
import { ApiError, api, ok, type Schemas } from "../api/client";
import { DataTable, type Column } from "../components/DataTable";
import { EmptyState, Loaded } from "../components/States";
import { formatDate, formatKwh } from "../lib/format";
import { useApi } from "../lib/useApi";

type Point = Schemas["ConsumptionPoint"];

const columns: Column<Point>[] = [
  { key: "day", header: "Dag", cell: (p) => formatDate(p.start.slice(0, 10)), sortValue: (p) => p.start },
  { key: "kwh", header: "Forbrug", cell: (p) => formatKwh(p.kwh), sortValue: (p) => (p.kwh === null ? null : Number(p.kwh)), align: "right" },
  { key: "quality", header: "Kvalitet", cell: (p) => (p.quality === "A05" ? `Ufuldstændig (${p.missing_intervals} mangler)` : p.quality === "A02" ? "Mangler" : "Målt") },
];

/** The first day of *month* (YYYY-MM) and of the month after: the API's [from, to). */
function monthRange(month: string): { from: string; to: string } {
  const [y, m] = month.split("-").map(Number) as [number, number];
  const next = m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, "0")}`;
  return { from: `${month}-01`, to: `${next}-01` };
}

/** A metering point's metered consumption, day by day over one month (settlement's data).
 * Without *initialMonth* (nothing settled yet) nothing is asked until a month is chosen: the
 * market's month is the simulator's or DataHub's, not the browser's. */
export function Consumption({ gsrn, initialMonth }: { gsrn: string; initialMonth: string }) {
  const [month, setMonth] = useState(initialMonth);
  const consumption = useApi(async () => {
    if (!/^\d{4}-\d{2}$/.test(month)) return null;
    try {
      return await ok(
        api.GET("/api/metering-points/{gsrn}/consumption", {
          params: { path: { gsrn }, query: { ...monthRange(month), resolution: "P1D" } },
        }),
      );
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return null; // no metering data that month
      throw err;
    }
  }, [gsrn, month]);
  return (
    <div>
      <label className="mb-3 flex w-56 flex-col gap-1 text-sm font-medium">
        Måned
        <input type="month" className="input" value={month} onChange={(e) => setMonth(e.target.value)} />
      </label>
      <Loaded state={consumption}>
        {(c) =>
          c === null ? (
            <EmptyState>{month ? "Ingen måledata for måneden." : "Vælg en måned for at se forbruget."}</EmptyState>
          ) : (
            <>
              <p className="mb-2">
                I alt: <strong data-testid="consumption-total">{formatKwh(c.total_kwh)}</strong>
                {!c.complete && <span className="ml-2 text-amber-800">(ufuldstændig: {c.missing_intervals} intervaller mangler)</span>}
              </p>
              <DataTable caption={`Forbrug ${month}`} columns={columns} rows={c.points} rowKey={(p) => p.start} pageSize={31} />
            </>
          )
        }
      </Loaded>
    </div>
  );
}
