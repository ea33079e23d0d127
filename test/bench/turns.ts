// The order in which the candidates of `npm run bench` take their turns (signin.bench.ts).

/**
 * Williams' orders of `n` candidates: each a shift of 0, 1, n-1, 2, n-2, ... (and, for an odd `n`,
 * each of those reversed too). Over a cycle of them every candidate takes every place in a turn
 * equally often and follows every other candidate equally often; for an even n > 2 the last of one
 * order is never the first of the next (see {@link turnOrder} for the others).
 */
export function williamsOrders(n: number): number[][] {
  const base: number[] = [];
  for (let i = 0, low = 1, high = n - 1; i < n; i++) base.push(i === 0 ? 0 : i % 2 === 1 ? low++ : high--);
  const rows = Array.from({ length: n }, (_, k) => base.map((x) => (x + k) % n));
  return n % 2 === 0 ? rows : [...rows, ...rows.map((row) => [...row].reverse())];
}

/**
 * The order of the candidates in turn `k` (0-based): the next of `orders` (from
 * {@link williamsOrders}), rotated by one when it would start with `last`, the candidate that
 * ended the turn before, so that no candidate runs two slices back to back.
 */
export function turnOrder(orders: readonly number[][], k: number, last: number | undefined): number[] {
  const order = orders[k % orders.length]!;
  return order.length > 1 && order[0] === last ? [...order.slice(1), order[0]!] : order;
}
