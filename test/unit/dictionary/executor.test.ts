// The executor against scripted responses, with dictionaries shaped like the vendors of issue #5:
// PAN-OS-like XML + commit jobs, VyOS-like form + command lists, OPNsense-like body-only errors and
// savepoint → apply → cancelRollback. No network: a Transport that answers from a script.
import { describe, expect, it } from "vitest";
import type { CompiledDictionary } from "../../../src/dictionary/compiled.ts";
import { VnfError } from "../../../src/dictionary/errors.ts";
import {
  Executor,
  MOVED_RESTARTS,
  type RawResponse,
  resolveParameters,
  type Transport,
} from "../../../src/dictionary/executor.ts";
import { loadDictionaryFile } from "../../../src/dictionary/loader.ts";
import type { RenderedRequest } from "../../../src/dictionary/render.ts";
import { canonicalRule } from "../../../src/dictionary/rule-input.ts";

type Handler = (request: RenderedRequest, index: number) => RawResponse | Promise<RawResponse>;

function scripted(handler: Handler): Transport & { sent: RenderedRequest[] } {
  const sent: RenderedRequest[] = [];
  return {
    sent,
    send: async (request) => {
      sent.push(request);
      return handler(request, sent.length - 1);
    },
  };
}

const xmlResponse = (body: string, status = 200): RawResponse => ({
  status,
  headers: { "content-type": "application/xml" },
  text: body,
});
const jsonResponse = (body: unknown, status = 200): RawResponse => ({
  status,
  headers: { "content-type": "application/json" },
  text: JSON.stringify(body),
});

function executor(dictionary: CompiledDictionary, clock = { t: 0 }): Executor {
  return new Executor(dictionary, resolveParameters(dictionary, {}), {
    now: () => clock.t,
    sleep: async (ms) => {
      clock.t += ms;
    },
  });
}

async function rejection(promise: Promise<unknown>): Promise<VnfError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VnfError);
  return error as VnfError;
}

const rule = canonicalRule("firewallRule", {
  interface: "trust",
  action: "allow",
  protocol: "tcp",
  destination: { cidr: "any", port: "443" },
  description: "web",
});

describe("XML API with commit jobs (PAN-OS-like)", async () => {
  const dictionary = await loadDictionaryFile("test/fixtures/dictionaries/valid/xmlapi-commit.yaml");
  const activation = dictionary.activation;
  if (!activation) throw new Error("fixture without activation");

  it("polls the commit job until FIN/OK", async () => {
    const statuses = ["ACT", "ACT", "FIN"];
    const t = scripted((request, i) => {
      if (i === 0)
        return xmlResponse(
          '<response status="success" code="19"><result><msg><line>Commit job enqueued with jobid 4</line></msg><job>4</job></result></response>',
        );
      const cmd = request.query.find(([k]) => k === "cmd")?.[1];
      expect(cmd).toBe("<show><jobs><id>4</id></jobs></show>");
      const status = statuses[i - 1] ?? "FIN";
      return xmlResponse(
        `<response status="success"><result><job><id>4</id><status>${status}</status><result>${status === "FIN" ? "OK" : "PEND"}</result></job></result></response>`,
      );
    });
    const result = await executor(dictionary).run(activation, {}, t, "activation");
    expect(result.jobs).toEqual(["4"]);
    expect(t.sent).toHaveLength(4);
    expect(new URLSearchParams(t.sent[0]?.body?.text).get("type")).toBe("commit");
  });

  it("maps a failed job to its failure code with the job's message", async () => {
    const t = scripted((_r, i) =>
      i === 0
        ? xmlResponse('<response status="success" code="19"><result><job>9</job></result></response>')
        : xmlResponse(
            '<response status="success"><result><job><status>FIN</status><result>FAIL</result><details><line>rule r1: zone untrust unknown</line></details></job></result></response>',
          ),
    );
    const error = await rejection(executor(dictionary).run(activation, {}, t, "activation"));
    expect(error.code).toBe("VNF_INVALID");
    expect(error.vendorMessage).toBe("rule r1: zone untrust unknown");
    expect(error.retryable).toBe(false);
  });

  it("does not poll when there is nothing to commit (no job id)", async () => {
    const t = scripted(() =>
      xmlResponse(
        '<response status="success" code="19"><msg>There are no changes to commit.</msg></response>',
      ),
    );
    const result = await executor(dictionary).run(activation, {}, t, "activation");
    expect(result.jobs).toEqual([]);
    expect(t.sent).toHaveLength(1);
  });

  it("times out a job that never finishes", async () => {
    const t = scripted((_r, i) =>
      i === 0
        ? xmlResponse('<response status="success"><result><job>5</job></result></response>')
        : xmlResponse(
            '<response status="success"><result><job><status>ACT</status><result>PEND</result></job></result></response>',
          ),
    );
    const error = await rejection(executor(dictionary).run(activation, {}, t, "activation"));
    expect(error.code).toBe("VNF_TIMEOUT");
    expect(error.retryable).toBe(true);
  });

  it("puts hostile text into the XML element escaped and the name into an XPath literal", async () => {
    const t = scripted(() =>
      xmlResponse('<response status="success" code="20"><msg>command succeeded</msg></response>'),
    );
    const ex = executor(dictionary);
    const op = dictionary.resources.firewallRule?.operations.create;
    if (!op) throw new Error("no create");
    const result = await ex.run(
      op,
      ex.context("firewallRule", {
        rule: canonicalRule("firewallRule", { ...rule, description: '</entry><entry name="evil">' }),
        marker: "ns/r1",
      }),
      t,
      "create",
    );
    const form = new URLSearchParams(t.sent[0]?.body?.text);
    expect(form.get("element")).toBe(
      "<from><member>trust</member></from><action>allow</action><description>&lt;/entry&gt;&lt;entry name=&quot;evil&quot;&gt; [vnf:ns/r1]</description>",
    );
    expect(form.get("xpath")).toBe(
      `/config/devices/entry/vsys/entry[@name='vsys1']/rulebase/security/rules/entry[@name='${result.vendorRef}']`,
    );
    expect(result.vendorRef).toMatch(/^vnf-[0-9a-f]{12}$/);
  });

  it("treats code 7 on delete as absent and other error codes as errors", async () => {
    const op = dictionary.resources.firewallRule?.operations.delete;
    if (!op) throw new Error("no delete");
    const ex = executor(dictionary);
    const absent = await ex.run(
      op,
      ex.context("firewallRule", { vendorRef: "r1" }),
      scripted(() =>
        xmlResponse(
          '<response status="error" code="7"><msg><line>Object doesn\'t exist</line></msg></response>',
        ),
      ),
      "delete",
    );
    expect(absent.absent).toBe(true);
    const error = await rejection(
      ex.run(
        op,
        ex.context("firewallRule", { vendorRef: "r1" }),
        scripted(() =>
          xmlResponse('<response status="error" code="12"><msg><line>invalid object</line></msg></response>'),
        ),
        "delete",
      ),
    );
    expect(error.code).toBe("VNF_INVALID");
    expect(error.vendorMessage).toBe("invalid object");
  });

  it("lists items by their @name attribute", async () => {
    const op = dictionary.resources.firewallRule?.operations.list;
    if (!op) throw new Error("no list");
    const ex = executor(dictionary);
    const result = await ex.run(
      op,
      ex.context("firewallRule"),
      scripted(() =>
        xmlResponse(
          '<response status="success"><result><rules><entry name="a"><action>allow</action></entry><entry name="b"><action>deny</action></entry></rules></result></response>',
        ),
      ),
      "list",
    );
    expect(result.items.map((i) => i.vendorRef)).toEqual(["a", "b"]);
  });
});

describe("form API with command lists (VyOS-like)", async () => {
  const dictionary = await loadDictionaryFile("test/fixtures/dictionaries/valid/form-configure.yaml");
  const create = dictionary.resources.firewallRule?.operations.create;
  if (!create) throw new Error("no create");

  it("sends one commit with a command per field, the optional ones only when set", async () => {
    const ex = executor(dictionary);
    const ok = () => jsonResponse({ success: true, data: null, error: null });
    const withPort = scripted(ok);
    const result = await ex.run(
      create,
      ex.context("firewallRule", { rule, marker: "ns/r", ruleNumber: 42 }),
      withPort,
      "create",
    );
    expect(result.vendorRef).toBe("42");
    const commands = JSON.parse(new URLSearchParams(withPort.sent[0]?.body?.text).get("data") ?? "");
    expect(commands).toHaveLength(3);
    expect(commands[2]).toEqual({
      op: "set",
      path: ["firewall", "name", "WAN_IN", "rule", "42", "destination", "port"],
      value: "443",
    });
    const withoutPort = scripted(ok);
    await ex.run(
      create,
      ex.context("firewallRule", {
        rule: canonicalRule("firewallRule", { ...rule, destination: { cidr: "any" } }),
        marker: "ns/r",
        ruleNumber: 42,
      }),
      withoutPort,
      "create",
    );
    expect(JSON.parse(new URLSearchParams(withoutPort.sent[0]?.body?.text).get("data") ?? "")).toHaveLength(
      2,
    );
  });

  it("maps success:false to VNF_INVALID with the vendor's error", async () => {
    const ex = executor(dictionary);
    const t = scripted(() => jsonResponse({ success: false, data: null, error: "Invalid action" }));
    const error = await rejection(
      ex.run(create, ex.context("firewallRule", { rule, marker: "ns/r", ruleNumber: 1 }), t, "create"),
    );
    expect(error.code).toBe("VNF_INVALID");
    expect(error.vendorMessage).toBe("Invalid action");
  });
});

describe("body-status API with safe apply (OPNsense-like)", async () => {
  const dictionary = await loadDictionaryFile("test/fixtures/dictionaries/valid/body-errors-savepoint.yaml");

  it("passes the savepoint revision to apply and cancelRollback", async () => {
    const activation = dictionary.activation;
    if (!activation) throw new Error("no activation");
    const t = scripted((request) => {
      if (request.path.endsWith("/savepoint")) return jsonResponse({ revision: "1717.123" });
      if (request.path.includes("/apply/")) return jsonResponse({ status: "OK\n\n" });
      return jsonResponse({ status: "ok" });
    });
    await executor(dictionary).run(activation, {}, t, "activation");
    expect(t.sent.map((r) => r.path)).toEqual([
      "/api/firewall/filter/savepoint",
      "/api/firewall/filter/apply/1717.123",
      "/api/firewall/filter/cancelRollback/1717.123",
    ]);
  });

  it("reads errors from a 200 body", async () => {
    const create = dictionary.resources.firewallRule?.operations.create;
    if (!create) throw new Error("no create");
    const ex = executor(dictionary);
    const t = scripted(() =>
      jsonResponse({ result: "failed", validations: { "rule.action": "Option [] not in list." } }),
    );
    const error = await rejection(
      ex.run(create, ex.context("firewallRule", { rule, marker: "ns/r" }), t, "create"),
    );
    expect(error.code).toBe("VNF_INVALID");
    expect(error.httpStatus).toBe(200);
    expect(error.vendorMessage).toContain("Option [] not in list.");
  });

  it("takes the uuid as vendorRef and treats `not found` on delete as absent", async () => {
    const ops = dictionary.resources.firewallRule?.operations;
    if (!ops) throw new Error("no ops");
    const ex = executor(dictionary);
    const created = await ex.run(
      ops.create,
      ex.context("firewallRule", { rule, marker: "ns/r" }),
      scripted(() => jsonResponse({ result: "saved", uuid: "0b7e-11" })),
      "create",
    );
    expect(created.vendorRef).toBe("0b7e-11");
    const deleted = await ex.run(
      ops.delete,
      ex.context("firewallRule", { vendorRef: "0b7e-11" }),
      scripted(() => jsonResponse({ result: "not found" })),
      "delete",
    );
    expect(deleted.absent).toBe(true);
  });
});

describe("generic failure handling", async () => {
  const dictionary = await loadDictionaryFile("dictionaries/pfsense-2.7-restapi-v2.yaml");
  const ops = dictionary.resources.firewallRule?.operations;
  if (!ops) throw new Error("no ops");
  const ex = executor(dictionary);

  it("reports a 200 with a garbage body as VNF_UPSTREAM (retryable)", async () => {
    const error = await rejection(
      ex.run(
        ops.create,
        ex.context("firewallRule", { rule, marker: "m" }),
        scripted(() => ({ status: 200, headers: {}, text: "<html>oops secret-internal-page\u001b[31m" })),
        "create",
      ),
    );
    expect(error.code).toBe("VNF_UPSTREAM");
    expect(error.message).toBe(
      "create step 2: HTTP 200 with a body that is not JSON (logged at debug level)",
    );
    // The appliance's words stay out of the message; the debug log gets them, escaped.
    expect(error.message).not.toContain("oops");
    expect(error.responseBody).toContain("<html>oops secret-internal-page\\u001b[31m");
    expect(JSON.stringify(error.toJSON())).not.toContain("oops");
  });

  it("keeps an unmapped error answer's body out of the message", async () => {
    const error = await rejection(
      ex.run(
        ops.create,
        ex.context("firewallRule", { rule, marker: "m" }),
        scripted(() => ({ status: 500, headers: {}, text: "internal metadata: token=abc" })),
        "create",
      ),
    );
    expect(error.message).toBe("create step 2: HTTP 500");
    expect(error.responseBody).toBe("internal metadata: token=abc");
  });

  it("reports a response without the vendorRef as VNF_UPSTREAM", async () => {
    const error = await rejection(
      ex.run(
        ops.create,
        ex.context("firewallRule", { rule, marker: "m" }),
        scripted(() => jsonResponse({ code: 200, data: {} })),
        "create",
      ),
    );
    expect(error.code).toBe("VNF_UPSTREAM");
    expect(error.message).toContain("$.data.tracker");
  });

  it("stops an update whose lookup finds nothing (absent) before any write", async () => {
    const t = scripted(() => jsonResponse({ code: 200, data: [] }));
    const result = await ex.run(
      ops.update,
      ex.context("firewallRule", { rule, marker: "m", vendorRef: "17" }),
      t,
      "update",
    );
    expect(result.absent).toBe(true);
    expect(t.sent.map((r) => r.method)).toEqual(["GET"]);
  });

  it("feeds the looked-up index into the PATCH", async () => {
    const t = scripted((_r, i) =>
      i === 0
        ? jsonResponse({ code: 200, data: [{ id: 3, tracker: 17 }] })
        : jsonResponse({ code: 200, data: { id: 3 } }),
    );
    await ex.run(ops.update, ex.context("firewallRule", { rule, marker: "m", vendorRef: "17" }), t, "update");
    expect(t.sent[0]?.query).toEqual([["tracker", "17"]]);
    expect(JSON.parse(t.sent[1]?.body?.text ?? "").id).toBe(3);
  });

  it("sends the rule's tracker with the PATCH and starts over when the index names another rule (moved)", async () => {
    const refusal = {
      code: 400,
      status: "bad request",
      response_id: "FIELD_VALUE_CHANGED_WHEN_NOT_EDITABLE",
      message:
        "Field `tracker` is not editable but the requested value `17` differs from its current value `18`.",
      data: [],
    };
    // Looked up at 3; by the time the PATCH arrives another rule is there; looked up again at 2.
    const answers = [
      jsonResponse({ code: 200, data: [{ id: 3, tracker: 17 }] }),
      jsonResponse(refusal, 400),
      jsonResponse({ code: 200, data: [{ id: 2, tracker: 17 }] }),
      jsonResponse({ code: 200, data: { id: 2, tracker: 17 } }),
    ];
    const t = scripted((_r, i) => answers[i] ?? jsonResponse({}, 500));
    const result = await ex.run(
      ops.update,
      ex.context("firewallRule", { rule, marker: "m", vendorRef: "17" }),
      t,
      "update",
    );
    expect(result.absent).toBe(false);
    expect(t.sent.map((r) => r.method)).toEqual(["GET", "PATCH", "GET", "PATCH"]);
    const patches = t.sent.filter((r) => r.method === "PATCH").map((r) => JSON.parse(r.body?.text ?? ""));
    expect(patches.map((b) => [b.id, b.tracker])).toEqual([
      [3, 17],
      [2, 17],
    ]);
  });

  it("a PATCH refused for another field is an error, not a move; one that keeps moving gives up retryably", async () => {
    const floating = {
      code: 400,
      response_id: "FIELD_VALUE_CHANGED_WHEN_NOT_EDITABLE",
      message:
        "Field `floating` is not editable but the requested value `true` differs from its current value `false`.",
      data: [],
    };
    const lookup = jsonResponse({ code: 200, data: [{ id: 3, tracker: 17 }] });
    const invalid = await rejection(
      ex.run(
        ops.update,
        ex.context("firewallRule", { rule, marker: "m", vendorRef: "17" }),
        scripted((_r, i) => (i === 0 ? lookup : jsonResponse(floating, 400))),
        "update",
      ),
    );
    expect(invalid.code).toBe("VNF_INVALID");
    const t = scripted((r) => (r.method === "GET" ? lookup : jsonResponse({ data: [] }, 404)));
    const busy = await rejection(
      ex.run(ops.update, ex.context("firewallRule", { rule, marker: "m", vendorRef: "17" }), t, "update"),
    );
    expect(busy.code).toBe("VNF_CAPACITY");
    expect(busy.retryable).toBe(true);
    expect(t.sent.filter((r) => r.method === "PATCH")).toHaveLength(MOVED_RESTARTS + 1);
  });

  it("deletes a filter rule by its tracker in one request: no index", async () => {
    const t = scripted(() => jsonResponse({ code: 200, data: [{ id: 4, tracker: 17 }] }));
    const result = await ex.run(ops.delete, ex.context("firewallRule", { vendorRef: "17" }), t, "delete");
    expect(result.absent).toBe(false);
    expect(t.sent.map((r) => [r.method, r.path, r.query])).toEqual([
      ["DELETE", "/api/v2/firewall/rules", [["tracker", "17"]]],
    ]);
    const gone = await ex.run(
      ops.delete,
      ex.context("firewallRule", { vendorRef: "17" }),
      scripted(() => jsonResponse({ code: 200, data: [] })),
      "delete",
    );
    expect(gone.absent).toBe(true);
  });

  it("deletes a port forward by index AND marker, and looks again when nothing matched", async () => {
    const nat = dictionary.resources.natRule?.operations.delete;
    if (!nat) throw new Error("no nat");
    const marker = "3f8d0cc6.7607bf50.963aaf8dae21972f.6435de3f";
    const ours = { id: 5, descr: `web [vnf:${marker}]` };
    const answers = [
      jsonResponse({ code: 200, data: [ours] }),
      jsonResponse({ code: 200, data: [] }),
      jsonResponse({ code: 200, data: [{ ...ours, id: 4 }] }),
      jsonResponse({ code: 200, data: [{ ...ours, id: 4 }] }),
    ];
    const t = scripted((_r, i) => answers[i] ?? jsonResponse({}, 500));
    const result = await ex.run(nat, ex.context("natRule", { vendorRef: marker }), t, "delete");
    expect(result.absent).toBe(false);
    const deletes = t.sent.filter((r) => r.method === "DELETE");
    expect(deletes.map((r) => Object.fromEntries(r.query))).toEqual([
      { id: "5", descr__contains: `[vnf:${marker}]` },
      { id: "4", descr__contains: `[vnf:${marker}]` },
    ]);
  });

  it("refuses input the dictionary cannot express as BROKER_INVALID_REQUEST", async () => {
    const nat = dictionary.resources.natRule?.operations.create;
    if (!nat) throw new Error("no nat");
    const t = scripted(() => jsonResponse({}));
    const error = await rejection(
      ex.run(
        nat,
        ex.context("natRule", {
          rule: canonicalRule("natRule", {
            type: "1to1",
            interface: "wan",
            protocol: "udp",
            destination: { address: "203.0.113.5" },
            translated: { address: "10.0.0.5" },
          }),
          marker: "m",
        }),
        t,
        "create",
      ),
    );
    expect(error.code).toBe("BROKER_INVALID_REQUEST");
    expect(error.message).toContain("pfSense 1:1 NAT maps every protocol");
    expect(t.sent).toHaveLength(0);
  });

  it("resolves declared parameters with defaults and refuses malformed ones", async () => {
    const fortios = await loadDictionaryFile("dictionaries/fortios-7.yaml");
    expect(resolveParameters(fortios, {})).toEqual({ vdom: "root" });
    expect(resolveParameters(fortios, { vdom: "dmz", other: "ignored" })).toEqual({ vdom: "dmz" });
    expect(() => resolveParameters(fortios, { vdom: "bad vdom/../" })).toThrow(VnfError);
  });
});
