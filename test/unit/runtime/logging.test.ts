import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, resolveLogLevel } from "../../../src/runtime/logging.ts";

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
