import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

// The boundary lives in eslint.config.mjs (eslint.boundaries.mjs); this lints snippets as if they
// were files at these paths, so a rule that stops matching fails here, not silently.
const eslint = new ESLint();

async function restricted(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === "no-restricted-imports").map((m) => m.message);
}

describe("import boundary", () => {
  it("the layer cannot import a product, by alias or by relative path", async () => {
    expect(await restricted("lib/jobs/example.ts", 'import forms from "@/products/forms";\nexport default forms;\n')).toEqual([expect.stringContaining("never imports a product")]);
    expect(await restricted("lib/jobs/example.ts", 'export * from "../../products/forms/index";\n')).toEqual([expect.stringContaining("never imports a product")]);
    expect(await restricted("scripts/example.ts", 'export * from "../products/forms";\n')).toEqual([expect.stringContaining("never imports a product")]);
  });

  it("lib/ cannot import the composition root", async () => {
    expect(await restricted("lib/example.ts", 'export * from "@/config/app";\n')).toEqual([expect.stringContaining("composition root")]);
  });

  it("a product cannot import another product, nor climb out of its folder", async () => {
    expect(await restricted("products/forms/jobs/example.ts", 'export { adminRecipients } from "@/products/commerce/lib/admin";\n')).toEqual([expect.stringContaining("never imports another product")]);
    expect(await restricted("products/forms/jobs/example.ts", 'export * from "../../../lib/errors";\n')).toEqual([expect.stringContaining("No relative path out of products/forms/")]);
    expect(await restricted("products/forms/jobs/example.ts", 'export * from "@/config/app";\n')).toEqual([expect.stringContaining("only through @/lib")]);
  });

  it("allows the layer through @/lib, the product's own files, and tests/support from its tests", async () => {
    expect(await restricted("products/forms/jobs/example.ts", 'export * from "@/lib/errors";\nexport * from "../lib/service";\n')).toEqual([]);
    expect(await restricted("products/forms/tests/example.test.ts", 'export * from "../../../tests/support/app";\n')).toEqual([]);
    expect(await restricted("lib/jobs/example.ts", 'export * from "../products/parts";\n')).toEqual([]);
    expect(await restricted("scripts/example.ts", 'export * from "@/config/products";\n')).toEqual([]);
  });
});
