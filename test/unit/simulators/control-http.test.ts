import type { IncomingMessage, ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import { handleControlRequest } from "../../simulators/common/control-http.ts";
import { isLoopback } from "../../simulators/common/http.ts";
import type { SimulatorControl } from "../../simulators/common/types.ts";

describe("isLoopback", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.8.9.10", true],
    ["::1", true],
    ["::ffff:127.0.0.1", true],
    ["10.0.0.1", false],
    ["::ffff:192.0.2.1", false],
    ["2001:db8::1", false],
    [undefined, false],
  ])("%s -> %s", (address, expected) => {
    expect(isLoopback(address)).toBe(expected);
  });
});

describe("handleControlRequest", () => {
  it("refuses a peer that is not on loopback with 403, without touching the simulator", async () => {
    let written: { status?: number; body?: string } = {};
    const response = {
      destroyed: false,
      headersSent: false,
      writeHead(status: number) {
        written = { ...written, status };
      },
      end(body: string) {
        written = { ...written, body };
      },
    } as unknown as ServerResponse;
    const request = { socket: { remoteAddress: "192.0.2.10" }, method: "POST" } as unknown as IncomingMessage;
    const control = new Proxy({} as SimulatorControl, {
      get() {
        throw new Error("the control API must not be reached");
      },
    });
    await handleControlRequest(request, response, new URL("http://x/__sim/reset"), control, () => ({
      vendor: "v",
      url: "u",
    }));
    expect(written.status).toBe(403);
    expect(JSON.parse(written.body ?? "")).toEqual({
      error: "the simulator control API only answers loopback peers",
    });
  });
});
