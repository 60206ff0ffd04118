import { setupServer } from "msw/node";

/** One msw server for all vendor handlers; each vendor's handlers live in their own file here. */
export const server = setupServer();
