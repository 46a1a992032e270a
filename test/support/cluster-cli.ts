// hack/cluster: a long-lived local control plane for humans and scripts.
//   up      start it (or reuse a healthy one); the kubeconfig path is the last stdout line
//   down    stop it and remove its files
//   status  print where it is, exit 1 when it is not running
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ControlPlane } from "./controlplane.ts";

const workDir = process.env.VNF_CLUSTER_DIR ?? path.join(os.tmpdir(), "vnf-operator-cluster");
const say = (message: string) => process.stderr.write(`==> ${message}\n`);

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function main(command: string | undefined): Promise<number> {
  const state = await ControlPlane.readState(workDir);
  const running = state !== undefined && Object.values(state.pids).every(alive);
  switch (command) {
    case "up": {
      if (state && running) {
        say(`control plane already running at ${state.apiServerUrl}`);
        console.log(state.kubeconfigPath);
        return 0;
      }
      if (state) await ControlPlane.stopFromState(state); // half-dead leftovers
      const plane = await ControlPlane.start({ workDir, detached: true, progress: say });
      say(`try: KUBECONFIG=${plane.kubeconfigPath} kubectl get ns`);
      say("stop it with: hack/cluster down");
      console.log(plane.kubeconfigPath);
      return 0;
    }
    case "down": {
      if (!state) {
        if (existsSync(workDir))
          await import("node:fs/promises").then((fs) => fs.rm(workDir, { recursive: true }));
        say("no control plane running");
        return 0;
      }
      await ControlPlane.stopFromState(state);
      say(`stopped control plane (pids ${Object.values(state.pids).join(", ")}) and removed ${workDir}`);
      return 0;
    }
    case "status": {
      if (!state || !running) {
        say("no control plane running");
        return 1;
      }
      say(`running at ${state.apiServerUrl} since ${state.startedAt}`);
      console.log(state.kubeconfigPath);
      return 0;
    }
    default:
      process.stderr.write("usage: hack/cluster up|down|status\n");
      return 2;
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
