import { Pagination } from '@mantine/core';

const CONTROL_NAMES = {
  first: 'First page',
  previous: 'Previous page',
  next: 'Next page',
  last: 'Last page',
};

/** Mantine's Pagination in a labelled <nav>, its arrow buttons named for screen readers. */
export function Pager({
  total,
  value,
  onChange,
  label,
}: {
  total: number;
  value: number;
  onChange: (page: number) => void;
  /** What is paged, e.g. "Pages of runs". */
  label: string;
}) {
  if (total <= 1) return null;
  return (
    <nav aria-label={label}>
      <Pagination
        total={total}
        value={Math.min(value, total)}
        onChange={onChange}
        getControlProps={(control) => ({ 'aria-label': CONTROL_NAMES[control] })}
        getItemProps={(page) => ({ 'aria-label': `Page ${page}` })}
      />
    </nav>
  );
}
