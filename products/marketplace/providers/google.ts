import { ConfigError } from "@/lib/errors";
import { requestSignal, vendorError } from "@/lib/providers/errors";
import type { GoogleOAuthProvider, TokenRefresh } from "./types";

/** Errors of the token endpoint that mean the grant itself is gone: only the user can fix them. */
const REVOKED = new Set(["invalid_grant", "unauthorized_client_for_user"]);
/** Errors that mean our own client credentials are wrong. */
const BAD_CLIENT = new Set(["invalid_client", "unauthorized_client"]);

/** Google OAuth 2.0 refresh-token grant (RFC 6749 section 6) against GOOGLE_TOKEN_URL. */
export function createGoogleProvider(cfg: { clientId: string; clientSecret: string; tokenUrl: string }): GoogleOAuthProvider {
  return {
    async refresh({ refreshToken }, signal): Promise<TokenRefresh> {
      let res: Response;
      try {
        res = await fetch(cfg.tokenUrl, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
          body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken, client_id: cfg.clientId, client_secret: cfg.clientSecret }),
          signal: requestSignal(signal),
        });
      } catch (err) {
        throw vendorError("Google OAuth", "GOOGLE_CLIENT_SECRET", undefined, (err as Error).message, undefined, err);
      }
      const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
      const code = typeof body.error === "string" ? body.error : undefined;
      const description = typeof body.error_description === "string" ? body.error_description : undefined;
      if (res.ok && typeof body.access_token === "string") {
        return {
          ok: true,
          accessToken: body.access_token,
          expiresInSeconds: typeof body.expires_in === "number" ? body.expires_in : 3600,
          refreshToken: typeof body.refresh_token === "string" ? body.refresh_token : undefined,
          scope: typeof body.scope === "string" ? body.scope : undefined,
        };
      }
      if ((res.status === 400 || res.status === 401) && code && REVOKED.has(code)) {
        return { ok: false, revoked: true, reason: description ? `${code}: ${description}` : code };
      }
      if ((res.status === 400 || res.status === 401) && code && BAD_CLIENT.has(code)) {
        throw new ConfigError(
          `Google rejected GOOGLE_CLIENT_ID / GOOGLE_CLIENT_SECRET (${code}${description ? `: ${description}` : ""}). Check the OAuth client in Google Cloud console -> APIs & Services -> Credentials.`,
        );
      }
      const message = code ? `${code}${description ? `: ${description}` : ""}` : res.ok ? "answer without access_token" : res.statusText;
      throw vendorError("Google OAuth", "GOOGLE_CLIENT_SECRET", res.ok ? 502 : res.status, message, res.headers.get("retry-after"));
    },
  };
}
