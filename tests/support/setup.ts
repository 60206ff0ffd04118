import { afterAll, afterEach, beforeAll, inject } from "vitest";
import { createFileDatabase } from "./db";
import { server } from "../mocks/server";

const fileDb = await createFileDatabase(inject("databaseUrl"));
globalThis.__cronlayerTestDatabaseUrl = fileDb.url;
afterAll(() => fileDb.drop());

// msw sits only at the edge: vendors with no local stand-in. Requests to this machine (the test
// PostgREST, local QStash, Redis bridge, the app) pass through; anything else unhandled fails the test.
beforeAll(() =>
  server.listen({
    onUnhandledRequest(request, print) {
      const { hostname } = new URL(request.url);
      if (hostname === "127.0.0.1" || hostname === "localhost" || hostname === "::1" || hostname === "[::1]") return;
      print.error();
    },
  }),
);
afterEach(() => server.resetHandlers());
afterAll(() => server.close());
