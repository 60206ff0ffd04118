import { http, HttpResponse } from "msw";

/** A Slack incoming webhook, for tests only. */
export const SLACK_WEBHOOK_URL = "https://hooks.slack.com/services/T0CRONLAYER/B0ALERTS/testwebhooksecret";

export interface SlackCall {
  url: string;
  body: { text: string };
}

/** Records each post and answers "ok" as Slack does, unless `respond` says otherwise. */
export function slackWebhook(opts: { url?: string; respond?: (call: SlackCall, n: number) => Response | undefined } = {}) {
  const calls: SlackCall[] = [];
  const handlers = [
    http.post(opts.url ?? SLACK_WEBHOOK_URL, async ({ request }) => {
      const call = { url: request.url, body: (await request.json()) as { text: string } };
      calls.push(call);
      return opts.respond?.(call, calls.length) ?? new HttpResponse("ok", { headers: { "content-type": "text/plain" } });
    }),
  ];
  return { calls, handlers };
}
