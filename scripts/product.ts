import { Command } from "commander";
import { run } from "@/config/cli";
import { catalog } from "@/config/products";
import { cliProgram } from "@/lib/cli/program";

/**
 * `pnpm product <command> [options]`: the commands products bring (e.g. campaigns:stats). A command
 * of a product this env does not enable (PRODUCTS) is refused, naming the product.
 */
const [name, ...rest] = process.argv.slice(2);
const all = catalog.flatMap((p) => p.commands.map((c) => ({ product: p.name, command: c })));
const found = all.find((c) => c.command.name === name);
if (!found) {
  const list = all.map((c) => `  ${c.command.name.padEnd(20)} ${c.product}: ${c.command.description}`).join("\n");
  console.error(`${name ? `error: no product has a command "${name}".` : "usage: pnpm product <command> [options]"}\nCommands:\n${list || "  (none)"}`);
  process.exit(name ? 2 : 0);
}
const program: Command = cliProgram(`pnpm ${found.command.name}`, found.command.description);
for (const [flags, description] of found.command.options) program.option(flags, description);
await program
  .action((opts: Record<string, unknown>) =>
    run(found.command.load, async (m, ctx) => {
      if (!ctx.registry.products.some((p) => p.name === found.product)) {
        ctx.io.err(`error: ${found.command.name} belongs to the ${found.product} product, which this env does not enable: add it to PRODUCTS.`);
        return 1;
      }
      return m.run(ctx as never, opts);
    }),
  )
  .parseAsync(["node", "product", ...rest]);
