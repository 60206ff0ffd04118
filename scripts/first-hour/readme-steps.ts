import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { check, pnpm, ports, repo } from "./context";

/** A README section's fenced blocks, as a reader copies them (the list's indentation dropped). */
export function readmeSection(title: string) {
  const readme = readFileSync(path.join(repo, "README.md"), "utf8");
  const start = readme.indexOf(`## ${title}`);
  check(start >= 0, `the README has no "${title}" section`);
  const section = readme.slice(start, readme.indexOf("\n## ", start + 1));
  const blocks = [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], code: m[2]!.replace(/^ {3}/gm, "") }));
  return { section, blocks };
}

export const write = (file: string, text: string) => {
  mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
  writeFileSync(path.join(repo, file), text);
};
export const read = (file: string) => readFileSync(path.join(repo, file), "utf8");
/** Adds `line` after the file's last import, as "(and its import)" asks. */
export const withImport = (text: string, line: string) => {
  const lines = text.split("\n");
  lines.splice(lines.findLastIndex((l) => l.startsWith("import ")) + 1, 0, line);
  return lines.join("\n");
};

/**
 * The README's "Add a job" as written: its job file, its migration, its line in the product's
 * index.ts and its schedule entry; then the commands it names, against the running stack.
 */
export async function addAJob() {
  const { section, blocks } = readmeSection("Add a job");
  check(blocks.map((b) => b.lang).join(" ") === "ts sql ts", `README "Add a job" blocks: ${blocks.map((b) => b.lang).join(" ")}`);
  const jobFile = /`(products\/([\w-]+)\/jobs\/[\w-]+\.ts)`/.exec(section);
  const migration = /`supabase\/migrations\/<UTC yyyymmddhhmmss>_(\w+)\.sql`/.exec(section)?.[1];
  const entry = /`(\{ job: "[\w-]+",[^`]*\})`/.exec(section)?.[1];
  check(jobFile && migration && entry, "the README names no job file, migration or schedule entry");
  const product = jobFile![2]!;
  write(jobFile![1]!, blocks[0]!.code);
  const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
  write(`supabase/migrations/${stamp}_${migration}.sql`, blocks[1]!.code);
  const [importLine, listLine] = blocks[2]!.code.trimEnd().split("\n");
  const added = /, (\w+)\],$/.exec(listLine!.trim())?.[1];
  check(added, `the README's jobs line names no job: ${listLine}`);
  const index = `products/${product}/index.ts`;
  write(index, withImport(read(index), importLine!.replace(/\s*\/\/.*$/, "")).replace(/(\n {2}jobs: \[[^\]]*)\]/, `$1, ${added}]`));
  const schedules = `products/${product}/schedules.ts`;
  const text = read(schedules);
  const end = text.lastIndexOf("\n];");
  write(schedules, `${text.slice(0, end)}\n  ${entry},${text.slice(end)}`);

  const migrated = await pnpm(["-s", "db:migrate"]);
  check(migrated.code === 0 && migrated.out.includes(`1 migration(s) applied to database 127.0.0.1:${ports.PGLITE_PORT}/postgres`), `db:migrate: ${migrated.code}\n${migrated.out}`);
  const synced = await pnpm(["-s", "qstash:schedule"]);
  check(synced.code === 0 && synced.out.includes("send-order-emails"), `qstash:schedule: ${synced.code}\n${synced.out}`);
  const ran = await pnpm(["-s", "job:run", "send-order-emails"]);
  check(ran.code === 0 && /send-order-emails succeeded/.test(ran.out), `job:run send-order-emails: ${ran.code}\n${ran.out}`);
}

/**
 * The README's "Add a product" as written, with the name `notes` and the job of "Add a job" copied
 * in as its job: the folder, its index.ts, its line in config/products.ts; then its job runs, and
 * PRODUCTS=notes leaves every other product's job out.
 */
export async function addAProduct() {
  const { blocks } = readmeSection("Add a product");
  check(blocks[0]?.lang === "ts" && blocks[0].code.includes("defineProduct"), "the README's \"Add a product\" shows no defineProduct value");
  const jobName = "notes-digest";
  const job = readmeSection("Add a job").blocks[0]!.code.replace('name: "send-order-emails"', `name: "${jobName}"`);
  write("products/notes/jobs/my-job.ts", job);
  write("products/notes/index.ts", blocks[0]!.code.replaceAll("<name>", "notes").replace("<Title>", "Notes").replace("<one line>", "Notes of the first hour"));
  const catalog = read("config/products.ts");
  write("config/products.ts", withImport(catalog, 'import notes from "@/products/notes";').replace(/(export const catalog = \[[^\]]*)\]/, "$1, notes]"));
  const ran = await pnpm(["-s", "job:run", jobName]);
  check(ran.code === 0 && new RegExp(`${jobName} succeeded`).test(ran.out), `job:run ${jobName}: ${ran.code}\n${ran.out}`);
  const alone = await pnpm(["-s", "job:run", "send-order-emails", "--dry-run"], { PRODUCTS: "notes" });
  check(alone.code === 2 && alone.out.includes(`Jobs: `) && alone.out.includes(jobName) && !alone.out.includes("process-expert-transfers"), `PRODUCTS=notes still knows other products' jobs: ${alone.code}\n${alone.out}`);
}
