import { http, HttpResponse } from "msw";

/** Google's OAuth 2.0 token endpoint (refresh-token grant), for tests only. */
export const GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token";
export const GOOGLE_CLIENT = { id: "cronlayer-test.apps.googleusercontent.com", secret: "GOCSPX-test-secret" } as const;

export interface GoogleTokenCall {
  url: string;
  form: Record<string, string>;
}

/**
 * Answers a refresh with a new access token, or `invalid_grant` for the refresh tokens in
 * `revoked` (what Google answers once a user removed the app's access). `respond` overrides.
 */
export function googleTokens(opts: { url?: string; revoked?: string[]; rotate?: string[]; respond?: (call: GoogleTokenCall, n: number) => Response | undefined } = {}) {
  const calls: GoogleTokenCall[] = [];
  const handlers = [
    http.post(opts.url ?? GOOGLE_TOKEN_URL, async ({ request }) => {
      const call = { url: request.url, form: Object.fromEntries(new URLSearchParams(await request.text())) };
      calls.push(call);
      const custom = opts.respond?.(call, calls.length);
      if (custom) return custom;
      if (call.form.client_id !== GOOGLE_CLIENT.id || call.form.client_secret !== GOOGLE_CLIENT.secret) {
        return HttpResponse.json({ error: "invalid_client", error_description: "The OAuth client was not found." }, { status: 401 });
      }
      if (call.form.grant_type !== "refresh_token" || !call.form.refresh_token) {
        return HttpResponse.json({ error: "invalid_request", error_description: "Missing required parameter: refresh_token" }, { status: 400 });
      }
      if (opts.revoked?.includes(call.form.refresh_token)) {
        return HttpResponse.json({ error: "invalid_grant", error_description: "Token has been expired or revoked." }, { status: 400 });
      }
      return HttpResponse.json({
        access_token: `ya29.new-${call.form.refresh_token}`,
        expires_in: 3599,
        scope: "https://www.googleapis.com/auth/calendar.events",
        token_type: "Bearer",
        ...(opts.rotate?.includes(call.form.refresh_token) ? { refresh_token: `${call.form.refresh_token}-rotated` } : {}),
      });
    }),
  ];
  return { calls, handlers };
}
