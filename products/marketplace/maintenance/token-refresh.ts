import type { JobContext } from "@/lib/jobs/define";
import { runEffects } from "@/lib/jobs/effects";
import { marketplaceProviders } from "../providers";

interface Due {
  connection_id: string;
  refresh_token: string;
  expires_at: string;
  /** When this connection's refresh window opened (epoch seconds): its last refresh or revocation, 0 if neither. */
  window: number;
}

const HORIZON_MS = 24 * 3_600_000;

/**
 * Google Calendar tokens expiring within 24 h are refreshed with the refresh-token grant, each
 * connection at most once per refresh window. A revoked grant is an answer, not a failure: the
 * connection is marked as needing re-consent (it is the expert's to fix) and the run goes on.
 */
export async function refreshTokens(ctx: JobContext<unknown>) {
  const { db, providers, now, signal } = ctx;
  let revoked = 0;
  const counts = await runEffects<Due, unknown>(ctx, {
    due: ({ after, limit }) =>
      db.rpc<Due[]>("calendar_tokens_due", { p_now: now, p_horizon_ms: HORIZON_MS, p_after_expires_at: after?.expires_at, p_after_id: after?.connection_id, p_limit: limit }),
    // Keyed by the window the last refresh (or revocation) opened: two runs that see the same
    // window make one refresh, and a refresh moves refreshed_at, so the next one, due once the
    // minimum interval has passed, has a key of its own. A reconnected grant gets a new window.
    key: (c) => `token-refresh:${c.connection_id}:${c.window}`,
    onUnknown: "retry", // a second refresh only replaces the access token again
    subject: (c) => c.connection_id,
    // The provider is resolved on the first token, so a deployment without calendar connections needs no Google client.
    work: async (c, effect) => {
      const r = await marketplaceProviders.of(providers).google().refresh({ refreshToken: c.refresh_token, key: effect.key }, signal);
      if (!r.ok) {
        revoked++;
        return { revoked: true, reason: r.reason };
      }
      // Settled by calendar_tokens_settle, which writes the tokens to the connection and keeps them out of the effect.
      return {
        access_token: r.accessToken,
        expires_at: new Date(now.getTime() + r.expiresInSeconds * 1000).toISOString(),
        refresh_token: r.refreshToken ?? null,
        scope: r.scope ?? null,
      };
    },
    finish: "calendar_tokens_settle",
  });
  return { refreshed: counts.succeeded - revoked, revoked, failed: counts.failed + counts.unknown + counts.abandoned };
}
