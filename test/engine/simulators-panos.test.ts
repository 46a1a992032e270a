// Pins the PAN-OS XML API behaviour of the PAN-OS simulator over real HTTPS (keygen, config actions on
// candidate and running configuration, error codes, commit jobs), then the PAN-OS dictionary's commit
// activation against it: a failed commit job is an error, not a success.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ApplianceSession } from "../../src/appliance/session.ts";
import { VnfError } from "../../src/dictionary/errors.ts";
import { loadDictionaryFile } from "../../src/dictionary/loader.ts";
import { parseBody } from "../../src/dictionary/response.ts";
import { basicAuth, type RawClient, rawClient } from "../simulators/common/client.ts";
import { type SimulatorHandle, startSimulator } from "../simulators/index.ts";

const VSYS = "/config/devices/entry[@name='localhost.localdomain']/vsys/entry[@name='vsys1']";
const RULES = `${VSYS}/rulebase/security/rules`;
const ruleXpath = (name: string) => `${RULES}/entry[@name='${name}']`;
const RULE =
  "<from><member>untrust</member></from><to><member>trust</member></to><source><member>any</member></source><destination><member>192.0.2.10</member></destination><application><member>any</member></application><service><member>service-https</member></service><action>allow</action>";

type Doc = { response: Record<string, unknown> & { "@status": string; "@code"?: string } };

describe("PAN-OS simulator", () => {
  let sim: SimulatorHandle;
  let client: RawClient;
  let key: string;

  async function call(
    params: Record<string, string>,
    init: { method?: string; headers?: Record<string, string> } = {},
  ) {
    const method = init.method ?? "POST";
    const form = new URLSearchParams(params).toString();
    const response =
      method === "GET"
        ? await client.request("GET", "/api/", {
            query: params,
            headers: init.headers ?? { "x-pan-key": key },
          })
        : await client.request("POST", "/api/", {
            headers: {
              "content-type": "application/x-www-form-urlencoded",
              ...(init.headers ?? { "x-pan-key": key }),
            },
            body: form,
          });
    const doc = parseBody(response.text, "xml", { xmlLists: ["entry", "member", "line"] }).value as Doc;
    return { status: response.status, text: response.text, doc };
  }

  const keygen = async () => {
    const { doc } = await call(
      { type: "keygen", user: sim.credentials.username ?? "", password: sim.credentials.password ?? "" },
      { headers: {} },
    );
    return (doc.response.result as { key: string }).key;
  };

  const job = async (id: string) =>
    (await call({ type: "op", cmd: `<show><jobs><id>${id}</id></jobs></show>` })).doc.response.result as {
      job: Record<string, unknown> & {
        status: string;
        result: string;
        progress: string;
        details: { line: string[] } | string;
      };
    };

  beforeAll(async () => {
    sim = await startSimulator("panos", { applyDelayMs: 300, serial: "007954000TEST", version: "10.2.7" });
    client = rawClient(sim);
  });
  afterAll(async () => {
    await client.close();
    await sim.stop();
  });
  afterEach(async () => {
    await sim.control.reset();
  });

  describe("authentication", () => {
    it("keygen (GET or POST) returns a key accepted as key= and X-PAN-KEY; a wrong password gets 403", async () => {
      key = await keygen();
      expect(key).toMatch(/^LUFRPT/);
      const get = await client.request("GET", "/api/", {
        query: {
          type: "keygen",
          user: sim.credentials.username ?? "",
          password: sim.credentials.password ?? "",
        },
      });
      expect(get.text).toMatch(/^<response status="success"><result><key>LUFRPT/);
      const info = { type: "op", cmd: "<show><system><info></info></system></show>" };
      expect((await call(info)).status).toBe(200);
      expect((await call({ ...info, key }, { method: "GET", headers: {} })).status).toBe(200);
      const wrong = await call({ type: "keygen", user: "admin", password: "nope" }, { headers: {} });
      expect(wrong.status).toBe(403);
      expect(wrong.text).toBe(
        '<response status="error" code="403"><result><msg>Invalid Credential</msg></result></response>',
      );
      expect((await sim.control.stats()).loginCount).toBe(2);
    });

    it("refuses an invalid or revoked key with 403, accepts Basic credentials, never keygen by Basic", async () => {
      key = await keygen();
      const info = { type: "op", cmd: "<show><system><info></info></system></show>" };
      const bad = await call(info, { headers: { "x-pan-key": "LUFRPTbogus" } });
      expect(bad.status).toBe(403);
      expect(bad.text).toBe(
        '<response status="error" code="403"><result><msg>Invalid credentials.</msg></result></response>',
      );
      const basic = basicAuth(sim.credentials.username ?? "", sim.credentials.password ?? "");
      expect((await call(info, { headers: { authorization: basic } })).status).toBe(200);
      expect((await call({ type: "keygen" }, { headers: { authorization: basic } })).status).toBe(403);
      await sim.control.injectFault({ kind: "authExpire", times: 1, pathPrefix: "/nothing" });
      await sim.control.setCredentials({ username: "admin", password: "rotated-password" });
      expect((await call(info)).status).toBe(403);
    });

    it("redacts the key in the request log (header and query)", async () => {
      key = await keygen();
      await call(
        { type: "op", cmd: "<show><system><info></info></system></show>", key },
        { method: "GET", headers: {} },
      );
      const log = await sim.control.requests();
      expect(JSON.stringify(log)).not.toContain(key);
      expect(log[1]?.query.key).toBe("[REDACTED]");
    });
  });

  describe("configuration", () => {
    it("writes the candidate; get reads it, show reads the running configuration", async () => {
      key = await keygen();
      const set = await call({ type: "config", action: "set", xpath: ruleXpath("r1"), element: RULE });
      expect(set.text).toBe('<response status="success" code="20"><msg>command succeeded</msg></response>');
      const got = await call({ type: "config", action: "get", xpath: ruleXpath("r1") }, { method: "GET" });
      expect(got.doc.response).toMatchObject({ "@status": "success", "@code": "19" });
      expect(got.doc.response.result).toMatchObject({
        "@total-count": "1",
        entry: [{ "@name": "r1", action: "allow", from: { member: ["untrust"] } }],
      });
      const shown = await call({ type: "config", action: "show", xpath: ruleXpath("r1") }, { method: "GET" });
      expect(shown.text).toBe(
        '<response status="error" code="7"><msg><line>No such node</line></msg></response>',
      );
      const view = await sim.control.objects("firewallRule");
      expect(view).toMatchObject({ pending: true, running: [] });
      expect(view.candidate).toHaveLength(1);
    });

    it("answers a get of a missing node with success code 7 and an empty result", async () => {
      key = await keygen();
      const got = await call({ type: "config", action: "get", xpath: ruleXpath("nope") }, { method: "GET" });
      expect(got.text).toBe(
        '<response status="success" code="7"><result total-count="0" count="0"/></response>',
      );
    });

    it("set merges member lists, edit replaces the entry", async () => {
      key = await keygen();
      await call({ type: "config", action: "set", xpath: ruleXpath("r1"), element: RULE });
      await call({
        type: "config",
        action: "set",
        xpath: ruleXpath("r1"),
        element: "<from><member>dmz</member></from>",
      });
      let [stored] = (await sim.control.objects("firewallRule")).candidate;
      expect(stored?.from).toEqual(["untrust", "dmz"]);
      const edited = await call({
        type: "config",
        action: "edit",
        xpath: ruleXpath("r1"),
        element: `<entry name="r1">${RULE.replace("allow", "deny")}</entry>`,
      });
      expect(edited.doc.response["@code"]).toBe("20");
      [stored] = (await sim.control.objects("firewallRule")).candidate;
      expect(stored).toMatchObject({ from: ["untrust"], action: "deny" });
    });

    it.each([
      ["a bad xpath", "6", { action: "get", xpath: `${VSYS}/rulebase/bogus` }],
      [
        "a vsys that does not exist",
        "12",
        { action: "set", xpath: ruleXpath("r1").replace("vsys1", "vsys2"), element: RULE },
      ],
      [
        "an unexpected element",
        "12",
        { action: "set", xpath: ruleXpath("r1"), element: "<colour>red</colour>" },
      ],
      [
        "a value out of range",
        "12",
        { action: "set", xpath: ruleXpath("r1"), element: "<action>permit</action>" },
      ],
      ["malformed XML", "18", { action: "set", xpath: ruleXpath("r1"), element: "<action>allow" }],
      [
        "an edit of another node",
        "12",
        { action: "edit", xpath: ruleXpath("r1"), element: '<entry name="r2"/>' },
      ],
      ["a delete of a missing node", "7", { action: "delete", xpath: ruleXpath("nope") }],
    ])("refuses %s with status error and code %s (HTTP 200)", async (_name, code, params) => {
      key = await keygen();
      const answer = await call({ type: "config", ...params } as Record<string, string>);
      expect(answer.status).toBe(200);
      expect(answer.doc.response).toMatchObject({ "@status": "error", "@code": code });
      expect((await sim.control.objects("firewallRule")).candidate).toEqual([]);
    });

    it("refuses to delete a service object a rule still uses (code 10)", async () => {
      key = await keygen();
      await call({
        type: "config",
        action: "set",
        xpath: VSYS,
        element: `<service><entry name="svc-443"><protocol><tcp><port>443</port></tcp></protocol></entry></service><rulebase><security><rules><entry name="r1">${RULE.replace("service-https", "svc-443")}</entry></rules></security></rulebase>`,
      });
      const refused = await call({
        type: "config",
        action: "delete",
        xpath: `${VSYS}/service/entry[@name='svc-443']`,
      });
      expect(refused.doc.response).toMatchObject({ "@status": "error", "@code": "10" });
      expect(refused.text).toContain("svc-443 cannot be deleted because of references from:");
    });

    it("stores exactly what the element's XML says: escaped markup stays text, unescaped markup is structure", async () => {
      key = await keygen();
      await call({
        type: "config",
        action: "set",
        xpath: ruleXpath("r1"),
        element: `${RULE}<description>x&lt;/description&gt;&lt;action&gt;deny&lt;/action&gt;</description>`,
      });
      let [stored] = (await sim.control.objects("firewallRule")).candidate;
      expect(stored).toMatchObject({ action: "allow", description: "x</description><action>deny</action>" });
      // A client that forgot to escape: the appliance sees an <action> element and obeys it.
      await call({
        type: "config",
        action: "set",
        xpath: ruleXpath("r1"),
        element: "<description>x</description><action>deny</action><description>y</description>",
      });
      [stored] = (await sim.control.objects("firewallRule")).candidate;
      expect(stored).toMatchObject({ action: "deny", description: "y" });
    });

    it("moves rules (evaluation order)", async () => {
      key = await keygen();
      for (const name of ["a", "b"])
        await call({ type: "config", action: "set", xpath: ruleXpath(name), element: RULE });
      await call({ type: "config", action: "move", xpath: ruleXpath("b"), where: "top" });
      expect((await sim.control.objects("firewallRule")).candidate.map((r) => r["@name"])).toEqual([
        "b",
        "a",
      ]);
    });
  });

  describe("commit", () => {
    it("nothing to commit: code 19 without a job", async () => {
      key = await keygen();
      const commit = await call({ type: "commit", cmd: "<commit></commit>" });
      expect(commit.text).toBe(
        '<response status="success" code="19"><msg>There are no changes to commit.</msg></response>',
      );
      expect((await sim.control.stats()).applyCount).toBe(0);
    });

    it("a commit is a job that takes time; running changes only when it finishes OK", async () => {
      key = await keygen();
      await call({ type: "config", action: "set", xpath: ruleXpath("r1"), element: RULE });
      const commit = await call({ type: "commit", cmd: "<commit></commit>" });
      expect(commit.doc.response).toMatchObject({ "@status": "success", "@code": "19" });
      const id = (commit.doc.response.result as { job: string }).job;
      expect(commit.text).toContain(`Commit job enqueued with jobid ${id}`);
      const running = await job(id);
      expect(running.job).toMatchObject({ id, type: "Commit", status: "ACT", result: "PEND" });
      expect(Number(running.job.progress)).toBeLessThan(100);
      expect((await sim.control.objects("firewallRule")).running).toEqual([]);
      await expect.poll(async () => (await job(id)).job.status, { timeout: 3000 }).toBe("FIN");
      const done = await job(id);
      expect(done.job).toMatchObject({ result: "OK", progress: "100" });
      const view = await sim.control.objects("firewallRule");
      expect(view.pending).toBe(false);
      expect(view.running).toHaveLength(1);
      expect((await sim.control.stats()).applyCount).toBe(1);
    });

    it("queues a commit asked for while one runs (PEND, then it runs)", async () => {
      key = await keygen();
      await call({ type: "config", action: "set", xpath: ruleXpath("r1"), element: RULE });
      const first = (await call({ type: "commit", cmd: "<commit></commit>" })).doc.response.result as {
        job: string;
      };
      await call({ type: "config", action: "set", xpath: ruleXpath("r2"), element: RULE });
      const second = (await call({ type: "commit", cmd: "<commit></commit>" })).doc.response.result as {
        job: string;
      };
      expect((await job(second.job)).job).toMatchObject({ status: "PEND", queued: "YES" });
      await expect.poll(async () => (await job(second.job)).job.status, { timeout: 5000 }).toBe("FIN");
      expect((await job(first.job)).job.result).toBe("OK");
      expect((await sim.control.objects("firewallRule")).running.map((r) => r["@name"])).toEqual([
        "r1",
        "r2",
      ]);
    });

    it("fails a commit whose configuration does not validate, or when a commit fault is armed", async () => {
      key = await keygen();
      await call({
        type: "config",
        action: "set",
        xpath: ruleXpath("r1"),
        element: RULE.replace("<member>untrust</member>", "<member>ghost</member>"),
      });
      const id = (
        (await call({ type: "commit", cmd: "<commit></commit>" })).doc.response.result as { job: string }
      ).job;
      await expect.poll(async () => (await job(id)).job.status, { timeout: 3000 }).toBe("FIN");
      const failed = await job(id);
      expect(failed.job.result).toBe("FAIL");
      expect(failed.job.details).toEqual({
        line: ["Validation Error:", "r1 -> from 'ghost' is not a valid reference", "Commit failed"],
      });
      expect((await sim.control.objects("firewallRule")).running).toEqual([]);

      await sim.control.deleteObject("firewallRule", "r1", { apply: false });
      await call({ type: "config", action: "set", xpath: ruleXpath("r2"), element: RULE });
      await sim.control.putObject("commitFault", { message: "management server busy", times: 1 });
      const id2 = (
        (await call({ type: "commit", cmd: "<commit></commit>" })).doc.response.result as { job: string }
      ).job;
      await expect.poll(async () => (await job(id2)).job.status, { timeout: 3000 }).toBe("FIN");
      expect((await job(id2)).job).toMatchObject({
        result: "FAIL",
        details: { line: ["management server busy", "Commit failed"] },
      });
      expect((await sim.control.objects("commitFault")).candidate).toEqual([]);
    });

    it("answers show system info and refuses unknown operational commands and jobs", async () => {
      key = await keygen();
      const info = await call({ type: "op", cmd: "<show><system><info></info></system></show>" });
      expect(info.doc.response.result).toMatchObject({
        system: { serial: "007954000TEST", "sw-version": "10.2.7" },
      });
      expect((await call({ type: "op", cmd: "<show><clock></clock></show>" })).doc.response).toMatchObject({
        "@status": "error",
        "@code": "17",
      });
      expect(
        (await call({ type: "op", cmd: "<show><jobs><id>999</id></jobs></show>" })).doc.response["@status"],
      ).toBe("error");
    });
  });
});

describe("PAN-OS dictionary: commit activation", () => {
  let sim: SimulatorHandle;
  let session: ApplianceSession;

  beforeAll(async () => {
    sim = await startSimulator("panos", { applyDelayMs: 100 });
    session = new ApplianceSession({
      dictionary: await loadDictionaryFile("dictionaries/panos-10-xmlapi.yaml"),
      endpoint: sim.url,
      credentials: sim.credentials,
      tls: { caPem: sim.caPem },
      limits: { requestsPerSecond: 1000 },
    });
  });
  afterAll(async () => {
    await session.close();
    await sim.stop();
  });

  const rule = (zone: string) => ({
    interface: zone,
    action: "allow",
    protocol: "tcp",
    destination: { cidr: "192.0.2.10", port: "443" },
    description: "web",
  });

  it("waits for the commit job and maps a FAIL to VNF_INVALID with the job's message", async () => {
    await session.create("firewallRule", { rule: rule("ghost"), marker: "commit/bad" });
    const error = await session.activate().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(VnfError);
    expect((error as VnfError).code).toBe("VNF_INVALID");
    expect((error as VnfError).vendorMessage).toContain("from 'ghost' is not a valid reference");
    expect((await sim.control.objects("firewallRule")).pending).toBe(true);
  });

  it("commits once the configuration is valid, and has nothing to wait for when nothing changed", async () => {
    await sim.control.reset();
    const { vendorRef } = await session.create("firewallRule", {
      rule: rule("untrust"),
      marker: "commit/ok",
    });
    const result = await session.activate();
    expect(result.jobs).toHaveLength(1);
    const view = await sim.control.objects("firewallRule");
    expect(view.running.map((r) => r["@name"])).toEqual([vendorRef]);
    expect((await sim.control.objects("service")).running.map((s) => s["@name"])).toEqual(["vnf-tcp-443"]);
    expect((await session.activate()).jobs).toEqual([]);
  });
});
