import { describe, expect, it } from "vitest";
import { localApp } from "../../dev/stack";

describe("how pnpm dev starts the app", () => {
  it("serves this machine only unless HOST says otherwise, since its secret and keys are public", () => {
    expect(localApp({}, 3000)).toMatchObject({ host: "127.0.0.1", args: ["exec", "next", "dev", "-H", "127.0.0.1", "-p", "3000"] });
    expect(localApp({ HOST: "" }, 3000).host).toBe("127.0.0.1");
    expect(localApp({ HOST: "0.0.0.0" }, 3001)).toMatchObject({ host: "0.0.0.0", args: ["exec", "next", "dev", "-H", "0.0.0.0", "-p", "3001"] });
  });

  it("opts the app into local mode itself, whatever the shell says", () => {
    expect(localApp({ APP_ENV: undefined, PATH: "/bin" }, 3000).env).toMatchObject({ APP_ENV: "local", PATH: "/bin" });
  });

  it("asks for one short log line per run when a person watches the terminal, unless LOG_FORMAT says otherwise", () => {
    expect(localApp({}, 3000, true).env.LOG_FORMAT).toBe("pretty");
    expect(localApp({ LOG_FORMAT: "json" }, 3000, true).env.LOG_FORMAT).toBe("json");
    expect(localApp({}, 3000, false).env.LOG_FORMAT).toBeUndefined();
  });
});
