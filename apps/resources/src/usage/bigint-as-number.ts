/** PostgreSQL returns bigint as a string; usage figures stay far below 2^53. */
export const bigintAsNumber = {
  to: (v: number) => v,
  from: (v: string | number) => Number(v),
};
