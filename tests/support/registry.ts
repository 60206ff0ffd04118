import { composeRegistry } from "../../config/app";
import type { Product } from "../../lib/products";

/**
 * The registry of a deployment that runs these products (PRODUCTS): the layer's jobs, keep-alive
 * among them bound to this registry, and the products' jobs and schedules, as config/app.ts composes them.
 * A product's tests pass their own product, so they never reach another one.
 */
export const registryOf = (...products: Product[]) => composeRegistry(products);
