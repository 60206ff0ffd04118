import { describe } from "vitest";
import { actionTests, signInTests, signOutTests } from "./ops/basics";
import { overviewTests } from "./ops/overview";
import { runTests } from "./ops/run";
import { searchTests } from "./ops/search";
import { setupOpsStack } from "./ops/stack";
import { widthTests } from "./ops/widths";

/**
 * The operations console in a real browser, one stack for all its parts (tests/e2e/ops/stack.ts).
 * The parts run in this order in one signed-in page: each leaves the page wherever it likes, and
 * seeds what it needs in the stack's database.
 */
setupOpsStack();

describe("operations console in a browser", () => {
  signInTests();
  actionTests();
  overviewTests();
  runTests();
  searchTests();
  widthTests();
  signOutTests();
});
