import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const readme = readFileSync("README.md", "utf8");

describe("README", () => {
  it("fits on a screen or two: at most 250 lines", () => {
    expect(readme.split("\n").length).toBeLessThanOrEqual(250);
  });

  it("shows a job with an effect in under 30 lines, the same code as docs/examples (which the type check compiles)", () => {
    const section = readme.slice(readme.indexOf("## Add a job"));
    const block = /```ts\n([\s\S]*?)```/.exec(section)![1]!;
    const code = block.replace(/^ {3}/gm, "");
    expect(code).toBe(readFileSync("docs/examples/send-order-emails.ts", "utf8"));
    expect(code.trimEnd().split("\n").length).toBeLessThan(30);
    expect(code).toContain("runEffects");
  });
});
