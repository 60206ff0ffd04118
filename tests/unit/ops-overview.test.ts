import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { Overview } from "../../app/ops/_ui/overview";
import { ago, attemptNo, when } from "../../app/ops/_ui/parts";
import { readView, viewHref } from "../../lib/ops/jobs-view";
import { attentionItems, type Attention } from "../../lib/ops/overview";

const none: Attention = { failing: [], incidents: [], dead_letters: [], effects: [], missed: [] };

describe("the console's overview and dates", () => {
  it("says plainly when nothing needs a person", () => {
    const items = attentionItems(none, [{ job: "a", drift: [] }, { job: "b", drift: undefined }]);
    expect(items).toEqual([]);
    const html = renderToStaticMarkup(createElement(Overview, { items, attention: none, now: new Date() }));
    expect(html).toContain("Nothing needs a person.");
  });

  it("writes an instant as ISO UTC in a <time> with how long ago, and nothing zone-specific on the server", () => {
    const now = new Date("2026-12-07T13:23:54Z");
    const html = renderToStaticMarkup(when("2026-12-07T13:20:54.000Z", now) as React.ReactElement);
    expect(html).toBe('<span class="when"><time dateTime="2026-12-07T13:20:54.000Z" title="3 min ago">2026-12-07 13:20:54Z</time></span>');
    expect(when(undefined)).toBe("–");
    expect(ago("2026-12-07T15:23:54Z", now)).toBe("in 2 h");
    expect(attemptNo(0)).toBe(1);
  });

  it("reads sort and filters from the URL, dropping what it does not know, and writes them back", () => {
    const v = readView({ sort: "last", status: "failing", state: "nonsense", product: "shop" });
    expect(v).toEqual({ sort: "last", dir: "desc", product: "shop", status: "failing", state: undefined });
    expect(viewHref(v, { sort: "job", dir: "asc" })).toBe("/ops?product=shop&status=failing#jobs");
    expect(readView({ filter: "paused" }).state).toBe("paused");
  });
});
