// Danish words for the API's codes. An unknown code is shown as it is, never hidden.

export type Tone = "neutral" | "info" | "success" | "warning" | "danger";

interface Label {
  text: string;
  tone: Tone;
}

const SIGNUP_STATUS: Record<string, Label> = {
  registered: { text: "Registreret", tone: "info" },
  processing: { text: "Under behandling", tone: "warning" },
  active: { text: "Aktiv", tone: "success" },
  rejected: { text: "Afvist", tone: "danger" },
  cancelled: { text: "Annulleret", tone: "neutral" },
  ended: { text: "Ophørt", tone: "neutral" },
};

const PROCESS_STATUS: Record<string, Label> = {
  pending: { text: "Afventer afsendelse", tone: "info" },
  sent_to_datahub: { text: "Sendt til DataHub", tone: "info" },
  acknowledged: { text: "Bekræftet af DataHub", tone: "warning" },
  effectuation_pending: { text: "Afventer ikrafttræden", tone: "warning" },
  completed: { text: "Gennemført", tone: "success" },
  rejected: { text: "Afvist", tone: "danger" },
  cancellation_pending: { text: "Annullering sendt", tone: "warning" },
  cancelled: { text: "Annulleret", tone: "neutral" },
};

const CUSTOMER_STATUS: Record<string, Label> = {
  active: { text: "Aktiv", tone: "success" },
  inactive: { text: "Inaktiv", tone: "neutral" },
};

const SUPPLY_STATUS: Record<string, Label> = {
  active: { text: "Aktiv", tone: "success" },
  ended: { text: "Ophørt", tone: "neutral" },
  rolled_back: { text: "Tilbageført", tone: "warning" },
};

export type LabelKind = "signup" | "process" | "customer" | "supply";
const BY_KIND: Record<LabelKind, Record<string, Label>> = {
  signup: SIGNUP_STATUS,
  process: PROCESS_STATUS,
  customer: CUSTOMER_STATUS,
  supply: SUPPLY_STATUS,
};

export function statusLabel(kind: LabelKind, code: string): Label {
  return BY_KIND[kind][code] ?? { text: code, tone: "neutral" };
}

/** The signup statuses the list filters by, in the order of a signup's life. */
export const SIGNUP_STATUSES = ["registered", "processing", "active", "rejected", "cancelled", "ended"] as const;

export const SIGNUP_TYPE: Record<string, string> = {
  switch: "Leverandørskift",
  move_in: "Tilflytning",
};

export const CONTACT_TYPE: Record<string, string> = {
  private: "Privat",
  business: "Erhverv",
};

export const PROCESS_KIND: Record<string, string> = {
  "BRS-001": "Leverandørskift (BRS-001)",
  "BRS-002": "Leveranceophør (BRS-002)",
  "BRS-003": "Fejlagtigt leverandørskift (BRS-003)",
  "BRS-009": "Tilflytning (BRS-009)",
  "BRS-010": "Fraflytning (BRS-010)",
  "BRS-011": "Fejlagtig flytning (BRS-011)",
};

export const EVENT_SOURCE: Record<string, string> = {
  datahub: "DataHub",
  api: "Wattline (API)",
  scheduler: "Wattline (planlægger)",
};

export const PRICE_TYPE: Record<string, string> = { spot: "Spotpris", fixed: "Fastpris" };

export const END_REASON: Record<string, string> = {
  end_of_supply: "Leveranceophør",
  move_out: "Fraflytning",
  switched_away: "Skiftet til anden leverandør",
  erroneous_switch: "Fejlagtigt leverandørskift",
};

// DataHub's answer codes (RSM-001 reasons) in words staff can act on.
const REASON_CODES: Record<string, string> = {
  D05: "Målepunktet svarer ikke til anmodningens",
  D06: "DataHub kender ikke anmodningen",
  D17: "CPR/CVR-nummeret mangler eller passer ikke til kunden på målepunktet",
  D20: "Processen er ikke længere åben",
  E10: "Målepunktet kunne ikke identificeres (forkert GSRN)",
  E16: "Vi har ikke ret til denne handling på målepunktet",
  E17: "Datoen er ikke tilladt for denne proces",
  E22: "Målepunktet er spærret, eller en anden proces er allerede i gang",
};

/** A rejection reason (`"D17: CPR/CVR missing; E22: …"`) as Danish sentences, each with the
 * code and DataHub's own text kept for reference. */
export function reasonsInWords(reason: string | null | undefined): { words: string; original: string }[] {
  if (!reason) return [];
  return reason
    .split(";")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const code = /\b([DE]\d{2})\b/.exec(part)?.[1];
      const words = code ? REASON_CODES[code] : undefined;
      return { words: words ?? part, original: part };
    });
}

export function lookup(table: Record<string, string>, code: string | null | undefined): string {
  if (!code) return "–";
  return table[code] ?? code;
}

export const SETTLEMENT_LINE: Record<string, string> = {
  spot_energy: "Spotpris",
  fixed_price_energy: "Fastpris",
  fixed_price: "Fastpris",
  supplier_margin: "Leverandørtillæg",
  supplier_subscription: "Abonnement",
  grid_tariff: "Nettarif",
  grid_subscription: "Netabonnement",
  system_tariff: "Systemtarif",
  transmission_tariff: "Transmissionstarif",
  electricity_tax: "Elafgift",
  grid_fee: "Netgebyr",
};
