import { catalog } from "@/config/products";
import { productsTable } from "@/config/products-table";

// Prints the README's products table from config/products.ts: pnpm exec tsx scripts/products-table.ts
process.stdout.write(productsTable(catalog));
