// The client models the contract tests rely on, checked against the documented behaviour of the
// CloudStack clients they stand for (including the answers that fooled them before: a 201, a 200
// with success:false).
import { describe, expect, it } from "vitest";
import {
  callAsNetworkElement,
  callAsService,
  type Exchange,
  NETWORK_ELEMENT_CLIENT,
  readAsNetworkElement,
  readAsService,
  SERVICE_CLIENT,
  serviceReadsDrift,
  type WireResponse,
} from "../../support/cloudstack-clients.ts";

const json = (status: number, body: object): WireResponse => ({ status, body: JSON.stringify(body) });

function scripted(...responses: WireResponse[]): Exchange & { sent: number } {
  const exchange = Object.assign(
    async () => {
      exchange.sent++;
      return responses[Math.min(exchange.sent - 1, responses.length - 1)] as WireResponse;
    },
    { sent: 0 },
  );
  return exchange;
}

const req = { method: "POST" as const, path: "/x", headers: {} };

describe(`${NETWORK_ELEMENT_CLIENT.name} (${NETWORK_ELEMENT_CLIENT.version})`, () => {
  it.each<[string, WireResponse, object]>([
    [
      "200 with vendorRef",
      json(200, { success: true, vendorRef: "42", message: "ok" }),
      { outcome: "success", vendorRef: "42" },
    ],
    [
      "201: any other 2xx is a failure, errorCode absent → 'null'",
      json(201, { success: true, vendorRef: "42" }),
      { outcome: "throws", errorCode: "null" },
    ],
    [
      "200 with success:false is a success with vendorRef 'null'",
      json(200, { success: false, errorCode: "VNF_INVALID", vendorRef: null }),
      { outcome: "success", vendorRef: "null" },
    ],
    [
      "422 with errorCode",
      json(422, { errorCode: "VNF_INVALID", message: "no" }),
      { outcome: "throws", errorCode: "VNF_INVALID" },
    ],
    [
      "a body that is not JSON",
      { status: 502, body: "<html>" },
      { outcome: "throws", errorCode: "BROKER_INTERNAL" },
    ],
    ["an I/O error", { ioError: "ECONNREFUSED" }, { outcome: "throws", errorCode: "VNF_UNREACHABLE" }],
  ])("reads %s", (_name, response, expected) => {
    expect(readAsNetworkElement(response)).toMatchObject(expected);
  });

  it("retries only VNF_TIMEOUT and VNF_RATE_LIMIT, 3 attempts in all, pausing 1 s then 2 s", async () => {
    const timeouts = scripted(json(504, { errorCode: "VNF_TIMEOUT" }));
    const run = await callAsNetworkElement(timeouts, req);
    expect(run).toMatchObject({ attempts: 3, pausesMs: [1000, 2000], reading: { errorCode: "VNF_TIMEOUT" } });
    const thenOk = scripted(json(429, { errorCode: "VNF_RATE_LIMIT" }), json(200, { vendorRef: "7" }));
    expect(await callAsNetworkElement(thenOk, req)).toMatchObject({
      attempts: 2,
      reading: { outcome: "success" },
    });
    for (const code of ["VNF_UNREACHABLE", "VNF_UPSTREAM", "BROKER_INTERNAL"]) {
      const once = await callAsNetworkElement(scripted(json(503, { errorCode: code })), req);
      expect(once.attempts, code).toBe(1);
    }
  });
});

describe(`${SERVICE_CLIENT.name} (${SERVICE_CLIENT.version})`, () => {
  it.each<[string, WireResponse, string]>([
    ["200", json(200, {}), "returns"],
    ["201", json(201, {}), "returns"],
    ["202", json(202, {}), "returns"],
    ["422", json(422, {}), "throws"],
    ["503", json(503, {}), "throws"],
  ])("reads %s", (_name, response, outcome) => {
    expect(readAsService(response).outcome).toBe(outcome);
  });

  it("retries 5xx and I/O errors (4 attempts, 1 s, 2 s, 4 s), never 4xx", async () => {
    const busy = await callAsService(scripted(json(503, {})), req);
    expect(busy).toMatchObject({ attempts: 4, pausesMs: [1000, 2000, 4000] });
    const io = await callAsService(scripted({ ioError: "reset" }, json(200, {})), req);
    expect(io).toMatchObject({ attempts: 2, reading: { outcome: "returns" } });
    const refused = await callAsService(scripted(json(429, {})), req);
    expect(refused).toMatchObject({ attempts: 1, reading: { outcome: "throws" } });
  });

  it("reads drift from a reconcile answer; a failed call is 'no drift'", () => {
    expect(serviceReadsDrift({ outcome: "returns", status: 200, body: '{"driftDetected":true}' })).toBe(true);
    expect(serviceReadsDrift({ outcome: "returns", status: 200, body: '{"driftDetected":false}' })).toBe(
      false,
    );
    expect(serviceReadsDrift({ outcome: "throws", message: "404" })).toBe(false);
  });
});
