import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { catalog } from "../../config/products";
import { productsTable } from "../../config/products-table";

const START = "<!-- products-table: pnpm exec tsx scripts/products-table.ts -->\n";
const END = "<!-- /products-table -->";

describe("README's products table", () => {
  it("is what scripts/products-table.ts prints from the catalog (regenerate it when a product changes)", () => {
    const readme = readFileSync("README.md", "utf8");
    const from = readme.indexOf(START);
    const to = readme.indexOf(END, from);
    expect(from, `README.md has no line ${JSON.stringify(START.trim())}`).toBeGreaterThan(-1);
    expect(to, `README.md has no line ${END} after the table`).toBeGreaterThan(from);
    expect(readme.slice(from + START.length, to)).toBe(productsTable(catalog));
  });

  it("has a row per product of config/products.ts, linking to its README", () => {
    const table = productsTable(catalog);
    for (const p of catalog) expect(table).toContain(`](products/${p.name}/README.md) \`${p.name}\``);
    expect(table.trimEnd().split("\n")).toHaveLength(catalog.length + 2);
  });
});
