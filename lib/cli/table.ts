import Table from "cli-table3";

export type Cell = string | number | null | undefined;

const text = (c: Cell) => (c === null || c === undefined ? "" : String(c));
const longestLine = (s: string) => Math.max(0, ...s.split("\n").map((l) => l.length));

/**
 * A plain table (no colours, so it reads the same piped, in CI logs and in the README) that fits
 * `width`: when the natural widths do not fit, the widest columns give way first and wrap.
 */
export function renderTable(head: string[], rows: Cell[][], width?: number): string {
  const cells = rows.map((r) => head.map((_, i) => text(r[i])));
  // Each column: content + 2 spaces padding; the table adds one border char per column + 1.
  const natural = head.map((h, i) => Math.max(longestLine(h), ...cells.map((r) => longestLine(r[i]!))) + 2);
  const words = head.map((h, i) => Math.max(...[h, ...cells.map((r) => r[i]!)].flatMap((c) => c.split(/\s+/)).map((x) => x.length)) + 2);
  const widths = width ? fit(natural, width - (head.length + 1), words) : natural;
  const table = new Table({
    head,
    colWidths: widths,
    wordWrap: true,
    wrapOnWordBoundary: true,
    style: { head: [], border: [], "padding-left": 1, "padding-right": 1, compact: true },
  });
  table.push(...cells);
  return table.toString();
}

/**
 * Shrinks the widest columns one character at a time until the total fits `room`: first only down
 * to their longest word (they wrap, nothing is lost), then down to 8 (long words are cut with "…").
 */
export function fit(natural: number[], room: number, words: number[] = []): number[] {
  const w = [...natural];
  let total = w.reduce((a, b) => a + b, 0);
  for (const floor of [(i: number) => Math.max(8, words[i] ?? 8), () => 8]) {
    while (total > room) {
      let widest = -1;
      for (let i = 0; i < w.length; i++) if (w[i]! > floor(i) && (widest < 0 || w[i]! > w[widest]!)) widest = i;
      if (widest < 0) break;
      w[widest] = w[widest]! - 1;
      total--;
    }
  }
  return w;
}
