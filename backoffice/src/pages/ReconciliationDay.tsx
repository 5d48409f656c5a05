import { Link, useParams } from "react-router";
import { api, ok, type Schemas } from "../api/client";
import { DataTable, type Column } from "../components/DataTable";
import { PageHeader, Section } from "../components/Page";
import { Loaded } from "../components/States";
import { formatDate, formatDateTime, formatKwh } from "../lib/format";
import { lookup } from "../lib/labels";
import { useApi } from "../lib/useApi";
import { OpsBadge } from "./opsShared";
import { MP_TYPE, SETTLEMENT_METHOD } from "./Reconciliation";

type Hour = Schemas["HourOut"];

const hourColumns: Column<Hour>[] = [
  { key: "hour", header: "Time", cell: (h) => formatDateTime(h.hour_start), sortValue: (h) => h.hour_start },
  {
    key: "type",
    header: "Type",
    cell: (h) => `${lookup(MP_TYPE, h.metering_point_type)}${h.settlement_method ? `, ${lookup(SETTLEMENT_METHOD, h.settlement_method)}` : ""}`,
  },
  { key: "ours", header: "Vores", cell: (h) => formatKwh(h.ours_kwh), align: "right" },
  { key: "datahub", header: "DataHub", cell: (h) => formatKwh(h.datahub_kwh), align: "right" },
  { key: "deviation", header: "Forskel", cell: (h) => formatKwh(h.deviation_kwh), sortValue: (h) => Math.abs(Number(h.deviation_kwh ?? 0)), align: "right" },
  { key: "points", header: "Målepunkter", cell: (h) => `${h.points} (${h.points_missing} mangler)`, align: "right" },
  { key: "status", header: "Status", cell: (h) => <OpsBadge kind="reconciliation" status={h.status} />, sortValue: (h) => h.status },
];

export function ReconciliationDay() {
  const { gridArea = "", date = "" } = useParams();
  const day = useApi(
    () => ok(api.GET("/api/reconciliation/results/{grid_area}/{local_date}", { params: { path: { grid_area: gridArea, local_date: date } } })),
    [gridArea, date],
  );
  return (
    <Loaded state={day}>
      {(d) => (
        <>
          <PageHeader title={`Energiafstemning ${d.grid_area}, ${formatDate(d.local_date)}`}>
            <Link to={`/reconciliation?grid_area=${d.grid_area}`} className="link">
              Alle dage i netområde {d.grid_area}
            </Link>
          </PageHeader>
          <Section title="Timer">
            <DataTable
              caption="Timer"
              columns={hourColumns}
              rows={d.hours}
              rowKey={(h) => `${h.metering_point_type}:${h.settlement_method ?? ""}:${h.position}`}
              pageSize={100}
              empty="Ingen timer."
            />
          </Section>
        </>
      )}
    </Loaded>
  );
}
