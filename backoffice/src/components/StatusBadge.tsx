import { statusLabel, type LabelKind, type Tone } from "../lib/labels";

export const TONES: Record<Tone, string> = {
  neutral: "bg-slate-100 text-slate-800 ring-slate-300",
  info: "bg-blue-50 text-blue-900 ring-blue-300",
  success: "bg-green-50 text-green-900 ring-green-300",
  warning: "bg-amber-50 text-amber-900 ring-amber-300",
  danger: "bg-red-50 text-red-900 ring-red-300",
};

/** A status in Danish words; the code stays in data-status for tests and tooltips. */
export function StatusBadge({ kind, status }: { kind: LabelKind; status: string }) {
  const label = statusLabel(kind, status);
  return (
    <span
      data-status={status}
      className={`inline-flex items-center rounded-full px-2 py-0.5 text-sm font-medium ring-1 ring-inset ${TONES[label.tone]}`}
    >
      {label.text}
    </span>
  );
}
