import type { Ctx, Handler, Req } from "../context";
import { checkDestination } from "../headers";
import { HttpError } from "../http";
import type { StoredUrlGroup, UrlGroupEndpoint } from "../types";

/** The SDK: "alphanumeric, hyphen, underscore and periods". */
const NAME = /^[A-Za-z0-9_.-]{1,200}$/;

/**
 * The URL group a publish destination names, undefined for a URL. A name no group has is left to
 * the URL check: a 404 `topic <name> not found` as on QStash, except that a dotted name like
 * `app.example.com` reads as a URL without its scheme (400), the likelier mistake.
 */
export function groupOf(ctx: Ctx, destination: string): StoredUrlGroup | undefined {
  if (destination.includes("://") || !NAME.test(destination)) return undefined;
  const group = ctx.store.state.urlGroups[destination];
  if (!group) return undefined;
  if (group.endpoints.length === 0) throw new HttpError(400, `topic ${destination} has no endpoints`);
  return group;
}

function existing(ctx: Ctx, raw: string): StoredUrlGroup {
  const name = decodeURIComponent(raw);
  const g = ctx.store.state.urlGroups[name];
  if (!g) throw new HttpError(404, `topic ${name} not found`);
  return g;
}

/** `{endpoints: [{name?, url?}]}`, each checked; `needUrl` for adding. */
async function endpointsOf(req: Req, needUrl: boolean): Promise<{ name?: string; url?: string }[]> {
  let body: { endpoints?: unknown };
  try {
    body = JSON.parse((await req.body()).toString("utf8")) as typeof body;
  } catch {
    throw new HttpError(400, 'body must be JSON {"endpoints": [{"name"?, "url"}]}');
  }
  if (!Array.isArray(body.endpoints) || body.endpoints.length === 0) throw new HttpError(400, "endpoints must be a non-empty array");
  return (body.endpoints as unknown[]).map((e, i) => {
    const { name, url } = (e ?? {}) as { name?: unknown; url?: unknown };
    if (name !== undefined && typeof name !== "string") throw new HttpError(400, `endpoint ${i}: name must be a string`);
    if (url !== undefined && typeof url !== "string") throw new HttpError(400, `endpoint ${i}: url must be a string`);
    if (needUrl && url === undefined) throw new HttpError(400, `endpoint ${i}: url is required`);
    if (!needUrl && url === undefined && name === undefined) throw new HttpError(400, `endpoint ${i}: give its name or url`);
    if (url !== undefined) checkDestination(url);
    return { ...(name !== undefined && name !== "" && { name }), ...(url !== undefined && { url }) };
  });
}

/** `POST /v2/topics/{name}/endpoints`: creates the group on first use; an endpoint already there (same URL) is updated. */
export const addEndpoints: Handler = async (ctx, req) => {
  const name = decodeURIComponent(req.params[0]!);
  if (!NAME.test(name)) throw new HttpError(400, `invalid url group name "${name}": use letters, digits, -, _ and .`);
  const added = (await endpointsOf(req, true)) as UrlGroupEndpoint[];
  const now = ctx.clock.now();
  const group = (ctx.store.state.urlGroups[name] ??= { name, endpoints: [], createdAt: now, updatedAt: now });
  for (const e of added) {
    const at = group.endpoints.findIndex((x) => x.url === e.url);
    if (at === -1) group.endpoints.push(e);
    else group.endpoints[at] = e;
  }
  group.updatedAt = now;
  ctx.store.changed();
  return { status: 200 };
};

/** `DELETE /v2/topics/{name}/endpoints`: by name or url. An emptied group stays (publishing to it is a 400). */
export const removeEndpoints: Handler = async (ctx, req) => {
  const group = existing(ctx, req.params[0]!);
  const gone = await endpointsOf(req, false);
  group.endpoints = group.endpoints.filter((e) => !gone.some((g) => (g.url === undefined || g.url === e.url) && (g.name === undefined || g.name === e.name)));
  group.updatedAt = ctx.clock.now();
  ctx.store.changed();
  return { status: 200 };
};

const view = (g: StoredUrlGroup) => ({ name: g.name, endpoints: g.endpoints, createdAt: g.createdAt, updatedAt: g.updatedAt });

export const listUrlGroups: Handler = (ctx) => ({
  status: 200,
  body: Object.values(ctx.store.state.urlGroups)
    .sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name))
    .map(view),
});

export const getUrlGroup: Handler = (ctx, req) => ({ status: 200, body: view(existing(ctx, req.params[0]!)) });

/** Messages already published to the group keep going: each is a message of its own. */
export const deleteUrlGroup: Handler = (ctx, req) => {
  delete ctx.store.state.urlGroups[existing(ctx, req.params[0]!).name];
  ctx.store.changed();
  return { status: 200 };
};
