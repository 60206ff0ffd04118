import { createDeps } from "@/lib/deps";
import { EnvError, isDeclared, loadEnv, type Env } from "@/lib/env";
import type { Registry } from "@/lib/jobs/registry";
import { createRegistry } from "@/lib/jobs/registry";
import type { RunDeps } from "@/lib/jobs/run";
import type { Product } from "@/lib/products";
import { systemJobs } from "@/jobs/system";
import { catalog, enabledProducts } from "./products";
import { schedulesOf } from "./qstash";

/**
 * The composition root: the one module that joins the layer to the products. Routes, the console
 * and the CLI get their registry and deps here; nothing under lib/ names a product.
 */
export function composeRegistry(products: readonly Product[]): Registry {
  const registry: Registry = createRegistry([...systemJobs(() => registry), ...products.flatMap((p) => p.jobs)], schedulesOf(products), products);
  return registry;
}

/**
 * The env of a deployment: the layer's variables, PRODUCTS, and the enabled products' own, with
 * every problem in one EnvError. A product that is not enabled is not asked for anything.
 */
export function loadAppEnv(source: Record<string, string | undefined>): { env: Env; products: Product[] } {
  const env = loadEnv(source);
  const products = enabledProducts(source);
  const problems = products.flatMap((p) => p.envProblems(env).map((m) => `${m} (product ${p.name})`));
  if (problems.length) throw new EnvError(problems, { declared: isDeclared(source) });
  return { env, products };
}

let registry: Registry | undefined;
/** The registry of this process's env (PRODUCTS), built once. */
export const appRegistry = (): Registry => (registry ??= composeRegistry(enabledProducts()));

let deps: Promise<RunDeps> | undefined;
/** What the routes run with: env from process.env, built once per server instance on first use. */
export const appDeps = (): Promise<RunDeps> =>
  (deps ??= Promise.resolve().then(() => {
    const { env } = loadAppEnv(process.env);
    return createDeps(env, appRegistry());
  }));

export { catalog };

type Handler = (req: Request, ctx: never) => Promise<Response>;

/**
 * A product's HTTP handlers as its route files export them: while PRODUCTS leaves the product out
 * they answer 404 and run nothing (no database, no vendor), as if the route did not exist.
 */
export function productHandlers<H extends Record<string, Handler>>(product: string, handlers: H): H {
  const enabled = () => appRegistry().products.some((p) => p.name === product);
  return Object.fromEntries(
    Object.entries(handlers).map(([method, handler]) => [
      method,
      (req: Request, ctx: never) => {
        let on: boolean;
        try {
          on = enabled();
        } catch {
          // PRODUCTS itself is wrong: the boot log and /api/diagnostics say how; nothing runs.
          return Promise.resolve(Response.json({ error: "this deployment's configuration is incomplete (PRODUCTS): see /api/diagnostics" }, { status: 503 }));
        }
        return on ? handler(req, ctx) : Promise.resolve(Response.json({ error: `not found: the ${product} product is not enabled in this deployment (PRODUCTS)` }, { status: 404 }));
      },
    ]),
  ) as H;
}
