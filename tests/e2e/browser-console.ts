import type { Page } from "playwright-core";

/**
 * What a page said in the browser's console that a person would see as a problem: console errors
 * and warnings (React's hydration errors, invalid HTML nesting, failed loads), and uncaught errors.
 * `ignore` takes what a step provokes on purpose.
 */
export function watchConsole(page: Page): { problems(ignore?: RegExp): string[]; clear(): void } {
  let seen: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") seen.push(`console.${m.type()} at ${page.url()}: ${m.text().slice(0, 500)}`);
  });
  page.on("pageerror", (e) => seen.push(`uncaught at ${page.url()}: ${e.message.slice(0, 500)}`));
  return {
    problems: (ignore) => seen.filter((s) => !ignore?.test(s)),
    clear: () => void (seen = []),
  };
}
