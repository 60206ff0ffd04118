import type { Product } from "@/lib/products";

type Row = Pick<Product, "name" | "title" | "summary" | "schedules" | "needs">;

const cell = (s: string) => s.replace(/\|/g, "\\|");
const list = (xs: readonly string[], fmt: (x: string) => string = (x) => x) => (xs.length ? xs.map(fmt).join(", ") : "none");

/**
 * The README's products table, as markdown: one row per product of the catalog, from its
 * `defineProduct` value. `pnpm exec tsx scripts/products-table.ts` prints it; a unit test holds the
 * README to it.
 */
export function productsTable(products: readonly Row[]): string {
  const rows = products.map(
    (p) =>
      `| [${cell(p.title)}](products/${p.name}/README.md) \`${p.name}\` | ${cell(p.summary)} | ${list(p.needs.variables, (v) => `\`${v}\``)} | ${p.schedules.length} | ${list(p.needs.vendors)} |`,
  );
  return ["| product (`PRODUCTS` name) | what it does | env variables (its `env.ts`) | schedules | vendors besides Resend, Novu, Slack |", "|---|---|---|---|---|", ...rows].join("\n") + "\n";
}
