// Runs appliance simulators until Ctrl-C, for a human with curl or for the demo:
//   node test/simulators/cli.ts <vendor...> [--port N] [--host H] [--http] [--apply-delay MS]
//                               [--latency MS] [--credential key=value]... [--json]
// Several vendors share one CA. Prints each simulator's URL, the CA file and the credentials (a test
// double's throwaway credentials: printing them is the point), or one JSON line per simulator with --json.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createCertificateAuthority } from "../support/pki.ts";
import { isSimulatorVendor, type SimulatorHandle, simulatorVendors, startSimulator } from "./index.ts";

const usage = `usage: node test/simulators/cli.ts <${simulatorVendors.join("|")}>... [options]
  --port N               listen on port N (one vendor only; default: a free port)
  --host H               listen address (default 127.0.0.1)
  --http                 plain HTTP instead of HTTPS
  --apply-delay MS       activation time (pfSense apply)
  --latency MS           added before every vendor answer
  --credential key=value fixed credential (repeatable), e.g. --credential password=pfsense
  --json                 one JSON line per simulator: {vendor,url,caPath,credentials,control}`;

function fail(message: string): never {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}

function integer(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) fail(`--${name} needs a non-negative integer, got ${raw}`);
  return Number(raw);
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      http: { type: "boolean", default: false },
      "apply-delay": { type: "string" },
      latency: { type: "string" },
      credential: { type: "string", multiple: true },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  if (positionals.length === 0) fail("name at least one vendor");
  const vendors = positionals.map((name) =>
    isSimulatorVendor(name) ? name : fail(`unknown vendor ${name}`),
  );
  const port = integer("port", values.port);
  if (port !== undefined && vendors.length > 1) fail("--port works with one vendor only");
  const credentials: Record<string, string> = {};
  for (const pair of values.credential ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) fail(`--credential needs key=value, got ${pair}`);
    credentials[pair.slice(0, eq)] = pair.slice(eq + 1);
  }

  const tls = !values.http;
  const dir = await mkdtemp(join(tmpdir(), "vnf-simulators-"));
  const ca = tls ? await createCertificateAuthority("vnf-operator simulators CA") : undefined;
  const caPath = ca ? join(dir, "ca.pem") : "";
  if (ca) await writeFile(caPath, ca.certPem);

  const handles: SimulatorHandle[] = [];
  const applyDelayMs = integer("apply-delay", values["apply-delay"]);
  const latencyMs = integer("latency", values.latency);
  for (const vendor of vendors) {
    handles.push(
      await startSimulator(vendor, {
        tls,
        ...(ca ? { ca } : {}),
        ...(port !== undefined ? { port } : {}),
        ...(values.host !== undefined ? { host: values.host } : {}),
        ...(applyDelayMs !== undefined ? { applyDelayMs } : {}),
        ...(latencyMs !== undefined ? { latencyMs } : {}),
        ...(Object.keys(credentials).length > 0 ? { credentials } : {}),
      }),
    );
  }

  for (const handle of handles) {
    const control = `${handle.url}/__sim/`;
    if (values.json) {
      console.log(
        JSON.stringify({
          vendor: handle.vendor,
          url: handle.url,
          caPath,
          credentials: handle.credentials,
          control,
        }),
      );
    } else {
      const curl = tls ? `curl --cacert ${caPath}` : "curl";
      console.log(`${handle.vendor} simulator
  url:          ${handle.url}
  CA:           ${caPath || "(plain HTTP)"}
  credentials:  ${JSON.stringify(handle.credentials)}
  control API:  ${curl} ${control}`);
    }
  }
  if (!values.json) console.log("Ctrl-C to stop.");

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await Promise.all(handles.map((handle) => handle.stop()));
    await rm(dir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}

await main();
