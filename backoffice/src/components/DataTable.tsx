import { useMemo, useState, type FormEvent, type ReactNode } from "react";
import { useNavigate } from "react-router";

export interface Column<T> {
  key: string;
  header: string;
  cell: (row: T) => ReactNode;
  /** Sortable by its header button when given (sorts the rows the table holds). */
  sortValue?: (row: T) => string | number | null;
  align?: "left" | "right";
}

/** Paging done by the API (`page`, `page_size`, `total`); without it the table pages itself. */
export interface ServerPaging {
  page: number;
  pageSize: number;
  total: number;
  onPage: (page: number) => void;
}

/** The paging of an API page (`page`, `page_size`, `total`), once it has come. */
export function serverPaging(
  data: { page: number; page_size: number; total: number } | undefined,
  onPage: (page: number) => void,
): ServerPaging | undefined {
  return data && { page: data.page, pageSize: data.page_size, total: data.total, onPage };
}

interface Props<T> {
  caption: string;
  columns: Column<T>[];
  rows: readonly T[];
  rowKey: (row: T) => string;
  /** Where a row leads (its record's deep link): the row is clickable, its first cell a link. */
  rowHref?: (row: T) => string;
  paging?: ServerPaging;
  /** Client-side paging size, when the API gives the whole list. */
  pageSize?: number;
  empty?: ReactNode;
  busy?: boolean;
  /** Client-side search: a search box filters the rows whose text contains what is typed. */
  searchText?: (row: T) => string;
}

type Sort = { key: string; direction: "ascending" | "descending" } | null;

function compare(a: string | number | null, b: string | number | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), "da-DK", { numeric: true });
}

export function DataTable<T>({
  caption,
  columns,
  rows,
  rowKey,
  rowHref,
  paging,
  pageSize = 25,
  empty,
  busy,
  searchText,
}: Props<T>) {
  const navigate = useNavigate();
  const [sort, setSort] = useState<Sort>(null);
  const [clientPage, setClientPage] = useState(1);
  const [query, setQuery] = useState("");

  const sorted = useMemo(() => {
    const needle = query.toLocaleLowerCase("da-DK");
    const found = searchText && needle ? rows.filter((r) => searchText(r).toLocaleLowerCase("da-DK").includes(needle)) : rows;
    const column = sort && columns.find((c) => c.key === sort.key);
    if (!column?.sortValue || !sort) return found;
    const value = column.sortValue;
    const sign = sort.direction === "ascending" ? 1 : -1;
    return [...found].sort((a, b) => sign * compare(value(a), value(b)));
  }, [rows, columns, sort, query, searchText]);

  const pages = paging
    ? Math.max(1, Math.ceil(paging.total / paging.pageSize))
    : Math.max(1, Math.ceil(sorted.length / pageSize));
  const page = paging ? paging.page : Math.min(clientPage, pages);
  const shown = paging ? sorted : sorted.slice((page - 1) * pageSize, page * pageSize);
  const total = paging ? paging.total : sorted.length;
  const goTo = (p: number) => (paging ? paging.onPage(p) : setClientPage(p));

  const toggle = (key: string) =>
    setSort((s) =>
      s?.key === key
        ? { key, direction: s.direction === "ascending" ? "descending" : "ascending" }
        : { key, direction: "ascending" },
    );

  return (
    <div>
      {searchText && (
        <div className="mb-3">
          <SearchBox
            label={`Søg i ${caption.toLocaleLowerCase("da-DK")}`}
            value={query}
            onSearch={(text) => {
              setQuery(text);
              setClientPage(1);
            }}
          />
        </div>
      )}
      <div className="overflow-x-auto rounded-md border border-slate-200 bg-white">
        <table className="w-full border-collapse text-left" aria-busy={busy || undefined}>
          <caption className="sr-only">{caption}</caption>
          <thead className="bg-slate-100 text-sm text-slate-700">
            <tr>
              {columns.map((c) => {
                const ariaSort = sort?.key === c.key ? sort.direction : c.sortValue ? "none" : undefined;
                return (
                  <th
                    key={c.key}
                    scope="col"
                    aria-sort={ariaSort}
                    className={`px-3 py-2 font-semibold ${c.align === "right" ? "text-right" : ""}`}
                  >
                    {c.sortValue ? (
                      <button type="button" onClick={() => toggle(c.key)} className="inline-flex items-center gap-1 hover:underline">
                        {c.header}
                        <span aria-hidden="true">
                          {sort?.key === c.key ? (sort.direction === "ascending" ? "▲" : "▼") : "↕"}
                        </span>
                      </button>
                    ) : (
                      c.header
                    )}
                  </th>
                );
              })}
            </tr>
          </thead>
          <tbody>
            {shown.length === 0 ? (
              <tr>
                <td colSpan={columns.length} className="px-3 py-6 text-center text-slate-600">
                  {empty ?? "Ingen rækker."}
                </td>
              </tr>
            ) : (
              shown.map((row) => {
                const href = rowHref?.(row);
                return (
                  <tr
                    key={rowKey(row)}
                    className={`border-t border-slate-200 ${href ? "cursor-pointer hover:bg-blue-50" : ""}`}
                    onClick={href ? (e) => !(e.target as HTMLElement).closest("a,button") && navigate(href) : undefined}
                  >
                    {columns.map((c) => (
                      <td key={c.key} className={`px-3 py-2 align-top ${c.align === "right" ? "whitespace-nowrap text-right tabular-nums" : ""}`}>
                        {c.cell(row)}
                      </td>
                    ))}
                  </tr>
                );
              })
            )}
          </tbody>
        </table>
      </div>
      {(pages > 1 || paging) && total > 0 && (
        <nav aria-label={`Sider: ${caption}`} className="mt-3 flex items-center gap-3 text-sm">
          <button type="button" className="btn-secondary" disabled={page <= 1} onClick={() => goTo(page - 1)}>
            Forrige
          </button>
          <span aria-live="polite">
            Side {page} af {pages} ({total} i alt)
          </span>
          <button type="button" className="btn-secondary" disabled={page >= pages} onClick={() => goTo(page + 1)}>
            Næste
          </button>
        </nav>
      )}
    </div>
  );
}

/** A search form: submitting (Enter or the button) hands the text on. */
export function SearchBox({
  label,
  value,
  onSearch,
  placeholder,
}: {
  label: string;
  value: string;
  onSearch: (text: string) => void;
  placeholder?: string;
}) {
  const [text, setText] = useState(value);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSearch(text.trim());
  };
  return (
    <form role="search" onSubmit={submit} className="flex items-end gap-2">
      <label className="flex flex-col gap-1 text-sm font-medium">
        {label}
        <input
          type="search"
          className="input w-72"
          value={text}
          placeholder={placeholder}
          maxLength={200}
          onChange={(e) => setText(e.target.value)}
        />
      </label>
      <button type="submit" className="btn-secondary">
        Søg
      </button>
    </form>
  );
}
