import { useParams } from "react-router";
import { api, ok, type Schemas } from "../api/client";
import { DataTable, type Column } from "../components/DataTable";
import { Facts, PageHeader, Section } from "../components/Page";
import { Loaded } from "../components/States";
import { formatDate, formatDkk, formatDkkPerKwh } from "../lib/format";
import { PRICE_TYPE, lookup } from "../lib/labels";
import { useApi } from "../lib/useApi";
import { ChannelPrices } from "./ChannelPrices";

type Version = Schemas["PortfolioPrices"];

const versionColumns: Column<Version>[] = [
  { key: "version", header: "Version", cell: (v) => v.version, sortValue: (v) => v.version, align: "right" },
  { key: "valid_from", header: "Gælder fra", cell: (v) => formatDate(v.valid_from), sortValue: (v) => v.valid_from },
  { key: "price_type", header: "Pristype", cell: (v) => lookup(PRICE_TYPE, v.price_type) },
  { key: "margin", header: "Tillæg", cell: (v) => formatDkkPerKwh(v.margin_dkk_per_kwh), align: "right" },
  { key: "fixed", header: "Fastpris", cell: (v) => formatDkkPerKwh(v.fixed_price_dkk_per_kwh), align: "right" },
  { key: "subscription", header: "Abonnement pr. måned", cell: (v) => formatDkk(v.subscription_dkk_per_month), align: "right" },
];

export function ProductDetail() {
  const { id = "" } = useParams();
  const product = useApi(() => ok(api.GET("/api/products/{product_id}", { params: { path: { product_id: id } } })), [id]);
  return (
    <Loaded state={product}>
      {(p) => (
        <>
          <PageHeader title={p.name}>{p.description}</PageHeader>
          <Section title="Produkt">
            <Facts
              items={[
                ["Aktiv", p.active ? "Ja" : "Nej"],
                ["Grøn strøm", p.green_energy ? "Ja" : "Nej"],
                ["Rækkefølge", p.display_order],
                ["Pristype i dag", lookup(PRICE_TYPE, p.price_type)],
                ["Tillæg i dag", formatDkkPerKwh(p.margin_dkk_per_kwh)],
                ["Abonnement i dag", formatDkk(p.subscription_dkk_per_month)],
                ["Næste prisændring", p.next_version ? formatDate(p.next_version.valid_from) : "Ingen"],
              ]}
            />
          </Section>
          <Section title="Prisversioner">
            <DataTable caption="Prisversioner" columns={versionColumns} rows={p.versions} rowKey={(v) => String(v.version)} />
          </Section>
          <ChannelPrices productId={p.product_id} priceType={p.price_type ?? p.versions[p.versions.length - 1]?.price_type ?? "spot"} />
        </>
      )}
    </Loaded>
  );
}
