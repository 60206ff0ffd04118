import { ConfigError } from "../errors";
import { requestSignal, vendorError } from "./errors";
import type { SlackProvider } from "./types";

/** Slack incoming webhook: POST {text}; Slack answers "ok" or a short error code as text. */
export function createSlackProvider(cfg: { webhookUrl: string }): SlackProvider {
  return {
    async post({ text }, signal) {
      let res: Response;
      try {
        res = await fetch(cfg.webhookUrl, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ text }),
          signal: requestSignal(signal),
        });
      } catch (err) {
        throw vendorError("Slack", "SLACK_WEBHOOK_URL", undefined, (err as Error).message, undefined, err);
      }
      if (res.ok) {
        await res.text(); // read to the end: frees the connection
        return;
      }
      const reason = (await res.text().catch(() => "")).slice(0, 200) || res.statusText;
      // A deleted webhook or channel answers 403/404/410: the URL needs replacing, not a retry.
      if (res.status === 403 || res.status === 404 || res.status === 410) {
        throw new ConfigError(`Slack rejected SLACK_WEBHOOK_URL (HTTP ${res.status}: ${reason}). Create a new incoming webhook in Slack and set SLACK_WEBHOOK_URL.`);
      }
      throw vendorError("Slack", "SLACK_WEBHOOK_URL", res.status, reason, res.headers.get("retry-after"));
    },
  };
}
