import { useSearchParams } from 'react-router';

/**
 * A page number kept in the URL (`?page=2`, or `?<key>=2` for a second list on the page), so a
 * reload or a shared link shows the same page. Pages count from 1.
 */
export function usePageParam(key = 'page'): [number, (page: number) => void] {
  const [params, setParams] = useSearchParams();
  const page = Math.max(1, Number.parseInt(params.get(key) ?? '1', 10) || 1);
  const setPage = (next: number) =>
    setParams(
      (current) => {
        const updated = new URLSearchParams(current);
        if (next <= 1) updated.delete(key);
        else updated.set(key, String(next));
        return updated;
      },
      { replace: false },
    );
  return [page, setPage];
}

/** A search parameter with a default, kept in the URL as `usePageParam` keeps the page. */
export function useSearchParam(key: string, fallback: string): [string, (value: string) => void] {
  const [params, setParams] = useSearchParams();
  const value = params.get(key) ?? fallback;
  const setValue = (next: string) =>
    setParams((current) => {
      const updated = new URLSearchParams(current);
      if (next === fallback) updated.delete(key);
      else updated.set(key, next);
      return updated;
    });
  return [value, setValue];
}

/** The number of pages of a list of `total` items shown `perPage` at a time (at least 1). */
export function pageCount(total: number, perPage: number): number {
  return Math.max(1, Math.ceil(total / perPage));
}
