// Every page of the back office: its route and, when it has one, its place in the navigation.
// Adding a page: a file in pages/, one entry here (with `nav` when it belongs in the menu).
import type { ReactNode } from "react";
import { ApiKeys } from "./pages/ApiKeys";
import { Audit } from "./pages/Audit";
import { DeadLetters } from "./pages/DeadLetters";
import { Dunning } from "./pages/Dunning";
import { InvoiceDetail } from "./pages/InvoiceDetail";
import { InvoiceList } from "./pages/InvoiceList";
import { PaymentDetail } from "./pages/PaymentDetail";
import { Payments } from "./pages/Payments";
import { PaymentSuspense } from "./pages/PaymentSuspense";
import { Reconciliation } from "./pages/Reconciliation";
import { ReconciliationDay } from "./pages/ReconciliationDay";
import { SettlementRunDetail } from "./pages/SettlementRunDetail";
import { SettlementRunList } from "./pages/SettlementRunList";
import { CustomerDetail } from "./pages/CustomerDetail";
import { CustomerList } from "./pages/CustomerList";
import { MeteringPointDetail } from "./pages/MeteringPointDetail";
import { ProductDetail } from "./pages/ProductDetail";
import { ProductList } from "./pages/ProductList";
import { SignupDetail } from "./pages/SignupDetail";
import { SignupList } from "./pages/SignupList";
import { SignupNew } from "./pages/SignupNew";

/** The menu's groups, in menu order. */
export const NAV_GROUPS = ["Kunder", "Produkter", "Økonomi", "Drift"] as const;
export type NavGroup = (typeof NAV_GROUPS)[number];

export interface PageRoute {
  path: string;
  element: ReactNode;
  nav?: { label: string; group: NavGroup };
}

export const ROUTES: PageRoute[] = [
  { path: "/signups", element: <SignupList />, nav: { label: "Tilmeldinger", group: "Kunder" } },
  { path: "/signups/new", element: <SignupNew />, nav: { label: "Ny tilmelding", group: "Kunder" } },
  { path: "/signups/:id", element: <SignupDetail /> },
  { path: "/customers", element: <CustomerList />, nav: { label: "Kunder", group: "Kunder" } },
  { path: "/customers/:id", element: <CustomerDetail /> },
  { path: "/metering-points/:gsrn", element: <MeteringPointDetail /> },
  { path: "/products", element: <ProductList />, nav: { label: "Produkter", group: "Produkter" } },
  { path: "/products/:id", element: <ProductDetail /> },
  { path: "/settlement/runs", element: <SettlementRunList />, nav: { label: "Afregningskørsler", group: "Økonomi" } },
  { path: "/settlement/runs/:id", element: <SettlementRunDetail /> },
  { path: "/invoices", element: <InvoiceList />, nav: { label: "Fakturaer", group: "Økonomi" } },
  { path: "/invoices/:id", element: <InvoiceDetail /> },
  { path: "/payments", element: <Payments />, nav: { label: "Betalinger", group: "Økonomi" } },
  { path: "/payments/suspense", element: <PaymentSuspense />, nav: { label: "Ikke-fordelte betalinger", group: "Økonomi" } },
  { path: "/payments/:id", element: <PaymentDetail /> },
  { path: "/dunning", element: <Dunning />, nav: { label: "Rykkere og inkasso", group: "Økonomi" } },
  { path: "/datahub/dead-letters", element: <DeadLetters />, nav: { label: "Afviste DataHub-beskeder", group: "Drift" } },
  { path: "/reconciliation", element: <Reconciliation />, nav: { label: "Afstemning", group: "Drift" } },
  { path: "/reconciliation/energy/:gridArea/:date", element: <ReconciliationDay /> },
  { path: "/audit", element: <Audit />, nav: { label: "Revisionsspor", group: "Drift" } },
  { path: "/api-keys", element: <ApiKeys />, nav: { label: "API-nøgler", group: "Drift" } },
];
