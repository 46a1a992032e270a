// The prom-client metrics: names, labels, and that observations land where expected.
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { PromApplianceMetrics } from "../../../src/appliance/metrics.ts";

describe("PromApplianceMetrics", () => {
  it("counts requests by vendor, operation and code, and times them", async () => {
    const registry = new Registry();
    const m = new PromApplianceMetrics(registry);
    m.observeRequest({ vendor: "pfsense", operation: "firewallRule.create", code: "OK" }, 0.2);
    m.observeRequest({ vendor: "pfsense", operation: "firewallRule.create", code: "OK" }, 0.3);
    m.observeRequest({ vendor: "pfsense", operation: "firewallRule.create", code: "VNF_TIMEOUT" }, 30);
    m.observeActivation({ vendor: "pfsense", result: "success" });
    const text = await registry.metrics();
    expect(text).toContain(
      'vnf_appliance_requests_total{vendor="pfsense",operation="firewallRule.create",code="OK"} 2',
    );
    expect(text).toContain(
      'vnf_appliance_requests_total{vendor="pfsense",operation="firewallRule.create",code="VNF_TIMEOUT"} 1',
    );
    expect(text).toContain(
      'vnf_appliance_request_duration_seconds_count{vendor="pfsense",operation="firewallRule.create"} 3',
    );
    expect(text).toContain('vnf_appliance_activations_total{vendor="pfsense",result="success"} 1');
  });
});
