import { execFileSync } from "node:child_process";
import { existsSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/**
 * Another commit of this repository checked out in the temp folder (outside the tree, so the type
 * check and lint never see it), sharing this tree's node_modules, so that a benchmark can load the
 * old code and the new in one process and run them side by side on the same machine.
 */
export function checkoutOf(ref: string): { dir: string; sha: string } {
  const sha = execFileSync("git", ["rev-parse", "--short=12", `${ref}^{commit}`], { cwd: ROOT, encoding: "utf8" }).trim();
  const dir = path.join(os.tmpdir(), `cronlayer-before-${sha}`);
  if (!existsSync(path.join(dir, "package.json"))) {
    execFileSync("git", ["worktree", "prune"], { cwd: ROOT });
    execFileSync("git", ["worktree", "add", "--detach", "--force", dir, sha], { cwd: ROOT, stdio: "ignore" });
  }
  if (!existsSync(path.join(dir, "node_modules"))) symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  return { dir, sha };
}
