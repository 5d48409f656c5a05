import { useSearchParams } from "react-router";

/** A list page's filters kept in the address (deep links, the back button): each set resets the
 * page to 1 unless it is the page itself. */
export function useListParams<K extends string>(keys: readonly K[]) {
  const [params, setParams] = useSearchParams();
  const values = Object.fromEntries(keys.map((k) => [k, params.get(k) ?? ""])) as Record<K, string>;
  const page = Math.max(1, Number(params.get("page")) || 1);
  const set = (key: K | "page", value: string | number) =>
    setParams((prev) => {
      const next = new URLSearchParams(prev);
      if (value === "" || (key === "page" && value === 1)) next.delete(key);
      else next.set(key, String(value));
      if (key !== "page") next.delete("page");
      return next;
    });
  return { values, page, set };
}
