// Every page of the back office: its route and, when it has one, its place in the navigation.
// Adding a page: a file in pages/, one entry here (with `nav` when it belongs in the menu).
import type { ReactNode } from "react";
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
];
