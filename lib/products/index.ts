/** What a product imports from the layer to describe itself. */
export { defineProduct, type Product, type ProductApi, type ProductCommand, type ProductSeed } from "./define";
export { defineProductEnv, type ProductEnv } from "./env";
export { defineProductProviders, type ProductProviders } from "./providers";
export type { DiagnosticsSection, MaintenanceStep, ProductParts } from "../jobs/parts";
export { selectProducts } from "./select";
