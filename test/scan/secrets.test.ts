// The permanent secrets scan: it runs after the whole integration suite (vitest project "scan",
// groupOrder after "integration", same control plane) and looks for every credential value of every
// Secret the run ever held (recorded by global-setup.ts, rotated and deleted ones included) in:
// - every log line, at every level down to trace, of every operator the suite started (in-process
//   operators, child processes, the chart-configured `vnf-operator run`, the image's pods);
// - every Event on the API server;
// - the status of every VnfDevice, VnfFirewallRule and VnfNatRule;
// - what /metrics served when each operator stopped.
// The scanner itself is proven able to fail in test/unit/support/secret-scan.test.ts.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { CoreV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import { expect, inject, it } from "vitest";
import { GROUP, RESOURCES, VERSION } from "../../src/api/group.ts";
import { testKubeConfig } from "../support/kube.ts";
import { RECORD_FILE } from "../support/secret-recorder.ts";
import { decodeSecret, findLeaks, type Haystack, type Needle, needlesOf } from "../support/secret-scan.ts";

const RUN_AFTER_INTEGRATION =
  "the scan reads what the integration project left behind: run it with that project " +
  "(hack/test, or hack/test test/integration test/scan)";

it("no credential value of any Secret appears in logs, Events, status or /metrics", async () => {
  const scanDir = inject("scanDir");
  const kc = testKubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);

  // Every Secret value seen during the run: the recorder's log plus what the API server holds now.
  const files = readdirSync(scanDir);
  const recorded = files.includes(RECORD_FILE)
    ? readFileSync(path.join(scanDir, RECORD_FILE), "utf8")
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => JSON.parse(line) as Parameters<typeof decodeSecret>[0])
    : [];
  const live = (await core.listSecretForAllNamespaces()).items;
  const needles = new Map<string, Needle>();
  for (const secret of [...recorded, ...live].map(decodeSecret))
    for (const needle of needlesOf(secret)) needles.set(needle.value, needle);

  const haystacks: Haystack[] = [];
  const logs = files.filter((f) => f.endsWith(".log"));
  let debugLines = 0;
  for (const file of logs) {
    const text = readFileSync(path.join(scanDir, file), "utf8");
    debugLines += (text.match(/"level":("trace"|"debug"|10|20),/g) ?? []).length;
    haystacks.push({ source: `log ${file}`, text });
  }
  const metrics = files.filter((f) => f.endsWith(".prom"));
  for (const file of metrics)
    haystacks.push({ source: `/metrics ${file}`, text: readFileSync(path.join(scanDir, file), "utf8") });

  const events = (await core.listEventForAllNamespaces()).items;
  for (const event of events)
    haystacks.push({
      source: `Event ${event.metadata?.namespace}/${event.metadata?.name} (${event.reason})`,
      text: JSON.stringify(event),
    });

  let statuses = 0;
  for (const resource of RESOURCES) {
    const list = (await custom
      .listClusterCustomObject({ group: GROUP, version: VERSION, plural: resource.plural })
      .catch(() => ({ items: [] }))) as {
      items: { metadata?: { namespace?: string; name?: string }; status?: unknown }[];
    };
    for (const item of list.items) {
      if (item.status === undefined) continue;
      statuses++;
      haystacks.push({
        source: `${resource.kind} ${item.metadata?.namespace}/${item.metadata?.name} status`,
        text: JSON.stringify(item.status),
      });
    }
  }

  const seen =
    `${needles.size} credential strings, ${logs.length} logs (${debugLines} debug/trace lines), ` +
    `${events.length} Events, ${statuses} statuses, ${metrics.length} /metrics pages`;
  process.stdout.write(`[secrets scan] ${seen}\n`);
  // Not vacuous: the suite used credentials, logged below info, recorded Events, statuses and metrics.
  expect(needles.size, `${seen}; ${RUN_AFTER_INTEGRATION}`).toBeGreaterThan(0);
  expect(logs.length, RUN_AFTER_INTEGRATION).toBeGreaterThan(0);
  expect(
    debugLines,
    "the operators' logs hold no debug/trace line: the scan would miss those levels",
  ).toBeGreaterThan(0);
  expect(events.length, RUN_AFTER_INTEGRATION).toBeGreaterThan(0);
  expect(statuses, RUN_AFTER_INTEGRATION).toBeGreaterThan(0);
  expect(metrics.length, RUN_AFTER_INTEGRATION).toBeGreaterThan(0);

  const leaks = findLeaks([...needles.values()], haystacks);
  expect(leaks.map((l) => `${l.source}: ${l.secret} ${l.key} (${l.form}): …${l.context}…`)).toEqual([]);
}, 120_000);
