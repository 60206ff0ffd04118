import { selectProducts } from "@/lib/products";
import campaigns from "@/products/campaigns";
import commerce from "@/products/commerce";
import engagement from "@/products/engagement";
import forms from "@/products/forms";
import marketplace from "@/products/marketplace";

/**
 * The products that exist in this app, one line each. A deployment runs those named in PRODUCTS
 * (all of them in local mode and the tests). Removing a product: delete its folder, its line here
 * and its migrations (supabase/migrations/*_<name>*.sql).
 */
export const catalog = [marketplace, forms, campaigns, engagement, commerce];

/** The products this env enables; an unknown name, or none in production, is an EnvError naming the fix. */
export const enabledProducts = (source: Record<string, string | undefined> = process.env) => selectProducts(catalog, source);
