import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, lazyChild, resolveLogLevel } from "../../../src/runtime/logging.ts";

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()));
      cb();
    },
  });
  return { lines, logger: createLogger({ level: "info", destination }) };
}

describe("logger redaction", () => {
  it("redacts credential-like fields at the top level and nested", () => {
    const { lines, logger } = capture();
    logger.info(
      {
        password: "hunter2",
        headers: { authorization: "Bearer abc", "x-api-key": "k1", accept: "json" },
        device: { credentials: { username: "admin", password: "p" }, token: "t" },
        secret: "s",
        name: "fw-1",
      },
      "msg",
    );
    const line = lines[0]!;
    const text = JSON.stringify(line);
    for (const secret of ["hunter2", "Bearer abc", '"k1"', '"t"', '"s"', '"p"'])
      expect(text).not.toContain(secret);
    expect(line).toMatchObject({
      name: "fw-1",
      headers: { accept: "json", authorization: "[REDACTED]" },
      level: "info",
    });
  });

  it("child loggers keep redacting", () => {
    const { lines, logger } = capture();
    logger.child({ controller: "c" }).warn({ req: { headers: { Authorization: "Basic x" } } }, "m");
    expect(JSON.stringify(lines[0])).not.toContain("Basic x");
    expect(lines[0]).toMatchObject({ controller: "c", level: "warn" });
  });
});

describe("resolveLogLevel", () => {
  it.each([
    { flag: "debug", env: {}, expected: "debug" },
    { flag: undefined, env: { VNF_LOG_LEVEL: "WARN" }, expected: "warn" },
    { flag: undefined, env: { LOG_LEVEL: "error" }, expected: "error" },
    { flag: undefined, env: {}, expected: "info" },
  ])("flag $flag env $env → $expected", ({ flag, env, expected }) => {
    expect(resolveLogLevel(flag, env)).toBe(expected);
  });

  it("rejects an unknown level", () => {
    expect(() => resolveLogLevel("loud", {})).toThrow(/unknown log level/);
  });
});

describe("lazyChild (the per-reconcile logger)", () => {
  it("makes no pino child for calls at a disabled level, and writes nothing", () => {
    const { lines, logger } = capture();
    let children = 0;
    const parent = new Proxy(logger, {
      get(target, property, receiver) {
        if (property === "child")
          return (...args: Parameters<typeof logger.child>) => {
            children++;
            return target.child(...args);
          };
        return Reflect.get(target, property, receiver);
      },
    });
    const log = lazyChild(parent, { name: "r1", reconcileID: "id-1" });
    log.debug({ plan: "apply" }, "planned");
    log.trace("nothing");
    expect(children).toBe(0);
    expect(lines).toHaveLength(0);
    log.warn({ password: "hunter2", code: "VNF_X" }, "failed");
    log.error("again");
    expect(children).toBe(1);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      name: "r1",
      reconcileID: "id-1",
      code: "VNF_X",
      password: "[REDACTED]",
      msg: "failed",
    });
    expect(lines[1]).toMatchObject({ name: "r1", reconcileID: "id-1", msg: "again", level: "error" });
  });

  it("answers like the child it stands for (bindings, level, grandchildren)", () => {
    const { lines, logger } = capture();
    const log = lazyChild(logger, { name: "r2" });
    expect(log.isLevelEnabled("info")).toBe(true);
    expect(log.bindings()).toEqual({ name: "r2" });
    log.child({ step: "activate" }).info("done");
    expect(lines[0]).toMatchObject({ name: "r2", step: "activate", msg: "done" });
  });
});
