// ONE engine suite for every vendor (rows in vendors.ts): the dictionary engine and the appliance
// session against the vendor's simulator over real HTTPS. Health, CRUD for both kinds, activation,
// adoption after a crash, every fault class mapped to its code and retried (or not) as documented,
// concurrency limits, TLS trust, and hostile identifiers.
import pino from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ActivationCoalescer } from "../../src/appliance/activation.ts";
import {
  ApplianceSession,
  type ApplianceSessionOptions,
  TRANSPORT_RETRY,
  type WriteInput,
} from "../../src/appliance/session.ts";
import type { CompiledDictionary } from "../../src/dictionary/compiled.ts";
import { ERROR_CODE_TABLE, VnfError } from "../../src/dictionary/errors.ts";
import { loadDictionaryFile } from "../../src/dictionary/loader.ts";
import { canonicalRule } from "../../src/dictionary/rule-input.ts";
import { type Fault, type SimulatorHandle, startSimulator } from "../simulators/index.ts";
import {
  caseOf,
  type KindCase,
  kindCases,
  refusedNatTypes,
  type StoredAccess,
  storedObjects,
  VENDOR_CASES,
  type VendorRow,
} from "./vendors.ts";

async function failure(promise: Promise<unknown>): Promise<VnfError> {
  const outcome = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(outcome).toBeInstanceOf(VnfError);
  return outcome as VnfError;
}

describe.each(VENDOR_CASES)("%s", (_label, row: VendorRow) => {
  let sim: SimulatorHandle;
  let dictionary: CompiledDictionary;
  const sessions: ApplianceSession[] = [];

  function session(overrides: Partial<ApplianceSessionOptions> = {}): ApplianceSession {
    const s = new ApplianceSession({
      dictionary,
      endpoint: sim.url,
      credentials: sim.credentials,
      tls: { caPem: sim.caPem },
      ...(row.parameters ? { parameters: row.parameters } : {}),
      transportRetry: { attempts: 3, minDelayMs: 10, maxDelayMs: 40 },
      limits: { requestTimeoutMs: 3000, requestsPerSecond: 1000 },
      ...overrides,
    });
    sessions.push(s);
    return s;
  }

  const ruleNumbers = new Map<string, number>();
  /** The write input; dictionaries with `ruleNumbers` get one per marker, as the operator allocates. */
  function input(rule: Record<string, unknown>, marker: string): WriteInput {
    const range = dictionary.ruleNumbers;
    if (!range) return { rule, marker };
    let ruleNumber = ruleNumbers.get(marker);
    if (ruleNumber === undefined) {
      ruleNumber = range.min + ruleNumbers.size;
      ruleNumbers.set(marker, ruleNumber);
    }
    return { rule, marker, ruleNumber };
  }

  async function stored(access: StoredAccess, vendorRef: string) {
    const view = await sim.control.objects(access.controlKind);
    return access.find(view.candidate, vendorRef);
  }

  async function requestsTo(pathPrefix: string, method?: string) {
    return sim.control.requests(method ? { pathPrefix, method } : { pathPrefix });
  }

  beforeAll(async () => {
    dictionary = await loadDictionaryFile(row.dictionary);
    sim = await startSimulator(row.vendor, row.simulator as never);
  });

  beforeEach(async () => {
    await Promise.all(sessions.splice(0).map((s) => s.close()));
    await sim.control.reset();
  });

  afterAll(async () => {
    await Promise.all(sessions.splice(0).map((s) => s.close()));
    await sim.stop();
  });

  it("health: reports firmware version and serial, inside the dictionary's range", async () => {
    const health = await session().health();
    expect(health.version).toBe(row.expected.version);
    expect(health.serial).toBe(row.expected.serial);
    expect(health.compatible).toBe(true);
  });

  describe.each(kindCases(row))("$label", (c: KindCase) => {
    const kind = c.kind;
    const tag = c.label.replace(" ", "/");

    it("create, get, list, update, delete (absent = success)", async () => {
      const s = session();
      const { vendorRef, adopted } = await s.create(kind, input(c.create, `suite/${tag}`));
      expect(adopted).toBe(false);
      const onAppliance = await stored(c.stored, vendorRef);
      expect(onAppliance).toBeDefined();
      expect(String(c.stored.description(onAppliance ?? {}))).toContain(`[vnf:suite/${tag}]`);
      // The translation as the vendor's own API expresses it.
      if (c.native) expect(onAppliance).toMatchObject(c.native);

      const got = await s.get(kind, vendorRef);
      expect(got?.vendorRef).toBe(vendorRef);
      expect(got?.marker).toBe(`suite/${tag}`);
      expect(s.differences(kind, c.create, got?.normalized ?? {})).toEqual([]);

      const listed = await s.list(kind);
      expect(listed.filter((o) => o.vendorRef === vendorRef)).toHaveLength(1);
      expect(
        s.differences(kind, c.create, listed.find((o) => o.vendorRef === vendorRef)?.normalized ?? {}),
      ).toEqual([]);

      await s.update(kind, vendorRef, input(c.update, `suite/${tag}`));
      const updated = await s.get(kind, vendorRef);
      expect(s.differences(kind, c.update, updated?.normalized ?? {})).toEqual([]);
      expect(s.differences(kind, c.create, updated?.normalized ?? {}).length).toBeGreaterThan(0);

      await s.delete(kind, vendorRef);
      expect(await s.get(kind, vendorRef)).toBeUndefined();
      expect(await stored(c.stored, vendorRef)).toBeUndefined();
      await expect(s.delete(kind, vendorRef)).resolves.toBeUndefined();
      const missing = await failure(s.update(kind, vendorRef, input(c.update, `suite/${tag}`)));
      expect(missing.notFound).toBe(true);
      expect(missing.code).toBe("VNF_CONFLICT");
    });

    it("adoption after a crash: the marker finds the object, no second create is sent", async () => {
      const marker = `crash/${tag}`;
      // The first process created the object, then died before recording the vendorRef.
      const { vendorRef } = await session().create(kind, input(c.create, marker));
      await sim.control.clearRequests();
      // The restarted process looks for its marker before creating.
      const restarted = session();
      const found = await restarted.findByMarker(kind, marker);
      expect(found?.vendorRef).toBe(vendorRef);
      expect(restarted.differences(kind, c.create, found?.normalized ?? {})).toEqual([]);
      const creates = (await requestsTo(c.createPath.pathPrefix, c.createPath.method)).filter(
        (r) => r.path === c.createPath.pathPrefix,
      );
      expect(creates).toEqual([]);
      // A create repeated anyway adopts instead of duplicating on vendors whose identity derives
      // from the marker; everywhere, exactly one object carries the marker.
      const view = await sim.control.objects(c.stored.controlKind);
      expect(
        view.candidate.filter((o) => String(c.stored.description(o)).includes(`[vnf:${marker}]`)),
      ).toHaveLength(1);
    });

    it("import and adoption in place: the listed object maps back to its rule, an update moves the marker, nothing is created", async () => {
      const s = session();
      const created = input(c.create, `import/${tag}`);
      const { vendorRef } = await s.create(kind, created);
      const before = await s.list(kind);
      const listed = before.find((o) => o.vendorRef === vendorRef);
      expect(listed).toBeDefined();
      const reversed = s.reverse(kind, listed ?? { vendorRef, normalized: {}, raw: {} });
      if (!reversed.ok) {
        // Only a kind the dictionary declares unadoptable may refuse, and it says why.
        expect(`${row.vendor} ${c.label}`).toMatch(/^pfsense natRule/);
        expect(reversed.reason).toMatch(/no stable id/);
        return;
      }
      expect(
        s.differences(
          kind,
          c.create,
          canonicalRule(kind, reversed.spec) as unknown as Record<string, unknown>,
        ),
      ).toEqual([]);
      // The adoption: the rule's request written over the object with the adopting rule's marker.
      await s.update(kind, vendorRef, { ...created, marker: `adopted/${tag}` });
      const adopted = await s.findByMarker(kind, `adopted/${tag}`);
      expect(adopted?.vendorRef).toBe(vendorRef);
      expect(await s.findByMarker(kind, `import/${tag}`)).toBeUndefined();
      // Nothing was created (on PAN-OS and VyOS a create and an update share one path: count objects).
      expect((await s.list(kind)).length).toBe(before.length);
    });

    it("refuses to guess when two objects carry the same marker", async () => {
      const s = session();
      const first = await s.create(kind, input(c.create, "twin/a"));
      const original = await stored(c.stored, first.vendorRef);
      // Someone copies the object by hand (same description, hence same marker).
      const defaultCopy = () => {
        const copy = { ...original };
        for (const key of ["id", "tracker", "policyid", "uuid", "q_origin_key"]) delete copy[key];
        if ("name" in copy && kind === "natRule") copy.name = `${String(copy.name)}-copy`;
        return copy;
      };
      const copy = row.copyOf ? row.copyOf(original ?? {}, kind) : defaultCopy();
      await sim.control.putObject(c.stored.controlKind, copy);
      const error = await failure(s.findByMarker(kind, "twin/a"));
      expect(error.code).toBe("VNF_CONFLICT");
      expect(error.message).toContain("2 appliance objects carry the ownership marker [vnf:twin/a]");
    });

    it("a hostile vendorRef addresses nothing and changes nothing", async () => {
      const s = session();
      const { vendorRef } = await s.create(kind, input(c.create, `hostile/${tag}`));
      const before = await sim.control.objects(c.stored.controlKind);
      // Either the appliance finds nothing there, or the dictionary refuses the value outright.
      const refusedOrNothing = async (p: Promise<unknown>) => {
        const outcome = await p.then(
          (v) => v,
          (e: unknown) => e,
        );
        if (outcome instanceof VnfError) expect(outcome.code).toBe("BROKER_INVALID_REQUEST");
        else expect(outcome).toBeUndefined();
      };
      await refusedOrNothing(s.get(kind, row.hostileVendorRef));
      await refusedOrNothing(s.delete(kind, row.hostileVendorRef));
      const after = await sim.control.objects(c.stored.controlKind);
      expect(after.candidate).toEqual(before.candidate);
      expect(await stored(c.stored, vendorRef)).toBeDefined();
    });
  });

  describe.each(refusedNatTypes(row))("natRule $type: not expressible", ({ rule, reason }) => {
    it("is refused before anything is written, with the reason and what to do instead", async () => {
      const s = session();
      const kindOnAppliance = caseOf(row, "natRule").stored.controlKind;
      const before = await sim.control.objects(kindOnAppliance);
      const error = await failure(s.create("natRule", input(rule, "refused/nat")));
      expect(error.code).toBe("BROKER_INVALID_REQUEST");
      expect(error.retryable).toBe(false);
      expect(error.message).toMatch(reason);
      expect((await sim.control.objects(kindOnAppliance)).candidate).toEqual(before.candidate);
    });
  });

  it("activation: staged writes become effective once, coalesced for a batch", async () => {
    const s = session();
    const created = await s.create("firewallRule", input(row.firewallRule.create, "act/1"));
    const view = await sim.control.objects("firewallRule");
    const inRunning = (v: typeof view) =>
      row.firewallRule.stored.find(storedObjects(v, false), created.vendorRef) !== undefined;
    if (row.activation === "staged") {
      expect(view.pending).toBe(true);
      expect(inRunning(view)).toBe(false);
    } else {
      expect(inRunning(view)).toBe(true);
    }
    await sim.control.clearRequests();

    // Five writes, each asking for activation, in one Batched window (closed by hand): one activation.
    const coalescer = new ActivationCoalescer(() => s.activate(), { mode: "Batched", windowMs: 600_000 });
    const writes = await Promise.all(
      [2, 3, 4, 5, 6].map(async (n) => {
        const r = await s.create("firewallRule", input(row.firewallRule.create, `act/${n}`));
        return { ref: r.vendorRef, activated: coalescer.requestActivation() };
      }),
    );
    coalescer.flush();
    const results = await Promise.all(writes.map((w) => w.activated));
    expect(coalescer.stats.activations).toBe(1);
    const after = await sim.control.objects("firewallRule");
    for (const w of writes)
      expect(row.firewallRule.stored.find(storedObjects(after, false), w.ref)).toBeDefined();
    expect(inRunning(after)).toBe(true);
    expect(after.pending).toBe(false);
    const stats = await sim.control.stats();
    if (row.activation === "staged") {
      expect(results[0]?.activated).toBe(true);
      expect(stats.applyCount).toBe(1);
      expect(s.needsActivation).toBe(true);
    } else {
      expect(results[0]).toEqual({ activated: false, jobs: [], outputs: {} });
      expect(stats.applyCount).toBe(0);
      expect(s.needsActivation).toBe(false);
    }
    await coalescer.close();
  });

  it("writes in parallel all survive (per-device concurrency limit)", async () => {
    const s = session();
    const refs = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        s.create("firewallRule", input(row.firewallRule.create, `par/${i}`)).then((r) => r.vendorRef),
      ),
    );
    expect(new Set(refs).size).toBe(8);
    const view = await sim.control.objects("firewallRule");
    for (const ref of refs) expect(row.firewallRule.stored.find(view.candidate, ref)).toBeDefined();
    const stats = await sim.control.stats();
    expect(stats.lostWrites).toBe(0);
    if (row.serialWrites) expect(stats.maxInFlight).toBe(1);
    else expect(stats.maxInFlight).toBeLessThanOrEqual(dictionary.connection.maxConcurrentRequests);
  });

  describe("faults", () => {
    const healthFault = (fault: Record<string, unknown>): Fault =>
      ({ ...fault, pathPrefix: row.healthPath }) as Fault;

    it.each([
      ["a 500", { kind: "status", status: 500, times: 1 }, "VNF_UPSTREAM"],
      ["a 502", { kind: "status", status: 502, times: 1 }, "VNF_UPSTREAM"],
      ["a garbage body", { kind: "garbage", times: 1 }, "VNF_UPSTREAM"],
      ["a timeout", { kind: "timeout", times: 1 }, "VNF_TIMEOUT"],
    ] as const)(
      "%s: a retryable code, returned at once for the controller to retry",
      async (_name, fault, code) => {
        expect(ERROR_CODE_TABLE[code].retryable).toBe(true);
        await sim.control.injectFault(healthFault(fault));
        const s = session({ limits: { requestTimeoutMs: 500 } });
        const error = await failure(s.health());
        expect(error.code).toBe(code);
        expect(error.retryable).toBe(true);
        expect(await requestsTo(row.healthPath)).toHaveLength(1);
        // The controller's next attempt succeeds.
        expect((await s.health()).version).toBe(row.expected.version);
      },
    );

    it("a connection reset once: re-sent within the call, to success", async () => {
      await sim.control.injectFault(healthFault({ kind: "reset", times: 1 }));
      const health = await session().health();
      expect(health.version).toBe(row.expected.version);
      const tries = await requestsTo(row.healthPath);
      expect(tries).toHaveLength(2);
      expect(tries[0]?.fault).toBe("reset");
    });

    it("connection resets that persist: VNF_UNREACHABLE after the transport attempts, within a few hundred ms", async () => {
      await sim.control.injectFault(healthFault({ kind: "reset" }));
      const started = Date.now();
      const error = await failure(session({ transportRetry: {} }).health());
      expect(error.code).toBe("VNF_UNREACHABLE");
      expect(error.retryable).toBe(true);
      expect(await requestsTo(row.healthPath)).toHaveLength(TRANSPORT_RETRY.attempts);
      console.log(
        `${row.vendor}: ${TRANSPORT_RETRY.attempts} attempts after resets took ${Date.now() - started} ms`,
      );
    });

    it.each([
      ["a 400", 400, "VNF_INVALID"],
      ["a 403", 403, "VNF_AUTH"],
      ["a 409", 409, "VNF_CONFLICT"],
    ] as const)("%s: mapped to a non-retryable code, sent once", async (_name, status, code) => {
      await sim.control.injectFault(healthFault({ kind: "status", status }));
      const error = await failure(session().health());
      expect(error.code).toBe(code);
      expect(error.retryable).toBe(false);
      // A 401/403 (or a status the dictionary names as "token expired") is replayed once, after a
      // renewal (a new login for sessions).
      const renews =
        status === 403 || (dictionary.auth.type === "session" && dictionary.auth.renewOn.includes(status));
      expect(await requestsTo(row.healthPath)).toHaveLength(renews ? 2 : 1);
    });

    it.each([1, 120])(
      "throttling with Retry-After %i s: the vendor's code and the delay, at once (the controller waits)",
      async (seconds) => {
        await sim.control.injectFault(healthFault({ kind: "rateLimit", retryAfterSeconds: seconds }));
        const error = await failure(session().health());
        expect(error.code).toBe(row.throttleCode);
        expect(error.retryAfterMs).toBe(seconds * 1000);
        expect(error.retryable).toBe(true);
        expect(await requestsTo(row.healthPath)).toHaveLength(1);
      },
    );

    it("auth expiry (one 401/403): renewed and replayed once for every auth type, not VNF_AUTH", async () => {
      // An appliance's own session can expire while static keys stay valid: one refusal is not a verdict
      // on the credentials. Sessions log in again; static credentials are simply sent again.
      const s = session();
      await s.health();
      const loginsBefore = (await sim.control.stats()).loginCount;
      const before = (await requestsTo(row.healthPath)).length;
      await sim.control.injectFault(healthFault({ kind: "authExpire", times: 1 }));
      const health = await s.health();
      expect(health.version).toBe(row.expected.version);
      expect((await requestsTo(row.healthPath)).length - before).toBe(2);
      if (row.auth === "session") expect((await sim.control.stats()).loginCount).toBe(loginsBefore + 1);
    });

    it("a refusal that persists after the renewal: VNF_AUTH after exactly one replay", async () => {
      await sim.control.injectFault(healthFault({ kind: "status", status: 401 }));
      const error = await failure(session().health());
      expect(error.code).toBe("VNF_AUTH");
      expect(error.retryable).toBe(false);
      expect(await requestsTo(row.healthPath)).toHaveLength(2);
    });

    it("wrong credentials: VNF_AUTH, not retried, and the secret is nowhere in the error", async () => {
      const secret = "WrongSecret-1234567890";
      const credentials = Object.fromEntries(Object.keys(sim.credentials).map((k) => [k, secret]));
      const error = await failure(session({ credentials }).health());
      expect(error.code).toBe("VNF_AUTH");
      expect(JSON.stringify(error.toJSON())).not.toContain(secret);
      expect(error.message).not.toContain(secret);
      const calls = await sim.control.requests();
      expect(calls.length).toBeLessThanOrEqual(2);
    });

    it("an appliance that is down: VNF_UNREACHABLE after the retries", async () => {
      await sim.control.down({ forMs: 60_000 });
      try {
        const error = await failure(session().health());
        expect(error.code).toBe("VNF_UNREACHABLE");
        expect(error.retryable).toBe(true);
      } finally {
        await sim.control.up();
      }
    });

    it("a create answered with an error is not re-sent by the session; the caller finds what landed by marker", async () => {
      // An earlier attempt landed on the appliance but its answer was lost (the simulator never
      // processes an aborted request, so the landed attempt is made by a first session).
      const first = await session().create("firewallRule", input(row.firewallRule.create, "retry/1"));
      await sim.control.clearRequests();
      await sim.control.injectFault({
        ...row.firewallRule.createPath,
        kind: "status",
        status: 502,
        times: 1,
      } as Fault);
      const error = await failure(
        session().create("firewallRule", input(row.firewallRule.create, "retry/1")),
      );
      expect(error.code).toBe("VNF_UPSTREAM");
      // What the rule controller does next (its intent says a create may have landed): look by marker.
      const found = await session().findByMarker("firewallRule", "retry/1");
      expect(found?.vendorRef).toBe(first.vendorRef);
      const view = await sim.control.objects("firewallRule");
      const carrying = view.candidate.filter((o) =>
        String(row.firewallRule.stored.description(o)).includes("[vnf:retry/1]"),
      );
      expect(carrying).toHaveLength(1);
      const { method, pathPrefix } = row.firewallRule.createPath;
      const creates = (await requestsTo(pathPrefix, method)).filter((r) => r.path === pathPrefix);
      expect(creates.map((r) => r.status)).toEqual([502]);
    });

    it("a create that failed cleanly is re-sent once and succeeds", async () => {
      await sim.control.injectFault({ ...row.firewallRule.createPath, kind: "reset", times: 1 } as Fault);
      const created = await session().create("firewallRule", input(row.firewallRule.create, "retry/2"));
      expect(created.adopted).toBe(false);
      const { method, pathPrefix } = row.firewallRule.createPath;
      const creates = (await requestsTo(pathPrefix, method)).filter((r) => r.path === pathPrefix);
      expect(creates.map((r) => r.outcome)).toEqual(["reset", "answered"]);
      expect(await stored(row.firewallRule.stored, created.vendorRef)).toBeDefined();
    });
  });

  it("logs every request at trace level without a credential or token in them", async () => {
    const lines: string[] = [];
    const logger = pino({ level: "trace" }, { write: (line: string) => void lines.push(line) });
    const s = session({ logger });
    await s.health();
    await sim.control.injectFault({ pathPrefix: row.healthPath, kind: "authExpire", times: 1 } as Fault);
    await s.health().catch(() => undefined);
    await s.create("firewallRule", input(row.firewallRule.create, "log/1"));
    const text = lines.join("\n");
    expect(lines.length).toBeGreaterThan(3);
    for (const secret of Object.values(sim.credentials)) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/Bearer (?!\*\*\*)/);
    expect(text).not.toMatch(/Basic (?!\*\*\*)/);
    expect(text).toContain(row.maskedAuth ?? '"Authorization":"***"');
  });

  describe("TLS", () => {
    it("refuses an appliance whose certificate is not trusted (VNF_AUTH, not retried)", async () => {
      const error = await failure(session({ tls: {} }).health());
      expect(error.code).toBe("VNF_AUTH");
      expect(error.message).toMatch(/certificate/);
      expect(await sim.control.requests()).toHaveLength(0);
    });

    it("connects without verification only when asked", async () => {
      const health = await session({ tls: { insecureSkipVerify: true } }).health();
      expect(health.version).toBe(row.expected.version);
    });

    it("verifies against an explicit server name", async () => {
      const health = await session({ tls: { caPem: sim.caPem, serverName: "localhost" } }).health();
      expect(health.serial).toBe(row.expected.serial);
    });
  });
});
