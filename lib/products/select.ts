import { EnvError, modeOf, isDeclared } from "../env";

/**
 * The products one deployment runs: `PRODUCTS=forms,commerce` (comma or space separated). Unset,
 * local mode and the tests run every product; production must name them, so a deployment never
 * starts schedules or takes the env of a product its team did not choose. An unknown name is
 * refused with the list of those that exist.
 */
export function selectProducts<P extends { name: string }>(catalog: readonly P[], source: Record<string, string | undefined>): P[] {
  const raw = source.PRODUCTS?.trim();
  const known = catalog.map((p) => p.name);
  if (!raw) {
    if (modeOf(source) === "production") {
      throw new EnvError([`PRODUCTS is required in production: the products this deployment runs, comma-separated, from ${known.join(", ")} (e.g. PRODUCTS=${known[0] ?? "forms"})`], { declared: isDeclared(source) });
    }
    return [...catalog];
  }
  const names = [...new Set(raw.split(/[\s,]+/).filter(Boolean))];
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length) {
    throw new EnvError([`PRODUCTS names ${unknown.map((n) => `"${n}"`).join(", ")}, which ${unknown.length === 1 ? "is not a product" : "are not products"} of this app: choose from ${known.join(", ")}`], { declared: isDeclared(source) });
  }
  return catalog.filter((p) => names.includes(p.name));
}
