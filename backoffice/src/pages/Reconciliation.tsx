import { Link } from "react-router";
import { api, ok, type Schemas } from "../api/client";
import { DataTable, type Column } from "../components/DataTable";
import { PageHeader, Section } from "../components/Page";
import { ErrorState } from "../components/States";
import { formatDate, formatDkk, formatKwh } from "../lib/format";
import { lookup } from "../lib/labels";
import { useApi } from "../lib/useApi";
import { CHARGE_TYPE, CursorPager, FilterBar, OpsBadge, opsStatusText, opsStatuses, useCursor, useFilters } from "./opsShared";

type Day = Schemas["DayResultOut"];
type Wholesale = Schemas["WholesaleResultOut"];
type Status = "matched" | "deviation" | "missing_ours" | "missing_datahub";
const LIMIT = 50;

export const MP_TYPE: Record<string, string> = { E17: "Forbrug", E18: "Produktion", E20: "Udveksling" };
export const SETTLEMENT_METHOD: Record<string, string> = { E01: "Skabelon", E02: "Timeafregnet", D01: "Flex" };

const dayColumns: Column<Day>[] = [
  { key: "grid_area", header: "Netområde", cell: (d) => d.grid_area, sortValue: (d) => d.grid_area },
  {
    key: "local_date",
    header: "Dag",
    cell: (d) => (
      <Link to={`/reconciliation/energy/${d.grid_area}/${d.local_date}`} className="link">
        {formatDate(d.local_date)}
      </Link>
    ),
    sortValue: (d) => d.local_date,
  },
  {
    key: "type",
    header: "Type",
    cell: (d) => `${lookup(MP_TYPE, d.metering_point_type)}${d.settlement_method ? `, ${lookup(SETTLEMENT_METHOD, d.settlement_method)}` : ""}`,
  },
  { key: "ours", header: "Vores", cell: (d) => formatKwh(d.ours_kwh), align: "right" },
  { key: "datahub", header: "DataHub", cell: (d) => formatKwh(d.datahub_kwh), align: "right" },
  { key: "deviation", header: "Forskel", cell: (d) => formatKwh(d.deviation_kwh), sortValue: (d) => Math.abs(Number(d.deviation_kwh)), align: "right" },
  { key: "hours", header: "Timer afvigende", cell: (d) => d.hours_deviating + d.hours_missing_ours + d.hours_missing_datahub, align: "right" },
  { key: "status", header: "Status", cell: (d) => <OpsBadge kind="reconciliation" status={d.status} />, sortValue: (d) => d.status },
];

const wholesaleColumns: Column<Wholesale>[] = [
  { key: "grid_area", header: "Netområde", cell: (w) => w.grid_area, sortValue: (w) => w.grid_area },
  { key: "period", header: "Periode", cell: (w) => w.billing_period, sortValue: (w) => w.billing_period },
  {
    key: "charge",
    header: "Pris",
    cell: (w) => `${lookup(CHARGE_TYPE, w.charge_type)} ${w.charge_id} (${w.charge_owner_gln})`,
    sortValue: (w) => w.charge_id,
  },
  { key: "ours", header: "Vores", cell: (w) => formatDkk(w.ours_dkk), align: "right" },
  { key: "datahub", header: "DataHub", cell: (w) => formatDkk(w.datahub_dkk), align: "right" },
  { key: "deviation", header: "Forskel", cell: (w) => formatDkk(w.deviation_dkk), sortValue: (w) => Math.abs(Number(w.deviation_dkk ?? 0)), align: "right" },
  { key: "percent", header: "Forskel %", cell: (w) => (w.deviation_percent === null ? "–" : `${w.deviation_percent.replace(".", ",")} %`), align: "right" },
  { key: "status", header: "Status", cell: (w) => <OpsBadge kind="reconciliation" status={w.status} />, sortValue: (w) => w.status },
];

export function Reconciliation() {
  const { values, apply, key } = useFilters(["period", "grid_area", "status"]);
  const status = opsStatuses("reconciliation").includes(values.status) ? (values.status as Status) : undefined;
  const query = { period: values.period || undefined, grid_area: values.grid_area || undefined, status, limit: LIMIT };
  const energyCursor = useCursor<string>(key);
  const wholesaleCursor = useCursor<string>(key);
  const energy = useApi(
    () => ok(api.GET("/api/reconciliation/results", { params: { query: { ...query, after: energyCursor.after } } })),
    [key, energyCursor.after],
  );
  const wholesale = useApi(
    () => ok(api.GET("/api/reconciliation/wholesale", { params: { query: { ...query, after: wholesaleCursor.after } } })),
    [key, wholesaleCursor.after],
  );
  const energyNext = energy.data?.next;
  const wholesaleNext = wholesale.data?.next;
  return (
    <>
      <PageHeader title="Afstemning">Vores tal mod DataHubs: energi per netområde og dag, engros per pris og måned.</PageHeader>
      <FilterBar
        key={key}
        values={values}
        onApply={apply}
        fields={[
          { name: "period", label: "Periode", placeholder: "ÅÅÅÅ-MM", pattern: "\\d{4}-\\d{2}", title: "ÅÅÅÅ-MM, fx 2025-01" },
          { name: "grid_area", label: "Netområde", placeholder: "fx 344", pattern: "\\d{3}", title: "3 cifre" },
          { name: "status", label: "Status", options: opsStatuses("reconciliation").map((s) => ({ value: s, label: opsStatusText("reconciliation", s) })) },
        ]}
      />
      <Section title="Energi">
        {energy.error !== undefined ? (
          <ErrorState error={energy.error} onRetry={energy.reload} />
        ) : (
          <>
            <DataTable
              caption="Energiafstemning"
              columns={dayColumns}
              rows={energy.data?.items ?? []}
              rowKey={(d) => `${d.grid_area}:${d.local_date}:${d.metering_point_type}:${d.settlement_method ?? ""}`}
              rowHref={(d) => `/reconciliation/energy/${d.grid_area}/${d.local_date}`}
              busy={energy.loading}
              pageSize={LIMIT}
              empty={energy.loading ? "Henter…" : "Ingen energiafstemninger matcher."}
            />
            <CursorPager caption="Energiafstemning" page={energyCursor.page} hasNext={Boolean(energyNext)} onNext={() => energyNext && energyCursor.next(energyNext)} onPrev={energyCursor.prev} />
          </>
        )}
      </Section>
      <Section title="Engros">
        {wholesale.error !== undefined ? (
          <ErrorState error={wholesale.error} onRetry={wholesale.reload} />
        ) : (
          <>
            <DataTable
              caption="Engrosafstemning"
              columns={wholesaleColumns}
              rows={wholesale.data?.items ?? []}
              rowKey={(w) => `${w.grid_area}:${w.billing_period}:${w.charge_owner_gln}:${w.charge_type}:${w.charge_id}`}
              busy={wholesale.loading}
              pageSize={LIMIT}
              empty={wholesale.loading ? "Henter…" : "Ingen engrosafstemninger matcher."}
            />
            <CursorPager caption="Engrosafstemning" page={wholesaleCursor.page} hasNext={Boolean(wholesaleNext)} onNext={() => wholesaleNext && wholesaleCursor.next(wholesaleNext)} onPrev={wholesaleCursor.prev} />
          </>
        )}
      </Section>
    </>
  );
}
