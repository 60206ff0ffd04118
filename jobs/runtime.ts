import { lazyDeps } from "@/lib/deps";
import { registry } from "./index";

/** What the routes run with: env from process.env, this product's registry. */
export const appDeps = lazyDeps(() => registry);
