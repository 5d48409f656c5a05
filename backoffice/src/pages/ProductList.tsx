import { Link } from "react-router";
import { api, ok, type Schemas } from "../api/client";
import { DataTable, type Column } from "../components/DataTable";
import { PageHeader } from "../components/Page";
import { Loaded } from "../components/States";
import { formatDate, formatDkk, formatDkkPerKwh } from "../lib/format";
import { PRICE_TYPE, lookup } from "../lib/labels";
import { useSearchParams } from "react-router";
import { useApi } from "../lib/useApi";

type Row = Schemas["PortfolioProductOffer"];

const columns: Column<Row>[] = [
  {
    key: "name",
    header: "Produkt",
    cell: (r) => (
      <Link to={`/products/${r.product_id}`} className="link">
        {r.name}
      </Link>
    ),
    sortValue: (r) => r.name,
  },
  { key: "display_order", header: "Rækkefølge", cell: (r) => r.display_order, sortValue: (r) => r.display_order, align: "right" },
  { key: "price_type", header: "Pristype", cell: (r) => lookup(PRICE_TYPE, r.price_type), sortValue: (r) => r.price_type },
  {
    key: "margin",
    header: "Tillæg",
    cell: (r) => formatDkkPerKwh(r.margin_dkk_per_kwh),
    sortValue: (r) => Number(r.margin_dkk_per_kwh),
    align: "right",
  },
  {
    key: "fixed",
    header: "Fastpris",
    cell: (r) => formatDkkPerKwh(r.fixed_price_dkk_per_kwh),
    align: "right",
  },
  {
    key: "subscription",
    header: "Abonnement pr. måned",
    cell: (r) => formatDkk(r.subscription_dkk_per_month),
    sortValue: (r) => Number(r.subscription_dkk_per_month),
    align: "right",
  },
  { key: "green", header: "Grøn strøm", cell: (r) => (r.green_energy ? "Ja" : "Nej") },
  { key: "valid_from", header: "Gælder fra", cell: (r) => formatDate(r.valid_from), sortValue: (r) => r.valid_from },
  { key: "active", header: "Aktiv", cell: (r) => (r.active ? "Ja" : "Nej") },
];

export function ProductList() {
  const [params, setParams] = useSearchParams();
  const all = params.get("inactive") === "1";
  const products = useApi(() => ok(api.GET("/api/products", { params: { query: { include_inactive: all } } })), [all]);
  return (
    <>
      <PageHeader title="Produkter" />
      <label className="mb-4 flex items-center gap-2">
        <input type="checkbox" checked={all} onChange={(e) => setParams(e.target.checked ? { inactive: "1" } : {})} />
        Vis også inaktive produkter
      </label>
      <Loaded state={products}>
        {(rows) => (
          <DataTable
            caption="Produkter"
            columns={columns}
            rows={rows}
            rowKey={(r) => r.product_id}
            rowHref={(r) => `/products/${r.product_id}`}
            empty="Ingen produkter."
            searchText={(r) => `${r.name} ${r.description}`}
          />
        )}
      </Loaded>
    </>
  );
}
